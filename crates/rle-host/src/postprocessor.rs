//! [`Postprocessor`]: RF-DETR segmentation outputs in, detections with COCO RLE
//! masks out, on the GPU, identical to `rle_reference`.
//!
//! A frame is: one host→device copy of the parameter blob (and of the inputs,
//! when they come from host memory), four kernel launches (select with the
//! ROIs, count, reserve, write; the last two write the results into mapped
//! pinned memory themselves) and one wait for the frame's completion event;
//! then the host reads the results from that memory (`frame.rs`).
//! Each frame in flight owns a slot of buffers (`frame_slot.rs`), so up to
//! [`Config::max_in_flight`] frames can be enqueued with
//! [`Postprocessor::submit_device`] before any is collected. If the COCO string
//! arena turns out too small, it grows and the reserve and write passes run
//! again (a second synchronization on that frame only).

use std::collections::HashMap;

use cudarc::driver::{result, sys};
use ndarray::{Array3, ShapeBuilder};
use rle_reference::{Batch, ImageMeta, ImageResult, MaskLogits, Options};

use crate::driver::{DeviceInfo, Gpu};
use crate::error::{DriverContext, Error, Result};
use crate::frame::{self, FrameInputs, Launch, Pending};
use crate::frame_slot::{BlobLayout, ChunkPaths, FrameSlot};
use crate::handles::{DevicePtr, EventHandle, StreamHandle};
use crate::memory::MappedHost;
use crate::params::{plan, FramePlan, MaskDtype, Shapes};
use crate::profile::{KernelTimes, StageEvents};
use rle_kernels::abi::{
    FrameCounters, DEFAULT_CHUNK_PIXELS, DEFAULT_CHUNK_STORE_BYTES, DEFAULT_ITEM_BUDGET,
    DEFAULT_MAX_CHUNK_PIXELS, DEFAULT_WIDE_EVENTS, MASK_ITEM_BUDGET, MAX_CHUNK_STORE_BYTES,
    RESERVE_THREADS, WIDE_EVENT_CAP,
};

/// Rounds of the item passes' grid the default item target asks for
/// ([`Postprocessor::set_item_target`]): one, so a 1080p frame's chunks are
/// a few thousand pixels (one wide tile each, every block busy) and a large
/// frame's at most one wide tile each (`set_max_chunk_pixels`). Measured on the H200 against two and
/// three rounds (docs/BENCHMARKS.md, "Issue 13, fifth round"): one was as
/// fast or faster on every configuration.
pub const ITEM_ROUNDS: u32 = 1;

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

/// Frames one post-processor keeps in flight by default: a depth-2
/// pipeline (inference-models' stream pipeline) plus one being collected.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 3;

/// Creation options.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// CUDA device ordinal.
    pub ordinal: usize,
    /// Policy when no GPU can be used.
    pub fallback: Fallback,
    /// Frames [`Postprocessor::submit_device`] may have in flight (each owns
    /// a slot of device and pinned buffers); at least 1. A submit beyond it
    /// first waits for the oldest frame and keeps its results for its ticket.
    pub max_in_flight: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ordinal: 0,
            fallback: Fallback::Cpu,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// Model outputs already in device memory (e.g. TensorRT, ONNX Runtime or
/// PyTorch tensors): dense row-major buffers of the declared shapes.
#[derive(Clone, Copy, Debug)]
pub struct DeviceInputs {
    /// `B×Q×C` logits of `logits_dtype`.
    pub logits: DevicePtr,
    /// `B×Q×4` boxes of `boxes_dtype`.
    pub boxes: DevicePtr,
    /// `B×Q×Mh×Mw` mask logits of `shapes.mask_dtype`.
    pub masks: DevicePtr,
    /// Their shapes.
    pub shapes: Shapes,
    /// Element type of the logits: f16 and bf16 are widened exactly to f32
    /// on the device before the select kernel.
    pub logits_dtype: MaskDtype,
    /// Element type of the boxes (widened like the logits).
    pub boxes_dtype: MaskDtype,
}

impl DeviceInputs {
    /// f32 logits and boxes, masks of `shapes.mask_dtype`.
    pub fn f32(logits: DevicePtr, boxes: DevicePtr, masks: DevicePtr, shapes: Shapes) -> Self {
        Self {
            logits,
            boxes,
            masks,
            shapes,
            logits_dtype: MaskDtype::F32,
            boxes_dtype: MaskDtype::F32,
        }
    }
}

/// A frame enqueued by [`Postprocessor::submit_device`]; give it back to
/// [`Postprocessor::collect`] (or [`Postprocessor::discard`]) on the same
/// post-processor.
#[derive(Debug, PartialEq, Eq, Hash)]
#[must_use = "a submitted frame's results are only returned by `collect`"]
pub struct Ticket(u64);

impl Ticket {
    /// The ticket's number (unique per post-processor, increasing).
    pub fn id(&self) -> u64 {
        self.0
    }
}

/// Where a frame's inputs come from.
#[derive(Clone, Copy)]
enum Source<'a, 'b> {
    /// A host batch, staged into the slot's blob.
    Host(&'a Batch<'b>),
    /// Caller device memory, read in place.
    Device(&'a DeviceInputs),
}

impl Source<'_, '_> {
    fn shapes(&self) -> Shapes {
        match self {
            Source::Host(b) => Shapes::of(b),
            Source::Device(d) => d.shapes,
        }
    }
}

/// What a frame is asked for besides its results.
#[derive(Clone, Copy, Debug, Default)]
struct Asks {
    /// Time each kernel with events.
    profile: bool,
    /// Keep every sigmoid score for `read_scores`.
    scores: bool,
    /// Record this event once the kernels stop reading the inputs.
    inputs_consumed: Option<EventHandle>,
}

/// What a slot holds.
#[derive(Debug)]
enum SlotState {
    Free,
    InFlight { ticket: u64, pending: Box<Pending> },
}

/// The GPU side: device, own stream, the slots and the frames in flight.
#[derive(Debug)]
struct GpuState {
    gpu: Gpu,
    stream: sys::CUstream,
    slots: Vec<(FrameSlot, SlotState)>,
    max_in_flight: usize,
    /// Results of frames finished early (all slots were busy at a submit).
    parked: HashMap<u64, Result<Vec<ImageResult>>>,
    next_ticket: u64,
    min_chunk_pixels: u32,
    /// Bytes of the chunk store per item (`FrameParams::chunk_store_bytes`).
    chunk_store_bytes: u32,
    /// Items the mask plan may make (`FrameParams::item_budget`).
    item_budget: u32,
    /// Items it aims at (`FrameParams::item_target`); `None`: the item
    /// passes' grid.
    item_target: Option<u32>,
    /// Largest chunk the target asks for (`FrameParams::max_chunk_pixels`).
    max_chunk_pixels: u32,
    /// Whether the item passes take items from a queue (`set_item_queue`).
    item_queue: bool,
    /// Whether the count and write passes may decide uniform groups without
    /// evaluating them (`set_uniform_groups`).
    uniform_groups: bool,
    /// Whether the query blocks find ROIs beside the selection
    /// (`set_early_rois`; `FrameParams::early_rois`).
    early_rois: bool,
    /// Events a wide tile of the mask passes encodes at once
    /// (`set_wide_events`; `FrameParams::wide_events`).
    wide_events: u32,
    /// Whether the item passes are launched programmatically where the
    /// module allows (`set_programmatic_launch`).
    programmatic: bool,
    /// The slot of the last frame a synchronous call (`run*`) finished.
    last_run_slot: Option<usize>,
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
fn check_device_range(field: &'static str, ptr: DevicePtr, bytes: usize) -> Result<()> {
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

/// Copies an ndarray view into `dst` in logical (row-major) order.
fn stage<T: Copy>(staging: &mut MappedHost, offset: usize, view: ndarray::ArrayViewD<'_, T>) {
    if let Some(s) = view.as_slice() {
        staging.write(offset, s);
    } else {
        let v: Vec<T> = view.iter().copied().collect();
        staging.write(offset, &v);
    }
}

fn stage_params(staging: &mut MappedHost, plan: &FramePlan, layout: &BlobLayout) {
    staging.write(0, &plan.images);
    staging.write(layout.thresholds, &plan.thresholds);
    staging.write(layout.mapping, &plan.mapping);
    // Zeroed counters every frame: the kernels count into them at once.
    staging.write(layout.counters, &[FrameCounters::default()]);
}

impl GpuState {
    fn new(config: &Config) -> Result<Self> {
        let gpu = Gpu::open(config.ordinal)?;
        let stream = result::stream::create(result::stream::StreamKind::NonBlocking)
            .call("cuStreamCreate")?;
        Ok(Self {
            gpu,
            stream,
            slots: Vec::new(),
            max_in_flight: config.max_in_flight.max(1),
            parked: HashMap::new(),
            next_ticket: 0,
            min_chunk_pixels: DEFAULT_CHUNK_PIXELS,
            chunk_store_bytes: DEFAULT_CHUNK_STORE_BYTES,
            uniform_groups: true,
            early_rois: true,
            wide_events: DEFAULT_WIDE_EVENTS,
            programmatic: true,
            item_budget: DEFAULT_ITEM_BUDGET,
            item_target: None,
            max_chunk_pixels: DEFAULT_MAX_CHUNK_PIXELS,
            item_queue: true,
            last_run_slot: None,
            events: None,
        })
    }

    fn in_flight(&self) -> usize {
        self.slots
            .iter()
            .filter(|(_, st)| matches!(st, SlotState::InFlight { .. }))
            .count()
    }

    /// A free slot: an idle one, a new one while under the limit, or the
    /// oldest frame's, finished and parked for its ticket.
    fn acquire(&mut self) -> Result<usize> {
        if let Some(i) = self
            .slots
            .iter()
            .position(|(_, st)| matches!(st, SlotState::Free))
        {
            return Ok(i);
        }
        if self.slots.len() < self.max_in_flight {
            self.slots
                .push((FrameSlot::new(&self.gpu.ctx)?, SlotState::Free));
            return Ok(self.slots.len() - 1);
        }
        let oldest = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, (_, st))| match st {
                SlotState::InFlight { ticket, .. } => Some((*ticket, i)),
                SlotState::Free => None,
            })
            .min()
            .map(|(_, i)| i)
            .expect("every slot is in flight");
        let (ticket, results) = self.finish_slot(oldest)?;
        self.parked.insert(ticket, results);
        Ok(oldest)
    }

    /// Waits for slot `i`'s frame; frees the slot.
    fn finish_slot(&mut self, i: usize) -> Result<(u64, Result<Vec<ImageResult>>)> {
        let (slot, st) = &mut self.slots[i];
        let SlotState::InFlight { ticket, pending } = std::mem::replace(st, SlotState::Free) else {
            unreachable!("finish_slot on a free slot")
        };
        Ok((
            ticket,
            frame::finish(&self.gpu, slot, *pending, self.stream),
        ))
    }

    /// Plans, stages and launches a frame into slot `i`.
    ///
    /// # Safety
    /// As for [`frame::enqueue`] (host sources are staged into the slot).
    unsafe fn launch(
        &mut self,
        i: usize,
        src: Source<'_, '_>,
        metas: &[ImageMeta],
        opts: &Options,
        stream: sys::CUstream,
        asks: Asks,
    ) -> Result<u64> {
        self.gpu.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        if asks.profile && self.events.is_none() {
            self.events = Some(StageEvents::new()?);
        }
        let s = src.shapes();
        let slot = &mut self.slots[i].0;
        let mut plan = plan(&s, metas, opts, &mut slot.tables, 0, asks.scores)?;
        plan.frame.chunk_store_bytes = self.chunk_store_bytes;
        plan.frame.item_budget = self.item_budget;
        plan.frame.item_target = self
            .item_target
            .unwrap_or(self.gpu.item_blocks.saturating_mul(ITEM_ROUNDS));
        plan.frame.max_chunk_pixels = self.max_chunk_pixels;
        plan.frame.item_queue = u32::from(self.item_queue);
        plan.frame.early_rois = u32::from(self.early_rois);
        plan.frame.wide_events = self.wide_events;
        if !self.uniform_groups {
            // NaN turns the shortcut off for the image (`uniform::shortcuts_allowed`).
            plan.images.iter_mut().for_each(|im| im.fg_bound = f32::NAN);
        }
        let mask_bytes = s.batch * s.queries * s.mask_h * s.mask_w * s.mask_dtype.size();
        let host_sizes = match src {
            Source::Host(b) => Some((b.logits.len() * 4, b.boxes.len() * 4, mask_bytes)),
            Source::Device(_) => None,
        };
        let layout = BlobLayout::new(&plan, host_sizes);
        slot.reserve(&plan, layout.end, asks.scores)?;
        stage_params(&mut slot.staging, &plan, &layout);
        let inputs = match src {
            Source::Host(batch) => {
                stage(&mut slot.staging, layout.logits, batch.logits.into_dyn());
                stage(&mut slot.staging, layout.boxes, batch.boxes.into_dyn());
                match batch.masks {
                    MaskLogits::F32(m) => stage(&mut slot.staging, layout.masks, m.into_dyn()),
                    MaskLogits::F16(m) => stage(&mut slot.staging, layout.masks, m.into_dyn()),
                    MaskLogits::Bf16(m) => stage(&mut slot.staging, layout.masks, m.into_dyn()),
                }
                let base = slot.blob.ptr();
                FrameInputs {
                    logits: base + layout.logits as u64,
                    boxes: base + layout.boxes as u64,
                    masks: base + layout.masks as u64,
                    logits_dtype: MaskDtype::F32,
                    boxes_dtype: MaskDtype::F32,
                    logits_len: batch.logits.len(),
                    boxes_len: batch.boxes.len(),
                    masks_bytes: mask_bytes,
                }
            }
            Source::Device(d) => FrameInputs {
                logits: d.logits,
                boxes: d.boxes,
                masks: d.masks,
                logits_dtype: d.logits_dtype,
                boxes_dtype: d.boxes_dtype,
                logits_len: s.batch * s.queries * s.columns,
                boxes_len: s.batch * s.queries * 4,
                masks_bytes: mask_bytes,
            },
        };
        let how = Launch {
            stream,
            profile: if asks.profile {
                self.events.as_ref()
            } else {
                None
            },
            inputs_consumed: asks.inputs_consumed,
            min_chunk_pixels: self.min_chunk_pixels,
            programmatic: self.programmatic,
        };
        // SAFETY: the caller's contract; the slot was just sized for the plan.
        let pending = match unsafe { frame::enqueue(&self.gpu, slot, plan, layout, inputs, how) } {
            Ok(p) => p,
            Err(e) => {
                // Part of the frame may be queued: let it drain before the
                // slot's buffers are reused (best effort: the stream itself
                // may be what failed).
                // SAFETY: a stream the caller vouched for.
                let _ = unsafe { result::stream::synchronize(stream) };
                return Err(e);
            }
        };
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.slots[i].1 = SlotState::InFlight {
            ticket,
            pending: Box::new(pending),
        };
        Ok(ticket)
    }

    /// Launches into a fresh slot and waits: the synchronous entry points.
    /// Returns the slot too (for `read_scores`).
    ///
    /// # Safety
    /// As for [`GpuState::launch`].
    unsafe fn run_now(
        &mut self,
        src: Source<'_, '_>,
        metas: &[ImageMeta],
        opts: &Options,
        stream: sys::CUstream,
        asks: Asks,
    ) -> Result<(Vec<ImageResult>, Option<KernelTimes>, usize)> {
        let i = self.acquire()?;
        // SAFETY: the caller's contract.
        unsafe { self.launch(i, src, metas, opts, stream, asks) }?;
        let (_, results) = self.finish_slot(i)?;
        self.last_run_slot = Some(i);
        let results = results?;
        let times = match (&self.events, asks.profile) {
            (Some(e), true) => Some(e.times()?),
            _ => None,
        };
        Ok((results, times, i))
    }

    /// Validates device inputs against the shapes and this context.
    fn check_inputs(&self, inputs: &DeviceInputs) -> Result<()> {
        self.gpu.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        let s = inputs.shapes;
        let slots = s.batch * s.queries;
        check_device_range(
            "inputs.logits",
            inputs.logits,
            slots * s.columns * inputs.logits_dtype.size(),
        )?;
        check_device_range(
            "inputs.boxes",
            inputs.boxes,
            slots * 4 * inputs.boxes_dtype.size(),
        )?;
        check_device_range(
            "inputs.masks",
            inputs.masks,
            slots * s.mask_h * s.mask_w * s.mask_dtype.size(),
        )
    }
}

impl Drop for GpuState {
    fn drop(&mut self) {
        if self.gpu.ctx.bind_to_thread().is_ok() {
            // SAFETY: our own events and stream. Frames still in flight (on
            // callers' streams) are waited for before their buffers go.
            unsafe {
                for (slot, st) in &self.slots {
                    if matches!(st, SlotState::InFlight { .. }) {
                        let _ = result::event::synchronize(slot.done);
                    }
                }
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

impl Postprocessor {
    /// Opens the device and loads the kernels, or falls back per `config`.
    pub fn new(config: Config) -> Result<Self> {
        match GpuState::new(&config) {
            Ok(g) => Ok(Self {
                backend: Backend::Gpu(Box::new(g)),
            }),
            Err(Error::NoDriver | Error::NoDevice { .. }) if config.fallback == Fallback::Cpu => {
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

    /// Frames that may be in flight at once ([`Config::max_in_flight`]; 0 on the CPU).
    pub fn max_in_flight(&self) -> usize {
        match &self.backend {
            Backend::Gpu(g) => g.max_in_flight,
            Backend::Cpu => 0,
        }
    }

    /// Frames submitted and not yet finished on the GPU side (parked
    /// results of finished frames do not count).
    pub fn in_flight(&self) -> usize {
        match &self.backend {
            Backend::Gpu(g) => g.in_flight(),
            Backend::Cpu => 0,
        }
    }

    /// Fills every device buffer and mapped output buffer with the byte
    /// `0xA5`, so a test can prove that results were written by this frame and
    /// not left over from an earlier one. Test support; costs a
    /// synchronization. Slots with a frame in flight are left alone.
    #[doc(hidden)]
    pub fn poison_buffers(&mut self) -> Result<()> {
        let Backend::Gpu(g) = &mut self.backend else {
            return Ok(());
        };
        g.gpu.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        if g.slots.is_empty() {
            g.slots.push((FrameSlot::new(&g.gpu.ctx)?, SlotState::Free));
        }
        for (slot, st) in &mut g.slots {
            if matches!(st, SlotState::Free) {
                slot.poison(g.stream)?;
            }
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

    /// Sets the bytes of the chunk store each item of the mask kernels owns
    /// (default [`DEFAULT_CHUNK_STORE_BYTES`], at most
    /// [`MAX_CHUNK_STORE_BYTES`]: larger values count as that). The count
    /// pass keeps a chunk's characters there when they fit, and the write
    /// pass copies them instead of evaluating the chunk again. Results never
    /// depend on it, only which pass writes them: tests use 0 (every chunk
    /// evaluated twice) and small values (some chunks each way). The store
    /// grows with the next frame that needs it. No effect on the CPU
    /// backend.
    pub fn set_chunk_store_bytes(&mut self, bytes: u32) {
        if let Backend::Gpu(g) = &mut self.backend {
            g.chunk_store_bytes = bytes.min(MAX_CHUNK_STORE_BYTES);
        }
    }

    /// Sets the number of items the mask plan may make (default
    /// [`DEFAULT_ITEM_BUDGET`], clamped to `1..=MASK_ITEM_BUDGET`): chunks get
    /// at least `total ROI pixels / budget` pixels. Results never depend on
    /// it, only how the work is split: the GPU suites rotate the largest (the
    /// default; with 1-pixel chunks a detection then has more chunks than one
    /// reserve round holds) and smaller ones (chunks of many tiles). No
    /// effect on the CPU backend.
    pub fn set_item_budget(&mut self, items: u32) {
        if let Backend::Gpu(g) = &mut self.backend {
            g.item_budget = items.clamp(1, MASK_ITEM_BUDGET);
        }
    }

    /// Sets the number of items the mask plan aims at: `None` (the default)
    /// [`ITEM_ROUNDS`] times the blocks of the item passes' grid (the SMs
    /// times the blocks an SM holds), so a frame's items are about that
    /// many rounds of them; `Some(0)`
    /// none (chunks as small as [`set_min_chunk_pixels`](Self::set_min_chunk_pixels)
    /// and the budget allow: what tests use to put chunk boundaries
    /// everywhere). Chunks the target asks for are at most
    /// [`set_max_chunk_pixels`](Self::set_max_chunk_pixels). Results never
    /// depend on it, only how the work is split. No effect on the CPU
    /// backend.
    pub fn set_item_target(&mut self, items: Option<u32>) {
        if let Backend::Gpu(g) = &mut self.backend {
            g.item_target = items;
        }
    }

    /// Whether a block of the item passes takes its next item from a queue
    /// (an atomic counter; default on) instead of the fixed stride of the
    /// grid, so blocks whose items are cheap take more of them. Results
    /// never depend on it: tests run both ways, benches compare. No effect
    /// on the CPU backend.
    pub fn set_item_queue(&mut self, on: bool) {
        if let Backend::Gpu(g) = &mut self.backend {
            g.item_queue = on;
        }
    }

    /// Whether the count, reserve and write passes are launched
    /// programmatically (the default) where the device allows it (sm_90 and
    /// later, with the module in its sm_90 form): each may be scheduled
    /// while the kernel before it still runs and waits for it on the GPU
    /// (`griddepcontrol.wait`), which hides the launch latency between
    /// them. Off: ordinary launches, each after the previous one completes.
    /// Results never depend on it: tests run both ways, benches compare.
    /// No effect on the CPU backend or on older GPUs.
    pub fn set_programmatic_launch(&mut self, on: bool) {
        if let Backend::Gpu(g) = &mut self.backend {
            g.programmatic = on;
        }
    }

    /// Whether the next GPU frame's item passes are launched
    /// programmatically ([`set_programmatic_launch`](Self::set_programmatic_launch)
    /// on, and a device and driver that allow it); `false` on the CPU
    /// backend. Profiled frames (`run_device_profiled`) never are: events
    /// sit between their launches.
    pub fn programmatic_launches(&self) -> bool {
        match &self.backend {
            Backend::Gpu(g) => g.programmatic && g.gpu.programmatic,
            _ => false,
        }
    }

    /// Sets the threads per block of the reserve step (`rle_mask_reserve`;
    /// default [`DEFAULT_RESERVE_THREADS`](rle_kernels::abi::DEFAULT_RESERVE_THREADS)),
    /// rounded down to a multiple of 32 and clamped to
    /// `32..=`[`RESERVE_THREADS`]. Each round of a detection's chain takes
    /// that many chunks, so fewer threads mean quicker rounds but more of
    /// them. Results never depend on it: tests
    /// rotate it (down to 32, so detections of many chunks chain in several
    /// rounds), benches compare. No effect on the CPU backend.
    pub fn set_reserve_threads(&mut self, threads: u32) {
        if let Backend::Gpu(g) = &mut self.backend {
            g.gpu.reserve_threads = (threads / 32 * 32).clamp(32, RESERVE_THREADS);
        }
    }

    /// Sets the largest chunk the item target asks for (default
    /// [`DEFAULT_MAX_CHUNK_PIXELS`], one wide tile; values below 1 count as
    /// 1); the budget may still make chunks larger. Results never depend on
    /// it. No effect on the CPU backend.
    pub fn set_max_chunk_pixels(&mut self, pixels: u32) {
        if let Backend::Gpu(g) = &mut self.backend {
            g.max_chunk_pixels = pixels.max(1);
        }
    }

    /// Whether the mask passes may decide groups of pixels from the signs of
    /// their horizontal-pass values without evaluating them (default on;
    /// `rle_kernels::uniform` has the argument). Results never depend on it,
    /// only how much arithmetic produces them: tests run both ways, benches
    /// measure both. No effect on the CPU backend.
    pub fn set_uniform_groups(&mut self, on: bool) {
        if let Backend::Gpu(g) = &mut self.backend {
            g.uniform_groups = on;
        }
    }

    /// Whether `rle_select_roi`'s query blocks find the ROI of every query
    /// that can become a detection beside the selection (default on). Off,
    /// they find none and the last block finds every detection's ROI
    /// itself, one after another: the path a query the blocks missed would
    /// take, so tests run it (results never depend on it;
    /// [`ChunkPaths::late_rois`] says how many the plan found). No effect on
    /// the CPU backend.
    pub fn set_early_rois(&mut self, on: bool) {
        if let Backend::Gpu(g) = &mut self.backend {
            g.early_rois = on;
        }
    }

    /// Sets how many events a wide tile of the mask passes may encode at once
    /// (default [`DEFAULT_WIDE_EVENTS`], at most [`WIDE_EVENT_CAP`]: larger
    /// values count as that). A wide tile is a run of up to
    /// [`MASK_WIDE_TILE`](rle_kernels::abi::MASK_WIDE_TILE) pixels whose
    /// columns' horizontal passes fit in shared memory at once; one with more
    /// events is encoded in parts of `WIDE_EVENT_CAP / 2` pixels. 0 turns
    /// wide tiles off (every tile is `MASK_TILE` pixels). Results never
    /// depend on it, only the split of the work: tests use 0 and small
    /// values to take every path ([`ChunkPaths::wide_tiles`],
    /// [`ChunkPaths::split_tiles`] count them), benches compare. No effect on
    /// the CPU backend.
    pub fn set_wide_events(&mut self, events: u32) {
        if let Backend::Gpu(g) = &mut self.backend {
            g.wide_events = events.min(WIDE_EVENT_CAP);
        }
    }

    /// How the mask kernels' write pass produced the chunks of the last frame
    /// a synchronous call ([`run`](Self::run),
    /// [`run_with_scores`](Self::run_with_scores), `run_device`) finished:
    /// copied from the chunk store or evaluated again. Test support (tests
    /// prove both paths ran); reads device memory back. `None` on the CPU
    /// backend, before such a frame, or while its slot holds a newer frame
    /// in flight (once that is collected, its chunks are the ones read).
    #[doc(hidden)]
    pub fn last_chunk_paths(&self) -> Result<Option<ChunkPaths>> {
        let Backend::Gpu(g) = &self.backend else {
            return Ok(None);
        };
        let Some(i) = g.last_run_slot else {
            return Ok(None);
        };
        if !matches!(g.slots[i].1, SlotState::Free) {
            return Ok(None);
        }
        g.gpu.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        g.slots[i].0.chunk_paths().map(Some)
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
        let stream = g.stream;
        let asks = Asks {
            scores,
            ..Asks::default()
        };
        // SAFETY: the inputs are staged into the slot's own blob.
        let (results, _, slot) =
            unsafe { g.run_now(Source::Host(batch), metas, opts, stream, asks) }?;
        let sc = if scores {
            Some(g.slots[slot].0.read_scores(&Shapes::of(batch))?)
        } else {
            None
        };
        Ok((results, sc))
    }

    /// Post-processes a batch already in device memory, on `stream` (the
    /// post-processor's own stream when `None`). Zero-copy: the kernels read
    /// the caller's buffers directly. Returns when the results are on the
    /// host; it waits for this frame only, not for other work on `stream`.
    ///
    /// # Safety
    /// The device buffers must hold initialized data of the declared shapes and
    /// must not be written until this call returns; `stream` must belong to
    /// this post-processor's context. Null pointers and buffers shorter than the
    /// shapes are detected and rejected.
    pub unsafe fn run_device(
        &mut self,
        inputs: &DeviceInputs,
        stream: Option<StreamHandle>,
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
        stream: Option<StreamHandle>,
        metas: &[ImageMeta],
        opts: &Options,
    ) -> Result<(Vec<ImageResult>, KernelTimes)> {
        // SAFETY: the caller's contract is this function's.
        let (results, times) = unsafe { self.device_frame(inputs, stream, metas, opts, true) }?;
        // `run_now` returns times whenever asked to profile.
        Ok((results, times.unwrap_or_default()))
    }

    /// What every device-input frame checks first: the shapes (the
    /// reference's validation), a GPU backend, the buffers' allocations; and
    /// the stream it runs on.
    fn device_frame_checks(
        &mut self,
        inputs: &DeviceInputs,
        stream: Option<StreamHandle>,
        metas: &[ImageMeta],
        opts: &Options,
    ) -> Result<(&mut GpuState, sys::CUstream)> {
        validate_shapes(&inputs.shapes, metas, opts)?;
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
        g.check_inputs(inputs)?;
        let stream = stream.map_or(g.stream, StreamHandle::cu);
        Ok((g, stream))
    }

    /// The device-input frame of both synchronous entry points above.
    ///
    /// # Safety
    /// As for [`run_device`](Self::run_device).
    unsafe fn device_frame(
        &mut self,
        inputs: &DeviceInputs,
        stream: Option<StreamHandle>,
        metas: &[ImageMeta],
        opts: &Options,
        profile: bool,
    ) -> Result<(Vec<ImageResult>, Option<KernelTimes>)> {
        let (g, stream) = self.device_frame_checks(inputs, stream, metas, opts)?;
        let asks = Asks {
            profile,
            ..Asks::default()
        };
        // SAFETY: the caller's contract; the inputs were range-checked.
        let (results, times, _) =
            unsafe { g.run_now(Source::Device(inputs), metas, opts, stream, asks) }?;
        Ok((results, times))
    }

    /// Enqueues a device-input frame on `stream` (the post-processor's own
    /// stream when `None`) and returns at once: no synchronization, no host
    /// copy of the inputs. [`collect`](Self::collect) returns its results.
    ///
    /// With `inputs_consumed`, that event is recorded on `stream` right after
    /// the last kernel that reads the inputs, and the caller may reuse the
    /// input buffers once it has completed (the masks are copied aside only
    /// in the rare frame whose strings overflow the arena, for its rerun).
    /// Up to [`max_in_flight`](Self::max_in_flight) frames are in flight; one
    /// more first waits for the oldest, whose results stay with its ticket.
    ///
    /// # Safety
    /// The device buffers must hold initialized data of the declared shapes,
    /// stay allocated and not be written until `inputs_consumed` completes
    /// (when given) or until `collect` returns for this ticket; `stream` and
    /// `inputs_consumed` must belong to this post-processor's context.
    pub unsafe fn submit_device(
        &mut self,
        inputs: &DeviceInputs,
        stream: Option<StreamHandle>,
        inputs_consumed: Option<EventHandle>,
        metas: &[ImageMeta],
        opts: &Options,
    ) -> Result<Ticket> {
        let (g, stream) = self.device_frame_checks(inputs, stream, metas, opts)?;
        let i = g.acquire()?;
        let asks = Asks {
            inputs_consumed,
            ..Asks::default()
        };
        // SAFETY: the caller's contract; the inputs were range-checked.
        let ticket = unsafe { g.launch(i, Source::Device(inputs), metas, opts, stream, asks) }?;
        Ok(Ticket(ticket))
    }

    fn find(&self, ticket: &Ticket) -> Result<Option<usize>> {
        let Backend::Gpu(g) = &self.backend else {
            return Err(Error::Ticket {
                ticket: ticket.0,
                reason: "this post-processor runs on the CPU and issued no tickets".into(),
            });
        };
        if g.parked.contains_key(&ticket.0) {
            return Ok(None);
        }
        match g.slots.iter().position(
            |(_, st)| matches!(st, SlotState::InFlight { ticket: t, .. } if *t == ticket.0),
        ) {
            Some(i) => Ok(Some(i)),
            None => Err(Error::Ticket {
                ticket: ticket.0,
                reason: "not a frame in flight on this post-processor (collected already, or \
                         issued by another one)"
                    .into(),
            }),
        }
    }

    /// Whether a submitted frame's GPU work has completed, so that
    /// [`collect`](Self::collect) will not wait (never blocks).
    pub fn is_ready(&self, ticket: &Ticket) -> Result<bool> {
        match self.find(ticket)? {
            None => Ok(true),
            Some(i) => {
                let Backend::Gpu(g) = &self.backend else {
                    unreachable!("find succeeded")
                };
                g.gpu.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
                frame::is_done(&g.slots[i].0)
            }
        }
    }

    /// The results of a submitted frame, waiting for its completion event
    /// only (not for later work on its stream).
    pub fn collect(&mut self, ticket: Ticket) -> Result<Vec<ImageResult>> {
        let at = self.find(&ticket)?;
        let Backend::Gpu(g) = &mut self.backend else {
            unreachable!("find succeeded")
        };
        match at {
            None => g.parked.remove(&ticket.0).expect("found parked"),
            Some(i) => {
                g.gpu.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
                g.finish_slot(i)?.1
            }
        }
    }

    /// Drops a submitted frame's results (waiting for its GPU work, whose
    /// buffers are reused afterwards).
    pub fn discard(&mut self, ticket: Ticket) -> Result<()> {
        self.collect(ticket).map(drop)
    }
}

// A post-processor moves between threads with its stream and buffers.
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<Postprocessor>();
};
