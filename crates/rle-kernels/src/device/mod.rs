//! Device-only code (nvptx64): thread-index and barrier wrappers, static shared
//! memory, warp/block scans, and the kernel entry points.
//!
//! Shared memory: rustc's NVPTX backend has no way to place a Rust static in
//! the `.shared` state space, so each kernel declares its one shared array with
//! inline PTX at function scope ([`shared_bytes!`]) and gets a generic pointer
//! to it. The macro must run exactly once per kernel (a second expansion in the
//! same kernel would declare the symbol twice and ptxas would reject the PTX).

use core::arch::asm;
use core::arch::nvptx;

mod convert;
mod copy_out;
mod masks;
mod select;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: `trap` aborts the kernel; the host sees a launch error.
    unsafe { nvptx::trap() }
}

/// Declares a `.shared` byte array of `$bytes` bytes named `$name` in the
/// calling kernel and evaluates to a generic `*mut u8` pointing at it.
macro_rules! shared_bytes {
    ($name:literal, $bytes:literal) => {{
        let p: u64;
        // SAFETY: declares per-block shared storage and converts its address
        // to a generic pointer; no memory is touched.
        unsafe {
            core::arch::asm!(
                concat!(".shared .align 16 .b8 ", $name, "[", $bytes, "];"),
                concat!("cvta.shared.u64 {p}, ", $name, ";"),
                p = out(reg64) p,
            );
        }
        p as *mut u8
    }};
}
pub(crate) use shared_bytes;

#[inline(always)]
pub(crate) fn tid() -> u32 {
    // SAFETY: reads a special register.
    unsafe { nvptx::_thread_idx_x() as u32 }
}

#[inline(always)]
pub(crate) fn ntid() -> u32 {
    // SAFETY: reads a special register.
    unsafe { nvptx::_block_dim_x() as u32 }
}

#[inline(always)]
pub(crate) fn bid_x() -> u32 {
    // SAFETY: reads a special register.
    unsafe { nvptx::_block_idx_x() as u32 }
}

#[inline(always)]
pub(crate) fn bid_y() -> u32 {
    // SAFETY: reads a special register.
    unsafe { nvptx::_block_idx_y() as u32 }
}

#[inline(always)]
pub(crate) fn nbid_x() -> u32 {
    // SAFETY: reads a special register.
    unsafe { nvptx::_grid_dim_x() as u32 }
}

/// `__syncthreads()`: every thread of the block must reach it.
#[inline(always)]
pub(crate) fn sync() {
    // SAFETY: a block-wide barrier; callers keep it out of divergent code.
    unsafe { nvptx::_syncthreads() }
}

/// `__threadfence()`: orders this thread's global writes before its later
/// ones as seen by every thread of the GPU (the "last block out" patterns
/// publish data, fence, then count on an atomic).
#[inline(always)]
pub(crate) fn fence_gpu() {
    // SAFETY: a memory barrier; no operands.
    unsafe { asm!("membar.gl;") }
}

#[inline(always)]
fn shfl_up(v: u32, delta: u32) -> u32 {
    let r: u32;
    // SAFETY: full-warp shuffle; every caller runs it with all 32 lanes active.
    unsafe {
        asm!("shfl.sync.up.b32 {r}, {v}, {d}, 0, -1;", r = out(reg32) r, v = in(reg32) v, d = in(reg32) delta);
    }
    r
}

/// Lane `lane ^ mask`'s `v` (all 32 lanes must take part).
#[inline(always)]
pub(crate) fn shfl_xor(v: u32, mask: u32) -> u32 {
    let r: u32;
    // SAFETY: full-warp shuffle; every caller runs it with all 32 lanes active.
    unsafe {
        asm!("shfl.sync.bfly.b32 {r}, {v}, {m}, 31, -1;", r = out(reg32) r, v = in(reg32) v, m = in(reg32) mask);
    }
    r
}

/// Lane `src`'s `v` (all 32 lanes must take part).
#[inline(always)]
pub(crate) fn shfl_idx(v: u32, src: u32) -> u32 {
    let r: u32;
    // SAFETY: full-warp shuffle; every caller runs it with all 32 lanes active.
    unsafe {
        asm!("shfl.sync.idx.b32 {r}, {v}, {s}, 31, -1;", r = out(reg32) r, v = in(reg32) v, s = in(reg32) src);
    }
    r
}

/// Minimum over the 32 lanes of a warp (every lane gets it).
#[inline(always)]
pub(crate) fn warp_min(mut v: u32) -> u32 {
    let mut m = 16;
    while m > 0 {
        v = v.min(shfl_xor(v, m));
        m >>= 1;
    }
    v
}

/// Maximum over the 32 lanes of a warp (every lane gets it).
#[inline(always)]
pub(crate) fn warp_max(mut v: u32) -> u32 {
    let mut m = 16;
    while m > 0 {
        v = v.max(shfl_xor(v, m));
        m >>= 1;
    }
    v
}

/// Inclusive prefix sum over the 32 lanes of a warp.
#[inline(always)]
pub(crate) fn warp_inclusive_scan(mut v: u32) -> u32 {
    let lane = tid() & 31;
    let mut d = 1;
    while d < 32 {
        let t = shfl_up(v, d);
        if lane >= d {
            v = v.wrapping_add(t);
        }
        d <<= 1;
    }
    v
}

/// Block-wide exclusive prefix sum of `v`; returns `(prefix, total)`.
/// `scratch` points at 32 shared u32s. Every thread must call it (it contains
/// barriers); the block size must be a multiple of 32.
#[inline(always)]
pub(crate) fn block_exclusive_scan(v: u32, scratch: *mut u32) -> (u32, u32) {
    let t = tid();
    let lane = t & 31;
    let warp = t >> 5;
    let nwarps = ntid() >> 5;
    let incl = warp_inclusive_scan(v);
    // SAFETY: `scratch` has 32 slots and warp < 32; the barriers order the
    // writes before the reads and the reads before the next call's writes.
    unsafe {
        if lane == 31 {
            *scratch.add(warp as usize) = incl;
        }
        sync();
        if warp == 0 {
            let w = if lane < nwarps {
                *scratch.add(lane as usize)
            } else {
                0
            };
            let wi = warp_inclusive_scan(w);
            *scratch.add(lane as usize) = wi;
        }
        sync();
        let before = if warp > 0 {
            *scratch.add(warp as usize - 1)
        } else {
            0
        };
        let total = *scratch.add(nwarps as usize - 1);
        sync();
        (before.wrapping_add(incl).wrapping_sub(v), total)
    }
}

/// Relaxed atomic add on a u32 in shared or global memory (generic address).
#[inline(always)]
pub(crate) fn atomic_add(p: *mut u32, v: u32) -> u32 {
    // SAFETY: callers pass a valid, aligned pointer into shared or global memory.
    unsafe {
        core::sync::atomic::AtomicU32::from_ptr(p)
            .fetch_add(v, core::sync::atomic::Ordering::Relaxed)
    }
}

/// Adds 1 to `hist[bin]` for every calling lane, with one shared atomic per
/// distinct bin of the warp (`match.any.sync`, sm_70+) instead of one per
/// lane: histograms of sigmoid keys are dominated by a few bins, and
/// same-address atomics serialize.
#[inline(always)]
pub(crate) fn warp_aggregated_increment(hist: *mut u32, bin: u32) {
    let active: u32;
    let peers: u32;
    // SAFETY: `activemask` and `match.any.sync` over exactly the active lanes.
    unsafe {
        asm!("activemask.b32 {a};", a = out(reg32) active);
        asm!("match.any.sync.b32 {p}, {b}, {a};", p = out(reg32) peers, b = in(reg32) bin, a = in(reg32) active);
    }
    if tid() & 31 == peers.trailing_zeros() {
        atomic_add(hist.wrapping_add(bin as usize), peers.count_ones());
    }
}

/// Appends the calling lanes with `pred` to a shared list: one atomic per
/// warp on `counter`, each such lane gets its index (lanes in ascending
/// order); `None` for the others. Lanes may be diverged (`activemask`).
#[inline(always)]
pub(crate) fn warp_append(counter: *mut u32, pred: bool) -> Option<u32> {
    let active: u32;
    let ballot: u32;
    // SAFETY: `activemask` and a ballot over exactly the active lanes.
    unsafe {
        asm!("activemask.b32 {a};", a = out(reg32) active);
        asm!(
            "{{ .reg .pred p; setp.ne.u32 p, {x}, 0; vote.sync.ballot.b32 {b}, p, {a}; }}",
            b = out(reg32) ballot, x = in(reg32) u32::from(pred), a = in(reg32) active,
        );
    }
    if ballot == 0 {
        return None;
    }
    let lane = tid() & 31;
    let leader = ballot.trailing_zeros();
    let mut base = 0u32;
    if lane == leader {
        base = atomic_add(counter, ballot.count_ones());
    }
    let b: u32;
    // SAFETY: every active lane takes part; the leader is one of them.
    unsafe {
        asm!("shfl.sync.idx.b32 {r}, {v}, {l}, 31, {a};", r = out(reg32) b, v = in(reg32) base, l = in(reg32) leader, a = in(reg32) active);
    }
    pred.then(|| b + (ballot & ((1u32 << lane) - 1)).count_ones())
}

/// Relaxed atomic add on a u64.
#[inline(always)]
pub(crate) fn atomic_add_u64(p: *mut u64, v: u64) -> u64 {
    // SAFETY: callers pass a valid, 8-aligned pointer into global memory.
    unsafe {
        core::sync::atomic::AtomicU64::from_ptr(p)
            .fetch_add(v, core::sync::atomic::Ordering::Relaxed)
    }
}

/// Relaxed atomic min on a u32.
#[inline(always)]
pub(crate) fn atomic_min(p: *mut u32, v: u32) {
    // SAFETY: callers pass a valid, aligned pointer into shared memory.
    unsafe {
        core::sync::atomic::AtomicU32::from_ptr(p)
            .fetch_min(v, core::sync::atomic::Ordering::Relaxed);
    }
}

/// Relaxed atomic max on a u32.
#[inline(always)]
pub(crate) fn atomic_max(p: *mut u32, v: u32) {
    // SAFETY: callers pass a valid, aligned pointer into shared memory.
    unsafe {
        core::sync::atomic::AtomicU32::from_ptr(p)
            .fetch_max(v, core::sync::atomic::Ordering::Relaxed);
    }
}
