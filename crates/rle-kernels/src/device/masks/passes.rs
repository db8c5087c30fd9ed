//! The two passes over items: `rle_mask_count` (events and character counts
//! per chunk, and the characters themselves in the item's slot of the chunk
//! store when they fit) and `rle_mask_write` (the characters at the offsets
//! the reserve step chose: copied from the store, or for a chunk that did
//! not fit, evaluated again).
//!
//! The store is what makes the second pass cheap: a chunk's characters are a
//! few bytes per column of a smooth mask, so copying them costs a couple of
//! dependent loads per item where walking the chunk again costs the whole
//! chain (item → ROI → tables → logits → passes → events → scans) a second
//! time.

use super::ctx::Ctx;
use super::items::{claim_next, item, next_item};
use super::walk::{walk, Dest};
use super::*;

/// Pass 1 over items: events, characters and boundary events of each chunk;
/// the characters also go to the item's slot of `store` when they fit.
///
/// # Safety
/// As for `rle_select_roi`, which ran before on the same stream; `chunks`
/// holds `counters.items` states (at most `MASK_ITEM_BUDGET + B*Q`) and
/// `store` as many slots of `frame.chunk_store_bytes` bytes (unused when
/// that is 0). Any grid `(G, 1, 1)`, `MASK_THREADS` threads.
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
    store: *mut u8,
    counters: *mut FrameCounters,
) {
    let sh = shared_bytes!("rle_mask_count_smem", 28936).cast::<u32>();
    let s = |i: usize| sh.wrapping_add(i);
    // Launched programmatically (sm_90), this grid may start while
    // `rle_select_roi` still runs: nothing is read before it completes. The
    // next pass may then start on the SMs this one leaves free.
    grid_dependency_wait();
    launch_dependents();
    // SAFETY (whole body): see the contract; the loop and branches are
    // block-uniform.
    unsafe {
        let items = (*counters).items;
        let (mut it, mut round) = (bid_x(), 0u32);
        while it < items {
            let item = item(&frame, rois, chunks, it);
            let cx = Ctx::for_item(&frame, images, dets, &item, masks, spans, weights);
            let (begin, end) = chunk_range(item.roi.total, item.roi.chunks, item.chunk);
            let slot = frame.chunk_store_bytes;
            let dest = (slot > 0).then(|| Dest {
                at: store.add(it as usize * slot as usize),
                cap: slot,
            });
            let w = walk(&cx, sh, begin, end, dest, frame.wide_events);
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
                    stored: u32::from(w.written),
                    slot: item.slot,
                    decided: w.decided,
                    wide: w.wide,
                    split: w.split,
                    lead: 0,
                };
            }
            // One barrier per item: it orders thread 0's reads of FIRST and
            // CARRY before the next walk writes them, and hands over the
            // next item.
            claim_next(&frame, sh, round, &raw mut (*counters).count_queue);
            sync();
            it = next_item(&frame, sh, it, round);
            round += 1;
        }
    }
}

/// Pass 2 over items: each chunk's characters into the host arena (mapped
/// memory: the result itself): the boundary characters the reserve step
/// left in the device arena `chars`, then the chunk's own, copied from the
/// chunk store when pass 1 kept them there (one coalesced copy of both),
/// else evaluated again. The last block to finish copies the frame's
/// counters to `host_counters`: with the records and strings already there,
/// that completes the frame's results, and no copy-out launch follows.
///
/// # Safety
/// As for [`rle_mask_reserve`], which ran before on the same stream; `store`
/// is the one `rle_mask_count` filled; `host_chars` is mapped memory as large
/// as `chars`; `host_counters` is mapped memory for one record, and
/// `write_done` was zero at launch. Any grid `(G, 1, 1)`, `MASK_THREADS`
/// threads.
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
    store: *const u8,
    chars: *const u8,
    counters: *mut FrameCounters,
    host_chars: *mut u8,
    host_counters: *mut FrameCounters,
) {
    let sh = shared_bytes!("rle_mask_write_smem", 28936).cast::<u32>();
    // As in `rle_mask_count`: nothing is read before the reserve step's grid
    // completes. (No dependent grid follows this one programmatically.)
    grid_dependency_wait();
    // SAFETY (whole body): see the contract; the loop and skips are uniform.
    unsafe {
        let items = (*counters).items;
        let (mut it, mut round) = (bid_x(), 0u32);
        while it < items {
            let st = *chunks.add(it as usize);
            // The chunk's characters in the arena: `lead` boundary ones (in
            // the device arena), then its own from `out`.
            let start = st.out.wrapping_sub(st.lead) as usize;
            let (lead, to) = (st.lead, host_chars.add(start));
            let boundary = chars.add(start);
            let own = if st.events <= 3 { 0 } else { st.chars };
            if st.skip != 0 {
                // The string did not fit: nothing is written (the host
                // grows the arena and runs the pass again).
            } else if st.stored != 0 || own == 0 {
                let from = store.add(it as usize * frame.chunk_store_bytes as usize);
                let mut i = tid();
                while i < lead + own {
                    *to.add(i as usize) = if i < lead {
                        *boundary.add(i as usize)
                    } else {
                        *from.add((i - lead) as usize)
                    };
                    i += ntid();
                }
            } else {
                let mut i = tid();
                while i < lead {
                    *to.add(i as usize) = *boundary.add(i as usize);
                    i += ntid();
                }
                let item = item(&frame, rois, chunks, it);
                let cx = Ctx::for_item(&frame, images, dets, &item, masks, spans, weights);
                let dest = Dest {
                    at: host_chars.add(st.out as usize),
                    cap: u32::MAX,
                };
                walk(&cx, sh, st.begin, st.end, Some(dest), frame.wide_events);
            }
            claim_next(&frame, sh, round, &raw mut (*counters).write_queue);
            sync();
            it = next_item(&frame, sh, it, round);
            round += 1;
        }
        // Last block out. Thread 0 is the only one that touched the
        // counters in this pass (the queue's claims); its fence orders those
        // before its ticket, and the last ticket's reader fences again
        // before it reads what every block left (volatile: from L2, never
        // this SM's L1).
        if tid() == 0 {
            fence_gpu();
            let before = atomic_add(&raw mut (*counters).write_done, 1);
            if before == nbid_x() - 1 {
                fence_gpu();
                *host_counters = core::ptr::read_volatile(counters);
            }
        }
    }
}
