//! Fast, exact CPU post-processor: the same [`ImageResult`]s as
//! `rle_reference::postprocess`, byte for byte, without building dense masks.
//!
//! # Design
//! The reference resizes every detection's mask to full resolution, binarizes
//! it, pastes it and run-length encodes it (hundreds of milliseconds for a
//! 1920×1080 frame). This crate follows the GPU path (`rle-kernels` +
//! `rle-host`) instead:
//!
//! 1. **Validation, scores, selection, boxes**: the reference's own public
//!    pieces (`validate`, `sigmoid::sigmoid`, `select::select`,
//!    `boxes::box_xyxy`), mirroring `rle_reference`'s pipeline; they are cheap.
//! 2. **Tables** ([`tables`](crate::tables)): one resize table per distinct
//!    `(n, m, kind)` axis of the frame, built by `rle_kernels::tables` (the code
//!    the GPU runs, host-tested against the reference). The kind per image is
//!    chosen as `rle-host`'s `plan` does: identity on both axes when the window
//!    already has size `S`, else the resize mode's table on both axes.
//! 3. **Window** ([`window`](crate::window)): each distinct (image, query) mask
//!    window is read once into a contiguous f32 buffer (f16/bf16 widened exactly,
//!    zero padding for negative pads), noting the box of its pixels `> 0`.
//! 4. **ROI and runs** ([`mask`](crate::mask)): only output pixels whose resize
//!    span reaches that box can be foreground (weights ≥ 0; SPEC §7). The ROI
//!    is walked column by column in canvas column-major order (the canvas and
//!    the offset of the resized `T` in it come from
//!    `rle_reference::geometry::MaskGrid`, SPEC §10.2); each column's horizontal passes are computed once and shared by its
//!    rows; consecutive rows reading the same taps whose horizontal values share
//!    a decided sign are set without a vertical pass (`rle_kernels::uniform`);
//!    a value is foreground when it exceeds
//!    `rle_kernels::tables::foreground_threshold` (the f16/bf16 round trip of
//!    SPEC §1.1). Foreground runs become counts with
//!    `rle_reference::rle::counts_from_runs` (which merges a run crossing a
//!    column boundary) and the string with `rle_reference::rle::compress`.
//! 5. **Parallelism**: the distinct masks of the whole batch are encoded on
//!    rayon's global pool (`RAYON_NUM_THREADS` sets its size); results are
//!    assembled in the reference's order.
//!
//! Invariant: for every input `rle_reference::validate` accepts, [`postprocess`]
//! equals `rle_reference::postprocess` (and [`postprocess_with_scores`] its
//! `_with_scores` twin); for every input it rejects, both return the same error.
//! Tests: every committed fixture, hundreds of random frames and edge-case
//! property tests compare the two.

#![deny(missing_docs)]

mod mask;
mod pipeline;
mod plan;
mod tables;
mod window;

pub use pipeline::{postprocess, postprocess_with_scores};

/// Threads the post-processor runs on: rayon's global pool (`RAYON_NUM_THREADS`
/// sets it; by default one per available core), for reports.
pub fn threads() -> usize {
    rayon::current_num_threads()
}

#[doc(no_inline)]
pub use rle_reference::{Batch, Error, ImageMeta, ImageResult, Options};
