//! One test per `Error` family: the variant, and a message that names the field.

mod common;

use common::*;
use ndarray::{Array3, Array4};
use rle_reference::{
    postprocess, postprocess_with_scores, validate, Batch, Error, ImageMeta, MaskLogits, Size,
    StaticCrop, Threshold,
};

fn message(e: &Error) -> String {
    e.to_string()
}

#[test]
fn valid_inputs_pass() {
    let t = spec_e2e_tensors();
    validate(&t.batch(), &[spec_e2e_case1()], &spec_e2e_options()).unwrap();
    validate(&t.batch(), &[spec_e2e_case2()], &spec_e2e_options()).unwrap();
}

#[test]
fn shape_mismatch_names_the_tensor() {
    let t = spec_e2e_tensors();
    let boxes = Array3::<f32>::zeros((1, 3, 4));
    let batch = Batch {
        boxes: boxes.view(),
        ..t.batch()
    };
    let e = validate(&batch, &[spec_e2e_case1()], &spec_e2e_options()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ShapeMismatch {
                dim: 1,
                expected: 4,
                got: 3,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(message(&e).contains("batch.boxes"), "{e}");

    let masks = Array4::<f32>::zeros((2, 4, 8, 8));
    let batch = Batch {
        masks: MaskLogits::F32(masks.view()),
        ..t.batch()
    };
    let e = validate(&batch, &[spec_e2e_case1()], &spec_e2e_options()).unwrap_err();
    assert!(message(&e).contains("batch.masks"), "{e}");

    let scores = Array3::<f32>::zeros((1, 4, 2));
    let e = postprocess_with_scores(
        &t.batch(),
        scores.view(),
        &[spec_e2e_case1()],
        &spec_e2e_options(),
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::ShapeMismatch { dim: 2, .. }) && message(&e).contains("scores"),
        "{e}"
    );
}

#[test]
fn empty_dimensions_are_rejected() {
    let t = spec_e2e_tensors();
    let logits = Array3::<f32>::zeros((1, 4, 0));
    let batch = Batch {
        logits: logits.view(),
        ..t.batch()
    };
    let e = validate(&batch, &[spec_e2e_case1()], &spec_e2e_options()).unwrap_err();
    assert!(
        matches!(e, Error::EmptyDimension { .. }) && message(&e).contains("(C)"),
        "{e}"
    );

    let mut meta = spec_e2e_case1();
    meta.size_after_pre_processing = Size::new(0, 12);
    let e = validate(&t.batch(), &[meta], &spec_e2e_options()).unwrap_err();
    assert!(
        message(&e).contains("metas[0].size_after_pre_processing.height"),
        "{e}"
    );
}

#[test]
fn overflowing_sizes_are_rejected() {
    let t = spec_e2e_tensors();
    let mut meta = spec_e2e_case1();
    meta.original_size = Size::new(70_000, 70_000);
    meta.size_after_pre_processing = Size::new(10, 12);
    let e = validate(&t.batch(), &[meta], &spec_e2e_options()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::SizeOverflow {
                a: 70_000,
                b: 70_000,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(message(&e).contains("metas[0].original_size"), "{e}");
}

#[test]
fn meta_count_must_match_the_batch() {
    let t = spec_e2e_tensors();
    let e = validate(
        &t.batch(),
        &[spec_e2e_case1(), spec_e2e_case1()],
        &spec_e2e_options(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        Error::MetaCount {
            expected: 1,
            got: 2
        }
    );
    assert!(message(&e).contains("metas"), "{e}");
}

#[test]
fn scales_must_be_finite_and_positive() {
    let t = spec_e2e_tensors();
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300] {
        let mut meta = spec_e2e_case1();
        meta.scale_height = bad;
        let e = validate(&t.batch(), &[meta], &spec_e2e_options()).unwrap_err();
        assert!(matches!(e, Error::InvalidScale { .. }), "{bad}: {e:?}");
        assert!(message(&e).contains("metas[0].scale_height"), "{e}");
    }
}

#[test]
fn thresholds_must_be_usable() {
    let t = spec_e2e_tensors();
    let mut opts = spec_e2e_options();
    opts.threshold = Threshold::Scalar(f64::NAN);
    let e = validate(&t.batch(), &[spec_e2e_case1()], &opts).unwrap_err();
    assert!(
        matches!(e, Error::InvalidThreshold { .. }) && message(&e).contains("opts.threshold"),
        "{e}"
    );
    opts.threshold = Threshold::PerClass(vec![]);
    let e = validate(&t.batch(), &[spec_e2e_case1()], &opts).unwrap_err();
    assert!(
        message(&e).contains("opts.threshold") && message(&e).contains("empty"),
        "{e}"
    );
    opts.threshold = Threshold::PerClass(vec![0.5, f32::NAN]);
    let e = validate(&t.batch(), &[spec_e2e_case1()], &opts).unwrap_err();
    assert!(message(&e).contains("opts.threshold[1]"), "{e}");
}

#[test]
fn class_mapping_entries_must_be_ids_or_minus_one() {
    let t = spec_e2e_tensors();
    let mut opts = spec_e2e_options();
    opts.class_mapping = Some(vec![0, -1, -2]);
    let e = validate(&t.batch(), &[spec_e2e_case1()], &opts).unwrap_err();
    assert!(
        matches!(e, Error::InvalidClassMapping { value: -2, .. }),
        "{e:?}"
    );
    assert!(message(&e).contains("opts.class_mapping[2]"), "{e}");
}

#[test]
fn the_paste_must_fit_in_the_original_image_under_the_legacy_rule() {
    // Only the legacy rule pastes on `O`; the current canvas grows (validation_audit.rs).
    let t = spec_e2e_tensors();
    let mut meta = spec_e2e_case2();
    meta.static_crop = StaticCrop {
        offset_x: 9,
        offset_y: 2,
        width: 12,
        height: 10,
    };
    let legacy = rle_reference::Options {
        canvas: rle_reference::CanvasRule::LegacyOriginCrop,
        ..spec_e2e_options()
    };
    let e = validate(&t.batch(), &[meta], &legacy).unwrap_err();
    assert!(
        matches!(
            e,
            Error::CropOutsideImage {
                axis: "x",
                offset: 9,
                len: 12,
                bound: 20,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(message(&e).contains("metas[0].static_crop"), "{e}");
}

#[test]
fn the_mask_window_must_not_be_empty() {
    let t = spec_e2e_tensors();
    let mut meta = spec_e2e_case2();
    meta.pad_top = 16;
    meta.pad_bottom = 16;
    let e = validate(&t.batch(), &[meta], &spec_e2e_options()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::EmptyMaskWindow {
                top: 4,
                bottom: 4,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(message(&e).contains("metas[0].pad_top"), "{e}");
}

#[test]
fn extreme_downscale_is_refused_like_cuda() {
    // 1000×1000 masks → 3×3 (SPEC §3.5).
    let logits = Array3::from_elem((1, 1, 2), 1.0f32);
    let boxes = Array3::from_elem((1, 1, 4), 0.5f32);
    let masks = Array4::<f32>::zeros((1, 1, 1000, 1000));
    let batch = Batch {
        logits: logits.view(),
        boxes: boxes.view(),
        masks: MaskLogits::F32(masks.view()),
    };
    let meta = ImageMeta::stretch(Size::new(3, 3), Size::new(4000, 4000));
    let e = postprocess(&batch, std::slice::from_ref(&meta), &spec_e2e_options()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::DownscaleTooExtreme {
                in_h: 1000,
                out_h: 3,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        message(&e).contains("metas[0]") && message(&e).contains("shared memory"),
        "{e}"
    );
    // Plain bilinear has no such limit.
    let mut opts = spec_e2e_options();
    opts.resize = rle_reference::ResizeMode::Bilinear;
    validate(&batch, &[meta], &opts).unwrap();
}

#[test]
fn inputs_are_not_mutated_and_nan_data_is_not_an_error() {
    let mut t = spec_e2e_tensors();
    t.logits[[0, 2, 1]] = f32::NAN;
    t.boxes[[0, 1, 0]] = f32::INFINITY;
    t.masks[[0, 0, 3, 3]] = f32::NAN;
    let before = (t.logits.clone(), t.boxes.clone(), t.masks.clone());
    postprocess(&t.batch(), &[spec_e2e_case1()], &spec_e2e_options()).unwrap();
    assert!(before
        .0
        .iter()
        .zip(t.logits.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(before
        .1
        .iter()
        .zip(t.boxes.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(before
        .2
        .iter()
        .zip(t.masks.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}
