//! [`MaskOps`]: the mask kernel family (`crates/mask-kernels`) on the GPU.
//! What a consumer of COCO RLE masks (ours, or pycocotools') needs next, next
//! to the masks: each mask's area and bounding box ([`MaskOps::stats`]), the
//! dense masks ([`MaskOps::decode`], or left on the device with
//! [`MaskOps::decode_device`]) and the IoU of every pair of two sets
//! ([`MaskOps::iou`]), equal to `rle_reference::rle`'s `area`, `to_bbox`,
//! `decode` and `iou`.
//!
//! Built only from the family-independent `crate::toolkit` (device, module,
//! launch, events) and the growing buffers of `crate::memory`; it shares
//! nothing with the RLE post-processor but the crate. One stream per
//! `MaskOps`; every call synchronizes it once before returning, except
//! `decode_device`, which synchronizes too and leaves the masks on the GPU.

mod launch;
mod set;

use std::sync::Arc;
use std::time::Duration;

use cudarc::driver::{result, sys, CudaContext};
use mask_kernels::abi::{status, MaskStats, KERNEL_RLE_DECODE, KERNEL_RLE_IOU, KERNEL_RLE_SCAN};
use ndarray::Array2;

use crate::bundle::MASK_MODULE;
use crate::driver::DeviceInfo;
use crate::error::{DriverContext, Error, Result};
use crate::handles::DevicePtr;
use crate::toolkit::events::EventSet;
use crate::toolkit::{self, DeviceBuffer};
use launch::SetPtrs;

pub use set::RleSet;

/// Area and bounding box of one mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RleStats {
    /// Foreground pixels (pycocotools `area`).
    pub area: u32,
    /// `[x, y, w, h]` of the foreground (pycocotools `toBbox`), zeros when empty.
    pub bbox: [u32; 4],
    /// Number of counts (runs) of the mask.
    pub counts: u32,
}

/// IoU (and intersection in pixels) of every pair `(a[i], b[j])`, at `[i, j]`.
#[derive(Clone, Debug, PartialEq)]
pub struct IouMatrix {
    /// `inter / (area_a + area_b - inter)`; 0 where both masks are empty.
    pub iou: Array2<f64>,
    /// Foreground pixels the two masks share.
    pub intersection: Array2<u32>,
}

/// GPU time of the kernels of the last call, with profiling on
/// ([`MaskOps::set_profiling`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MaskTimes {
    /// `mask_rle_scan` (both sets' scans for [`MaskOps::iou`]).
    pub scan: Duration,
    /// `mask_rle_decode` or `mask_rle_iou`, when the call ran one.
    pub second: Option<Duration>,
}

/// Dense masks left in device memory by [`MaskOps::decode_device`]:
/// `masks × height × width` bytes, row-major, 1 for foreground. Valid until
/// the next call on the `MaskOps` (the borrow says so).
#[derive(Debug)]
pub struct DeviceMasks<'a> {
    ptr: DevicePtr,
    bytes: usize,
    _ops: std::marker::PhantomData<&'a MaskOps>,
}

impl DeviceMasks<'_> {
    /// The device address of the first mask's first pixel.
    pub fn ptr(&self) -> DevicePtr {
        self.ptr
    }

    /// Bytes of all masks.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// A set's device buffers.
#[derive(Debug)]
struct SetBuffers {
    counts: DeviceBuffer,
    offsets: DeviceBuffer,
    ends: DeviceBuffer,
    fg_before: DeviceBuffer,
    stats: DeviceBuffer,
}

impl SetBuffers {
    fn new(ctx: &Arc<CudaContext>) -> Self {
        Self {
            counts: DeviceBuffer::empty(ctx),
            offsets: DeviceBuffer::empty(ctx),
            ends: DeviceBuffer::empty(ctx),
            fg_before: DeviceBuffer::empty(ctx),
            stats: DeviceBuffer::empty(ctx),
        }
    }

    /// Grows the buffers for `set` and enqueues its upload on `stream`.
    fn upload(&mut self, set: &RleSet, stream: sys::CUstream) -> Result<SetPtrs> {
        let n = set.all_counts().len().max(1) * 4;
        self.counts.ensure(n)?;
        self.ends.ensure(n)?;
        self.fg_before.ensure(n)?;
        self.offsets.ensure(set.offsets().len() * 4)?;
        self.stats
            .ensure(set.len().max(1) * std::mem::size_of::<MaskStats>())?;
        // SAFETY: each buffer was just sized for the slice copied into it;
        // the sources are pageable host memory, which the driver stages
        // before the call returns, so the slices may go on any exit path.
        unsafe {
            if !set.all_counts().is_empty() {
                result::memcpy_htod_async(self.counts.ptr(), set.all_counts(), stream)
                    .call("cuMemcpyHtoDAsync(counts)")?;
            }
            result::memcpy_htod_async(self.offsets.ptr(), set.offsets(), stream)
                .call("cuMemcpyHtoDAsync(offsets)")?;
        }
        Ok(SetPtrs {
            params: set.params(),
            counts: self.counts.ptr(),
            offsets: self.offsets.ptr(),
            ends: self.ends.ptr(),
            fg_before: self.fg_before.ptr(),
            stats: self.stats.ptr(),
        })
    }
}

/// The mask kernels bound to one device and one stream, with buffers that
/// grow to the largest sets seen and are reused.
#[derive(Debug)]
pub struct MaskOps {
    ctx: Arc<CudaContext>,
    module: sys::CUmodule,
    scan: sys::CUfunction,
    decode: sys::CUfunction,
    iou: sys::CUfunction,
    stream: sys::CUstream,
    info: DeviceInfo,
    sets: [SetBuffers; 2],
    dense: DeviceBuffer,
    ious: DeviceBuffer,
    inters: DeviceBuffer,
    poison: bool,
    events: Option<EventSet<3>>,
    times: Option<MaskTimes>,
}

// SAFETY: CUDA handles are usable from any thread once the context is bound
// (every method binds it first); `&mut self` serializes use.
unsafe impl Send for MaskOps {}

/// Waits for `stream`.
fn sync(stream: sys::CUstream) -> Result<()> {
    // SAFETY: our own stream.
    unsafe { result::stream::synchronize(stream) }.call("cuStreamSynchronize")
}

impl MaskOps {
    /// Opens device `ordinal` and loads the mask module (eagerly: a driver
    /// that cannot JIT it fails here with `Error::PtxLoad`). `Error::NoDriver`
    /// without a CUDA driver.
    pub fn new(ordinal: usize) -> Result<Self> {
        let (ctx, info) = toolkit::device::open(ordinal)?;
        let module = toolkit::module::load(&MASK_MODULE, info.driver_version)?;
        let made = (|| {
            let function = |name| toolkit::module::function(module, name);
            let kernels = (
                function(KERNEL_RLE_SCAN)?,
                function(KERNEL_RLE_DECODE)?,
                function(KERNEL_RLE_IOU)?,
            );
            let stream = result::stream::create(result::stream::StreamKind::NonBlocking)
                .call("cuStreamCreate")?;
            Ok::<_, Error>((kernels, stream))
        })();
        let ((scan, decode, iou), stream) = match made {
            Ok(v) => v,
            Err(e) => {
                // SAFETY: loaded just above; nothing of it was launched.
                let _ = unsafe { result::module::unload(module) };
                return Err(e);
            }
        };
        Ok(Self {
            sets: [SetBuffers::new(&ctx), SetBuffers::new(&ctx)],
            dense: DeviceBuffer::empty(&ctx),
            ious: DeviceBuffer::empty(&ctx),
            inters: DeviceBuffer::empty(&ctx),
            ctx,
            module,
            scan,
            decode,
            iou,
            stream,
            info,
            poison: false,
            events: None,
            times: None,
        })
    }

    /// The device.
    pub fn device_info(&self) -> &DeviceInfo {
        &self.info
    }

    /// Records CUDA events around the kernels of every later call (off by
    /// default: events add work); [`MaskOps::last_times`] reads them.
    pub fn set_profiling(&mut self, on: bool) -> Result<()> {
        self.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        if on && self.events.is_none() {
            self.events = Some(EventSet::new()?);
        }
        if !on {
            if let Some(e) = self.events.take() {
                e.destroy();
            }
        }
        Ok(())
    }

    /// The kernels' GPU time in the last call, with profiling on.
    pub fn last_times(&self) -> Option<MaskTimes> {
        self.times
    }

    /// Test support: fill every output with `0xA5` before each launch, so a
    /// test proves the kernels wrote each byte it reads.
    #[doc(hidden)]
    pub fn set_poison(&mut self, on: bool) {
        self.poison = on;
    }

    /// Every call starts here: this device's context and no stale times.
    /// The stream is idle: a call that succeeds ends with a sync, and one
    /// that fails midway drains it in [`MaskOps::settle`] (growing a buffer
    /// frees the old one, which must not be in use).
    fn begin(&mut self) -> Result<()> {
        self.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        self.times = None;
        Ok(())
    }

    /// A call's result, after draining the stream when it failed midway
    /// (the error is the one to report, not a second one from the sync).
    fn settle<T>(&self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            let _ = sync(self.stream);
        }
        r
    }

    fn mark(&self, i: usize) -> Result<()> {
        match &self.events {
            Some(e) => e.mark(i, self.stream),
            None => Ok(()),
        }
    }

    fn poison(&self, buf: &DeviceBuffer, bytes: usize) -> Result<()> {
        if self.poison && bytes > 0 {
            // SAFETY: `bytes` fit the buffer (callers sized it first).
            unsafe { result::memset_d8_async(buf.ptr(), 0xA5, bytes, self.stream) }
                .call("cuMemsetD8Async(poison)")?;
        }
        Ok(())
    }

    /// Uploads set `slot` (and poisons its outputs); returns its pointers
    /// for [`MaskOps::scan`]. Not timed: the events bracket kernels only.
    fn upload(&mut self, slot: usize, set: &RleSet) -> Result<SetPtrs> {
        let p = self.sets[slot].upload(set, self.stream)?;
        let n = set.all_counts().len() * 4;
        self.poison(&self.sets[slot].ends, n)?;
        self.poison(&self.sets[slot].fg_before, n)?;
        self.poison(
            &self.sets[slot].stats,
            set.len() * std::mem::size_of::<MaskStats>(),
        )?;
        Ok(p)
    }

    /// Scans a set uploaded by [`MaskOps::upload`] (masks >= 1).
    fn scan(&self, p: &SetPtrs) -> Result<()> {
        // SAFETY: `upload` sized every buffer of the set for it (the
        // contract of `launch::scan`), callers return early for empty sets
        // and `RleSet` guarantees H*W < 2^32; the buffers live in `self` and
        // are not freed before the sync.
        unsafe { launch::scan(self.scan, self.stream, p) }
    }

    /// Reads set `slot`'s stats (synchronizes the stream) and checks them.
    fn read_stats(&self, slot: usize, set: &RleSet) -> Result<Vec<MaskStats>> {
        let mut stats = vec![MaskStats::default(); set.len()];
        self.queue_stats(slot, &mut stats)?;
        sync(self.stream)?;
        check_stats(set, &stats)?;
        Ok(stats)
    }

    /// Queues the copy of set `slot`'s stats into `out` (one record per
    /// mask of the set); `out` is valid once the stream is synchronized,
    /// which the caller does before reading, moving or dropping it.
    fn queue_stats(&self, slot: usize, out: &mut [MaskStats]) -> Result<()> {
        // SAFETY: the buffer holds `out.len()` records written by the scan;
        // the caller keeps `out` in place until the stream is synchronized.
        unsafe { result::memcpy_dtoh_async(out, self.sets[slot].stats.ptr(), self.stream) }
            .call("cuMemcpyDtoHAsync(stats)")
    }

    fn finish_times(&mut self, second: bool) -> Result<()> {
        self.times = match &self.events {
            Some(e) => Some(MaskTimes {
                scan: e.between(0, 1)?,
                second: if second { Some(e.between(1, 2)?) } else { None },
            }),
            None => None,
        };
        Ok(())
    }

    /// Area, bounding box and run count of every mask of `set`.
    pub fn stats(&mut self, set: &RleSet) -> Result<Vec<RleStats>> {
        self.begin()?;
        let r = self.stats_on_stream(set);
        self.settle(r)
    }

    fn stats_on_stream(&mut self, set: &RleSet) -> Result<Vec<RleStats>> {
        if set.is_empty() {
            return Ok(Vec::new());
        }
        let p = self.upload(0, set)?;
        self.mark(0)?;
        self.scan(&p)?;
        self.mark(1)?;
        let stats = self.read_stats(0, set)?;
        self.finish_times(false)?;
        Ok(stats
            .iter()
            .map(|s| RleStats {
                area: s.area,
                bbox: s.bbox,
                counts: s.counts,
            })
            .collect())
    }

    /// Decodes every mask of `set` on the GPU and leaves the dense masks
    /// there (see [`DeviceMasks`]).
    pub fn decode_device(&mut self, set: &RleSet) -> Result<DeviceMasks<'_>> {
        self.begin()?;
        let r = self.decode_on_stream(set);
        let bytes = self.settle(r)?;
        Ok(DeviceMasks {
            ptr: if bytes == 0 { 0 } else { self.dense.ptr() },
            bytes,
            _ops: std::marker::PhantomData,
        })
    }

    /// Decodes `set` into `self.dense`; returns its bytes.
    fn decode_on_stream(&mut self, set: &RleSet) -> Result<usize> {
        let bytes = set.len() * set.pixels() as usize;
        if bytes == 0 {
            return Ok(0);
        }
        let p = self.upload(0, set)?;
        self.dense.ensure(bytes)?;
        self.poison(&self.dense, bytes)?;
        self.mark(0)?;
        self.scan(&p)?;
        self.mark(1)?;
        // SAFETY: the set was scanned just before on this stream and `dense`
        // holds `masks * H * W` bytes (the contract of `launch::decode`).
        unsafe { launch::decode(self.decode, self.stream, &p, self.dense.ptr()) }?;
        self.mark(2)?;
        // The status check synchronizes the stream.
        self.read_stats(0, set)?;
        self.finish_times(true)?;
        Ok(bytes)
    }

    /// Decodes every mask of `set`: `masks × height × width` bytes,
    /// row-major (`[m][y][x]`), 1 for foreground and 0 for background.
    pub fn decode(&mut self, set: &RleSet) -> Result<Vec<u8>> {
        let (ptr, bytes) = {
            let d = self.decode_device(set)?;
            (d.ptr(), d.bytes())
        };
        let mut out = vec![0u8; bytes];
        if bytes > 0 {
            // SAFETY: `ptr` holds `bytes` decoded bytes (the call above
            // synchronized the stream that wrote them).
            let r = unsafe { result::memcpy_dtoh_async(&mut out, ptr, self.stream) }
                .call("cuMemcpyDtoHAsync(dense)")
                .and_then(|()| sync(self.stream));
            self.settle(r)?;
        }
        Ok(out)
    }

    /// IoU and intersection of every pair of `a` and `b` (both of one size).
    pub fn iou(&mut self, a: &RleSet, b: &RleSet) -> Result<IouMatrix> {
        self.begin()?;
        let r = self.iou_on_stream(a, b);
        self.settle(r)
    }

    fn iou_on_stream(&mut self, a: &RleSet, b: &RleSet) -> Result<IouMatrix> {
        let (na, nb) = (a.len(), b.len());
        // Before the size check: an image without detections (an empty set,
        // whose size is unknown from COCO records) has no pairs with anything.
        if na == 0 || nb == 0 {
            return Ok(IouMatrix {
                iou: Array2::zeros((na, nb)),
                intersection: Array2::zeros((na, nb)),
            });
        }
        if a.size() != b.size() {
            return Err(Error::MaskSize {
                mask: 0,
                what: "size of set b (an IoU's two sets share one size)",
                expected_h: a.size().height,
                expected_w: a.size().width,
                got_h: b.size().height,
                got_w: b.size().width,
            });
        }
        let pa = self.upload(0, a)?;
        let pb = self.upload(1, b)?;
        self.mark(0)?;
        self.scan(&pa)?;
        self.scan(&pb)?;
        self.mark(1)?;
        let pairs = na * nb;
        self.ious.ensure(pairs * 8)?;
        self.inters.ensure(pairs * 4)?;
        self.poison(&self.ious, pairs * 8)?;
        self.poison(&self.inters, pairs * 4)?;
        // SAFETY: both sets were scanned before on this stream, their sizes
        // are equal (checked above), and the outputs hold `na * nb` values
        // (the contract of `launch::iou`).
        unsafe {
            launch::iou(
                self.iou,
                self.stream,
                &pa,
                &pb,
                self.ious.ptr(),
                self.inters.ptr(),
            )
        }?;
        self.mark(2)?;
        // Four copies, one synchronization; the statuses are checked before
        // any result is returned.
        let mut stats_a = vec![MaskStats::default(); na];
        let mut stats_b = vec![MaskStats::default(); nb];
        self.queue_stats(0, &mut stats_a)?;
        self.queue_stats(1, &mut stats_b)?;
        let mut iou = vec![0f64; pairs];
        let mut inter = vec![0u32; pairs];
        // SAFETY: both buffers hold `pairs` values written by the kernel;
        // the vectors stay in place until the sync below.
        unsafe {
            result::memcpy_dtoh_async(&mut iou, self.ious.ptr(), self.stream)
                .call("cuMemcpyDtoHAsync(iou)")?;
            result::memcpy_dtoh_async(&mut inter, self.inters.ptr(), self.stream)
                .call("cuMemcpyDtoHAsync(intersection)")?;
        }
        sync(self.stream)?;
        check_stats(a, &stats_a)?;
        check_stats(b, &stats_b)?;
        self.finish_times(true)?;
        Ok(IouMatrix {
            iou: Array2::from_shape_vec((na, nb), iou).expect("na * nb values"),
            intersection: Array2::from_shape_vec((na, nb), inter).expect("na * nb values"),
        })
    }
}

/// A non-zero status in a set's stats (the host checks make it unreachable)
/// is an error naming the mask.
fn check_stats(set: &RleSet, stats: &[MaskStats]) -> Result<()> {
    for (mask, s) in stats.iter().enumerate() {
        if s.status & (status::SUM_SHORT | status::SUM_LONG | status::BAD_OFFSETS) != 0 {
            return Err(Error::MaskInput {
                mask,
                what: "counts sum as the GPU saw it (height * width)",
                expected: u64::from(set.pixels()),
                got: s.sum,
            });
        }
    }
    Ok(())
}

impl Drop for MaskOps {
    fn drop(&mut self) {
        if self.ctx.bind_to_thread().is_ok() {
            // SAFETY: our own stream and module; the stream is drained
            // first, so no kernel of the module runs and no event is pending
            // when they go.
            unsafe {
                let _ = result::stream::synchronize(self.stream);
            }
            if let Some(e) = self.events.take() {
                e.destroy();
            }
            // SAFETY: as above; the stream was synchronized.
            unsafe {
                let _ = result::stream::destroy(self.stream);
                let _ = result::module::unload(self.module);
            }
        }
    }
}
