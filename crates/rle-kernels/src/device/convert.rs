//! Two small memory kernels of the device-input path:
//! - `rle_widen`: half-precision logits or boxes (an fp16 TensorRT engine's
//!   outputs) widened exactly to f32, so the select kernel reads one format;
//! - `rle_snapshot`: a copy of the mask logits taken only when the string
//!   arena overflowed, so a deferred frame's rerun of the write pass never
//!   reads the caller's buffers after the frame said it was done with them.
//!
//! Both are grid-stride loops over 16-bit words (every input dtype is a
//! multiple of two bytes and at least 2-aligned).

use super::{bid_x, nbid_x, ntid, tid};
use crate::abi::{dtype, FrameCounters};
use crate::fp::{bf16_bits_to_f32, f16_bits_to_f32};

/// `dst[i] = f32(src[i])` for `i < n`, `src` holding f16 (`kind ==
/// dtype::F16`) or bf16 (`dtype::BF16`) bit patterns. Exact: every half and
/// bfloat16 value is an f32; NaN payloads are kept.
///
/// # Safety
/// `src` holds `n` 16-bit words and `dst` room for `n` floats.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_widen(src: *const u16, dst: *mut f32, n: u64, kind: u32) {
    let stride = u64::from(ntid() * nbid_x());
    let mut i = u64::from(bid_x() * ntid() + tid());
    while i < n {
        // SAFETY: i < n (the contract sizes both buffers for n elements).
        unsafe {
            let h = *src.add(i as usize);
            *dst.add(i as usize) = if kind == dtype::BF16 {
                bf16_bits_to_f32(h)
            } else {
                f16_bits_to_f32(h)
            };
        }
        i += stride;
    }
}

/// Copies `halves` 16-bit words from `src` to `dst` if the frame's string
/// arena overflowed (`counters.overflowed > 0`), and does nothing otherwise:
/// the common frame pays one tiny launch, not a copy of its masks.
///
/// # Safety
/// `counters` is the frame's counter block, written by the reserve pass
/// before this launch on the same stream; `src` and `dst` hold `halves`
/// words.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_snapshot(
    counters: *const FrameCounters,
    src: *const u16,
    dst: *mut u16,
    halves: u64,
) {
    // SAFETY: the counter block is valid (contract).
    if unsafe { (*counters).overflowed } == 0 {
        return;
    }
    let stride = u64::from(ntid() * nbid_x());
    let mut i = u64::from(bid_x() * ntid() + tid());
    while i < halves {
        // SAFETY: i < halves (contract).
        unsafe { *dst.add(i as usize) = *src.add(i as usize) };
        i += stride;
    }
}
