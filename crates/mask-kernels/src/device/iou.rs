//! `mask_rle_iou`: one block per pair `(a, b)`. The intersection is a sum
//! over the foreground runs of the mask with fewer counts: each run `[s, e)`
//! overlaps the other mask's foreground in `F(e) - F(s)` pixels, `F` being
//! its foreground prefix (`runs::foreground_before`, a binary search). Pairs
//! whose boxes are disjoint are 0 without reading a run (as pycocotools).

use crate::abi::{MaskSetParams, MaskStats};
use crate::runs::{foreground_before, iou, span, Extent};
use kernel_prims::{bid_x, bid_y, block_sum_u64, ntid, shared_bytes, tid};

/// One scanned mask's runs.
struct Runs<'a> {
    ends: &'a [u32],
    fg_before: &'a [u32],
    area: u32,
}

/// The runs of mask `m` of a scanned set.
///
/// # Safety
/// The kernel's contract for that set; `m < p.masks`.
unsafe fn runs<'a>(
    p: &MaskSetParams,
    offsets: *const u32,
    ends: *const u32,
    fg_before: *const u32,
    area: u32,
    m: u32,
) -> Runs<'a> {
    // SAFETY: m + 1 <= masks; the span is clamped inside both arrays.
    unsafe {
        let (start, end, _) = span(
            *offsets.add(m as usize),
            *offsets.add(m as usize + 1),
            p.counts_len,
        );
        let n = (end - start) as usize;
        Runs {
            ends: core::slice::from_raw_parts(ends.add(start as usize), n),
            fg_before: core::slice::from_raw_parts(fg_before.add(start as usize), n),
            area,
        }
    }
}

/// See the module header and `abi::KERNEL_RLE_IOU`. `iou_out[i * nb + j]`
/// and `inter_out[i * nb + j]` for mask `i` of `a` and `j` of `b`.
///
/// # Safety
/// Both sets as in `mask_rle_scan`'s contract and scanned on this stream
/// before; `a.height == b.height`, `a.width == b.width`; `iou_out` and
/// `inter_out` hold `a.masks * b.masks` values; grid = `(b.masks, a.masks)`.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn mask_rle_iou(
    a: MaskSetParams,
    offsets_a: *const u32,
    ends_a: *const u32,
    fg_a: *const u32,
    stats_a: *const MaskStats,
    b: MaskSetParams,
    offsets_b: *const u32,
    ends_b: *const u32,
    fg_b: *const u32,
    stats_b: *const MaskStats,
    iou_out: *mut f64,
    inter_out: *mut u32,
) {
    let (i, j) = (bid_y(), bid_x());
    if i >= a.masks || j >= b.masks {
        return;
    }
    let scratch = shared_bytes!("iou_shared", 256).cast::<u64>();
    // SAFETY: i < a.masks, j < b.masks (contract sizes).
    let (sa, sb) = unsafe { (*stats_a.add(i as usize), *stats_b.add(j as usize)) };
    let mut inter = 0u64;
    // Block-uniform: depends only on the block's pair.
    if Extent::boxes_overlap(sa.bbox, sb.bbox) {
        // SAFETY: the contracts of both sets.
        let (ra, rb) = unsafe {
            (
                runs(&a, offsets_a, ends_a, fg_a, sa.area, i),
                runs(&b, offsets_b, ends_b, fg_b, sb.area, j),
            )
        };
        let (walk, other) = if ra.ends.len() <= rb.ends.len() {
            (ra, rb)
        } else {
            (rb, ra)
        };
        // Foreground runs are the odd ones: k = 2 * r + 1.
        let fg_runs = walk.ends.len() / 2;
        let mut r = tid() as usize;
        while r < fg_runs {
            let k = 2 * r + 1;
            // In bounds (k < 2 * fg_runs <= len); `get` keeps traps out.
            let s = walk.ends.get(k - 1).copied().unwrap_or(0);
            let e = walk.ends.get(k).copied().unwrap_or(s);
            let f = |q| foreground_before(other.ends, other.fg_before, other.area, q);
            inter += u64::from(f(e).saturating_sub(f(s)));
            r += ntid() as usize;
        }
    }
    // SAFETY: `scratch` is this kernel's 32 shared u64s, used by nothing
    // else; every thread of the block gets here (the early return is
    // block-uniform).
    let inter = unsafe { block_sum_u64(inter, scratch) };
    if tid() == 0 {
        let o = i as usize * b.masks as usize + j as usize;
        // SAFETY: o < a.masks * b.masks.
        unsafe {
            *iou_out.add(o) = iou(inter, sa.area, sb.area);
            *inter_out.add(o) = inter as u32;
        }
    }
}
