//! [`RleSet`]: the masks one call of [`super::MaskOps`] works on, validated
//! on the host before anything reaches the GPU. Every rule the kernels rely
//! on is checked here with a typed error naming the mask, what is wrong, and
//! the expected and given values; the kernels' own status word
//! (`mask_kernels::abi::status`) is a second line of defence, never the
//! first.

use mask_kernels::abi::{MaskSetParams, MAX_MASKS};
use rle_reference::rle::decompress;
use rle_reference::{CocoRle, Size};

use crate::error::{Error, Result};

/// COCO RLE masks of one size, as uncompressed counts laid out for the
/// kernels: every mask's counts one after the other, and `masks + 1` offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RleSet {
    size: Size,
    counts: Vec<u32>,
    offsets: Vec<u32>,
}

/// Most counts in one set: the scan kernel's block-stride loop over counts
/// (`base + thread`, `base += threads`) must stay below `2^32`.
const MAX_COUNTS: u32 = u32::MAX - (1 << 16);

impl RleSet {
    /// A set from uncompressed counts (background run first, column-major,
    /// as pycocotools and `rle_reference::rle::encode`). Each mask's counts
    /// must sum to `height * width`.
    pub fn from_counts<C: AsRef<[u32]>>(size: Size, masks: &[C]) -> Result<Self> {
        let total = u64::from(size.height) * u64::from(size.width);
        if total >= 1 << 32 {
            return Err(Error::Limit {
                what: "mask height * width".into(),
                limit: u64::from(u32::MAX),
                got: total,
            });
        }
        if masks.len() > MAX_MASKS as usize {
            return Err(Error::Limit {
                what: "masks in one set".into(),
                limit: u64::from(MAX_MASKS),
                got: masks.len() as u64,
            });
        }
        let mut counts = Vec::new();
        let mut offsets = Vec::with_capacity(masks.len() + 1);
        offsets.push(0);
        for (mask, m) in masks.iter().enumerate() {
            let m = m.as_ref();
            // pycocotools writes no empty run but the first (a mask that
            // starts with foreground); its `toBbox` and the kernels' scan
            // read an empty run differently, so one is refused here.
            if m.iter().skip(1).any(|&c| c == 0) {
                return Err(Error::MaskInput {
                    mask,
                    what: "shortest run after the first (only the first count may be 0)",
                    expected: 1,
                    got: 0,
                });
            }
            let sum: u64 = m.iter().map(|&c| u64::from(c)).sum();
            if sum != total {
                return Err(Error::MaskInput {
                    mask,
                    what: "counts sum (height * width)",
                    expected: total,
                    got: sum,
                });
            }
            counts.extend_from_slice(m);
            let len = counts.len() as u64;
            if len > u64::from(MAX_COUNTS) {
                return Err(Error::Limit {
                    what: "counts in one set".into(),
                    limit: u64::from(MAX_COUNTS),
                    got: len,
                });
            }
            offsets.push(len as u32);
        }
        Ok(Self {
            size,
            counts,
            offsets,
        })
    }

    /// A set from COCO RLE records (compressed strings, as our
    /// post-processor and pycocotools write them); all of one size.
    pub fn from_coco(masks: &[CocoRle]) -> Result<Self> {
        let size = masks.first().map_or(Size::new(0, 0), |m| m.size);
        let mut counts = Vec::with_capacity(masks.len());
        for (mask, m) in masks.iter().enumerate() {
            if m.size != size {
                return Err(Error::MaskSize {
                    mask,
                    what: "size (every mask of a set has the first one's)",
                    expected_h: size.height,
                    expected_w: size.width,
                    got_h: m.size.height,
                    got_w: m.size.width,
                });
            }
            counts.push(decompress(&m.counts).map_err(|source| Error::MaskRle { mask, source })?);
        }
        Self::from_counts(size, &counts)
    }

    /// Number of masks.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether the set has no mask.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The masks' size.
    pub fn size(&self) -> Size {
        self.size
    }

    /// Pixels of one mask (`height * width`, below 2^32).
    pub fn pixels(&self) -> u32 {
        self.size.height * self.size.width
    }

    /// Mask `i`'s counts.
    pub fn counts(&self, i: usize) -> &[u32] {
        &self.counts[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    pub(crate) fn all_counts(&self) -> &[u32] {
        &self.counts
    }

    pub(crate) fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    /// The kernels' view of the set.
    pub(crate) fn params(&self) -> MaskSetParams {
        MaskSetParams {
            masks: self.len() as u32,
            height: self.size.height,
            width: self.size.width,
            counts_len: self.counts.len() as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rle_reference::rle::compress;

    #[test]
    fn lays_out_counts_and_offsets() {
        let set = RleSet::from_counts(Size::new(2, 2), &[vec![4], vec![1, 2, 1]]).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.offsets(), [0, 1, 4]);
        assert_eq!(set.counts(1), [1, 2, 1]);
        assert_eq!(
            set.params(),
            MaskSetParams {
                masks: 2,
                height: 2,
                width: 2,
                counts_len: 4
            }
        );
        let coco = CocoRle {
            size: Size::new(2, 2),
            counts: compress(&[1, 2, 1]),
        };
        assert_eq!(RleSet::from_coco(&[coco]).unwrap().counts(0), [1, 2, 1]);
        assert!(RleSet::from_counts::<Vec<u32>>(Size::new(3, 3), &[])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn bad_input_is_a_typed_error_naming_the_mask() {
        let err = RleSet::from_counts(Size::new(2, 2), &[vec![4], vec![1, 2]]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::MaskInput {
                    mask: 1,
                    expected: 4,
                    got: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "RLE mask 1: counts sum (height * width): expected 4, got 3"
        );
        let huge = RleSet::from_counts(Size::new(1 << 16, 1 << 16), &[vec![0u32]]).unwrap_err();
        assert!(matches!(huge, Error::Limit { .. }), "{huge}");
        let over = RleSet::from_counts(Size::new(1, 1), &[vec![u32::MAX, u32::MAX]]).unwrap_err();
        assert!(matches!(over, Error::MaskInput { mask: 0, .. }), "{over}");
        let a = CocoRle {
            size: Size::new(2, 2),
            counts: compress(&[4]),
        };
        let b = CocoRle {
            size: Size::new(2, 3),
            counts: compress(&[6]),
        };
        let mixed = RleSet::from_coco(&[a.clone(), b]).unwrap_err();
        assert_eq!(
            mixed.to_string(),
            "RLE mask 1: size (every mask of a set has the first one's): expected 2×2, got 2×3"
        );
        // 2×3 and 3×2 have one pixel count: the error names both sides.
        let c = CocoRle {
            size: Size::new(3, 2),
            counts: compress(&[6]),
        };
        let d = CocoRle {
            size: Size::new(2, 3),
            counts: compress(&[6]),
        };
        let swapped = RleSet::from_coco(&[c, d]).unwrap_err();
        assert!(
            swapped.to_string().ends_with("expected 3×2, got 2×3"),
            "{swapped}"
        );
        // An empty run after the first: refused (pycocotools writes none).
        let empty_run = RleSet::from_counts(Size::new(2, 2), &[vec![2, 0, 2]]).unwrap_err();
        assert!(
            matches!(
                empty_run,
                Error::MaskInput {
                    mask: 0,
                    expected: 1,
                    got: 0,
                    ..
                }
            ),
            "{empty_run}"
        );
        assert!(RleSet::from_counts(Size::new(2, 2), &[vec![0, 4]]).is_ok());
        let garbage = CocoRle {
            size: Size::new(2, 2),
            counts: b"\x01".to_vec(),
        };
        let bad = RleSet::from_coco(&[a, garbage]).unwrap_err();
        assert!(matches!(bad, Error::MaskRle { mask: 1, .. }), "{bad}");
    }
}
