//! Up-front validation of a batch, its metadata and the options, shared by the CPU
//! reference and the GPU host.
//!
//! Invariants: after `validate` returns `Ok`, the pipeline cannot fail or panic:
//! shapes agree, every size is ≥ 1, `Q*C` and each mask canvas `H*W` fit in `u32`
//! (flat indices and RLE counts are u32), scales are finite and positive, the
//! threshold is usable, `masks_resolution_factor` is in `[0, 1]` (1 under the legacy
//! canvas rule), the paste fits (legacy rule; the current rule's canvas holds it by
//! construction) and the §10.2 canvas has at most `u32::MAX` pixels, the mask window is
//! non-empty, no longer than [`MAX_RESIZE_AXIS`] on either axis and at most `u32::MAX`
//! pixels, `S` is no longer than [`MAX_RESIZE_AXIS`] either (the target `T` lies
//! between the window and `S`), and the CUDA resize would accept window → `T` (SPEC §3.5). Tensor *values* are never inspected: NaN and infinities are
//! data (§5). Nothing passed in is mutated.
//!
//! Per-class thresholds (SPEC §1.2, §2.4): any **non-empty** table is accepted,
//! whatever its length. The reference indexes it with `clamp(out_cls, 0, n_T − 1)`, so
//! in torch a table shorter than the number of output classes is legal (classes at or
//! beyond `n_T − 1` share its last entry) and a longer one simply has unused entries;
//! rejecting either would refuse inputs torch accepts. An empty table is rejected:
//! torch raises there (`clamp(·, 0, −1)` indexes an empty tensor). NaN entries are
//! rejected (a NaN threshold would silently drop the class); ±inf is accepted.

use ndarray::ArrayView3;

use crate::error::Error;
use crate::geometry::{canvas_axis, MaskGrid, MaskPads, MaskWindow};
use crate::resize::limits::{aa_shared_memory_bytes, aa_supported, CUDA_SHARED_MEMORY_PER_BLOCK};
use crate::{Batch, CanvasRule, ImageMeta, Options, ResizeMode, Size, Threshold};

/// Longest resize axis (input window or target `S`, in pixels) accepted: `2^23`.
///
/// Below it every index of the resize arithmetic (`i + 0.5`, `scale·(i + 0.5) ± support`)
/// is exact or within half a unit in float32, so a span never exceeds the kernel's
/// `2·ceil(support) + 1` slots and plain bilinear never reads past the last source row.
/// Above it float32 cannot represent half-pixel positions: the CUDA kernels of the
/// reference would index outside their span buffers. Real frames are below 4,096.
pub const MAX_RESIZE_AXIS: u64 = 1 << 23;

fn mismatch(
    field: &str,
    dim: usize,
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), Error> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            field: field.to_owned(),
            dim,
            what,
            expected,
            got,
        })
    }
}

fn non_zero(field: impl Into<String>, v: u64) -> Result<(), Error> {
    if v == 0 {
        Err(Error::EmptyDimension {
            field: field.into(),
        })
    } else {
        Ok(())
    }
}

fn product_fits_u32(field: impl Into<String>, a: u64, b: u64) -> Result<(), Error> {
    match a.checked_mul(b) {
        Some(p) if p <= u64::from(u32::MAX) => Ok(()),
        _ => Err(Error::SizeOverflow {
            field: field.into(),
            a,
            b,
            limit_name: "u32",
            limit: u64::from(u32::MAX),
        }),
    }
}

/// `value ≤ limit`, reported as a [`Error::SizeOverflow`] of `value × 1` (the error
/// type has no dedicated "too large" variant; `limit_name` says which limit).
fn at_most(
    field: impl Into<String>,
    value: u64,
    limit: u64,
    limit_name: &'static str,
) -> Result<(), Error> {
    if value > limit {
        return Err(Error::SizeOverflow {
            field: field.into(),
            a: value,
            b: 1,
            limit_name,
            limit,
        });
    }
    Ok(())
}

fn size_ok(field: &str, size: Size) -> Result<(), Error> {
    non_zero(format!("{field}.height"), size.height.into())?;
    non_zero(format!("{field}.width"), size.width.into())?;
    product_fits_u32(
        format!("{field} (H*W)"),
        size.height.into(),
        size.width.into(),
    )
}

/// The `(Q, C, Mh, Mw)` of a batch whose tensors agree, after checking them.
pub fn batch_dims(batch: &Batch<'_>) -> Result<(usize, usize, usize, usize, usize), Error> {
    let [b, q, c] = [
        batch.logits.shape()[0],
        batch.logits.shape()[1],
        batch.logits.shape()[2],
    ];
    let boxes = batch.boxes.shape();
    let [mb, mq, mh, mw] = batch.masks.shape();
    non_zero("batch.logits (B)", b as u64)?;
    non_zero("batch.logits (Q)", q as u64)?;
    non_zero("batch.logits (C)", c as u64)?;
    mismatch("batch.boxes", 0, "B", b, boxes[0])?;
    mismatch("batch.boxes", 1, "Q", q, boxes[1])?;
    mismatch("batch.boxes", 2, "cx, cy, w, h", 4, boxes[2])?;
    mismatch("batch.masks", 0, "B", b, mb)?;
    mismatch("batch.masks", 1, "Q", q, mq)?;
    non_zero("batch.masks (Mh)", mh as u64)?;
    non_zero("batch.masks (Mw)", mw as u64)?;
    product_fits_u32("batch.logits (Q*C)", q as u64, c as u64)?;
    product_fits_u32("batch.masks (Mh*Mw)", mh as u64, mw as u64)?;
    Ok((b, q, c, mh, mw))
}

fn options_ok(opts: &Options) -> Result<(), Error> {
    match &opts.threshold {
        Threshold::Scalar(t) if t.is_nan() => {
            return Err(Error::InvalidThreshold {
                field: "opts.threshold".into(),
                reason: "is NaN".into(),
            });
        }
        Threshold::Scalar(_) => {}
        Threshold::PerClass(table) if table.is_empty() => {
            return Err(Error::InvalidThreshold {
                field: "opts.threshold".into(),
                reason: "per-class table is empty (need one value per output class)".into(),
            });
        }
        Threshold::PerClass(table) => {
            if let Some(i) = table.iter().position(|t| t.is_nan()) {
                return Err(Error::InvalidThreshold {
                    field: format!("opts.threshold[{i}]"),
                    reason: "is NaN".into(),
                });
            }
        }
    }
    let factor = opts.masks_resolution_factor;
    // The package's own check (`not 0.0 <= f <= 1.0`), which also rejects NaN.
    if !(0.0..=1.0).contains(&factor) {
        return Err(Error::InvalidOption {
            field: "opts.masks_resolution_factor".into(),
            reason: format!("must be finite and in [0.0, 1.0], got {factor}"),
        });
    }
    if opts.canvas == CanvasRule::LegacyOriginCrop && factor != 1.0 {
        return Err(Error::InvalidOption {
            field: "opts.canvas".into(),
            reason: format!(
                "the legacy (0,0)-crop canvas rule predates masks_resolution_factor and needs \
                 it to be 1.0, got {factor}"
            ),
        });
    }
    if let Some(mapping) = &opts.class_mapping {
        let max = i64::from(i32::MAX);
        if let Some(i) = mapping.iter().position(|&v| !(-1..=max).contains(&v)) {
            return Err(Error::InvalidClassMapping {
                field: format!("opts.class_mapping[{i}]"),
                value: mapping[i],
                max,
            });
        }
    }
    Ok(())
}

fn meta_ok(
    i: usize,
    meta: &ImageMeta,
    mask_h: usize,
    mask_w: usize,
    opts: &Options,
) -> Result<(), Error> {
    let field = format!("metas[{i}]");
    size_ok(&format!("{field}.original_size"), meta.original_size)?;
    size_ok(
        &format!("{field}.size_after_pre_processing"),
        meta.size_after_pre_processing,
    )?;
    size_ok(&format!("{field}.inference_size"), meta.inference_size)?;
    if let Some(d) = meta.nonsquare_intermediate_size {
        size_ok(&format!("{field}.nonsquare_intermediate_size"), d)?;
    }
    for (name, value) in [
        ("scale_width", meta.scale_width),
        ("scale_height", meta.scale_height),
    ] {
        // The box path divides by f32(scale): it must stay finite and positive in f32 too.
        let as_f32 = value as f32;
        if !(value.is_finite() && value > 0.0 && as_f32.is_finite() && as_f32 > 0.0) {
            return Err(Error::InvalidScale {
                field: format!("{field}.{name}"),
                value,
            });
        }
    }
    let (s, o, crop) = (
        meta.size_after_pre_processing,
        meta.original_size,
        meta.static_crop,
    );
    // Only the legacy rule pastes on an O-sized canvas; the current one sizes the
    // canvas to hold the pasted mask (§10.2).
    if opts.canvas == CanvasRule::LegacyOriginCrop && meta.pastes() {
        let axes = [
            ("x", crop.offset_x, s.width, o.width),
            ("y", crop.offset_y, s.height, o.height),
        ];
        for (axis, offset, len, bound) in axes {
            if u64::from(offset) + u64::from(len) > u64::from(bound) {
                return Err(Error::CropOutsideImage {
                    field: format!("{field}.static_crop"),
                    axis,
                    offset,
                    len,
                    bound,
                });
            }
        }
    }
    let pads = MaskPads::new(mask_h, mask_w, meta);
    let Some(window) = MaskWindow::from_pads(mask_h, mask_w, pads) else {
        return Err(Error::EmptyMaskWindow {
            field: format!("{field}.pad_top/pad_bottom/pad_left/pad_right"),
            mask_h,
            mask_w,
            top: pads.top,
            bottom: pads.bottom,
            left: pads.left,
            right: pads.right,
        });
    };
    let axis_why = "the resize axis limit 2^23 (float32 half-pixel positions)";
    let size_field = format!("{field}.size_after_pre_processing");
    at_most(
        format!("{size_field}.height"),
        s.height.into(),
        MAX_RESIZE_AXIS,
        axis_why,
    )?;
    at_most(
        format!("{size_field}.width"),
        s.width.into(),
        MAX_RESIZE_AXIS,
        axis_why,
    )?;
    // The canvas of §10.2 must be indexable like any mask (H*W fits u32); check
    // it in i64 before MaskGrid builds it.
    canvas_ok(&field, meta, &window, opts)?;
    // Named after the pads that make the window (negative pads grow it), with their
    // values: the window itself is no field a caller wrote.
    let (pt, pb, pl, pr) = (meta.pad_top, meta.pad_bottom, meta.pad_left, meta.pad_right);
    at_most(
        format!("{field}.pad_top/pad_bottom ({pt}, {pb}): the mask window after pads (height)"),
        window.height as u64,
        MAX_RESIZE_AXIS,
        axis_why,
    )?;
    at_most(
        format!("{field}.pad_left/pad_right ({pl}, {pr}): the mask window after pads (width)"),
        window.width as u64,
        MAX_RESIZE_AXIS,
        axis_why,
    )?;
    product_fits_u32(
        format!("{field}.pad_top/pad_bottom/pad_left/pad_right ({pt}, {pb}, {pl}, {pr}): the mask window after pads (h*w)"),
        window.height as u64,
        window.width as u64,
    )?;
    let t = MaskGrid::target(window.height, window.width, s, opts.masks_resolution_factor);
    let (out_h, out_w) = (t.height as usize, t.width as usize);
    if opts.resize == ResizeMode::Antialiased
        && !aa_supported(window.height, window.width, out_h, out_w)
    {
        return Err(Error::DownscaleTooExtreme {
            field: format!("{field}.size_after_pre_processing"),
            in_h: window.height,
            in_w: window.width,
            out_h: t.height,
            out_w: t.width,
            required: aa_shared_memory_bytes(window.height, window.width, out_h, out_w),
            limit: CUDA_SHARED_MEMORY_PER_BLOCK,
        });
    }
    Ok(())
}

/// The §10.2 canvas of one image, computed in i64 (before [`MaskGrid`] narrows it
/// to u32): each side and `H*W` must fit u32.
fn canvas_ok(
    field: &str,
    meta: &ImageMeta,
    window: &MaskWindow,
    opts: &Options,
) -> Result<(), Error> {
    if opts.canvas == CanvasRule::LegacyOriginCrop {
        return Ok(()); // O or S, both checked above
    }
    let (s, o, crop) = (
        meta.size_after_pre_processing,
        meta.original_size,
        meta.static_crop,
    );
    let t = MaskGrid::target(window.height, window.width, s, opts.masks_resolution_factor);
    // The lengths are ≥ 1 (non-negative offsets and sizes), so the casts are exact.
    let (_, hc) = canvas_axis(o.height, t.height, s.height, crop.offset_y);
    let (_, wc) = canvas_axis(o.width, t.width, s.width, crop.offset_x);
    product_fits_u32(format!("{field} mask canvas (H*W)"), hc as u64, wc as u64)
}

/// Checks everything [`crate::postprocess`] relies on; see the module header.
pub fn validate(batch: &Batch<'_>, metas: &[ImageMeta], opts: &Options) -> Result<(), Error> {
    let (b, _, _, mask_h, mask_w) = batch_dims(batch)?;
    if metas.len() != b {
        return Err(Error::MetaCount {
            expected: b,
            got: metas.len(),
        });
    }
    options_ok(opts)?;
    for (i, meta) in metas.iter().enumerate() {
        meta_ok(i, meta, mask_h, mask_w, opts)?;
    }
    Ok(())
}

/// Checks that externally computed scores have the logits' `B×Q×C` shape.
pub fn validate_scores(batch: &Batch<'_>, scores: ArrayView3<'_, f32>) -> Result<(), Error> {
    for (dim, what) in [(0, "B"), (1, "Q"), (2, "C")] {
        mismatch(
            "scores",
            dim,
            what,
            batch.logits.shape()[dim],
            scores.shape()[dim],
        )?;
    }
    Ok(())
}
