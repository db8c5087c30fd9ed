//! Items: which detection and chunk an item index of the frame is.

use super::*;

/// The detection slot (`b*Q + q`) that item `it` belongs to: the last slot
/// whose `item_start` is `<= it` (starts are non-decreasing in slot order and
/// empty slots repeat the next start). A block-wide search that narrows the
/// range `ntid()`-fold per round: one round for `B*Q <= 256`.
///
/// # Safety
/// `it < items`; `rois` holds the `slots` records planned by `rle_mask_roi`.
/// Block-wide: every thread must call it.
#[inline(always)]
unsafe fn item_slot(rois: *const MaskRoi, slots: u32, it: u32, sh: *mut u32) -> u32 {
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    let (mut lo, mut hi) = (0u32, slots);
    // SAFETY: probes stay in [lo, hi) ⊆ [0, slots); shared slot FOUND.
    unsafe {
        while hi - lo > 1 {
            let step = (hi - lo).div_ceil(nt);
            if t == 0 {
                *s(FOUND) = 0;
            }
            sync();
            let p = lo + t * step;
            if p < hi && (*rois.add(p as usize)).item_start <= it {
                atomic_max(s(FOUND), t);
            }
            sync();
            let k = *s(FOUND);
            sync();
            lo += k * step;
            hi = hi.min(lo + step);
        }
    }
    lo
}

/// Everything an item needs, found from its index.
pub(super) struct Item {
    pub(super) slot: u32,
    pub(super) b: u32,
    pub(super) roi: MaskRoi,
    pub(super) chunk: u32,
}

/// Looks item `it` up (block-wide).
///
/// # Safety
/// `it < items`; pointers per the kernels' contract.
#[inline(always)]
pub(super) unsafe fn item(
    frame: &FrameParams,
    rois: *const MaskRoi,
    it: u32,
    sh: *mut u32,
) -> Item {
    // SAFETY: per the contract.
    unsafe {
        let slot = item_slot(rois, frame.batch * frame.queries, it, sh);
        let roi = *rois.add(slot as usize);
        Item {
            slot,
            b: slot / frame.queries,
            chunk: it - roi.item_start,
            roi,
        }
    }
}
