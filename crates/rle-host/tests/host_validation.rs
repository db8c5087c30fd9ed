//! Validation audit of the host API (issue "Hardening").
//!
//! CPU-only tests (run everywhere): bad inputs are rejected as typed
//! [`rle_host::Error`]s with the reference's exact error inside
//! ([`Error::Input`]), device inputs are shape-checked before any memory is
//! touched, and the GPU path's index limits ([`Shapes`]) are enforced with
//! [`Error::Limit`] naming the quantity.
//!
//! GPU tests (ignored here, run on the GPU machine with `--include-ignored`): null,
//! foreign and too-short device pointers, the limits reached through a real
//! frame, and two inputs whose kernel parameters needed care (an empty class
//! mapping, a mask window lying wholly outside the source).

use half::f16;
use ndarray::{Array3, Array4, ArrayView3, ArrayView4, ShapeBuilder};
use rle_host::{Config, DeviceInputs, Error, Fallback, MaskDtype, Postprocessor, Shapes};
use rle_reference::{
    Batch, ImageMeta, ImageResult, MaskLogits, Options, ResizeMode, Size, StaticCrop, Threshold,
};

/// SPEC §4.4's batch: Q = 4, C = 3, 8×8 masks.
struct Tensors {
    logits: Array3<f32>,
    boxes: Array3<f32>,
    masks: Array4<f32>,
}

impl Tensors {
    fn spec() -> Self {
        let logits = [
            [2.0, -1.0, 0.5],
            [-0.3, 1.2, 3.0],
            [0.1, 0.15, -2.0],
            [0.4, 0.4, -5.0],
        ];
        let boxes = [
            [0.5, 0.5, 0.6, 0.4],
            [0.2, 0.3, 0.5, 0.9],
            [0.9, 0.9, 0.4, 0.4],
            [0.1, 0.95, 0.3, 0.3],
        ];
        Self {
            logits: Array3::from_shape_fn((1, 4, 3), |(_, q, c)| logits[q][c]),
            boxes: Array3::from_shape_fn((1, 4, 4), |(_, q, k)| boxes[q][k]),
            masks: Array4::from_shape_fn((1, 4, 8, 8), |(_, q, r, c)| {
                ((8 * r + 5 * c + 3 * q) % 11) as f32 - 5.5
            }),
        }
    }

    fn batch(&self) -> Batch<'_> {
        Batch {
            logits: self.logits.view(),
            boxes: self.boxes.view(),
            masks: MaskLogits::F32(self.masks.view()),
        }
    }
}

fn options() -> Options {
    Options {
        threshold: Threshold::Scalar(0.5),
        num_classes: 2,
        class_mapping: None,
        max_detections: None,
        resize: ResizeMode::Antialiased,
        ..Options::new(0)
    }
}

fn stretch() -> ImageMeta {
    ImageMeta::stretch(Size::new(10, 12), Size::new(32, 32))
}

fn shapes(batch: usize, queries: usize, columns: usize, mask_h: usize, mask_w: usize) -> Shapes {
    Shapes {
        batch,
        queries,
        columns,
        mask_h,
        mask_w,
        mask_dtype: MaskDtype::F32,
    }
}

fn limit_of(e: Error) -> (String, u64, u64) {
    match e {
        Error::Limit { what, limit, got } => (what, limit, got),
        other => panic!("expected Error::Limit, got {other:?}"),
    }
}

/// Asserts the host error wraps exactly the reference's error for the same input.
fn assert_input(got: Error, batch: &Batch<'_>, metas: &[ImageMeta], opts: &Options) {
    let want = rle_reference::validate(batch, metas, opts).expect_err("the reference rejects it");
    match got {
        // Compared as text: a NaN field makes errors unequal under `PartialEq`.
        Error::Input(e) => assert_eq!(format!("{e:?}"), format!("{want:?}")),
        other => panic!("expected Error::Input({want:?}), got {other:?}"),
    }
}

#[test]
fn host_inputs_are_rejected_with_the_reference_error() {
    let t = Tensors::spec();
    let mut pp = Postprocessor::cpu();
    let short_boxes = Array3::<f32>::zeros((1, 3, 4));
    let wrong_boxes = Batch {
        boxes: short_boxes.view(),
        ..t.batch()
    };
    let mut zero_scale = stretch();
    zero_scale.scale_width = 0.0;
    let mut outside = stretch();
    outside.static_crop = StaticCrop {
        offset_x: 5,
        offset_y: 0,
        width: 12,
        height: 10,
    };
    let nan_threshold = Options {
        threshold: Threshold::Scalar(f64::NAN),
        ..options()
    };
    let bad_mapping = Options {
        class_mapping: Some(vec![0, -7]),
        ..options()
    };
    let cases: Vec<(Batch<'_>, Vec<ImageMeta>, Options)> = vec![
        (wrong_boxes, vec![stretch()], options()),
        (t.batch(), vec![stretch(), stretch()], options()),
        (t.batch(), vec![], options()),
        (t.batch(), vec![zero_scale], options()),
        // A crop that does not fit the image: only the legacy rule pastes on `O`
        // (the current canvas grows to hold it, as the package's does).
        (
            t.batch(),
            vec![outside],
            Options {
                canvas: rle_reference::CanvasRule::LegacyOriginCrop,
                ..options()
            },
        ),
        (
            t.batch(),
            vec![stretch()],
            Options {
                masks_resolution_factor: f64::NAN,
                ..options()
            },
        ),
        (t.batch(), vec![stretch()], nan_threshold),
        (t.batch(), vec![stretch()], bad_mapping),
    ];
    for (batch, metas, opts) in &cases {
        let e = pp.run(batch, metas, opts).unwrap_err();
        assert_input(e, batch, metas, opts);
        let e = pp.run_with_scores(batch, metas, opts).unwrap_err();
        assert_input(e, batch, metas, opts);
    }
}

#[test]
fn device_inputs_are_shape_checked_before_memory_is_touched() {
    let mut pp = Postprocessor::cpu();
    let (metas, opts) = (vec![stretch()], options());
    // Pointers are never looked at when the shapes are wrong: null is fine here.
    let inputs = |s: Shapes| DeviceInputs::f32(0, 0, 0, s);
    for (s, metas) in [
        (shapes(1, 4, 0, 8, 8), metas.clone()),
        (shapes(1, 4, 3, 8, 0), metas.clone()),
        (shapes(2, 4, 3, 8, 8), metas.clone()),
        (shapes(1, 70_000, 70_000, 8, 8), metas.clone()),
    ] {
        // SAFETY: rejected before any pointer is used (that is what is tested).
        let e = unsafe { pp.run_device(&inputs(s), None, &metas, &opts) }.unwrap_err();
        assert!(matches!(e, Error::Input(_)), "{s:?}: {e:?}");
    }
    // Valid shapes on a CPU post-processor: a typed refusal, not a dereference.
    // SAFETY: as above.
    let e =
        unsafe { pp.run_device(&inputs(shapes(1, 4, 3, 8, 8)), None, &metas, &opts) }.unwrap_err();
    match e {
        Error::DevicePointer { field, reason } => {
            assert_eq!(field, "inputs");
            assert!(reason.contains("GPU"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let t = Tensors::spec();
    assert!(matches!(
        pp.upload(&t.batch()).unwrap_err(),
        Error::DevicePointer { field: "batch", .. }
    ));
}

#[test]
fn declared_shapes_whose_byte_counts_overflow_are_rejected() {
    for (s, what) in [
        (shapes(usize::MAX, 2, 3, 8, 8), "inputs.logits"),
        (shapes(1, 1 << 40, 1 << 40, 1, 1), "inputs.logits"),
        (
            shapes(1 << 20, 1 << 20, 3, 1 << 12, 1 << 12),
            "inputs.masks",
        ),
    ] {
        let (w, limit, _) = limit_of(s.check_sizes().unwrap_err());
        assert!(w.contains(what), "{w}");
        assert_eq!(limit, isize::MAX as u64);
        // The GPU limits include the size check.
        assert!(matches!(s.check_gpu_limits(), Err(Error::Limit { .. })));
    }
    shapes(65_535, 2048, 91, 192, 192).check_sizes().unwrap();
    let mut half = shapes(1, 1, 1, 1 << 30, 1 << 30);
    half.mask_dtype = MaskDtype::F16;
    half.check_sizes().unwrap(); // 2^61 bytes: fits isize
}

#[test]
fn gpu_index_limits_name_the_quantity() {
    // Released models: far inside every limit.
    shapes(64, 300, 91, 192, 192).check_gpu_limits().unwrap();
    shapes(Shapes::MAX_BATCH, Shapes::MAX_QUERIES, 1, 1, 1)
        .check_gpu_limits()
        .unwrap();
    for (s, what, limit, got) in [
        (
            shapes(1, Shapes::MAX_QUERIES + 1, 2, 8, 8),
            "Q (queries)",
            2048,
            2049,
        ),
        (
            shapes(Shapes::MAX_BATCH + 1, 1, 2, 8, 8),
            "B (images per frame)",
            65_535,
            65_536,
        ),
        (
            shapes(1, 2048, 1 << 20, 8, 8),
            "Q*C (logit entries per image)",
            i32::MAX as u64,
            1 << 31,
        ),
        (
            shapes(3, 2048, (1 << 20) - 1, 8, 8),
            "B*Q*C (logits)",
            u64::from(u32::MAX),
            3 * 2048 * ((1 << 20) - 1),
        ),
        (
            shapes(1, 4, 3, 1 << 16, 1 << 15),
            "Mh*Mw (mask pixels)",
            i32::MAX as u64,
            1 << 31,
        ),
    ] {
        let e = s.check_gpu_limits().unwrap_err();
        let message = e.to_string();
        assert_eq!(limit_of(e), (what.to_string(), limit, got), "{s:?}");
        assert!(
            message.contains(what) && message.contains("limit"),
            "{message}"
        );
    }
}

/// A zero-stride batch of the given shape (for `rle_reference::validate`).
fn broadcast<'a>(s: &Shapes, one: &'a [f32; 1]) -> Batch<'a> {
    let v3 = |d: (usize, usize, usize)| {
        ArrayView3::from_shape(d.strides((0, 0, 0)), one).expect("zero strides fit any shape")
    };
    Batch {
        logits: v3((s.batch, s.queries, s.columns)),
        boxes: v3((s.batch, s.queries, 4)),
        masks: MaskLogits::F32(
            ArrayView4::from_shape(
                (s.batch, s.queries, s.mask_h, s.mask_w).strides((0, 0, 0, 0)),
                one,
            )
            .expect("zero strides fit any shape"),
        ),
    }
}

#[test]
fn mask_window_offsets_fit_the_kernels_i32_arithmetic() {
    let one = [0.0f32];
    let opts = options();
    // A window wholly outside the source (crops 8e9 rows at the top, pads 8e9 at the
    // bottom): reads only zero padding. Valid for the reference, and its offset is
    // clamped for the kernels instead of being truncated to i32.
    let s = shapes(1, 4, 3, 8, 8);
    let mut m = ImageMeta::stretch(Size::new(10, 12), Size::new(1, 1));
    m.pad_top = 1_000_000_000;
    m.pad_bottom = -1_000_000_000;
    rle_reference::validate(&broadcast(&s, &one), std::slice::from_ref(&m), &opts).unwrap();
    s.check_frame_limits(std::slice::from_ref(&m), &opts)
        .unwrap();

    // A source of 2^31 − 6 rows whose window starts 2 rows before its end and runs
    // 8 rows past it: `top + h` does not fit an i32.
    let mh = i32::MAX as usize - 5;
    let s = shapes(1, 1, 2, mh, 1);
    let mut m = ImageMeta::stretch(Size::new(10, 1), Size::new(mh as u32, 1));
    m.pad_top = mh as i32 - 2; // mask pixels = denorm pixels here (Mh = Dh)
    m.pad_bottom = -8;
    rle_reference::validate(&broadcast(&s, &one), std::slice::from_ref(&m), &opts).unwrap();
    let (what, limit, _) = limit_of(
        s.check_frame_limits(std::slice::from_ref(&m), &opts)
            .unwrap_err(),
    );
    assert!(what.starts_with("metas[0] mask window rows"), "{what}");
    assert_eq!(limit, i32::MAX as u64);
}

#[test]
fn the_cpu_fallback_mutates_nothing_and_matches_the_reference() {
    let mut t = Tensors::spec();
    t.logits[[0, 3, 0]] = f32::NAN;
    t.masks[[0, 0, 0, 0]] = f32::INFINITY;
    let before = (t.logits.clone(), t.boxes.clone(), t.masks.clone());
    let (metas, opts) = (vec![stretch()], options());
    let mut pp = Postprocessor::cpu();
    let (got, scores) = pp.run_with_scores(&t.batch(), &metas, &opts).unwrap();
    assert!(scores.is_none(), "the CPU fallback has no device scores");
    assert_eq!(
        got,
        rle_reference::postprocess(&t.batch(), &metas, &opts).unwrap()
    );
    let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
    assert!(same(
        before.0.as_slice().unwrap(),
        t.logits.as_slice().unwrap()
    ));
    assert!(same(
        before.1.as_slice().unwrap(),
        t.boxes.as_slice().unwrap()
    ));
    assert!(same(
        before.2.as_slice().unwrap(),
        t.masks.as_slice().unwrap()
    ));
}

// ---------------------------------------------------------------------------
// GPU tests.

const GPU: &str =
    "a CUDA GPU (this test is ignored unless run with --include-ignored on the GPU machine)";

fn gpu() -> Postprocessor {
    Postprocessor::new(Config {
        ordinal: 0,
        fallback: Fallback::Error,
        ..Default::default()
    })
    .expect(GPU)
}

/// GPU results vs the reference fed with the GPU's own scores (bit-exact).
fn assert_matches_reference(
    pp: &mut Postprocessor,
    batch: &Batch<'_>,
    metas: &[ImageMeta],
    opts: &Options,
) -> Vec<ImageResult> {
    let (got, scores) = pp.run_with_scores(batch, metas, opts).unwrap();
    let scores = scores.expect("GPU scores");
    let want = rle_reference::postprocess_with_scores(batch, scores.view(), metas, opts).unwrap();
    assert_eq!(got, want);
    got
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn null_foreign_and_short_device_pointers_are_rejected() {
    let mut pp = gpu();
    let t = Tensors::spec();
    let dev = pp.upload(&t.batch()).unwrap();
    let good = dev.inputs();
    let (metas, opts) = (vec![stretch()], options());
    // SAFETY: `dev` holds the declared shapes and is not written meanwhile.
    unsafe { pp.run_device(&good, None, &metas, &opts) }.unwrap();
    let host = [0u8; 64];
    let cases = [
        (DeviceInputs { logits: 0, ..good }, "inputs.logits", "null"),
        (DeviceInputs { boxes: 0, ..good }, "inputs.boxes", "null"),
        (DeviceInputs { masks: 0, ..good }, "inputs.masks", "null"),
        (
            DeviceInputs {
                masks: host.as_ptr() as u64,
                ..good
            },
            "inputs.masks",
            "not device memory",
        ),
        (
            // 256× the uploaded queries: more than any allocation rounding holds.
            DeviceInputs {
                shapes: Shapes {
                    queries: 4 * 256,
                    ..good.shapes
                },
                ..good
            },
            "inputs.logits",
            "bytes but only",
        ),
    ];
    for (inputs, field, reason_part) in cases {
        // SAFETY: the call must refuse these pointers before any kernel reads them.
        let e = unsafe { pp.run_device(&inputs, None, &metas, &opts) }.unwrap_err();
        match e {
            Error::DevicePointer { field: f, reason } => {
                assert_eq!(f, field);
                assert!(reason.contains(reason_part), "{reason}");
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    // The post-processor is still usable after every refusal.
    // SAFETY: as for the first call.
    unsafe { pp.run_device(&good, None, &metas, &opts) }.unwrap();
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn limits_are_enforced_on_the_gpu_path_only() {
    let mut pp = gpu();
    // Q = 2049 queries: beyond the select kernel's shared memory, fine for the CPU.
    let (q, c) = (Shapes::MAX_QUERIES + 1, 2);
    let logits = Array3::from_shape_fn((1, q, c), |(_, i, j)| ((i * 7 + j) % 13) as f32 - 6.0);
    let boxes = Array3::from_elem((1, q, 4), 0.5f32);
    let masks = Array4::from_elem((1, q, 2, 2), f16::from_f32(1.0));
    let batch = Batch {
        logits: logits.view(),
        boxes: boxes.view(),
        masks: MaskLogits::F16(masks.view()),
    };
    let (metas, opts) = (vec![stretch()], options());
    let (what, limit, got) = limit_of(pp.run(&batch, &metas, &opts).unwrap_err());
    assert_eq!((what.as_str(), limit, got), ("Q (queries)", 2048, 2049));
    Postprocessor::cpu().run(&batch, &metas, &opts).unwrap();
    // The refusal left the GPU post-processor usable.
    let t = Tensors::spec();
    assert_matches_reference(&mut pp, &t.batch(), &metas, &opts);
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn empty_class_mapping_and_out_of_source_window_match_the_reference() {
    let mut pp = gpu();
    let t = Tensors::spec();
    // L = 0 < C: every column is invalid (SPEC §2.3); the kernel must not read it as
    // "no remapping".
    let opts = Options {
        class_mapping: Some(vec![]),
        ..options()
    };
    let got = assert_matches_reference(&mut pp, &t.batch(), &[stretch()], &opts);
    assert!(got[0].detections.is_empty());
    // A window wholly outside the source: every mask is empty, boxes as usual.
    let mut m = ImageMeta::stretch(Size::new(10, 12), Size::new(1, 1));
    m.pad_top = 1_000_000_000;
    m.pad_bottom = -1_000_000_000;
    let got = assert_matches_reference(&mut pp, &t.batch(), &[m], &options());
    assert!(!got[0].detections.is_empty());
    let empty = rle_reference::rle::compress(&[10 * 12]); // one background run
    for d in &got[0].detections {
        assert_eq!(d.mask.counts, empty);
    }
}
