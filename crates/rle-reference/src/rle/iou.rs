//! Intersection and IoU of two COCO RLE masks of one size, the dense way:
//! decode both and count pixels. Slow and obviously right; the reference the
//! GPU's run-based `mask_rle_iou` (crates/mask-kernels) is checked against.

use super::{decode, RleError};
use crate::Size;

/// `(intersection, IoU)` of two masks given by their uncompressed counts.
/// IoU is pycocotools' non-crowd `inter / (area_a + area_b - inter)`, one
/// f64 division; 0 when both masks are empty.
pub fn iou(a: &[u32], b: &[u32], size: Size) -> Result<(u64, f64), RleError> {
    let (ma, mb) = (decode(a, size)?, decode(b, size)?);
    let (mut inter, mut union) = (0u64, 0u64);
    for (x, y) in ma.iter().zip(mb.iter()) {
        inter += u64::from(*x && *y);
        union += u64::from(*x || *y);
    }
    let iou = if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    };
    Ok((inter, iou))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cases() {
        let size = Size::new(2, 2);
        assert_eq!(iou(&[4], &[4], size).unwrap(), (0, 0.0));
        assert_eq!(iou(&[0, 4], &[0, 4], size).unwrap(), (4, 1.0));
        assert_eq!(iou(&[0, 2, 2], &[1, 2, 1], size).unwrap(), (1, 1.0 / 3.0));
        assert!(iou(&[3], &[4], size).is_err());
    }
}
