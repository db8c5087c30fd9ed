//! Turns a frame's shapes, metadata and options into the kernels' parameter
//! records (SPEC §1–2 in the units the kernels use), after the same validation
//! the CPU reference runs, plus the limits of the GPU path's index arithmetic.

use rle_kernels::abi::{
    dtype, resize_mode, FrameParams, ImageParams, MAX_QUERIES, NO_MAX_DETECTIONS,
};
use rle_reference::geometry::MaskWindow;
use rle_reference::{ImageMeta, Options, ResizeMode, Size, Threshold};

use crate::error::{Error, Result};
use crate::tables::{TableCache, TableKind};

/// Element type of the mask logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskDtype {
    /// float32.
    F32,
    /// float16.
    F16,
    /// bfloat16.
    Bf16,
}

impl MaskDtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            MaskDtype::F32 => 4,
            MaskDtype::F16 | MaskDtype::Bf16 => 2,
        }
    }

    fn code(self) -> u32 {
        match self {
            MaskDtype::F32 => dtype::F32,
            MaskDtype::F16 => dtype::F16,
            MaskDtype::Bf16 => dtype::BF16,
        }
    }
}

/// The shapes of a batch: `B×Q×C` logits, `B×Q×4` boxes, `B×Q×Mh×Mw` masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shapes {
    /// Images `B`.
    pub batch: usize,
    /// Queries `Q`.
    pub queries: usize,
    /// Logit columns `C`.
    pub columns: usize,
    /// Mask height `Mh`.
    pub mask_h: usize,
    /// Mask width `Mw`.
    pub mask_w: usize,
    /// Mask element type.
    pub mask_dtype: MaskDtype,
}

/// Everything a frame's launches need, plus the sizes to assemble results.
#[derive(Debug)]
pub(crate) struct FramePlan {
    pub(crate) frame: FrameParams,
    pub(crate) images: Vec<ImageParams>,
    pub(crate) thresholds: Vec<f32>,
    pub(crate) mapping: Vec<i32>,
    /// Size each image's RLE declares (the canvas, or `S` under the quirk).
    pub(crate) mask_sizes: Vec<Size>,
    /// `(Ho, Wo)` of each image.
    pub(crate) image_sizes: Vec<Size>,
}

fn limit(what: &str, got: u64, limit: u64) -> Result<()> {
    if got > limit {
        return Err(Error::Limit {
            what: what.to_string(),
            limit,
            got,
        });
    }
    Ok(())
}

/// Checks the limits of the kernels' 32-bit index arithmetic.
fn check_limits(s: &Shapes, metas: &[ImageMeta]) -> Result<()> {
    let (b, q, c) = (s.batch as u64, s.queries as u64, s.columns as u64);
    limit("Q (queries)", q, u64::from(MAX_QUERIES))?;
    limit("B*Q*C (logits)", b * q * c, u64::from(u32::MAX))?;
    limit(
        "Mh*Mw (mask pixels)",
        s.mask_h as u64 * s.mask_w as u64,
        i32::MAX as u64,
    )?;
    for (i, m) in metas.iter().enumerate() {
        let canvas = if m.pastes() {
            m.original_size
        } else {
            m.size_after_pre_processing
        };
        limit(
            &format!("metas[{i}] mask canvas H*W"),
            u64::from(canvas.height) * u64::from(canvas.width),
            u64::from(u32::MAX),
        )?;
    }
    Ok(())
}

/// Builds the frame's parameters; `tables` gains any table not seen before.
pub(crate) fn plan(
    s: &Shapes,
    metas: &[ImageMeta],
    opts: &Options,
    tables: &mut TableCache,
    chars_capacity: u32,
    write_scores: bool,
) -> Result<FramePlan> {
    check_limits(s, metas)?;
    let (threshold, thresholds) = match &opts.threshold {
        Threshold::Scalar(v) => (*v as f32, Vec::new()),
        Threshold::PerClass(v) => (0.0, v.clone()),
    };
    // Validation bounded mapping entries to -1..=i32::MAX.
    let mapping: Vec<i32> = opts
        .class_mapping
        .iter()
        .flatten()
        .map(|&v| v as i32)
        .collect();
    let frame = FrameParams {
        batch: s.batch as u32,
        queries: s.queries as u32,
        columns: s.columns as u32,
        mask_h: s.mask_h as u32,
        mask_w: s.mask_w as u32,
        num_classes: s.columns.min(opts.num_classes) as u32,
        mapping_len: mapping.len() as u32,
        threshold_len: thresholds.len() as u32,
        threshold,
        max_detections: opts
            .max_detections
            .map_or(NO_MAX_DETECTIONS, |m| m.min(s.queries) as u32),
        mask_dtype: s.mask_dtype.code(),
        resize_mode: match opts.resize {
            ResizeMode::Antialiased => resize_mode::ANTIALIASED,
            ResizeMode::Bilinear => resize_mode::BILINEAR,
        },
        chars_capacity,
        write_scores: u32::from(write_scores),
    };
    let mut images = Vec::with_capacity(metas.len());
    let mut mask_sizes = Vec::with_capacity(metas.len());
    for (i, m) in metas.iter().enumerate() {
        let win = MaskWindow::for_image(s.mask_h, s.mask_w, m).ok_or_else(|| Error::Limit {
            what: format!("metas[{i}]: mask window after pads is empty"),
            limit: 1,
            got: 0,
        })?;
        let out = m.size_after_pre_processing;
        let (h, w) = (win.height as u32, win.width as u32);
        // Same size on both axes: torchvision (antialiased) and ATen's host
        // code (plain bilinear) both return the input unchanged.
        let kind = match opts.resize {
            _ if (h, w) == (out.height, out.width) => TableKind::Identity,
            ResizeMode::Antialiased => TableKind::Antialiased,
            ResizeMode::Bilinear => TableKind::Bilinear,
        };
        let (ykind, xkind) = (kind, kind);
        let yt = tables.get(h, out.height, ykind)?;
        let xt = tables.get(w, out.width, xkind)?;
        let paste = m.pastes();
        let canvas = if paste { m.original_size } else { out };
        let d = m.denorm_size();
        images.push(ImageParams {
            denorm_w: d.width as f32,
            denorm_h: d.height as f32,
            pad_left: m.pad_left as f32,
            pad_top: m.pad_top as f32,
            scale_w: m.scale_width as f32,
            scale_h: m.scale_height as f32,
            offset_x: m.static_crop.offset_x as f32,
            offset_y: m.static_crop.offset_y as f32,
            orig_w: m.original_size.width as f32,
            orig_h: m.original_size.height as f32,
            paste: u32::from(paste),
            win_top: win.top as i32,
            win_left: win.left as i32,
            win_h: h,
            win_w: w,
            out_h: out.height,
            out_w: out.width,
            canvas_h: canvas.height,
            canvas_w: canvas.width,
            paste_y: if paste { m.static_crop.offset_y } else { 0 },
            paste_x: if paste { m.static_crop.offset_x } else { 0 },
            ytab: yt.spans,
            yweights: yt.weights,
            yslots: yt.slots,
            xtab: xt.spans,
            xweights: xt.weights,
            xslots: xt.slots,
            resize: match kind {
                TableKind::Bilinear => resize_mode::BILINEAR,
                TableKind::Antialiased | TableKind::Identity => resize_mode::ANTIALIASED,
            },
        });
        mask_sizes.push(canvas);
    }
    Ok(FramePlan {
        frame,
        images,
        thresholds,
        mapping,
        mask_sizes,
        image_sizes: metas.iter().map(|m| m.original_size).collect(),
    })
}
