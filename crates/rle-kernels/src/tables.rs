//! Resize tables and the per-pixel resize arithmetic, shared by the host (which
//! builds the tables once per shape and caches them on the device) and the mask
//! kernel (which evaluates only the pixels of a detection's sparse ROI).
//!
//! Antialiased (SPEC §3.2–3.4): spans and weights with nvcc's contractions,
//! evaluated horizontal pass first, each pass "product, then FMA chain in tap
//! order", never skipping a zero-weight tap (inf·0 = NaN must propagate).
//! Plain bilinear (SPEC §3.9): two taps per axis; its contraction pattern was
//! read off PyTorch on CUDA (fixtures/resize_raw.json, see docs/SPEC-NOTES.md).

use crate::abi::{dtype, TapSpan};
use crate::fp::fma;

/// Why a table cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// A length is zero.
    Empty,
    /// An output index has no tap (cannot happen for valid sizes; kept so the
    /// kernel never sees a zero-tap span).
    NoTaps,
    /// The output slice lengths do not match the table.
    BadSlices,
}

/// Antialiased per-axis constants `(scale, support, invscale)` (SPEC §3.2).
pub fn aa_params(n: u32, m: u32) -> (f32, f32, f32) {
    let scale = n as f32 / m as f32;
    if scale >= 1.0 {
        (scale, scale, (1.0f64 / scale as f64) as f32)
    } else {
        (scale, 1.0, 1.0)
    }
}

/// Span `(xmin, xsize)` of output `i` and the `mc` term (SPEC §3.3).
fn aa_span(n: u32, scale: f32, support: f32, i: u32) -> (u32, u32, f32) {
    let p = i as f32 + 0.5;
    let lo = fma(scale, p, -support);
    let hi = fma(scale, p, support);
    let xmin = ((lo + 0.5) as i32).max(0);
    let xend = ((hi + 0.5) as i32).min(n as i32);
    let size = (xend - xmin).max(0);
    let mc = fma(-scale, p, xmin as f32);
    (xmin as u32, size as u32, mc)
}

/// Weights stored per output index for an antialiased `n → m` table: the
/// largest span.
pub fn aa_slots(n: u32, m: u32) -> u32 {
    let (scale, support, _) = aa_params(n, m);
    (0..m)
        .map(|i| aa_span(n, scale, support, i).1)
        .max()
        .unwrap_or(0)
}

fn tri(a: f32) -> f32 {
    let a = if a < 0.0 { -a } else { a };
    if a < 1.0 {
        1.0 - a
    } else {
        0.0
    }
}

/// Builds the antialiased `n → m` table: `spans.len() == m`,
/// `weights.len() == m * slots` with `slots >= aa_slots(n, m)`.
pub fn build_aa(
    n: u32,
    m: u32,
    slots: u32,
    spans: &mut [TapSpan],
    weights: &mut [f32],
) -> Result<(), TableError> {
    if n == 0 || m == 0 {
        return Err(TableError::Empty);
    }
    if spans.len() != m as usize || weights.len() != (m * slots) as usize {
        return Err(TableError::BadSlices);
    }
    let (scale, support, invscale) = aa_params(n, m);
    for i in 0..m {
        let (first, count, mc) = aa_span(n, scale, support, i);
        if count == 0 {
            return Err(TableError::NoTaps);
        }
        if count > slots {
            return Err(TableError::BadSlices);
        }
        let w = &mut weights[(i * slots) as usize..((i + 1) * slots) as usize];
        let mut total = 0.0f32;
        for j in 0..count {
            let raw = tri(((j as f32 + mc) + 0.5) * invscale);
            w[j as usize] = raw;
            total += raw;
        }
        if total != 0.0 {
            for v in &mut w[..count as usize] {
                *v /= total;
            }
        }
        for v in &mut w[count as usize..] {
            *v = 0.0;
        }
        spans[i as usize] = TapSpan { first, count };
    }
    Ok(())
}

/// Builds the identity table (one tap of weight 1.0): torchvision returns the
/// input unchanged when both axes keep their size, and `v * 1.0 == v` for every
/// float (inf and NaN included), so this reproduces that shortcut exactly.
pub fn build_identity(
    n: u32,
    spans: &mut [TapSpan],
    weights: &mut [f32],
) -> Result<(), TableError> {
    if n == 0 {
        return Err(TableError::Empty);
    }
    if spans.len() != n as usize || weights.len() != n as usize {
        return Err(TableError::BadSlices);
    }
    for i in 0..n {
        spans[i as usize] = TapSpan { first: i, count: 1 };
        weights[i as usize] = 1.0;
    }
    Ok(())
}

/// Plain bilinear `n → m` (align_corners=False): two taps per output, the second
/// clamped to the last source index; `weights.len() == 2 * m` holds `(λ0, λ1)`.
pub fn build_bilinear(
    n: u32,
    m: u32,
    spans: &mut [TapSpan],
    weights: &mut [f32],
) -> Result<(), TableError> {
    if n == 0 || m == 0 {
        return Err(TableError::Empty);
    }
    if spans.len() != m as usize || weights.len() != 2 * m as usize {
        return Err(TableError::BadSlices);
    }
    let scale = n as f32 / m as f32;
    for i in 0..m {
        let src = fma(scale, i as f32 + 0.5, -0.5);
        let src = if src < 0.0 { 0.0 } else { src };
        let i0 = src as i32;
        let l1 = src - i0 as f32;
        let l0 = 1.0 - l1;
        spans[i as usize] = TapSpan {
            first: i0 as u32,
            count: 2,
        };
        weights[2 * i as usize] = l0;
        weights[2 * i as usize + 1] = l1;
    }
    Ok(())
}

/// Source index of tap `j` of `span` on an axis of length `n`.
#[inline(always)]
pub fn tap_index(span: TapSpan, j: u32, n: u32) -> u32 {
    let k = span.first + j;
    if k < n {
        k
    } else {
        n - 1
    }
}

/// The horizontal pass of one source row for one output column: the
/// antialiased "product, then FMA chain in tap order" (SPEC §3.4), or plain
/// bilinear's `fma(λ0, v0, λ1·v1)` (SPEC §3.9). It depends only on (source
/// row, output column), so a column of outputs can share it.
#[inline(always)]
pub fn horizontal(
    bilinear: bool,
    xs: TapSpan,
    xw: &[f32],
    w: u32,
    sy: u32,
    src: impl Fn(u32, u32) -> f32,
) -> f32 {
    if bilinear {
        return fma(
            xw[0],
            src(sy, tap_index(xs, 0, w)),
            xw[1] * src(sy, tap_index(xs, 1, w)),
        );
    }
    let mut h = src(sy, xs.first) * xw[0];
    for c in 1..xs.count {
        h = fma(src(sy, xs.first + c), xw[c as usize], h);
    }
    h
}

/// The vertical pass over horizontal-pass values `h(sy)`: antialiased product
/// then FMA chain over the span, or bilinear `fma(λ0, top, λ1·bottom)`.
#[inline(always)]
pub fn vertical(
    bilinear: bool,
    ys: TapSpan,
    yw: &[f32],
    h_rows: u32,
    mut h: impl FnMut(u32) -> f32,
) -> f32 {
    if bilinear {
        let top = h(tap_index(ys, 0, h_rows));
        let bottom = h(tap_index(ys, 1, h_rows));
        return fma(yw[0], top, yw[1] * bottom);
    }
    let mut acc = h(ys.first) * yw[0];
    for r in 1..ys.count {
        acc = fma(h(ys.first + r), yw[r as usize], acc);
    }
    acc
}

/// One antialiased output value. `src(y, x)` reads the (cropped/padded) window.
#[inline(always)]
pub fn eval_aa(
    ys: TapSpan,
    yw: &[f32],
    xs: TapSpan,
    xw: &[f32],
    src: impl Fn(u32, u32) -> f32,
) -> f32 {
    let mut acc = 0.0f32;
    for r in 0..ys.count {
        let sy = ys.first + r;
        let mut h = src(sy, xs.first) * xw[0];
        for c in 1..xs.count {
            h = fma(src(sy, xs.first + c), xw[c as usize], h);
        }
        acc = if r == 0 {
            h * yw[0]
        } else {
            fma(h, yw[r as usize], acc)
        };
    }
    acc
}

/// One plain-bilinear output value (`yw`, `xw` hold `(λ0, λ1)`; `h`, `w` are the
/// window size used to clamp the second tap).
#[inline(always)]
pub fn eval_bilinear(
    ys: TapSpan,
    yw: &[f32],
    xs: TapSpan,
    xw: &[f32],
    h: u32,
    w: u32,
    src: impl Fn(u32, u32) -> f32,
) -> f32 {
    let (y0, y1) = (tap_index(ys, 0, h), tap_index(ys, 1, h));
    let (x0, x1) = (tap_index(xs, 0, w), tap_index(xs, 1, w));
    let top = fma(xw[0], src(y0, x0), xw[1] * src(y0, x1));
    let bottom = fma(xw[0], src(y1, x0), xw[1] * src(y1, x1));
    fma(yw[0], top, yw[1] * bottom)
}

/// Smallest f32 that must be exceeded for a resized value to stay positive
/// after rounding back to the mask's dtype (SPEC §1.1): f16's smallest
/// subnormal is 2^-24, so values up to 2^-25 (a tie, to even) round to +0;
/// bf16's is 2^-133, so up to 2^-134. f32 keeps its value: `> 0`.
#[inline(always)]
pub fn foreground_threshold(mask_dtype: u32) -> f32 {
    match mask_dtype {
        dtype::F16 => f32::from_bits(0x3300_0000),  // 2^-25
        dtype::BF16 => f32::from_bits(0x0000_8000), // 2^-134 (an f32 subnormal)
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    #[test]
    fn spec_3_6_upsampling_weights() {
        let (n, m) = (78, 1080);
        let slots = aa_slots(n, m);
        assert_eq!(slots, 2);
        let mut spans = vec![TapSpan::default(); m as usize];
        let mut w = vec![0f32; (m * slots) as usize];
        build_aa(n, m, slots, &mut spans, &mut w).unwrap();
        assert_eq!(spans[6], TapSpan { first: 0, count: 1 });
        assert_eq!(w[12], 1.0);
        assert_eq!(spans[7], TapSpan { first: 0, count: 2 });
        assert_eq!(
            (w[14].to_bits(), w[15].to_bits()),
            (0x3F75_5555, 0x3D2A_AAB0)
        );
        assert_eq!(
            spans[539],
            TapSpan {
                first: 38,
                count: 2
            }
        );
        assert_eq!(
            (w[1078].to_bits(), w[1079].to_bits()),
            (0x3F09_3E77, 0x3EED_8312)
        );
        assert_eq!(
            spans[1073],
            TapSpan {
                first: 77,
                count: 1
            }
        );
    }

    #[test]
    fn spec_3_7_downsampling_weights() {
        let (n, m) = (78, 50);
        let slots = aa_slots(n, m);
        let mut spans = vec![TapSpan::default(); m as usize];
        let mut w = vec![0f32; (m * slots) as usize];
        build_aa(n, m, slots, &mut spans, &mut w).unwrap();
        assert_eq!(spans[1], TapSpan { first: 1, count: 3 });
        let s = slots as usize;
        assert_eq!(
            (w[s].to_bits(), w[s + 1].to_bits(), w[s + 2].to_bits()),
            (0x3E92_4925, 0x3F0E_38E3, 0x3E22_8A26)
        );
        assert_eq!(
            spans[49],
            TapSpan {
                first: 76,
                count: 2
            }
        );
    }

    #[test]
    fn dtype_thresholds_match_rounding_back() {
        use half::{bf16, f16};
        for bits in [
            0x3300_0000u32,
            0x3300_0001,
            0x32FF_FFFF,
            0x0000_8000,
            0x0000_8001,
            0x0000_7FFF,
            1,
            0x3380_0000,
        ] {
            let v = f32::from_bits(bits);
            assert_eq!(
                v > foreground_threshold(dtype::F16),
                f16::from_f32(v) > f16::ZERO,
                "f16 {bits:#x}"
            );
            assert_eq!(
                v > foreground_threshold(dtype::BF16),
                bf16::from_f32(v) > bf16::ZERO,
                "bf16 {bits:#x}"
            );
        }
    }
}
