//! Validation audit (issue "Hardening"): every family of bad input the public entry
//! points can receive is rejected with a typed [`Error`] whose message names the
//! field, never a panic; the boundary cases that torch accepts are accepted. One test
//! per family; `validation_errors.rs` holds the first, shorter pass of the same checks.
//!
//! Huge logical shapes are built as zero-stride views over one element, so the
//! overflow checks run without allocating the tensors.

mod common;

use common::*;
use ndarray::{ArrayView3, ArrayView4, ShapeBuilder};
use rle_reference::validate::MAX_RESIZE_AXIS;
use rle_reference::CanvasRule;
use rle_reference::{
    postprocess, postprocess_with_scores, validate, Batch, Error, ImageMeta, MaskLogits, Options,
    Size, StaticCrop, Threshold,
};

static ONE: [f32; 1] = [0.0];

/// An edit of one metadata field.
type Edit = fn(&mut ImageMeta);

/// A `b×q×c` logits view (and matching boxes and `mh×mw` masks) of one repeated value.
fn broadcast_batch<'a>(b: usize, q: usize, c: usize, mh: usize, mw: usize) -> Batch<'a> {
    let v3 = |d: (usize, usize, usize)| {
        ArrayView3::from_shape(d.strides((0, 0, 0)), &ONE).expect("zero strides fit any shape")
    };
    let masks = ArrayView4::from_shape((b, q, mh, mw).strides((0, 0, 0, 0)), &ONE)
        .expect("zero strides fit any shape");
    Batch {
        logits: v3((b, q, c)),
        boxes: v3((b, q, 4)),
        masks: MaskLogits::F32(masks),
    }
}

fn rejects(batch: &Batch<'_>, meta: &ImageMeta, opts: &Options) -> Error {
    let e = validate(batch, std::slice::from_ref(meta), opts).expect_err("must be rejected");
    // The pipeline entry points run the same checks first (compared as text: a NaN
    // field makes the errors unequal under `PartialEq`).
    let again = postprocess(batch, std::slice::from_ref(meta), opts).unwrap_err();
    assert_eq!(format!("{again:?}"), format!("{e:?}"));
    e
}

fn assert_names(e: &Error, field: &str) {
    assert!(e.to_string().contains(field), "{field:?} not in {e}");
}

#[test]
fn ranks_and_shapes_must_agree() {
    let t = spec_e2e_tensors();
    let (meta, opts) = (spec_e2e_case1(), spec_e2e_options());
    // Ranks are part of the types (`ArrayView3`/`ArrayView4`); lengths are checked.
    let cases: [(Batch<'_>, usize, &str); 5] = [
        (broadcast_batch(2, 4, 3, 8, 8), 1, "metas"), // B = 2, one meta: see meta_count
        (
            Batch {
                boxes: broadcast_batch(1, 4, 3, 8, 8)
                    .boxes
                    .slice_move(ndarray::s![.., .., ..3]),
                ..t.batch()
            },
            2,
            "batch.boxes",
        ),
        (
            Batch {
                boxes: broadcast_batch(1, 5, 3, 8, 8).boxes,
                ..t.batch()
            },
            1,
            "batch.boxes",
        ),
        (
            Batch {
                masks: broadcast_batch(2, 4, 3, 8, 8).masks,
                ..t.batch()
            },
            0,
            "batch.masks",
        ),
        (
            Batch {
                masks: broadcast_batch(1, 3, 3, 8, 8).masks,
                ..t.batch()
            },
            1,
            "batch.masks",
        ),
    ];
    for (i, (batch, dim, field)) in cases.iter().enumerate() {
        let e = rejects(batch, &meta, &opts);
        if i == 0 {
            assert!(
                matches!(
                    e,
                    Error::MetaCount {
                        expected: 2,
                        got: 1
                    }
                ),
                "{e:?}"
            );
        } else {
            assert!(
                matches!(&e, Error::ShapeMismatch { dim: d, .. } if d == dim),
                "{e:?}"
            );
        }
        assert_names(&e, field);
    }
    // Externally computed scores must have the logits' shape on every axis.
    for shape in [(2, 4, 3), (1, 5, 3), (1, 4, 2)] {
        let scores = broadcast_batch(shape.0, shape.1, shape.2, 1, 1).logits;
        let e = postprocess_with_scores(&t.batch(), scores, std::slice::from_ref(&meta), &opts)
            .unwrap_err();
        assert!(matches!(e, Error::ShapeMismatch { .. }), "{e:?}");
        assert_names(&e, "scores");
    }
}

#[test]
fn zero_dimensions_and_sizes_are_rejected() {
    let (meta, opts) = (spec_e2e_case1(), spec_e2e_options());
    for (dims, field) in [
        ((0, 4, 3, 8, 8), "(B)"),
        ((1, 0, 3, 8, 8), "(Q)"),
        ((1, 4, 0, 8, 8), "(C)"),
        ((1, 4, 3, 0, 8), "(Mh)"),
        ((1, 4, 3, 8, 0), "(Mw)"),
    ] {
        let batch = broadcast_batch(dims.0, dims.1, dims.2, dims.3, dims.4);
        let e = validate(&batch, std::slice::from_ref(&meta), &opts).unwrap_err();
        assert!(matches!(e, Error::EmptyDimension { .. }), "{dims:?}: {e:?}");
        assert_names(&e, field);
    }
    let t = spec_e2e_tensors();
    let zeroed: [(&str, Edit); 8] = [
        ("metas[0].original_size.height", |m| {
            m.original_size.height = 0
        }),
        ("metas[0].original_size.width", |m| {
            m.original_size.width = 0
        }),
        ("metas[0].size_after_pre_processing.height", |m| {
            m.size_after_pre_processing.height = 0
        }),
        ("metas[0].size_after_pre_processing.width", |m| {
            m.size_after_pre_processing.width = 0
        }),
        ("metas[0].inference_size.height", |m| {
            m.inference_size.height = 0
        }),
        ("metas[0].inference_size.width", |m| {
            m.inference_size.width = 0
        }),
        ("metas[0].nonsquare_intermediate_size.height", |m| {
            m.nonsquare_intermediate_size = Some(Size::new(0, 32))
        }),
        ("metas[0].nonsquare_intermediate_size.width", |m| {
            m.nonsquare_intermediate_size = Some(Size::new(32, 0))
        }),
    ];
    for (field, zero) in zeroed {
        let mut m = meta.clone();
        zero(&mut m);
        let e = rejects(&t.batch(), &m, &opts);
        assert!(matches!(e, Error::EmptyDimension { .. }), "{field}: {e:?}");
        assert_names(&e, field);
    }
}

#[test]
fn products_beyond_u32_and_axes_beyond_the_resize_limit_are_rejected() {
    let (meta, opts) = (spec_e2e_case1(), spec_e2e_options());
    // Q*C and Mh*Mw: flat indices are u32.
    let e = validate(
        &broadcast_batch(1, 70_000, 70_000, 8, 8),
        std::slice::from_ref(&meta),
        &opts,
    )
    .unwrap_err();
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
    assert_names(&e, "Q*C");
    let e = validate(
        &broadcast_batch(1, 4, 3, 70_000, 70_000),
        std::slice::from_ref(&meta),
        &opts,
    )
    .unwrap_err();
    assert!(matches!(e, Error::SizeOverflow { .. }), "{e:?}");
    assert_names(&e, "Mh*Mw");

    let t = spec_e2e_tensors();
    // Every size's H*W: RLE counts are u32.
    for (field, set) in [
        (
            "metas[0].size_after_pre_processing (H*W)",
            (|m: &mut ImageMeta| m.size_after_pre_processing = Size::new(u32::MAX, 2))
                as fn(&mut ImageMeta),
        ),
        ("metas[0].inference_size (H*W)", |m| {
            m.inference_size = Size::new(65_536, 65_536)
        }),
        ("metas[0].nonsquare_intermediate_size (H*W)", |m| {
            m.nonsquare_intermediate_size = Some(Size::new(u32::MAX, u32::MAX))
        }),
    ] {
        let mut m = meta.clone();
        set(&mut m);
        let e = rejects(&t.batch(), &m, &opts);
        assert!(matches!(e, Error::SizeOverflow { .. }), "{field}: {e:?}");
        assert_names(&e, field);
    }

    // The resize target S: at most 2^23 per axis, even when H*W fits u32.
    let mut m = ImageMeta::stretch(Size::new(1, 9_000_000), Size::new(32, 32));
    let e = rejects(&t.batch(), &m, &opts);
    assert!(
        matches!(e, Error::SizeOverflow { a: 9_000_000, b: 1, limit, .. } if limit == MAX_RESIZE_AXIS),
        "{e:?}"
    );
    assert_names(&e, "metas[0].size_after_pre_processing.width");
    m = ImageMeta::stretch(Size::new(1, MAX_RESIZE_AXIS as u32), Size::new(32, 32));
    validate(&t.batch(), &[m], &opts).expect("2^23 itself is accepted");

    // Negative pads grow the mask window: 8 mask rows per denorm pixel here (D = 1).
    let mut m = ImageMeta::stretch(Size::new(10, 12), Size::new(1, 1));
    m.pad_top = -2_000_000; // window height 8 + 16,000,000 > 2^23
    let e = rejects(&t.batch(), &m, &opts);
    assert!(matches!(e, Error::SizeOverflow { b: 1, .. }), "{e:?}");
    // Names the pads that made the window, with their values (issue #14: the message
    // named only the window, which is no field of the input), and reads "exceeds".
    assert_names(
        &e,
        "metas[0].pad_top/pad_bottom (-2000000, 0): the mask window after pads (height): 16000008 exceeds",
    );
    assert!(!e.to_string().contains("× 1"), "{e}");
    m.pad_top = -1_000_000; // 8,000,008 rows: fine alone ...
    m.pad_left = -1_000_000; // ... but 8,000,008² pixels overflow u32
    let e = rejects(&t.batch(), &m, &opts);
    assert!(
        matches!(
            e,
            Error::SizeOverflow {
                a: 8_000_008,
                b: 8_000_008,
                ..
            }
        ),
        "{e:?}"
    );
    assert_names(
        &e,
        "metas[0].pad_top/pad_bottom/pad_left/pad_right (-1000000, 0, -1000000, 0): the mask window after pads (h*w): 8000008 × 8000008 overflows u32",
    );
    // The most extreme pads neither overflow nor panic, on either side.
    for pad in [i32::MIN, i32::MAX] {
        for set in [
            (|m: &mut ImageMeta, p| m.pad_top = p) as fn(&mut ImageMeta, i32),
            |m, p| m.pad_bottom = p,
            |m, p| m.pad_left = p,
            |m, p| m.pad_right = p,
        ] {
            let mut m = ImageMeta::stretch(Size::new(10, 12), Size::new(1, 1));
            set(&mut m, pad);
            let e = rejects(&t.batch(), &m, &opts);
            assert!(
                matches!(
                    e,
                    Error::SizeOverflow { .. } | Error::EmptyMaskWindow { .. }
                ),
                "{pad}: {e:?}"
            );
        }
    }
}

#[test]
fn pads_and_crops_cannot_push_content_outside_the_canvas() {
    let (t, opts) = (spec_e2e_tensors(), spec_e2e_options());
    let legacy = Options {
        canvas: CanvasRule::LegacyOriginCrop,
        ..spec_e2e_options()
    };
    // Legacy rule: the pasted S region must fit in O on both axes (u64 arithmetic: no wrap).
    // The current rule (SPEC §10.2) grows the canvas instead, as the package does; only a
    // canvas beyond u32 pixels is refused.
    for (crop, axis) in [
        ((9, 2), "x"),
        ((4, 7), "y"),
        ((u32::MAX, 2), "x"),
        ((4, u32::MAX), "y"),
    ] {
        let mut m = spec_e2e_case2();
        m.static_crop = StaticCrop {
            offset_x: crop.0,
            offset_y: crop.1,
            width: 12,
            height: 10,
        };
        let e = rejects(&t.batch(), &m, &legacy);
        assert!(
            matches!(&e, Error::CropOutsideImage { axis: a, .. } if *a == axis),
            "{crop:?}: {e:?}"
        );
        assert_names(&e, "metas[0].static_crop");
        if crop.0 == u32::MAX || crop.1 == u32::MAX {
            let e = rejects(&t.batch(), &m, &opts);
            assert!(matches!(&e, Error::SizeOverflow { .. }), "{crop:?}: {e:?}");
            assert_names(&e, "metas[0] mask canvas (H*W)");
        } else {
            let out = postprocess(&t.batch(), std::slice::from_ref(&m), &opts).unwrap();
            let o = m.original_size;
            let want = Size::new((crop.1 + 10).max(o.height), (crop.0 + 12).max(o.width));
            assert_eq!(
                out[0].mask_size, want,
                "{crop:?}: the canvas holds the crop"
            );
        }
    }
    // Pads that remove the whole mask, on each axis, with positive pads.
    for (top, bottom, left, right) in [(16, 16, 0, 0), (0, 0, 16, 16), (32, 0, 0, 0), (0, 0, 0, 40)]
    {
        let mut m = spec_e2e_case2();
        (m.pad_top, m.pad_bottom, m.pad_left, m.pad_right) = (top, bottom, left, right);
        let e = rejects(&t.batch(), &m, &opts);
        assert!(matches!(e, Error::EmptyMaskWindow { .. }), "{e:?}");
        assert_names(&e, "metas[0].pad_top/pad_bottom/pad_left/pad_right");
    }
    // The (0,0)-anchored crop smaller than the image does not paste under the legacy
    // rule (the old SPEC §2.7d quirk): nothing has to fit, and it is accepted.
    let mut m = spec_e2e_case2();
    m.static_crop.offset_x = 0;
    m.static_crop.offset_y = 0;
    let out = postprocess(&t.batch(), &[m], &legacy).unwrap();
    assert_eq!(out[0].detections[0].mask.size, Size::new(10, 12));
}

#[test]
fn scales_must_be_finite_and_positive_in_f64_and_f32() {
    let (t, opts) = (spec_e2e_tensors(), spec_e2e_options());
    let bad = [
        0.0,
        -0.0,
        -1.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e39,  // finite in f64, +inf in f32
        1e-50, // positive in f64, 0 in f32
        f64::MIN_POSITIVE,
    ];
    for value in bad {
        for field in ["scale_width", "scale_height"] {
            let mut m = spec_e2e_case1();
            if field == "scale_width" {
                m.scale_width = value;
            } else {
                m.scale_height = value;
            }
            let e = rejects(&t.batch(), &m, &opts);
            assert!(matches!(e, Error::InvalidScale { .. }), "{value}: {e:?}");
            assert_names(&e, &format!("metas[0].{field}"));
        }
    }
    // A subnormal f32 scale is still positive and finite: accepted (boxes go to ±inf
    // and clamp, which is what torch computes).
    let mut m = spec_e2e_case1();
    m.scale_width = 1e-40;
    postprocess(&t.batch(), &[m], &opts).unwrap();
}

#[test]
fn thresholds_nan_and_empty_are_rejected_short_and_long_tables_follow_torch() {
    let (t, meta) = (spec_e2e_tensors(), spec_e2e_case1());
    let run = |threshold: Threshold| {
        let opts = Options {
            threshold,
            ..spec_e2e_options()
        };
        postprocess(&t.batch(), std::slice::from_ref(&meta), &opts).map(|r| {
            r[0].detections
                .iter()
                .map(|d| d.class_id)
                .collect::<Vec<_>>()
        })
    };
    for (threshold, field) in [
        (Threshold::Scalar(f64::NAN), "opts.threshold"),
        (Threshold::PerClass(vec![]), "opts.threshold"),
        (
            Threshold::PerClass(vec![0.5, f32::NAN]),
            "opts.threshold[1]",
        ),
        (Threshold::PerClass(vec![f32::NAN; 3]), "opts.threshold[0]"),
    ] {
        let e = run(threshold).unwrap_err();
        assert!(matches!(e, Error::InvalidThreshold { .. }), "{e:?}");
        assert_names(&e, field);
    }
    // SPEC §4.4: class 0 scores 0.881, class 1 scores 0.769; two output classes.
    assert_eq!(run(Threshold::Scalar(0.5)).unwrap(), [0, 1]);
    // ±inf and values beyond f32 are usable thresholds (nothing / everything valid passes).
    assert_eq!(
        run(Threshold::Scalar(f64::INFINITY)).unwrap(),
        [] as [i32; 0]
    );
    assert_eq!(run(Threshold::Scalar(1e300)).unwrap(), [] as [i32; 0]);
    assert_eq!(run(Threshold::Scalar(f64::NEG_INFINITY)).unwrap(), [0, 1]);
    assert_eq!(
        run(Threshold::PerClass(vec![f32::INFINITY, 0.5])).unwrap(),
        [1]
    );
    // Shorter than the output classes: clamp(class, 0, n_T - 1) gives class 1 the last
    // (only) entry, as torch does (SPEC §2.4). Accepted, not an error.
    assert_eq!(run(Threshold::PerClass(vec![0.5])).unwrap(), [0, 1]);
    assert_eq!(run(Threshold::PerClass(vec![0.8])).unwrap(), [0]);
    // Per class, in output-class order.
    assert_eq!(run(Threshold::PerClass(vec![0.5, 0.8])).unwrap(), [0]);
    assert_eq!(run(Threshold::PerClass(vec![0.9, 0.5])).unwrap(), [1]);
    // Longer: the extra entries are never indexed.
    assert_eq!(
        run(Threshold::PerClass(vec![0.5, 0.5, 0.0, f32::INFINITY])).unwrap(),
        [0, 1]
    );
}

#[test]
fn class_mapping_ids_must_be_minus_one_or_fit_i32() {
    let (t, meta) = (spec_e2e_tensors(), spec_e2e_case1());
    let run = |mapping: Vec<i64>| {
        let opts = Options {
            class_mapping: Some(mapping),
            ..spec_e2e_options()
        };
        postprocess(&t.batch(), std::slice::from_ref(&meta), &opts).map(|r| {
            r[0].detections
                .iter()
                .map(|d| d.class_id)
                .collect::<Vec<_>>()
        })
    };
    for (mapping, index, value) in [
        (vec![0, -2], 1, -2),
        (vec![i64::from(i32::MAX) + 1], 0, i64::from(i32::MAX) + 1),
        (vec![0, 1, i64::MIN], 2, i64::MIN),
        (vec![i64::MAX, 0], 0, i64::MAX),
    ] {
        let e = run(mapping).unwrap_err();
        assert!(
            matches!(e, Error::InvalidClassMapping { value: v, .. } if v == value),
            "{e:?}"
        );
        assert_names(&e, &format!("opts.class_mapping[{index}]"));
    }
    // Boundary ids are accepted and come out as given.
    assert_eq!(run(vec![i64::from(i32::MAX), 0]).unwrap(), [i32::MAX, 0]);
    assert_eq!(run(vec![-1, 7, -1]).unwrap(), [7]);
    // An empty mapping is L = 0 < C: every column is invalid (SPEC §2.3), no error.
    assert_eq!(run(vec![]).unwrap(), [] as [i32; 0]);
}

#[test]
fn metadata_count_must_equal_the_batch_size() {
    let t = spec_e2e_tensors();
    let opts = spec_e2e_options();
    for n in [0, 2, 5] {
        let metas = vec![spec_e2e_case1(); n];
        let e = validate(&t.batch(), &metas, &opts).unwrap_err();
        assert_eq!(
            e,
            Error::MetaCount {
                expected: 1,
                got: n
            }
        );
        assert_names(&e, "metas");
    }
}

#[test]
fn nothing_the_caller_passes_is_mutated_on_success_or_error() {
    let mut t = spec_e2e_tensors();
    t.logits[[0, 0, 0]] = f32::NAN;
    t.masks[[0, 1, 2, 3]] = f32::NEG_INFINITY;
    let before = (t.logits.clone(), t.boxes.clone(), t.masks.clone());
    let metas = [spec_e2e_case2()];
    let opts = Options {
        threshold: Threshold::PerClass(vec![0.5, 0.25]),
        class_mapping: Some(vec![1, 0, -1]),
        max_detections: Some(1),
        ..spec_e2e_options()
    };
    let (metas_before, opts_before) = (metas.clone(), opts.clone());
    let scores = t.logits.mapv(rle_reference::sigmoid::sigmoid);
    postprocess(&t.batch(), &metas, &opts).unwrap();
    postprocess_with_scores(&t.batch(), scores.view(), &metas, &opts).unwrap();
    let two = [metas[0].clone(), metas[0].clone()];
    postprocess(&t.batch(), &two, &opts).unwrap_err();
    let bits = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
    assert!(bits(
        before.0.as_slice().unwrap(),
        t.logits.as_slice().unwrap()
    ));
    assert!(bits(
        before.1.as_slice().unwrap(),
        t.boxes.as_slice().unwrap()
    ));
    assert!(bits(
        before.2.as_slice().unwrap(),
        t.masks.as_slice().unwrap()
    ));
    assert_eq!(metas, metas_before);
    assert_eq!(opts, opts_before);
}
