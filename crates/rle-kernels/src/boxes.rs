//! The box chain of SPEC §2.6 / §10.3: every step a separate float32 operation
//! with one rounding (no fusion), true IEEE division by the f32-rounded scale,
//! the canvas offset added only when `add_offset`, a clamp that keeps NaN. The
//! result stays float: the host rounds it half to even with CUDA's saturating
//! float→int32 conversion (NaN → 0, Rust's `as i32`) when the grid is the
//! image's, which is the same operation on the same bits.

use crate::abi::ImageParams;

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

/// `[x1, y1, x2, y2]` of a normalised `(cx, cy, w, h)` box in the encoded grid's
/// pixels, clamped, unrounded.
#[inline(always)]
pub fn box_xyxy(cxcywh: [f32; 4], p: &ImageParams) -> [f32; 4] {
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
    if p.add_offset != 0 {
        x1 += p.offset_x;
        x2 += p.offset_x;
        y1 += p.offset_y;
        y2 += p.offset_y;
    }
    [
        clamp_keep_nan(x1, p.clamp_w),
        clamp_keep_nan(y1, p.clamp_h),
        clamp_keep_nan(x2, p.clamp_w),
        clamp_keep_nan(y2, p.clamp_h),
    ]
}
