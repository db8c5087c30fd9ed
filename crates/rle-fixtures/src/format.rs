//! Serde types of `fixtures/cases/<name>.json` (written by scripts/gen_fixtures.py).
//!
//! Invariant: field names match the Python writer exactly; `metas` and `options`
//! are `rle_reference` types in their own serde form, so nothing is translated.

use rle_reference::{CocoRle, Detection, ImageMeta, ImageResult, Options, Size, Xyxy};
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
    /// `[Ho, Wo]`: the original image size.
    pub image_size: [u32; 2],
    /// `[h, w]` of the grid the image's masks are encoded on (SPEC §10.4). Older
    /// fixtures lack it: then the first detection's `mask_size`, or `image_size`.
    #[serde(default)]
    pub mask_size: Option<[u32; 2]>,
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
    /// `[x1, y1, x2, y2]` when the boxes are integers (the image grid).
    #[serde(default)]
    pub xyxy: Option<[i32; 4]>,
    /// f32 bits of `[x1, y1, x2, y2]` when the boxes are float32 (another grid,
    /// SPEC §10.3); the writer adds `xyxy_approx` (decimals, NaN as null) for readers.
    #[serde(default)]
    pub xyxy_bits: Option<[u32; 4]>,
    /// `[h, w]` of the encoded mask.
    pub mask_size: [u32; 2],
    /// The compressed RLE string.
    pub counts: String,
}

impl ExpectedDetection {
    /// The box as the reference's type (a fixture gives exactly one of the two forms).
    pub fn boxes(&self) -> Xyxy {
        match (self.xyxy, self.xyxy_bits) {
            (_, Some(bits)) => Xyxy::F32(bits.map(f32::from_bits)),
            (Some(v), None) => Xyxy::Int(v),
            (None, None) => panic!("fixture detection has neither xyxy nor xyxy_bits"),
        }
    }

    /// As the reference's [`Detection`].
    pub fn to_detection(&self) -> Detection {
        Detection {
            query: self.query,
            column: self.column,
            class_id: self.class_id,
            score: f32::from_bits(self.score_bits),
            xyxy: self.boxes(),
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
                mask_size: {
                    let m = im
                        .mask_size
                        .or_else(|| im.detections.first().map(|d| d.mask_size))
                        .unwrap_or(im.image_size);
                    Size::new(m[0], m[1])
                },
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
