//! Letterbox pads in mask coordinates and the cropped / zero-padded mask window
//! (SPEC §2.7a), and the grid the masks are encoded on: resize target, canvas and
//! the box chain's scale/offset/clamp for it ([`MaskGrid`], SPEC §10).
//!
//! Invariants: the pads are computed in f64 exactly like the Python reference,
//! ratio first then product (`(Mh / Dh) * pad_top`), each rounded half to even on its
//! own. A positive pad crops, a negative pad adds rows/columns of logit `0.0` (not
//! −inf). A [`MaskWindow`] is never empty.

use ndarray::{Array2, ArrayView2};

use crate::{CanvasRule, ImageMeta, Options, Size};

/// The four pads of §2.7a in mask pixels (positive = crop, negative = zero padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaskPads {
    /// Rows removed at the top (added if negative).
    pub top: i64,
    /// Rows removed at the bottom.
    pub bottom: i64,
    /// Columns removed on the left.
    pub left: i64,
    /// Columns removed on the right.
    pub right: i64,
}

/// Python's `round(ratio * pad)` with `ratio = mask_len / denorm_len` in doubles.
fn mask_pad(mask_len: usize, denorm_len: u32, pad: i32) -> i64 {
    let ratio = mask_len as f64 / f64::from(denorm_len);
    (ratio * f64::from(pad)).round_ties_even() as i64
}

impl MaskPads {
    /// The pads of an `mask_h × mask_w` mask for this image's metadata.
    pub fn new(mask_h: usize, mask_w: usize, meta: &ImageMeta) -> Self {
        let d = meta.denorm_size();
        Self {
            top: mask_pad(mask_h, d.height, meta.pad_top),
            bottom: mask_pad(mask_h, d.height, meta.pad_bottom),
            left: mask_pad(mask_w, d.width, meta.pad_left),
            right: mask_pad(mask_w, d.width, meta.pad_right),
        }
    }
}

/// The part of the `Mh×Mw` mask that is resized: window pixel `(y, x)` is source
/// pixel `(y + top, x + left)` when that lies inside the source, else `0.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaskWindow {
    /// Source row of window row 0 (negative: zero rows above the source).
    pub top: i64,
    /// Source column of window column 0.
    pub left: i64,
    /// Window height `h` (≥ 1).
    pub height: usize,
    /// Window width `w` (≥ 1).
    pub width: usize,
}

impl MaskWindow {
    /// The window left by `pads`, or `None` if it is empty.
    pub fn from_pads(mask_h: usize, mask_w: usize, pads: MaskPads) -> Option<Self> {
        // i128: extreme pads must not overflow on the way to "empty".
        let height = mask_h as i128 - i128::from(pads.top) - i128::from(pads.bottom);
        let width = mask_w as i128 - i128::from(pads.left) - i128::from(pads.right);
        (height >= 1 && width >= 1).then_some(Self {
            top: pads.top,
            left: pads.left,
            height: height as usize,
            width: width as usize,
        })
    }

    /// The window of an `mask_h × mask_w` mask for this image, or `None` if empty.
    pub fn for_image(mask_h: usize, mask_w: usize, meta: &ImageMeta) -> Option<Self> {
        Self::from_pads(mask_h, mask_w, MaskPads::new(mask_h, mask_w, meta))
    }

    /// Whether the window is the whole source (no pad at all): the common stretch case.
    pub fn is_whole(&self, mask_h: usize, mask_w: usize) -> bool {
        self.top == 0 && self.left == 0 && self.height == mask_h && self.width == mask_w
    }

    /// Copies the window out of `src`, zero-filling outside it.
    pub fn extract(&self, src: ArrayView2<'_, f32>) -> Array2<f32> {
        let (src_h, src_w) = src.dim();
        Array2::from_shape_fn((self.height, self.width), |(y, x)| {
            let sy = y as i64 + self.top;
            let sx = x as i64 + self.left;
            let inside = (0..src_h as i64).contains(&sy) && (0..src_w as i64).contains(&sx);
            if inside {
                src[[sy as usize, sx as usize]]
            } else {
                0.0
            }
        })
    }
}

/// Python's `round(v)` on a double (half to even) as an integer.
fn py_round(v: f64) -> i64 {
    v.round_ties_even() as i64
}

/// Where one image's masks are encoded (SPEC §10.1–10.3): the resize target `T`,
/// the final grid (`mask_size`) and where `T` lands on it, and the box chain's
/// scale, offset and clamp for that grid.
///
/// Invariants (for metadata and options that passed `validate`): `target` and
/// `canvas` are ≥ 1 on both axes, `offset + target ≤ canvas` on both axes (the
/// current rule sizes the canvas to contain them; the legacy rule's crop was
/// checked to fit), and `int_boxes` holds exactly when boxes are rounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskGrid {
    /// `T`: what the mask window is resized to.
    pub target: Size,
    /// The encoded grid (`mask_size`): the canvas, or `T` without one.
    pub canvas: Size,
    /// Canvas row of `T`'s row 0 (0 without a canvas).
    pub offset_y: u32,
    /// Canvas column of `T`'s column 0.
    pub offset_x: u32,
    /// The box chain divides by `f32` of these (§10.3: `scale · (S / T)` when `T ≠ S`).
    pub box_scale_w: f64,
    /// See `box_scale_w`.
    pub box_scale_h: f64,
    /// Whether the box chain adds `(offset_x, offset_y)` of [`MaskGrid::box_offset`].
    pub add_box_offset: bool,
    /// What the box chain adds when `add_box_offset` (the canvas offset; the crop
    /// offset itself under the legacy rule).
    pub box_offset: (u32, u32),
    /// Upper clamp bounds of the box coordinates (`[0, width]`, `[0, height]`).
    pub box_clamp: Size,
    /// Boxes are rounded to int32 (the grid is the image's, or the legacy rule).
    pub int_boxes: bool,
}

/// One axis of the §10.2 canvas: `(offset, length)` of an image axis of length `o_len`
/// whose crop starts at `crop_off`, when `S`'s `s_len` pixels are encoded as `t_len`
/// (`offset = round(off·t/s)`, `length = max(1, round(o·t/s), offset + t)`, doubles and
/// Python's rounding). In i64, saturating, so `validate` can bound it before anything
/// narrows it to u32.
pub fn canvas_axis(o_len: u32, t_len: u32, s_len: u32, crop_off: u32) -> (i64, i64) {
    let ratio = f64::from(t_len) / f64::from(s_len);
    let off = py_round(f64::from(crop_off) * ratio);
    let len = 1
        .max(py_round(f64::from(o_len) * ratio))
        .max(off.saturating_add(i64::from(t_len)));
    (off, len)
}

impl MaskGrid {
    /// The resize target of a `h × w` window (§10.1), in Python doubles.
    pub fn target(h: usize, w: usize, s: Size, factor: f64) -> Size {
        if factor >= 1.0 {
            return s;
        }
        let axis = |len: usize, out: u32| -> u32 {
            let v = py_round(len as f64 * (1.0 - factor) + f64::from(out) * factor);
            // Between the window and S, both ≤ u32::MAX, so the cast is exact.
            v.max(1) as u32
        };
        Size::new(axis(h, s.height), axis(w, s.width))
    }

    /// The grid of one image whose mask window is `h × w`.
    pub fn new(h: usize, w: usize, meta: &ImageMeta, factor: f64, rule: CanvasRule) -> Self {
        let (s, o, crop) = (
            meta.size_after_pre_processing,
            meta.original_size,
            meta.static_crop,
        );
        let (scale_w, scale_h) = (meta.scale_width, meta.scale_height);
        if rule == CanvasRule::LegacyOriginCrop {
            // Older releases: T = S, a canvas only with a non-zero offset, boxes
            // clamped to the image and always rounded (validate requires factor 1).
            let paste = meta.pastes();
            let (oy, ox) = if paste {
                (crop.offset_y, crop.offset_x)
            } else {
                (0, 0)
            };
            return Self {
                target: s,
                canvas: if paste { o } else { s },
                offset_y: oy,
                offset_x: ox,
                box_scale_w: scale_w,
                box_scale_h: scale_h,
                add_box_offset: paste,
                box_offset: (crop.offset_x, crop.offset_y),
                box_clamp: o,
                int_boxes: true,
            };
        }
        let t = Self::target(h, w, s, factor);
        let needs_canvas = meta.pastes() || s != o;
        let (canvas, oy, ox) = if needs_canvas {
            let (oy, hc) = canvas_axis(o.height, t.height, s.height, crop.offset_y);
            let (ox, wc) = canvas_axis(o.width, t.width, s.width, crop.offset_x);
            // validate bounds the canvas by u32 (H*W fits u32), so these fit too.
            let c = Size::new(
                u32::try_from(hc).unwrap_or(u32::MAX),
                u32::try_from(wc).unwrap_or(u32::MAX),
            );
            (c, oy as u32, ox as u32)
        } else {
            (t, 0, 0)
        };
        let (box_scale_w, box_scale_h) = if t != s {
            // The ratio first, in doubles (`scale_width *= S.width / T.width`).
            (
                scale_w * (f64::from(s.width) / f64::from(t.width)),
                scale_h * (f64::from(s.height) / f64::from(t.height)),
            )
        } else {
            (scale_w, scale_h)
        };
        Self {
            target: t,
            canvas,
            offset_y: oy,
            offset_x: ox,
            box_scale_w,
            box_scale_h,
            add_box_offset: needs_canvas && (ox != 0 || oy != 0),
            box_offset: (ox, oy),
            box_clamp: canvas,
            int_boxes: canvas == o,
        }
    }

    /// The grid of one image of an `mask_h × mask_w` mask batch under `opts`, or
    /// `None` if the mask window is empty.
    pub fn for_image(
        mask_h: usize,
        mask_w: usize,
        meta: &ImageMeta,
        opts: &Options,
    ) -> Option<(MaskWindow, Self)> {
        let win = MaskWindow::for_image(mask_h, mask_w, meta)?;
        let grid = Self::new(
            win.height,
            win.width,
            meta,
            opts.masks_resolution_factor,
            opts.canvas,
        );
        Some((win, grid))
    }

    /// The grid at factor 1 under the current rule, which needs no window (the
    /// target is `S`): what the box chain of SPEC §2.6 uses.
    pub fn at_full_resolution(meta: &ImageMeta) -> Self {
        Self::new(1, 1, meta, 1.0, CanvasRule::Current)
    }
}
