//! Every kernel launch of the crate, one typed function per kernel. This is
//! the only module with `cuLaunchKernel`; each function's `// SAFETY:` line
//! says what its caller proved about the pointers it passes.

use std::ffi::c_void;

use cudarc::driver::{result, sys};
use rle_kernels::abi::{
    FrameParams, COPY_BLOCKS, COPY_THREADS, MASK_CHUNKS, MASK_THREADS, SELECT_THREADS,
};

use crate::driver::Gpu;
use crate::error::{DriverContext, Result};

/// Device addresses of one frame's buffers.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FrameBuffers {
    pub(crate) images: u64,
    pub(crate) logits: u64,
    pub(crate) boxes: u64,
    pub(crate) masks: u64,
    pub(crate) thresholds: u64,
    pub(crate) mapping: u64,
    pub(crate) keys: u64,
    pub(crate) scores: u64,
    pub(crate) dets: u64,
    pub(crate) det_count: u64,
    pub(crate) counters: u64,
    pub(crate) chars: u64,
    pub(crate) chunks: u64,
    pub(crate) spans: u64,
    pub(crate) weights: u64,
    pub(crate) host_dets: u64,
    pub(crate) host_det_count: u64,
    pub(crate) host_counters: u64,
    pub(crate) host_chars: u64,
}

fn arg<T>(v: &T) -> *mut c_void {
    (v as *const T).cast_mut().cast()
}

/// `rle_select`: grid = one block per image.
///
/// # Safety
/// `b` holds buffers sized for `frame` (see the kernel's contract) and stays
/// alive until the stream reaches this launch's completion.
pub(crate) unsafe fn select(
    gpu: &Gpu,
    stream: sys::CUstream,
    frame: &FrameParams,
    b: &FrameBuffers,
) -> Result<()> {
    let mut params = [
        arg(frame),
        arg(&b.images),
        arg(&b.logits),
        arg(&b.boxes),
        arg(&b.thresholds),
        arg(&b.mapping),
        arg(&b.keys),
        arg(&b.scores),
        arg(&b.dets),
        arg(&b.det_count),
        arg(&b.counters),
    ];
    // SAFETY: the parameter list matches `rle_select`'s signature (pinned by
    // entries.txt), every pointer is sized per the caller's contract.
    unsafe {
        result::launch_kernel(
            gpu.select,
            (frame.batch, 1, 1),
            (SELECT_THREADS, 1, 1),
            0,
            stream,
            &mut params,
        )
        .call("cuLaunchKernel(rle_select)")
    }
}

/// Launches one of the two per-chunk mask kernels: grid `MASK_CHUNKS × Q × B`.
///
/// # Safety
/// `params` matches the kernel's signature and its pointers satisfy its contract.
unsafe fn launch_chunks(
    f: sys::CUfunction,
    call: &'static str,
    stream: sys::CUstream,
    frame: &FrameParams,
    params: &mut [*mut c_void],
) -> Result<()> {
    // SAFETY: the caller's contract.
    unsafe {
        result::launch_kernel(
            f,
            (MASK_CHUNKS, frame.queries, frame.batch),
            (MASK_THREADS, 1, 1),
            0,
            stream,
            params,
        )
        .call(call)
    }
}

/// `rle_mask_count`: grid = `MASK_CHUNKS × Q × B` chunk blocks.
///
/// # Safety
/// As for [`select`]; `rle_select` was launched first on the same stream.
pub(crate) unsafe fn mask_count(
    gpu: &Gpu,
    stream: sys::CUstream,
    frame: &FrameParams,
    b: &FrameBuffers,
) -> Result<()> {
    let mut params = [
        arg(frame),
        arg(&b.images),
        arg(&b.dets),
        arg(&b.det_count),
        arg(&b.masks),
        arg(&b.spans),
        arg(&b.weights),
        arg(&b.chunks),
    ];
    // SAFETY: matches `rle_mask_count`'s signature; buffers sized per the
    // contract (chunks: B*Q*MASK_CHUNKS), tables uploaded for every image.
    unsafe {
        launch_chunks(
            gpu.mask_count,
            "cuLaunchKernel(rle_mask_count)",
            stream,
            frame,
            &mut params,
        )
    }
}

/// `rle_mask_reserve`: grid = `Q × B`, one warp each.
///
/// # Safety
/// As for [`select`]; `rle_mask_count` was launched first on the same stream.
pub(crate) unsafe fn mask_reserve(
    gpu: &Gpu,
    stream: sys::CUstream,
    frame: &FrameParams,
    b: &FrameBuffers,
) -> Result<()> {
    let mut params = [
        arg(frame),
        arg(&b.images),
        arg(&b.dets),
        arg(&b.det_count),
        arg(&b.chunks),
        arg(&b.chars),
        arg(&b.counters),
    ];
    // SAFETY: matches `rle_mask_reserve`'s signature; chars holds
    // `frame.chars_capacity` bytes.
    unsafe {
        result::launch_kernel(
            gpu.mask_reserve,
            (frame.queries, frame.batch, 1),
            (32, 1, 1),
            0,
            stream,
            &mut params,
        )
        .call("cuLaunchKernel(rle_mask_reserve)")
    }
}

/// `rle_mask_write`: grid = `MASK_CHUNKS × Q × B` chunk blocks.
///
/// # Safety
/// As for [`select`]; `rle_mask_reserve` was launched first on the same stream.
pub(crate) unsafe fn mask_write(
    gpu: &Gpu,
    stream: sys::CUstream,
    frame: &FrameParams,
    b: &FrameBuffers,
) -> Result<()> {
    let mut params = [
        arg(frame),
        arg(&b.images),
        arg(&b.dets),
        arg(&b.det_count),
        arg(&b.masks),
        arg(&b.spans),
        arg(&b.weights),
        arg(&b.chunks),
        arg(&b.chars),
    ];
    // SAFETY: matches `rle_mask_write`'s signature; the reserve kernel bounded
    // every chunk's output inside the arena (or marked it skipped).
    unsafe {
        launch_chunks(
            gpu.mask_write,
            "cuLaunchKernel(rle_mask_write)",
            stream,
            frame,
            &mut params,
        )
    }
}

/// `rle_copy_out`: a fixed small grid.
///
/// # Safety
/// As for [`select`]; the host buffers are mapped and sized like their
/// device counterparts.
pub(crate) unsafe fn copy_out(
    gpu: &Gpu,
    stream: sys::CUstream,
    frame: &FrameParams,
    b: &FrameBuffers,
) -> Result<()> {
    let mut params = [
        arg(frame),
        arg(&b.dets),
        arg(&b.det_count),
        arg(&b.counters),
        arg(&b.chars),
        arg(&b.host_dets),
        arg(&b.host_det_count),
        arg(&b.host_counters),
        arg(&b.host_chars),
    ];
    // SAFETY: matches `rle_copy_out`'s signature; sizes per the contract.
    unsafe {
        result::launch_kernel(
            gpu.copy_out,
            (COPY_BLOCKS, 1, 1),
            (COPY_THREADS, 1, 1),
            0,
            stream,
            &mut params,
        )
        .call("cuLaunchKernel(rle_copy_out)")
    }
}
