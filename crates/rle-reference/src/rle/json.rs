//! The pycocotools-shaped RLE record `{"size": [h, w], "counts": "..."}` and the
//! conversions between it, [`CocoRle`] and uncompressed counts.
//!
//! Invariant: a [`CocoRle`] converted to or from [`RleJson`] keeps its bytes unchanged;
//! the conversion fails (instead of replacing characters) if a byte is outside the
//! COCO alphabet 48..=111.

use serde::{Deserialize, Serialize};

use super::{decompress, RleError};
use crate::{CocoRle, Size};

/// pycocotools' compressed RLE dict: `size` is `[height, width]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RleJson {
    /// `[height, width]`.
    pub size: [u32; 2],
    /// The compressed counts string.
    pub counts: String,
}

/// Checks that every byte is in the COCO alphabet.
fn check_alphabet(bytes: &[u8]) -> Result<(), RleError> {
    match bytes.iter().position(|b| !(48..=111).contains(b)) {
        Some(position) => Err(RleError::InvalidByte {
            byte: bytes[position],
            position,
        }),
        None => Ok(()),
    }
}

impl CocoRle {
    /// The counts as text (the alphabet is ASCII); fails on a byte outside it.
    pub fn counts_string(&self) -> Result<&str, RleError> {
        check_alphabet(&self.counts)?;
        // ASCII is valid UTF-8, so this cannot fail after the check.
        std::str::from_utf8(&self.counts).map_err(|e| RleError::InvalidByte {
            byte: self.counts[e.valid_up_to()],
            position: e.valid_up_to(),
        })
    }

    /// The uncompressed counts (`rleFrString`).
    pub fn decode_counts(&self) -> Result<Vec<u32>, RleError> {
        decompress(&self.counts)
    }
}

impl TryFrom<&CocoRle> for RleJson {
    type Error = RleError;

    fn try_from(rle: &CocoRle) -> Result<Self, RleError> {
        Ok(RleJson {
            size: [rle.size.height, rle.size.width],
            counts: rle.counts_string()?.to_owned(),
        })
    }
}

impl TryFrom<RleJson> for CocoRle {
    type Error = RleError;

    fn try_from(json: RleJson) -> Result<Self, RleError> {
        check_alphabet(json.counts.as_bytes())?;
        Ok(CocoRle {
            size: Size::new(json.size[0], json.size[1]),
            counts: json.counts.into_bytes(),
        })
    }
}
