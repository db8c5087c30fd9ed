//! SPEC §2.1 worked values of the CPU sigmoid (saturation, underflow, specials).

// Float literals are copied verbatim from SPEC §2.1.
#![allow(clippy::excessive_precision)]

use rle_reference::sigmoid::{sigmoid, ulp_distance, SIGMOID_TOLERANCE_ULP};

#[test]
fn saturation_edge_matches_spec() {
    assert_eq!(sigmoid(16.6), 0.999_999_88);
    assert_eq!(sigmoid(16.6).to_bits(), 0x3F7F_FFFE);
    assert_eq!(sigmoid(16.7), 1.0);
    assert_eq!(sigmoid(100.0), 1.0);
}

#[test]
fn deep_negative_values_match_spec() {
    assert_eq!(sigmoid(-87.0), 1.645_811_5e-38);
    // expf(-x) overflows below about -88.72: the reciprocal of inf is 0.
    assert_eq!(sigmoid(-88.8), 0.0);
    assert_eq!(sigmoid(-1000.0), 0.0);
}

#[test]
fn specials() {
    assert_eq!(sigmoid(f32::INFINITY), 1.0);
    assert_eq!(sigmoid(f32::NEG_INFINITY), 0.0);
    assert!(sigmoid(f32::NAN).is_nan());
    assert_eq!(sigmoid(0.0), 0.5);
    assert_eq!(sigmoid(-0.0), 0.5);
}

#[test]
fn spec_e2e_scores_are_bit_exact() {
    // §4.4: sigmoid(2.0) and sigmoid(1.2) as CUDA computes them.
    assert_eq!(sigmoid(2.0).to_bits(), 0x3F61_7BEA);
    assert_eq!(sigmoid(1.2).to_bits(), 0x3F44_BE0B);
}

#[test]
fn close_to_the_correctly_rounded_sigmoid_on_a_grid() {
    // CUDA is itself up to 3 ulp from the correctly rounded value (§2.1), so allow 2×.
    let mut worst = 0;
    for i in -200_000..=200_000 {
        let x = i as f32 * 1e-4;
        let exact = (1.0 / (1.0 + (-f64::from(x)).exp())) as f32;
        worst = worst.max(ulp_distance(sigmoid(x), exact));
    }
    assert!(worst <= 2 * SIGMOID_TOLERANCE_ULP, "worst {worst} ulp");
    assert!(
        worst > 0,
        "the CUDA sequence is not correctly rounded, so some inputs must differ"
    );
}

#[test]
fn monotone_on_a_grid() {
    let mut prev = 0.0f32;
    for i in -100_000..=100_000 {
        let s = sigmoid(i as f32 * 1e-3);
        assert!(s >= prev, "not monotone at {}", i as f32 * 1e-3);
        prev = s;
    }
}
