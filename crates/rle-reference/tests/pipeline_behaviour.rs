//! Whole-pipeline behaviour of SPEC §2.7–§2.8, §5 and §10: empty results, the (0,0)
//! static-crop quirk (legacy rule) and its current canvas, shared masks, no resize at equal size, f16 rounding before
//! `> 0`, independent images in a batch, and near decisions only for CPU scores.

mod common;

use common::*;
use half::f16;
use ndarray::{s, Array3, Array4};
use rle_reference::rle::{decode, decompress};
use rle_reference::sigmoid::sigmoid;
use rle_reference::{
    postprocess, postprocess_with_scores, Batch, CanvasRule, ImageMeta, MaskLogits, Options,
    ResizeMode, Size, StaticCrop, Threshold,
};

#[test]
fn empty_result_keeps_the_image_size() {
    let t = spec_e2e_tensors();
    let mut opts = spec_e2e_options();
    opts.threshold = Threshold::Scalar(0.99);
    let got = postprocess(&t.batch(), &[spec_e2e_case2()], &opts).unwrap();
    assert!(got[0].detections.is_empty());
    assert_eq!(got[0].image_size, Size::new(16, 20));
}

#[test]
fn crop_anchored_at_origin_encodes_the_crop_size_under_the_legacy_rule() {
    // Old §2.7d quirk (releases before 0.39.6): offset (0, 0), crop 10×12 of a 16×20
    // image → RLE of 10×12, image_size 16×20; integer boxes clamped to the image.
    let t = spec_e2e_tensors();
    let mut meta = spec_e2e_case1();
    meta.original_size = Size::new(16, 20);
    meta.static_crop = StaticCrop {
        offset_x: 0,
        offset_y: 0,
        width: 12,
        height: 10,
    };
    let legacy = Options {
        canvas: CanvasRule::LegacyOriginCrop,
        ..spec_e2e_options()
    };
    let got = postprocess(&t.batch(), std::slice::from_ref(&meta), &legacy).unwrap();
    assert_eq!(got[0].image_size, Size::new(16, 20));
    assert_eq!(got[0].mask_size, Size::new(10, 12));
    let alone = postprocess(&t.batch(), &[spec_e2e_case1()], &spec_e2e_options()).unwrap();
    for (d, a) in got[0].detections.iter().zip(&alone[0].detections) {
        assert_eq!(d.mask.size, Size::new(10, 12));
        assert_eq!(
            d.mask.counts, a.mask.counts,
            "same mask as the uncropped stretch case"
        );
        assert_eq!(d.xyxy, a.xyxy);
    }

    // The current rule (§10.2) pastes the same mask at (0, 0) of the 16×20 canvas.
    let got = postprocess(&t.batch(), std::slice::from_ref(&meta), &spec_e2e_options()).unwrap();
    assert_eq!(got[0].mask_size, Size::new(16, 20));
    for (d, a) in got[0].detections.iter().zip(&alone[0].detections) {
        assert_eq!(d.mask.size, Size::new(16, 20));
        let small = decode(&decompress(&a.mask.counts).unwrap(), Size::new(10, 12)).unwrap();
        let big = decode(&decompress(&d.mask.counts).unwrap(), Size::new(16, 20)).unwrap();
        assert_eq!(big.slice(s![..10, ..12]), small, "the crop sits at (0, 0)");
        assert!(
            !big.slice(s![10.., ..]).iter().any(|&v| v),
            "nothing below the crop"
        );
        assert!(
            !big.slice(s![.., 12..]).iter().any(|&v| v),
            "nothing right of the crop"
        );
        assert_eq!(
            d.xyxy, a.xyxy,
            "boxes: the same chain, clamp bound 16×20 ≥ the box"
        );
    }
}

#[test]
fn one_query_passing_twice_gives_two_detections_with_one_mask() {
    let logits = Array3::from_shape_vec((1, 2, 3), vec![3.0, 2.5, -9.0, -9.0, -9.0, -9.0]).unwrap();
    let t = tensors_with_logits(logits, 6, 6);
    let meta = ImageMeta::stretch(Size::new(9, 7), Size::new(24, 24));
    let got = postprocess(&t.batch(), &[meta], &options(0.5, 2)).unwrap();
    let d = &got[0].detections;
    assert_eq!(d.len(), 2);
    assert_eq!(
        (d[0].query, d[0].class_id, d[1].query, d[1].class_id),
        (0, 0, 0, 1)
    );
    assert_eq!((d[0].xyxy, &d[0].mask), (d[1].xyxy, &d[1].mask));
}

#[test]
fn equal_size_means_raw_logits_above_zero_in_both_modes() {
    let logits = Array3::from_shape_vec((1, 1, 2), vec![4.0, -9.0]).unwrap();
    let mut t = tensors_with_logits(logits, 5, 7);
    t.masks[[0, 0, 1, 1]] = f32::NAN;
    t.masks[[0, 0, 2, 2]] = f32::INFINITY;
    t.masks[[0, 0, 3, 3]] = -0.0;
    let meta = ImageMeta::stretch(Size::new(5, 7), Size::new(20, 28));
    let want = t.masks.slice(s![0, 0, .., ..]).mapv(|v| v > 0.0);
    for mode in [ResizeMode::Antialiased, ResizeMode::Bilinear] {
        let mut opts = options(0.5, 1);
        opts.resize = mode;
        let got = postprocess(&t.batch(), std::slice::from_ref(&meta), &opts).unwrap();
        let m = &got[0].detections[0].mask;
        assert_eq!(
            decode(&decompress(&m.counts).unwrap(), m.size).unwrap(),
            want,
            "{mode:?}"
        );
    }
}

#[test]
fn f16_masks_round_before_the_sign_test() {
    // Sources alternate the smallest f16 subnormal and 0: upsampled values between them
    // are tiny positive f32 numbers that round to +0 in f16 and become background.
    let tiny = f16::from_bits(1);
    let masks16 = Array4::from_shape_fn((1, 1, 4, 4), |(_, _, r, c)| {
        if (r + c) % 2 == 0 {
            tiny
        } else {
            f16::ZERO
        }
    });
    let masks32 = masks16.mapv(|v| v.to_f32());
    let logits = Array3::from_shape_vec((1, 1, 2), vec![4.0, -9.0]).unwrap();
    let boxes = Array3::from_elem((1, 1, 4), 0.5f32);
    let meta = ImageMeta::stretch(Size::new(13, 11), Size::new(16, 16));
    let run = |batch: &Batch<'_>| {
        let r = postprocess(batch, std::slice::from_ref(&meta), &options(0.5, 1)).unwrap();
        let m = r[0].detections[0].mask.clone();
        decode(&decompress(&m.counts).unwrap(), m.size).unwrap()
    };
    let batch16 = Batch {
        logits: logits.view(),
        boxes: boxes.view(),
        masks: MaskLogits::F16(masks16.view()),
    };
    let batch32 = Batch {
        logits: logits.view(),
        boxes: boxes.view(),
        masks: MaskLogits::F32(masks32.view()),
    };
    let (m16, m32) = (run(&batch16), run(&batch32));
    let (a16, a32) = (
        m16.iter().filter(|&&v| v).count(),
        m32.iter().filter(|&&v| v).count(),
    );
    assert!(a16 < a32, "f16 area {a16} should be below f32 area {a32}");
    assert!(
        m16.iter().zip(m32.iter()).all(|(&a, &b)| !a || b),
        "f16 foreground ⊆ f32 foreground"
    );
}

#[test]
fn images_in_a_batch_are_independent() {
    let one = spec_e2e_tensors();
    let two = Tensors {
        logits: ndarray::concatenate![ndarray::Axis(0), one.logits, one.logits.mapv(|v| -v)],
        boxes: ndarray::concatenate![ndarray::Axis(0), one.boxes, one.boxes],
        masks: ndarray::concatenate![ndarray::Axis(0), one.masks, one.masks.mapv(|v| -v)],
    };
    let metas = [spec_e2e_case2(), spec_e2e_case1()];
    let got = postprocess(&two.batch(), &metas, &spec_e2e_options()).unwrap();
    let first = postprocess(&one.batch(), &[spec_e2e_case2()], &spec_e2e_options()).unwrap();
    assert_eq!(got[0], first[0]);
    assert_ne!(got[1].detections, got[0].detections);
}

#[test]
fn near_decisions_only_with_cpu_scores() {
    // Logits 17 and 18 both saturate to 1.0 but differ: a near top-k boundary (Q = 1).
    let logits = Array3::from_shape_vec((1, 1, 3), vec![17.0, 18.0, -9.0]).unwrap();
    let t = tensors_with_logits(logits, 4, 4);
    let meta = ImageMeta::stretch(Size::new(8, 8), Size::new(16, 16));
    let cpu = postprocess(&t.batch(), std::slice::from_ref(&meta), &options(0.5, 2)).unwrap();
    assert!(!cpu[0].near_decisions.is_empty());
    let scores = t.logits.mapv(sigmoid);
    let exact =
        postprocess_with_scores(&t.batch(), scores.view(), &[meta], &options(0.5, 2)).unwrap();
    assert!(exact[0].near_decisions.is_empty());
    assert_eq!(cpu[0].detections, exact[0].detections);
    // Tie at 1.0: the lower flat index (column 0) wins the single slot.
    assert_eq!(exact[0].detections[0].column, 0);
}
