//! The inputs of one configuration: [`DISTINCT`] different batches of
//! realistic synthetic frames (`rle_fixtures::frame_case`, bit-identical to
//! `scripts/synth.py`), and how many device copies to rotate over so that
//! the inputs of consecutive frames are not all resident in the GPU's L2
//! cache (H100: 50 MB).
//!
//! Invariants, shared with `scripts/bench_torch.py` (change both together):
//! - batch `s` (0 ≤ s < [`DISTINCT`]) holds the frames of seeds
//!   `s·B .. s·B + B − 1` (B = batch size), stacked on the batch axis;
//! - the rotation has [`rotation_slots`] slots, slot `k` holding a copy of
//!   batch `k mod DISTINCT`, and frame `i` of a run uses slot `i mod slots`.

use ndarray::{concatenate, Axis};
use rle_fixtures::{frame_case, generate, SynthBatch, SynthMasks};
use rle_reference::{ImageMeta, Options};

use super::configs::BenchConfig;

/// Different batches generated per configuration.
pub const DISTINCT: usize = 8;
/// Upper bound on the rotation, whatever the batch size.
pub const MAX_SLOTS: usize = 256;

/// One batch: tensors, per-image metadata and options.
#[derive(Debug)]
pub struct Input {
    /// Logits, boxes and mask logits.
    pub data: SynthBatch,
    /// One entry per image.
    pub metas: Vec<ImageMeta>,
    /// Threshold 0.4, 90 classes, no remapping, antialiased resize.
    pub opts: Options,
}

impl Input {
    /// Bytes of the three input tensors (what a device copy occupies).
    pub fn bytes(&self) -> usize {
        let masks = match &self.data.masks {
            SynthMasks::F32(m) => m.len() * 4,
            SynthMasks::F16(m) => m.len() * 2,
            SynthMasks::Bf16(m) => m.len() * 2,
        };
        (self.data.logits.len() + self.data.boxes.len()) * 4 + masks
    }

    /// Tensor hashes, the first image's metadata and the options: the
    /// PyTorch script writes the same object, and the merge compares them.
    pub fn identity(&self) -> serde_json::Value {
        serde_json::json!({
            "hashes": self.data.hashes(),
            "meta0": self.metas[0],
            "options": self.opts,
        })
    }
}

/// The [`DISTINCT`] batches of a configuration.
pub fn distinct(cfg: &BenchConfig) -> Vec<Input> {
    (0..DISTINCT).map(|s| batch_input(cfg, s)).collect()
}

fn batch_input(cfg: &BenchConfig, slot: usize) -> Input {
    let mut parts = Vec::with_capacity(cfg.batch);
    let mut metas = Vec::with_capacity(cfg.batch);
    let mut opts = None;
    for i in 0..cfg.batch {
        let seed = (slot * cfg.batch + i) as u64;
        let (recipe, m, o) = frame_case(seed, cfg.model, cfg.frame, cfg.detections, cfg.dtype);
        parts.push(generate(&recipe));
        metas.extend(m);
        opts = Some(o);
    }
    Input {
        data: stack(parts),
        metas,
        opts: opts.expect("a batch holds at least one image"),
    }
}

/// Concatenates single-image batches along the batch axis.
fn stack(mut parts: Vec<SynthBatch>) -> SynthBatch {
    if parts.len() == 1 {
        return parts.pop().expect("one part");
    }
    let same = "the images of one configuration share their shapes";
    let logits: Vec<_> = parts.iter().map(|p| p.logits.view()).collect();
    let boxes: Vec<_> = parts.iter().map(|p| p.boxes.view()).collect();
    macro_rules! masks {
        ($variant:ident) => {{
            let views: Vec<_> = parts
                .iter()
                .map(|p| match &p.masks {
                    SynthMasks::$variant(m) => m.view(),
                    _ => panic!("{same}"),
                })
                .collect();
            SynthMasks::$variant(concatenate(Axis(0), &views).expect(same))
        }};
    }
    let masks = match &parts[0].masks {
        SynthMasks::F32(_) => masks!(F32),
        SynthMasks::F16(_) => masks!(F16),
        SynthMasks::Bf16(_) => masks!(Bf16),
    };
    SynthBatch {
        logits: concatenate(Axis(0), &logits).expect(same),
        boxes: concatenate(Axis(0), &boxes).expect(same),
        masks,
    }
}

/// Copies to rotate over: enough to exceed `rotate_bytes` in total, at least
/// [`DISTINCT`], at most [`MAX_SLOTS`].
pub fn rotation_slots(bytes_per_batch: usize, rotate_bytes: usize) -> usize {
    rotate_bytes
        .div_ceil(bytes_per_batch.max(1))
        .clamp(DISTINCT, MAX_SLOTS)
}
