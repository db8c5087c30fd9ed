//! Box conversion `(cx, cy, w, h)` normalised → `[x1, y1, x2, y2]` in the encoded
//! grid's pixels (SPEC §2.6, §10.3): integers on the image grid, float32 otherwise.
//!
//! Invariant: every step is one separate float32 operation with one rounding, in
//! the reference order; nothing is fused (the reference runs each step as its own
//! torch tensor op). `w`/`h` are not clamped at 0, the division is a true IEEE
//! division by `f32(scale)`, the offset is added only when the mask is pasted,
//! the clamp keeps NaN, rounding is half to even, and the int conversion is
//! CUDA's (saturating, NaN → 0), which Rust's `as i32` is exactly.

use crate::geometry::MaskGrid;
use crate::{ImageMeta, Xyxy};

/// The float box before rounding, `[x1, y1, x2, y2]`, on `grid` (SPEC §2.6, §10.3).
pub fn box_on_grid_f32(cxcywh: [f32; 4], meta: &ImageMeta, grid: &MaskGrid) -> [f32; 4] {
    let [cx, cy, w, h] = cxcywh;
    let denorm = meta.denorm_size();
    let (dw, dh) = (denorm.width as f32, denorm.height as f32);

    // 0.5*w is exact (a power-of-two scaling), unless it underflows, as on the device.
    let (hw, hh) = (0.5 * w, 0.5 * h);
    let (mut x1, mut y1, mut x2, mut y2) = (cx - hw, cy - hh, cx + hw, cy + hh);

    x1 *= dw;
    x2 *= dw;
    y1 *= dh;
    y2 *= dh;

    // Pads are subtracted as floats: negative pads (center-crop) add.
    let (pad_left, pad_top) = (meta.pad_left as f32, meta.pad_top as f32);
    x1 -= pad_left;
    x2 -= pad_left;
    y1 -= pad_top;
    y2 -= pad_top;

    // The Python double (the grid's, §10.3) is rounded once to f32, then a true
    // division (not a reciprocal multiply).
    let (sw, sh) = (grid.box_scale_w as f32, grid.box_scale_h as f32);
    x1 /= sw;
    x2 /= sw;
    y1 /= sh;
    y2 /= sh;

    if grid.add_box_offset {
        let (ox, oy) = (grid.box_offset.0 as f32, grid.box_offset.1 as f32);
        x1 += ox;
        x2 += ox;
        y1 += oy;
        y2 += oy;
    }

    let (wc, hc) = (grid.box_clamp.width as f32, grid.box_clamp.height as f32);
    [
        clamp_keep_nan(x1, wc),
        clamp_keep_nan(y1, hc),
        clamp_keep_nan(x2, wc),
        clamp_keep_nan(y2, hc),
    ]
}

/// The box of a detection on `grid`: rounded when the grid is the image's.
pub fn box_on_grid(cxcywh: [f32; 4], meta: &ImageMeta, grid: &MaskGrid) -> Xyxy {
    let v = box_on_grid_f32(cxcywh, meta, grid);
    if grid.int_boxes {
        Xyxy::Int(v.map(round_to_i32))
    } else {
        Xyxy::F32(v)
    }
}

/// The float box of §2.6 (factor 1: the grid is `S` or the image canvas).
pub fn box_xyxy_f32(cxcywh: [f32; 4], meta: &ImageMeta) -> [f32; 4] {
    box_on_grid_f32(cxcywh, meta, &MaskGrid::at_full_resolution(meta))
}

/// The integer box `[x1, y1, x2, y2]` of §2.6 (factor 1).
pub fn box_xyxy(cxcywh: [f32; 4], meta: &ImageMeta) -> [i32; 4] {
    box_xyxy_f32(cxcywh, meta).map(round_to_i32)
}

/// `min(max(v, 0), hi)` with NaN passing through, as torch's clamp does
/// (Rust's `f32::max` would turn NaN into 0). Written as comparisons, like the
/// kernel's, so a `-0.0` input stays `-0.0` on both (float boxes keep its sign).
pub fn clamp_keep_nan(v: f32, hi: f32) -> f32 {
    if v.is_nan() {
        return v;
    }
    let v = if v < 0.0 { 0.0 } else { v };
    if v > hi {
        hi
    } else {
        v
    }
}

/// Round half to even (torch `round`), then convert like CUDA's float → int32
/// conversion: saturating, NaN → 0 (Rust's `as i32` has exactly these semantics).
pub fn round_to_i32(v: f32) -> i32 {
    v.round_ties_even() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_to_even_and_nan_is_zero() {
        let cases = [
            (0.5, 0),
            (1.5, 2),
            (2.5, 2),
            (-0.5, 0),
            (-1.5, -2),
            (7.5, 8),
            (f32::NAN, 0),
        ];
        for (v, want) in cases {
            assert_eq!(round_to_i32(v), want, "{v}");
        }
        assert_eq!(round_to_i32(f32::INFINITY), i32::MAX);
        assert_eq!(round_to_i32(f32::NEG_INFINITY), i32::MIN);
        assert!((-0.5f32).round_ties_even().is_sign_negative());
    }

    #[test]
    fn clamp_keeps_nan_and_bounds_infinities() {
        assert!(clamp_keep_nan(f32::NAN, 10.0).is_nan());
        assert_eq!(clamp_keep_nan(f32::INFINITY, 10.0), 10.0);
        assert_eq!(clamp_keep_nan(f32::NEG_INFINITY, 10.0), 0.0);
        assert_eq!(clamp_keep_nan(3.25, 10.0), 3.25);
    }
}
