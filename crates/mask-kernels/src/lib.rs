//! GPU kernels on COCO RLE masks, the second kernel family of the workspace
//! (the first is `rle-kernels`): what a consumer of our COCO strings needs
//! next, on the GPU and next to the masks it already holds.
//!
//! - `mask_rle_scan`: per mask, the run ends (prefix sums of the counts), the
//!   foreground before each run, the area, the tight bounding box, and a
//!   status word that flags malformed counts.
//! - `mask_rle_decode`: every mask to a dense, row-major `u8` `H×W` mask.
//! - `mask_rle_iou`: the IoU (and intersection) of every pair of two sets.
//!
//! Layout (the one `docs/WRITING_KERNELS.md` walks through):
//! - [`abi`]: the `#[repr(C)]` structs and entry names shared with the host,
//!   layouts pinned by const asserts.
//! - [`runs`]: the arithmetic on run ends the kernels use, compiled for the
//!   host too and unit-tested there against `rle-reference`.
//! - `device` (nvptx64 only): the `extern "ptx-kernel"` entry points.
//!
//! Invariant: nothing here allocates or panics on the device; every index a
//! kernel reads is clamped to the sizes in its parameters, so malformed
//! counts give a status flag and wrong numbers, never an out-of-bounds access.

#![no_std]
#![cfg_attr(
    target_arch = "nvptx64",
    feature(abi_ptx, stdarch_nvptx, asm_experimental_arch),
    allow(internal_features)
)]

pub mod abi;
pub mod runs;

#[cfg(target_arch = "nvptx64")]
mod device;
