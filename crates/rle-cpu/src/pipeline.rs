//! The batch: validation, scores, selection and boxes exactly as the reference
//! computes them (its own public functions), then every distinct mask of the
//! batch in parallel, then the results in the reference's order.
//!
//! Invariants: nothing here can fail after `rle_reference::validate`; two
//! detections of the same (image, query) share one mask, computed once; masks
//! are independent, so evaluating them on rayon's pool in any order gives the
//! same bytes.

use std::collections::HashMap;

use ndarray::{ArrayView3, Axis};
use rayon::prelude::*;
use rle_reference::boxes::box_on_grid;
use rle_reference::select::{select, Selection};
use rle_reference::sigmoid::sigmoid;
use rle_reference::validate::validate_scores;
use rle_reference::{validate, Batch, CocoRle, Detection, Error, ImageMeta, ImageResult, Options};

use crate::plan::ImagePlan;
use crate::tables::TableSet;
use crate::{mask, window};

/// Post-processes a batch with scores from the CPU sigmoid, reporting near
/// decisions: the same result as `rle_reference::postprocess`, field for field.
///
/// # Errors
/// Whatever `rle_reference::validate` rejects, unchanged.
pub fn postprocess(
    batch: &Batch<'_>,
    metas: &[ImageMeta],
    opts: &Options,
) -> Result<Vec<ImageResult>, Error> {
    validate(batch, metas, opts)?;
    let scores = batch.logits.mapv(sigmoid);
    Ok(run(batch, scores.view(), metas, opts, true))
}

/// Post-processes a batch with `B×Q×C` scores from an exact source (the GPU or
/// torch): the same result as `rle_reference::postprocess_with_scores`.
///
/// # Errors
/// Whatever `rle_reference::validate` or `validate_scores` rejects, unchanged.
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
    let mut tables = TableSet::default();
    let plans: Vec<ImagePlan> = metas
        .iter()
        .map(|m| ImagePlan::new(&batch.masks, m, opts, &mut tables))
        .collect();
    let selections: Vec<Selection> = (0..metas.len())
        .map(|b| {
            let logits = near.then(|| batch.logits.index_axis(Axis(0), b));
            select(scores.index_axis(Axis(0), b), logits, opts)
        })
        .collect();

    // Distinct (image, query) masks, in first-use order.
    let mut jobs: Vec<(usize, u32)> = Vec::new();
    let mut job_of: HashMap<(usize, u32), usize> = HashMap::new();
    for (b, sel) in selections.iter().enumerate() {
        for s in &sel.kept {
            job_of.entry((b, s.candidate.query)).or_insert_with(|| {
                jobs.push((b, s.candidate.query));
                jobs.len() - 1
            });
        }
    }
    let strings: Vec<Vec<u8>> = jobs
        .par_iter()
        .map(|&(b, q)| {
            let plan = &plans[b];
            let (win, positive) = window::read(&batch.masks, b, q as usize, &plan.window);
            mask::encode(&win, positive, plan, &tables)
        })
        .collect();

    selections
        .into_iter()
        .zip(metas.iter().zip(&plans))
        .enumerate()
        .map(|(b, (sel, (meta, plan)))| {
            let bx = batch.boxes.index_axis(Axis(0), b);
            let detections = sel
                .kept
                .iter()
                .map(|s| {
                    let c = s.candidate;
                    let q = c.query as usize;
                    Detection {
                        query: c.query,
                        column: c.column,
                        class_id: s.class_id,
                        score: c.score,
                        xyxy: box_on_grid(
                            [bx[[q, 0]], bx[[q, 1]], bx[[q, 2]], bx[[q, 3]]],
                            meta,
                            &plan.grid,
                        ),
                        mask: CocoRle {
                            size: plan.canvas,
                            counts: strings[job_of[&(b, c.query)]].clone(),
                        },
                    }
                })
                .collect();
            ImageResult {
                image_size: meta.original_size,
                mask_size: plan.canvas,
                detections,
                near_decisions: sel.near,
            }
        })
        .collect()
}
