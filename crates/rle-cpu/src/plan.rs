//! Per-image constants of the mask stage: window geometry, resize tables,
//! canvas and paste offset, foreground threshold (SPEC §2.7, §1.1).
//!
//! Invariants (after `rle_reference::validate`): the window is non-empty; the
//! canvas is `O` when `meta.pastes()` and `S` otherwise (the (0,0) static-crop
//! quirk, §2.7d), and the pasted `S` region fits inside it; its `H*W` fits u32.

use rle_kernels::abi::dtype;
use rle_kernels::tables::foreground_threshold;
use rle_reference::geometry::MaskWindow;
use rle_reference::{ImageMeta, MaskLogits, ResizeMode, Size};

use crate::tables::{TableKind, TableSet};

/// What every detection of one image shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImagePlan {
    /// The part of the `Mh×Mw` logits that is resized.
    pub(crate) window: MaskWindow,
    /// Row table id (window height → `S` height).
    pub(crate) ytab: usize,
    /// Column table id (window width → `S` width).
    pub(crate) xtab: usize,
    /// Plain bilinear arithmetic (else the antialiased chain).
    pub(crate) bilinear: bool,
    /// Size of the encoded mask.
    pub(crate) canvas: Size,
    /// Canvas row of `S` row 0.
    pub(crate) paste_y: u32,
    /// Canvas column of `S` column 0.
    pub(crate) paste_x: u32,
    /// A resized value is foreground when it exceeds this (0, or the dtype round trip's).
    pub(crate) fg_threshold: f32,
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
        mode: ResizeMode,
        tables: &mut TableSet,
    ) -> Self {
        let [_, _, mask_h, mask_w] = masks.shape();
        let window = MaskWindow::for_image(mask_h, mask_w, meta)
            .expect("validate() checked the mask window is non-empty");
        let out = meta.size_after_pre_processing;
        let kind = TableKind::for_resize(window.height, window.width, out, mode);
        // validate() bounds window sides to 2^23, so they fit u32.
        let ytab = tables.id(window.height as u32, out.height, kind);
        let xtab = tables.id(window.width as u32, out.width, kind);
        let paste = meta.pastes();
        Self {
            window,
            ytab,
            xtab,
            bilinear: kind.bilinear(),
            canvas: if paste { meta.original_size } else { out },
            paste_y: if paste { meta.static_crop.offset_y } else { 0 },
            paste_x: if paste { meta.static_crop.offset_x } else { 0 },
            fg_threshold: foreground_threshold(dtype_code(masks)),
        }
    }
}
