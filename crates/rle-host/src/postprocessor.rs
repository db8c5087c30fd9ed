//! [`Postprocessor`]: RF-DETR segmentation outputs in, detections with COCO RLE
//! masks out, on the GPU, identical to `rle_reference`.
//!
//! A frame is: one host→device copy of the parameter blob (and of the inputs,
//! when they come from host memory), six kernel launches (select, ROI, count,
//! reserve, write, copy-out), one stream synchronization,
//! then the host reads the results from mapped pinned memory.
//! Buffers grow on demand and are reused, so after warm-up a frame allocates
//! no device or pinned memory. If the COCO string arena turns out too small,
//! it grows and the reserve and write passes run again (a second
//! synchronization on that frame only).

use cudarc::driver::{result, sys};
use ndarray::{Array3, ShapeBuilder};
use rle_kernels::abi::{
    ChunkState, DetRecord, FrameCounters, MaskRoi, COUNTERS_RESET_BYTES, DEFAULT_CHUNK_PIXELS,
    MASK_ITEM_BUDGET,
};
use rle_reference::boxes::round_to_i32;
use rle_reference::{Batch, CocoRle, Detection, ImageMeta, ImageResult, MaskLogits, Options, Xyxy};

use crate::driver::{DeviceInfo, Gpu};
use crate::error::{DriverContext, Error, Result};
use crate::launch::{self, FrameBuffers};
use crate::memory::{DeviceBuffer, MappedHost};
use crate::params::{plan, FramePlan, Shapes};
use crate::profile::{KernelTimes, StageEvents};
use crate::tables::TableCache;

/// What to do when no usable GPU is found at creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fallback {
    /// Run the CPU path instead (`rle-cpu`: the same results as the reference,
    /// sparse and parallel, milliseconds per frame instead of microseconds).
    #[default]
    Cpu,
    /// Return the error.
    Error,
}

/// Creation options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Config {
    /// CUDA device ordinal.
    pub ordinal: usize,
    /// Policy when no GPU can be used.
    pub fallback: Fallback,
}

/// Model outputs already in device memory (e.g. TensorRT, ONNX Runtime or
/// PyTorch tensors): dense row-major buffers of the declared shapes.
#[derive(Clone, Copy, Debug)]
pub struct DeviceInputs {
    /// `B×Q×C` f32 logits.
    pub logits: sys::CUdeviceptr,
    /// `B×Q×4` f32 boxes.
    pub boxes: sys::CUdeviceptr,
    /// `B×Q×Mh×Mw` mask logits of `shapes.mask_dtype`.
    pub masks: sys::CUdeviceptr,
    /// Their shapes.
    pub shapes: Shapes,
}

const ALIGN: usize = 256;
const INITIAL_CHARS: usize = 1 << 20;

fn align(v: usize) -> usize {
    v.div_ceil(ALIGN) * ALIGN
}

/// The GPU side: device, stream and the reusable buffer pool.
#[derive(Debug)]
struct GpuState {
    gpu: Gpu,
    stream: sys::CUstream,
    tables: TableCache,
    blob: DeviceBuffer,
    staging: MappedHost,
    keys: DeviceBuffer,
    scores: DeviceBuffer,
    dets: DeviceBuffer,
    det_count: DeviceBuffer,
    counters: DeviceBuffer,
    chars: DeviceBuffer,
    rois: DeviceBuffer,
    chunks: DeviceBuffer,
    min_chunk_pixels: u32,
    out_dets: MappedHost,
    out_det_count: MappedHost,
    out_counters: MappedHost,
    out_chars: MappedHost,
    /// Events of profiled frames (`run_device_profiled`), made on first use.
    events: Option<StageEvents>,
}

#[derive(Debug)]
enum Backend {
    Gpu(Box<GpuState>),
    Cpu,
}

/// The post-processor. One per thread (it owns a stream and its buffers);
/// create several for several streams.
#[derive(Debug)]
pub struct Postprocessor {
    backend: Backend,
}

/// Where each part of the uploaded blob starts.
struct BlobLayout {
    thresholds: usize,
    mapping: usize,
    logits: usize,
    boxes: usize,
    masks: usize,
    end: usize,
}

impl BlobLayout {
    fn new(plan: &FramePlan, inputs: Option<(usize, usize, usize)>) -> Self {
        let images = std::mem::size_of_val(plan.images.as_slice());
        let thresholds = align(images);
        let mapping = thresholds + align(plan.thresholds.len() * 4);
        let logits = mapping + align(plan.mapping.len() * 4);
        let (l, b, m) = inputs.unwrap_or((0, 0, 0));
        let boxes = logits + align(l);
        let masks = boxes + align(b);
        Self {
            thresholds,
            mapping,
            logits,
            boxes,
            masks,
            end: masks + align(m),
        }
    }
}

/// Validates device-input shapes with the reference's own checks, by handing
/// it zero-stride views of the declared shapes (only shapes are inspected).
fn validate_shapes(s: &Shapes, metas: &[ImageMeta], opts: &Options) -> Result<()> {
    // Views need element counts that fit isize: refuse larger declared shapes first.
    s.check_sizes()?;
    let one = [0f32; 1];
    let v3 = |d: (usize, usize, usize)| ndarray::ArrayView3::from_shape(d.strides((0, 0, 0)), &one);
    let logits = v3((s.batch, s.queries, s.columns)).expect("zero strides fit any shape");
    let boxes = v3((s.batch, s.queries, 4)).expect("zero strides fit any shape");
    let masks = ndarray::ArrayView4::from_shape(
        (s.batch, s.queries, s.mask_h, s.mask_w).strides((0, 0, 0, 0)),
        &one,
    )
    .expect("zero strides fit any shape");
    let batch = Batch {
        logits,
        boxes,
        masks: MaskLogits::F32(masks),
    };
    rle_reference::validate(&batch, metas, opts)?;
    Ok(())
}

/// Checks that `[ptr, ptr + bytes)` lies inside one device allocation.
fn check_device_range(field: &'static str, ptr: sys::CUdeviceptr, bytes: usize) -> Result<()> {
    if ptr == 0 {
        return Err(Error::DevicePointer {
            field,
            reason: "null device pointer".into(),
        });
    }
    let (mut base, mut size) = (0, 0usize);
    // SAFETY: queries the allocation containing `ptr`; writes two values.
    let r = unsafe { sys::cuMemGetAddressRange_v2(&mut base, &mut size, ptr) }.result();
    r.map_err(|e| Error::DevicePointer {
        field,
        reason: format!("{ptr:#x} is not device memory of this context ({e})"),
    })?;
    let available = (base + size as u64).saturating_sub(ptr);
    if (bytes as u64) > available {
        return Err(Error::DevicePointer {
            field,
            reason: format!("the declared shape needs {bytes} bytes but only {available} remain in its allocation"),
        });
    }
    Ok(())
}

impl GpuState {
    fn new(ordinal: usize) -> Result<Self> {
        let gpu = Gpu::open(ordinal)?;
        let ctx = gpu.ctx.clone();
        let stream = result::stream::create(result::stream::StreamKind::NonBlocking)
            .call("cuStreamCreate")?;
        let d = || DeviceBuffer::empty(&ctx);
        let h = || MappedHost::empty(&ctx);
        Ok(Self {
            tables: TableCache::new(d(), d()),
            blob: d(),
            staging: h(),
            keys: d(),
            scores: d(),
            dets: d(),
            det_count: d(),
            counters: d(),
            chars: d(),
            rois: d(),
            chunks: d(),
            min_chunk_pixels: DEFAULT_CHUNK_PIXELS,
            out_dets: h(),
            out_det_count: h(),
            out_counters: h(),
            out_chars: h(),
            events: None,
            gpu,
            stream,
        })
    }

    /// Sizes every buffer for this frame (growth only happens while the
    /// stream is idle: the previous frame ended with a synchronization).
    fn reserve(&mut self, p: &FramePlan, blob: usize, scores: bool) -> Result<()> {
        let f = &p.frame;
        let entries = f.batch as usize * f.queries as usize * f.columns as usize;
        let slots = f.batch as usize * f.queries as usize;
        self.blob.ensure(blob)?;
        self.staging.ensure(blob)?;
        self.keys.ensure(entries * 4)?;
        if scores {
            self.scores.ensure(entries * 4)?;
        }
        self.dets.ensure(slots * size_of::<DetRecord>())?;
        self.rois.ensure(slots * size_of::<MaskRoi>())?;
        // A frame has at most MASK_ITEM_BUDGET items plus one per detection
        // (rle_kernels::chunks::chunk_pixels).
        self.chunks
            .ensure((MASK_ITEM_BUDGET as usize + slots) * size_of::<ChunkState>())?;
        self.out_dets.ensure(slots * size_of::<DetRecord>())?;
        self.det_count.ensure(f.batch as usize * 4)?;
        self.out_det_count.ensure(f.batch as usize * 4)?;
        self.counters.ensure(size_of::<FrameCounters>())?;
        self.out_counters.ensure(size_of::<FrameCounters>())?;
        self.chars.ensure(INITIAL_CHARS)?;
        self.out_chars.ensure(self.chars.bytes())?;
        Ok(())
    }

    fn buffers(&self, layout: &BlobLayout, inputs: (u64, u64, u64)) -> FrameBuffers {
        let blob = self.blob.ptr();
        FrameBuffers {
            images: blob,
            thresholds: blob + layout.thresholds as u64,
            mapping: blob + layout.mapping as u64,
            logits: inputs.0,
            boxes: inputs.1,
            masks: inputs.2,
            keys: self.keys.ptr(),
            scores: self.scores.ptr(),
            dets: self.dets.ptr(),
            det_count: self.det_count.ptr(),
            counters: self.counters.ptr(),
            chars: self.chars.ptr(),
            rois: self.rois.ptr(),
            chunks: self.chunks.ptr(),
            spans: self.tables.dev_spans.ptr(),
            weights: self.tables.dev_weights.ptr(),
            host_dets: self.out_dets.dev(),
            host_det_count: self.out_det_count.dev(),
            host_counters: self.out_counters.dev(),
            host_chars: self.out_chars.dev(),
        }
    }

    fn sync(&self, stream: sys::CUstream) -> Result<()> {
        // SAFETY: a stream of our context.
        unsafe { result::stream::synchronize(stream) }.call("cuStreamSynchronize")
    }

    fn counters_now(&self) -> FrameCounters {
        let raw = self.out_counters.bytes(size_of::<FrameCounters>());
        // SAFETY: FrameCounters is plain data and `raw` holds one (unaligned read).
        unsafe { std::ptr::read_unaligned(raw.as_ptr().cast::<FrameCounters>()) }
    }

    /// Runs a planned frame whose blob is staged; inputs are device addresses.
    /// With `profile`, CUDA events around each launch time the kernels.
    fn execute(
        &mut self,
        plan: &mut FramePlan,
        layout: &BlobLayout,
        inputs: (u64, u64, u64),
        stream: sys::CUstream,
        profile: bool,
    ) -> Result<(Vec<ImageResult>, Option<KernelTimes>)> {
        if profile && self.events.is_none() {
            self.events = Some(StageEvents::new()?);
        }
        let events = if profile { self.events.as_ref() } else { None };
        let mark = |i: usize| events.map_or(Ok(()), |e| e.mark(i, stream));
        self.tables.upload(stream)?;
        plan.frame.chars_capacity = self.chars.bytes().min(u32::MAX as usize) as u32;
        plan.frame.min_chunk_pixels = self.min_chunk_pixels;
        // SAFETY: staging and blob hold `layout.end` bytes (reserve).
        unsafe {
            let src = std::slice::from_raw_parts(self.staging.host_ptr().cast::<u8>(), layout.end);
            result::memcpy_htod_async(self.blob.ptr(), src, stream)
                .call("cuMemcpyHtoDAsync(frame)")?;
        }
        let mut bufs = self.buffers(layout, inputs);
        // SAFETY: every buffer was sized by `reserve` for `plan.frame`; the
        // inputs were validated (host path: our staging; device path:
        // `check_device_range`); the stream is synchronized before reading.
        unsafe {
            mark(0)?;
            launch::select(&self.gpu, stream, &plan.frame, &bufs)?;
            mark(1)?;
            launch::mask_roi(&self.gpu, stream, &plan.frame, &bufs)?;
            mark(2)?;
            launch::mask_count(&self.gpu, stream, &plan.frame, &bufs)?;
            mark(3)?;
            launch::mask_reserve(&self.gpu, stream, &plan.frame, &bufs)?;
            mark(4)?;
            launch::mask_write(&self.gpu, stream, &plan.frame, &bufs)?;
            mark(5)?;
            launch::copy_out(&self.gpu, stream, &plan.frame, &bufs)?;
            mark(6)?;
        }
        self.sync(stream)?;
        let times = events.map(StageEvents::times).transpose()?;
        let c = self.counters_now();
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
            self.chars.ensure(need)?;
            self.out_chars.ensure(self.chars.bytes())?;
            plan.frame.chars_capacity = self.chars.bytes().min(u32::MAX as usize) as u32;
            bufs = self.buffers(layout, inputs);
            // SAFETY: as above; the arena counters are reset before the rerun
            // (the item plan after them stays).
            unsafe {
                result::memset_d8_async(self.counters.ptr(), 0, COUNTERS_RESET_BYTES, stream)
                    .call("cuMemsetD8Async")?;
                launch::mask_reserve(&self.gpu, stream, &plan.frame, &bufs)?;
                launch::mask_write(&self.gpu, stream, &plan.frame, &bufs)?;
                launch::copy_out(&self.gpu, stream, &plan.frame, &bufs)?;
            }
            self.sync(stream)?;
            let again = self.counters_now();
            if again.overflowed > 0 {
                // Cannot happen (the rerun needs exactly the bytes just
                // counted), but never slice past what the kernels wrote.
                return Err(Error::Limit {
                    what: "COCO string arena after growing (bytes)".into(),
                    limit: self.chars.bytes() as u64,
                    got: again.chars_used,
                });
            }
        }
        Ok((self.assemble(plan), times))
    }

    /// Builds the results from the mapped output buffers.
    fn assemble(&self, plan: &FramePlan) -> Vec<ImageResult> {
        let f = &plan.frame;
        let c = self.counters_now();
        let counts = self.out_det_count.bytes(f.batch as usize * 4);
        let dets_raw = self
            .out_dets
            .bytes(f.batch as usize * f.queries as usize * size_of::<DetRecord>());
        let chars = self
            .out_chars
            .bytes((c.chars_used as usize).min(self.chars.bytes()));
        (0..f.batch as usize)
            .map(|b| {
                let n = u32::from_le_bytes(counts[b * 4..b * 4 + 4].try_into().expect("4 bytes"))
                    as usize;
                let detections = (0..n.min(f.queries as usize))
                    .map(|i| {
                        let at = (b * f.queries as usize + i) * size_of::<DetRecord>();
                        // SAFETY: DetRecord is plain data; `at` is in bounds.
                        let d: DetRecord =
                            unsafe { std::ptr::read_unaligned(dets_raw[at..].as_ptr().cast()) };
                        let (o, l) = (d.chars_offset as usize, d.chars_len as usize);
                        Detection {
                            query: d.query,
                            column: d.column,
                            class_id: d.class_id,
                            score: f32::from_bits(d.score_bits),
                            xyxy: {
                                // The kernel leaves the clamped floats; rounding
                                // them here is the same operation on the same bits.
                                let v = d.xyxy_bits.map(f32::from_bits);
                                if plan.int_boxes[b] {
                                    Xyxy::Int(v.map(round_to_i32))
                                } else {
                                    Xyxy::F32(v)
                                }
                            },
                            mask: CocoRle {
                                size: plan.mask_sizes[b],
                                counts: chars[o..o + l].to_vec(),
                            },
                        }
                    })
                    .collect();
                ImageResult {
                    image_size: plan.image_sizes[b],
                    mask_size: plan.mask_sizes[b],
                    detections,
                    near_decisions: Vec::new(),
                }
            })
            .collect()
    }

    fn read_scores(&self, s: &Shapes) -> Result<Array3<f32>> {
        let mut v = vec![0f32; s.batch * s.queries * s.columns];
        // SAFETY: the scores buffer holds this many floats (reserve), and the
        // stream that wrote them was synchronized.
        unsafe { result::memcpy_dtoh_sync(&mut v, self.scores.ptr()) }
            .call("cuMemcpyDtoH(scores)")?;
        Ok(Array3::from_shape_vec((s.batch, s.queries, s.columns), v)
            .expect("length matches the shape"))
    }
}

impl Drop for GpuState {
    fn drop(&mut self) {
        if self.gpu.ctx.bind_to_thread().is_ok() {
            // SAFETY: our own stream; nothing of ours runs on it after a frame.
            unsafe {
                let _ = result::stream::synchronize(self.stream);
                let _ = result::stream::destroy(self.stream);
            }
            if let Some(e) = self.events.take() {
                e.destroy();
            }
        }
    }
}

// SAFETY: the stream and buffers are owned; `&mut self` serializes their use.
unsafe impl Send for GpuState {}

/// Copies an ndarray view into `dst` in logical (row-major) order.
fn stage<T: Copy>(staging: &mut MappedHost, offset: usize, view: ndarray::ArrayViewD<'_, T>) {
    if let Some(s) = view.as_slice() {
        staging.write(offset, s);
    } else {
        let v: Vec<T> = view.iter().copied().collect();
        staging.write(offset, &v);
    }
}

impl Postprocessor {
    /// Opens the device and loads the kernels, or falls back per `config`.
    pub fn new(config: Config) -> Result<Self> {
        match GpuState::new(config.ordinal) {
            Ok(g) => Ok(Self {
                backend: Backend::Gpu(Box::new(g)),
            }),
            Err(e @ (Error::NoDriver | Error::NoDevice { .. }))
                if config.fallback == Fallback::Cpu =>
            {
                let _ = e;
                Ok(Self {
                    backend: Backend::Cpu,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// A post-processor that always runs on the CPU (`rle-cpu`, equal to the reference).
    pub fn cpu() -> Self {
        Self {
            backend: Backend::Cpu,
        }
    }

    /// Whether frames run on the GPU.
    pub fn is_gpu(&self) -> bool {
        matches!(self.backend, Backend::Gpu(_))
    }

    /// The device, when running on the GPU.
    pub fn device_info(&self) -> Option<&DeviceInfo> {
        match &self.backend {
            Backend::Gpu(g) => Some(&g.gpu.info),
            Backend::Cpu => None,
        }
    }

    /// Fills every device buffer and mapped output buffer with the byte
    /// `0xA5`, so a test can prove that results were written by this frame and
    /// not left over from an earlier one. Test support; costs a synchronization.
    #[doc(hidden)]
    pub fn poison_buffers(&mut self) -> Result<()> {
        let Backend::Gpu(g) = &mut self.backend else {
            return Ok(());
        };
        g.gpu.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        for d in [
            &g.keys,
            &g.scores,
            &g.dets,
            &g.det_count,
            &g.counters,
            &g.chars,
            &g.rois,
            &g.chunks,
            &g.blob,
        ] {
            if d.bytes() > 0 {
                // SAFETY: fills our own allocation of that many bytes.
                unsafe { result::memset_d8_async(d.ptr(), 0xA5, d.bytes(), g.stream) }
                    .call("cuMemsetD8Async(poison)")?;
            }
        }
        g.sync(g.stream)?;
        for h in [
            &mut g.out_dets,
            &mut g.out_det_count,
            &mut g.out_counters,
            &mut g.out_chars,
        ] {
            let n = h.capacity();
            h.write(0, &vec![0xA5u8; n]);
        }
        Ok(())
    }

    /// Sets the smallest chunk of ROI pixels one block of the mask kernels
    /// walks (default [`DEFAULT_CHUNK_PIXELS`]; values below 1 count as 1).
    /// Results never depend on it, only the split of the work does: small
    /// values put chunk boundaries everywhere, which tests use to check the
    /// chaining of chunks. A frame is still split into at most
    /// `MASK_ITEM_BUDGET` items plus one per detection. No effect on the CPU
    /// backend.
    pub fn set_min_chunk_pixels(&mut self, pixels: u32) {
        if let Backend::Gpu(g) = &mut self.backend {
            g.min_chunk_pixels = pixels.max(1);
        }
    }

    /// Copies a host batch into device memory owned by the returned value
    /// (for benchmarks and tests of the device-input path).
    pub fn upload(&self, batch: &Batch) -> Result<crate::DeviceBatch> {
        match &self.backend {
            Backend::Gpu(g) => crate::DeviceBatch::new(&g.gpu.ctx, batch),
            Backend::Cpu => Err(Error::DevicePointer {
                field: "batch",
                reason: "uploading needs a GPU, and this post-processor runs on the CPU".into(),
            }),
        }
    }

    /// Post-processes a batch held in host memory.
    pub fn run(
        &mut self,
        batch: &Batch,
        metas: &[ImageMeta],
        opts: &Options,
    ) -> Result<Vec<ImageResult>> {
        self.run_host(batch, metas, opts, false).map(|(r, _)| r)
    }

    /// Like [`run`](Self::run) but also returns every sigmoid score the GPU
    /// computed (`B×Q×C`), for bit-exact comparisons. Costs an extra copy.
    pub fn run_with_scores(
        &mut self,
        batch: &Batch,
        metas: &[ImageMeta],
        opts: &Options,
    ) -> Result<(Vec<ImageResult>, Option<Array3<f32>>)> {
        self.run_host(batch, metas, opts, true)
    }

    fn run_host(
        &mut self,
        batch: &Batch,
        metas: &[ImageMeta],
        opts: &Options,
        scores: bool,
    ) -> Result<(Vec<ImageResult>, Option<Array3<f32>>)> {
        rle_reference::validate(batch, metas, opts)?;
        let g = match &mut self.backend {
            Backend::Cpu => return Ok((rle_cpu::postprocess(batch, metas, opts)?, None)),
            Backend::Gpu(g) => g,
        };
        let s = Shapes::of(batch);
        let mut plan = plan(&s, metas, opts, &mut g.tables, 0, scores)?;
        let sizes = (
            batch.logits.len() * 4,
            batch.boxes.len() * 4,
            batch.logits.len() / s.columns * s.mask_h * s.mask_w * s.mask_dtype.size(),
        );
        let layout = BlobLayout::new(&plan, Some(sizes));
        g.reserve(&plan, layout.end, scores)?;
        stage_params(&mut g.staging, &plan, &layout);
        stage(&mut g.staging, layout.logits, batch.logits.into_dyn());
        stage(&mut g.staging, layout.boxes, batch.boxes.into_dyn());
        match batch.masks {
            MaskLogits::F32(m) => stage(&mut g.staging, layout.masks, m.into_dyn()),
            MaskLogits::F16(m) => stage(&mut g.staging, layout.masks, m.into_dyn()),
            MaskLogits::Bf16(m) => stage(&mut g.staging, layout.masks, m.into_dyn()),
        }
        let base = g.blob.ptr();
        let inputs = (
            base + layout.logits as u64,
            base + layout.boxes as u64,
            base + layout.masks as u64,
        );
        let stream = g.stream;
        let (results, _) = g.execute(&mut plan, &layout, inputs, stream, false)?;
        let sc = if scores {
            Some(g.read_scores(&s)?)
        } else {
            None
        };
        Ok((results, sc))
    }

    /// Post-processes a batch already in device memory, on `stream` (the
    /// post-processor's own stream when `None`). Zero-copy: the kernels read
    /// the caller's buffers directly.
    ///
    /// # Safety
    /// The device buffers must hold initialized data of the declared shapes and
    /// must not be written until this call returns; `stream` must belong to
    /// this post-processor's context. Null pointers and buffers shorter than the
    /// shapes are detected and rejected.
    pub unsafe fn run_device(
        &mut self,
        inputs: &DeviceInputs,
        stream: Option<sys::CUstream>,
        metas: &[ImageMeta],
        opts: &Options,
    ) -> Result<Vec<ImageResult>> {
        // SAFETY: the caller's contract is this function's.
        unsafe { self.device_frame(inputs, stream, metas, opts, false) }.map(|(r, _)| r)
    }

    /// [`run_device`](Self::run_device), also returning each kernel's GPU
    /// time ([`KernelTimes`], from CUDA events between the launches). For
    /// profiling and the per-kernel benchmarks; recording and reading the
    /// seven events adds host and GPU work to the frame, so latency is
    /// measured on [`run_device`](Self::run_device).
    ///
    /// # Safety
    /// As for [`run_device`](Self::run_device).
    pub unsafe fn run_device_profiled(
        &mut self,
        inputs: &DeviceInputs,
        stream: Option<sys::CUstream>,
        metas: &[ImageMeta],
        opts: &Options,
    ) -> Result<(Vec<ImageResult>, KernelTimes)> {
        // SAFETY: the caller's contract is this function's.
        let (results, times) = unsafe { self.device_frame(inputs, stream, metas, opts, true) }?;
        // `execute` returns times whenever asked to profile.
        Ok((results, times.unwrap_or_default()))
    }

    /// The device-input frame of both entry points above.
    ///
    /// # Safety
    /// As for [`run_device`](Self::run_device).
    unsafe fn device_frame(
        &mut self,
        inputs: &DeviceInputs,
        stream: Option<sys::CUstream>,
        metas: &[ImageMeta],
        opts: &Options,
        profile: bool,
    ) -> Result<(Vec<ImageResult>, Option<KernelTimes>)> {
        let s = inputs.shapes;
        validate_shapes(&s, metas, opts)?;
        let g = match &mut self.backend {
            Backend::Cpu => {
                return Err(Error::DevicePointer {
                    field: "inputs",
                    reason: "device inputs need a GPU, and this post-processor runs on the CPU"
                        .into(),
                })
            }
            Backend::Gpu(g) => g,
        };
        g.gpu.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        let slots = s.batch * s.queries;
        check_device_range("inputs.logits", inputs.logits, slots * s.columns * 4)?;
        check_device_range("inputs.boxes", inputs.boxes, slots * 16)?;
        check_device_range(
            "inputs.masks",
            inputs.masks,
            slots * s.mask_h * s.mask_w * s.mask_dtype.size(),
        )?;
        let mut plan = plan(&s, metas, opts, &mut g.tables, 0, false)?;
        let layout = BlobLayout::new(&plan, None);
        g.reserve(&plan, layout.end, false)?;
        stage_params(&mut g.staging, &plan, &layout);
        let stream = stream.unwrap_or(g.stream);
        g.execute(
            &mut plan,
            &layout,
            (inputs.logits, inputs.boxes, inputs.masks),
            stream,
            profile,
        )
    }
}

fn stage_params(staging: &mut MappedHost, plan: &FramePlan, layout: &BlobLayout) {
    staging.write(0, &plan.images);
    staging.write(layout.thresholds, &plan.thresholds);
    staging.write(layout.mapping, &plan.mapping);
}

// A post-processor moves between threads with its stream and buffers.
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<Postprocessor>();
};
