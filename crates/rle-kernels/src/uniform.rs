//! Uniform groups (issue 13): rows of one output column whose answer follows
//! from the signs of the horizontal-pass values they read, with no vertical
//! pass at all.
//!
//! Every output value is `vertical(h)` over the exact horizontal-pass values
//! `h(sy)` of its column (`tables::vertical`; the mask passes keep those
//! values in shared memory, `device/masks/walk.rs`): products of a weight and
//! an `h`, combined with `fma` in a fixed order. With the vertical table's
//! weights finite and `≥ 0` and its spans monotone (checked per table by
//! [`weight_stats`]), two facts decide a group of consecutive output rows at
//! once from the `h` values of the source rows their taps read (the rows from
//! the first row's first tap to the last row's last tap):
//!
//! - **Background** when no such `h` is `> 0` (each is `≤ 0`, `-inf` or NaN):
//!   every product is `≤ 0` or NaN (`0·-inf`), an `fma` of such terms is `≤ 0`
//!   or NaN (no `+inf` can appear), so the value is never `>` a threshold
//!   `≥ 0` (`tables::foreground_threshold`). This is the ROI argument of SPEC
//!   §7 applied to a few rows of one column.
//! - **Foreground** when every such `h` lies in `[bound, UNIFORM_LIMIT]`.
//!   Rounding is monotone and every term is `≥ 0`, so `a·b`, `fma(a, b, c)`
//!   and `fma(λ0, top, λ1·bottom)` are each `≥` any one rounded product of the
//!   chain: the value is `≥ round(peak · bound)`, where `peak` is the
//!   smallest, over the table's outputs, of the largest weight of the output's
//!   taps. [`foreground_bound`] picks the smallest power of two for which that
//!   f32 product exceeds the threshold, computed with the same `mul.rn` the
//!   device has (underflow and subnormals included). The upper limit keeps
//!   every partial sum finite (no overflow to `inf`): `max_sum · UNIFORM_LIMIT
//!   · 2 < 2^127` with at most 2^20 taps per output (the rounding growth
//!   `(1 + 2^-24)^taps` stays below 2).
//!
//! Anything else (a tiny positive `h`, `+inf`, one above the limit, signs
//! mixed) is "mixed": those rows are evaluated one by one, exactly as before.
//! A table whose weights are negative or not finite, or whose spans are not
//! monotone, disables both shortcuts for its image (bound NaN). Because the
//! argument is about any f32 `h`, the horizontal pass (whatever its table or
//! the logits) needs no condition of its own.

use crate::abi::TapSpan;
use crate::tables::tap_index;

/// Largest `h` the foreground shortcut accepts (`2^32`).
pub const UNIFORM_LIMIT: f32 = 4_294_967_296.0;

/// Group class: every pixel is background.
pub const BACKGROUND: u32 = 0;
/// Group class: every pixel is foreground.
pub const FOREGROUND: u32 = 1;
/// Group class: pixels must be evaluated.
pub const MIXED: u32 = 2;

/// Flag of [`value_flags`]: the value is `> 0`.
pub const POSITIVE: u32 = 1;
/// Flag of [`value_flags`]: the value is outside `[bound, UNIFORM_LIMIT]`.
pub const NOT_SAFE: u32 = 2;

/// Most source rows one group may read before it is simply called mixed
/// (strong downscaling: wide spans).
pub const GROUP_TAPS: u32 = 8;

/// Most taps per output the foreground argument allows.
const MAX_TAPS: u32 = 1 << 20;

/// The flags of one horizontal-pass value; OR them over a group's rows and
/// pass the result to [`class_of`].
#[inline(always)]
pub fn value_flags(v: f32, bound: f32) -> u32 {
    let safe = v >= bound && v <= UNIFORM_LIMIT;
    u32::from(v > 0.0) | (u32::from(!safe) << 1)
}

/// The class of a group from its OR-ed flags.
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

/// The last source index a span reads, as `tables::vertical` reads it on an
/// axis of `n` sources: plain bilinear clamps its second tap, the FMA chain
/// does not.
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
    /// Largest, over outputs, of the sum of its weights (in f64: exact
    /// enough for a bound).
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

/// The smallest horizontal-pass value the foreground shortcut accepts for an
/// image whose vertical table has statistics `y`, thresholded at `threshold`
/// (`≥ 0`): `+inf` when no bound can be proven (a zero peak weight, huge
/// sums: background only), NaN when the table allows no shortcut at all. See
/// the module docs for the argument.
pub fn foreground_bound(y: &WeightStats, threshold: f32) -> f32 {
    if !(y.usable && threshold >= 0.0) {
        return f32::NAN;
    }
    let heavy = y.max_sum * f64::from(UNIFORM_LIMIT) * 2.0 >= 1.701_411_834_604_692_3e38; // 2^127
    if y.min_peak <= 0.0 || heavy || y.max_taps > MAX_TAPS {
        return f32::INFINITY;
    }
    // Powers of two from the smallest subnormal up: the first that passes.
    let mut b = f32::from_bits(1);
    while b <= 1.0 {
        if y.min_peak * b > threshold {
            return b;
        }
        b *= 2.0;
    }
    f32::INFINITY
}

/// The class of output rows `[y0, y0 + n)` of one column from its
/// horizontal-pass values: `h(r)` is the value of source row `lo + r` for the
/// rows `[lo, lo + rows)` that are stored, `y` the vertical table (`spans` of
/// the output rows, `win_h` sources). Rows reading a source row outside the
/// stored ones, or more than [`GROUP_TAPS`] of them, are mixed. The device
/// runs this very function (`device/masks/ctx.rs`).
#[inline(always)]
pub fn group_class(
    first: TapSpan,
    last: TapSpan,
    bilinear: bool,
    win_h: u32,
    (lo, rows): (u32, u32),
    bound: f32,
    h: impl Fn(u32) -> f32,
) -> u32 {
    let a = tap_index(first, 0, win_h).wrapping_sub(lo);
    let b = last_tap(bilinear, last, win_h).wrapping_sub(lo);
    if a >= rows || b >= rows || b < a || b - a >= GROUP_TAPS {
        return MIXED;
    }
    let mut flags = 0;
    let mut r = a;
    while r <= b {
        flags |= value_flags(h(r), bound);
        r += 1;
    }
    class_of(flags)
}

#[cfg(test)]
mod tests;
