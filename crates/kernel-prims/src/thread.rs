//! Thread and block indices, the block barrier, the GPU-wide fence and
//! programmatic dependent launch (sm_90).

use core::arch::asm;
use core::arch::nvptx;

/// `threadIdx.x`.
#[inline(always)]
pub fn tid() -> u32 {
    // SAFETY: reads a special register.
    unsafe { nvptx::_thread_idx_x() as u32 }
}

/// `blockDim.x`.
#[inline(always)]
pub fn ntid() -> u32 {
    // SAFETY: reads a special register.
    unsafe { nvptx::_block_dim_x() as u32 }
}

/// `blockIdx.x`.
#[inline(always)]
pub fn bid_x() -> u32 {
    // SAFETY: reads a special register.
    unsafe { nvptx::_block_idx_x() as u32 }
}

/// `blockIdx.y`.
#[inline(always)]
pub fn bid_y() -> u32 {
    // SAFETY: reads a special register.
    unsafe { nvptx::_block_idx_y() as u32 }
}

/// `gridDim.x`.
#[inline(always)]
pub fn nbid_x() -> u32 {
    // SAFETY: reads a special register.
    unsafe { nvptx::_grid_dim_x() as u32 }
}

/// `__syncthreads()`: every thread of the block must reach it.
#[inline(always)]
pub fn sync() {
    // SAFETY: a block-wide barrier; callers keep it out of divergent code.
    unsafe { nvptx::_syncthreads() }
}

/// `__threadfence()`: orders this thread's global writes before its later
/// ones as seen by every thread of the GPU (the "last block out" patterns
/// publish data, fence, then count on an atomic).
#[inline(always)]
pub fn fence_gpu() {
    // SAFETY: a memory barrier; no operands.
    unsafe { asm!("membar.gl;") }
}

/// Asks for the 128-byte line holding `p` in this SM's L1 cache
/// (`prefetch.global.L1`), without waiting: a hint that a later load will
/// want it. Changes no value.
///
/// # Safety
/// `p` points into global memory (a prefetch of an invalid address is
/// ignored by the hardware, but the pointer must still be a global one).
#[inline(always)]
pub unsafe fn prefetch_l1(p: *const u8) {
    // SAFETY: a cache hint; the caller's contract.
    unsafe { asm!("prefetch.global.L1 [{p}];", p = in(reg64) p) }
}

/// Programmatic dependent launch (sm_90, `griddepcontrol.wait`): waits until
/// the grid launched before this one on the stream has completed and its
/// memory is visible. Needed first thing in a kernel the host launches with
/// `CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION` (its blocks may
/// start while that grid still runs); returns at once after an ordinary
/// launch. In the baseline PTX it is a comment line
/// ([`SM90_LINE_PREFIX`](crate::SM90_LINE_PREFIX)), which the host turns into
/// the instruction on sm_90 only; the asm statement is a compiler barrier for
/// memory either way, so no load moves above it.
#[inline(always)]
pub fn grid_dependency_wait() {
    // SAFETY: a comment, or on sm_90 a wait; no operands.
    unsafe { asm!("// sm_90: griddepcontrol.wait;") }
}

/// Programmatic dependent launch (sm_90, `griddepcontrol.launch_dependents`):
/// this block no longer holds back the launch of the grid queued after this
/// one with the programmatic attribute; once every block has said so (or
/// exited), that grid's blocks may start and wait in
/// [`grid_dependency_wait`] on SMs this grid leaves free. Changes no memory
/// ordering: the dependent grid's wait still waits for this whole grid. A
/// comment in the baseline PTX, as [`grid_dependency_wait`].
#[inline(always)]
pub fn launch_dependents() {
    // SAFETY: a comment, or on sm_90 a scheduling hint; no operands.
    unsafe { asm!("// sm_90: griddepcontrol.launch_dependents;") }
}
