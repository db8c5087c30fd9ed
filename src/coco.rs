//! COCO results records (`pycocotools.COCO.loadRes` input): one JSON object per
//! detection, `{"image_id", "category_id", "score", "bbox", "segmentation"}`.
//!
//! Choices (docs/CLI.md repeats them):
//! - `bbox` is the reference's `xyxy` box as `[x1, y1, x2 − x1, y2 − y1]`, not the mask's
//!   tight box: it is the detector's box, in the encoded grid's pixels. Integers when
//!   the grid is the image (rounded half to even, SPEC §2.6); floats when
//!   `masks_resolution_factor < 1` puts the masks on another grid (§10.3), with the
//!   width and height computed in f64 from the f32 corners (NaN is written as null).
//! - `category_id` is the output class id, or `category_ids[class_id]` when the frame's
//!   sidecar maps class ids to COCO category ids.
//! - `score` is the f32 sigmoid score, written with the fewest digits that read back as
//!   the same f32.
//! - `segmentation` is the compressed RLE exactly as the reference encodes it; its `size`
//!   is the encoded grid (`mask_size`, SPEC §10.4): the original image at factor 1,
//!   smaller below it (and the cropped size under `--legacy-canvas` with a crop
//!   anchored at (0, 0)).

use std::io::Write;

use anyhow::{Context, Result};
use rle_reference::rle::RleJson;
use rle_reference::{Detection, ImageResult, Xyxy};
use serde::{Deserialize, Serialize};

use crate::frame::Frame;

/// One detection in COCO results format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CocoResult {
    /// The image's COCO id.
    pub image_id: i64,
    /// COCO category id.
    pub category_id: i64,
    /// Confidence.
    pub score: f32,
    /// `[x, y, w, h]` from the `xyxy` box.
    pub bbox: Bbox,
    /// Compressed RLE.
    pub segmentation: RleJson,
}

/// A COCO `bbox`: integers on the image grid, floats on another grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bbox {
    /// `[x, y, w, h]` of an integer box.
    Int([i64; 4]),
    /// `[x, y, w, h]` of a float box.
    Float([f64; 4]),
}

/// `[x1, y1, x2 − x1, y2 − y1]`.
pub fn xywh(xyxy: Xyxy) -> Bbox {
    match xyxy {
        Xyxy::Int(v) => {
            let [x1, y1, x2, y2] = v.map(i64::from);
            Bbox::Int([x1, y1, x2 - x1, y2 - y1])
        }
        Xyxy::F32(v) => {
            let [x1, y1, x2, y2] = v.map(f64::from);
            Bbox::Float([x1, y1, x2 - x1, y2 - y1])
        }
    }
}

fn record(frame: &Frame, image_id: i64, det: &Detection) -> Result<CocoResult> {
    let class = i64::from(det.class_id);
    let category_id = match &frame.category_ids {
        // `assemble` checked that the list covers every output class id.
        Some(ids) => *usize::try_from(class)
            .ok()
            .and_then(|c| ids.get(c))
            .with_context(|| {
                format!(
                    "{}: category_ids has no entry for class {class}",
                    frame.json.display()
                )
            })?,
        None => class,
    };
    Ok(CocoResult {
        image_id,
        category_id,
        score: det.score,
        bbox: xywh(det.xyxy),
        segmentation: RleJson::try_from(&det.mask)
            .context("the RLE string left the COCO alphabet")?,
    })
}

/// The records of one frame's results, image by image, in the reference order.
pub fn records(frame: &Frame, results: &[ImageResult]) -> Result<Vec<CocoResult>> {
    let mut out = Vec::new();
    for (image, &image_id) in results.iter().zip(&frame.image_ids) {
        for det in &image.detections {
            out.push(record(frame, image_id, det)?);
        }
    }
    Ok(out)
}

/// Writes `records` as a JSON list, one record per line.
pub fn write_json(out: &mut dyn Write, records: &[CocoResult]) -> Result<()> {
    let mut out = std::io::BufWriter::new(out);
    out.write_all(b"[")?;
    for (i, r) in records.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut out, r)?;
    }
    out.write_all(b"\n]\n")?;
    out.flush()?;
    Ok(())
}
