//! Block-wide scans and sums over 32 shared scratch slots (barriers inside:
//! every thread of the block calls them).

use crate::thread::{ntid, sync, tid};
use crate::warp::{shfl_xor_u64, warp_inclusive_scan_of, ScanWord};

/// Block-wide exclusive prefix sum of `v`; returns `(prefix, total)`
/// (`u32` or `u64`, wrapping).
///
/// # Safety
/// `scratch` points at 32 words of shared memory no other code touches
/// during the call; every thread of the block calls it (barriers), with a
/// block size that is a multiple of 32.
#[inline(always)]
pub unsafe fn block_exclusive_scan_of<T: ScanWord>(v: T, scratch: *mut T) -> (T, T) {
    let t = tid();
    let (lane, warp, nwarps) = (t & 31, t >> 5, ntid() >> 5);
    let incl = warp_inclusive_scan_of(v);
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
                T::ZERO
            };
            *scratch.add(lane as usize) = warp_inclusive_scan_of(w);
        }
        sync();
        let before = if warp > 0 {
            *scratch.add(warp as usize - 1)
        } else {
            T::ZERO
        };
        let total = *scratch.add(nwarps as usize - 1);
        sync();
        (before.wrapping_add(incl).wrapping_sub(v), total)
    }
}

/// [`block_exclusive_scan_of`] on `u32`s.
///
/// # Safety
/// As for [`block_exclusive_scan_of`] (32 shared `u32`s).
#[inline(always)]
pub unsafe fn block_exclusive_scan(v: u32, scratch: *mut u32) -> (u32, u32) {
    // SAFETY: the caller's contract.
    unsafe { block_exclusive_scan_of(v, scratch) }
}

/// [`block_exclusive_scan_of`] on `u64`s (sums of counts may exceed `u32`
/// on malformed input, and must be reported, not wrapped).
///
/// # Safety
/// As for [`block_exclusive_scan_of`] (32 shared `u64`s).
#[inline(always)]
pub unsafe fn block_exclusive_scan_u64(v: u64, scratch: *mut u64) -> (u64, u64) {
    // SAFETY: the caller's contract.
    unsafe { block_exclusive_scan_of(v, scratch) }
}

/// Block-wide sum (every thread gets it). `scratch`: 32 shared `u64`s.
///
/// # Safety
/// `scratch` points at 32 `u64`s of shared memory no other code touches during the call; every thread of the block calls it (barriers), with a block size that is a multiple of 32.
#[inline(always)]
pub unsafe fn block_sum_u64(mut v: u64, scratch: *mut u64) -> u64 {
    let mut m = 16;
    while m > 0 {
        v = v.wrapping_add(shfl_xor_u64(v, m));
        m >>= 1;
    }
    let t = tid();
    let (lane, warp, nwarps) = (t & 31, t >> 5, ntid() >> 5);
    // SAFETY: as in `block_exclusive_scan_of`.
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
