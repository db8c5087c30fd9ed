//! `mask_rle_decode`: every output pixel finds its run by binary search in
//! the mask's run ends (`runs::is_foreground`), so the work is even over the
//! grid whatever the run lengths. Output is row-major `u8`, 1 for foreground,
//! mask after mask (`out[m * H * W + y * W + x]`), what torch, numpy and
//! display code take as is.

use crate::abi::MaskSetParams;
use crate::runs::{column_major, is_foreground, span};
use kernel_prims::{bid_x, bid_y, nbid_x, ntid, tid};

/// See the module header and `abi::KERNEL_RLE_DECODE`.
///
/// # Safety
/// `offsets` holds `p.masks + 1` values, `ends` `p.counts_len` (written by
/// `mask_rle_scan` on the same stream), `out` `p.masks * H * W` bytes;
/// `H * W < 2^32`; grid = `(any, p.masks)`.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn mask_rle_decode(
    p: MaskSetParams,
    offsets: *const u32,
    ends: *const u32,
    out: *mut u8,
) {
    let m = bid_y();
    if m >= p.masks || p.width == 0 {
        return;
    }
    // SAFETY: m + 1 <= masks; the span is clamped inside `ends`.
    let runs = unsafe {
        let (start, end, _) = span(
            *offsets.add(m as usize),
            *offsets.add(m as usize + 1),
            p.counts_len,
        );
        core::slice::from_raw_parts(ends.add(start as usize), (end - start) as usize)
    };
    let total = p.height * p.width;
    let base = u64::from(m) * u64::from(total);
    let stride = ntid() * nbid_x();
    let mut o = bid_x() * ntid() + tid();
    while o < total {
        let fg = is_foreground(runs, column_major(o, p.height, p.width));
        // SAFETY: base + o < masks * H * W.
        unsafe { *out.add((base + u64::from(o)) as usize) = u8::from(fg) };
        o = match o.checked_add(stride) {
            Some(next) => next,
            None => break,
        };
    }
}
