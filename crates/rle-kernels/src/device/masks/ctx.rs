//! `Ctx`: everything a block needs to evaluate canvas pixels of one
//! detection (its window of source logits, resize tables and ROI), and the
//! per-pixel evaluation, bit for bit the reference's (`tables::eval_*`).

use super::items::Item;
use super::*;

/// Everything one block needs to evaluate canvas pixels of its detection.
pub(super) struct Ctx {
    pub(super) img: ImageParams,
    pub(super) src: *const u8,
    pub(super) dtype: u32,
    pub(super) mode: u32,
    pub(super) mask_h: i32,
    pub(super) mask_w: i32,
    pub(super) spans: *const TapSpan,
    pub(super) weights: *const f32,
    pub(super) fg_threshold: f32,
    // ROI in canvas coordinates.
    pub(super) r0: u32,
    pub(super) c0: u32,
    pub(super) rows: u32,
    pub(super) total: u32,
    pub(super) full_height: bool,
    // Window rows the ROI's output rows read: [sy_lo, sy_lo + h_rows).
    pub(super) sy_lo: u32,
    pub(super) h_rows: u32,
    /// The image's uniform-group bound (`ImageParams::fg_bound`).
    pub(super) bound: f32,
}

impl Ctx {
    /// Window pixel `(y, x)`: the source logit, or 0.0 in the zero padding.
    #[inline(always)]
    pub(super) fn window(&self, y: u32, x: u32) -> f32 {
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
    pub(super) fn fg_one(&self, k: u32) -> bool {
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
    pub(super) unsafe fn new(
        frame: &FrameParams,
        images: *const ImageParams,
        det: *const DetRecord,
        b: u32,
        masks: *const u8,
        spans: *const TapSpan,
        weights: *const f32,
    ) -> Self {
        // SAFETY: per the contract.
        unsafe { Self::for_query(frame, images, (*det).query, b, masks, spans, weights) }
    }

    /// The context of query `q` of image `b` (its mask plane), with an empty
    /// ROI: what a detection of that query evaluates, known before the
    /// selection.
    ///
    /// # Safety
    /// `q < Q`, `b < B`, and the pointers follow the kernels' contract.
    #[inline(always)]
    pub(super) unsafe fn for_query(
        frame: &FrameParams,
        images: *const ImageParams,
        q: u32,
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
            let src = masks.add(((b * frame.queries + q) as usize) * plane * elem);
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
                bound: img.fg_bound,
            }
        }
    }

    /// The context of an item's detection, with the item's ROI set.
    ///
    /// # Safety
    /// As for [`Ctx::new`]; `item` was looked up in this frame's plan.
    #[inline(always)]
    pub(super) unsafe fn for_item(
        frame: &FrameParams,
        images: *const ImageParams,
        dets: *const DetRecord,
        item: &Item,
        masks: *const u8,
        spans: *const TapSpan,
        weights: *const f32,
    ) -> Self {
        // SAFETY: the item's slot holds a detection (only detections get items).
        let mut cx = unsafe {
            Ctx::new(
                frame,
                images,
                dets.add(item.slot as usize),
                item.b,
                masks,
                spans,
                weights,
            )
        };
        cx.set_roi(&item.roi);
        cx
    }

    /// The ROI this context walks (from `rle_select_roi`).
    #[inline(always)]
    pub(super) fn set_roi(&mut self, roi: &MaskRoi) {
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
    pub(super) fn horizontal_at(&self, col: u32, sy: u32) -> f32 {
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
    pub(super) fn fg_from_hpass(&self, k: u32, hpass: *const f32, col_a: u32) -> bool {
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

impl Ctx {
    /// Whether groups of this detection may be decided from their
    /// horizontal-pass values (`uniform`): the image's tables allow it and
    /// the tile's passes are in shared memory.
    #[inline(always)]
    pub(super) fn shortcuts(&self, use_hpass: bool) -> bool {
        use_hpass && shortcuts_allowed(self.bound)
    }

    /// The class of ROI pixels `[k0, k0 + n)` (`k0 + n <= total`) from the
    /// horizontal passes of their column in shared memory (as for
    /// `fg_from_hpass`): `uniform::BACKGROUND` or `FOREGROUND` when every one
    /// of them is that, `MIXED` when they must be evaluated (signs mixed,
    /// values the argument cannot decide, a column break inside the group,
    /// rows not stored).
    #[inline(always)]
    pub(super) fn group_class(&self, k0: u32, n: u32, hpass: *const f32, col_a: u32) -> u32 {
        let im = &self.img;
        let (col, row) = (k0 / self.rows, k0 % self.rows);
        if row + n > self.rows {
            return MIXED;
        }
        let y = self.r0 + row - im.paste_y;
        let base = (col - col_a) * self.h_rows;
        // SAFETY: rows y..y+n of the ROI lie inside the S region, so their
        // table entries exist; `group_class` reads stored rows only.
        unsafe {
            let first = *self.spans.add((im.ytab + y) as usize);
            let last = *self.spans.add((im.ytab + y + n - 1) as usize);
            group_class(
                first,
                last,
                self.mode == resize_mode::BILINEAR,
                im.win_h,
                (self.sy_lo, self.h_rows),
                self.bound,
                |r| *hpass.add((base + r) as usize),
            )
        }
    }

    /// Foreground of position `i` of a tile starting at ROI pixel `tile`
    /// (pixel `tile - 1 + i`; outside the ROI everything is background),
    /// from the tile's horizontal passes when they are stored.
    #[inline(always)]
    pub(super) fn fg_at(
        &self,
        tile: u32,
        i: u32,
        use_hpass: bool,
        hpass: *const f32,
        col_a: u32,
    ) -> bool {
        let k = (tile + i).wrapping_sub(1);
        tile + i >= 1
            && k < self.total
            && if use_hpass {
                self.fg_from_hpass(k, hpass, col_a)
            } else {
                self.fg_one(k)
            }
    }
}
