//! Thread indices, the block barrier, warp shuffles and the block-wide scan
//! and reductions the mask kernels are built from.
//!
//! Every function with a barrier or a full-warp shuffle must be reached by
//! every thread of the block (the kernels call them outside divergent code);
//! block sizes are multiples of 32 (asserted in `abi`).

use core::arch::asm;
use core::arch::nvptx;

/// Declares a `.shared` byte array of `$bytes` bytes named `$name` in the
/// calling kernel and evaluates to a generic `*mut u8` pointing at it. One
/// expansion per kernel: a second would declare the symbol twice.
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

/// `__syncthreads()`.
#[inline(always)]
pub(crate) fn sync() {
    // SAFETY: a block-wide barrier; callers keep it out of divergent code.
    unsafe { nvptx::_syncthreads() }
}

#[inline(always)]
fn shfl_up(v: u32, delta: u32) -> u32 {
    let r: u32;
    // SAFETY: full-warp shuffle; all 32 lanes take part (see the header).
    unsafe {
        asm!("shfl.sync.up.b32 {r}, {v}, {d}, 0, -1;", r = out(reg32) r, v = in(reg32) v, d = in(reg32) delta);
    }
    r
}

#[inline(always)]
fn shfl_xor(v: u32, mask: u32) -> u32 {
    let r: u32;
    // SAFETY: full-warp shuffle; all 32 lanes take part (see the header).
    unsafe {
        asm!("shfl.sync.bfly.b32 {r}, {v}, {m}, 31, -1;", r = out(reg32) r, v = in(reg32) v, m = in(reg32) mask);
    }
    r
}

#[inline(always)]
fn shfl_up_u64(v: u64, delta: u32) -> u64 {
    let lo = shfl_up(v as u32, delta);
    let hi = shfl_up((v >> 32) as u32, delta);
    (u64::from(hi) << 32) | u64::from(lo)
}

#[inline(always)]
fn shfl_xor_u64(v: u64, mask: u32) -> u64 {
    let lo = shfl_xor(v as u32, mask);
    let hi = shfl_xor((v >> 32) as u32, mask);
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Inclusive prefix sum over the warp (64-bit: sums of counts may exceed
/// `u32` on malformed input, and must be reported, not wrapped).
#[inline(always)]
fn warp_inclusive_scan_u64(mut v: u64) -> u64 {
    let lane = tid() & 31;
    let mut d = 1;
    while d < 32 {
        let t = shfl_up_u64(v, d);
        if lane >= d {
            v = v.wrapping_add(t);
        }
        d <<= 1;
    }
    v
}

/// Block-wide exclusive prefix sum; returns `(prefix, block total)`.
/// `scratch` points at 32 shared `u64`s.
#[inline(always)]
pub(crate) fn block_exclusive_scan_u64(v: u64, scratch: *mut u64) -> (u64, u64) {
    let t = tid();
    let (lane, warp, nwarps) = (t & 31, t >> 5, ntid() >> 5);
    let incl = warp_inclusive_scan_u64(v);
    // SAFETY: `scratch` has 32 slots and warp < 32; the barriers order the
    // writes before the reads and the reads before a later call's writes.
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
            *scratch.add(lane as usize) = warp_inclusive_scan_u64(w);
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

/// Block-wide sum (every thread gets it). `scratch`: 32 shared `u64`s.
#[inline(always)]
pub(crate) fn block_sum_u64(mut v: u64, scratch: *mut u64) -> u64 {
    let mut m = 16;
    while m > 0 {
        v = v.wrapping_add(shfl_xor_u64(v, m));
        m >>= 1;
    }
    let t = tid();
    let (lane, warp, nwarps) = (t & 31, t >> 5, ntid() >> 5);
    // SAFETY: as in `block_exclusive_scan_u64`.
    unsafe {
        if lane == 0 {
            *scratch.add(warp as usize) = v;
        }
        sync();
        let mut total = 0u64;
        for w in 0..nwarps {
            total = total.wrapping_add(*scratch.add(w as usize));
        }
        sync();
        total
    }
}

/// Minimum and maximum over the warp of `(min, max)` pairs.
#[inline(always)]
pub(crate) fn warp_min_max(mut lo: u32, mut hi: u32) -> (u32, u32) {
    let mut m = 16;
    while m > 0 {
        lo = lo.min(shfl_xor(lo, m));
        hi = hi.max(shfl_xor(hi, m));
        m >>= 1;
    }
    (lo, hi)
}

/// Relaxed atomic min on a shared or global `u32`.
#[inline(always)]
pub(crate) fn atomic_min(p: *mut u32, v: u32) {
    // SAFETY: callers pass a valid, aligned pointer into shared memory.
    unsafe {
        core::sync::atomic::AtomicU32::from_ptr(p)
            .fetch_min(v, core::sync::atomic::Ordering::Relaxed);
    }
}

/// Relaxed atomic max on a shared or global `u32`.
#[inline(always)]
pub(crate) fn atomic_max(p: *mut u32, v: u32) {
    // SAFETY: callers pass a valid, aligned pointer into shared memory.
    unsafe {
        core::sync::atomic::AtomicU32::from_ptr(p)
            .fetch_max(v, core::sync::atomic::Ordering::Relaxed);
    }
}
