//! `rle_copy_out`: moves the frame's results (counters, detection counts and
//! records, the used part of the string arena) into mapped pinned host memory,
//! so the host needs one stream synchronization and no copy calls per frame.
//! Grid-stride loops over 32-bit words; the arena capacity is a multiple of 4.

use super::{bid_x, nbid_x, ntid, tid};
use crate::abi::{DetRecord, FrameCounters, FrameParams};

#[inline(always)]
fn copy_words(src: *const u32, dst: *mut u32, words: usize) {
    let stride = (ntid() * nbid_x()) as usize;
    let mut i = (bid_x() * ntid() + tid()) as usize;
    while i < words {
        // SAFETY: i < words, and the caller sized both buffers for `words`.
        unsafe { *dst.add(i) = *src.add(i) };
        i += stride;
    }
}

/// Copies device results to the host-mapped buffers.
///
/// # Safety
/// Every pointer must be valid for the sizes implied by `frame`: `B*Q` records,
/// `B` counts, one counter block and `chars_capacity` bytes on both sides.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_copy_out(
    frame: FrameParams,
    dets: *const DetRecord,
    det_count: *const u32,
    counters: *const FrameCounters,
    chars: *const u8,
    host_dets: *mut DetRecord,
    host_det_count: *mut u32,
    host_counters: *mut FrameCounters,
    host_chars: *mut u8,
) {
    // Only what this frame wrote: detection records past an image's count
    // and arena bytes past the used length are never read (nor copied, so a
    // memory checker sees no read of uninitialized device memory).
    copy_words(det_count, host_det_count, frame.batch as usize);
    copy_words(
        counters.cast(),
        host_counters.cast(),
        size_of::<FrameCounters>() / 4,
    );
    let words_per_det = size_of::<DetRecord>() / 4;
    let stride = (ntid() * nbid_x()) as usize;
    let total = (frame.batch * frame.queries) as usize * words_per_det;
    let mut i = (bid_x() * ntid() + tid()) as usize;
    while i < total {
        let slot = i / words_per_det;
        let (b, j) = (slot / frame.queries as usize, slot % frame.queries as usize);
        // SAFETY: b < B and i < B*Q*12 words (contract below).
        unsafe {
            if j < *det_count.add(b) as usize {
                *host_dets.cast::<u32>().add(i) = *dets.cast::<u32>().add(i);
            }
        }
        i += stride;
    }
    // SAFETY: counters is a valid device pointer (contract below).
    let used = unsafe { (*counters).chars_used }.min(u64::from(frame.chars_capacity)) as usize;
    copy_words(chars.cast(), host_chars.cast(), used / 4);
    let tail = (used / 4) * 4;
    let mut i = tail + (bid_x() * ntid() + tid()) as usize;
    while i < used {
        // SAFETY: i < used <= capacity on both sides.
        unsafe { *host_chars.add(i) = *chars.add(i) };
        i += stride;
    }
}
