//! Recipe → tensors: background and filled logits, blob masks, matching boxes,
//! then the recipe's exact overrides (the order of `generate` in `scripts/synth.py`).
//!
//! Invariant: every generated value is `int · 2^-k` with `|int| < 2^24`, converted
//! exactly; overrides are applied last, in recipe order.

use half::{bf16, f16};
use ndarray::{Array3, Array4};
use rle_reference::{Batch, MaskLogits};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::hash::{key, uniform, TAG_BG, TAG_FILL};
use super::recipe::{ExplicitRecipe, MaskDtype, MaskMode, Recipe, Special, SynthRecipe, Value};
use super::shapes::{Blob, BOX_SHIFT};

/// Logits are integers in units of `2^-LOGIT_SHIFT`.
const LOGIT_SHIFT: i32 = 8;
/// Generated integers (and fill ranges) must stay below this magnitude.
const INT_LIMIT: i64 = 1 << 23;
/// Largest accepted mask side: keeps every fixed-point product far from overflow.
const MAX_MASK_SIDE: usize = 1024;
/// Most elements one generated tensor may have (2^28: 1 GiB of f32). Each axis has
/// its own bound, but their product does not: a recipe of a few bytes declaring
/// 4096 × 65536 × 65536 logits would ask for 64 TiB and abort the process. The
/// largest committed case has about 11 M elements.
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 28;

/// Why a recipe cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SynthError {
    /// A dimension is 0 or too large.
    #[error("recipe.{field}: {value} is outside 1..={max}")]
    Dimension {
        /// Field name.
        field: &'static str,
        /// Its value.
        value: usize,
        /// Largest accepted value.
        max: usize,
    },
    /// An override or fill points outside the tensor, or a range is malformed.
    #[error("recipe.{field}[{index}]: {reason}")]
    Entry {
        /// List name, e.g. `"logits"`.
        field: &'static str,
        /// Position in the list.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A tensor would have more than [`MAX_TENSOR_ELEMENTS`] elements.
    #[error(
        "recipe: {tensor} would have {elements} elements ({dims}), more than the {max} a recipe may generate"
    )]
    TooLarge {
        /// `"logits"`, `"boxes"` or `"masks"`.
        tensor: &'static str,
        /// The product of its dimensions (saturating).
        elements: u128,
        /// Which dimensions, e.g. `"batch × queries × columns"`.
        dims: &'static str,
        /// [`MAX_TENSOR_ELEMENTS`].
        max: u64,
    },
    /// An explicit tensor has the wrong number of elements.
    #[error("recipe.{field}: expected {expected} values, got {got}")]
    Length {
        /// List name.
        field: &'static str,
        /// `B·Q·…`.
        expected: usize,
        /// Actual length.
        got: usize,
    },
}

/// Generated mask logits in their dtype, `B×Q×Mh×Mw`.
#[derive(Debug, Clone, PartialEq)]
pub enum SynthMasks {
    /// float32.
    F32(Array4<f32>),
    /// float16.
    F16(Array4<f16>),
    /// bfloat16.
    Bf16(Array4<bf16>),
}

/// The tensors of one batch.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthBatch {
    /// `B×Q×C` class logits.
    pub logits: Array3<f32>,
    /// `B×Q×4` boxes `(cx, cy, w, h)`.
    pub boxes: Array3<f32>,
    /// `B×Q×Mh×Mw` mask logits.
    pub masks: SynthMasks,
}

/// SHA-256 (lowercase hex) of each tensor's little-endian bytes in its own dtype.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TensorHashes {
    /// Of the logits.
    pub logits: String,
    /// Of the boxes.
    pub boxes: String,
    /// Of the masks.
    pub masks: String,
}

impl SynthBatch {
    /// Views for `rle_reference::postprocess`.
    pub fn batch(&self) -> Batch<'_> {
        let masks = match &self.masks {
            SynthMasks::F32(m) => MaskLogits::F32(m.view()),
            SynthMasks::F16(m) => MaskLogits::F16(m.view()),
            SynthMasks::Bf16(m) => MaskLogits::Bf16(m.view()),
        };
        Batch {
            logits: self.logits.view(),
            boxes: self.boxes.view(),
            masks,
        }
    }

    /// The tensors' content hashes (same as `synth.hashes` in Python).
    pub fn hashes(&self) -> TensorHashes {
        let masks = match &self.masks {
            SynthMasks::F32(m) => digest(m.iter().map(|v| v.to_le_bytes())),
            SynthMasks::F16(m) => digest(m.iter().map(|v| v.to_le_bytes())),
            SynthMasks::Bf16(m) => digest(m.iter().map(|v| v.to_le_bytes())),
        };
        TensorHashes {
            logits: digest(self.logits.iter().map(|v| v.to_le_bytes())),
            boxes: digest(self.boxes.iter().map(|v| v.to_le_bytes())),
            masks,
        }
    }
}

/// SHA-256 hex of a stream of little-endian element bytes (logical row-major order).
fn digest<const N: usize>(elems: impl Iterator<Item = [u8; N]>) -> String {
    let mut h = Sha256::new();
    let mut buf = Vec::with_capacity(1 << 16);
    for e in elems {
        buf.extend_from_slice(&e);
        if buf.len() >= 1 << 16 {
            h.update(&buf);
            buf.clear();
        }
    }
    h.update(&buf);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Generates the tensors of a recipe.
///
/// # Panics
/// If the recipe is invalid (see [`try_generate`] for the checked form).
pub fn generate(recipe: &Recipe) -> SynthBatch {
    try_generate(recipe).expect("recipe should be valid (indices in range, dimensions ≥ 1)")
}

/// Checks the recipe, then generates its tensors.
pub fn try_generate(recipe: &Recipe) -> Result<SynthBatch, SynthError> {
    match recipe {
        Recipe::Synth(r) => {
            check_synth(r)?;
            Ok(generate_synth(r))
        }
        Recipe::Explicit(r) => generate_explicit(r),
    }
}

fn dim(field: &'static str, value: usize, max: usize) -> Result<(), SynthError> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(SynthError::Dimension { field, value, max })
    }
}

fn entry(
    field: &'static str,
    index: usize,
    ok: bool,
    reason: impl FnOnce() -> String,
) -> Result<(), SynthError> {
    if ok {
        Ok(())
    } else {
        Err(SynthError::Entry {
            field,
            index,
            reason: reason(),
        })
    }
}

fn check_range(field: &'static str, index: usize, [lo, hi]: [i64; 2]) -> Result<(), SynthError> {
    entry(
        field,
        index,
        lo <= hi && lo.abs() < INT_LIMIT && hi.abs() < INT_LIMIT,
        || format!("range [{lo}, {hi}] must satisfy lo ≤ hi and |·| < 2^23"),
    )
}

/// Every tensor of a `(B, Q, C, Mh, Mw)` batch within [`MAX_TENSOR_ELEMENTS`],
/// checked before anything is allocated.
fn check_elements(
    (b, q, c, mh, mw): (usize, usize, usize, usize, usize),
) -> Result<(), SynthError> {
    let product = |dims: &[usize]| {
        dims.iter()
            .try_fold(1u128, |acc, &d| acc.checked_mul(d as u128))
            .unwrap_or(u128::MAX)
    };
    for (tensor, dims, elements) in [
        ("logits", "batch × queries × columns", product(&[b, q, c])),
        ("boxes", "batch × queries × 4", product(&[b, q, 4])),
        (
            "masks",
            "batch × queries × mask_h × mask_w",
            product(&[b, q, mh, mw]),
        ),
    ] {
        if elements > u128::from(MAX_TENSOR_ELEMENTS) {
            return Err(SynthError::TooLarge {
                tensor,
                elements,
                dims,
                max: MAX_TENSOR_ELEMENTS,
            });
        }
    }
    Ok(())
}

fn check_synth(r: &SynthRecipe) -> Result<(), SynthError> {
    dim("batch", r.batch, 1 << 12)?;
    dim("queries", r.queries, 1 << 16)?;
    dim("columns", r.columns, 1 << 16)?;
    dim("mask_h", r.mask_h, MAX_MASK_SIDE)?;
    dim("mask_w", r.mask_w, MAX_MASK_SIDE)?;
    check_elements((r.batch, r.queries, r.columns, r.mask_h, r.mask_w))?;
    check_range("background", 0, r.background)?;
    for (i, f) in r.fills.iter().enumerate() {
        check_range("fills", i, f.range)?;
        let ok = f.images[0] <= f.images[1]
            && f.queries[0] <= f.queries[1]
            && f.columns[0] <= f.columns[1];
        entry("fills", i, ok, || {
            "each [start, end) must have start ≤ end".into()
        })?;
    }
    let (b, q, c) = (r.batch, r.queries, r.columns);
    let slot_ok = |image: usize, query: usize| image < b && query < q;
    for (i, l) in r.logits.iter().enumerate() {
        entry(
            "logits",
            i,
            slot_ok(l.image, l.query) && l.column < c,
            || {
                format!(
                    "({}, {}, {}) outside {b}×{q}×{c}",
                    l.image, l.query, l.column
                )
            },
        )?;
    }
    for (i, m) in r.mask_modes.iter().enumerate() {
        entry("mask_modes", i, slot_ok(m.image, m.query), || {
            format!("({}, {}) outside {b}×{q}", m.image, m.query)
        })?;
    }
    for (i, m) in r.mask_values.iter().enumerate() {
        let ok = slot_ok(m.image, m.query) && m.y < r.mask_h && m.x < r.mask_w;
        entry("mask_values", i, ok, || {
            format!(
                "({}, {}, {}, {}) outside {b}×{q}×{}×{}",
                m.image, m.query, m.y, m.x, r.mask_h, r.mask_w
            )
        })?;
    }
    for (i, o) in r.boxes.iter().enumerate() {
        entry("boxes", i, slot_ok(o.image, o.query), || {
            format!("({}, {}) outside {b}×{q}", o.image, o.query)
        })?;
    }
    Ok(())
}

/// `int · 2^-shift` as f32; exact because `|int| < 2^24` and the scale is a power of 2.
fn scaled(v: i64, shift: i32) -> f32 {
    (v as f32) * 2f32.powi(-shift)
}

fn slot_modes(r: &SynthRecipe) -> Vec<MaskMode> {
    let mut modes = vec![MaskMode::Auto; r.batch * r.queries];
    for m in &r.mask_modes {
        modes[m.image * r.queries + m.query] = m.mode;
    }
    modes
}

fn generate_synth(r: &SynthRecipe) -> SynthBatch {
    let (b, q, c, mh, mw) = (r.batch, r.queries, r.columns, r.mask_h, r.mask_w);
    let modes = slot_modes(r);

    let kbg = key(r.seed, TAG_BG);
    let mut logits = Array3::from_shape_fn((b, q, c), |(i, j, k)| {
        let idx = ((i * q + j) * c + k) as u64;
        scaled(
            uniform(kbg, idx, r.background[0], r.background[1]),
            LOGIT_SHIFT,
        )
    });
    for (n, f) in r.fills.iter().enumerate() {
        let kf = key(r.seed, TAG_FILL + n as u64);
        for i in f.images[0]..f.images[1].min(b) {
            for j in f.queries[0]..f.queries[1].min(q) {
                for k in f.columns[0]..f.columns[1].min(c) {
                    let idx = ((i * q + j) * c + k) as u64;
                    logits[[i, j, k]] =
                        scaled(uniform(kf, idx, f.range[0], f.range[1]), LOGIT_SHIFT);
                }
            }
        }
    }
    for l in &r.logits {
        logits[[l.image, l.query, l.column]] = l.logit.to_f32();
    }

    let blobs: Vec<Blob> = (0..b * q)
        .map(|s| Blob::new(r.seed, s as u64, mh, mw, modes[s]))
        .collect();
    let mut boxes = Array3::from_shape_fn((b, q, 4), |(i, j, k)| {
        scaled(blobs[i * q + j].box_ints(mh, mw)[k], BOX_SHIFT)
    });
    for o in &r.boxes {
        for (k, v) in o.cxcywh.iter().enumerate() {
            boxes[[o.image, o.query, k]] = v.to_f32();
        }
    }

    let shape = (b, q, mh, mw);
    let shape_err = "mask_values yields B·Q·Mh·Mw values";
    let masks = match r.mask_dtype {
        MaskDtype::F32 => {
            let vals = mask_values(r, &blobs, &modes, |v| scaled(v, 8));
            let mut m = Array4::from_shape_vec(shape, vals).expect(shape_err);
            for o in &r.mask_values {
                m[[o.image, o.query, o.y, o.x]] = o.value.to_f32();
            }
            SynthMasks::F32(m)
        }
        MaskDtype::F16 => {
            let vals = mask_values(r, &blobs, &modes, |v| {
                f16::from_f32(scaled(v.div_euclid(4).clamp(-2048, 2048), 6))
            });
            let mut m = Array4::from_shape_vec(shape, vals).expect(shape_err);
            for o in &r.mask_values {
                m[[o.image, o.query, o.y, o.x]] = match o.value {
                    Value::Special(Special::Nan) => f16::from_bits(0x7E00),
                    v => f16::from_f32(v.to_f32()),
                };
            }
            SynthMasks::F16(m)
        }
        MaskDtype::Bf16 => {
            let vals = mask_values(r, &blobs, &modes, |v| {
                bf16::from_f32(scaled(v.div_euclid(32).clamp(-256, 256), 3))
            });
            let mut m = Array4::from_shape_vec(shape, vals).expect(shape_err);
            for o in &r.mask_values {
                m[[o.image, o.query, o.y, o.x]] = match o.value {
                    Value::Special(Special::Nan) => bf16::from_bits(0x7FC0),
                    v => bf16::from_f32(v.to_f32()),
                };
            }
            SynthMasks::Bf16(m)
        }
    };
    SynthBatch {
        logits,
        boxes,
        masks,
    }
}

/// Every slot's mask, quantised by `conv` (1/256 units → the dtype), row-major.
/// Slots are split across threads; the values do not depend on the split.
fn mask_values<T, F>(r: &SynthRecipe, blobs: &[Blob], modes: &[MaskMode], conv: F) -> Vec<T>
where
    T: Copy + Default + Send,
    F: Fn(i64) -> T + Sync,
{
    let per = r.mask_h * r.mask_w;
    let mut out = vec![T::default(); blobs.len() * per];
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(16);
    let slots_per = blobs.len().div_ceil(threads).max(1);
    let conv = &conv;
    std::thread::scope(|sc| {
        for (t, chunk) in out.chunks_mut(slots_per * per).enumerate() {
            sc.spawn(move || {
                let mut scratch = vec![0i64; per];
                for (i, m) in chunk.chunks_mut(per).enumerate() {
                    let s = t * slots_per + i;
                    blobs[s].fill_mask(
                        r.seed,
                        modes[s],
                        r.mask_h,
                        r.mask_w,
                        (s * per) as u64,
                        &mut scratch,
                    );
                    for (o, &v) in m.iter_mut().zip(&scratch) {
                        *o = conv(v);
                    }
                }
            });
        }
    });
    out
}

fn generate_explicit(r: &ExplicitRecipe) -> Result<SynthBatch, SynthError> {
    dim("batch", r.batch, 1 << 12)?;
    dim("queries", r.queries, 1 << 16)?;
    dim("columns", r.columns, 1 << 16)?;
    dim("mask_h", r.mask_h, 1 << 16)?;
    dim("mask_w", r.mask_w, 1 << 16)?;
    // Also keeps the products below from overflowing (the lists' lengths are real).
    check_elements((r.batch, r.queries, r.columns, r.mask_h, r.mask_w))?;
    let floats = |field: &'static str, bits: &[u32], expected: usize| {
        if bits.len() == expected {
            Ok(bits
                .iter()
                .map(|&b| f32::from_bits(b))
                .collect::<Vec<f32>>())
        } else {
            Err(SynthError::Length {
                field,
                expected,
                got: bits.len(),
            })
        }
    };
    let (b, q, c, mh, mw) = (r.batch, r.queries, r.columns, r.mask_h, r.mask_w);
    let logits = floats("logits_bits", &r.logits_bits, b * q * c)?;
    let boxes = floats("boxes_bits", &r.boxes_bits, b * q * 4)?;
    let masks = floats("masks_bits", &r.masks_bits, b * q * mh * mw)?;
    let shape_err = "lengths were checked against the shape";
    Ok(SynthBatch {
        logits: Array3::from_shape_vec((b, q, c), logits).expect(shape_err),
        boxes: Array3::from_shape_vec((b, q, 4), boxes).expect(shape_err),
        masks: SynthMasks::F32(Array4::from_shape_vec((b, q, mh, mw), masks).expect(shape_err)),
    })
}
