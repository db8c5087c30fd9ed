//! The box chain of SPEC §2.6: every step a separate float32 operation with one
//! rounding (no fusion), true IEEE division by the f32-rounded scale, the crop
//! offset added only when pasting, a clamp that keeps NaN, round half to even,
//! and CUDA's saturating float→int32 conversion (NaN → 0), which is exactly
//! what Rust's `as i32` does.

use crate::abi::ImageParams;
use crate::fp::round_half_even;

/// `min(max(v, 0), hi)` with torch's NaN propagation (`clamp` keeps NaN).
#[inline(always)]
fn clamp_keep_nan(v: f32, hi: f32) -> f32 {
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

/// `[x1, y1, x2, y2]` of a normalised `(cx, cy, w, h)` box in original-image pixels.
#[inline(always)]
pub fn box_xyxy(cxcywh: [f32; 4], p: &ImageParams) -> [i32; 4] {
    let [cx, cy, w, h] = cxcywh;
    let hw = 0.5 * w;
    let hh = 0.5 * h;
    let mut x1 = cx - hw;
    let mut y1 = cy - hh;
    let mut x2 = cx + hw;
    let mut y2 = cy + hh;
    x1 *= p.denorm_w;
    x2 *= p.denorm_w;
    y1 *= p.denorm_h;
    y2 *= p.denorm_h;
    x1 -= p.pad_left;
    x2 -= p.pad_left;
    y1 -= p.pad_top;
    y2 -= p.pad_top;
    x1 /= p.scale_w;
    x2 /= p.scale_w;
    y1 /= p.scale_h;
    y2 /= p.scale_h;
    if p.paste != 0 {
        x1 += p.offset_x;
        x2 += p.offset_x;
        y1 += p.offset_y;
        y2 += p.offset_y;
    }
    let x1 = clamp_keep_nan(x1, p.orig_w);
    let x2 = clamp_keep_nan(x2, p.orig_w);
    let y1 = clamp_keep_nan(y1, p.orig_h);
    let y2 = clamp_keep_nan(y2, p.orig_h);
    [
        round_half_even(x1) as i32,
        round_half_even(y1) as i32,
        round_half_even(x2) as i32,
        round_half_even(y2) as i32,
    ]
}
