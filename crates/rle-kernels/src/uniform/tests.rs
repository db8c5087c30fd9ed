//! Attacks on the uniform-group argument: the source rows a group reads filled
//! with the most hostile values each class admits (the bound itself,
//! subnormals, the upper limit, `-inf` next to zero weights, NaN, signed
//! zeros), on real and on hand-made vertical tables (zero, subnormal and tiny
//! weights), every output row checked with the reference arithmetic
//! (`tables::vertical`).

extern crate std;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::abi::dtype;
use crate::tables::{aa_slots, build_aa, build_bilinear, foreground_threshold, vertical};
use crate::test_rng::below;

/// One vertical resize axis: `n` sources, `spans.len()` outputs.
struct Axis {
    n: u32,
    spans: Vec<TapSpan>,
    weights: Vec<f32>,
    slots: u32,
}

impl Axis {
    fn built(n: u32, m: u32, bilinear: bool) -> Self {
        let slots = if bilinear { 2 } else { aa_slots(n, m) };
        let mut spans = vec![TapSpan::default(); m as usize];
        let mut weights = vec![0f32; (m * slots) as usize];
        if bilinear {
            build_bilinear(n, m, &mut spans, &mut weights).unwrap();
        } else {
            build_aa(n, m, slots, &mut spans, &mut weights).unwrap();
        }
        Axis {
            n,
            spans,
            weights,
            slots,
        }
    }

    /// Monotone spans with hostile weights: zeros, subnormals, tiny values.
    fn hostile(rng: &mut dyn FnMut(u64) -> u64, bilinear: bool) -> Self {
        let n = 1 + rng(12) as u32;
        let m = 1 + rng(40) as u32;
        let slots = if bilinear { 2 } else { 1 + rng(4) as u32 };
        let pool = [
            0.0,
            f32::from_bits(1),
            f32::from_bits(0x0040_0000),
            1e-30,
            1e-10,
            0.25,
            0.5,
            1.0,
        ];
        let (mut first, mut spans, mut weights) = (0u32, Vec::new(), Vec::new());
        for _ in 0..m {
            first = (first + rng(2) as u32).min(n - 1);
            let count = if bilinear {
                2
            } else {
                (1 + rng(u64::from(slots)) as u32).min(n - first)
            };
            spans.push(TapSpan { first, count });
            for _ in 0..slots {
                weights.push(pool[rng(pool.len() as u64) as usize]);
            }
        }
        // Non-decreasing last taps for the FMA chain: extend a span that ends early.
        if !bilinear {
            let mut last = 0;
            for sp in &mut spans {
                last = u32::max(last, sp.first + sp.count - 1);
                sp.count = (last + 1 - sp.first).min(slots);
                last = sp.first + sp.count - 1;
            }
        }
        Axis {
            n,
            spans,
            weights,
            slots,
        }
    }

    fn stats(&self, bilinear: bool) -> WeightStats {
        weight_stats(self.n, &self.spans, &self.weights, self.slots, bilinear)
    }

    fn w(&self, i: u32) -> &[f32] {
        &self.weights[(i * self.slots) as usize..((i + 1) * self.slots) as usize]
    }
}

fn next_up(x: f32) -> f32 {
    f32::from_bits(x.to_bits() + 1)
}

fn next_down(x: f32) -> f32 {
    f32::from_bits(x.to_bits() - 1)
}

/// Values a foreground group may read for this bound.
fn fg_pool(b: f32) -> Vec<f32> {
    let mut v = vec![
        b,
        next_up(b),
        2.0 * b,
        UNIFORM_LIMIT,
        next_down(UNIFORM_LIMIT),
        1.0,
        3.5,
        1e6,
    ];
    v.extend(
        [1e-30f32, f32::MIN_POSITIVE, 1e-40, 0.001]
            .into_iter()
            .filter(|&x| x >= b),
    );
    v
}

/// Values a background group may read.
const BG_POOL: [f32; 8] = [
    0.0,
    -0.0,
    -1e-45,
    -1e-30,
    -1.0,
    f32::MIN,
    f32::NEG_INFINITY,
    f32::NAN,
];

/// Rows the group does not read: anything at all.
fn any_pool(b: f32) -> Vec<f32> {
    let mut v = fg_pool(b);
    v.extend(BG_POOL);
    v.extend([f32::INFINITY, f32::MAX, 1e-45, 1e-38]);
    if b.is_finite() && b > f32::from_bits(1) {
        v.push(next_down(b));
    }
    v
}

/// Fills the source rows output rows `[y0, y0 + n)` read with values of
/// `class` (all other rows with anything), checks that [`group_class`] says
/// `class` (or mixed, when the group reads too many rows) and that every one
/// of those output rows is decided that way by the reference arithmetic.
/// Returns whether the group was decided.
#[allow(clippy::too_many_arguments)]
fn attack(
    rng: &mut dyn FnMut(u64) -> u64,
    ay: &Axis,
    bilinear: bool,
    (y0, n): (u32, u32),
    class: u32,
    bound: f32,
    threshold: f32,
) -> bool {
    let y1 = y0 + n - 1;
    let (sy0, sy1) = (
        tap_index(ay.spans[y0 as usize], 0, ay.n),
        last_tap(bilinear, ay.spans[y1 as usize], ay.n),
    );
    let (inside, outside) = (
        if class == FOREGROUND {
            fg_pool(bound)
        } else {
            BG_POOL.to_vec()
        },
        any_pool(bound),
    );
    let h: Vec<f32> = (0..ay.n)
        .map(|sy| {
            let pool = if (sy0..=sy1).contains(&sy) {
                &inside
            } else {
                &outside
            };
            pool[rng(pool.len() as u64) as usize]
        })
        .collect();
    let got = group_class(
        ay.spans[y0 as usize],
        ay.spans[y1 as usize],
        bilinear,
        ay.n,
        (0, ay.n),
        bound,
        |r| h[r as usize],
    );
    if got == MIXED {
        assert!(sy1 - sy0 >= GROUP_TAPS, "a {class} group called mixed");
        return false;
    }
    assert_eq!(got, class, "rows {y0}..={y1}, bound {bound:e}");
    for y in y0..=y1 {
        let v = vertical(bilinear, ay.spans[y as usize], ay.w(y), ay.n, |sy| {
            h[sy as usize]
        });
        assert_eq!(
            v > threshold,
            class == FOREGROUND,
            "row {y} = {v:e}, bound {bound:e}, threshold {threshold:e}"
        );
    }
    true
}

/// Random groups of random tables, both classes, every dtype's threshold.
fn run_attacks(
    seed: u64,
    cases: u32,
    make: impl Fn(&mut dyn FnMut(u64) -> u64, bool) -> Axis,
) -> u32 {
    let mut rng = below(seed);
    let mut decided = 0;
    for _ in 0..cases {
        let bilinear = rng(2) == 0;
        let ay = make(&mut rng, bilinear);
        let sy = ay.stats(bilinear);
        assert!(sy.usable, "tables of this test are usable");
        let thr = foreground_threshold([dtype::F32, dtype::F16, dtype::BF16][rng(3) as usize]);
        let bound = foreground_bound(&sy, thr);
        assert!(shortcuts_allowed(bound), "bound {bound}");
        let m = ay.spans.len() as u32;
        let y0 = rng(u64::from(m)) as u32;
        let n = (1 + rng(8) as u32).min(m - y0);
        let class = if bound.is_finite() && rng(2) == 0 {
            FOREGROUND
        } else {
            BACKGROUND
        };
        if attack(&mut rng, &ay, bilinear, (y0, n), class, bound, thr) {
            decided += 1;
        }
    }
    decided
}

#[test]
fn uniform_groups_of_real_tables_decide_every_row() {
    let n = run_attacks(0x9E37_79B9_7F4A_7C15, 4000, |rng, bilinear| {
        Axis::built(1 + rng(40) as u32, 1 + rng(300) as u32, bilinear)
    });
    // Downscaling tables read many rows per group: those are mixed.
    assert!(n > 2500, "{n} of 4000 decided");
}

#[test]
fn uniform_groups_of_hostile_tables_decide_every_row() {
    let n = run_attacks(0xD1B5_4A32_D192_ED03, 6000, |rng, bilinear| {
        Axis::hostile(rng, bilinear)
    });
    assert!(n > 4000, "{n} of 6000 decided");
}

#[test]
fn the_bound_is_tiny_for_the_tables_of_real_frames() {
    // 78/108/156-pixel masks to video sizes and down, both resize modes: an h
    // value is decided by its sign from a few times the threshold up (f16,
    // bf16), or from 2^-140 up (f32, threshold 0).
    for &(n, m) in &[
        (78, 1080),
        (78, 1920),
        (78, 3840),
        (78, 176),
        (156, 720),
        (156, 100),
        (108, 78),
        (3, 2000),
    ] {
        for bilinear in [false, true] {
            let s = Axis::built(n, m, bilinear).stats(bilinear);
            assert!(s.usable, "{n}->{m} bilinear={bilinear}");
            for dt in [dtype::F32, dtype::F16, dtype::BF16] {
                let thr = foreground_threshold(dt);
                let b = foreground_bound(&s, thr);
                assert!(
                    b > 0.0 && b <= 8.0 * thr.max(f32::from_bits(1 << 9)), // 2^-140
                    "{n}->{m} bilinear={bilinear} dtype {dt}: bound {b:e}"
                );
            }
        }
    }
}

#[test]
fn tables_that_break_the_argument_turn_it_off() {
    let mut neg = Axis::built(10, 37, false);
    let at = (5 * neg.slots) as usize;
    neg.weights[at] = -1e-30;
    let mut nan = Axis::built(10, 37, true);
    nan.weights[5] = f32::NAN;
    let mut back = Axis::built(10, 37, true);
    back.spans[20].first = 0; // not monotone
    for (a, bilinear) in [(&neg, false), (&nan, true), (&back, true)] {
        let s = a.stats(bilinear);
        assert!(!s.usable);
        let b = foreground_bound(&s, 0.0);
        assert!(b.is_nan() && !shortcuts_allowed(b));
    }
    // A row of zero weights: background still follows, foreground never.
    let mut zero = Axis::built(10, 37, true);
    zero.weights[8] = 0.0;
    zero.weights[9] = 0.0;
    let b = foreground_bound(&zero.stats(true), 0.0);
    assert!(b == f32::INFINITY && shortcuts_allowed(b));
    assert_eq!(class_of(value_flags(1.0, b)), MIXED);
    // A negative threshold allows nothing.
    let ok = Axis::built(10, 37, true).stats(true);
    assert!(foreground_bound(&ok, -1.0).is_nan());
}

#[test]
fn values_the_argument_cannot_decide_are_mixed() {
    let b = foreground_bound(&Axis::built(78, 1080, true).stats(true), 0.0);
    for v in [
        next_down(b),
        f32::INFINITY,
        next_up(UNIFORM_LIMIT),
        f32::MAX,
    ] {
        assert_eq!(
            class_of(value_flags(v, b) | value_flags(1.0, b)),
            MIXED,
            "{v:e}"
        );
    }
    // Mixed signs are mixed; NaN and zeros side with the background.
    assert_eq!(class_of(value_flags(1.0, b) | value_flags(-1.0, b)), MIXED);
    assert_eq!(
        class_of(value_flags(f32::NAN, b) | value_flags(0.0, b) | value_flags(-0.0, b)),
        BACKGROUND
    );
    assert_eq!(
        class_of(value_flags(b, b) | value_flags(UNIFORM_LIMIT, b)),
        FOREGROUND
    );
}

#[test]
fn the_bound_is_the_smallest_that_works() {
    // Just below the bound, a row whose peak weight is the table's smallest
    // peak can round to the threshold: the shortcut would be wrong there.
    let a = Axis::built(78, 1080, true);
    let s = a.stats(true);
    for thr in [
        0.0,
        foreground_threshold(dtype::F16),
        foreground_threshold(dtype::BF16),
    ] {
        let b = foreground_bound(&s, thr);
        assert!(s.min_peak * b > thr);
        assert!(
            s.min_peak * (b / 2.0) <= thr,
            "bound {b:e} is not the smallest"
        );
    }
}

#[test]
fn groups_reading_rows_outside_the_stored_ones_are_mixed() {
    let a = Axis::built(20, 300, true);
    let (first, last) = (a.spans[100], a.spans[107]);
    let (lo, hi) = (first.first, last_tap(true, last, a.n));
    let fg = |_: u32| 1.0f32;
    let b = foreground_bound(&a.stats(true), 0.0);
    assert_eq!(
        group_class(first, last, true, a.n, (lo, hi - lo + 1), b, fg),
        FOREGROUND
    );
    // One stored row fewer at either end.
    assert_eq!(
        group_class(first, last, true, a.n, (lo + 1, hi - lo), b, fg),
        MIXED
    );
    assert_eq!(
        group_class(first, last, true, a.n, (lo, hi - lo), b, fg),
        MIXED
    );
    // Nothing stored.
    assert_eq!(group_class(first, last, true, a.n, (lo, 0), b, fg), MIXED);
}

#[test]
fn the_upper_limit_is_needed() {
    // Values near f32::MAX through weights summing to 2 overflow the vertical
    // pass to +inf; the limit keeps every partial sum finite.
    let span = TapSpan { first: 0, count: 2 };
    let v = vertical(false, span, &[1.0, 1.0], 2, |_| f32::MAX);
    assert!(v.is_infinite());
    let s = WeightStats {
        usable: true,
        min_peak: 1.0,
        max_sum: 2f64.powi(95),
        max_taps: 2,
    };
    assert_eq!(foreground_bound(&s, 0.0), f32::INFINITY);
    let v = vertical(false, span, &[1.0, 1.0], 2, |_| UNIFORM_LIMIT);
    assert!(v > 0.0 && v.is_finite());
}
