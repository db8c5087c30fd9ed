//! Random whole cases (recipe + metadata + options) for property tests, GPU tests,
//! demos and benchmarks.
//!
//! Every choice comes from one hash stream of the seed, so a failing seed is a
//! complete reproduction. The draws cover every metadata kind of SPEC §8.2
//! (stretch, static crop anchored at (0,0) or not, letterbox, center crop with
//! negative pads), `masks_resolution_factor` (0, 0.25, 0.5, 0.999, random, 1) and
//! both canvas rules, scalar and per-class thresholds, remapping
//! with `L` below, at and above `C`, `max_detections`, both resize modes and the
//! three mask dtypes, with detection lists that include ties at 1.0, NaN/inf
//! logits, multi-class queries, special mask values and boxes leaving [0, 1].
//! Invariant: the returned case passes `rle_reference::validate`.

use ndarray::{ArrayView3, ArrayView4, ShapeBuilder};
use rle_reference::{
    Batch, CanvasRule, ImageMeta, MaskLogits, Options, ResizeMode, Size, Threshold,
};

use super::hash::{draw, key};
use super::recipe::{
    BoxSet, Fill, LogitSet, MaskDtype, MaskMode, MaskValue, ModeSet, Recipe, SynthRecipe, Value,
};
use crate::meta::{center_crop, letterbox, static_crop_px, stretch};

/// Stream tag of the random-case choices.
const TAG_RANDOM: u64 = 0x200;
/// `(Q, mask side)` of the released models (SPEC §8.1).
const MODELS: [(usize, usize); 6] = [
    (100, 78),
    (100, 96),
    (200, 108),
    (200, 126),
    (300, 156),
    (300, 192),
];
/// Video frames `(h, w)` (SPEC §8.1).
const FRAMES: [(u32, u32); 4] = [(176, 312), (720, 1280), (1080, 1920), (2160, 3840)];
/// Dataset resize dimensions `(h, w)` of the two-step path.
const DATASET_DIMS: [(u32, u32); 5] = [(640, 640), (480, 640), (640, 480), (416, 416), (720, 1280)];
/// Smallest canvas side drawn (keeps antialiased downscales within CUDA's limits).
const MIN_SIDE: u32 = 32;

/// Bounds on the size of random cases.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Images per batch.
    pub max_batch: usize,
    /// Queries `Q`.
    pub max_queries: usize,
    /// Mask grid side.
    pub max_mask: usize,
    /// Largest original image `(h, w)`.
    pub max_canvas: Size,
    /// Explicit detections per image.
    pub max_detections_per_image: usize,
}

impl Default for Limits {
    /// Realistic sizes: Q ≤ 300, masks ≤ 192, canvases up to 3840×2160, batches of 3.
    fn default() -> Self {
        Self {
            max_batch: 3,
            max_queries: 300,
            max_mask: 192,
            max_canvas: Size::new(2160, 3840),
            max_detections_per_image: 30,
        }
    }
}

impl Limits {
    /// Small cases for fast property tests: Q ≤ 64, masks ≤ 48, canvases ≤ 640×360.
    pub fn small() -> Self {
        Self {
            max_batch: 2,
            max_queries: 64,
            max_mask: 48,
            max_canvas: Size::new(360, 640),
            max_detections_per_image: 12,
        }
    }
}

/// A sequential view of one hash stream.
struct Draws {
    key: u64,
    i: u64,
}

impl Draws {
    fn next(&mut self) -> u64 {
        self.i += 1;
        draw(self.key, self.i)
    }

    /// Uniform in `[lo, hi]` (inclusive).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn urange(&mut self, lo: usize, hi: usize) -> usize {
        self.range(lo as i64, hi as i64) as usize
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[(self.next() % xs.len() as u64) as usize]
    }

    /// A multiple of 1/64 in `[lo, hi]`: exact in f32 and in short decimal JSON.
    fn sixty_fourths(&mut self, lo: f64, hi: f64) -> f64 {
        self.range((lo * 64.0) as i64, (hi * 64.0) as i64) as f64 / 64.0
    }
}

/// Draws a random case: the recipe, one metadata record per image and the options.
pub fn random_recipe(seed: u64, limits: &Limits) -> (Recipe, Vec<ImageMeta>, Options) {
    let mut d = Draws {
        key: key(seed, TAG_RANDOM),
        i: 0,
    };
    let models: Vec<_> = MODELS
        .iter()
        .copied()
        .filter(|&(q, m)| q <= limits.max_queries && m <= limits.max_mask)
        .collect();
    let (q, mh, mw) = if !models.is_empty() && d.percent(60) {
        let (q, m) = d.pick(&models);
        (q, m, m)
    } else {
        let hi = limits.max_mask.max(8);
        (
            d.urange(1, limits.max_queries.max(1)),
            d.urange(8, hi),
            d.urange(8, hi),
        )
    };
    let c = if d.percent(50) { 91 } else { d.urange(2, 40) };
    let b = if d.percent(50) {
        1
    } else {
        d.urange(1, limits.max_batch.max(1))
    };
    let opts = random_options(&mut d, c);
    let mut r = SynthRecipe::new(d.next() >> 12, b, q, c, mh, mw);
    r.mask_dtype = d.pick(&[
        MaskDtype::F32,
        MaskDtype::F32,
        MaskDtype::F32,
        MaskDtype::F32,
        MaskDtype::F16,
        MaskDtype::Bf16,
    ]);
    for image in 0..b {
        random_detections(&mut d, &mut r, image, limits);
    }
    if d.percent(10) {
        let q0 = d.urange(0, q - 1);
        let n = d.urange(1, q);
        r.fills.push(Fill {
            images: [0, b],
            queries: [q0, q0 + n],
            columns: [0, c.min(8)],
            range: [-256, 6 * 256],
        });
    }
    let inference = Size::new(4 * mh as u32, 4 * mw as u32);
    let mut metas: Vec<ImageMeta> = (0..b)
        .map(|_| random_meta(&mut d, inference, limits))
        .collect();
    for attempt in 0.. {
        if valid(&r, &metas, &opts) {
            break;
        }
        // Redraw the metadata; after many tries fall back to a plain stretch.
        for m in metas.iter_mut() {
            *m = if attempt < 32 {
                random_meta(&mut d, inference, limits)
            } else {
                stretch(Size::new(720, 1280), inference, None)
            };
        }
        assert!(
            attempt < 64,
            "random_recipe({seed}): no valid metadata found"
        );
    }
    (Recipe::Synth(r), metas, opts)
}

fn random_options(d: &mut Draws, c: usize) -> Options {
    let num_classes = if d.percent(70) { c - 1 } else { c };
    let class_mapping = d.percent(25).then(|| {
        let l = d.pick(&[c, c - 1, c + 2, (c / 2).max(1)]).max(1);
        let mut next = 0i64;
        (0..l)
            .map(|_| {
                if d.percent(20) {
                    -1
                } else {
                    next += 1;
                    next - 1
                }
            })
            .collect::<Vec<i64>>()
    });
    let n_out = match &class_mapping {
        Some(m) => m.iter().filter(|&&v| v >= 0).count(),
        None => num_classes,
    };
    let threshold = if n_out > 0 && d.percent(20) {
        Threshold::PerClass(
            (0..n_out)
                .map(|_| d.sixty_fourths(0.1, 0.9) as f32)
                .collect(),
        )
    } else {
        Threshold::Scalar(d.pick(&[0.4, 0.5, 0.3, 0.25, 0.7, 0.05]))
    };
    let max_detections = d.percent(30).then(|| d.urange(1, 50));
    let resize = if d.percent(20) {
        ResizeMode::Bilinear
    } else {
        ResizeMode::Antialiased
    };
    // inference-models 0.39.6's masks_resolution_factor (SPEC §10.1): the
    // interesting points (0 = the mask window itself, just below 1) and random ones.
    let masks_resolution_factor = if d.percent(50) {
        1.0
    } else {
        let random = d.sixty_fourths(0.0, 1.0);
        d.pick(&[0.0, 0.25, 0.5, 0.999, random])
    };
    // The legacy (0,0)-crop rule of older releases exists only at factor 1.
    let canvas = if masks_resolution_factor == 1.0 && d.percent(8) {
        CanvasRule::LegacyOriginCrop
    } else {
        CanvasRule::Current
    };
    Options {
        threshold,
        num_classes,
        class_mapping,
        max_detections,
        resize,
        masks_resolution_factor,
        canvas,
    }
}

/// Explicit detections and special values for one image of the recipe.
fn random_detections(d: &mut Draws, r: &mut SynthRecipe, image: usize, limits: &Limits) {
    let (q, c) = (r.queries, r.columns);
    let n = d.urange(0, limits.max_detections_per_image.min(q));
    // Partial Fisher–Yates: n distinct queries.
    let mut qs: Vec<usize> = (0..q).collect();
    for i in 0..n {
        let j = d.urange(i, q - 1);
        qs.swap(i, j);
    }
    for &query in &qs[..n] {
        let column = d.urange(0, c - 1);
        let logit = match d.next() % 100 {
            0..=2 => Value::from(f64::NAN),
            3..=4 => Value::from(f64::INFINITY),
            5 => Value::from(f64::NEG_INFINITY),
            6..=15 => Value::Num(17.0 + d.range(0, 20) as f64),
            _ => Value::Num(d.sixty_fourths(-1.0, 10.0)),
        };
        r.logits.push(LogitSet {
            image,
            query,
            column,
            logit,
        });
        if d.percent(10) {
            let column = d.urange(0, c - 1);
            r.logits.push(LogitSet {
                image,
                query,
                column,
                logit: Value::Num(d.sixty_fourths(0.0, 8.0)),
            });
        }
        let mode = match d.next() % 100 {
            0..=9 => MaskMode::Border,
            10..=14 => MaskMode::Neg,
            15..=19 => MaskMode::Pos,
            20..=27 => MaskMode::Elongated,
            28..=35 => MaskMode::Double,
            _ => MaskMode::Auto,
        };
        if mode != MaskMode::Auto {
            r.mask_modes.push(ModeSet { image, query, mode });
        }
        if d.percent(4) {
            let value = d.pick(&[
                Value::from(f64::NAN),
                Value::from(f64::INFINITY),
                Value::from(f64::NEG_INFINITY),
            ]);
            let (y, x) = (d.urange(0, r.mask_h - 1), d.urange(0, r.mask_w - 1));
            r.mask_values.push(MaskValue {
                image,
                query,
                y,
                x,
                value,
            });
        }
        if d.percent(4) {
            let cxcywh = [
                Value::Num(d.sixty_fourths(-0.2, 1.2)),
                Value::Num(d.sixty_fourths(-0.2, 1.2)),
                Value::Num(d.sixty_fourths(0.0, 1.5)),
                Value::Num(d.sixty_fourths(0.0, 1.5)),
            ];
            r.boxes.push(BoxSet {
                image,
                query,
                cxcywh,
            });
        }
    }
}

fn random_canvas(d: &mut Draws, limits: &Limits) -> Size {
    let max = limits.max_canvas;
    let frames: Vec<_> = FRAMES
        .iter()
        .copied()
        .filter(|&(h, w)| h <= max.height && w <= max.width)
        .collect();
    if !frames.is_empty() && d.percent(60) {
        let (h, w) = d.pick(&frames);
        return Size::new(h, w);
    }
    let h = d.range(i64::from(MIN_SIDE), i64::from(max.height.max(MIN_SIDE))) as u32;
    let w = d.range(i64::from(MIN_SIDE), i64::from(max.width.max(MIN_SIDE))) as u32;
    // Aspect ratios beyond 4 would empty the letterboxed mask window.
    Size::new(h.min(4 * w), w.min(4 * h))
}

fn random_meta(d: &mut Draws, inference: Size, limits: &Limits) -> ImageMeta {
    let o = random_canvas(d, limits);
    let crop_pct = |d: &mut Draws, anchored: bool| {
        let (x0, y0) = if anchored {
            (0.0, 0.0)
        } else {
            (d.range(5, 30) as f64, d.range(5, 30) as f64)
        };
        [x0, y0, d.range(60, 100) as f64, d.range(60, 100) as f64]
    };
    let dataset = |d: &mut Draws| {
        if d.percent(70) {
            let (h, w) = d.pick(&DATASET_DIMS);
            Size::new(h, w)
        } else {
            Size::new(d.range(64, 1024) as u32, d.range(64, 1024) as u32)
        }
    };
    match d.next() % 100 {
        0..=39 => stretch(o, inference, None),
        40..=54 => stretch(o, inference, Some(static_crop_px(o, crop_pct(d, false)))),
        55..=64 => stretch(o, inference, Some(static_crop_px(o, crop_pct(d, true)))),
        65..=81 => {
            let crop = d.percent(30).then(|| static_crop_px(o, crop_pct(d, false)));
            letterbox(o, inference, dataset(d), crop)
        }
        _ => {
            let crop = d.percent(30).then(|| static_crop_px(o, crop_pct(d, false)));
            // Half of the time dims near the image size, so pads of both signs occur.
            let dims = if d.percent(50) {
                let near = |d: &mut Draws, v: u32| {
                    d.range(i64::from(v / 2).max(16), i64::from(v) * 3 / 2) as u32
                };
                Size::new(near(d, o.height), near(d, o.width))
            } else {
                dataset(d)
            };
            center_crop(o, inference, dims, crop)
        }
    }
}

/// Whether the reference accepts the case, checked on zero-stride stand-in tensors
/// (only shapes matter to `validate`).
fn valid(r: &SynthRecipe, metas: &[ImageMeta], opts: &Options) -> bool {
    let zero = [0f32];
    let (b, q, c, mh, mw) = (r.batch, r.queries, r.columns, r.mask_h, r.mask_w);
    let logits = ArrayView3::from_shape((b, q, c).strides((0, 0, 0)), &zero)
        .expect("zero strides fit one element");
    let boxes = ArrayView3::from_shape((b, q, 4).strides((0, 0, 0)), &zero)
        .expect("zero strides fit one element");
    let masks = ArrayView4::from_shape((b, q, mh, mw).strides((0, 0, 0, 0)), &zero)
        .expect("zero strides fit one element");
    let batch = Batch {
        logits,
        boxes,
        masks: MaskLogits::F32(masks),
    };
    rle_reference::validate(&batch, metas, opts).is_ok()
}
