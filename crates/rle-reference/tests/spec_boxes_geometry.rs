//! SPEC §2.6 box arithmetic and §2.7a mask-pad rounding, including the edge cases of §5.

mod common;

use ndarray::Array2;
use rle_reference::boxes::{box_xyxy, box_xyxy_f32};
use rle_reference::geometry::{MaskPads, MaskWindow};
use rle_reference::{ImageMeta, Size, StaticCrop};

fn meta(original: Size, inference: Size) -> ImageMeta {
    ImageMeta::stretch(original, inference)
}

#[test]
fn division_is_a_true_ieee_division_by_the_f32_scale() {
    // 0.1f / f32(0.3) = 0.33333331 (0x3EAAAAAA); torch's scalar path, a multiply by the
    // reciprocal, would give 0.33333334 (§2.6).
    let mut m = meta(Size::new(100, 100), Size::new(1, 1));
    m.scale_width = 0.3;
    let [x1, ..] = box_xyxy_f32([0.1, 0.5, 0.0, 0.0], &m);
    assert_eq!(x1.to_bits(), 0x3EAA_AAAA);
    assert_eq!((0.1f32 * (1.0 / 0.3f32)).to_bits(), 0x3EAA_AAAB);
}

#[test]
fn rounding_is_half_to_even_on_boxes() {
    // Width 0 boxes at x = 0.5, 1.5, 2.5 (denorm 1, scale 1): 0, 2, 2.
    let m = meta(Size::new(10, 10), Size::new(1, 1));
    let mut m = ImageMeta {
        scale_width: 1.0,
        scale_height: 1.0,
        ..m
    };
    m.inference_size = Size::new(1, 1);
    for (cx, want) in [(0.5, 0), (1.5, 2), (2.5, 2), (3.5, 4)] {
        assert_eq!(box_xyxy([cx, 0.0, 0.0, 0.0], &m)[0], want, "cx = {cx}");
    }
}

#[test]
fn negative_pads_add_and_offsets_apply_only_when_pasting() {
    let mut m = meta(Size::new(100, 100), Size::new(10, 10));
    m.scale_width = 1.0;
    m.scale_height = 1.0;
    m.pad_left = -3;
    m.pad_top = 2;
    assert_eq!(box_xyxy_f32([0.5, 0.5, 0.2, 0.2], &m), [7.0, 2.0, 9.0, 4.0]);
    // A (0,0)-anchored crop adds nothing; an offset crop adds its offset.
    m.static_crop = StaticCrop {
        offset_x: 0,
        offset_y: 0,
        width: 50,
        height: 50,
    };
    assert_eq!(box_xyxy_f32([0.5, 0.5, 0.2, 0.2], &m), [7.0, 2.0, 9.0, 4.0]);
    m.static_crop = StaticCrop {
        offset_x: 5,
        offset_y: 1,
        width: 50,
        height: 50,
    };
    assert_eq!(
        box_xyxy_f32([0.5, 0.5, 0.2, 0.2], &m),
        [12.0, 3.0, 14.0, 5.0]
    );
}

#[test]
fn nan_and_inf_coordinates() {
    let m = meta(Size::new(10, 12), Size::new(32, 32));
    // NaN survives the clamp and converts to 0; ±inf clamp to the image bounds.
    assert_eq!(box_xyxy([f32::NAN, 0.5, 0.2, 0.2], &m), [0, 4, 0, 6]);
    assert_eq!(box_xyxy([0.5, 0.5, f32::INFINITY, 0.2], &m), [0, 4, 12, 6]);
    // Fully outside the image: a zero-width box, still produced.
    assert_eq!(box_xyxy([2.0, 0.5, 0.2, 0.2], &m), [12, 4, 12, 6]);
    // Negative width is not clamped: x1 > x2.
    assert_eq!(box_xyxy([0.5, 0.5, -0.5, 0.2], &m), [9, 4, 3, 6]);
}

#[test]
fn mask_pads_ratio_first_then_product_half_to_even() {
    let mut m = meta(Size::new(500, 500), Size::new(432, 640));
    m.pad_top = 54; // (108/432)*54 = 13.5 → 14
    m.pad_bottom = 58; // (108/432)*58 = 14.5 → 14
    m.pad_left = 140; // (108/640)*140 = 23.625 → 24
    m.pad_right = -140; // negative: zero padding of 24 columns
    let pads = MaskPads::new(108, 108, &m);
    assert_eq!(
        pads,
        MaskPads {
            top: 14,
            bottom: 14,
            left: 24,
            right: -24
        }
    );
    let w = MaskWindow::from_pads(108, 108, pads).unwrap();
    assert_eq!(
        w,
        MaskWindow {
            top: 14,
            left: 24,
            height: 80,
            width: 108
        }
    );
}

#[test]
fn window_extract_crops_and_zero_pads() {
    let src = Array2::from_shape_fn((3, 3), |(r, c)| (r * 3 + c) as f32 + 1.0);
    let w = MaskWindow {
        top: -1,
        left: 1,
        height: 3,
        width: 3,
    };
    let got = w.extract(src.view());
    let want =
        Array2::from_shape_vec((3, 3), vec![0.0, 0.0, 0.0, 2.0, 3.0, 0.0, 5.0, 6.0, 0.0]).unwrap();
    assert_eq!(got, want);
}

#[test]
fn empty_windows_are_none() {
    let pads = MaskPads {
        top: 4,
        bottom: 4,
        left: 0,
        right: 0,
    };
    assert_eq!(MaskWindow::from_pads(8, 8, pads), None);
    let pads = MaskPads {
        top: i64::MAX,
        bottom: i64::MAX,
        left: 0,
        right: 0,
    };
    assert_eq!(MaskWindow::from_pads(8, 8, pads), None);
}
