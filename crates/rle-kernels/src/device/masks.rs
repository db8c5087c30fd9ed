//! `rle_masks`: one block per detection slot (grid `Q × B`; slots beyond the
//! image's detection count exit at once). For its detection the block
//!
//! 1. finds the bounding box of the source logits `> 0` inside the padded /
//!    cropped mask window: a resized pixel can only be foreground if its span
//!    holds such a source pixel (all weights ≥ 0; SPEC §7), so
//! 2. maps it through the resize tables to an output ROI, the only region that
//!    is evaluated (the rest of the canvas is background);
//! 3. walks the ROI in canvas column-major order in tiles, evaluates each pixel
//!    exactly as the reference does, and turns foreground changes into run
//!    boundaries ("events"); boundaries between ROI columns that touch across
//!    the canvas' column break (ROI spanning the full height) merge naturally
//!    because pixel order is canvas order;
//! 4. converts events to counts, counts to pycocotools characters (each needs
//!    the count two places back), and writes them: pass 0 only measures the
//!    string, reserves arena space with one atomic, pass 1 writes it.
//!
//! Count → scan → write: no cap on runs, ROI or canvas size. The arena can be
//! too small; then the block records the overflow and writes nothing, and the
//! host grows the arena and runs this kernel again.

use super::{
    atomic_add, atomic_add_u64, atomic_max, atomic_min, bid_x, bid_y, block_exclusive_scan, ntid,
    shared_bytes, sync, tid,
};
use crate::abi::{
    dtype, resize_mode, DetRecord, FrameCounters, FrameParams, ImageParams, TapSpan, MASK_ITEMS,
    MASK_THREADS,
};
use crate::coco::{char_len, coded_value, write_chars};
use crate::fp::{bf16_bits_to_f32, f16_bits_to_f32};
use crate::tables::{eval_aa, eval_bilinear, foreground_threshold, tap_index};

const SCAN: usize = 0; // 32 u32
const MISC: usize = 32; // 16 u32
const CARRY: usize = 48; // 4 u32: the last three events, newest first
const EVENTS: usize = 64; // 2 events per pixel of a tile
const TILE: u32 = MASK_THREADS * MASK_ITEMS;
const WORDS: usize = EVENTS + 2 * TILE as usize;
const _: () = assert!(WORDS * 4 <= 16_640);

// MISC slots.
const BB_YMIN: usize = MISC;
const BB_YEND: usize = MISC + 1;
const BB_XMIN: usize = MISC + 2;
const BB_XEND: usize = MISC + 3;
const ROI_I0: usize = MISC + 4;
const ROI_I1: usize = MISC + 5;
const ROI_J0: usize = MISC + 6;
const ROI_J1: usize = MISC + 7;
const SKIP: usize = MISC + 8;
const OFFSET: usize = MISC + 9;

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

    /// Whether ROI pixel `k` (ROI column-major index) is foreground.
    #[inline(always)]
    fn fg(&self, k: u32) -> bool {
        let y = self.r0 + k % self.rows - self.img.paste_y;
        let x = self.c0 + k / self.rows - self.img.paste_x;
        let im = &self.img;
        // SAFETY: y < Hs and x < Ws (the ROI lies inside the pasted S region),
        // so the table entries exist; slots bound each entry's weights.
        let v = unsafe {
            let ys = *self.spans.add((im.ytab + y) as usize);
            let xs = *self.spans.add((im.xtab + x) as usize);
            let yw = core::slice::from_raw_parts(
                self.weights.add((im.yweights + y * im.yslots) as usize),
                im.yslots as usize,
            );
            let xw = core::slice::from_raw_parts(
                self.weights.add((im.xweights + x * im.xslots) as usize),
                im.xslots as usize,
            );
            if self.mode == resize_mode::BILINEAR {
                eval_bilinear(ys, yw, xs, xw, im.win_h, im.win_w, |a, b| self.window(a, b))
            } else {
                eval_aa(ys, yw, xs, xw, |a, b| self.window(a, b))
            }
        };
        v > self.fg_threshold
    }

    /// Canvas flat (column-major) index of ROI pixel `k`.
    #[inline(always)]
    fn flat(&self, k: u32) -> u32 {
        (self.c0 + k / self.rows) * self.img.canvas_h + self.r0 + k % self.rows
    }

    /// Whether the canvas predecessor of ROI pixel `k` is inside the ROI (it is
    /// `k - 1` then); outside the ROI every pixel is background.
    #[inline(always)]
    fn pred_in_roi(&self, k: u32) -> bool {
        k % self.rows != 0 || (self.full_height && k >= self.rows)
    }

    #[inline(always)]
    fn succ_in_roi(&self, k: u32) -> bool {
        k + 1 < self.total && (k % self.rows != self.rows - 1 || self.full_height)
    }
}

/// Runs the tiles once: counts (pass 0) or writes (pass 1) the characters.
/// Returns `(events, characters)`; every thread gets the same values.
#[inline(always)]
fn walk(cx: &Ctx, sh: *mut u32, write: bool, out: *mut u8) -> (u32, u32) {
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    let hw = cx.img.canvas_h * cx.img.canvas_w;
    let mut ev_base = 0u32;
    let mut ch_base = 0u32;
    // SAFETY (whole body): shared indices < WORDS (events per tile <= 2*TILE);
    // `out` has the reserved length when `write`; barriers reached by all.
    unsafe {
        if t < 4 {
            *s(CARRY + t as usize) = 0;
        }
        sync();
        let mut tile = 0u32;
        while tile < cx.total {
            // Events of this thread's MASK_ITEMS consecutive pixels.
            let k0 = tile + t * MASK_ITEMS;
            let mut evs = [0u32; 2 * MASK_ITEMS as usize];
            let mut n_ev = 0usize;
            if k0 < cx.total {
                // Raw foreground of the ROI pixels k-1, k, k+1; whether a
                // neighbour is the canvas neighbour is decided per pixel
                // (a column break can fall inside one thread's items).
                let mut prev = k0 > 0 && cx.fg(k0 - 1);
                let mut cur = cx.fg(k0);
                for j in 0..MASK_ITEMS {
                    let k = k0 + j;
                    if k >= cx.total {
                        break;
                    }
                    let next = k + 1 < cx.total && cx.fg(k + 1);
                    if cur && !(prev && cx.pred_in_roi(k)) {
                        evs[n_ev] = cx.flat(k);
                        n_ev += 1;
                    }
                    if cur && !(next && cx.succ_in_roi(k)) {
                        evs[n_ev] = cx.flat(k) + 1;
                        n_ev += 1;
                    }
                    prev = cur;
                    cur = next;
                }
            }
            let (pre, n_tile) = block_exclusive_scan(n_ev as u32, s(SCAN));
            for (j, &e) in evs.iter().take(n_ev).enumerate() {
                *s(EVENTS + pre as usize + j) = e;
            }
            sync();
            // Event g (global) closes count g = E(g) - E(g-1); its characters
            // encode that count minus count g-2 (SPEC §4.2).
            let ev = |i: i64| -> u32 {
                if i >= 0 {
                    *s(EVENTS + i as usize)
                } else {
                    *s(CARRY + (-i - 1) as usize)
                }
            };
            let per = n_tile.div_ceil(nt);
            let lo = (t * per).min(n_tile);
            let hi = (lo + per).min(n_tile);
            let coded = |i: u32| -> i64 {
                let i = i64::from(i);
                let g = u64::from(ev_base) + i as u64;
                let count = ev(i) - ev(i - 1);
                let back = if g > 2 { ev(i - 2) - ev(i - 3) } else { 0 };
                coded_value(g, count, back)
            };
            let mut mine = 0u32;
            for i in lo..hi {
                mine += char_len(coded(i));
            }
            let (ch_pre, ch_tile) = block_exclusive_scan(mine, s(SCAN));
            if write {
                let mut at = (ch_base + ch_pre) as usize;
                for i in lo..hi {
                    at += write_chars(coded(i), |j, c| *out.add(at + j as usize) = c) as usize;
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
        // The trailing background count, if the last run ends before the end
        // of the canvas (or the whole mask when there is no run at all).
        let last = *s(CARRY);
        if ev_base == 0 || last < hw {
            let count = hw - last;
            let back = *s(CARRY + 1) - *s(CARRY + 2);
            let x = coded_value(u64::from(ev_base), count, back);
            if write && t == 0 {
                let at = ch_base as usize;
                write_chars(x, |j, c| *out.add(at + j as usize) = c);
            }
            ch_base += char_len(x);
        }
        sync();
    }
    (ev_base, ch_base)
}

/// Evaluates and encodes the mask of detection slot `blockIdx.x` of image
/// `blockIdx.y`.
///
/// # Safety
/// Pointers valid for `frame`'s sizes: `dets` `B*Q`, `det_count` `B`, `masks`
/// `B*Q*Mh*Mw` elements of `mask_dtype`, tables covering every image's
/// `ytab/xtab` ranges, `chars` `chars_capacity` bytes; image parameters
/// validated by the host (window, S inside the canvas, `H*W < 2^32`).
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_masks(
    frame: FrameParams,
    images: *const ImageParams,
    dets: *mut DetRecord,
    det_count: *const u32,
    masks: *const u8,
    spans: *const TapSpan,
    weights: *const f32,
    chars: *mut u8,
    counters: *mut FrameCounters,
) {
    let sh = shared_bytes!("rle_masks_smem", 16640).cast::<u32>();
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    let (slot, b) = (bid_x(), bid_y());
    // SAFETY (whole body): see the contract; the early return is uniform
    // across the block, so no barrier is skipped by part of it.
    unsafe {
        if slot >= *det_count.add(b as usize) {
            return;
        }
        let det = dets.add((b * frame.queries + slot) as usize);
        let img = *images.add(b as usize);
        let elem = if frame.mask_dtype == dtype::F32 { 4 } else { 2 };
        let plane = (frame.mask_h * frame.mask_w) as usize;
        let src = masks.add(((b * frame.queries + (*det).query) as usize) * plane * elem);
        let mut cx = Ctx {
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
        };

        // 1. Bounding box of positive source logits inside the window.
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
        let y_lo = (-img.win_top).max(0) as u32;
        let y_hi = (frame.mask_h as i32 - img.win_top).clamp(0, img.win_h as i32) as u32;
        let x_lo = (-img.win_left).max(0) as u32;
        let x_hi = (frame.mask_w as i32 - img.win_left).clamp(0, img.win_w as i32) as u32;
        if y_hi > y_lo && x_hi > x_lo {
            let w = x_hi - x_lo;
            let n = (y_hi - y_lo) * w;
            let mut i = t;
            while i < n {
                let (y, x) = (y_lo + i / w, x_lo + i % w);
                if cx.window(y, x) > 0.0 {
                    atomic_min(s(BB_YMIN), y);
                    atomic_max(s(BB_YEND), y + 1);
                    atomic_min(s(BB_XMIN), x);
                    atomic_max(s(BB_XEND), x + 1);
                }
                i += nt;
            }
        }
        sync();

        // 2. Output rows/columns whose spans reach into that box.
        let (ymin, yend, xmin, xend) = (*s(BB_YMIN), *s(BB_YEND), *s(BB_XMIN), *s(BB_XEND));
        if yend > 0 {
            let mut i = t;
            while i < img.out_h {
                let sp = *spans.add((img.ytab + i) as usize);
                if sp.first < yend && tap_index(sp, sp.count - 1, img.win_h) >= ymin {
                    atomic_min(s(ROI_I0), i);
                    atomic_max(s(ROI_I1), i + 1);
                }
                i += nt;
            }
            let mut j = t;
            while j < img.out_w {
                let sp = *spans.add((img.xtab + j) as usize);
                if sp.first < xend && tap_index(sp, sp.count - 1, img.win_w) >= xmin {
                    atomic_min(s(ROI_J0), j);
                    atomic_max(s(ROI_J1), j + 1);
                }
                j += nt;
            }
        }
        sync();
        let (i0, i1, j0, j1) = (*s(ROI_I0), *s(ROI_I1), *s(ROI_J0), *s(ROI_J1));
        if i1 > i0 && j1 > j0 {
            cx.r0 = img.paste_y + i0;
            cx.c0 = img.paste_x + j0;
            cx.rows = i1 - i0;
            cx.total = cx.rows * (j1 - j0);
            cx.full_height = cx.r0 == 0 && cx.rows == img.canvas_h;
        }

        // 3–4. Measure, reserve, write.
        let (events, len) = walk(&cx, sh, false, core::ptr::null_mut());
        if t == 0 {
            let off = atomic_add_u64(&raw mut (*counters).chars_used, u64::from(len));
            let fits = off + u64::from(len) <= u64::from(frame.chars_capacity);
            if fits {
                (*det).chars_offset = off as u32;
            } else {
                (*det).chars_offset = u32::MAX;
                atomic_add(&raw mut (*counters).overflowed, 1);
            }
            (*det).chars_len = len;
            (*det).runs = events / 2;
            *s(SKIP) = u32::from(!fits);
            *s(OFFSET) = if fits { off as u32 } else { 0 };
        }
        sync();
        if *s(SKIP) == 0 {
            walk(&cx, sh, true, chars.add(*s(OFFSET) as usize));
        }
    }
}
