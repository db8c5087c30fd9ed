//! Warp shuffles, reductions and scans, and warp-aggregated atomics (all 32
//! lanes take part in a full-warp shuffle; the aggregated ones work on the
//! active lanes).

use core::arch::asm;

use crate::atomics::atomic_add;
use crate::thread::tid;

/// Lane `lane - delta`'s `v` (lanes below `delta` keep their own; all 32
/// lanes must take part).
#[inline(always)]
pub fn shfl_up(v: u32, delta: u32) -> u32 {
    let r: u32;
    // SAFETY: full-warp shuffle; every caller runs it with all 32 lanes active.
    unsafe {
        asm!("shfl.sync.up.b32 {r}, {v}, {d}, 0, -1;", r = out(reg32) r, v = in(reg32) v, d = in(reg32) delta);
    }
    r
}

/// Lane `lane ^ mask`'s `v` (all 32 lanes must take part).
#[inline(always)]
pub fn shfl_xor(v: u32, mask: u32) -> u32 {
    let r: u32;
    // SAFETY: full-warp shuffle; every caller runs it with all 32 lanes active.
    unsafe {
        asm!("shfl.sync.bfly.b32 {r}, {v}, {m}, 31, -1;", r = out(reg32) r, v = in(reg32) v, m = in(reg32) mask);
    }
    r
}

/// Lane `src`'s `v` (all 32 lanes must take part).
#[inline(always)]
pub fn shfl_idx(v: u32, src: u32) -> u32 {
    let r: u32;
    // SAFETY: full-warp shuffle; every caller runs it with all 32 lanes active.
    unsafe {
        asm!("shfl.sync.idx.b32 {r}, {v}, {s}, 31, -1;", r = out(reg32) r, v = in(reg32) v, s = in(reg32) src);
    }
    r
}

/// Minimum over the 32 lanes of a warp (every lane gets it).
#[inline(always)]
pub fn warp_min(mut v: u32) -> u32 {
    let mut m = 16;
    while m > 0 {
        v = v.min(shfl_xor(v, m));
        m >>= 1;
    }
    v
}

/// Maximum over the 32 lanes of a warp (every lane gets it).
#[inline(always)]
pub fn warp_max(mut v: u32) -> u32 {
    let mut m = 16;
    while m > 0 {
        v = v.max(shfl_xor(v, m));
        m >>= 1;
    }
    v
}

/// [`shfl_up`] of a `u64`, as two halves.
#[inline(always)]
pub fn shfl_up_u64(v: u64, delta: u32) -> u64 {
    let lo = shfl_up(v as u32, delta);
    let hi = shfl_up((v >> 32) as u32, delta);
    (u64::from(hi) << 32) | u64::from(lo)
}

/// [`shfl_xor`] of a `u64`, as two halves.
#[inline(always)]
pub fn shfl_xor_u64(v: u64, mask: u32) -> u64 {
    let lo = shfl_xor(v as u32, mask);
    let hi = shfl_xor((v >> 32) as u32, mask);
    (u64::from(hi) << 32) | u64::from(lo)
}

/// A word the warp and block scans add up (wrapping): `u32` or `u64`.
pub trait ScanWord: Copy {
    /// Zero.
    const ZERO: Self;
    /// `self + other`, wrapping.
    fn wrapping_add(self, other: Self) -> Self;
    /// `self - other`, wrapping.
    fn wrapping_sub(self, other: Self) -> Self;
    /// Lane `lane - delta`'s value (all 32 lanes must take part).
    fn shfl_up(self, delta: u32) -> Self;
}

impl ScanWord for u32 {
    const ZERO: Self = 0;
    #[inline(always)]
    fn wrapping_add(self, other: Self) -> Self {
        u32::wrapping_add(self, other)
    }
    #[inline(always)]
    fn wrapping_sub(self, other: Self) -> Self {
        u32::wrapping_sub(self, other)
    }
    #[inline(always)]
    fn shfl_up(self, delta: u32) -> Self {
        shfl_up(self, delta)
    }
}

impl ScanWord for u64 {
    const ZERO: Self = 0;
    #[inline(always)]
    fn wrapping_add(self, other: Self) -> Self {
        u64::wrapping_add(self, other)
    }
    #[inline(always)]
    fn wrapping_sub(self, other: Self) -> Self {
        u64::wrapping_sub(self, other)
    }
    #[inline(always)]
    fn shfl_up(self, delta: u32) -> Self {
        shfl_up_u64(self, delta)
    }
}

/// Inclusive prefix sum over the 32 lanes of a warp (wrapping).
#[inline(always)]
pub fn warp_inclusive_scan_of<T: ScanWord>(mut v: T) -> T {
    let lane = tid() & 31;
    let mut d = 1;
    while d < 32 {
        let t = v.shfl_up(d);
        if lane >= d {
            v = v.wrapping_add(t);
        }
        d <<= 1;
    }
    v
}

/// [`warp_inclusive_scan_of`] on `u32`s.
#[inline(always)]
pub fn warp_inclusive_scan(v: u32) -> u32 {
    warp_inclusive_scan_of(v)
}

/// [`warp_inclusive_scan_of`] on `u64`s.
#[inline(always)]
pub fn warp_inclusive_scan_u64(v: u64) -> u64 {
    warp_inclusive_scan_of(v)
}

/// Minimum and maximum over the warp of `(min, max)` pairs.
#[inline(always)]
pub fn warp_min_max(mut lo: u32, mut hi: u32) -> (u32, u32) {
    let mut m = 16;
    while m > 0 {
        lo = lo.min(shfl_xor(lo, m));
        hi = hi.max(shfl_xor(hi, m));
        m >>= 1;
    }
    (lo, hi)
}

/// Adds 1 to `hist[bin]` for every calling lane, with one shared atomic per
/// distinct bin of the warp (`match.any.sync`, sm_70+) instead of one per
/// lane: histograms of sigmoid keys are dominated by a few bins, and
/// same-address atomics serialize.
///
/// # Safety
/// `hist.add(bin)` is valid and 4-aligned, in shared or global memory.
#[inline(always)]
pub unsafe fn warp_aggregated_increment(hist: *mut u32, bin: u32) {
    let active: u32;
    let peers: u32;
    // SAFETY: `activemask` and `match.any.sync` over exactly the active lanes.
    unsafe {
        asm!("activemask.b32 {a};", a = out(reg32) active);
        asm!("match.any.sync.b32 {p}, {b}, {a};", p = out(reg32) peers, b = in(reg32) bin, a = in(reg32) active);
    }
    if tid() & 31 == peers.trailing_zeros() {
        // SAFETY: the caller's contract (`hist + bin` valid).
        unsafe { atomic_add(hist.wrapping_add(bin as usize), peers.count_ones()) };
    }
}

/// Appends the calling lanes with `pred` to a shared list: one atomic per
/// warp on `counter`, each such lane gets its index (lanes in ascending
/// order); `None` for the others. Lanes may be diverged (`activemask`).
///
/// # Safety
/// `counter` is valid and 4-aligned, in shared or global memory.
#[inline(always)]
pub unsafe fn warp_append(counter: *mut u32, pred: bool) -> Option<u32> {
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
        // SAFETY: the caller's contract (`counter` valid).
        base = unsafe { atomic_add(counter, ballot.count_ones()) };
    }
    let b: u32;
    // SAFETY: every active lane takes part; the leader is one of them.
    unsafe {
        asm!("shfl.sync.idx.b32 {r}, {v}, {l}, 31, {a};", r = out(reg32) b, v = in(reg32) base, l = in(reg32) leader, a = in(reg32) active);
    }
    pred.then(|| b + (ballot & ((1u32 << lane) - 1)).count_ones())
}
