//! The mask stage: four kernels over detections and their items.
//!
//! - `rle_mask_roi` (grid `(Q, B)`): the block of a detection finds its ROI,
//!   the bounding box of source logits `> 0` inside the padded/cropped window
//!   mapped through the resize tables (a pixel can only be foreground if its
//!   span holds such a logit, all weights being ≥ 0; SPEC §7). The last block
//!   to finish splits every ROI into chunks of about equal pixel counts
//!   (`chunks::chunk_pixels`) and numbers them: the frame's "items".
//! - `rle_mask_count` (a persistent grid looping over items): evaluates an
//!   item's pixels exactly as the reference does, counts run boundaries
//!   ("events") and the COCO characters of every event from the chunk's
//!   fourth on (those only need events of the same chunk).
//! - `rle_mask_reserve` (grid `(Q, B)`): per detection, chains its chunks in
//!   parallel (`chunks::event_in_run`), encodes each chunk's first three
//!   events and the trailing count, reserves the string's arena space with
//!   one atomic and writes those characters.
//! - `rle_mask_write` (the same item loop as count): evaluates again and
//!   writes each chunk's remaining characters at the reserved offset.
//!
//! Work follows pixels, not detections: a frame's large masks are spread over
//! every SM instead of a fixed number of blocks per detection. Pixels are
//! walked in canvas column-major order, so runs that continue from the bottom
//! of one column into the top of the next merge by construction. Count →
//! reserve → write: no cap on runs, ROI or canvas size. When the arena is too
//! small the detection is marked and nothing is written; the host grows the
//! arena and runs reserve and write again.

use super::{
    atomic_add, atomic_add_u64, atomic_max, atomic_min, bid_x, bid_y, block_exclusive_scan,
    fence_gpu, nbid_x, ntid, shared_bytes, sync, tid, warp_max, warp_min,
};
use crate::abi::{
    dtype, resize_mode, ChunkState, DetRecord, FrameCounters, FrameParams, ImageParams, MaskRoi,
    TapSpan, MASK_ITEMS, MASK_TILE,
};
use crate::chunks::{boundary_values, chunk_pixels, chunk_range, chunks_for, event_in_run};
use crate::coco::{char_len, coded_value, write_chars};
use crate::fp::{bf16_bits_to_f32, f16_bits_to_f32};
use crate::tables::{foreground_threshold, horizontal, tap_index, vertical};

const SCAN: usize = 0; // 32 u32
const MISC: usize = 32; // 16 u32
const CARRY: usize = 48; // 4 u32: the last three events, newest first
const FIRST: usize = 52; // 4 u32: the chunk's first three events
const EVENTS: usize = 64; // 2 events per pixel of a tile
const TILE: u32 = MASK_TILE;
const WORDS: usize = EVENTS + 2 * TILE as usize;
const FG: usize = WORDS * 4; // byte offset: foreground of tile pixels -1 ..= TILE
const HPASS: usize = 4676; // word offset: horizontal passes of a tile's columns
const HPASS_CAP: u32 = 2048; // f32 values
const SMEM_BYTES: usize = 26_896;
const _: () = assert!(FG + TILE as usize + 2 <= HPASS * 4);
const _: () = assert!((HPASS + HPASS_CAP as usize) * 4 <= SMEM_BYTES);
const _: () = assert!(FG + TILE as usize + 2 <= SMEM_BYTES);
const _: () = assert!(WORDS * 4 <= SMEM_BYTES);
const _: () = assert!(RESERVE_WORDS <= WORDS && RESERVE_WORDS * 4 <= RESERVE_SMEM_BYTES);
const _: () = assert!(crate::abi::MASK_THREADS == 256 && SUM % 2 == 0);
const RESERVE_SMEM_BYTES: usize = 5376;
const ROI_SMEM_BYTES: usize = 256;
const _: () = assert!((SUM + 2) * 4 <= ROI_SMEM_BYTES);

// MISC slots.
const BB_YMIN: usize = MISC;
const BB_YEND: usize = MISC + 1;
const BB_XMIN: usize = MISC + 2;
const BB_XEND: usize = MISC + 3;
const ROI_I0: usize = MISC + 4;
const ROI_I1: usize = MISC + 5;
const ROI_J0: usize = MISC + 6;
const ROI_J1: usize = MISC + 7;
const FOUND: usize = MISC + 8; // item search: last probe at or below the item
const FLAG: usize = MISC + 9; // block-uniform yes/no from thread 0
const R_OFF: usize = MISC + 10; // reserve: arena offset
const R_FITS: usize = MISC + 11; // reserve: the string fits
const SUM: usize = MISC + 12; // plan: u64 sum of ROI pixels (8-aligned)
                              // Reserve step, over one round of chunk states (reuses the event tile):
const R_PRE: usize = EVENTS; // events before each chunk of the round
const R_CNT: usize = EVENTS + 256; // events of each chunk
const R_LAST: usize = EVENTS + 512; // last three events of each chunk
const RESERVE_WORDS: usize = EVENTS + 512 + 3 * 256;

/// Everything one block needs to evaluate canvas pixels of its detection.
struct Ctx {
    img: ImageParams,
    src: *const u8,
    dtype: u32,
    mode: u32,
    mask_h: i32,
    mask_w: i32,
    spans: *const TapSpan,
    weights: *const f32,
    fg_threshold: f32,
    // ROI in canvas coordinates.
    r0: u32,
    c0: u32,
    rows: u32,
    total: u32,
    full_height: bool,
    // Window rows the ROI's output rows read: [sy_lo, sy_lo + h_rows).
    sy_lo: u32,
    h_rows: u32,
}

impl Ctx {
    /// Window pixel `(y, x)`: the source logit, or 0.0 in the zero padding.
    #[inline(always)]
    fn window(&self, y: u32, x: u32) -> f32 {
        let sy = y as i32 + self.img.win_top;
        let sx = x as i32 + self.img.win_left;
        if sy < 0 || sx < 0 || sy >= self.mask_h || sx >= self.mask_w {
            return 0.0;
        }
        let i = (sy * self.mask_w + sx) as usize;
        // SAFETY: (sy, sx) lies inside the Mh×Mw mask of this detection.
        unsafe {
            match self.dtype {
                dtype::F16 => f16_bits_to_f32(*self.src.cast::<u16>().add(i)),
                dtype::BF16 => bf16_bits_to_f32(*self.src.cast::<u16>().add(i)),
                _ => *self.src.cast::<f32>().add(i),
            }
        }
    }

    /// Foreground of ROI pixel `k` (column-major ROI index, `k < total`):
    /// one pixel alone, so the pixels of a tile are evaluated by independent
    /// threads with independent loads (latency hidden by parallelism, not a
    /// serial walk). Same arithmetic, in the same order, as `tables::eval_*`.
    #[inline(always)]
    fn fg_one(&self, k: u32) -> bool {
        let im = &self.img;
        let bilinear = self.mode == resize_mode::BILINEAR;
        let (col, row) = (k / self.rows, k % self.rows);
        // SAFETY: the ROI lies inside the pasted S region, so the table
        // entries of (y, x) exist; slots bound each entry's weights.
        unsafe {
            let x = self.c0 + col - im.paste_x;
            let y = self.r0 + row - im.paste_y;
            let xs = *self.spans.add((im.xtab + x) as usize);
            let ys = *self.spans.add((im.ytab + y) as usize);
            let xw = core::slice::from_raw_parts(
                self.weights.add((im.xweights + x * im.xslots) as usize),
                im.xslots as usize,
            );
            let yw = core::slice::from_raw_parts(
                self.weights.add((im.yweights + y * im.yslots) as usize),
                im.yslots as usize,
            );
            let v = vertical(bilinear, ys, yw, im.win_h, |sy| {
                horizontal(bilinear, xs, xw, im.win_w, sy, |a, b| self.window(a, b))
            });
            v > self.fg_threshold
        }
    }
}

impl Ctx {
    /// The context of detection slot `slot` of image `b`, with an empty ROI.
    ///
    /// # Safety
    /// `slot < det_count[b]` and the pointers follow the kernels' contract.
    #[inline(always)]
    unsafe fn new(
        frame: &FrameParams,
        images: *const ImageParams,
        det: *const DetRecord,
        b: u32,
        masks: *const u8,
        spans: *const TapSpan,
        weights: *const f32,
    ) -> Self {
        // SAFETY: per the contract.
        unsafe {
            let img = *images.add(b as usize);
            let elem = if frame.mask_dtype == dtype::F32 { 4 } else { 2 };
            let plane = (frame.mask_h * frame.mask_w) as usize;
            let src = masks.add(((b * frame.queries + (*det).query) as usize) * plane * elem);
            Ctx {
                img,
                src,
                dtype: frame.mask_dtype,
                mode: img.resize,
                mask_h: frame.mask_h as i32,
                mask_w: frame.mask_w as i32,
                spans,
                weights,
                fg_threshold: foreground_threshold(frame.mask_dtype),
                r0: 0,
                c0: 0,
                rows: 1,
                total: 0,
                full_height: false,
                sy_lo: 0,
                h_rows: 0,
            }
        }
    }

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

    /// The ROI this context walks (from `rle_mask_roi`).
    #[inline(always)]
    fn set_roi(&mut self, roi: &MaskRoi) {
        self.r0 = roi.r0;
        self.c0 = roi.c0;
        self.rows = roi.rows.max(1);
        self.total = roi.total;
        self.full_height = roi.full_height != 0;
        self.h_rows = 0;
        if self.total > 0 && self.img.win_h > 0 {
            let im = &self.img;
            let y0 = self.r0 - im.paste_y;
            // SAFETY: the ROI's first and last rows lie inside the S region.
            let (s0, s1) = unsafe {
                (
                    *self.spans.add((im.ytab + y0) as usize),
                    *self.spans.add((im.ytab + y0 + self.rows - 1) as usize),
                )
            };
            // Spans are monotone, so these bound every tap of the ROI rows;
            // a tap outside is still evaluated directly (`fg_from_hpass`).
            let lo = s0.first.min(im.win_h - 1);
            let hi = (s1.first + s1.count.max(1) - 1).min(im.win_h - 1);
            if hi >= lo {
                self.sy_lo = lo;
                self.h_rows = hi - lo + 1;
            }
        }
    }

    /// The horizontal pass of window row `sy` for ROI column `col`.
    #[inline(always)]
    fn horizontal_at(&self, col: u32, sy: u32) -> f32 {
        let im = &self.img;
        let x = self.c0 + col - im.paste_x;
        // SAFETY: the column lies inside the S region; slots bound the weights.
        unsafe {
            let xs = *self.spans.add((im.xtab + x) as usize);
            let xw = core::slice::from_raw_parts(
                self.weights.add((im.xweights + x * im.xslots) as usize),
                im.xslots as usize,
            );
            horizontal(
                self.mode == resize_mode::BILINEAR,
                xs,
                xw,
                im.win_w,
                sy,
                |a, b| self.window(a, b),
            )
        }
    }

    /// Foreground of ROI pixel `k` from the horizontal passes of its column
    /// in shared memory (`hpass[(col - col_a) * h_rows + sy - sy_lo]`, filled
    /// by `horizontal_at`): only the vertical pass is left per pixel. Taps
    /// outside the stored rows are evaluated directly, so the result is
    /// `fg_one`'s bit for bit whatever the tables hold.
    #[inline(always)]
    fn fg_from_hpass(&self, k: u32, hpass: *const f32, col_a: u32) -> bool {
        let im = &self.img;
        let (col, row) = (k / self.rows, k % self.rows);
        let y = self.r0 + row - im.paste_y;
        let base = (col - col_a) * self.h_rows;
        // SAFETY: table entries of y exist (ROI inside S); hpass indices are
        // checked against the stored row range.
        unsafe {
            let ys = *self.spans.add((im.ytab + y) as usize);
            let yw = core::slice::from_raw_parts(
                self.weights.add((im.yweights + y * im.yslots) as usize),
                im.yslots as usize,
            );
            let v = vertical(self.mode == resize_mode::BILINEAR, ys, yw, im.win_h, |sy| {
                let r = sy.wrapping_sub(self.sy_lo);
                if r < self.h_rows {
                    *hpass.add((base + r) as usize)
                } else {
                    self.horizontal_at(col, sy)
                }
            });
            v > self.fg_threshold
        }
    }
}

/// What a walk over a chunk found.
struct Walked {
    events: u32,
    chars: u32,
}

/// Walks ROI pixels `[begin, end)` in tiles. Counts events and the characters
/// of every event from the chunk's fourth on; with `out`, also writes those
/// characters there. Leaves the chunk's first three events in `FIRST` and its
/// last three (newest first) in `CARRY`. Block-wide: every thread calls it.
#[inline(always)]
fn walk(cx: &Ctx, sh: *mut u32, begin: u32, end: u32, out: Option<*mut u8>) -> Walked {
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    let mut ev_base = 0u32; // events of earlier tiles of this chunk
    let mut ch_base = 0u32;
    // SAFETY (whole body): shared indices < WORDS (events per tile <= 2*TILE);
    // `out` has room for the chunk's characters; barriers reached by all.
    unsafe {
        if t < 8 {
            *s(CARRY + t as usize) = 0;
        }
        sync();
        let mut tile = begin;
        while tile < end {
            // Foreground of pixels tile-1 ..= min(tile+TILE, end) (the
            // neighbours may lie in other chunks; outside the ROI everything
            // is background), one pixel per thread and step, into shared.
            let fg_sh = sh.cast::<u8>().wrapping_add(FG);
            let last = (tile + TILE).min(end); // last position evaluated
            let span = last + 1 - tile + 1; // positions from tile-1
                                            // The columns those pixels lie in: their horizontal passes go to
                                            // shared memory once (a few columns × the window rows the ROI
                                            // reads), leaving one vertical pass per pixel. Tiles spanning
                                            // too many short columns evaluate every pixel in full.
            let hpass = sh.wrapping_add(HPASS).cast::<f32>();
            let col_a = tile.saturating_sub(1) / cx.rows;
            let ncols = last.min(cx.total - 1) / cx.rows + 1 - col_a;
            let use_hpass = cx.h_rows > 0 && ncols * cx.h_rows <= HPASS_CAP;
            if use_hpass {
                let n = ncols * cx.h_rows;
                let mut i = t;
                while i < n {
                    let (c, r) = (i / cx.h_rows, i % cx.h_rows);
                    *hpass.add(i as usize) = cx.horizontal_at(col_a + c, cx.sy_lo + r);
                    i += nt;
                }
                sync();
            }
            let mut i = t;
            while i < span {
                let k = (tile + i).wrapping_sub(1); // pixel tile-1+i
                let fg = tile + i >= 1
                    && k < cx.total
                    && if use_hpass {
                        cx.fg_from_hpass(k, hpass, col_a)
                    } else {
                        cx.fg_one(k)
                    };
                *fg_sh.add(i as usize) = u8::from(fg);
                i += nt;
            }
            sync();
            // Events of this thread's MASK_ITEMS consecutive pixels.
            let k0 = tile + t * MASK_ITEMS;
            let mut evs = [0u32; 2 * MASK_ITEMS as usize];
            let mut n_ev = 0usize;
            if k0 < end {
                // Whether a neighbour is the canvas neighbour is decided per
                // pixel (a column break can fall inside one thread's items).
                let n = (end - k0).min(MASK_ITEMS);
                let fg = |k: u32| *fg_sh.add((k + 1 - tile) as usize) != 0;
                let (mut x, mut y) = (k0 / cx.rows, k0 % cx.rows);
                for j in 0..n {
                    let k = k0 + j;
                    let cur = fg(k);
                    if cur {
                        let prev_joins =
                            k > 0 && fg(k - 1) && (y != 0 || (cx.full_height && x > 0));
                        let next_joins = fg(k + 1) && (y + 1 != cx.rows || cx.full_height);
                        let flat = (cx.c0 + x) * cx.img.canvas_h + cx.r0 + y;
                        if !prev_joins {
                            evs[n_ev] = flat;
                            n_ev += 1;
                        }
                        if !next_joins {
                            evs[n_ev] = flat + 1;
                            n_ev += 1;
                        }
                    }
                    y += 1;
                    if y == cx.rows {
                        y = 0;
                        x += 1;
                    }
                }
            }
            let (pre, n_tile) = block_exclusive_scan(n_ev as u32, s(SCAN));
            for (j, &e) in evs.iter().take(n_ev).enumerate() {
                *s(EVENTS + pre as usize + j) = e;
            }
            sync();
            let ev = |i: i64| -> u32 {
                if i >= 0 {
                    *s(EVENTS + i as usize)
                } else {
                    *s(CARRY + (-i - 1) as usize)
                }
            };
            if t == 0 && ev_base < 3 {
                for i in 0..n_tile.min(3 - ev_base) {
                    *s(FIRST + (ev_base + i) as usize) = ev(i64::from(i));
                }
            }
            // Event i of the chunk closes count E(i) - E(i-1); its characters
            // encode that minus the count two places back (SPEC §4.2). The
            // chunk's first three events need earlier chunks: skipped here.
            let per = n_tile.div_ceil(nt);
            let lo = (t * per).min(n_tile);
            let hi = (lo + per).min(n_tile);
            let coded = |i: u32| -> Option<i64> {
                if ev_base + i < 3 {
                    return None;
                }
                let i = i64::from(i);
                Some(coded_value(3, ev(i) - ev(i - 1), ev(i - 2) - ev(i - 3)))
            };
            let mut mine = 0u32;
            for i in lo..hi {
                mine += coded(i).map_or(0, char_len);
            }
            let (ch_pre, ch_tile) = block_exclusive_scan(mine, s(SCAN));
            if let Some(out) = out {
                let mut at = (ch_base + ch_pre) as usize;
                for i in lo..hi {
                    if let Some(x) = coded(i) {
                        at += write_chars(x, |j, c| *out.add(at + j as usize) = c) as usize;
                    }
                }
            }
            sync();
            if t == 0 && n_tile > 0 {
                let c = [
                    ev(n_tile as i64 - 1),
                    ev(n_tile as i64 - 2),
                    ev(n_tile as i64 - 3),
                ];
                *s(CARRY) = c[0];
                *s(CARRY + 1) = c[1];
                *s(CARRY + 2) = c[2];
            }
            sync();
            ev_base += n_tile;
            ch_base += ch_tile;
            tile += TILE;
        }
    }
    Walked {
        events: ev_base,
        chars: ch_base,
    }
}

/// Whether slot `q` of image `b` holds a detection.
///
/// # Safety
/// `b < B`; `det_count` per the kernels' contract.
#[inline(always)]
unsafe fn is_detection(det_count: *const u32, q: u32, b: u32) -> bool {
    // SAFETY: per the contract.
    unsafe { q < *det_count.add(b as usize) }
}

/// The detection slot (`b*Q + q`) that item `it` belongs to: the last slot
/// whose `item_start` is `<= it` (starts are non-decreasing in slot order and
/// empty slots repeat the next start). A block-wide search that narrows the
/// range `ntid()`-fold per round: one round for `B*Q <= 256`.
///
/// # Safety
/// `it < items`; `rois` holds the `slots` records planned by `rle_mask_roi`.
/// Block-wide: every thread must call it.
#[inline(always)]
unsafe fn item_slot(rois: *const MaskRoi, slots: u32, it: u32, sh: *mut u32) -> u32 {
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    let (mut lo, mut hi) = (0u32, slots);
    // SAFETY: probes stay in [lo, hi) ⊆ [0, slots); shared slot FOUND.
    unsafe {
        while hi - lo > 1 {
            let step = (hi - lo).div_ceil(nt);
            if t == 0 {
                *s(FOUND) = 0;
            }
            sync();
            let p = lo + t * step;
            if p < hi && (*rois.add(p as usize)).item_start <= it {
                atomic_max(s(FOUND), t);
            }
            sync();
            let k = *s(FOUND);
            sync();
            lo += k * step;
            hi = hi.min(lo + step);
        }
    }
    lo
}

/// Where the reserve step writes: the arena, the detection's offset in it,
/// and whether its string fits.
#[derive(Clone, Copy)]
struct Dest {
    chars: *mut u8,
    off: u32,
    fits: bool,
}

/// Chains `n` chunk states of one detection in rounds of `ntid()` chunks:
/// per chunk, the events before it (a block scan) and the three events just
/// before it (`event_in_run` over the round's chunks, or the previous rounds'
/// carry), hence the coded values of its first three events; then the
/// characters before it (a second scan). Returns (events, string length).
/// With `dest`, also writes the boundary characters and the trailing count
/// and stores each chunk's `out` offset and `skip` flag.
///
/// # Safety
/// `states` holds the detection's `n` chunk states; `dest` has room for the
/// string when it fits. Block-wide: every thread must call it.
#[inline(always)]
unsafe fn chain(
    states: *mut ChunkState,
    n: u32,
    hw: u32,
    sh: *mut u32,
    dest: Option<Dest>,
) -> (u32, u32) {
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    let (mut g_base, mut c_base) = (0u32, 0u32);
    let mut prev = [0u32; 3]; // events g_base-1, -2, -3 (0 before the first)
    let mut r0 = 0u32;
    // SAFETY (whole body): chunk indices < n; shared indices < RESERVE_WORDS
    // (t < 256); `dest` bounds per the contract; barriers reached by all.
    unsafe {
        while r0 < n {
            let c = r0 + t;
            let st = if c < n {
                *states.add(c as usize)
            } else {
                ChunkState::default()
            };
            let (pre, tot) = block_exclusive_scan(st.events, s(SCAN));
            *s(R_PRE + t as usize) = pre;
            *s(R_CNT + t as usize) = st.events;
            for k in 0..3 {
                *s(R_LAST + 3 * t as usize + k) = st.last[k];
            }
            sync();
            let run = (n - r0).min(nt);
            // Event `j` counted from this round's first event (j < 0: earlier).
            let event = |j: i64| -> u32 {
                if j >= 0 {
                    event_in_run(
                        j as u32,
                        run,
                        |c| *s(R_PRE + c as usize),
                        |c| *s(R_CNT + c as usize),
                        |c, k| *s(R_LAST + 3 * c as usize + k as usize),
                    )
                } else {
                    prev[(-j - 1) as usize]
                }
            };
            let mut bv = [0i64; 3];
            let nb = st.events.min(3);
            let mut mine = 0u32;
            if nb > 0 {
                let p = i64::from(pre);
                let before = [event(p - 1), event(p - 2), event(p - 3)];
                bv = boundary_values(g_base + pre, before, st.first, nb);
                for &x in bv.iter().take(nb as usize) {
                    mine += char_len(x);
                }
            }
            let (cpre, ctot) = block_exclusive_scan(mine + st.chars, s(SCAN));
            if let Some(d) = dest {
                if c < n {
                    let at = d.off + c_base + cpre;
                    if d.fits {
                        let mut w = at as usize;
                        for &x in bv.iter().take(nb as usize) {
                            w += write_chars(x, |j, ch| *d.chars.add(w + j as usize) = ch) as usize;
                        }
                    }
                    let sp = states.add(c as usize);
                    (*sp).out = if d.fits { at + mine } else { 0 };
                    (*sp).skip = u32::from(!d.fits);
                }
            }
            let tot64 = i64::from(tot);
            prev = [event(tot64 - 1), event(tot64 - 2), event(tot64 - 3)];
            g_base += tot;
            c_base += ctot;
            sync();
            r0 += nt;
        }
        let mut len = c_base;
        if g_base == 0 || prev[0] < hw {
            let x = coded_value(
                u64::from(g_base),
                hw - prev[0],
                prev[1].wrapping_sub(prev[2]),
            );
            if let Some(d) = dest {
                if d.fits && t == 0 {
                    let at = (d.off + c_base) as usize;
                    write_chars(x, |j, ch| *d.chars.add(at + j as usize) = ch);
                }
            }
            len += char_len(x);
        }
        (g_base, len)
    }
}

/// The reserve step of one detection (block-wide): chain its chunks, reserve
/// the string's arena space, complete its record and write the boundary
/// characters; mark its chunks skipped when the string does not fit.
///
/// # Safety
/// `states` holds the detection's `roi.chunks` chunk states, all counted;
/// the other pointers follow the kernels' contract. Block-wide.
#[inline(always)]
unsafe fn reserve_detection(
    frame: &FrameParams,
    img: &ImageParams,
    det: *mut DetRecord,
    roi: &MaskRoi,
    states: *mut ChunkState,
    chars: *mut u8,
    counters: *mut FrameCounters,
    sh: *mut u32,
) {
    let s = |i: usize| sh.wrapping_add(i);
    let hw = img.canvas_h * img.canvas_w;
    // SAFETY (whole body): per the contract; shared slots < RESERVE_WORDS.
    unsafe {
        let (events, len) = chain(states, roi.chunks, hw, sh, None);
        if tid() == 0 {
            let off = atomic_add_u64(&raw mut (*counters).chars_used, u64::from(len));
            let fits = off + u64::from(len) <= u64::from(frame.chars_capacity);
            (*det).chars_len = len;
            (*det).runs = events / 2;
            (*det).chars_offset = if fits { off as u32 } else { u32::MAX };
            if !fits {
                atomic_add(&raw mut (*counters).overflowed, 1);
            }
            *s(R_OFF) = if fits { off as u32 } else { 0 };
            *s(R_FITS) = u32::from(fits);
        }
        sync();
        let dest = Dest {
            chars,
            off: *s(R_OFF),
            fits: *s(R_FITS) != 0,
        };
        sync();
        chain(states, roi.chunks, hw, sh, Some(dest));
    }
}

/// Everything an item needs, found from its index.
struct Item {
    slot: u32,
    b: u32,
    roi: MaskRoi,
    chunk: u32,
}

/// Looks item `it` up (block-wide).
///
/// # Safety
/// `it < items`; pointers per the kernels' contract.
#[inline(always)]
unsafe fn item(frame: &FrameParams, rois: *const MaskRoi, it: u32, sh: *mut u32) -> Item {
    // SAFETY: per the contract.
    unsafe {
        let slot = item_slot(rois, frame.batch * frame.queries, it, sh);
        let roi = *rois.add(slot as usize);
        Item {
            slot,
            b: slot / frame.queries,
            chunk: it - roi.item_start,
            roi,
        }
    }
}

/// Finds the ROI of detection slot `(blockIdx.x, blockIdx.y)`; the last block
/// of the grid to finish plans the frame's items.
///
/// # Safety
/// Pointers valid for `frame`'s sizes: `dets` `B*Q`, `det_count` `B`, `masks`
/// `B*Q*Mh*Mw` elements of `mask_dtype`, tables covering every image's table
/// ranges, `rois` `B*Q`; `counters` zeroed by `rle_select` of this frame;
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
        let px = chunk_pixels(*sh.add(SUM).cast::<u64>(), frame.min_chunk_pixels);
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
            base += tot;
            r0 += nt;
        }
        if t == 0 {
            (*counters).items = base;
            (*counters).chunk_pixels = px.min(u64::from(u32::MAX)) as u32;
        }
    }
}

/// Pass 1 over items: events, characters and boundary events of each chunk.
///
/// # Safety
/// As for [`rle_mask_roi`], which ran before on the same stream; `chunks`
/// holds `counters.items` states (at most `MASK_ITEM_BUDGET + B*Q`). Any grid
/// `(G, 1, 1)`, `MASK_THREADS` threads.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_mask_count(
    frame: FrameParams,
    images: *const ImageParams,
    dets: *const DetRecord,
    masks: *const u8,
    spans: *const TapSpan,
    weights: *const f32,
    rois: *const MaskRoi,
    chunks: *mut ChunkState,
    counters: *const FrameCounters,
) {
    let sh = shared_bytes!("rle_mask_count_smem", 26896).cast::<u32>();
    let s = |i: usize| sh.wrapping_add(i);
    // SAFETY (whole body): see the contract; the loop and branches are
    // block-uniform.
    unsafe {
        let items = (*counters).items;
        let mut it = bid_x();
        while it < items {
            let item = item(&frame, rois, it, sh);
            let det = dets.add(item.slot as usize);
            let mut cx = Ctx::new(&frame, images, det, item.b, masks, spans, weights);
            cx.set_roi(&item.roi);
            let (begin, end) = chunk_range(item.roi.total, item.roi.chunks, item.chunk);
            let w = walk(&cx, sh, begin, end, None);
            if tid() == 0 {
                *chunks.add(it as usize) = ChunkState {
                    begin,
                    end,
                    events: w.events,
                    chars: w.chars,
                    first: [*s(FIRST), *s(FIRST + 1), *s(FIRST + 2)],
                    last: [*s(CARRY), *s(CARRY + 1), *s(CARRY + 2)],
                    out: 0,
                    skip: 0,
                };
            }
            sync();
            it += nbid_x();
        }
    }
}

/// The reserve step, one block per detection slot: chain the detection's
/// chunks, reserve its string and write the boundary characters. Run again
/// after the host grew the arena (the chunk states stay valid).
///
/// # Safety
/// As for [`rle_mask_count`], which ran before on the same stream; on a
/// rerun, `chars_used` and `overflowed` were cleared since. Grid `(Q, B)`,
/// `MASK_THREADS` threads.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_mask_reserve(
    frame: FrameParams,
    images: *const ImageParams,
    dets: *mut DetRecord,
    det_count: *const u32,
    rois: *const MaskRoi,
    chunks: *mut ChunkState,
    chars: *mut u8,
    counters: *mut FrameCounters,
) {
    let sh = shared_bytes!("rle_mask_reserve_smem", 5376).cast::<u32>();
    let (q, b) = (bid_x(), bid_y());
    // SAFETY (whole body): see the contract; the early return is uniform.
    unsafe {
        if !is_detection(det_count, q, b) {
            return;
        }
        let slot = b * frame.queries + q;
        let roi = *rois.add(slot as usize);
        reserve_detection(
            &frame,
            &*images.add(b as usize),
            dets.add(slot as usize),
            &roi,
            chunks.add(roi.item_start as usize),
            chars,
            counters,
            sh,
        );
    }
}

/// Pass 2 over items: evaluate each chunk again and write its characters.
///
/// # Safety
/// As for [`rle_mask_reserve`], which ran before on the same stream. Any
/// grid `(G, 1, 1)`, `MASK_THREADS` threads.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_mask_write(
    frame: FrameParams,
    images: *const ImageParams,
    dets: *const DetRecord,
    masks: *const u8,
    spans: *const TapSpan,
    weights: *const f32,
    rois: *const MaskRoi,
    chunks: *const ChunkState,
    chars: *mut u8,
    counters: *const FrameCounters,
) {
    let sh = shared_bytes!("rle_mask_write_smem", 26896).cast::<u32>();
    // SAFETY (whole body): see the contract; the loop and skips are uniform.
    unsafe {
        let items = (*counters).items;
        let mut it = bid_x();
        while it < items {
            let st = *chunks.add(it as usize);
            if st.skip == 0 && st.events > 3 {
                let item = item(&frame, rois, it, sh);
                let det = dets.add(item.slot as usize);
                let mut cx = Ctx::new(&frame, images, det, item.b, masks, spans, weights);
                cx.set_roi(&item.roi);
                walk(&cx, sh, st.begin, st.end, Some(chars.add(st.out as usize)));
                sync();
            }
            it += nbid_x();
        }
    }
}
