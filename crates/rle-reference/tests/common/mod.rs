//! Shared builders for the integration tests: the SPEC §4.4 end-to-end batch and
//! small helpers. Not every test file uses every helper.
#![allow(dead_code)]

use ndarray::{Array3, Array4};
use rle_reference::{
    Batch, ImageMeta, MaskLogits, Options, ResizeMode, Size, StaticCrop, Threshold,
};

/// The owned tensors of a batch.
pub struct Tensors {
    pub logits: Array3<f32>,
    pub boxes: Array3<f32>,
    pub masks: Array4<f32>,
}

impl Tensors {
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            logits: self.logits.view(),
            boxes: self.boxes.view(),
            masks: MaskLogits::F32(self.masks.view()),
        }
    }
}

/// SPEC §4.4: Q = 4, C = 3, 8×8 masks, one image.
pub fn spec_e2e_tensors() -> Tensors {
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
    Tensors {
        logits: Array3::from_shape_fn((1, 4, 3), |(_, q, c)| logits[q][c]),
        boxes: Array3::from_shape_fn((1, 4, 4), |(_, q, k)| boxes[q][k]),
        masks: Array4::from_shape_fn((1, 4, 8, 8), |(_, q, r, c)| {
            ((8 * r + 5 * c + 3 * q) % 11) as f32 - 5.5
        }),
    }
}

/// SPEC §4.4 options: two classes, no remapping, threshold 0.5.
pub fn spec_e2e_options() -> Options {
    Options {
        threshold: Threshold::Scalar(0.5),
        num_classes: 2,
        class_mapping: None,
        max_detections: None,
        resize: ResizeMode::Antialiased,
        ..Options::new(0)
    }
}

/// SPEC §4.4 case 1: stretch 10×12 with a 32×32 denorm size.
pub fn spec_e2e_case1() -> ImageMeta {
    ImageMeta::stretch(Size::new(10, 12), Size::new(32, 32))
}

/// SPEC §4.4 case 2: 16×20 image, static crop at (x 4, y 2) of 12×10, letterbox pads 3/3.
pub fn spec_e2e_case2() -> ImageMeta {
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

/// Default options with a scalar threshold.
pub fn options(threshold: f64, num_classes: usize) -> Options {
    Options {
        threshold: Threshold::Scalar(threshold),
        num_classes,
        class_mapping: None,
        max_detections: None,
        resize: ResizeMode::Antialiased,
        ..Options::new(0)
    }
}

/// A batch of `b` images with the given logits, boxes all `(0.5, 0.5, 0.5, 0.5)`, and
/// masks `Mh×Mw` with a simple non-constant pattern.
pub fn tensors_with_logits(logits: Array3<f32>, mh: usize, mw: usize) -> Tensors {
    let (b, q, _) = logits.dim();
    Tensors {
        boxes: Array3::from_elem((b, q, 4), 0.5),
        masks: Array4::from_shape_fn((b, q, mh, mw), |(_, q, r, c)| {
            (r as f32 - c as f32) + q as f32 * 0.25 - 0.5
        }),
        logits,
    }
}
