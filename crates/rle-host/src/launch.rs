//! Every kernel launch of the crate, one typed function per kernel. This is
//! the only module with `cuLaunchKernel`; each function's `// SAFETY:` line
//! says what its caller proved about the pointers it passes.

use std::ffi::c_void;

use cudarc::driver::sys;
use rle_kernels::abi::{
    FrameParams, CONVERT_BLOCKS, CONVERT_THREADS, MASK_THREADS, SELECT_THREADS,
};

use crate::driver::Gpu;
use crate::error::Result;
// The launch wrapper and argument helper are the family-independent toolkit's.
use crate::toolkit::launch::{arg, go, go_after};

/// Arguments of `rle_select_roi` (checked against the bundle by a test).
const SELECT_ROI_ARGS: usize = 17;

/// Arguments of `rle_mask_count` (checked against the bundle by a test).
const MASK_COUNT_ARGS: usize = 10;

/// Arguments of `rle_mask_reserve` (checked against the bundle by a test).
const MASK_RESERVE_ARGS: usize = 11;

/// Arguments of `rle_mask_write` (checked against the bundle by a test).
const MASK_WRITE_ARGS: usize = 13;

/// Arguments of `rle_widen` (checked against the bundle by a test).
const WIDEN_ARGS: usize = 4;

/// Arguments of `rle_snapshot` (checked against the bundle by a test).
const SNAPSHOT_ARGS: usize = 4;

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
    /// The device arena: the reserve step's boundary characters, copied to
    /// `host_chars` by the write pass.
    pub(crate) chars: u64,
    pub(crate) query_rois: u64,
    pub(crate) rois: u64,
    pub(crate) chunks: u64,
    pub(crate) chunk_store: u64,
    pub(crate) spans: u64,
    pub(crate) weights: u64,
    pub(crate) host_dets: u64,
    pub(crate) host_det_count: u64,
    pub(crate) host_counters: u64,
    /// The string arena the results are read from (mapped host memory,
    /// as large as `chars`), written by the kernels directly.
    pub(crate) host_chars: u64,
}

/// Blocks of `rle_select_roi`: `B` selecting, then one per query of every
/// image.
pub(crate) fn select_roi_blocks(frame: &FrameParams) -> u64 {
    let b = u64::from(frame.batch);
    b + b * u64::from(frame.queries)
}

/// `rle_select_roi`: the selection and the query ROIs, one launch (grid
/// [`select_roi_blocks`]).
///
/// # Safety
/// `b` holds buffers sized for `frame` (see the kernel's contract; the
/// counters zeroed by this frame's parameter upload, earlier on the same
/// stream) and stays alive until the stream reaches this launch's
/// completion.
pub(crate) unsafe fn select_roi(
    gpu: &Gpu,
    stream: sys::CUstream,
    frame: &FrameParams,
    b: &FrameBuffers,
) -> Result<()> {
    let mut params: [*mut c_void; SELECT_ROI_ARGS] = [
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
        arg(&b.masks),
        arg(&b.spans),
        arg(&b.weights),
        arg(&b.query_rois),
        arg(&b.rois),
        arg(&b.chunks),
        arg(&b.counters),
    ];
    // B ≤ Shapes::MAX_BATCH and Q ≤ MAX_QUERIES (the planner's bounds):
    // the grid fits a launch's x dimension (asserted below the function).
    let blocks = select_roi_blocks(frame) as u32;
    // SAFETY: the parameter list matches `rle_select_roi`'s signature
    // (pinned by entries.txt), every pointer is sized per the caller's
    // contract: query_rois and rois B*Q records, chunks MASK_ITEM_BUDGET +
    // B*Q states, tables uploaded for every image.
    unsafe {
        go(
            gpu.select_roi,
            (blocks, 1, 1),
            SELECT_THREADS,
            stream,
            &mut params,
            "cuLaunchKernel(rle_select_roi)",
        )
    }
}

const _: () = assert!(
    crate::params::Shapes::MAX_BATCH as u64 * (1 + rle_kernels::abi::MAX_QUERIES as u64)
        <= i32::MAX as u64
);

/// `rle_mask_count`: a persistent grid of `gpu.item_blocks` blocks looping
/// over the frame's items.
///
/// With `programmatic` (and the module in its sm_90 form) the launch is
/// programmatic (`toolkit::launch::go_after`): the three item-pass kernels
/// wait for the grid before them themselves.
///
/// # Safety
/// As for [`select_roi`]; `rle_select_roi` was launched first on the same stream.
pub(crate) unsafe fn mask_count(
    gpu: &Gpu,
    stream: sys::CUstream,
    frame: &FrameParams,
    b: &FrameBuffers,
    programmatic: bool,
) -> Result<()> {
    let mut params: [*mut c_void; MASK_COUNT_ARGS] = [
        arg(frame),
        arg(&b.images),
        arg(&b.dets),
        arg(&b.masks),
        arg(&b.spans),
        arg(&b.weights),
        arg(&b.rois),
        arg(&b.chunks),
        arg(&b.chunk_store),
        arg(&b.counters),
    ];
    // SAFETY: matches `rle_mask_count`'s signature; chunks holds
    // MASK_ITEM_BUDGET + B*Q states (the most items a frame can have) and
    // chunk_store as many slots of `frame.chunk_store_bytes`.
    unsafe {
        go_after(
            gpu.mask_count,
            (gpu.item_blocks, 1, 1),
            MASK_THREADS,
            stream,
            &mut params,
            programmatic && gpu.programmatic,
            "cuLaunchKernel(Ex)(rle_mask_count)",
        )
    }
}

/// `rle_mask_reserve`: grid = `Q × B` detection slots.
///
/// # Safety
/// As for [`select_roi`]; `rle_mask_count` ran before on the same stream (and
/// on a rerun, the arena counters were cleared since).
pub(crate) unsafe fn mask_reserve(
    gpu: &Gpu,
    stream: sys::CUstream,
    frame: &FrameParams,
    b: &FrameBuffers,
    programmatic: bool,
) -> Result<()> {
    let mut params: [*mut c_void; MASK_RESERVE_ARGS] = [
        arg(frame),
        arg(&b.images),
        arg(&b.dets),
        arg(&b.det_count),
        arg(&b.rois),
        arg(&b.chunks),
        arg(&b.chars),
        arg(&b.counters),
        arg(&b.host_dets),
        arg(&b.host_det_count),
        arg(&b.host_chars),
    ];
    // SAFETY: matches `rle_mask_reserve`'s signature; chars and host_chars
    // hold `frame.chars_capacity` bytes each; the host records are mapped
    // and sized for `B*Q` records and `B` counts.
    unsafe {
        go_after(
            gpu.mask_reserve,
            (frame.queries, frame.batch, 1),
            gpu.reserve_threads,
            stream,
            &mut params,
            programmatic && gpu.programmatic,
            "cuLaunchKernel(Ex)(rle_mask_reserve)",
        )
    }
}

/// `rle_mask_write`: the same persistent grid as [`mask_count`]; its last
/// block copies the counters out, so this is the frame's last launch.
///
/// # Safety
/// As for [`select_roi`]; `rle_mask_reserve` ran before on the same stream
/// (and on a rerun, the arena counters, `write_done` among them, were
/// cleared since).
pub(crate) unsafe fn mask_write(
    gpu: &Gpu,
    stream: sys::CUstream,
    frame: &FrameParams,
    b: &FrameBuffers,
    programmatic: bool,
) -> Result<()> {
    let mut params: [*mut c_void; MASK_WRITE_ARGS] = [
        arg(frame),
        arg(&b.images),
        arg(&b.dets),
        arg(&b.masks),
        arg(&b.spans),
        arg(&b.weights),
        arg(&b.rois),
        arg(&b.chunks),
        arg(&b.chunk_store),
        arg(&b.chars),
        arg(&b.counters),
        arg(&b.host_chars),
        arg(&b.host_counters),
    ];
    // SAFETY: matches `rle_mask_write`'s signature; the reserve step bounded
    // every chunk's output inside the arena (or marked it skipped); the
    // store is the one `mask_count` filled for this frame; `host_counters`
    // is mapped and holds one record.
    unsafe {
        go_after(
            gpu.mask_write,
            (gpu.item_blocks, 1, 1),
            MASK_THREADS,
            stream,
            &mut params,
            programmatic && gpu.programmatic,
            "cuLaunchKernel(Ex)(rle_mask_write)",
        )
    }
}

/// `rle_widen`: `n` f16/bf16 values (`kind`, an `abi::dtype` code) at `src`
/// to f32 at `dst`.
///
/// # Safety
/// `src` holds `n` 16-bit values and `dst` room for `n` floats, both alive
/// until the stream reaches this launch's completion.
pub(crate) unsafe fn widen(
    gpu: &Gpu,
    stream: sys::CUstream,
    src: u64,
    dst: u64,
    n: u64,
    kind: u32,
) -> Result<()> {
    let mut params: [*mut c_void; WIDEN_ARGS] = [arg(&src), arg(&dst), arg(&n), arg(&kind)];
    // SAFETY: matches `rle_widen`'s signature; sizes per the contract.
    unsafe {
        go(
            gpu.widen,
            (CONVERT_BLOCKS, 1, 1),
            CONVERT_THREADS,
            stream,
            &mut params,
            "cuLaunchKernel(rle_widen)",
        )
    }
}

/// `rle_snapshot`: copies `halves` 16-bit words from `src` to `dst` when the
/// frame's counters say the string arena overflowed.
///
/// # Safety
/// `counters` is the frame's counter block; `src` and `dst` hold `halves`
/// words; all alive until the stream reaches this launch's completion.
pub(crate) unsafe fn snapshot(
    gpu: &Gpu,
    stream: sys::CUstream,
    counters: u64,
    src: u64,
    dst: u64,
    halves: u64,
) -> Result<()> {
    let mut params: [*mut c_void; SNAPSHOT_ARGS] =
        [arg(&counters), arg(&src), arg(&dst), arg(&halves)];
    // SAFETY: matches `rle_snapshot`'s signature; sizes per the contract.
    unsafe {
        go(
            gpu.snapshot,
            (CONVERT_BLOCKS, 1, 1),
            CONVERT_THREADS,
            stream,
            &mut params,
            "cuLaunchKernel(rle_snapshot)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rle_kernels::abi::{
        KERNEL_MASK_COUNT, KERNEL_MASK_RESERVE, KERNEL_MASK_WRITE, KERNEL_SELECT_ROI,
        KERNEL_SNAPSHOT, KERNEL_WIDEN,
    };

    /// A launch passing fewer or more arguments than the kernel declares
    /// reads garbage pointers on the GPU; the arrays above are sized by these
    /// constants, so they must match the PTX: the frame parameters first
    /// (by value, `size_of::<FrameParams>()` bytes), then pointers.
    #[test]
    fn argument_counts_match_the_ptx_entries() {
        for (kernel, args) in [
            (KERNEL_SELECT_ROI, SELECT_ROI_ARGS),
            (KERNEL_MASK_COUNT, MASK_COUNT_ARGS),
            (KERNEL_MASK_RESERVE, MASK_RESERVE_ARGS),
            (KERNEL_MASK_WRITE, MASK_WRITE_ARGS),
        ] {
            let params = crate::bundle::params(kernel).expect("entry in the bundle");
            assert_eq!(params.len(), args, "{kernel}: {params:?}");
            let frame = format!("[{}]", std::mem::size_of::<FrameParams>());
            assert!(params[0].ends_with(&frame), "{kernel}: {}", params[0]);
            assert!(
                params[1..].iter().all(|p| p.contains(".u64 .ptr")),
                "{kernel}"
            );
        }
    }

    /// The two memory kernels take no frame record: pointers, then a u64
    /// count (and `rle_widen` a u32 dtype code).
    #[test]
    fn memory_kernel_arguments_match_the_ptx_entries() {
        let widen = crate::bundle::params(KERNEL_WIDEN).expect("entry in the bundle");
        assert_eq!(widen.len(), WIDEN_ARGS, "{widen:?}");
        assert!(
            widen[..2].iter().all(|p| p.contains(".u64 .ptr")),
            "{widen:?}"
        );
        assert!(
            widen[2].contains(".u64") && widen[3].contains(".u32"),
            "{widen:?}"
        );
        let snap = crate::bundle::params(KERNEL_SNAPSHOT).expect("entry in the bundle");
        assert_eq!(snap.len(), SNAPSHOT_ARGS, "{snap:?}");
        assert!(
            snap[..3].iter().all(|p| p.contains(".u64 .ptr")),
            "{snap:?}"
        );
        assert!(
            snap[3].contains(".u64") && !snap[3].contains(".ptr"),
            "{snap:?}"
        );
    }
}
