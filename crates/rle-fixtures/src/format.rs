//! Serde types of `fixtures/cases/<name>.json` (written by scripts/gen_fixtures.py).
//!
//! Invariant: field names match the Python writer exactly; `metas` and `options`
//! are `rle_reference` types in their own serde form, so nothing is translated.

use rle_reference::{CocoRle, Detection, ImageMeta, ImageResult, Options, Size};
use serde::{Deserialize, Serialize};

use crate::synth::{Recipe, TensorHashes};

/// One fixture case: inputs (as a recipe), metadata, options and the oracle's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// File stem, e.g. `"letterbox_pad_13_5"`.
    pub name: String,
    /// One line saying what the case covers.
    pub description: String,
    /// Regenerates the input tensors.
    pub recipe: Recipe,
    /// One record per image.
    pub metas: Vec<ImageMeta>,
    /// Post-processing options.
    pub options: Options,
    /// SHA-256 of the tensors the oracle saw.
    pub hashes: TensorHashes,
    /// The oracle's output, one entry per image.
    pub images: Vec<ExpectedImage>,
    /// Versions and device of the oracle run (free-form).
    #[serde(default)]
    pub provenance: serde_json::Value,
}

/// Expected output of one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedImage {
    /// `[Ho, Wo]`: the size the mask container declares.
    pub image_size: [u32; 2],
    /// Detections in the oracle's order.
    pub detections: Vec<ExpectedDetection>,
}

/// One expected detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedDetection {
    /// Query `q`.
    pub query: u32,
    /// Logit column `c`.
    pub column: u32,
    /// Output class id.
    pub class_id: i32,
    /// f32 bits of torch's sigmoid score.
    pub score_bits: u32,
    /// f32 bits of the logit `(q, c)`, so a reader can recompute the score.
    pub logit_bits: u32,
    /// `[x1, y1, x2, y2]`.
    pub xyxy: [i32; 4],
    /// `[h, w]` of the encoded mask.
    pub mask_size: [u32; 2],
    /// The compressed RLE string.
    pub counts: String,
}

impl ExpectedDetection {
    /// As the reference's [`Detection`].
    pub fn to_detection(&self) -> Detection {
        Detection {
            query: self.query,
            column: self.column,
            class_id: self.class_id,
            score: f32::from_bits(self.score_bits),
            xyxy: self.xyxy,
            mask: CocoRle {
                size: Size::new(self.mask_size[0], self.mask_size[1]),
                counts: self.counts.clone().into_bytes(),
            },
        }
    }
}

impl Case {
    /// The expected output as the reference's result type (no near decisions: the
    /// oracle's scores are exact by definition).
    pub fn expected(&self) -> Vec<ImageResult> {
        self.images
            .iter()
            .map(|im| ImageResult {
                image_size: Size::new(im.image_size[0], im.image_size[1]),
                detections: im
                    .detections
                    .iter()
                    .map(ExpectedDetection::to_detection)
                    .collect(),
                near_decisions: Vec::new(),
            })
            .collect()
    }

    /// The oracle's `B×Q×C` scores are not stored; this gives, per image, the kept
    /// detections' `(q, c, score)` so a test can feed exact scores where it has them.
    pub fn expected_scores(&self) -> Vec<Vec<(u32, u32, f32)>> {
        self.images
            .iter()
            .map(|im| {
                im.detections
                    .iter()
                    .map(|d| (d.query, d.column, f32::from_bits(d.score_bits)))
                    .collect()
            })
            .collect()
    }
}
