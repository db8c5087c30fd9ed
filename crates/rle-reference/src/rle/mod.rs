//! COCO run-length encoding (SPEC §4), byte-compatible with pycocotools.
//!
//! - [`counts`]: boolean mask ⇄ uncompressed counts (column-major, §4.1), runs → counts,
//!   area and bounding box.
//! - [`string`]: counts ⇄ the compressed string (`rleToString` / `rleFrString`, §4.2).
//! - [`iou`]: intersection and IoU of two masks (dense; the mask kernels' reference).
//! - [`json`]: the pycocotools-shaped `{"size": [h, w], "counts": "..."}` record.
//!
//! Invariants: counts alternate background/foreground runs starting with background
//! (so `counts[0]` may be 0), no other count is 0, and they sum to `H*W`. Decoding
//! never panics on malformed input; it returns an [`RleError`].

pub mod counts;
pub mod iou;
pub mod json;
pub mod string;

use thiserror::Error;

pub use counts::{area, counts_from_runs, decode, encode, to_bbox};
pub use iou::iou;
pub use json::RleJson;
pub use string::{compress, decompress};

/// Why RLE data could not be decoded or assembled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RleError {
    /// A byte outside the alphabet `'0'..='o'` (48..=111).
    #[error("byte {byte} at position {position} is outside the RLE alphabet 48..=111")]
    InvalidByte {
        /// Offending byte.
        byte: u8,
        /// Its position.
        position: usize,
    },
    /// The string ended inside a multi-character value (continuation bit set on the last byte).
    #[error("the string ends inside the value of count {index} (continuation bit set at position {position})")]
    Truncated {
        /// Index of the unfinished count.
        index: usize,
        /// Position of the last byte.
        position: usize,
    },
    /// A count does not fit in an unsigned 32-bit integer.
    #[error("count {index} overflows u32 (value {value})")]
    Overflow {
        /// Index of the count.
        index: usize,
        /// The value, or `i64::MAX` when it does not even fit 64 bits.
        value: i64,
    },
    /// A decoded count is negative.
    #[error("count {index} is negative ({value})")]
    NegativeCount {
        /// Index of the count.
        index: usize,
        /// The value.
        value: i64,
    },
    /// The counts do not cover the mask exactly.
    #[error("counts sum to {sum}, expected H*W = {expected}")]
    SumMismatch {
        /// Sum of the counts.
        sum: u64,
        /// `H*W`.
        expected: u64,
    },
    /// Runs passed to [`counts_from_runs`] are unsorted, overlapping, or beyond the mask.
    #[error("run {index} ({start}..{end}) is not sorted, overlaps the previous run, or exceeds {total} pixels")]
    InvalidRun {
        /// Index of the run.
        index: usize,
        /// Its start.
        start: u32,
        /// Its end (exclusive).
        end: u32,
        /// Mask pixel count.
        total: u32,
    },
}
