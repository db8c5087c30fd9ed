//! From one detection's low-resolution mask logits to its final boolean mask:
//! pads → resize → dtype round trip → `> 0` → paste (SPEC §2.7, §1.1).
//!
//! Invariants:
//! - binarization is strict `> 0.0` on the value *in the source dtype*: f16/bf16 masks
//!   are resized in f32 and rounded back (nearest-even) before the test, so a tiny
//!   positive f32 result can become +0 and background (§1.1); NaN and −0 are background.
//! - the mask is resized to the grid's target `T` and pasted into a zero canvas
//!   when the grid has one ([`MaskGrid`], SPEC §10.2; under the legacy rule a crop
//!   anchored at (0,0) keeps `Hs×Ws`). `validate` guarantees the paste fits.

use half::{bf16, f16};
use ndarray::{s, Array2, ArrayView2, Axis};

use crate::geometry::{MaskGrid, MaskWindow};
use crate::resize::resize;
use crate::{MaskLogits, ResizeMode, Size};

/// The dtype the mask logits arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskDtype {
    /// float32.
    F32,
    /// float16.
    F16,
    /// bfloat16.
    Bf16,
}

impl MaskDtype {
    /// Rounds an f32 result back to this dtype (nearest-even) and widens it again.
    pub fn round_trip(self, v: f32) -> f32 {
        match self {
            MaskDtype::F32 => v,
            MaskDtype::F16 => f16::from_f32(v).to_f32(),
            MaskDtype::Bf16 => bf16::from_f32(v).to_f32(),
        }
    }
}

/// `value > 0` after the dtype round trip, for every pixel.
pub fn binarize(values: ArrayView2<'_, f32>, dtype: MaskDtype) -> Array2<bool> {
    values.mapv(|v| dtype.round_trip(v) > 0.0)
}

/// A zero `canvas` mask with `mask` placed at rows `top..`, columns `left..`.
///
/// # Panics
/// If the mask does not fit (callers validate first).
pub fn paste(mask: ArrayView2<'_, bool>, canvas: Size, top: usize, left: usize) -> Array2<bool> {
    let (h, w) = mask.dim();
    let mut out = Array2::from_elem((canvas.height as usize, canvas.width as usize), false);
    out.slice_mut(s![top..top + h, left..left + w])
        .assign(&mask);
    out
}

/// Query `q` of image `b`'s mask logits, widened to f32, and their dtype
/// (the input of [`detection_mask`]).
pub fn query_logits(masks: &MaskLogits<'_>, b: usize, q: usize) -> (Array2<f32>, MaskDtype) {
    match masks {
        MaskLogits::F32(m) => (
            m.index_axis(Axis(0), b).index_axis(Axis(0), q).to_owned(),
            MaskDtype::F32,
        ),
        MaskLogits::F16(m) => (
            m.index_axis(Axis(0), b)
                .index_axis(Axis(0), q)
                .mapv(|v| v.to_f32()),
            MaskDtype::F16,
        ),
        MaskLogits::Bf16(m) => (
            m.index_axis(Axis(0), b)
                .index_axis(Axis(0), q)
                .mapv(|v| v.to_f32()),
            MaskDtype::Bf16,
        ),
    }
}

/// The final boolean mask of one detection, from its full `Mh×Mw` logits (widened to f32).
pub fn detection_mask(
    logits: ArrayView2<'_, f32>,
    dtype: MaskDtype,
    window: &MaskWindow,
    grid: &MaskGrid,
    mode: ResizeMode,
) -> Array2<bool> {
    let (mask_h, mask_w) = logits.dim();
    let cropped = if window.is_whole(mask_h, mask_w) {
        logits.to_owned()
    } else {
        window.extract(logits)
    };
    let t = grid.target;
    let resized = resize(cropped.view(), t.height as usize, t.width as usize, mode);
    let mask = binarize(resized.view(), dtype);
    if grid.canvas == t {
        // No canvas (or one that is exactly T at offset 0): nothing to paste.
        mask
    } else {
        paste(
            mask.view(),
            grid.canvas,
            grid.offset_y as usize,
            grid.offset_x as usize,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn binarize_is_strict_and_nan_is_background() {
        let v = array![[1.0, 0.0, -0.0, f32::NAN, f32::INFINITY, -1.0, 1e-30]];
        let got = binarize(v.view(), MaskDtype::F32);
        assert_eq!(got, array![[true, false, false, false, true, false, true]]);
        // 1e-30 rounds to +0 in f16 and bf16 keeps it (bf16 has f32's exponent range).
        assert!(!binarize(v.view(), MaskDtype::F16)[[0, 6]]);
        assert!(binarize(v.view(), MaskDtype::Bf16)[[0, 6]]);
    }

    #[test]
    fn paste_places_the_mask_at_the_offset() {
        let m = array![[true, false], [false, true]];
        let out = paste(m.view(), Size::new(3, 4), 1, 2);
        let want = array![
            [false, false, false, false],
            [false, false, true, false],
            [false, false, false, true]
        ];
        assert_eq!(out, want);
    }
}
