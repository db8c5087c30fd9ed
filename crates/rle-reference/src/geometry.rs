//! Letterbox pads in mask coordinates and the cropped / zero-padded mask window
//! (SPEC §2.7a).
//!
//! Invariants: the pads are computed in f64 exactly like the Python reference,
//! ratio first then product (`(Mh / Dh) * pad_top`), each rounded half to even on its
//! own. A positive pad crops, a negative pad adds rows/columns of logit `0.0` (not
//! −inf). A [`MaskWindow`] is never empty.

use ndarray::{Array2, ArrayView2};

use crate::ImageMeta;

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
