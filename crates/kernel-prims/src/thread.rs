//! Thread and block indices, the block barrier and the GPU-wide fence.

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
