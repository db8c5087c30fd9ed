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

/// Thread 0's half of taking a block's next item: with
/// `FrameParams::item_queue`, one from the queue counter `queue` (past the
/// grid's first items, which are the blocks' indices) into the NEXT slot of
/// round `round` (the block's count of items so far). Two slots, used in
/// turn: a slot is written again only two rounds later, after a barrier
/// every thread passed once it had read it.
///
/// # Safety
/// Called by every thread (only thread 0 acts); `queue` is this pass's
/// counter, zeroed for the frame (or the rerun).
#[inline(always)]
pub(super) unsafe fn claim_next(frame: &FrameParams, sh: *mut u32, round: u32, queue: *mut u32) {
    // SAFETY: per the contract; NEXT and NEXT + 1 are MISC slots no walk
    // uses.
    unsafe {
        if frame.item_queue != 0 && tid() == 0 {
            *sh.add(NEXT + (round & 1) as usize) = nbid_x().saturating_add(atomic_add(queue, 1));
        }
    }
}

/// The item a block takes after `it` in round `round`: what [`claim_next`]
/// claimed, else `it` plus the grid.
///
/// # Safety
/// After a barrier that follows that round's [`claim_next`].
#[inline(always)]
pub(super) unsafe fn next_item(frame: &FrameParams, sh: *const u32, it: u32, round: u32) -> u32 {
    if frame.item_queue == 0 {
        return it + nbid_x();
    }
    // SAFETY: per the contract.
    unsafe { *sh.add(NEXT + (round & 1) as usize) }
}
