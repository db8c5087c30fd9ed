//! Edge cases, first as named examples, then as differential property tests
//! against the reference: 1×1 masks, all-positive / all-negative masks, masks
//! touching every border, full-height ROIs whose runs cross columns, NaN/±inf
//! and subnormal logits, f16/bf16 round trips, letterbox and negative pads,
//! pasted masks and the (0,0) static-crop quirk, both resize modes.

use half::{bf16, f16};
use ndarray::{Array3, Array4};
use proptest::prelude::*;
use rle_reference::rle::decompress;
use rle_reference::{
    Batch, ImageMeta, ImageResult, MaskLogits, Options, ResizeMode, Size, StaticCrop, Threshold,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F32,
    F16,
    Bf16,
}

/// One image whose `queries` masks (each `mask_h×mask_w`) all become detections.
#[derive(Debug, Clone)]
struct Edge {
    mask_h: usize,
    mask_w: usize,
    /// `queries × mask_h × mask_w` values, row-major.
    values: Vec<f32>,
    /// `S`.
    s: Size,
    /// Static crop offset `(x, y)` and the extra original size beyond the crop `(w, h)`.
    crop: (u32, u32, u32, u32),
    /// Pads `(left, top, right, bottom)` in mask pixels (denorm size = mask size).
    pads: (i32, i32, i32, i32),
    mode: ResizeMode,
    dtype: Dtype,
}

impl Edge {
    fn plain(mask_h: usize, mask_w: usize, values: Vec<f32>, s: Size) -> Self {
        Self {
            mask_h,
            mask_w,
            values,
            s,
            crop: (0, 0, 0, 0),
            pads: (0, 0, 0, 0),
            mode: ResizeMode::Antialiased,
            dtype: Dtype::F32,
        }
    }

    fn queries(&self) -> usize {
        self.values.len() / (self.mask_h * self.mask_w)
    }

    fn meta(&self) -> ImageMeta {
        let (ox, oy, ew, eh) = self.crop;
        let (l, t, r, b) = self.pads;
        let d = Size::new(self.mask_h as u32, self.mask_w as u32);
        ImageMeta {
            original_size: Size::new(self.s.height + oy + eh, self.s.width + ox + ew),
            static_crop: StaticCrop {
                offset_x: ox,
                offset_y: oy,
                width: self.s.width,
                height: self.s.height,
            },
            size_after_pre_processing: self.s,
            inference_size: d,
            nonsquare_intermediate_size: None,
            pad_left: l,
            pad_top: t,
            pad_right: r,
            pad_bottom: b,
            scale_width: f64::from(d.width) / f64::from(self.s.width),
            scale_height: f64::from(d.height) / f64::from(self.s.height),
        }
    }

    fn options(&self) -> Options {
        Options {
            threshold: Threshold::Scalar(0.5),
            num_classes: 1,
            class_mapping: None,
            max_detections: None,
            resize: self.mode,
            ..Options::new(0)
        }
    }

    /// Runs both implementations; panics on any difference. Returns the reference's result.
    fn check(&self) -> Result<Vec<ImageResult>, rle_reference::Error> {
        let q = self.queries();
        // Column 0 passes (sigmoid(4) ≈ 0.98), column 1 (no-object) never counts.
        let logits = Array3::from_shape_fn((1, q, 2), |(_, _, c)| if c == 0 { 4.0 } else { -4.0 });
        let boxes = Array3::from_elem((1, q, 4), 0.5f32);
        let shape = (1, q, self.mask_h, self.mask_w);
        let f32s = Array4::from_shape_vec(shape, self.values.clone()).expect("values fit");
        let f16s = f32s.mapv(f16::from_f32);
        let bf16s = f32s.mapv(bf16::from_f32);
        let masks = match self.dtype {
            Dtype::F32 => MaskLogits::F32(f32s.view()),
            Dtype::F16 => MaskLogits::F16(f16s.view()),
            Dtype::Bf16 => MaskLogits::Bf16(bf16s.view()),
        };
        let batch = Batch {
            logits: logits.view(),
            boxes: boxes.view(),
            masks,
        };
        let (metas, opts) = ([self.meta()], self.options());
        let want = rle_reference::postprocess(&batch, &metas, &opts);
        let got = rle_cpu::postprocess(&batch, &metas, &opts);
        assert_eq!(got, want, "{self:?}");
        if let Ok(w) = &want {
            assert_eq!(
                w[0].detections.len(),
                q,
                "every query is a detection: {self:?}"
            );
        }
        want
    }
}

/// Counts of detection `d` of a successful check.
fn counts(out: &[ImageResult], d: usize) -> Vec<u32> {
    decompress(&out[0].detections[d].mask.counts).expect("the reference writes valid strings")
}

#[test]
fn one_by_one_masks() {
    for (s, v) in [
        (Size::new(1, 1), 1.0),
        (Size::new(1, 1), -1.0),
        (Size::new(5, 3), 2.0),
        (Size::new(5, 3), f32::NAN),
        (Size::new(2, 7), f32::INFINITY),
    ] {
        Edge::plain(1, 1, vec![v], s).check().expect("valid");
    }
    let out = Edge::plain(1, 1, vec![2.0], Size::new(5, 3))
        .check()
        .unwrap();
    assert_eq!(counts(&out, 0), vec![0, 15]);
}

#[test]
fn all_positive_and_all_negative() {
    let pos = Edge::plain(4, 6, vec![0.5; 24], Size::new(9, 13))
        .check()
        .unwrap();
    assert_eq!(
        counts(&pos, 0),
        vec![0, 9 * 13],
        "one run across every column"
    );
    let neg = Edge::plain(4, 6, vec![-0.5; 24], Size::new(9, 13))
        .check()
        .unwrap();
    assert_eq!(counts(&neg, 0), vec![9 * 13]);
}

#[test]
fn full_height_runs_cross_columns() {
    // Positive top rows and bottom rows with a negative middle: every column's
    // bottom run joins the next column's top run.
    let v: Vec<f32> = (0..5 * 4)
        .map(|i| if (1..4).contains(&(i / 4)) { -1.0 } else { 1.0 })
        .collect();
    let mut e = Edge::plain(5, 4, v, Size::new(11, 8));
    e.check().unwrap();
    // Pasted at full height (x offset only): still one canvas column per S column.
    e.crop = (3, 0, 2, 0);
    e.check().unwrap();
    // Pasted with a y offset: the canvas is taller, the runs no longer touch.
    e.crop = (3, 2, 2, 1);
    e.check().unwrap();
}

#[test]
fn border_touching_masks_in_every_mode_and_paste() {
    let v: Vec<f32> = (0..6 * 5)
        .map(|i| {
            let (y, x) = (i / 5, i % 5);
            if y == 0 || y == 5 || x == 0 || x == 4 {
                3.0
            } else {
                -3.0
            }
        })
        .collect();
    for mode in [ResizeMode::Antialiased, ResizeMode::Bilinear] {
        for crop in [(0, 0, 0, 0), (4, 3, 0, 0), (0, 0, 5, 2), (1, 1, 1, 1)] {
            for s in [
                Size::new(6, 5),
                Size::new(17, 23),
                Size::new(3, 2),
                Size::new(6, 11),
            ] {
                let mut e = Edge::plain(6, 5, v.clone(), s);
                e.mode = mode;
                e.crop = crop;
                e.check().unwrap();
            }
        }
    }
}

#[test]
fn nan_and_infinities() {
    let v = vec![
        1.0,
        f32::NAN,
        -1.0,
        f32::INFINITY,
        -2.0,
        2.0,
        f32::NEG_INFINITY,
        0.5,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        0.0,
    ];
    for mode in [ResizeMode::Antialiased, ResizeMode::Bilinear] {
        // Upscale, same size on one axis (zero-weight taps still read inf/NaN), identity.
        for s in [
            Size::new(9, 10),
            Size::new(3, 9),
            Size::new(3, 4),
            Size::new(2, 2),
        ] {
            let mut e = Edge::plain(3, 4, v.clone(), s);
            e.mode = mode;
            e.check().unwrap();
        }
    }
}

#[test]
fn half_precision_round_trip_near_zero() {
    // f16's smallest subnormal (2^-24) and bf16's tiny values: resized results
    // just above 0 in f32 round to +0 in the mask's dtype and become background.
    let tiny = [
        f32::from_bits(0x3380_0000),
        f32::from_bits(0x0001_0000),
        -f32::from_bits(0x3380_0000),
        1e-30,
    ];
    for dtype in [Dtype::F32, Dtype::F16, Dtype::Bf16] {
        for s in [Size::new(2, 2), Size::new(7, 5), Size::new(1, 9)] {
            let mut e = Edge::plain(2, 2, tiny.to_vec(), s);
            e.dtype = dtype;
            e.check().unwrap();
        }
    }
}

#[test]
fn letterbox_and_negative_pads() {
    let v: Vec<f32> = (0..8 * 8).map(|i| ((i * 7) % 11) as f32 - 5.5).collect();
    for pads in [(1, 2, 0, 1), (-2, 0, -1, 3), (-3, -3, -3, -3), (7, 0, 0, 0)] {
        for s in [Size::new(12, 20), Size::new(8, 8), Size::new(5, 3)] {
            Edge {
                pads,
                ..Edge::plain(8, 8, v.clone(), s)
            }
            .check()
            .unwrap();
        }
    }
}

#[test]
fn rejected_inputs_give_the_reference_error() {
    // Extreme antialiased downscale (SPEC §3.5): the reference refuses it.
    let e = Edge::plain(1, 1000, vec![1.0; 1000], Size::new(1, 3));
    assert!(e.check().is_err());
    // Mismatched metadata count.
    let logits = Array3::<f32>::zeros((1, 1, 2));
    let boxes = Array3::<f32>::zeros((1, 1, 4));
    let masks = Array4::<f32>::zeros((1, 1, 2, 2));
    let batch = Batch {
        logits: logits.view(),
        boxes: boxes.view(),
        masks: MaskLogits::F32(masks.view()),
    };
    let opts = e.options();
    assert_eq!(
        rle_cpu::postprocess(&batch, &[], &opts),
        rle_reference::postprocess(&batch, &[], &opts)
    );
}

#[test]
fn exact_scores_path_matches_the_reference() {
    use rle_fixtures::{generate, random_recipe, Limits};
    for seed in 0..40 {
        let (recipe, metas, opts) = random_recipe(seed, &Limits::small());
        let t = generate(&recipe);
        let batch = t.batch();
        // Any B×Q×C scores will do: the CPU sigmoid's, nudged by one ulp here and there.
        let scores = batch.logits.mapv(|x| {
            let s = rle_reference::sigmoid::sigmoid(x);
            if x.to_bits() % 3 == 0 {
                f32::from_bits(s.to_bits().wrapping_add(1))
            } else {
                s
            }
        });
        assert_eq!(
            rle_cpu::postprocess_with_scores(&batch, scores.view(), &metas, &opts),
            rle_reference::postprocess_with_scores(&batch, scores.view(), &metas, &opts),
            "seed {seed}"
        );
    }
}

/// Mask values: ordinary logits, exact zeros, tiny, subnormal and special values.
fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => (-64i32..64).prop_map(|k| k as f32 / 16.0),
        2 => Just(0.0f32),
        1 => Just(-0.0f32),
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => Just(f32::from_bits(0x3380_0000)), // f16's smallest subnormal
        1 => Just(f32::from_bits(0x0001_0000)), // bf16's smallest subnormal
        1 => Just(1e-45f32),                    // f32's smallest subnormal
        1 => Just(-1e-7f32),
    ]
}

/// How the values are arranged: as drawn, or overridden by a pattern.
fn pattern(values: &mut [f32], h: usize, w: usize, kind: u8) {
    for (i, v) in values.iter_mut().enumerate() {
        let (y, x) = ((i / w) % h, i % w);
        match kind {
            1 => *v = 1.0,                                           // all positive
            2 => *v = -1.0,                                          // all negative
            3 => *v = if y == 0 || y + 1 == h { 2.0 } else { -2.0 }, // full-height runs
            4 => *v = if x == 0 || x + 1 == w { 2.0 } else { -2.0 }, // left/right borders
            _ => {}
        }
    }
}

fn edge() -> impl Strategy<Value = Edge> {
    (1usize..8, 1usize..8, 1usize..3)
        .prop_flat_map(|(h, w, q)| {
            (
                Just((h, w)),
                prop::collection::vec(value(), h * w * q),
                0u8..7,
                (1u32..26, 1u32..26),
                (0u32..4, 0u32..4, 0u32..3, 0u32..3),
                (-2i32..3, -2i32..3, -2i32..3, -2i32..3),
                any::<bool>(),
                0u8..3,
            )
        })
        .prop_map(
            |((h, w), mut values, kind, (sh, sw), crop, pads, bilinear, dt)| {
                pattern(&mut values, h, w, kind);
                // Half the time the window keeps its size: identity (or one axis equal).
                let s = match kind % 3 {
                    0 => Size::new(h as u32, w as u32),
                    1 => Size::new(h as u32, sw),
                    _ => Size::new(sh, sw),
                };
                Edge {
                    mask_h: h,
                    mask_w: w,
                    values,
                    s,
                    crop,
                    // Pads only where the window stays non-empty (else validation errors, also compared).
                    pads: if kind < 5 { (0, 0, 0, 0) } else { pads },
                    mode: if bilinear {
                        ResizeMode::Bilinear
                    } else {
                        ResizeMode::Antialiased
                    },
                    dtype: [Dtype::F32, Dtype::F16, Dtype::Bf16][dt as usize],
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn random_edges_match_the_reference(e in edge()) {
        // `check` asserts equality of the whole result (or of the error).
        let _ = e.check();
    }
}
