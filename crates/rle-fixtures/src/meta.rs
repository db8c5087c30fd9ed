//! Pre-processing metadata builders (SPEC §1.3, §8.2): the Rust twins of
//! `scripts/meta.py`, for random cases and demos.
//!
//! Invariant: the arithmetic is the producers' own — Python doubles, `int()`
//! truncation of non-negative values, floor division — so a builder here and its
//! Python twin give identical `ImageMeta` values (including the f64 scales).

use rle_reference::{ImageMeta, Size, StaticCrop};

/// A static crop in pixels: `[x0, y0, x1, y1)` inside the original image.
pub type CropPx = [u32; 4];

/// Crop bounds from percentages `(x_min, y_min, x_max, y_max)` as the model package
/// computes them: `int(p / 100 * W)` in doubles.
pub fn static_crop_px(original: Size, pct: [f64; 4]) -> CropPx {
    let (h, w) = (f64::from(original.height), f64::from(original.width));
    [
        (pct[0] / 100.0 * w) as u32,
        (pct[1] / 100.0 * h) as u32,
        (pct[2] / 100.0 * w) as u32,
        (pct[3] / 100.0 * h) as u32,
    ]
}

/// Metadata with the crop applied, no pads, unit scales; returns it and `S`.
fn base(original: Size, crop: Option<CropPx>, inference: Size) -> (ImageMeta, Size) {
    let [x0, y0, x1, y1] = crop.unwrap_or([0, 0, original.width, original.height]);
    let s = Size::new(y1 - y0, x1 - x0);
    let meta = ImageMeta {
        original_size: original,
        static_crop: StaticCrop {
            offset_x: x0,
            offset_y: y0,
            width: s.width,
            height: s.height,
        },
        size_after_pre_processing: s,
        inference_size: inference,
        nonsquare_intermediate_size: None,
        pad_left: 0,
        pad_top: 0,
        pad_right: 0,
        pad_bottom: 0,
        scale_width: 1.0,
        scale_height: 1.0,
    };
    (meta, s)
}

/// Single stretch resize to the inference size: pads 0, scales `D / S` per axis.
pub fn stretch(original: Size, inference: Size, crop: Option<CropPx>) -> ImageMeta {
    let (mut m, s) = base(original, crop, inference);
    m.scale_width = f64::from(inference.width) / f64::from(s.width);
    m.scale_height = f64::from(inference.height) / f64::from(s.height);
    m
}

/// Two-step letterbox into `dataset` dims: one scale `min(Dw/Ws, Dh/Hs)`, pads ≥ 0
/// (`int((D − int(S·s)) / 2)` first, the remainder on the far side).
pub fn letterbox(
    original: Size,
    inference: Size,
    dataset: Size,
    crop: Option<CropPx>,
) -> ImageMeta {
    let (mut m, s) = base(original, crop, inference);
    let (dh, dw) = (i64::from(dataset.height), i64::from(dataset.width));
    let sc = (dw as f64 / f64::from(s.width)).min(dh as f64 / f64::from(s.height));
    let new_w = (f64::from(s.width) * sc) as i64;
    let new_h = (f64::from(s.height) * sc) as i64;
    let pl = ((dw - new_w) as f64 / 2.0) as i64;
    let pt = ((dh - new_h) as f64 / 2.0) as i64;
    m.nonsquare_intermediate_size = Some(dataset);
    m.pad_left = pl as i32;
    m.pad_top = pt as i32;
    m.pad_right = (dw - new_w - pl) as i32;
    m.pad_bottom = (dh - new_h - pt) as i32;
    m.scale_width = sc;
    m.scale_height = sc;
    m
}

/// Per-axis center-crop pads: `(D−S)//2` and the remainder when the image is smaller,
/// their negatives when it is larger.
fn center_pads(s: u32, d: u32) -> (i32, i32) {
    let (s, d) = (i64::from(s), i64::from(d));
    let (a, b) = if s <= d {
        ((d - s) / 2, d - s - (d - s) / 2)
    } else {
        (-((s - d) / 2), -(s - d - (s - d) / 2))
    };
    (a as i32, b as i32)
}

/// Two-step center crop into `dataset` dims: scale 1, pads of either sign.
pub fn center_crop(
    original: Size,
    inference: Size,
    dataset: Size,
    crop: Option<CropPx>,
) -> ImageMeta {
    let (mut m, s) = base(original, crop, inference);
    let (pl, pr) = center_pads(s.width, dataset.width);
    let (pt, pb) = center_pads(s.height, dataset.height);
    m.nonsquare_intermediate_size = Some(dataset);
    m.pad_left = pl;
    m.pad_right = pr;
    m.pad_top = pt;
    m.pad_bottom = pb;
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_4_4_crop_letterbox() {
        let m = letterbox(
            Size::new(16, 20),
            Size::new(32, 32),
            Size::new(32, 32),
            Some([4, 2, 16, 12]),
        );
        assert_eq!(m.size_after_pre_processing, Size::new(10, 12));
        assert_eq!(
            (m.pad_left, m.pad_top, m.pad_right, m.pad_bottom),
            (0, 3, 0, 3)
        );
        assert_eq!(m.scale_width, 32.0 / 12.0);
    }

    #[test]
    fn center_crop_odd_remainders() {
        let m = center_crop(
            Size::new(501, 333),
            Size::new(312, 312),
            Size::new(400, 400),
            None,
        );
        assert_eq!(
            (m.pad_top, m.pad_bottom, m.pad_left, m.pad_right),
            (-50, -51, 33, 34)
        );
    }

    #[test]
    fn crop_percentages_truncate() {
        assert_eq!(
            static_crop_px(Size::new(1080, 1920), [10.0, 5.0, 90.0, 95.0]),
            [192, 54, 1728, 1026]
        );
    }
}
