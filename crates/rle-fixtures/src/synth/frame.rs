//! One realistic video frame of a released model: the input of the CLI demo and of
//! the end-to-end benchmarks (SPEC §8.1 shapes, stretch pre-processing).
//!
//! Invariant: deterministic in `(seed, model, frame, detections, dtype)`; the
//! detections sit on distinct queries with scores between sigmoid(0.5) and
//! sigmoid(8), over a background of scores below sigmoid(−3).

use rle_reference::{ImageMeta, Options, Size};

use super::hash::{draw, key, uniform};
use super::recipe::{LogitSet, MaskDtype, Recipe, SynthRecipe, Value};
use crate::meta::stretch;

/// Stream tag of the frame's choices.
const TAG_FRAME: u64 = 0x300;

/// The shape of a released RF-DETR segmentation model (COCO weights: `C = 91`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    /// Queries `Q`.
    pub queries: usize,
    /// Logit columns `C`.
    pub columns: usize,
    /// Mask side `resolution / 4`.
    pub mask: usize,
    /// Square input resolution.
    pub resolution: u32,
}

impl Model {
    /// rfdetr-seg-nano: 312, Q = 100, 78×78 masks.
    pub const NANO: Model = Model {
        queries: 100,
        columns: 91,
        mask: 78,
        resolution: 312,
    };
    /// rfdetr-seg-small: 384, Q = 100, 96×96.
    pub const SMALL: Model = Model {
        queries: 100,
        columns: 91,
        mask: 96,
        resolution: 384,
    };
    /// rfdetr-seg-medium: 432, Q = 200, 108×108.
    pub const MEDIUM: Model = Model {
        queries: 200,
        columns: 91,
        mask: 108,
        resolution: 432,
    };
    /// rfdetr-seg-large: 504, Q = 200, 126×126.
    pub const LARGE: Model = Model {
        queries: 200,
        columns: 91,
        mask: 126,
        resolution: 504,
    };
    /// rfdetr-seg-xlarge: 624, Q = 300, 156×156.
    pub const XLARGE: Model = Model {
        queries: 300,
        columns: 91,
        mask: 156,
        resolution: 624,
    };
    /// rfdetr-seg-2xlarge: 768, Q = 300, 192×192.
    pub const XXLARGE: Model = Model {
        queries: 300,
        columns: 91,
        mask: 192,
        resolution: 768,
    };
    /// All of them, smallest first.
    pub const ALL: [Model; 6] = [
        Self::NANO,
        Self::SMALL,
        Self::MEDIUM,
        Self::LARGE,
        Self::XLARGE,
        Self::XXLARGE,
    ];
}

/// Video frame sizes `(h, w)` of SPEC §8.1: 312×176, 1280×720, 1920×1080, 3840×2160 (W×H).
pub const FRAMES: [Size; 4] = [
    Size::new(176, 312),
    Size::new(720, 1280),
    Size::new(1080, 1920),
    Size::new(2160, 3840),
];

/// One frame (batch of 1) with `detections` objects (at most `Q`), stretch metadata,
/// threshold 0.4, no remapping, antialiased resize.
pub fn frame_case(
    seed: u64,
    model: Model,
    frame: Size,
    detections: usize,
    dtype: MaskDtype,
) -> (Recipe, Vec<ImageMeta>, Options) {
    let k = key(seed, TAG_FRAME);
    let q = model.queries;
    let mut r = SynthRecipe::new(
        draw(k, 0) >> 12,
        1,
        q,
        model.columns,
        model.mask,
        model.mask,
    );
    r.mask_dtype = dtype;
    let mut queries: Vec<usize> = (0..q).collect();
    for i in 0..detections.min(q) {
        let j = uniform(k, 1 + 3 * i as u64, i as i64, q as i64 - 1) as usize;
        queries.swap(i, j);
        let column = uniform(k, 2 + 3 * i as u64, 0, model.columns as i64 - 2) as usize;
        // Multiples of 1/64: exact in f32 and in JSON.
        let logit = uniform(k, 3 + 3 * i as u64, 32, 512) as f64 / 64.0;
        r.logits.push(LogitSet {
            image: 0,
            query: queries[i],
            column,
            logit: Value::Num(logit),
        });
    }
    let inference = Size::new(model.resolution, model.resolution);
    let opts = Options::new(model.columns - 1);
    (
        Recipe::Synth(r),
        vec![stretch(frame, inference, None)],
        opts,
    )
}
