//! Items: which detection and chunk an item index of the frame is.

use super::*;

/// Everything an item needs, found from its index.
pub(super) struct Item {
    pub(super) slot: u32,
    pub(super) b: u32,
    pub(super) roi: MaskRoi,
    pub(super) chunk: u32,
}

/// Looks item `it` up: its detection slot is in its chunk state (written by
/// the plan, `rle_select_roi`), the rest in the slot's ROI. One load each, the
/// same address for every thread of the block.
///
/// # Safety
/// `it < items`; pointers per the kernels' contract.
#[inline(always)]
pub(super) unsafe fn item(
    frame: &FrameParams,
    rois: *const MaskRoi,
    chunks: *const ChunkState,
    it: u32,
) -> Item {
    // SAFETY: per the contract.
    unsafe {
        let slot = (*chunks.add(it as usize)).slot;
        let roi = *rois.add(slot as usize);
        Item {
            slot,
            b: slot / frame.queries,
            chunk: it - roi.item_start,
            roi,
        }
    }
}
