//! Uniform groups: output pixels whose answer follows from the signs of the
//! source logits they read, with no per-pixel arithmetic (issue 13).
//!
//! Every output value is `vertical(horizontal(window))` (`tables::eval_*`):
//! products of a tap weight and a logit, summed with `fma` and `+` in a fixed
//! order. With weights finite and `≥ 0` (checked per table by
//! [`weight_stats`]) two facts decide a whole group of pixels at once, from
//! the rectangle of window logits their taps read:
//!
//! - **Background** when no logit in the rectangle is `> 0` (each is `≤ 0`,
//!   `-inf`, NaN, or a zero of the padding): every product is `≤ 0` or NaN
//!   (`0·-inf`), a sum of such terms is `≤ 0` or NaN (no `+inf` can appear),
//!   so the value is never `>` a threshold `≥ 0`. This is the ROI argument of
//!   SPEC §7 applied to a smaller rectangle.
//! - **Foreground** when every logit lies in `[bound, UNIFORM_LIMIT]`.
//!   Rounding is monotone and every term is `≥ 0`, so `fma(w, L, acc)`,
//!   `w·L` and `a + b` are each `≥` any one rounded product: a horizontal
//!   pass is `≥ round(peak_x · bound)` and the vertical one `≥
//!   round(peak_y · round(peak_x · bound))`, where `peak` is the smallest,
//!   over the table's outputs, of the largest weight of the output's taps.
//!   [`foreground_bound`] picks the smallest power of two for which that f32
//!   product exceeds the threshold, computed with the same `mul.rn` the
//!   device has (underflow and subnormals included). The upper limit keeps
//!   every partial sum finite (so no `inf · 0 = NaN` in the vertical pass):
//!   `sum_x · sum_y · UNIFORM_LIMIT · 2 < 2^120` with at most 2^20 taps per
//!   output (the rounding growth `(1 + 2^-24)^taps` stays below 2).
//!
//! Anything else (a tiny positive logit, `+inf`, one above the limit, signs
//! mixed) is "mixed": those pixels are evaluated one by one, exactly as
//! before. A table whose weights are negative or not finite, or whose spans
//! are not monotone, disables both shortcuts for its image (bound NaN).

use crate::abi::TapSpan;
use crate::tables::tap_index;

/// Largest logit the foreground shortcut accepts (`2^32`).
pub const UNIFORM_LIMIT: f32 = 4_294_967_296.0;

/// Group class: every pixel is background.
pub const BACKGROUND: u32 = 0;
/// Group class: every pixel is foreground.
pub const FOREGROUND: u32 = 1;
/// Group class: pixels must be evaluated.
pub const MIXED: u32 = 2;

/// Flag of [`logit_flags`]: the logit is `> 0`.
pub const POSITIVE: u32 = 1;
/// Flag of [`logit_flags`]: the logit is outside `[bound, UNIFORM_LIMIT]`.
pub const NOT_SAFE: u32 = 2;

/// Largest number of logits one group's rectangle may read before it is
/// simply called mixed (strong downscaling: wide spans).
pub const RECT_CAP: u32 = 64;

/// Most taps per output the foreground argument allows.
const MAX_TAPS: u32 = 1 << 20;

/// The flags of one logit; OR them over a rectangle and pass to [`class_of`].
#[inline(always)]
pub fn logit_flags(v: f32, bound: f32) -> u32 {
    let safe = v >= bound && v <= UNIFORM_LIMIT;
    u32::from(v > 0.0) | (u32::from(!safe) << 1)
}

/// The class of a rectangle from its OR-ed flags.
#[inline(always)]
pub fn class_of(flags: u32) -> u32 {
    if flags & POSITIVE == 0 {
        BACKGROUND
    } else if flags & NOT_SAFE == 0 {
        FOREGROUND
    } else {
        MIXED
    }
}

/// Whether an image's bound allows any shortcut (NaN: none).
#[inline(always)]
pub fn shortcuts_allowed(bound: f32) -> bool {
    bound > 0.0
}

/// The last source index a span reads, as `tables::horizontal`/`vertical`
/// read it: plain bilinear clamps its second tap, the FMA chain does not.
#[inline(always)]
pub fn last_tap(bilinear: bool, span: TapSpan, n: u32) -> u32 {
    if bilinear {
        tap_index(span, 1, n)
    } else {
        span.first + span.count.max(1) - 1
    }
}

/// What the shortcuts need to know about one resize table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeightStats {
    /// Weights finite and `≥ 0`, spans non-empty and monotone (first and last
    /// taps non-decreasing): both shortcuts are sound for this table.
    pub usable: bool,
    /// Smallest, over outputs, of the largest weight among its taps.
    pub min_peak: f32,
    /// Largest, over outputs, of the sum of its weights (rounded up enough
    /// for a bound: computed in f64).
    pub max_sum: f64,
    /// Most taps of one output.
    pub max_taps: u32,
}

/// The statistics of one table (`n` source indices, `spans.len()` outputs,
/// `slots` weights stored per output; plain bilinear reads 2 weights).
pub fn weight_stats(
    n: u32,
    spans: &[TapSpan],
    weights: &[f32],
    slots: u32,
    bilinear: bool,
) -> WeightStats {
    let mut s = WeightStats {
        usable: !spans.is_empty() && n > 0,
        min_peak: f32::INFINITY,
        max_sum: 0.0,
        max_taps: 0,
    };
    let mut prev = (0u32, 0u32);
    for (i, &sp) in spans.iter().enumerate() {
        let taps = if bilinear { 2 } else { sp.count };
        let lo = i * slots as usize;
        let Some(w) = weights.get(lo..lo + taps as usize) else {
            s.usable = false;
            break;
        };
        let (first, last) = (sp.first, last_tap(bilinear, sp, n));
        if sp.count == 0 || taps > slots || last >= n || first < prev.0 || last < prev.1 {
            s.usable = false;
        }
        prev = (first, last);
        let (mut peak, mut sum) = (0.0f32, 0.0f64);
        for &x in w {
            if !(x.is_finite() && x >= 0.0) {
                s.usable = false;
            }
            peak = peak.max(x);
            sum += f64::from(x);
        }
        s.min_peak = s.min_peak.min(peak);
        s.max_sum = s.max_sum.max(sum);
        s.max_taps = s.max_taps.max(taps);
    }
    s
}

/// The smallest logit the foreground shortcut accepts for an image resized
/// by tables `x` and `y` and thresholded at `threshold` (`≥ 0`): `+inf` when
/// no bound can be proven (a zero peak weight, huge sums), NaN when the
/// tables allow no shortcut at all. See the module docs for the argument.
pub fn foreground_bound(x: &WeightStats, y: &WeightStats, threshold: f32) -> f32 {
    if !(x.usable && y.usable && threshold >= 0.0) {
        return f32::NAN;
    }
    let heavy = x.max_sum * y.max_sum * f64::from(UNIFORM_LIMIT) * 2.0 >= 1.329_227_995_784_916e36; // 2^120
    if !(x.min_peak > 0.0 && y.min_peak > 0.0) || heavy || x.max_taps.max(y.max_taps) > MAX_TAPS {
        return f32::INFINITY;
    }
    // Powers of two from the smallest subnormal up: the first that passes.
    let mut b = f32::from_bits(1);
    while b <= 1.0 {
        if y.min_peak * (x.min_peak * b) > threshold {
            return b;
        }
        b *= 2.0;
    }
    f32::INFINITY
}

#[cfg(test)]
mod tests;
