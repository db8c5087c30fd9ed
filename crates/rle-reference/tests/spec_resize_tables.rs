//! SPEC §3.6–§3.8: antialiased weight tables and full 2-D resizes, bit for bit.

// Float literals are copied verbatim from SPEC §3.8.
#![allow(clippy::excessive_precision)]

use ndarray::Array2;
use rle_reference::resize::antialiased::{axis_params, resize_antialiased, AxisTable};

/// Asserts output `i` of `table` starts at `start` with exactly these weight bits.
fn assert_taps(table: &AxisTable, i: usize, start: usize, bits: &[u32]) {
    let (s, w) = table.taps(i);
    let got: Vec<u32> = w.iter().map(|v| v.to_bits()).collect();
    assert_eq!((s, got.as_slice()), (start, bits), "output {i}");
}

const ONE: u32 = 0x3F80_0000;

#[test]
fn upsampling_78_to_1080() {
    let (scale, support, invscale) = axis_params(78, 1080);
    assert_eq!(
        (scale.to_bits(), support, invscale),
        (0x3D93_E93F, 1.0, 1.0)
    );
    let t = AxisTable::new(78, 1080);
    assert_eq!(t.stride, 3);
    for i in 0..=6 {
        assert_taps(&t, i, 0, &[ONE]);
    }
    assert_taps(&t, 7, 0, &[0x3F75_5555, 0x3D2A_AAB0]);
    assert_taps(&t, 8, 0, &[0x3F62_D82D, 0x3DE9_3E98]);
    assert_taps(&t, 21, 1, &[0x3F72_7D27, 0x3D58_2D90]);
    assert_taps(&t, 539, 38, &[0x3F09_3E77, 0x3EED_8312]);
    assert_taps(&t, 1072, 76, &[0x3D2A_A720, 0x3F75_558E]);
    for i in 1073..1080 {
        assert_taps(&t, i, 77, &[ONE]);
    }
}

#[test]
fn downsampling_78_to_50() {
    let (scale, support, invscale) = axis_params(78, 50);
    assert_eq!(
        (scale.to_bits(), support.to_bits(), invscale.to_bits()),
        (0x3FC7_AE14, 0x3FC7_AE14, 0x3F24_1A42)
    );
    let t = AxisTable::new(78, 50);
    assert_eq!(t.stride, 5);
    assert_taps(&t, 0, 0, &[0x3F1A_90E8, 0x3ECA_DE30]);
    assert_taps(&t, 1, 1, &[0x3E92_4925, 0x3F0E_38E3, 0x3E22_8A26]);
    assert_taps(&t, 2, 2, &[0x3D8F_B828, 0x3F02_3EE1, 0x3ED7_9433]);
    assert_taps(&t, 25, 38, &[0x3DEE_EF33, 0x3F08_888D, 0x3EB3_3318]);
    assert_taps(&t, 49, 76, &[0x3ECA_DE5D, 0x3F1A_90D1]);
}

fn bits_of(a: &Array2<f32>) -> Vec<u32> {
    a.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn full_2d_upsampling_3x4_to_5x6() {
    let rows = [
        [-2.0, 1.0, 3.0, -1.0],
        [0.5, -0.25, 2.0, -3.0],
        [1.0, 1.0, -1.0, -1.0],
    ];
    let src = Array2::from_shape_fn((3, 4), |(r, c)| rows[r][c]);
    let out = resize_antialiased(src.view(), 5, 6);
    #[rustfmt::skip]
    let want = [
        0xC0000000, 0xBF000000, 0x3FAAAAAC, 0x402AAAAB, 0x3F7FFFF8, 0xBF800000,
        0xBF7FFFFE, 0xBE7FFFFE, 0x3F59999C, 0x40100000, 0x3ECCCCB9, 0xBFE66667,
        0x3F000000, 0x3E000004, 0x3E00000E, 0x3FD00000, 0xBF00000A, 0xC03FFFFF,
        0x3F4CCCCE, 0x3F266668, 0x3EE66668, 0x3E7FFFE9, 0xBF4CCCD2, 0xBFE66664,
        0x3F800000, 0x3F800000, 0x3F2AAAA8, 0xBF2AAAAC, 0xBF800000, 0xBF800000u32,
    ];
    assert_eq!(bits_of(&out), want);
    assert_eq!(out[[1, 2]].to_bits(), 0x3F59_999C);
}

#[test]
fn row_and_column_weights_of_the_2d_example() {
    let rows = AxisTable::new(3, 5);
    let (start, w) = rows.taps(2);
    assert_eq!((start, w[0]), (1, 0.999_999_94));
    assert!((w[1] - 5.96e-8).abs() < 1e-10, "{}", w[1]);
    assert_eq!(rows.taps(1).1, &[0.599_999_96, 0.400_000_04]);
    let cols = AxisTable::new(4, 6);
    assert_eq!(cols.taps(2), (1, &[0.833_333_25f32, 0.166_666_75][..]));
    assert_eq!(cols.taps(4), (2, &[0.499_999_88f32, 0.500_000_12][..]));
}

#[test]
fn full_2d_downsampling_6x6_to_4x3() {
    let src = Array2::from_shape_fn((6, 6), |(r, c)| 0.25 * (6 * r + c) as f32 - 4.0);
    let out = resize_antialiased(src.view(), 4, 3);
    #[rustfmt::skip]
    let want = [
        0xC050924A, 0xC0340000, 0xC0176DB7,
        0xBF93CF3E, 0xBF355556, 0xBE861864,
        0x3F818619, 0x3FBAAAAB, 0x3FF3CF3D,
        0x40476DB7, 0x40640000, 0x40804925u32,
    ];
    assert_eq!(bits_of(&out), want);
}

#[test]
fn same_size_on_both_axes_is_the_identity_even_for_inf_and_nan() {
    let src = Array2::from_shape_vec((2, 2), vec![f32::INFINITY, 1.0, f32::NAN, -0.0]).unwrap();
    let out = resize_antialiased(src.view(), 2, 2);
    assert_eq!(bits_of(&out), bits_of(&src));
}

#[test]
fn same_size_on_one_axis_still_runs_the_arithmetic() {
    // Width 2 → 2 has weights (1, 0): an inf neighbour turns into inf·0 = NaN (§3.4, §3.5).
    let src = Array2::from_shape_vec((1, 2), vec![1.0, f32::INFINITY]).unwrap();
    let out = resize_antialiased(src.view(), 3, 2);
    assert!(out[[0, 0]].is_nan(), "{out:?}");
    assert_eq!(out[[0, 1]], f32::INFINITY);
}

#[test]
fn nan_in_a_span_poisons_even_with_zero_weight() {
    // Upsampling 2 → 8: border outputs have one tap of weight 1; interior two taps.
    let src = Array2::from_shape_vec((1, 2), vec![f32::NAN, 1.0]).unwrap();
    let out = resize_antialiased(src.view(), 1, 8);
    let t = AxisTable::new(2, 8);
    for ox in 0..8 {
        let (start, _) = t.taps(ox);
        assert_eq!(
            out[[0, ox]].is_nan(),
            start == 0,
            "output {ox}: {:?}",
            out[[0, ox]]
        );
    }
}
