//! The mask family's typed launches, one function per kernel of
//! `mask-kernels`: each takes the device addresses of a set's buffers, sizes
//! the grid from the set's parameters and holds the only `unsafe` block with
//! a `// SAFETY:` line saying what its caller proved.

use std::ffi::c_void;

use cudarc::driver::sys;
use mask_kernels::abi::{
    MaskSetParams, DECODE_MAX_BLOCKS_PER_MASK, DECODE_THREADS, IOU_THREADS, SCAN_THREADS,
};

use crate::error::Result;
use crate::toolkit::launch::{arg, go};

/// Arguments of `mask_rle_scan` (checked against the PTX by a test).
const SCAN_ARGS: usize = 6;
/// Arguments of `mask_rle_decode` (checked against the PTX by a test).
const DECODE_ARGS: usize = 4;
/// Arguments of `mask_rle_iou` (checked against the PTX by a test).
const IOU_ARGS: usize = 12;

/// The device addresses of one set's buffers and its parameters.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SetPtrs {
    pub(crate) params: MaskSetParams,
    pub(crate) counts: u64,
    pub(crate) offsets: u64,
    pub(crate) ends: u64,
    pub(crate) fg_before: u64,
    pub(crate) stats: u64,
}

/// Blocks per mask of `mask_rle_decode`: enough for one pixel per thread,
/// at most `DECODE_MAX_BLOCKS_PER_MASK` (the kernel loops beyond).
pub(crate) fn decode_blocks(pixels: u32) -> u32 {
    pixels
        .div_ceil(DECODE_THREADS)
        .clamp(1, DECODE_MAX_BLOCKS_PER_MASK)
}

/// `mask_rle_scan`: one block per mask.
///
/// # Safety
/// `s.params.masks >= 1`; `s.counts`, `s.ends`, `s.fg_before` hold
/// `counts_len` u32, `s.offsets` `masks + 1` u32 (uploaded), `s.stats`
/// `masks` `MaskStats`; `height * width < 2^32`; all alive until the stream
/// reaches this launch's completion.
pub(crate) unsafe fn scan(f: sys::CUfunction, stream: sys::CUstream, s: &SetPtrs) -> Result<()> {
    let mut params: [*mut c_void; SCAN_ARGS] = [
        arg(&s.params),
        arg(&s.counts),
        arg(&s.offsets),
        arg(&s.ends),
        arg(&s.fg_before),
        arg(&s.stats),
    ];
    // SAFETY: the parameter list matches `mask_rle_scan`'s (entries.txt,
    // test below); every buffer is sized per the caller's contract.
    unsafe {
        go(
            f,
            (s.params.masks, 1, 1),
            SCAN_THREADS,
            stream,
            &mut params,
            "cuLaunchKernel(mask_rle_scan)",
        )
    }
}

/// `mask_rle_decode`: grid `(decode_blocks(H * W), masks)`.
///
/// # Safety
/// As for [`scan`], which ran before on `stream`; `out` holds
/// `masks * height * width` bytes.
pub(crate) unsafe fn decode(
    f: sys::CUfunction,
    stream: sys::CUstream,
    s: &SetPtrs,
    out: u64,
) -> Result<()> {
    let mut params: [*mut c_void; DECODE_ARGS] =
        [arg(&s.params), arg(&s.offsets), arg(&s.ends), arg(&out)];
    let blocks = decode_blocks(s.params.height * s.params.width);
    // SAFETY: matches `mask_rle_decode`'s signature; `out` is sized per the
    // contract and the kernel writes only below `masks * H * W`.
    unsafe {
        go(
            f,
            (blocks, s.params.masks, 1),
            DECODE_THREADS,
            stream,
            &mut params,
            "cuLaunchKernel(mask_rle_decode)",
        )
    }
}

/// `mask_rle_iou`: grid `(b.masks, a.masks)`.
///
/// # Safety
/// Both sets as for [`scan`], both scanned before on `stream`, of equal
/// height and width; `iou` holds `a.masks * b.masks` f64 and `inter` as
/// many u32.
pub(crate) unsafe fn iou(
    f: sys::CUfunction,
    stream: sys::CUstream,
    a: &SetPtrs,
    b: &SetPtrs,
    iou: u64,
    inter: u64,
) -> Result<()> {
    let mut params: [*mut c_void; IOU_ARGS] = [
        arg(&a.params),
        arg(&a.offsets),
        arg(&a.ends),
        arg(&a.fg_before),
        arg(&a.stats),
        arg(&b.params),
        arg(&b.offsets),
        arg(&b.ends),
        arg(&b.fg_before),
        arg(&b.stats),
        arg(&iou),
        arg(&inter),
    ];
    // SAFETY: matches `mask_rle_iou`'s signature; outputs sized per the contract.
    unsafe {
        go(
            f,
            (b.params.masks, a.params.masks, 1),
            IOU_THREADS,
            stream,
            &mut params,
            "cuLaunchKernel(mask_rle_iou)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::MASK_MODULE;
    use mask_kernels::abi::{KERNEL_RLE_DECODE, KERNEL_RLE_IOU, KERNEL_RLE_SCAN};

    /// The parameter arrays above must match the PTX entries: a set's
    /// parameters by value (`size_of::<MaskSetParams>()` bytes), then
    /// pointers (two sets for IoU).
    #[test]
    fn argument_lists_match_the_ptx_entries() {
        let set = format!("[{}]", std::mem::size_of::<MaskSetParams>());
        for (kernel, args, by_value) in [
            (KERNEL_RLE_SCAN, SCAN_ARGS, &[0][..]),
            (KERNEL_RLE_DECODE, DECODE_ARGS, &[0]),
            (KERNEL_RLE_IOU, IOU_ARGS, &[0, 5]),
        ] {
            let params = MASK_MODULE.params(kernel).expect("entry in the bundle");
            assert_eq!(params.len(), args, "{kernel}: {params:?}");
            for (i, p) in params.iter().enumerate() {
                if by_value.contains(&i) {
                    assert!(p.ends_with(&set), "{kernel} param {i}: {p}");
                } else {
                    assert!(p.contains(".u64 .ptr"), "{kernel} param {i}: {p}");
                }
            }
        }
    }

    #[test]
    fn decode_grid_covers_small_and_caps_large_masks() {
        assert_eq!(decode_blocks(0), 1);
        assert_eq!(decode_blocks(1), 1);
        assert_eq!(decode_blocks(DECODE_THREADS + 1), 2);
        assert_eq!(decode_blocks(1920 * 1080), DECODE_MAX_BLOCKS_PER_MASK);
    }
}
