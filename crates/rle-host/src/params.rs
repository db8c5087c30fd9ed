//! Turns a frame's shapes, metadata and options into the kernels' parameter
//! records (SPEC §1–2 in the units the kernels use), after the same validation
//! the CPU reference runs, plus the limits of the GPU path's index arithmetic.
//!
//! Invariant: every number written into a [`FrameParams`] / [`ImageParams`] was
//! range-checked first (no `as` cast truncates): [`Shapes::check_sizes`] bounds the
//! tensors' element and byte counts, [`Shapes::check_gpu_limits`] the kernels' 32-bit
//! index arithmetic and grid dimensions, and [`Shapes::check_frame_limits`] adds the
//! per-image canvas and mask-window offsets and the option table lengths. Each
//! violation is an [`Error::Limit`] naming the quantity, its value and the limit.

use rle_kernels::abi::{
    dtype, resize_mode, FrameParams, ImageParams, DEFAULT_CHUNK_PIXELS, DEFAULT_CHUNK_STORE_BYTES,
    DEFAULT_ITEM_BUDGET, DEFAULT_MAX_CHUNK_PIXELS, DEFAULT_WIDE_EVENTS, MASK_ITEM_BUDGET,
    MAX_QUERIES, NO_MAX_DETECTIONS,
};
use rle_kernels::tables::foreground_threshold;
use rle_kernels::uniform::foreground_bound;
use rle_reference::geometry::{MaskGrid, MaskWindow};
use rle_reference::{Batch, ImageMeta, MaskLogits, Options, ResizeMode, Size, Threshold};

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

    /// The kernels' `abi::dtype` code.
    pub(crate) fn code(self) -> u32 {
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
    /// Each image's encoded grid (`mask_size`, the RLE's size).
    pub(crate) mask_sizes: Vec<Size>,
    /// Whether each image's boxes are rounded to int32 (SPEC §10.3).
    pub(crate) int_boxes: Vec<bool>,
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

/// Product of `factors` as a u64, saturating (so a report of an overflow never overflows).
fn product(factors: &[usize]) -> u64 {
    let p = factors
        .iter()
        .try_fold(1u128, |acc, &f| acc.checked_mul(f as u128));
    p.map_or(u64::MAX, |p| u64::try_from(p).unwrap_or(u64::MAX))
}

// B ≤ MAX_BATCH and Q ≤ MAX_QUERIES bound every slot index the kernels compute in u32:
// the box index `(b*Q + q)*4` and the item index (< MASK_ITEM_BUDGET + B*Q).
const _: () = assert!(
    Shapes::MAX_BATCH as u64 * MAX_QUERIES as u64 * 4 + MASK_ITEM_BUDGET as u64 <= u32::MAX as u64
);

impl Shapes {
    /// Largest batch `B` of the GPU path: `B` is a grid dimension of the mask kernels
    /// (y of `rle_mask_reserve`), which CUDA caps at 65,535.
    pub const MAX_BATCH: usize = 65_535;

    /// Largest `Q` of the GPU path (the select kernel holds `Q` candidates in shared
    /// memory).
    pub const MAX_QUERIES: usize = MAX_QUERIES as usize;

    /// Largest `Q*C` of the GPU path: the select kernel's loops run `f < Q*C` in u32
    /// and require `Q*C < 2^31`.
    pub const MAX_LOGITS_PER_IMAGE: u64 = i32::MAX as u64;

    /// The shapes of a host batch.
    pub fn of(batch: &Batch<'_>) -> Self {
        let [b, q, mh, mw] = batch.masks.shape();
        Self {
            batch: b,
            queries: q,
            columns: batch.logits.shape()[2],
            mask_h: mh,
            mask_w: mw,
            mask_dtype: match batch.masks {
                MaskLogits::F32(_) => MaskDtype::F32,
                MaskLogits::F16(_) => MaskDtype::F16,
                MaskLogits::Bf16(_) => MaskDtype::Bf16,
            },
        }
    }

    /// Checks that each tensor's element and byte count fits `isize` (what ndarray
    /// and Rust allocations require), so that sizes derived from these shapes never
    /// overflow `usize`. Run it before building views or byte ranges from declared
    /// device shapes.
    pub fn check_sizes(&self) -> Result<()> {
        let (b, q, c) = (self.batch, self.queries, self.columns);
        let max = isize::MAX as u64;
        limit("inputs.logits (B*Q*C*4 bytes)", product(&[b, q, c, 4]), max)?;
        limit("inputs.boxes (B*Q*4*4 bytes)", product(&[b, q, 4, 4]), max)?;
        limit(
            "inputs.masks (B*Q*Mh*Mw*element bytes)",
            product(&[b, q, self.mask_h, self.mask_w, self.mask_dtype.size()]),
            max,
        )
    }

    /// Checks the limits of the kernels' 32-bit index arithmetic and grid
    /// dimensions for these shapes (after [`check_sizes`](Self::check_sizes)).
    pub fn check_gpu_limits(&self) -> Result<()> {
        self.check_sizes()?;
        let (b, q, c) = (self.batch, self.queries, self.columns);
        limit("Q (queries)", q as u64, Self::MAX_QUERIES as u64)?;
        limit("B (images per frame)", b as u64, Self::MAX_BATCH as u64)?;
        limit(
            "Q*C (logit entries per image)",
            product(&[q, c]),
            Self::MAX_LOGITS_PER_IMAGE,
        )?;
        limit("B*Q*C (logits)", product(&[b, q, c]), u64::from(u32::MAX))?;
        // The window index `sy*Mw + sx` is an i32.
        limit(
            "Mh*Mw (mask pixels)",
            product(&[self.mask_h, self.mask_w]),
            i32::MAX as u64,
        )
    }

    /// Everything [`check_gpu_limits`](Self::check_gpu_limits) checks, plus the
    /// per-image limits (canvas pixels and the mask window's offsets, which the
    /// kernels handle in u32 / i32) and the option tables' lengths. `metas` and
    /// `opts` must have passed `rle_reference::validate`.
    pub fn check_frame_limits(&self, metas: &[ImageMeta], opts: &Options) -> Result<()> {
        self.check_gpu_limits()?;
        option_limits(
            threshold_len(opts),
            opts.class_mapping.as_ref().map_or(0, Vec::len),
        )?;
        for (i, m) in metas.iter().enumerate() {
            let canvas = image_grid(self, m, opts).canvas;
            limit(
                &format!("metas[{i}] mask canvas H*W"),
                u64::from(canvas.height) * u64::from(canvas.width),
                u64::from(u32::MAX),
            )?;
            kernel_window(self, i, m)?;
        }
        Ok(())
    }
}

fn threshold_len(opts: &Options) -> usize {
    match &opts.threshold {
        Threshold::Scalar(_) => 0,
        Threshold::PerClass(t) => t.len(),
    }
}

/// The select kernel clamps class ids with `threshold_len as i32 - 1` and compares
/// logit columns with `mapping_len` (u32).
fn option_limits(threshold_len: usize, mapping_len: usize) -> Result<()> {
    limit(
        "opts.threshold (per-class entries)",
        threshold_len as u64,
        i32::MAX as u64,
    )?;
    limit(
        "opts.class_mapping (entries)",
        mapping_len as u64,
        u64::from(u32::MAX),
    )
}

/// `num_classes` as the select kernel reads it: with `mapping_len == 0` the kernel
/// means "no remapping" and keeps columns `< num_classes`. An empty `class_mapping`
/// (`L = 0 < C`) makes every column invalid (SPEC §2.3, as the reference does), which
/// the kernel expresses as no mapping with zero named classes.
fn kernel_num_classes(columns: usize, opts: &Options) -> u32 {
    match &opts.class_mapping {
        Some(m) if m.is_empty() => 0,
        // ≤ C, which the limits bound by `Q*C < 2^31`.
        _ => columns.min(opts.num_classes) as u32,
    }
}

/// The encoded grid of a validated image (its window is non-empty).
fn image_grid(s: &Shapes, m: &ImageMeta, opts: &Options) -> MaskGrid {
    MaskGrid::for_image(s.mask_h, s.mask_w, m, opts)
        .map(|(_, grid)| grid)
        .unwrap_or_else(|| MaskGrid::at_full_resolution(m))
}

/// The mask window of image `i` in the kernels' integer types: `(top, left, h, w)`.
///
/// A window lying entirely outside the source (pads that crop more than the mask on
/// one side and pad as much on the other) reads only zero padding; its offset is
/// clamped to `[-h, Mh]` (resp. `[-w, Mw]`), which reads the same zeros, so such
/// windows never hit the i32 limit.
fn kernel_window(s: &Shapes, i: usize, m: &ImageMeta) -> Result<(i32, i32, u32, u32)> {
    let win = MaskWindow::for_image(s.mask_h, s.mask_w, m).ok_or_else(|| Error::Limit {
        what: format!("metas[{i}]: mask window after pads is empty"),
        limit: 1,
        got: 0,
    })?;
    // The kernels compute `y + top` (y < h) and `mask_len - top` in i32.
    let axis = |name: &str, top: i64, len: usize, mask_len: usize| -> Result<(i32, u32)> {
        let (len_i, mask_i) = (len as i64, mask_len as i64);
        let top = top.clamp(-len_i, mask_i);
        let fits = |v: i64| i32::try_from(v).is_ok();
        if !(fits(top) && fits(top + len_i) && fits(mask_i - top)) {
            // Report the largest magnitude the kernel would have to hold.
            let got = top.unsigned_abs() + (len as u64).max(mask_len as u64);
            return Err(Error::Limit {
                what: format!("metas[{i}] mask window {name} (offset ± length, i32)"),
                limit: i32::MAX as u64,
                got,
            });
        }
        Ok((top as i32, len as u32))
    };
    let (top, h) = axis("rows", win.top, win.height, s.mask_h)?;
    let (left, w) = axis("columns", win.left, win.width, s.mask_w)?;
    Ok((top, left, h, w))
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
    s.check_frame_limits(metas, opts)?;
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
        num_classes: kernel_num_classes(s.columns, opts),
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
        min_chunk_pixels: DEFAULT_CHUNK_PIXELS,
        chunk_store_bytes: DEFAULT_CHUNK_STORE_BYTES,
        item_budget: DEFAULT_ITEM_BUDGET,
        early_rois: 1,
        wide_events: DEFAULT_WIDE_EVENTS,
        // The host sets the item passes' grid (`Postprocessor::set_item_target`).
        item_target: 0,
        max_chunk_pixels: DEFAULT_MAX_CHUNK_PIXELS,
        item_queue: 1,
    };
    let mut images = Vec::with_capacity(metas.len());
    let mut mask_sizes = Vec::with_capacity(metas.len());
    let mut int_boxes = Vec::with_capacity(metas.len());
    for (i, m) in metas.iter().enumerate() {
        let (win_top, win_left, h, w) = kernel_window(s, i, m)?;
        let grid = image_grid(s, m, opts);
        let out = grid.target;
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
        let canvas = grid.canvas;
        let d = m.denorm_size();
        images.push(ImageParams {
            denorm_w: d.width as f32,
            denorm_h: d.height as f32,
            pad_left: m.pad_left as f32,
            pad_top: m.pad_top as f32,
            scale_w: grid.box_scale_w as f32,
            scale_h: grid.box_scale_h as f32,
            offset_x: grid.box_offset.0 as f32,
            offset_y: grid.box_offset.1 as f32,
            clamp_w: grid.box_clamp.width as f32,
            clamp_h: grid.box_clamp.height as f32,
            add_offset: u32::from(grid.add_box_offset),
            win_top,
            win_left,
            win_h: h,
            win_w: w,
            out_h: out.height,
            out_w: out.width,
            canvas_h: canvas.height,
            canvas_w: canvas.width,
            paste_y: grid.offset_y,
            paste_x: grid.offset_x,
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
            // The uniform groups decide vertical passes: the y table's bound.
            fg_bound: foreground_bound(&yt.stats, foreground_threshold(s.mask_dtype.code())),
        });
        mask_sizes.push(canvas);
        int_boxes.push(grid.int_boxes);
    }
    Ok(FramePlan {
        frame,
        images,
        thresholds,
        mapping,
        mask_sizes,
        int_boxes,
        image_sizes: metas.iter().map(|m| m.original_size).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(mapping: Option<Vec<i64>>, num_classes: usize) -> Options {
        Options {
            threshold: Threshold::Scalar(0.5),
            num_classes,
            class_mapping: mapping,
            max_detections: None,
            ..Options::new(num_classes)
        }
    }

    #[test]
    fn an_empty_class_mapping_invalidates_every_column() {
        // mapping_len == 0 means "no remapping" to the kernel: zero named classes.
        assert_eq!(kernel_num_classes(91, &opts(Some(vec![]), 90)), 0);
        assert_eq!(kernel_num_classes(91, &opts(None, 90)), 90);
        assert_eq!(kernel_num_classes(91, &opts(None, 500)), 91);
        assert_eq!(kernel_num_classes(91, &opts(Some(vec![0, -1]), 90)), 90);
    }

    #[test]
    fn option_tables_are_bounded_by_the_kernel_types() {
        option_limits(0, 0).unwrap();
        option_limits(i32::MAX as usize, u32::MAX as usize).unwrap();
        let e = option_limits(i32::MAX as usize + 1, 0).unwrap_err();
        assert!(e.to_string().contains("opts.threshold"), "{e}");
        let e = option_limits(1, u32::MAX as usize + 1).unwrap_err();
        assert!(e.to_string().contains("opts.class_mapping"), "{e}");
    }

    #[test]
    fn products_saturate() {
        assert_eq!(product(&[]), 1);
        assert_eq!(product(&[3, 4, 5]), 60);
        assert_eq!(product(&[usize::MAX, usize::MAX, 2]), u64::MAX);
    }
}
