//! Attacks on the uniform-group argument: rectangles filled with the most
//! hostile values each class admits (the bound itself, subnormals, the upper
//! limit, `-inf` next to zero weights, NaN, signed zeros), on real and on
//! hand-made tables (zero, subnormal and tiny weights), checked pixel by
//! pixel with the reference arithmetic (`tables::eval_*`).

extern crate std;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::abi::dtype;
use crate::tables::{
    aa_slots, build_aa, build_bilinear, eval_aa, eval_bilinear, foreground_threshold,
};
use crate::test_rng::below;

/// One resize axis: `n` sources, `m` outputs.
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

/// Values a foreground rectangle may hold for this bound.
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

/// Values a background rectangle may hold.
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

/// Outside the rectangle: anything at all.
fn any_pool(b: f32) -> Vec<f32> {
    let mut v = fg_pool(b);
    v.extend(BG_POOL);
    v.extend([f32::INFINITY, f32::MAX, 1e-45, 1e-38]);
    if b.is_finite() && b > f32::from_bits(1) {
        v.push(next_down(b));
    }
    v
}

/// Checks every pixel of output rectangle `[y0, y1] × [x0, x1]` after
/// filling its source rectangle with values of `class`.
#[allow(clippy::too_many_arguments)]
fn attack(
    rng: &mut dyn FnMut(u64) -> u64,
    ax: &Axis,
    ay: &Axis,
    bilinear: bool,
    (y0, y1, x0, x1): (u32, u32, u32, u32),
    class: u32,
    bound: f32,
    threshold: f32,
) -> bool {
    let (sy0, sy1) = (
        ay.spans[y0 as usize].first,
        last_tap(bilinear, ay.spans[y1 as usize], ay.n),
    );
    let (sx0, sx1) = (
        ax.spans[x0 as usize].first,
        last_tap(bilinear, ax.spans[x1 as usize], ax.n),
    );
    let (h, w) = (ay.n, ax.n);
    let (inside, outside) = (
        if class == FOREGROUND {
            fg_pool(bound)
        } else {
            BG_POOL.to_vec()
        },
        any_pool(bound),
    );
    let mut win = vec![0f32; (h * w) as usize];
    let mut flags = 0;
    for y in 0..h {
        for x in 0..w {
            let rect = (sy0..=sy1).contains(&y) && (sx0..=sx1).contains(&x);
            let pool = if rect { &inside } else { &outside };
            let v = pool[rng(pool.len() as u64) as usize];
            win[(y * w + x) as usize] = v;
            if rect {
                flags |= logit_flags(v, bound);
            }
        }
    }
    assert_eq!(
        class_of(flags),
        class,
        "pool of class {class} at bound {bound:e}"
    );
    let src = |y: u32, x: u32| win[(y * w + x) as usize];
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (ys, xs) = (ay.spans[y as usize], ax.spans[x as usize]);
            let v = if bilinear {
                eval_bilinear(ys, ay.w(y), xs, ax.w(x), h, w, src)
            } else {
                eval_aa(ys, ay.w(y), xs, ax.w(x), src)
            };
            assert_eq!(
                v > threshold,
                class == FOREGROUND,
                "pixel ({y}, {x}) = {v:e}, bound {bound:e}, threshold {threshold:e}"
            );
        }
    }
    true
}

/// Random output rectangles of random tables, both classes, every dtype's
/// threshold.
fn run_attacks(
    seed: u64,
    cases: u32,
    make: impl Fn(&mut dyn FnMut(u64) -> u64, bool) -> (Axis, Axis),
) -> u32 {
    let mut rng = below(seed);
    let mut checked = 0;
    for _ in 0..cases {
        let bilinear = rng(2) == 0;
        let (ax, ay) = make(&mut rng, bilinear);
        let (sx, sy) = (ax.stats(bilinear), ay.stats(bilinear));
        assert!(sx.usable && sy.usable, "tables of this test are usable");
        let thr = foreground_threshold([dtype::F32, dtype::F16, dtype::BF16][rng(3) as usize]);
        let bound = foreground_bound(&sx, &sy, thr);
        assert!(shortcuts_allowed(bound), "bound {bound}");
        let (m_y, m_x) = (ay.spans.len() as u64, ax.spans.len() as u64);
        let y0 = rng(m_y) as u32;
        let y1 = (y0 + rng(8) as u32).min(m_y as u32 - 1);
        let x0 = rng(m_x) as u32;
        let x1 = (x0 + rng(3) as u32).min(m_x as u32 - 1);
        let class = if bound.is_finite() && rng(2) == 0 {
            FOREGROUND
        } else {
            BACKGROUND
        };
        if attack(
            &mut rng,
            &ax,
            &ay,
            bilinear,
            (y0, y1, x0, x1),
            class,
            bound,
            thr,
        ) {
            checked += 1;
        }
    }
    checked
}

#[test]
fn uniform_rectangles_of_real_tables_decide_every_pixel() {
    let n = run_attacks(0x9E37_79B9_7F4A_7C15, 3000, |rng, bilinear| {
        let (nx, ny) = (1 + rng(40) as u32, 1 + rng(40) as u32);
        let (mx, my) = (1 + rng(300) as u32, 1 + rng(300) as u32);
        (Axis::built(nx, mx, bilinear), Axis::built(ny, my, bilinear))
    });
    assert_eq!(n, 3000);
}

#[test]
fn uniform_rectangles_of_hostile_tables_decide_every_pixel() {
    let n = run_attacks(0xD1B5_4A32_D192_ED03, 4000, |rng, bilinear| {
        (Axis::hostile(rng, bilinear), Axis::hostile(rng, bilinear))
    });
    assert_eq!(n, 4000);
}

#[test]
fn the_bound_is_tiny_for_the_tables_of_real_frames() {
    // 78/108/156-pixel masks to video sizes and down, both resize modes: a
    // logit is decided by its sign from 2^6 times the threshold up (f16,
    // bf16), or from 2^-100 up (f32, threshold 0).
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
            let a = Axis::built(n, m, bilinear);
            let s = a.stats(bilinear);
            assert!(s.usable, "{n}->{m} bilinear={bilinear}");
            for dt in [dtype::F32, dtype::F16, dtype::BF16] {
                let thr = foreground_threshold(dt);
                let b = foreground_bound(&s, &s, thr);
                assert!(
                    b > 0.0 && b <= 64.0 * thr.max(2f32.powi(-106)),
                    "{n}->{m} bilinear={bilinear} dtype {dt}: bound {b:e}"
                );
            }
        }
    }
}

#[test]
fn tables_that_break_the_argument_turn_it_off() {
    let good = Axis::built(10, 37, false);
    let ok = good.stats(false);
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
        let b = foreground_bound(&s, &ok, 0.0);
        assert!(b.is_nan() && !shortcuts_allowed(b));
    }
    // A span of zero weights: background still follows, foreground never.
    let mut zero = Axis::built(10, 37, true);
    zero.weights[8] = 0.0;
    zero.weights[9] = 0.0;
    let b = foreground_bound(&zero.stats(true), &ok, 0.0);
    assert!(b == f32::INFINITY && shortcuts_allowed(b));
}

#[test]
fn values_the_argument_cannot_decide_are_mixed() {
    let b = foreground_bound(
        &Axis::built(78, 1080, true).stats(true),
        &Axis::built(78, 1920, true).stats(true),
        0.0,
    );
    for v in [
        next_down(b),
        f32::INFINITY,
        next_up(UNIFORM_LIMIT),
        f32::MAX,
    ] {
        assert_eq!(
            class_of(logit_flags(v, b) | logit_flags(1.0, b)),
            MIXED,
            "{v:e}"
        );
    }
    // Mixed signs are mixed; NaN and zeros side with the background.
    assert_eq!(class_of(logit_flags(1.0, b) | logit_flags(-1.0, b)), MIXED);
    assert_eq!(
        class_of(logit_flags(f32::NAN, b) | logit_flags(0.0, b) | logit_flags(-0.0, b)),
        BACKGROUND
    );
    assert_eq!(
        class_of(logit_flags(b, b) | logit_flags(UNIFORM_LIMIT, b)),
        FOREGROUND
    );
}

#[test]
fn the_upper_limit_is_needed() {
    // Positive logits near f32::MAX through weights summing to 2 overflow
    // the horizontal pass to +inf; a zero vertical weight then makes 0·inf =
    // NaN: background, although every logit is positive. Below the limit the
    // same table keeps every partial sum finite.
    let span = TapSpan { first: 0, count: 2 };
    let (xw, yw) = ([1.0f32, 1.0], [0.0f32, 1.0]);
    let v = eval_bilinear(span, &yw, span, &xw, 2, 2, |_, _| f32::MAX);
    assert!(v.is_nan());
    let v = eval_bilinear(span, &yw, span, &xw, 2, 2, |_, _| UNIFORM_LIMIT);
    assert!(v > 0.0 && v.is_finite());
}
