//! The typed error of the post-processor.
//!
//! Invariant: every variant names the offending input or field the way a
//! caller wrote it (`"metas[2].pad_top"`, `"batch.masks"`, `"opts.threshold[4]"`)
//! and carries the numbers involved (expected vs got, requested vs limit), so the
//! message alone says what to fix. NaN and infinities *inside tensors* are data
//! (SPEC §5) and never produce an error; only shapes, sizes and scalar options do.

use thiserror::Error;

/// Why a batch, its metadata or the options were rejected (see [`crate::validate()`]).
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// Two inputs disagree on a dimension (or a dimension has a fixed value).
    #[error("{field}: expected {expected} along dimension {dim} ({what}), got {got}")]
    ShapeMismatch {
        /// The input whose dimension is wrong, e.g. `"batch.boxes"`.
        field: String,
        /// Dimension index.
        dim: usize,
        /// Name of the dimension, e.g. `"Q"`.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// A dimension or size that must be at least 1 is 0.
    #[error("{field}: must be at least 1, got 0")]
    EmptyDimension {
        /// The dimension or size, e.g. `"batch.logits (C)"` or `"metas[0].original_size.height"`.
        field: String,
    },
    /// A product of sizes does not fit the integer type that carries it (a single
    /// size over its limit is the product `value × 1`, and reads "value exceeds …").
    #[error("{field}: {}", overflow_text(*a, *b, limit_name, *limit))]
    SizeOverflow {
        /// Which product, e.g. `"Q*C"` or `"metas[1].original_size (H*W)"`.
        field: String,
        /// First factor.
        a: u64,
        /// Second factor.
        b: u64,
        /// The type, e.g. `"u32"`.
        limit_name: &'static str,
        /// Its maximum.
        limit: u64,
    },
    /// `metas.len()` differs from the batch size.
    #[error("metas: expected one entry per image ({expected}), got {got}")]
    MetaCount {
        /// Batch size `B`.
        expected: usize,
        /// `metas.len()`.
        got: usize,
    },
    /// A pre-processing scale is not a finite positive number.
    #[error("{field}: must be finite and > 0, got {value}")]
    InvalidScale {
        /// e.g. `"metas[0].scale_width"`.
        field: String,
        /// The value given.
        value: f64,
    },
    /// The threshold cannot be applied.
    #[error("{field}: {reason}")]
    InvalidThreshold {
        /// e.g. `"opts.threshold"` or `"opts.threshold[3]"`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An option is outside its domain or does not combine with another one.
    #[error("{field}: {reason}")]
    InvalidOption {
        /// e.g. `"opts.masks_resolution_factor"`.
        field: String,
        /// What is wrong with it, with the value.
        reason: String,
    },
    /// A `class_mapping` entry is outside `-1..=i32::MAX`.
    #[error("{field}: must be -1 (removed) or a class id in 0..={max}, got {value}")]
    InvalidClassMapping {
        /// e.g. `"opts.class_mapping[7]"`.
        field: String,
        /// The value given.
        value: i64,
        /// Largest accepted id.
        max: i64,
    },
    /// The static crop does not fit in the original image, so the mask cannot be pasted (§2.7d).
    #[error(
        "{field}: the {axis} range {offset}..{offset}+{len} of the pasted mask exceeds the original size {bound}"
    )]
    CropOutsideImage {
        /// e.g. `"metas[0].static_crop"`.
        field: String,
        /// `"x"` or `"y"`.
        axis: &'static str,
        /// Crop offset on that axis.
        offset: u32,
        /// Pasted length (`Ws` or `Hs`).
        len: u32,
        /// `Wo` or `Ho`.
        bound: u32,
    },
    /// Removing the letterbox pads leaves no mask pixel (§2.7a).
    #[error(
        "{field}: removing the mask pads (top {top}, bottom {bottom}, left {left}, right {right} in mask pixels) \
         from the {mask_h}×{mask_w} mask leaves an empty window"
    )]
    EmptyMaskWindow {
        /// e.g. `"metas[0] pads"`.
        field: String,
        /// Mask height `Mh`.
        mask_h: usize,
        /// Mask width `Mw`.
        mask_w: usize,
        /// Rounded top pad (negative = zero padding).
        top: i64,
        /// Rounded bottom pad.
        bottom: i64,
        /// Rounded left pad.
        left: i64,
        /// Rounded right pad.
        right: i64,
    },
    /// The antialiased resize would need more shared memory than CUDA grants, so the
    /// CUDA reference raises "Too much shared memory required" (SPEC §3.5).
    #[error(
        "{field}: antialiased resize {in_h}×{in_w} → {out_h}×{out_w} needs {required} bytes of shared memory \
         per block, the CUDA reference refuses more than {limit} (downscale too extreme)"
    )]
    DownscaleTooExtreme {
        /// e.g. `"metas[0]"`.
        field: String,
        /// Cropped mask height.
        in_h: usize,
        /// Cropped mask width.
        in_w: usize,
        /// Target height `Hs`.
        out_h: u32,
        /// Target width `Ws`.
        out_w: u32,
        /// Bytes the CUDA kernel would ask for.
        required: usize,
        /// `sharedMemPerBlock`.
        limit: usize,
    },
}

/// The text of [`Error::SizeOverflow`]: `a × b overflows …`, or `a exceeds …` when
/// the error is about one size (`b == 1`), where "× 1" would only puzzle a reader.
fn overflow_text(a: u64, b: u64, limit_name: &str, limit: u64) -> String {
    if b == 1 {
        format!("{a} exceeds {limit_name} (max {limit})")
    } else {
        format!("{a} × {b} overflows {limit_name} (max {limit})")
    }
}
