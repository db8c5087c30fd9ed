//! Shared checks of the fuzz targets: the properties every accepted input must
//! have once it went through the CPU reference.
//!
//! - [`check_pipeline`]: `validate` and the two pipeline entry points agree (same
//!   typed error, or all succeed); an accepted input never fails later; every RLE
//!   string decompresses, covers its declared size exactly and decodes to the dense
//!   mask `rle_reference::mask::detection_mask` builds for that detection; scores and
//!   detections agree between `postprocess` and `postprocess_with_scores`.
//! - [`cost`]: an upper bound of the work the reference would do, so targets skip the
//!   pipeline (not the validation) for inputs whose sizes are legal but would take
//!   gigabytes; the fuzzer's job is panics, not resource exhaustion.

pub mod input;

use ndarray::Axis;
use rle_reference::geometry::{MaskGrid, MaskWindow};
use rle_reference::mask::{detection_mask, MaskDtype};
use rle_reference::rle::{compress, decode, decompress, encode};
use rle_reference::{
    postprocess, postprocess_with_scores, validate, Batch, ImageMeta, MaskLogits, Options, Xyxy,
};

/// With `RLE_FUZZ_OUTCOMES` set, targets print one line per input saying how far
/// it got (`rejected: …`, `accepted`, `accepted+pipeline`), to measure a corpus's
/// depth: run the target binary on a corpus directory with `-runs=0`.
pub fn outcome(what: impl FnOnce() -> String) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("RLE_FUZZ_OUTCOMES").is_some()) {
        eprintln!("outcome: {}", what());
    }
}

/// Work bound (in pixel-sized units) above which the pipeline is not run.
pub const MAX_COST: u64 = 1 << 15;

/// An upper bound of the pixels the reference touches for this batch, `None` when
/// some image's mask window is empty (validation rejects it anyway).
pub fn cost(batch: &Batch<'_>, metas: &[ImageMeta]) -> Option<u64> {
    let [_, q, mh, mw] = batch.masks.shape();
    let mut total = 0u64;
    for m in metas {
        let win = MaskWindow::for_image(mh, mw, m)?;
        let s = m.size_after_pre_processing;
        let canvas = if m.pastes() { m.original_size } else { s };
        let (sh, sw) = (u64::from(s.height), u64::from(s.width));
        let (wh, ww) = (win.height as u64, win.width as u64);
        // window, horizontal pass (wh × sw), output, canvas, tables.
        let image = wh.saturating_mul(ww)
            + wh.saturating_mul(sw)
            + sh.saturating_mul(sw)
            + u64::from(canvas.height).saturating_mul(u64::from(canvas.width))
            + (sh + sw).saturating_mul(2 * (wh.max(ww) / sh.min(sw).max(1) + 2));
        // Every detection re-encodes and decodes its mask here: count the queries.
        total = total.saturating_add(image.saturating_mul(q as u64 + 1));
    }
    Some(total)
}

/// The variant name of a `Debug`-printed error.
fn variant(debug: &str) -> &str {
    debug.split([' ', '(', '{']).next().unwrap_or(debug)
}

fn mask_dtype(masks: &MaskLogits<'_>) -> MaskDtype {
    match masks {
        MaskLogits::F32(_) => MaskDtype::F32,
        MaskLogits::F16(_) => MaskDtype::F16,
        MaskLogits::Bf16(_) => MaskDtype::Bf16,
    }
}

fn query_logits(masks: &MaskLogits<'_>, b: usize, q: usize) -> ndarray::Array2<f32> {
    match masks {
        MaskLogits::F32(m) => m.index_axis(Axis(0), b).index_axis(Axis(0), q).to_owned(),
        MaskLogits::F16(m) => m
            .index_axis(Axis(0), b)
            .index_axis(Axis(0), q)
            .mapv(|v| v.to_f32()),
        MaskLogits::Bf16(m) => m
            .index_axis(Axis(0), b)
            .index_axis(Axis(0), q)
            .mapv(|v| v.to_f32()),
    }
}

/// Runs the reference on the input and asserts every property in the module header.
/// Returns whether the input was accepted.
pub fn check_pipeline(batch: &Batch<'_>, metas: &[ImageMeta], opts: &Options) -> bool {
    let verdict = validate(batch, metas, opts);
    let Ok(()) = verdict else {
        let e = verdict.unwrap_err();
        // The entry points run the same checks first and report the same error
        // (compared as text: NaN fields make `PartialEq` unequal).
        let again = postprocess(batch, metas, opts).expect_err("validate rejected it");
        assert_eq!(format!("{again:?}"), format!("{e:?}"));
        assert!(!e.to_string().is_empty());
        outcome(|| format!("rejected: {}", variant(&format!("{e:?}"))));
        return false;
    };
    match cost(batch, metas) {
        Some(c) if c <= MAX_COST => {}
        _ => {
            outcome(|| "accepted (too large for the pipeline)".into());
            return true;
        }
    }
    outcome(|| "accepted+pipeline".into());
    let results = postprocess(batch, metas, opts).expect("validate accepted it");
    let scores = batch.logits.mapv(rle_reference::sigmoid::sigmoid);
    let exact =
        postprocess_with_scores(batch, scores.view(), metas, opts).expect("validate accepted it");
    assert_eq!(results.len(), metas.len());
    assert_eq!(exact.len(), metas.len());
    let [_, queries, mh, mw] = batch.masks.shape();
    let dtype = mask_dtype(&batch.masks);
    for (b, ((r, x), meta)) in results.iter().zip(&exact).zip(metas).enumerate() {
        // Same scores, same decisions: only the near-decision flags may differ.
        assert_eq!(r.detections, x.detections, "image {b}");
        assert!(x.near_decisions.is_empty());
        assert_eq!(r.image_size, meta.original_size);
        assert!(r.detections.len() <= queries);
        if let Some(cap) = opts.max_detections {
            assert!(r.detections.len() <= cap);
        }
        let (window, grid) = MaskGrid::for_image(mh, mw, meta, opts).expect("validated");
        // Boxes clamp to the encoded grid (SPEC §10.3): f32(W) / f32(H) of the clamp
        // size, then, on the image grid, round and saturate to i32.
        let clamp = grid.box_clamp;
        let bound = |v: u32| i64::from(((v as f32).round_ties_even() as i32).max(0));
        let (wo, ho) = (bound(clamp.width), bound(clamp.height));
        for d in &r.detections {
            assert!(d.class_id >= 0, "{d:?}");
            assert!((d.query as usize) < queries);
            assert_eq!(d.mask.size, r.mask_size, "{d:?}");
            assert_eq!(d.mask.size, grid.canvas, "{d:?}");
            match d.xyxy {
                Xyxy::Int(v) => {
                    let [x1, y1, x2, y2] = v.map(i64::from);
                    assert!((0..=wo).contains(&x1) && (0..=wo).contains(&x2), "{d:?}");
                    assert!((0..=ho).contains(&y1) && (0..=ho).contains(&y2), "{d:?}");
                }
                // Unrounded; NaN coordinates are data and stay NaN.
                Xyxy::F32([x1, y1, x2, y2]) => {
                    let (w, h) = (clamp.width as f32, clamp.height as f32);
                    for (v, hi) in [(x1, w), (x2, w), (y1, h), (y2, h)] {
                        assert!(!(v < 0.0) && !(v > hi), "{d:?}");
                    }
                }
            }
            let counts = decompress(&d.mask.counts).expect("our own strings decompress");
            let size = d.mask.size;
            let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
            assert_eq!(total, u64::from(size.height) * u64::from(size.width));
            let decoded = decode(&counts, size).expect("counts cover the mask");
            let logits = query_logits(&batch.masks, b, d.query as usize);
            let dense = detection_mask(logits.view(), dtype, &window, &grid, opts.resize);
            assert_eq!(decoded, dense, "image {b}, detection {d:?}");
            // Canonical: re-encoding the dense mask gives the same bytes.
            assert_eq!(compress(&encode(dense.view())), d.mask.counts);
        }
    }
    true
}
