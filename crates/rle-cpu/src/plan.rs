//! Per-image constants of the mask stage: window geometry, resize tables,
//! canvas and paste offset, foreground threshold (SPEC §2.7, §1.1).
//!
//! Invariants (after `rle_reference::validate`): the window is non-empty; the
//! canvas, the resize target `T` and its offset come from
//! `rle_reference::geometry::MaskGrid` (SPEC §10.2), so the pasted `T` region fits
//! inside the canvas and its `H*W` fits u32.

use rle_kernels::abi::dtype;
use rle_kernels::tables::foreground_threshold;
use rle_kernels::uniform::foreground_bound;
use rle_reference::geometry::{MaskGrid, MaskWindow};
use rle_reference::{ImageMeta, MaskLogits, Options, Size};

use crate::tables::{TableKind, TableSet};

/// What every detection of one image shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImagePlan {
    /// The part of the `Mh×Mw` logits that is resized.
    pub(crate) window: MaskWindow,
    /// The encoded grid and the box chain's constants for it.
    pub(crate) grid: MaskGrid,
    /// Row table id (window height → `T` height).
    pub(crate) ytab: usize,
    /// Column table id (window width → `T` width).
    pub(crate) xtab: usize,
    /// Plain bilinear arithmetic (else the antialiased chain).
    pub(crate) bilinear: bool,
    /// Size of the encoded mask.
    pub(crate) canvas: Size,
    /// Canvas row of `T` row 0.
    pub(crate) paste_y: u32,
    /// Canvas column of `T` column 0.
    pub(crate) paste_x: u32,
    /// A resized value is foreground when it exceeds this (0, or the dtype round trip's).
    pub(crate) fg_threshold: f32,
    /// The uniform-group bound of the row table (`rle_kernels::uniform`): rows
    /// whose horizontal values all reach it are foreground without a vertical
    /// pass; NaN turns the shortcut off.
    pub(crate) fg_bound: f32,
}

/// The `rle_kernels::abi::dtype` code of the mask logits.
fn dtype_code(masks: &MaskLogits<'_>) -> u32 {
    match masks {
        MaskLogits::F32(_) => dtype::F32,
        MaskLogits::F16(_) => dtype::F16,
        MaskLogits::Bf16(_) => dtype::BF16,
    }
}

impl ImagePlan {
    /// The plan of one validated image; `tables` gains the tables it needs.
    pub(crate) fn new(
        masks: &MaskLogits<'_>,
        meta: &ImageMeta,
        opts: &Options,
        tables: &mut TableSet,
    ) -> Self {
        let [_, _, mask_h, mask_w] = masks.shape();
        let (window, grid) = MaskGrid::for_image(mask_h, mask_w, meta, opts)
            .expect("validate() checked the mask window is non-empty");
        let out = grid.target;
        let kind = TableKind::for_resize(window.height, window.width, out, opts.resize);
        // validate() bounds window sides to 2^23, so they fit u32.
        let ytab = tables.id(window.height as u32, out.height, kind);
        let xtab = tables.id(window.width as u32, out.width, kind);
        let fg_threshold = foreground_threshold(dtype_code(masks));
        Self {
            window,
            grid,
            ytab,
            xtab,
            bilinear: kind.bilinear(),
            canvas: grid.canvas,
            paste_y: grid.offset_y,
            paste_x: grid.offset_x,
            fg_threshold,
            fg_bound: foreground_bound(tables.get(ytab).stats(), fg_threshold),
        }
    }
}
