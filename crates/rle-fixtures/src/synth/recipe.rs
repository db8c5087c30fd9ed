//! The recipe: a compact JSON description from which the synthetic tensors are
//! regenerated (the serde twin of the dicts `scripts/synth.py` reads).
//!
//! Invariant: field names and value spellings are exactly those of the Python
//! generator; a recipe written by either side is read by the other unchanged.

use serde::{Deserialize, Serialize};

/// How to build a batch of model outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recipe {
    /// Hash-generated blobs, boxes and logits with explicit detections.
    Synth(SynthRecipe),
    /// Tiny tensors written out as float32 bits (SPEC §4.4's example).
    Explicit(ExplicitRecipe),
}

impl Recipe {
    /// `(B, Q, C, Mh, Mw)`.
    pub fn dims(&self) -> (usize, usize, usize, usize, usize) {
        match self {
            Recipe::Synth(r) => (r.batch, r.queries, r.columns, r.mask_h, r.mask_w),
            Recipe::Explicit(r) => (r.batch, r.queries, r.columns, r.mask_h, r.mask_w),
        }
    }
}

/// Element type of the generated mask logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskDtype {
    /// float32, values `int / 2^8`.
    #[default]
    F32,
    /// float16, values `int / 2^6` with `|int| ≤ 2048` (exactly representable).
    F16,
    /// bfloat16, values `int / 2^3` with `|int| ≤ 256` (exactly representable).
    Bf16,
}

/// The hash-generated recipe (see `scripts/synth.py`'s header for the algorithm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthRecipe {
    /// Seed of every hash stream.
    pub seed: u64,
    /// Images `B`.
    pub batch: usize,
    /// Queries `Q`.
    pub queries: usize,
    /// Logit columns `C` (classes + no-object).
    pub columns: usize,
    /// Mask grid height `Mh`.
    pub mask_h: usize,
    /// Mask grid width `Mw`.
    pub mask_w: usize,
    /// Mask element type.
    #[serde(default)]
    pub mask_dtype: MaskDtype,
    /// Background logits range `[lo, hi]` in 1/256 (default −10 … −3).
    #[serde(default = "default_background")]
    pub background: [i64; 2],
    /// Rectangles of hashed logits, applied in order after the background.
    #[serde(default)]
    pub fills: Vec<Fill>,
    /// Exact logits, applied in order after the fills (detections, NaN/inf injections).
    #[serde(default)]
    pub logits: Vec<LogitSet>,
    /// Non-default mask shapes per slot.
    #[serde(default)]
    pub mask_modes: Vec<ModeSet>,
    /// Exact mask values, applied last (in the mask dtype).
    #[serde(default)]
    pub mask_values: Vec<MaskValue>,
    /// Exact boxes, applied after the generated ones.
    #[serde(default)]
    pub boxes: Vec<BoxSet>,
}

fn default_background() -> [i64; 2] {
    [-2560, -768]
}

impl SynthRecipe {
    /// A recipe with the default background and nothing else: every score ≈ 0.
    pub fn new(
        seed: u64,
        batch: usize,
        queries: usize,
        columns: usize,
        mask_h: usize,
        mask_w: usize,
    ) -> Self {
        Self {
            seed,
            batch,
            queries,
            columns,
            mask_h,
            mask_w,
            mask_dtype: MaskDtype::F32,
            background: default_background(),
            fills: Vec::new(),
            logits: Vec::new(),
            mask_modes: Vec::new(),
            mask_values: Vec::new(),
            boxes: Vec::new(),
        }
    }
}

/// Half-open ranges `[images) × [queries) × [columns)` whose logits are drawn
/// uniformly from `range` (1/256 units, inclusive); ends past the tensor are clipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    /// `[b0, b1)`.
    pub images: [usize; 2],
    /// `[q0, q1)`.
    pub queries: [usize; 2],
    /// `[c0, c1)`.
    pub columns: [usize; 2],
    /// `[lo, hi]` in 1/256, `|lo|, |hi| < 2^23`.
    pub range: [i64; 2],
}

/// A recipe scalar: a JSON number (rounded to f32 once) or `"nan"`, `"inf"`, `"-inf"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A finite number.
    Num(f64),
    /// A special value.
    Special(Special),
}

/// Non-finite recipe values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Special {
    /// Quiet NaN (f32 bits 0x7FC00000).
    #[serde(rename = "nan")]
    Nan,
    /// +∞.
    #[serde(rename = "inf")]
    Inf,
    /// −∞.
    #[serde(rename = "-inf")]
    NegInf,
}

impl Value {
    /// The value as float32 (round to nearest even from the f64).
    pub fn to_f32(self) -> f32 {
        match self {
            Value::Num(v) => v as f32,
            Value::Special(Special::Nan) => f32::from_bits(0x7FC0_0000),
            Value::Special(Special::Inf) => f32::INFINITY,
            Value::Special(Special::NegInf) => f32::NEG_INFINITY,
        }
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        if v.is_nan() {
            Value::Special(Special::Nan)
        } else if v == f64::INFINITY {
            Value::Special(Special::Inf)
        } else if v == f64::NEG_INFINITY {
            Value::Special(Special::NegInf)
        } else {
            Value::Num(v)
        }
    }
}

/// Sets logit `(image, query, column)` exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogitSet {
    /// Image `b`.
    pub image: usize,
    /// Query `q`.
    pub query: usize,
    /// Column `c`.
    pub column: usize,
    /// The logit.
    pub logit: Value,
}

/// Shape of one slot's mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskMode {
    /// One ellipse, or two (one slot in four).
    #[default]
    Auto,
    /// Exactly one ellipse.
    Single,
    /// Exactly two ellipses.
    Double,
    /// One ellipse four times longer than wide.
    Elongated,
    /// Every value negative (the detection's RLE is `[H·W]`).
    Neg,
    /// Every value positive.
    Pos,
    /// A centred ellipse touching all four borders (not the corners).
    Border,
}

/// Gives slot `(image, query)` a mask mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeSet {
    /// Image `b`.
    pub image: usize,
    /// Query `q`.
    pub query: usize,
    /// The mode.
    pub mode: MaskMode,
}

/// Sets mask value `(image, query, y, x)` exactly (rounded to the mask dtype).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskValue {
    /// Image `b`.
    pub image: usize,
    /// Query `q`.
    pub query: usize,
    /// Row.
    pub y: usize,
    /// Column.
    pub x: usize,
    /// The value.
    pub value: Value,
}

/// Sets the box of slot `(image, query)` exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxSet {
    /// Image `b`.
    pub image: usize,
    /// Query `q`.
    pub query: usize,
    /// `(cx, cy, w, h)`.
    pub cxcywh: [Value; 4],
}

/// Tensors given element by element as float32 bits, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplicitRecipe {
    /// Images `B`.
    pub batch: usize,
    /// Queries `Q`.
    pub queries: usize,
    /// Logit columns `C`.
    pub columns: usize,
    /// Mask grid height.
    pub mask_h: usize,
    /// Mask grid width.
    pub mask_w: usize,
    /// `B·Q·C` logits.
    pub logits_bits: Vec<u32>,
    /// `B·Q·4` boxes.
    pub boxes_bits: Vec<u32>,
    /// `B·Q·Mh·Mw` mask logits (float32).
    pub masks_bits: Vec<u32>,
}
