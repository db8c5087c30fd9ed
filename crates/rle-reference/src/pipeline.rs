//! The whole post-processing of a batch, image by image (SPEC §2):
//! scores → select → boxes → masks (pads → resize to the grid → binarize → paste) → RLE.
//!
//! Invariants: inputs are validated first (`crate::validate`), after which nothing
//! here can fail; images are independent; two detections of the same query share
//! one mask, computed once.

use std::collections::HashMap;

use ndarray::{ArrayView2, ArrayView3, Axis};

use crate::boxes::box_on_grid;
use crate::error::Error;
use crate::geometry::MaskGrid;
use crate::mask::{detection_mask, query_logits};
use crate::rle::{compress, encode};
use crate::select::select;
use crate::sigmoid::sigmoid;
use crate::validate::{validate, validate_scores};
use crate::{Batch, CocoRle, Detection, ImageMeta, ImageResult, Options};

/// Post-processes a batch with scores computed on the CPU ([`sigmoid`], within 4 ulp
/// of CUDA's); decisions that those few ulp could flip are reported in
/// `ImageResult::near_decisions`.
pub fn postprocess(
    batch: &Batch<'_>,
    metas: &[ImageMeta],
    opts: &Options,
) -> Result<Vec<ImageResult>, Error> {
    validate(batch, metas, opts)?;
    let scores = batch.logits.mapv(sigmoid);
    Ok(run(batch, scores.view(), metas, opts, true))
}

/// Post-processes a batch with `B×Q×C` sigmoid scores from an exact source (the GPU
/// kernel or torch), so the result is bit-exact; `near_decisions` stays empty.
pub fn postprocess_with_scores(
    batch: &Batch<'_>,
    scores: ArrayView3<'_, f32>,
    metas: &[ImageMeta],
    opts: &Options,
) -> Result<Vec<ImageResult>, Error> {
    validate(batch, metas, opts)?;
    validate_scores(batch, scores)?;
    Ok(run(batch, scores, metas, opts, false))
}

fn run(
    batch: &Batch<'_>,
    scores: ArrayView3<'_, f32>,
    metas: &[ImageMeta],
    opts: &Options,
    near: bool,
) -> Vec<ImageResult> {
    metas
        .iter()
        .enumerate()
        .map(|(b, meta)| process_image(batch, b, scores.index_axis(Axis(0), b), meta, opts, near))
        .collect()
}

fn process_image(
    batch: &Batch<'_>,
    b: usize,
    scores: ArrayView2<'_, f32>,
    meta: &ImageMeta,
    opts: &Options,
    near: bool,
) -> ImageResult {
    let logits = batch.logits.index_axis(Axis(0), b);
    let selection = select(scores, near.then_some(logits), opts);
    let [_, _, mask_h, mask_w] = batch.masks.shape();
    let (window, grid) = MaskGrid::for_image(mask_h, mask_w, meta, opts)
        .expect("validate() checked the mask window is non-empty");
    // Every RLE of the image is encoded on the grid's canvas (§10.2); image_size is O.
    let rle_size = grid.canvas;

    let mut masks: HashMap<u32, CocoRle> = HashMap::new();
    let detections = selection
        .kept
        .iter()
        .map(|sel| {
            let c = sel.candidate;
            let q = c.query as usize;
            let bx = batch.boxes.index_axis(Axis(0), b);
            let xyxy = box_on_grid(
                [bx[[q, 0]], bx[[q, 1]], bx[[q, 2]], bx[[q, 3]]],
                meta,
                &grid,
            );
            let mask = masks
                .entry(c.query)
                .or_insert_with(|| {
                    let (values, dtype) = query_logits(&batch.masks, b, q);
                    let m = detection_mask(values.view(), dtype, &window, &grid, opts.resize);
                    CocoRle {
                        size: rle_size,
                        counts: compress(&encode(m.view())),
                    }
                })
                .clone();
            Detection {
                query: c.query,
                column: c.column,
                class_id: sel.class_id,
                score: c.score,
                xyxy,
                mask,
            }
        })
        .collect();
    ImageResult {
        image_size: meta.original_size,
        mask_size: rle_size,
        detections,
        near_decisions: selection.near,
    }
}
