//! The two pixel passes over items: `rle_mask_count` (events and character
//! counts per chunk) and `rle_mask_write` (the characters, at the offsets the
//! reserve step chose).

use super::ctx::Ctx;
use super::items::item;
use super::walk::walk;
use super::*;

/// Pass 1 over items: events, characters and boundary events of each chunk.
///
/// # Safety
/// As for [`rle_mask_roi`], which ran before on the same stream; `chunks`
/// holds `counters.items` states (at most `MASK_ITEM_BUDGET + B*Q`). Any grid
/// `(G, 1, 1)`, `MASK_THREADS` threads.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_mask_count(
    frame: FrameParams,
    images: *const ImageParams,
    dets: *const DetRecord,
    masks: *const u8,
    spans: *const TapSpan,
    weights: *const f32,
    rois: *const MaskRoi,
    chunks: *mut ChunkState,
    counters: *const FrameCounters,
) {
    let sh = shared_bytes!("rle_mask_count_smem", 26896).cast::<u32>();
    let s = |i: usize| sh.wrapping_add(i);
    // SAFETY (whole body): see the contract; the loop and branches are
    // block-uniform.
    unsafe {
        let items = (*counters).items;
        let mut it = bid_x();
        while it < items {
            let item = item(&frame, rois, it, sh);
            let cx = Ctx::for_item(&frame, images, dets, &item, masks, spans, weights);
            let (begin, end) = chunk_range(item.roi.total, item.roi.chunks, item.chunk);
            let w = walk(&cx, sh, begin, end, None);
            if tid() == 0 {
                *chunks.add(it as usize) = ChunkState {
                    begin,
                    end,
                    events: w.events,
                    chars: w.chars,
                    first: [*s(FIRST), *s(FIRST + 1), *s(FIRST + 2)],
                    last: [*s(CARRY), *s(CARRY + 1), *s(CARRY + 2)],
                    out: 0,
                    skip: 0,
                };
            }
            sync();
            it += nbid_x();
        }
    }
}

/// Pass 2 over items: evaluate each chunk again and write its characters.
///
/// # Safety
/// As for [`rle_mask_reserve`], which ran before on the same stream. Any
/// grid `(G, 1, 1)`, `MASK_THREADS` threads.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_mask_write(
    frame: FrameParams,
    images: *const ImageParams,
    dets: *const DetRecord,
    masks: *const u8,
    spans: *const TapSpan,
    weights: *const f32,
    rois: *const MaskRoi,
    chunks: *const ChunkState,
    chars: *mut u8,
    counters: *const FrameCounters,
) {
    let sh = shared_bytes!("rle_mask_write_smem", 26896).cast::<u32>();
    // SAFETY (whole body): see the contract; the loop and skips are uniform.
    unsafe {
        let items = (*counters).items;
        let mut it = bid_x();
        while it < items {
            let st = *chunks.add(it as usize);
            if st.skip == 0 && st.events > 3 {
                let item = item(&frame, rois, it, sh);
                let cx = Ctx::for_item(&frame, images, dets, &item, masks, spans, weights);
                walk(&cx, sh, st.begin, st.end, Some(chars.add(st.out as usize)));
                sync();
            }
            it += nbid_x();
        }
    }
}
