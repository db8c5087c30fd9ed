//! The encoded grid of inference-models 0.39.6 (SPEC §10): resize target, canvas,
//! offsets and the box chain's constants, against values computed with Python's
//! doubles and `round`, plus the factor's validation.

use rle_reference::geometry::MaskGrid;
use rle_reference::{validate, CanvasRule, ImageMeta, Options, Size, StaticCrop};

mod common;

fn cropped() -> ImageMeta {
    // A 1536×972 crop at (192, 54) of a 1920×1080 frame, stretched to 432².
    ImageMeta {
        original_size: Size::new(1080, 1920),
        static_crop: StaticCrop {
            offset_x: 192,
            offset_y: 54,
            width: 1536,
            height: 972,
        },
        size_after_pre_processing: Size::new(972, 1536),
        scale_width: 0.28125,
        scale_height: 0.4444444444444444,
        ..ImageMeta::stretch(Size::new(1080, 1920), Size::new(432, 432))
    }
}

#[test]
fn target_interpolates_with_python_rounding() {
    let s = Size::new(1080, 1920);
    assert_eq!(MaskGrid::target(78, 78, s, 1.0), s);
    assert_eq!(MaskGrid::target(78, 78, s, 0.0), Size::new(78, 78));
    assert_eq!(MaskGrid::target(78, 78, s, 0.5), Size::new(579, 999));
    // 77·0.5 + 100·0.5 = 88.5 → 88 (half to even).
    assert_eq!(
        MaskGrid::target(77, 77, Size::new(100, 100), 0.5),
        Size::new(88, 88)
    );
    // An image smaller than the window: the target lies between, above S.
    assert_eq!(
        MaskGrid::target(160, 160, Size::new(100, 100), 0.25),
        Size::new(145, 145)
    );
}

#[test]
fn crop_with_factor_below_one_builds_the_scaled_canvas() {
    let m = cropped();
    let g = MaskGrid::new(108, 108, &m, 0.5, CanvasRule::Current);
    // Python: Ht = 540, Wt = 822, offsets round(54·540/972) = 30, round(192·822/1536) = 103,
    // canvas max(1, round(1080·sh), 30 + 540) = 600, max(1, round(1920·sw), 103 + 822) = 1028.
    assert_eq!(g.target, Size::new(540, 822));
    assert_eq!((g.offset_y, g.offset_x), (30, 103));
    assert_eq!(g.canvas, Size::new(600, 1028));
    assert_eq!(g.box_scale_w, 0.28125 * (1536.0 / 822.0));
    assert_eq!(g.box_scale_w, 0.5255474452554745);
    assert_eq!(g.box_scale_h, 0.7999999999999999);
    assert!(g.add_box_offset && g.box_offset == (103, 30));
    assert_eq!(g.box_clamp, g.canvas);
    assert!(!g.int_boxes, "the canvas is not the image: float boxes");
}

#[test]
fn factor_one_keeps_the_image_grid_and_integer_boxes() {
    let m = cropped();
    let g = MaskGrid::new(108, 108, &m, 1.0, CanvasRule::Current);
    assert_eq!(g.canvas, m.original_size);
    assert_eq!((g.offset_y, g.offset_x), (54, 192));
    assert_eq!(
        (g.box_scale_w, g.box_scale_h),
        (m.scale_width, m.scale_height)
    );
    assert!(g.int_boxes);
    // Legacy and current agree here (non-zero offset).
    let l = MaskGrid::new(108, 108, &m, 1.0, CanvasRule::LegacyOriginCrop);
    assert_eq!((l.canvas, l.offset_y, l.offset_x), (g.canvas, 54, 192));
}

#[test]
fn stretch_without_canvas_encodes_the_target() {
    let m = ImageMeta::stretch(Size::new(720, 1280), Size::new(312, 312));
    let g = MaskGrid::new(78, 78, &m, 0.25, CanvasRule::Current);
    assert_eq!(g.canvas, g.target);
    assert_eq!((g.offset_y, g.offset_x), (0, 0));
    assert!(!g.add_box_offset && !g.int_boxes);
    // When T happens to equal O the boxes are integers again.
    let same = MaskGrid::new(720, 1280, &m, 0.3, CanvasRule::Current);
    assert_eq!(same.target, m.original_size);
    assert!(same.int_boxes);
}

#[test]
fn the_factor_is_validated_like_the_package() {
    let t = common::spec_e2e_tensors();
    let meta = common::spec_e2e_case1();
    for bad in [
        f64::NAN,
        -0.01,
        1.0 + f64::EPSILON,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        let opts = Options {
            masks_resolution_factor: bad,
            ..common::spec_e2e_options()
        };
        let e = validate(&t.batch(), std::slice::from_ref(&meta), &opts).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("opts.masks_resolution_factor")
                && msg.contains("must be finite and in [0.0, 1.0]"),
            "{bad}: {msg}"
        );
    }
    for ok in [0.0, 0.5, 1.0] {
        let opts = Options {
            masks_resolution_factor: ok,
            ..common::spec_e2e_options()
        };
        validate(&t.batch(), std::slice::from_ref(&meta), &opts).unwrap();
    }
    let legacy = Options {
        masks_resolution_factor: 0.5,
        canvas: CanvasRule::LegacyOriginCrop,
        ..common::spec_e2e_options()
    };
    let e = validate(&t.batch(), std::slice::from_ref(&meta), &legacy).unwrap_err();
    assert!(e.to_string().contains("opts.canvas"), "{e}");
}
