//! The mask stage, three kernels over detection slots (grid `(chunks, Q, B)`
//! or `(Q, B)`; slots beyond an image's detection count exit at once):
//!
//! - `rle_mask_count`: every chunk block finds its detection's ROI (the
//!   bounding box of source logits `> 0` inside the padded/cropped window,
//!   mapped through the resize tables: a pixel can only be foreground if its
//!   span holds such a logit, all weights being ≥ 0; SPEC §7), takes its share
//!   of the ROI's columns, evaluates those pixels exactly as the reference does
//!   and counts run boundaries ("events") and the COCO characters of every
//!   event from its fourth on (those only need events of the same chunk).
//! - `rle_mask_reserve`: one thread per detection chains the chunks in order,
//!   encodes the first three events of each chunk (they need the previous
//!   chunk's last events) and the trailing count, reserves the string's arena
//!   space with one atomic, and writes those characters.
//! - `rle_mask_write`: every chunk block evaluates its pixels again and writes
//!   its remaining characters at the reserved offset.
//!
//! Pixels are walked in canvas column-major order, so runs that continue from
//! the bottom of one column into the top of the next merge by construction.
//! Count → reserve → write: no cap on runs, ROI or canvas size. When the arena
//! is too small the detection is marked and nothing is written; the host grows
//! the arena and runs reserve and write again.

use super::{
    atomic_add, atomic_add_u64, atomic_max, atomic_min, bid_x, bid_y, block_exclusive_scan, ntid,
    shared_bytes, sync, tid, warp_max, warp_min,
};
use crate::abi::{
    dtype, resize_mode, ChunkState, DetRecord, FrameCounters, FrameParams, ImageParams, TapSpan,
    MASK_CHUNKS, MASK_ITEMS, MASK_THREADS,
};
use crate::coco::{char_len, coded_value, write_chars};
use crate::fp::{bf16_bits_to_f32, f16_bits_to_f32};
use crate::tables::{foreground_threshold, horizontal, tap_index, vertical};

const SCAN: usize = 0; // 32 u32
const MISC: usize = 32; // 16 u32
const CARRY: usize = 48; // 4 u32: the last three events, newest first
const FIRST: usize = 52; // 4 u32: the chunk's first three events
const EVENTS: usize = 64; // 2 events per pixel of a tile
const TILE: u32 = MASK_THREADS * MASK_ITEMS;
const WORDS: usize = EVENTS + 2 * TILE as usize;
const SMEM_BYTES: usize = 16_640;
const _: () = assert!(WORDS * 4 <= SMEM_BYTES);

// MISC slots.
const BB_YMIN: usize = MISC;
const BB_YEND: usize = MISC + 1;
const BB_XMIN: usize = MISC + 2;
const BB_XEND: usize = MISC + 3;
const ROI_I0: usize = MISC + 4;
const ROI_I1: usize = MISC + 5;
const ROI_J0: usize = MISC + 6;
const ROI_J1: usize = MISC + 7;

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

    /// Foreground of the `n ≤ 32` ROI pixels from `k_first` (ROI column-major
    /// index) as a bit mask (bit `i` = pixel `k_first + i`; pixels past the ROI
    /// read as background). Walks (column, row) incrementally and shares each
    /// horizontal pass between the rows whose spans use it: the arithmetic and
    /// its order are exactly `tables::eval_*`'s (host-tested).
    #[inline(always)]
    fn fg_bits(&self, k_first: u32, n: u32) -> u32 {
        let im = &self.img;
        let bilinear = self.mode == resize_mode::BILINEAR;
        let (mut col, mut row) = (k_first / self.rows, k_first % self.rows);
        let mut bits = 0u32;
        let mut xs = TapSpan::default();
        let mut xw: &[f32] = &[];
        let mut cache = [(u32::MAX, 0f32); 2]; // (window row, horizontal value)
        let mut new_column = true;
        for i in 0..n {
            if k_first + i >= self.total {
                break;
            }
            // SAFETY: the ROI lies inside the pasted S region, so the table
            // entries of (y, x) exist; slots bound each entry's weights.
            unsafe {
                if new_column {
                    let x = self.c0 + col - im.paste_x;
                    xs = *self.spans.add((im.xtab + x) as usize);
                    xw = core::slice::from_raw_parts(
                        self.weights.add((im.xweights + x * im.xslots) as usize),
                        im.xslots as usize,
                    );
                    cache = [(u32::MAX, 0f32); 2];
                    new_column = false;
                }
                let y = self.r0 + row - im.paste_y;
                let ys = *self.spans.add((im.ytab + y) as usize);
                let yw = core::slice::from_raw_parts(
                    self.weights.add((im.yweights + y * im.yslots) as usize),
                    im.yslots as usize,
                );
                let v = vertical(bilinear, ys, yw, im.win_h, |sy| {
                    if cache[0].0 == sy {
                        cache[0].1
                    } else if cache[1].0 == sy {
                        cache[1].1
                    } else {
                        let h =
                            horizontal(bilinear, xs, xw, im.win_w, sy, |a, b| self.window(a, b));
                        cache[1] = cache[0];
                        cache[0] = (sy, h);
                        h
                    }
                });
                if v > self.fg_threshold {
                    bits |= 1 << i;
                }
            }
            row += 1;
            if row == self.rows {
                row = 0;
                col += 1;
                new_column = true;
            }
        }
        bits
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
                let mut i = t;
                while i < n {
                    let (y, x) = (y_lo + i / w, x_lo + i % w);
                    if self.window(y, x) > 0.0 {
                        by0 = by0.min(y);
                        by1 = by1.max(y + 1);
                        bx0 = bx0.min(x);
                        bx1 = bx1.max(x + 1);
                    }
                    i += nt;
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

    /// This chunk's ROI pixels `[begin, end)`: an even share of the columns.
    #[inline(always)]
    fn chunk(&self, chunk: u32) -> (u32, u32) {
        let cols = self.total / self.rows;
        let a = (chunk as u64 * cols as u64 / MASK_CHUNKS as u64) as u32;
        let z = ((chunk as u64 + 1) * cols as u64 / MASK_CHUNKS as u64) as u32;
        (a * self.rows, z * self.rows)
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
            // Events of this thread's MASK_ITEMS consecutive pixels.
            let k0 = tile + t * MASK_ITEMS;
            let mut evs = [0u32; 2 * MASK_ITEMS as usize];
            let mut n_ev = 0usize;
            if k0 < end {
                // Foreground of k0-1 ..= k0+n (neighbours may lie in other
                // chunks); whether a neighbour is the canvas neighbour is
                // decided per pixel (a column break can fall inside one
                // thread's items; outside the ROI everything is background).
                let n = (end - k0).min(MASK_ITEMS);
                let first = k0.saturating_sub(1);
                let bits = cx.fg_bits(first, n + 1 + (k0 - first));
                let fg = |k: u32| (bits >> (k - first)) & 1 != 0;
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

/// The detection record of slot `(blockIdx.y, blockIdx.z)` or `None` if the
/// slot is past the image's detection count (uniform across the block).
///
/// # Safety
/// Pointers per the kernels' contract.
#[inline(always)]
unsafe fn slot(
    frame: &FrameParams,
    dets: *mut DetRecord,
    det_count: *const u32,
    slot: u32,
    b: u32,
) -> Option<*mut DetRecord> {
    // SAFETY: b < B, slot < Q.
    unsafe {
        (slot < *det_count.add(b as usize)).then(|| dets.add((b * frame.queries + slot) as usize))
    }
}

/// Pass 1: ROI, and per chunk the events, characters and boundary events.
///
/// # Safety
/// Pointers valid for `frame`'s sizes: `dets` `B*Q`, `det_count` `B`, `masks`
/// `B*Q*Mh*Mw` elements of `mask_dtype`, tables covering every image's table
/// ranges, `chunks` `B*Q*MASK_CHUNKS`; image parameters validated by the host
/// (window, `S` inside the canvas, `H*W < 2^32`). Grid `(MASK_CHUNKS, Q, B)`.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_mask_count(
    frame: FrameParams,
    images: *const ImageParams,
    dets: *mut DetRecord,
    det_count: *const u32,
    masks: *const u8,
    spans: *const TapSpan,
    weights: *const f32,
    chunks: *mut ChunkState,
) {
    let sh = shared_bytes!("rle_mask_count_smem", 16640).cast::<u32>();
    let (chunk, q, b) = (bid_x(), bid_y(), super::bid_z());
    // SAFETY (whole body): see the contract; the early return is uniform.
    unsafe {
        let Some(det) = slot(&frame, dets, det_count, q, b) else {
            return;
        };
        let mut cx = Ctx::new(&frame, images, det, b, masks, spans, weights);
        cx.find_roi(sh);
        let (begin, end) = cx.chunk(chunk);
        let w = walk(&cx, sh, begin, end, None);
        if tid() == 0 {
            let s = |i: usize| *sh.add(i);
            *chunks.add(((b * frame.queries + q) * MASK_CHUNKS + chunk) as usize) = ChunkState {
                r0: cx.r0,
                c0: cx.c0,
                rows: cx.rows,
                total: cx.total,
                full_height: u32::from(cx.full_height),
                begin,
                end,
                events: w.events,
                chars: w.chars,
                first: [s(FIRST), s(FIRST + 1), s(FIRST + 2)],
                last: [s(CARRY), s(CARRY + 1), s(CARRY + 2)],
                out: 0,
                skip: 0,
                _pad: [0; 3],
            };
        }
    }
}

/// Pass 2: chain the chunks of one detection, reserve, write the characters
/// of every chunk's first three events and of the trailing count.
///
/// # Safety
/// As for [`rle_mask_count`], which ran before on the same stream; `chars`
/// holds `chars_capacity` bytes. Grid `(Q, B)`, one warp (`MASK_CHUNKS` = 32).
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_mask_reserve(
    frame: FrameParams,
    images: *const ImageParams,
    dets: *mut DetRecord,
    det_count: *const u32,
    chunks: *mut ChunkState,
    chars: *mut u8,
    counters: *mut FrameCounters,
) {
    let sh = shared_bytes!("rle_mask_reserve_smem", 2560).cast::<ChunkState>();
    let (q, b) = (bid_x(), bid_y());
    let t = tid();
    // SAFETY (whole body): see the contract; the early return is uniform;
    // `sh` holds MASK_CHUNKS (= 32 = the block's one warp) chunk states.
    unsafe {
        let Some(det) = slot(&frame, dets, det_count, q, b) else {
            return;
        };
        let global = chunks.add(((b * frame.queries + q) * MASK_CHUNKS) as usize);
        // One lane per chunk loads its state, so the chain below runs on
        // shared memory instead of 32 dependent global loads.
        if t < MASK_CHUNKS {
            *sh.add(t as usize) = *global.add(t as usize);
        }
        sync();
        if t == 0 {
            reserve_one(&frame, &*images.add(b as usize), det, sh, chars, counters);
        }
        sync();
        if t < MASK_CHUNKS {
            (*global.add(t as usize)).out = (*sh.add(t as usize)).out;
            (*global.add(t as usize)).skip = (*sh.add(t as usize)).skip;
        }
    }
}

/// The serial part of [`rle_mask_reserve`] for one detection, on its chunk
/// states in shared memory.
///
/// # Safety
/// `base` points at `MASK_CHUNKS` chunk states; the other pointers follow the
/// kernel's contract.
#[inline(always)]
unsafe fn reserve_one(
    frame: &FrameParams,
    img: &ImageParams,
    det: *mut DetRecord,
    base: *mut ChunkState,
    chars: *mut u8,
    counters: *mut FrameCounters,
) {
    let hw = img.canvas_h * img.canvas_w;
    // SAFETY (whole body): per the contract.
    unsafe {
        // Replays the chain; with `out`, writes the boundary characters.
        let chain = |out: Option<*mut u8>| -> (u32, u32) {
            let mut e = [0u32; 3]; // E(g-1), E(g-2), E(g-3)
            let mut g = 0u32;
            let mut n = 0u32;
            let emit = |x: i64, n: &mut u32| {
                if let Some(o) = out {
                    let at = *n as usize;
                    write_chars(x, |j, c| *o.add(at + j as usize) = c);
                }
                *n += char_len(x);
            };
            for c in 0..MASK_CHUNKS as usize {
                let st = &mut *base.add(c);
                for i in 0..st.events.min(3) as usize {
                    let ev = st.first[i];
                    emit(coded_value(u64::from(g), ev - e[0], e[1] - e[2]), &mut n);
                    e = [ev, e[0], e[1]];
                    g += 1;
                }
                st.out = n;
                n += st.chars;
                if st.events > 3 {
                    e = st.last;
                    g += st.events - 3;
                }
            }
            if g == 0 || e[0] < hw {
                emit(coded_value(u64::from(g), hw - e[0], e[1] - e[2]), &mut n);
            }
            (g, n)
        };
        let (events, len) = chain(None);
        let off = atomic_add_u64(&raw mut (*counters).chars_used, u64::from(len));
        let fits = off + u64::from(len) <= u64::from(frame.chars_capacity);
        (*det).chars_len = len;
        (*det).runs = events / 2;
        if fits {
            (*det).chars_offset = off as u32;
            chain(Some(chars.add(off as usize)));
        } else {
            (*det).chars_offset = u32::MAX;
            atomic_add(&raw mut (*counters).overflowed, 1);
        }
        for c in 0..MASK_CHUNKS as usize {
            let st = &mut *base.add(c);
            st.out += off as u32;
            st.skip = u32::from(!fits);
        }
    }
}

/// Pass 3: evaluate each chunk again and write its characters.
///
/// # Safety
/// As for [`rle_mask_reserve`], which ran before on the same stream.
/// Grid `(MASK_CHUNKS, Q, B)`.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_mask_write(
    frame: FrameParams,
    images: *const ImageParams,
    dets: *mut DetRecord,
    det_count: *const u32,
    masks: *const u8,
    spans: *const TapSpan,
    weights: *const f32,
    chunks: *const ChunkState,
    chars: *mut u8,
) {
    let sh = shared_bytes!("rle_mask_write_smem", 16640).cast::<u32>();
    let (chunk, q, b) = (bid_x(), bid_y(), super::bid_z());
    // SAFETY (whole body): see the contract; early returns are uniform.
    unsafe {
        let Some(det) = slot(&frame, dets, det_count, q, b) else {
            return;
        };
        let st = *chunks.add(((b * frame.queries + q) * MASK_CHUNKS + chunk) as usize);
        if st.skip != 0 || st.events <= 3 {
            return;
        }
        let mut cx = Ctx::new(&frame, images, det, b, masks, spans, weights);
        cx.r0 = st.r0;
        cx.c0 = st.c0;
        cx.rows = st.rows;
        cx.total = st.total;
        cx.full_height = st.full_height != 0;
        walk(&cx, sh, st.begin, st.end, Some(chars.add(st.out as usize)));
    }
}
