//! The life of one GPU frame: [`enqueue`] stages its parameters and launches
//! its kernels on a stream without waiting; [`finish`] waits for the frame's
//! completion event, reruns the reserve and write passes if the string arena
//! was too small, and assembles the results from mapped memory.
//!
//! Launch order: (`rle_widen` for half-precision logits or boxes), select
//! with the ROIs, count, reserve, write (the last three programmatic on
//! sm_90: each may start while the one before finishes, and waits for it
//! on the GPU), (`rle_snapshot` and the caller's
//! inputs-consumed event, for deferred frames), then the slot's `done`
//! event. The reserve and write passes put the records, strings and counters
//! into mapped memory themselves, so no copy-out follows. After the write
//! pass nothing reads the caller's buffers again, except the arena-overflow
//! rerun, which reads the snapshot when the caller was told the inputs were
//! consumed.

use cudarc::driver::{result, sys};
use rle_kernels::abi::COUNTERS_RESET_BYTES;
use rle_reference::ImageResult;

use crate::driver::Gpu;
use crate::error::{DriverContext, Error, Result};
use crate::frame_slot::{align, BlobLayout, FrameSlot};
use crate::handles::EventHandle;
use crate::launch;
use crate::params::{FramePlan, MaskDtype};
use crate::profile::StageEvents;

/// Where a frame's inputs are and how they are stored.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameInputs {
    pub(crate) logits: u64,
    pub(crate) boxes: u64,
    pub(crate) masks: u64,
    pub(crate) logits_dtype: MaskDtype,
    pub(crate) boxes_dtype: MaskDtype,
    /// Elements of the logits and the boxes (`B·Q·C`, `B·Q·4`).
    pub(crate) logits_len: usize,
    pub(crate) boxes_len: usize,
    /// Bytes of the masks.
    pub(crate) masks_bytes: usize,
}

/// How a frame is launched.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Launch<'a> {
    pub(crate) stream: sys::CUstream,
    pub(crate) profile: Option<&'a StageEvents>,
    /// Recorded once the kernels stop reading the caller's inputs; then the
    /// masks are snapshotted on overflow so the rerun never reads them.
    pub(crate) inputs_consumed: Option<EventHandle>,
    pub(crate) min_chunk_pixels: u32,
    /// Launch the item passes programmatically where the module allows
    /// (`Postprocessor::set_programmatic_launch`).
    pub(crate) programmatic: bool,
}

/// A frame enqueued on a stream and not yet finished.
#[derive(Debug)]
pub(crate) struct Pending {
    plan: FramePlan,
    layout: BlobLayout,
    /// The logits, boxes and masks addresses the kernels read.
    read: (u64, u64, u64),
}

/// Launches a planned frame whose parameters are staged in `slot.staging`.
///
/// # Safety
/// The input addresses hold initialized data of the planned shapes and stay
/// allocated and unwritten until `how.inputs_consumed` completes (when
/// given) or until [`finish`] returns; `how.stream` belongs to the slot's
/// context; `slot` was sized for `plan` by `FrameSlot::reserve`.
pub(crate) unsafe fn enqueue(
    gpu: &Gpu,
    slot: &mut FrameSlot,
    mut plan: FramePlan,
    layout: BlobLayout,
    inputs: FrameInputs,
    how: Launch<'_>,
) -> Result<Pending> {
    let stream = how.stream;
    let mark = |i: usize| how.profile.map_or(Ok(()), |e| e.mark(i, stream));
    slot.tables.upload(stream)?;
    plan.frame.chars_capacity = slot.chars_capacity();
    plan.frame.min_chunk_pixels = how.min_chunk_pixels;
    // SAFETY: staging and blob hold `layout.end` bytes (reserve).
    unsafe {
        let src = std::slice::from_raw_parts(slot.staging.host_ptr().cast::<u8>(), layout.end);
        result::memcpy_htod_async(slot.blob.ptr(), src, stream).call("cuMemcpyHtoDAsync(frame)")?;
    }
    // Half-precision logits or boxes are widened into the slot first.
    let mut read = (inputs.logits, inputs.boxes, inputs.masks);
    let widen_logits = inputs.logits_dtype != MaskDtype::F32;
    let widen_boxes = inputs.boxes_dtype != MaskDtype::F32;
    if widen_logits || widen_boxes {
        let boxes_at = align(inputs.logits_len * 4);
        slot.widened.ensure(boxes_at + inputs.boxes_len * 4)?;
        let base = slot.widened.ptr();
        // SAFETY: the sources hold that many 16-bit values (checked by the
        // caller), the destination was just sized for them.
        unsafe {
            if widen_logits {
                let n = inputs.logits_len as u64;
                launch::widen(
                    gpu,
                    stream,
                    inputs.logits,
                    base,
                    n,
                    inputs.logits_dtype.code(),
                )?;
                read.0 = base;
            }
            if widen_boxes {
                let dst = base + boxes_at as u64;
                let n = inputs.boxes_len as u64;
                launch::widen(gpu, stream, inputs.boxes, dst, n, inputs.boxes_dtype.code())?;
                read.1 = dst;
            }
        }
    }
    if how.inputs_consumed.is_some() {
        slot.snapshot.ensure(inputs.masks_bytes.max(2))?;
    }
    let bufs = slot.buffers(&layout, read);
    // SAFETY: every buffer was sized by `reserve` for `plan.frame`; the
    // inputs per this function's contract.
    unsafe {
        mark(0)?;
        launch::select_roi(gpu, stream, &plan.frame, &bufs)?;
        mark(1)?;
        // Programmatic launches only where kernels follow each other
        // directly: a profiled frame's events sit between them.
        let pdl = how.programmatic && how.profile.is_none();
        launch::mask_count(gpu, stream, &plan.frame, &bufs, pdl)?;
        mark(2)?;
        launch::mask_reserve(gpu, stream, &plan.frame, &bufs, pdl)?;
        mark(3)?;
        launch::mask_write(gpu, stream, &plan.frame, &bufs, pdl)?;
        mark(4)?;
        if let Some(ev) = how.inputs_consumed {
            let halves = (inputs.masks_bytes / 2) as u64;
            launch::snapshot(
                gpu,
                stream,
                bufs.counters,
                read.2,
                slot.snapshot.ptr(),
                halves,
            )?;
            result::event::record(ev.cu(), stream).call("cuEventRecord(inputs consumed)")?;
            read.2 = slot.snapshot.ptr();
        }
        result::event::record(slot.done, stream).call("cuEventRecord(done)")?;
    }
    Ok(Pending { plan, layout, read })
}

/// Whether a pending frame's GPU work has completed (never blocks).
pub(crate) fn is_done(slot: &FrameSlot) -> Result<bool> {
    // SAFETY: our event, recorded by `enqueue`.
    match unsafe { result::event::query(slot.done) } {
        Ok(()) => Ok(true),
        Err(e) if e.0 == sys::CUresult::CUDA_ERROR_NOT_READY => Ok(false),
        Err(e) => Err(e).call("cuEventQuery"),
    }
}

/// Waits for a pending frame and returns its results; an arena overflow is
/// repaired on `rerun_stream` (the post-processor's own stream).
pub(crate) fn finish(
    gpu: &Gpu,
    slot: &mut FrameSlot,
    mut p: Pending,
    rerun_stream: sys::CUstream,
) -> Result<Vec<ImageResult>> {
    // SAFETY: our event, recorded after the frame's last launch.
    unsafe { result::event::synchronize(slot.done) }.call("cuEventSynchronize")?;
    let c = slot.counters_now();
    if c.overflowed > 0 {
        // The arena was too small: grow it and redo reserve and write (the
        // ROIs, item plan and counts per chunk stay valid).
        let need = usize::try_from(c.chars_used).unwrap_or(usize::MAX);
        if need > u32::MAX as usize {
            return Err(Error::Limit {
                what: "COCO strings of one frame (bytes)".into(),
                limit: u64::from(u32::MAX),
                got: c.chars_used,
            });
        }
        slot.grow_chars(need)?;
        p.plan.frame.chars_capacity = slot.chars_capacity();
        let bufs = slot.buffers(&p.layout, p.read);
        // SAFETY: as in `enqueue`; the masks read are the caller's (still
        // valid by contract) or the slot's snapshot. The arena counters are
        // reset first (the item plan after them stays).
        unsafe {
            result::memset_d8_async(bufs.counters, 0, COUNTERS_RESET_BYTES, rerun_stream)
                .call("cuMemsetD8Async")?;
            launch::mask_reserve(gpu, rerun_stream, &p.plan.frame, &bufs, false)?;
            launch::mask_write(gpu, rerun_stream, &p.plan.frame, &bufs, false)?;
            result::stream::synchronize(rerun_stream).call("cuStreamSynchronize")?;
        }
        let again = slot.counters_now();
        if again.overflowed > 0 {
            // Cannot happen (the rerun needs exactly the bytes just
            // counted), but never slice past what the kernels wrote.
            return Err(Error::Limit {
                what: "COCO string arena after growing (bytes)".into(),
                limit: u64::from(slot.chars_capacity()),
                got: again.chars_used,
            });
        }
    }
    Ok(slot.assemble(&p.plan))
}
