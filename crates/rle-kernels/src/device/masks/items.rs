//! Items: which detection and chunk an item index of the frame is, and which
//! item a block of the item passes takes next.

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

/// The item a block takes after `it`: the next one from the queue counter
/// `queue` (past the grid's first items, which are the blocks' indices) with
/// `FrameParams::item_queue`, else `it` plus the grid. Thread 0 takes it and
/// hands it over through shared memory.
///
/// # Safety
/// Block-wide (a barrier), after a barrier that follows every read of the
/// `NEXT` slot of `sh` for the previous item; `queue` is this pass's
/// counter, zeroed for the frame (or the rerun).
#[inline(always)]
pub(super) unsafe fn next_item(frame: &FrameParams, sh: *mut u32, it: u32, queue: *mut u32) -> u32 {
    if frame.item_queue == 0 {
        return it + nbid_x();
    }
    // SAFETY: per the contract; NEXT is a MISC slot no walk uses.
    unsafe {
        if tid() == 0 {
            *sh.add(NEXT) = nbid_x().saturating_add(atomic_add(queue, 1));
        }
        sync();
        *sh.add(NEXT)
    }
}
