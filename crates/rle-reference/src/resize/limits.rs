//! The CUDA antialiased kernel's shared-memory check (SPEC §3.5: extreme
//! downscales are refused with "Too much shared memory required").
//!
//! This reproduces the launch arithmetic of `upsample_gen2d_aa_out_cuda_template`
//! (pytorch `aten/src/ATen/native/cuda/UpSampleBilinear2d.cu`) for float32 on a device
//! whose `sharedMemPerBlock` is 48 KiB (every NVIDIA GPU since Kepler, the H100 included):
//! `block_x = 32` (warp size), `block_y = min(256/32, lastPow2(numer/denom))` with
//! `numer = smem/4 − interp_w·32`, `denom = interp_h·33` and `lastPow2(n) = max(1, 2^⌊log2 n⌋)`
//! (a negative quotient wraps to a huge unsigned, whose power of two is negative as an
//! `int`, hence 1); the kernel needs `(interp_w·32 + interp_h·block_y·33)·4` bytes.
//! Invariant: [`aa_shared_memory_bytes`] ≤ [`CUDA_SHARED_MEMORY_PER_BLOCK`] exactly when
//! the reference runs; the plain bilinear kernel has no such limit.

use super::antialiased::interp_size;

/// `cudaDeviceProp::sharedMemPerBlock` of the reference device (48 KiB).
pub const CUDA_SHARED_MEMORY_PER_BLOCK: usize = 49_152;

/// Threads per block along x (one warp).
const BLOCK_X: i64 = 32;
/// `min(maxThreadsPerBlock, 256) / BLOCK_X`.
const MAX_BLOCK_Y: i64 = 256 / BLOCK_X;

/// `lastPow2` of `LaunchUtils.h` applied to a C `int` quotient.
fn last_pow2(q: i64) -> i64 {
    if q <= 0 {
        // 0 → max(1, 0); negative → 0x80000000 as int (negative) → max(1, ·).
        1
    } else {
        1 << (63 - q.leading_zeros())
    }
}

/// Shared memory (bytes) the CUDA kernel requests to resize `in_h×in_w` → `out_h×out_w`.
pub fn aa_shared_memory_bytes(in_h: usize, in_w: usize, out_h: usize, out_w: usize) -> usize {
    let interp_h = interp_size(in_h, out_h) as i64;
    let interp_w = interp_size(in_w, out_w) as i64;
    let floats = (CUDA_SHARED_MEMORY_PER_BLOCK / 4) as i64;
    // `int numer = sharedMemPerBlock * 1.0 / sizeof(float) - interp_w * block_x` (exact here).
    let numer = floats - interp_w * BLOCK_X;
    let denom = interp_h * (BLOCK_X + 1);
    // C integer division truncates toward zero, as Rust's does.
    let block_y = last_pow2(numer / denom).min(MAX_BLOCK_Y);
    let weights = interp_w * BLOCK_X + interp_h * block_y + interp_h * block_y * BLOCK_X;
    (weights * 4) as usize
}

/// Whether the CUDA reference accepts this antialiased resize (same size on both axes
/// never reaches the kernel: torchvision returns early).
pub fn aa_supported(in_h: usize, in_w: usize, out_h: usize, out_w: usize) -> bool {
    (in_h, in_w) == (out_h, out_w)
        || aa_shared_memory_bytes(in_h, in_w, out_h, out_w) <= CUDA_SHARED_MEMORY_PER_BLOCK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_shapes_fit_and_extreme_downscale_does_not() {
        // 78×78 → 1080×1920: 3 taps each; block_y = 8.
        assert_eq!(
            aa_shared_memory_bytes(78, 78, 1080, 1920),
            (3 * 32 + 3 * 8 * 33) * 4
        );
        assert!(aa_supported(192, 192, 176, 312));
        // SPEC §3.5: 1000 → 3 is refused.
        assert!(!aa_supported(1000, 1000, 3, 3));
        assert!(!aa_supported(8, 1000, 8, 3));
        assert!(aa_supported(1000, 1000, 1000, 1000));
    }
}
