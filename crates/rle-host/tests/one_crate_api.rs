//! The Rust API from `rle_host` alone: every input and output type of
//! `Postprocessor` is reachable through this crate (no `rle_reference` or
//! `ndarray` dependency of the caller's own), `Options::new` gives Roboflow's
//! defaults and each builder changes exactly its field, and `CocoRle` gives its
//! counts as text. CPU-only.

use rle_host::half::f16;
use rle_host::ndarray::{Array3, Array4};
use rle_host::{
    Batch, CanvasRule, CocoRle, Config, Fallback, ImageMeta, ImageResult, InputError, MaskLogits,
    Options, Postprocessor, ResizeMode, Size, Threshold,
};

#[test]
fn options_new_follows_the_roboflow_defaults_and_builders_change_one_field() {
    let d = Options::new(80);
    assert_eq!(d.threshold, Threshold::Scalar(0.4));
    assert_eq!(d.num_classes, 80);
    assert_eq!(d.class_mapping, None);
    assert_eq!(d.max_detections, Some(300));
    assert_eq!(d.resize, ResizeMode::Antialiased);
    assert_eq!(d.masks_resolution_factor, 1.0);
    assert_eq!(d.canvas, CanvasRule::Current);

    let t = Threshold::PerClass(vec![0.3, 0.6]);
    assert_eq!(
        Options::new(80).with_threshold(t.clone()),
        Options {
            threshold: t,
            ..Options::new(80)
        }
    );
    assert_eq!(
        Options::new(80).with_class_mapping(vec![0, -1, 1]),
        Options {
            class_mapping: Some(vec![0, -1, 1]),
            ..Options::new(80)
        }
    );
    assert_eq!(
        Options::new(80).with_max_detections(None),
        Options {
            max_detections: None,
            ..Options::new(80)
        }
    );
    assert_eq!(
        Options::new(80).with_resize(ResizeMode::Bilinear),
        Options {
            resize: ResizeMode::Bilinear,
            ..Options::new(80)
        }
    );
    assert_eq!(
        Options::new(80).with_masks_resolution_factor(0.25),
        Options {
            masks_resolution_factor: 0.25,
            ..Options::new(80)
        }
    );
    assert_eq!(
        Options::new(80).with_canvas(CanvasRule::LegacyOriginCrop),
        Options {
            canvas: CanvasRule::LegacyOriginCrop,
            ..Options::new(80)
        }
    );
}

#[test]
fn a_frame_built_from_rle_host_types_alone_runs_and_its_errors_are_typed() {
    let mut logits = Array3::<f32>::from_elem((1, 4, 3), -6.0);
    logits[[0, 2, 1]] = 2.0;
    let boxes = Array3::<f32>::from_elem((1, 4, 4), 0.5);
    let mut masks = Array4::<f16>::from_elem((1, 4, 8, 8), f16::from_f32(-1.0));
    masks[[0, 2, 3, 4]] = f16::from_f32(1.0);
    let batch = Batch {
        logits: logits.view(),
        boxes: boxes.view(),
        masks: MaskLogits::F16(masks.view()),
    };
    let metas = [ImageMeta::stretch(Size::new(16, 16), Size::new(32, 32))];
    let mut pp = Postprocessor::new(Config {
        ordinal: 0,
        fallback: Fallback::Cpu,
        ..Default::default()
    })
    .expect("a GPU post-processor or the CPU fallback");
    let results: Vec<ImageResult> = pp.run(&batch, &metas, &Options::new(2)).unwrap();
    let d = &results[0].detections;
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].query, d[0].class_id), (2, 1));
    let rle: &CocoRle = &d[0].mask;
    assert_eq!(rle.size, Size::new(16, 16));
    assert_eq!(rle.counts_str().as_bytes(), rle.counts.as_slice());
    assert!(!rle.counts_str().is_empty());

    // A bad input is the reference's typed error, reachable as `rle_host::InputError`.
    match pp.run(&batch, &[], &Options::new(2)) {
        Err(rle_host::Error::Input(InputError::MetaCount { expected, got })) => {
            assert_eq!((expected, got), (1, 0));
        }
        other => panic!("expected Error::Input(MetaCount), got {other:?}"),
    }
}
