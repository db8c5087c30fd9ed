//! Mask resize to the pre-processing size `S` (SPEC §2.7b, §3).
//!
//! - [`antialiased`]: torchvision's default (`antialias=True`), the Roboflow reference;
//!   per-axis [`AxisTable`]s and the two-pass application of §3.4.
//! - [`bilinear`]: plain bilinear (§3.9), with an explicit FMA-contraction hypothesis.
//! - [`limits`]: the CUDA shared-memory limit that makes extreme downscales an error.
//!
//! Invariant: all arithmetic is float32; half-precision masks are widened before and
//! rounded back after (see `crate::mask`), never here.

pub mod antialiased;
pub mod bilinear;
pub mod limits;

use ndarray::{Array2, ArrayView2};

pub use antialiased::{resize_antialiased, AxisTable};
pub use bilinear::{resize_bilinear, resize_bilinear_with, BilinearVariant, Contraction};
pub use limits::{aa_shared_memory_bytes, aa_supported, CUDA_SHARED_MEMORY_PER_BLOCK};

use crate::ResizeMode;

/// Resizes `src` to `out_h×out_w` with the given mode (its identity shortcut included).
pub fn resize(
    src: ArrayView2<'_, f32>,
    out_h: usize,
    out_w: usize,
    mode: ResizeMode,
) -> Array2<f32> {
    match mode {
        ResizeMode::Antialiased => resize_antialiased(src, out_h, out_w),
        ResizeMode::Bilinear => resize_bilinear(src, out_h, out_w),
    }
}
