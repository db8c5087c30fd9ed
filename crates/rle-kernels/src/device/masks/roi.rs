//! The ROI of a detection (`Ctx::find_roi`) and `rle_mask_roi`, whose last
//! block plans the frame's items.

use super::ctx::Ctx;
use super::*;

impl Ctx {
    /// Finds the ROI (block-wide: every thread must call it).
    #[inline(always)]
    fn find_roi(&mut self, sh: *mut u32) {
        let s = |i: usize| sh.wrapping_add(i);
        let (t, nt) = (tid(), ntid());
        let img = self.img;
        // SAFETY: shared slots < WORDS; table indices < out_h / out_w.
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
                let mut i = t;
                while i < img.out_h {
                    let sp = *self.spans.add((img.ytab + i) as usize);
                    if sp.first < yend && tap_index(sp, sp.count - 1, img.win_h) >= ymin {
                        i0 = i0.min(i);
                        i1 = i1.max(i + 1);
                    }
                    i += nt;
                }
                let mut j = t;
                while j < img.out_w {
                    let sp = *self.spans.add((img.xtab + j) as usize);
                    if sp.first < xend && tap_index(sp, sp.count - 1, img.win_w) >= xmin {
                        j0 = j0.min(j);
                        j1 = j1.max(j + 1);
                    }
                    j += nt;
                }
            }
            // Rows and columns come from different loops: a warp can find
            // columns but no rows, so no shortcut on an empty row range.
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

/// Finds the ROI of detection slot `(blockIdx.x, blockIdx.y)`; the last block
/// of the grid to finish plans the frame's items.
///
/// # Safety
/// Pointers valid for `frame`'s sizes: `dets` `B*Q`, `det_count` `B`, `masks`
/// `B*Q*Mh*Mw` elements of `mask_dtype`, tables covering every image's table
/// ranges, `rois` `B*Q`, `chunks` `MASK_ITEM_BUDGET + B*Q` states (the
/// most items a plan makes); `counters` zeroed by `rle_select` of this frame;
/// image parameters validated by the host (window, `S` inside the canvas,
/// `H*W < 2^32`). Grid `(Q, B)`, `MASK_THREADS` threads.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_mask_roi(
    frame: FrameParams,
    images: *const ImageParams,
    dets: *const DetRecord,
    det_count: *const u32,
    masks: *const u8,
    spans: *const TapSpan,
    weights: *const f32,
    rois: *mut MaskRoi,
    chunks: *mut ChunkState,
    counters: *mut FrameCounters,
) {
    let sh = shared_bytes!("rle_mask_roi_smem", 256).cast::<u32>();
    let s = |i: usize| sh.wrapping_add(i);
    let (q, b, t, nt) = (bid_x(), bid_y(), tid(), ntid());
    let slots = frame.batch * frame.queries;
    // SAFETY (whole body): see the contract; branches on block-uniform values.
    unsafe {
        let slot = b * frame.queries + q;
        if is_detection(det_count, q, b) {
            let det = dets.add(slot as usize);
            let mut cx = Ctx::new(&frame, images, det, b, masks, spans, weights);
            cx.find_roi(sh);
            if t == 0 {
                let r = rois.add(slot as usize);
                (*r).r0 = cx.r0;
                (*r).c0 = cx.c0;
                (*r).rows = cx.rows;
                (*r).total = cx.total;
                (*r).full_height = u32::from(cx.full_height);
            }
        }
        // Last block out: every ROI is written (fence before the count).
        if t == 0 {
            fence_gpu();
            let before = atomic_add(&raw mut (*counters).roi_done, 1);
            *s(FLAG) = u32::from(before == slots - 1);
        }
        sync();
        if *s(FLAG) == 0 {
            return;
        }
        fence_gpu();
        // Plan: pixels per chunk from the frame's total, then number the
        // items in slot order (empty slots get none).
        if t == 0 {
            *sh.add(SUM).cast::<u64>() = 0;
        }
        sync();
        let mut sum = 0u64;
        let mut i = t;
        while i < slots {
            if is_detection(det_count, i % frame.queries, i / frame.queries) {
                sum += u64::from(core::ptr::read_volatile(
                    &raw const (*rois.add(i as usize)).total,
                ));
            }
            i += nt;
        }
        atomic_add_u64(sh.add(SUM).cast::<u64>(), sum);
        sync();
        let px = chunk_pixels(
            *sh.add(SUM).cast::<u64>(),
            frame.min_chunk_pixels,
            frame.item_budget,
        );
        let mut base = 0u32;
        let mut r0 = 0u32;
        while r0 < slots {
            let i = r0 + t;
            let mut n = 0u32;
            if i < slots && is_detection(det_count, i % frame.queries, i / frame.queries) {
                n = chunks_for(
                    core::ptr::read_volatile(&raw const (*rois.add(i as usize)).total),
                    px,
                );
            }
            let (pre, tot) = block_exclusive_scan(n, s(SCAN));
            if i < slots {
                let r = rois.add(i as usize);
                (*r).chunks = n;
                (*r).item_start = base + pre;
            }
            // Each item's slot, for the item passes' one-load lookup: the
            // lanes of a warp store the items of its 32 slots together
            // (a slot may own thousands of items; one thread per slot
            // would store them one by one).
            let start = base + pre;
            for j in 0..32 {
                let (nj, sj) = (shfl_idx(n, j), shfl_idx(start, j));
                let slot = (r0 + (t & !31)) + j;
                let mut k = t & 31;
                while k < nj {
                    (*chunks.add((sj + k) as usize)).slot = slot;
                    k += 32;
                }
            }
            base += tot;
            r0 += nt;
        }
        if t == 0 {
            (*counters).items = base;
        }
    }
}
