//! GPU smoke test on SPEC §4.4's end-to-end example (both metadata cases),
//! whose outputs were verified on the GPU machine against PyTorch. Ignored on
//! machines without a GPU; run for real with `--include-ignored` there.

use ndarray::{Array3, Array4};
use rle_host::{Config, Fallback, Postprocessor};
use rle_reference::{
    Batch, ImageMeta, MaskLogits, Options, ResizeMode, Size, StaticCrop, Threshold,
};

fn inputs() -> (Array3<f32>, Array3<f32>, Array4<f32>) {
    let logits = Array3::from_shape_vec(
        (1, 4, 3),
        vec![
            2.0, -1.0, 0.5, -0.3, 1.2, 3.0, 0.1, 0.15, -2.0, 0.4, 0.4, -5.0,
        ],
    )
    .unwrap();
    let boxes = Array3::from_shape_vec(
        (1, 4, 4),
        vec![
            0.5, 0.5, 0.6, 0.4, 0.2, 0.3, 0.5, 0.9, 0.9, 0.9, 0.4, 0.4, 0.1, 0.95, 0.3, 0.3,
        ],
    )
    .unwrap();
    let masks = Array4::from_shape_fn((1, 4, 8, 8), |(_, q, r, c)| {
        ((8 * r + 5 * c + 3 * q) % 11) as f32 - 5.5
    });
    (logits, boxes, masks)
}

/// Per case: box and RLE string of detection 0, then of detection 1.
type Expected = (
    &'static [i32; 4],
    &'static [u8],
    &'static [i32; 4],
    &'static [u8],
);

fn opts() -> Options {
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
    ImageMeta {
        original_size: Size::new(10, 12),
        static_crop: StaticCrop {
            offset_x: 0,
            offset_y: 0,
            width: 12,
            height: 10,
        },
        size_after_pre_processing: Size::new(10, 12),
        inference_size: Size::new(32, 32),
        nonsquare_intermediate_size: None,
        pad_left: 0,
        pad_top: 0,
        pad_right: 0,
        pad_bottom: 0,
        scale_width: 32.0 / 12.0,
        scale_height: 32.0 / 10.0,
    }
}

fn crop_letterbox() -> ImageMeta {
    ImageMeta {
        original_size: Size::new(16, 20),
        static_crop: StaticCrop {
            offset_x: 4,
            offset_y: 2,
            width: 12,
            height: 10,
        },
        size_after_pre_processing: Size::new(10, 12),
        inference_size: Size::new(32, 32),
        nonsquare_intermediate_size: None,
        pad_left: 0,
        pad_top: 3,
        pad_right: 0,
        pad_bottom: 3,
        scale_width: 32.0 / 12.0,
        scale_height: 32.0 / 12.0,
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn spec_4_4_end_to_end_on_the_gpu() {
    let mut pp = Postprocessor::new(Config {
        ordinal: 0,
        fallback: Fallback::Error,
        ..Default::default()
    })
    .expect("a CUDA GPU");
    let (logits, boxes, masks) = inputs();
    let batch = Batch {
        logits: logits.view(),
        boxes: boxes.view(),
        masks: MaskLogits::F32(masks.view()),
    };
    let expected: [Expected; 2] = [
        (
            &[2, 3, 10, 7],
            b"122030LO10O0022NN21O1OO0O060M3OM0120LO21N10N210ON10O0010O21O0",
            &[0, 0, 5, 8],
            b"31222OMO120O1ON21O1OO021OO10M13O51L0L11N022OMO10120O",
        ),
        (
            &[6, 4, 14, 9],
            b"R223160HO0071KO30M08OK021MO610OH26OJ1610NH01O62L0P2",
            &[3, 0, 9, 10],
            b"T22316OH07OJ37OKO30J01O92OOKO30O130H040M160HO0071KOQ2",
        ),
    ];
    for (meta, (box0, rle0, box1, rle1)) in [stretch(), crop_letterbox()].into_iter().zip(expected)
    {
        // Warm up (allocates), poison every buffer, then run for real.
        pp.run(&batch, std::slice::from_ref(&meta), &opts())
            .unwrap();
        pp.poison_buffers().unwrap();
        let out = pp
            .run(&batch, std::slice::from_ref(&meta), &opts())
            .unwrap();
        let dets = &out[0].detections;
        assert_eq!(dets.len(), 2, "{dets:#?}");
        assert_eq!(
            (dets[0].query, dets[0].class_id, dets[0].score.to_bits()),
            (0, 0, 0x3F61_7BEA)
        );
        assert_eq!(
            (dets[1].query, dets[1].class_id, dets[1].score.to_bits()),
            (1, 1, 0x3F44_BE0B)
        );
        assert_eq!(dets[0].xyxy.as_int().as_ref(), Some(box0));
        assert_eq!(dets[1].xyxy.as_int().as_ref(), Some(box1));
        assert_eq!(
            std::str::from_utf8(&dets[0].mask.counts).unwrap(),
            std::str::from_utf8(rle0).unwrap()
        );
        assert_eq!(
            std::str::from_utf8(&dets[1].mask.counts).unwrap(),
            std::str::from_utf8(rle1).unwrap()
        );
        let cpu = rle_reference::postprocess(&batch, std::slice::from_ref(&meta), &opts()).unwrap();
        assert_eq!(out[0].detections, cpu[0].detections);
    }
}

#[test]
fn without_a_driver_the_cpu_fallback_matches_the_reference() {
    if rle_host::driver_present() {
        // This test is about machines without CUDA; on a GPU machine the
        // GPU tests above cover the same example.
        return;
    }
    let err = Postprocessor::new(Config {
        ordinal: 0,
        fallback: Fallback::Error,
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("no CUDA driver"), "{err}");
    let mut pp = Postprocessor::new(Config::default()).unwrap();
    assert!(!pp.is_gpu());
    let (logits, boxes, masks) = inputs();
    let batch = Batch {
        logits: logits.view(),
        boxes: boxes.view(),
        masks: MaskLogits::F32(masks.view()),
    };
    let out = pp.run(&batch, &[stretch()], &opts()).unwrap();
    let cpu = rle_reference::postprocess(&batch, &[stretch()], &opts()).unwrap();
    assert_eq!(out, cpu);
    assert_eq!(out[0].detections.len(), 2);
}
