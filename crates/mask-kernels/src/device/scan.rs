//! `mask_rle_scan`: one block per mask walks its counts in block-sized
//! chunks; two block scans per chunk give each run's end and the foreground
//! before it, and each thread folds its foreground runs into a bounding box.
//!
//! Writes only `ends[start..end]`, `fg_before[start..end]` (the mask's
//! clamped span, see `runs::span`) and `stats[mask]`.

use crate::abi::{MaskSetParams, MaskStats};
use crate::runs::{clamp_end, span, sum_status, Extent};
use kernel_prims::{
    atomic_max, atomic_min, bid_x, block_exclusive_scan_u64, ntid, shared_bytes, sync, tid,
    warp_min_max,
};

/// See the module header and `abi::KERNEL_RLE_SCAN`.
///
/// # Safety
/// `offsets` holds `p.masks + 1` values, `counts`, `ends` and `fg_before`
/// hold `p.counts_len`, `stats` holds `p.masks` records; `p.height *
/// p.width < 2^32`; grid = `p.masks` blocks (extra blocks return).
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn mask_rle_scan(
    p: MaskSetParams,
    counts: *const u32,
    offsets: *const u32,
    ends: *mut u32,
    fg_before: *mut u32,
    stats: *mut MaskStats,
) {
    let m = bid_x();
    if m >= p.masks {
        return;
    }
    let shared = shared_bytes!("scan_shared", 512);
    let scratch = shared.cast::<u64>();
    // SAFETY: bytes 256..272 of the 512-byte shared array.
    let ext = unsafe { shared.add(256) }.cast::<u32>();
    let t = tid();
    if t == 0 {
        // SAFETY: four shared u32 (above); the barrier publishes them.
        unsafe {
            *ext = u32::MAX;
            *ext.add(1) = 0;
            *ext.add(2) = u32::MAX;
            *ext.add(3) = 0;
        }
    }
    sync();
    // SAFETY: m < masks, so m + 1 <= masks is inside `offsets`.
    let (start, end, mut status) = unsafe {
        span(
            *offsets.add(m as usize),
            *offsets.add(m as usize + 1),
            p.counts_len,
        )
    };
    let total = p.height.wrapping_mul(p.width);
    let n = end - start;
    let (mut carry_end, mut carry_fg) = (0u64, 0u64);
    let mut box_ = Extent::EMPTY;
    let mut base = 0u32;
    while base < n {
        let k = base + t;
        let inside = k < n;
        // SAFETY: start + k < end <= counts_len.
        let c = if inside {
            u64::from(unsafe { *counts.add((start + k) as usize) })
        } else {
            0
        };
        let fg = if k % 2 == 1 { c } else { 0 };
        // SAFETY: `scratch` is 32 shared u64s only the scans use; the loop
        // is block-uniform (`base` and `n` are), so every thread calls them.
        let (before, chunk) = unsafe { block_exclusive_scan_u64(c, scratch) };
        let (fg_pre, fg_chunk) = unsafe { block_exclusive_scan_u64(fg, scratch) };
        if inside {
            let s = carry_end + before;
            let e = s + c;
            let i = (start + k) as usize;
            // SAFETY: i < end <= counts_len.
            unsafe {
                *ends.add(i) = clamp_end(e, total);
                *fg_before.add(i) = clamp_end(carry_fg + fg_pre, total);
            }
            if fg > 0 && s < u64::from(total) {
                box_ = box_.union(Extent::of_run(s as u32, clamp_end(e, total), p.height));
            }
        }
        carry_end += chunk;
        carry_fg += fg_chunk;
        base += ntid();
    }
    let (x0, x1) = warp_min_max(box_.x0, box_.x1);
    let (y0, y1) = warp_min_max(box_.y0, box_.y1);
    if t & 31 == 0 {
        // SAFETY: four shared u32 (above).
        unsafe {
            atomic_min(ext, x0);
            atomic_max(ext.add(1), x1);
            atomic_min(ext.add(2), y0);
            atomic_max(ext.add(3), y1);
        }
    }
    sync();
    if t == 0 {
        status |= sum_status(carry_end, total);
        // SAFETY: the extents were published by the barrier; m < masks.
        unsafe {
            let bbox = Extent {
                x0: *ext,
                x1: *ext.add(1),
                y0: *ext.add(2),
                y1: *ext.add(3),
            };
            *stats.add(m as usize) = MaskStats {
                sum: carry_end,
                area: clamp_end(carry_fg, total),
                counts: n,
                bbox: bbox.xywh(),
                status,
                _pad: 0,
            };
        }
    }
}
