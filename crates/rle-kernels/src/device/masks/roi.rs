//! `rle_select_roi`: the selection of every image, the ROI of every query
//! that can become a detection, and the frame's item plan, in one launch.
//!
//! A detection's ROI depends only on its query (its mask plane) and image,
//! not on the selection, so it need not wait for it: blocks `0..B` select
//! (one block per image, `select::select_image`) while each of the other
//! `B*Q` blocks takes one query, tests whether any of its scores passes the
//! lowest threshold (the selection's own cut, `select::lowest_cut`: a kept
//! detection's score passes its class threshold, which is at least the
//! lowest) and if so finds its ROI (`Ctx::find_roi`) into the per-query
//! array. The last block to finish copies each detection's ROI from its
//! query's entry, finds any that is missing itself (none when the test
//! holds, which the GPU suites assert from `FrameCounters::late_rois`; all
//! of them with `FrameParams::early_rois == 0`, the tests' way to take that
//! path), then splits every ROI into chunks and numbers them.
//!
//! Every block is whole-block work on the block barrier alone: a version
//! with four 256-thread query groups per block on named barriers gave the
//! same results but racecheck reports on the last-block hand-off
//! (docs/BENCHMARKS.md), and a query's window scan is quicker with 1024
//! threads anyway.

use super::ctx::Ctx;
use super::*;
use crate::device::select::{lowest_cut, select_image};
use crate::fp::sigmoid_cuda;
use crate::keys::score_key;

// Shared words of the launch (besides the selection's own array): SCAN and
// the MISC slots FLAG, PASSES and SUM, `find_roi`'s 8 slots, and the plan's
// list of slots whose ROI it finds itself.
const PASSES: usize = MISC + 10; // the query block's "some score passes" vote
const ROI_SLOTS: usize = MISC + 16;
const LIST: usize = ROI_SLOTS + 8;
const SMEM_WORDS: usize = LIST + crate::abi::SELECT_THREADS as usize;
const _: () = assert!(SMEM_WORDS * 4 == 4320 && SUM + 2 <= ROI_SLOTS && PASSES < SUM);

// `find_roi`'s slots, relative to ROI_SLOTS.
const BB_YMIN: usize = 0;
const BB_YEND: usize = 1;
const BB_XMIN: usize = 2;
const BB_XEND: usize = 3;
const ROI_I0: usize = 4;
const ROI_I1: usize = 5;
const ROI_J0: usize = 6;
const ROI_J1: usize = 7;

impl Ctx {
    /// Finds the ROI (block-wide: every thread calls it; `slots`: the 8
    /// shared words at `ROI_SLOTS`).
    #[inline(always)]
    fn find_roi(&mut self, slots: *mut u32) {
        let s = |i: usize| slots.wrapping_add(i);
        let (t, nt) = (tid(), ntid());
        let img = self.img;
        // SAFETY: shared slots < 8; table indices < out_h / out_w.
        unsafe {
            if t == 0 {
                *s(BB_YMIN) = u32::MAX;
                *s(BB_YEND) = 0;
                *s(BB_XMIN) = u32::MAX;
                *s(BB_XEND) = 0;
                *s(ROI_I0) = u32::MAX;
                *s(ROI_I1) = 0;
                *s(ROI_J0) = u32::MAX;
                *s(ROI_J1) = 0;
            }
            sync();
            // 1. Bounding box of positive source logits inside the window.
            let y_lo = (-img.win_top).max(0) as u32;
            let y_hi = (self.mask_h - img.win_top).clamp(0, img.win_h as i32) as u32;
            let x_lo = (-img.win_left).max(0) as u32;
            let x_hi = (self.mask_w - img.win_left).clamp(0, img.win_w as i32) as u32;
            // Per-thread bounds, then per-warp reductions: one shared atomic
            // per warp and bound instead of one per positive pixel.
            let (mut by0, mut by1, mut bx0, mut bx1) = (u32::MAX, 0u32, u32::MAX, 0u32);
            if y_hi > y_lo && x_hi > x_lo {
                let w = x_hi - x_lo;
                let n = (y_hi - y_lo) * w;
                // BATCH loads in flight per thread before any is used: the
                // logits come from DRAM, and one dependent load per step
                // made this loop the kernel's cost.
                const BATCH: u32 = 8;
                let mut i0 = t;
                while i0 < n {
                    let mut v = [0f32; BATCH as usize];
                    for (u, v) in v.iter_mut().enumerate() {
                        let i = i0 + u as u32 * nt;
                        if i < n {
                            *v = self.window(y_lo + i / w, x_lo + i % w);
                        }
                    }
                    for (u, &v) in v.iter().enumerate() {
                        let i = i0 + u as u32 * nt;
                        if i < n && v > 0.0 {
                            let (y, x) = (y_lo + i / w, x_lo + i % w);
                            by0 = by0.min(y);
                            by1 = by1.max(y + 1);
                            bx0 = bx0.min(x);
                            bx1 = bx1.max(x + 1);
                        }
                    }
                    i0 += BATCH * nt;
                }
            }
            let (by0, by1, bx0, bx1) = (warp_min(by0), warp_max(by1), warp_min(bx0), warp_max(bx1));
            if t & 31 == 0 && by1 > 0 {
                atomic_min(s(BB_YMIN), by0);
                atomic_max(s(BB_YEND), by1);
                atomic_min(s(BB_XMIN), bx0);
                atomic_max(s(BB_XEND), bx1);
            }
            sync();
            // 2. Output rows/columns whose spans reach into that box.
            let (ymin, yend, xmin, xend) = (*s(BB_YMIN), *s(BB_YEND), *s(BB_XMIN), *s(BB_XEND));
            let (mut i0, mut i1, mut j0, mut j1) = (u32::MAX, 0u32, u32::MAX, 0u32);
            if yend > 0 {
                // Rows then columns as one index range, SPANS loads in
                // flight per thread: one table latency for a 1080p frame's
                // 1080 + 1920 spans instead of one per loop step.
                const SPANS: u32 = 4;
                let rows = img.out_h;
                let all = rows + img.out_w;
                let mut k0 = t;
                while k0 < all {
                    let mut sp = [TapSpan::default(); SPANS as usize];
                    for (u, sp) in sp.iter_mut().enumerate() {
                        let k = k0 + u as u32 * nt;
                        if k < all {
                            let at = if k < rows {
                                img.ytab + k
                            } else {
                                img.xtab + k - rows
                            };
                            *sp = *self.spans.add(at as usize);
                        }
                    }
                    for (u, &sp) in sp.iter().enumerate() {
                        let k = k0 + u as u32 * nt;
                        if k < rows {
                            if sp.first < yend && tap_index(sp, sp.count - 1, img.win_h) >= ymin {
                                i0 = i0.min(k);
                                i1 = i1.max(k + 1);
                            }
                        } else if k < all {
                            let j = k - rows;
                            if sp.first < xend && tap_index(sp, sp.count - 1, img.win_w) >= xmin {
                                j0 = j0.min(j);
                                j1 = j1.max(j + 1);
                            }
                        }
                    }
                    k0 += SPANS * nt;
                }
            }
            // A warp can find columns but no rows (or the reverse), so no
            // shortcut on an empty row range.
            let (i0, i1, j0, j1) = (warp_min(i0), warp_max(i1), warp_min(j0), warp_max(j1));
            if t & 31 == 0 {
                atomic_min(s(ROI_I0), i0);
                atomic_max(s(ROI_I1), i1);
                atomic_min(s(ROI_J0), j0);
                atomic_max(s(ROI_J1), j1);
            }
            sync();
            let (i0, i1, j0, j1) = (*s(ROI_I0), *s(ROI_I1), *s(ROI_J0), *s(ROI_J1));
            if i1 > i0 && j1 > j0 {
                self.r0 = img.paste_y + i0;
                self.c0 = img.paste_x + j0;
                self.rows = i1 - i0;
                self.total = self.rows * (j1 - j0);
                self.full_height = self.r0 == 0 && self.rows == img.canvas_h;
            }
            sync();
        }
    }
}

impl Ctx {
    /// The record of the ROI just found (`known` set).
    #[inline(always)]
    fn roi_record(&self) -> MaskRoi {
        MaskRoi {
            r0: self.r0,
            c0: self.c0,
            rows: self.rows,
            total: self.total,
            full_height: u32::from(self.full_height),
            known: 1,
            ..MaskRoi::default()
        }
    }
}

/// Query `q` of image `b` (the whole block): its ROI into `query_rois`
/// when any of its scores passes the lowest threshold, else a record marked
/// unknown.
///
/// # Safety
/// As for `rle_select_roi`; `q < Q`, `b < B`; every thread calls it.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn query_roi(
    frame: &FrameParams,
    images: *const ImageParams,
    logits: *const f32,
    thresholds: *const f32,
    masks: *const u8,
    spans: *const TapSpan,
    weights: *const f32,
    query_rois: *mut MaskRoi,
    sh: *mut u32,
    q: u32,
    b: u32,
) {
    let (t, nt) = (tid(), ntid());
    // SAFETY: per the contract; every index below Q*C, B*Q; shared words
    // below SMEM_WORDS.
    unsafe {
        let vote = sh.add(PASSES);
        if t == 0 {
            *vote = 0;
        }
        // Every warp takes the cut itself (the thresholds are a few cached
        // words): no barrier before the test.
        let cut = lowest_cut(frame, thresholds, t & 31);
        let row = logits.add(((b * frame.queries + q) * frame.columns) as usize);
        let mut passes = false;
        let mut c = t;
        while c < frame.columns {
            let key = score_key(sigmoid_cuda(*row.add(c as usize)));
            passes |= cut == u32::MAX || key > cut;
            c += nt;
        }
        sync();
        if passes && frame.early_rois != 0 {
            atomic_max(vote, 1);
        }
        sync();
        let record = if *vote != 0 {
            let mut cx = Ctx::for_query(frame, images, q, b, masks, spans, weights);
            cx.find_roi(sh.add(ROI_SLOTS));
            cx.roi_record()
        } else {
            MaskRoi::default()
        };
        if t == 0 {
            *query_rois.add((b * frame.queries + q) as usize) = record;
        }
    }
}

/// The selection, the ROI of every query that can become a detection, and
/// (by the last block to finish) the item plan.
///
/// # Safety
/// Pointers valid for `frame`'s sizes: `logits` and `keys` `B*Q*C` (f32),
/// `boxes` `B*Q*4`, `thresholds` `threshold_len`, `mapping` `mapping_len`,
/// `scores_out` `B*Q*C` when `write_scores != 0`, `dets` `B*Q`,
/// `det_count` `B`, `images` `B`, `masks` `B*Q*Mh*Mw` elements of
/// `mask_dtype`, tables covering every image's table ranges, `query_rois`
/// and `rois` `B*Q`, `chunks` `MASK_ITEM_BUDGET + B*Q` states (the most
/// items a plan makes); `counters` zeroed (the host uploads them zeroed
/// with the frame's parameters); image parameters validated by the host
/// (window, `S` inside the canvas, `H*W < 2^32`); `Q <= MAX_QUERIES`,
/// `Q*C < 2^31`. Grid `B + B*Q` blocks of `SELECT_THREADS`.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_select_roi(
    frame: FrameParams,
    images: *const ImageParams,
    logits: *const f32,
    boxes: *const f32,
    thresholds: *const f32,
    mapping: *const i32,
    keys: *mut u32,
    scores_out: *mut f32,
    dets: *mut DetRecord,
    det_count: *mut u32,
    masks: *const u8,
    spans: *const TapSpan,
    weights: *const f32,
    query_rois: *mut MaskRoi,
    rois: *mut MaskRoi,
    chunks: *mut ChunkState,
    counters: *mut FrameCounters,
) {
    let sh = shared_bytes!("rle_select_roi_smem", 4320).cast::<u32>();
    let s = |i: usize| sh.wrapping_add(i);
    let (blk, t) = (bid_x(), tid());
    // With programmatic launches (sm_90) the count pass's blocks may start
    // now, on the SMs this grid leaves free, and wait there for this grid
    // to complete (`grid_dependency_wait`) instead of being launched after.
    launch_dependents();
    // SAFETY (whole body): see the contract; branches on block-uniform
    // values.
    unsafe {
        if blk < frame.batch {
            select_image(
                &frame, images, logits, boxes, thresholds, mapping, keys, scores_out, dets,
                det_count, blk,
            );
        } else {
            let j = blk - frame.batch;
            let (b, q) = (j / frame.queries, j % frame.queries);
            query_roi(
                &frame, images, logits, thresholds, masks, spans, weights, query_rois, sh, q, b,
            );
        }
        // Last block out: every thread's records are published (each fences
        // its own writes before the block counts).
        fence_gpu();
        sync();
        if t == 0 {
            let before = atomic_add(&raw mut (*counters).roi_done, 1);
            *s(FLAG) = u32::from(before == nbid_x() - 1);
        }
        sync();
        if *s(FLAG) == 0 {
            return;
        }
        fence_gpu();
        plan(
            &frame, images, dets, det_count, masks, spans, weights, query_rois, rois, chunks,
            counters, sh,
        );
    }
}

/// The detections' ROIs and the item plan (the last block, whole).
///
/// # Safety
/// As for `rle_select_roi`; every other block has finished its records.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn plan(
    frame: &FrameParams,
    images: *const ImageParams,
    dets: *const DetRecord,
    det_count: *const u32,
    masks: *const u8,
    spans: *const TapSpan,
    weights: *const f32,
    query_rois: *const MaskRoi,
    rois: *mut MaskRoi,
    chunks: *mut ChunkState,
    counters: *mut FrameCounters,
    sh: *mut u32,
) {
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    let qn = frame.queries;
    let slots = frame.batch * qn;
    // Other blocks wrote what this block reads now: volatile loads, never
    // served from this SM's L1.
    let detection = |i: u32| -> bool {
        // SAFETY: i < B*Q.
        unsafe { i % qn < core::ptr::read_volatile(det_count.add((i / qn) as usize)) }
    };
    // SAFETY (whole body): slot indices < B*Q, items < MASK_ITEM_BUDGET + B*Q;
    // shared words < SMEM_WORDS; branches on block-uniform values.
    unsafe {
        // 1. Each detection's ROI from its query's record; the list of
        // those without one, found here by the whole block. Each thread
        // sums its slots' ROI pixels on the way, and keeps its first slot's
        // (the only one unless B*Q > ntid()) for step 2: no pass reloads
        // what this block just wrote.
        if t == 0 {
            *sh.add(SUM).cast::<u64>() = 0;
        }
        let mut sum = 0u64;
        let (mut first_total, mut first_det) = (0u32, false);
        let mut late = 0u32;
        let mut r0 = 0u32;
        while r0 < slots {
            let i = r0 + t;
            let mut missing = false;
            let mut total = 0u32;
            let det = i < slots && detection(i);
            if det {
                let q = core::ptr::read_volatile(&raw const (*dets.add(i as usize)).query);
                let b = i / qn;
                let qr = core::ptr::read_volatile(query_rois.add((b * qn + q) as usize));
                if qr.known != 0 {
                    *rois.add(i as usize) = qr;
                    total = qr.total;
                } else {
                    missing = true;
                }
            }
            let (pre, tot) = block_exclusive_scan(u32::from(missing), s(SCAN));
            if missing {
                *s(LIST + pre as usize) = i;
            }
            sync();
            for n in 0..tot {
                let slot = *s(LIST + n as usize);
                let q = core::ptr::read_volatile(&raw const (*dets.add(slot as usize)).query);
                let mut cx = Ctx::for_query(frame, images, q, slot / qn, masks, spans, weights);
                cx.find_roi(sh.add(ROI_SLOTS));
                let record = cx.roi_record();
                if t == 0 {
                    *rois.add(slot as usize) = record;
                }
                if slot == i {
                    total = record.total;
                }
            }
            sum += u64::from(total);
            if r0 == 0 {
                (first_total, first_det) = (total, det);
            }
            late += tot;
            r0 += nt;
        }
        sync();
        // 2. Pixels per chunk from the frame's total, then number the
        // items in slot order (empty slots get none).
        atomic_add_u64(sh.add(SUM).cast::<u64>(), sum);
        sync();
        let px = chunk_pixels(
            *sh.add(SUM).cast::<u64>(),
            frame.min_chunk_pixels,
            frame.item_budget,
            frame.item_target,
            frame.max_chunk_pixels,
        );
        let mut base = 0u32;
        let mut r0 = 0u32;
        while r0 < slots {
            let i = r0 + t;
            let mut n = 0u32;
            if r0 == 0 {
                if first_det {
                    n = chunks_for(first_total, px);
                }
            } else if i < slots && detection(i) {
                n = chunks_for((*rois.add(i as usize)).total, px);
            }
            let (pre, tot) = block_exclusive_scan(n, s(SCAN));
            if i < slots {
                let r = rois.add(i as usize);
                (*r).chunks = n;
                (*r).item_start = base + pre;
            }
            // Each item's slot, for the item passes' one-load lookup: item
            // `base + k` belongs to the round's last slot whose first item
            // is at most `k` (an empty slot never ends that search: the slot
            // after it starts at the same item), found by a binary search
            // over the round's starts, so the stores spread over every
            // thread however the items fall on the slots.
            *s(LIST + t as usize) = pre;
            sync();
            let run = (slots - r0).min(nt);
            let mut k = t;
            while k < tot {
                let (mut lo, mut hi) = (0u32, run);
                // Invariant: start(lo) <= k (start(0) = 0), the answer is below hi.
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if *s(LIST + mid as usize) <= k {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                (*chunks.add((base + k) as usize)).slot = r0 + lo;
                k += nt;
            }
            sync();
            base += tot;
            r0 += nt;
        }
        if t == 0 {
            (*counters).items = base;
            (*counters).late_rois = late;
        }
    }
}
