//! The buffer pool of one frame in flight ([`FrameSlot`]): its parameter blob
//! and staging, the kernels' working buffers, the mapped pinned buffers the
//! results land in, its resize-table cache and its completion event. A
//! post-processor keeps up to `max_in_flight` slots; a slot's buffers only
//! grow while it is idle (its previous frame was collected), and after
//! warm-up a frame allocates nothing.

use std::sync::Arc;

use cudarc::driver::{result, sys, CudaContext};
use ndarray::Array3;
use rle_kernels::abi::{ChunkState, DetRecord, FrameCounters, MaskRoi, MASK_ITEM_BUDGET};
use rle_reference::boxes::round_to_i32;
use rle_reference::{CocoRle, Detection, ImageResult, Xyxy};

use crate::error::{DriverContext, Error, Result};
use crate::launch::FrameBuffers;
use crate::memory::{DeviceBuffer, MappedHost};
use crate::params::{FramePlan, Shapes};
use crate::tables::TableCache;

const ALIGN: usize = 256;
/// First size of the COCO string arena (it grows to what a frame needs).
const INITIAL_CHARS: usize = 1 << 20;

pub(crate) fn align(v: usize) -> usize {
    v.div_ceil(ALIGN) * ALIGN
}

/// Where each part of the uploaded blob starts.
#[derive(Debug)]
pub(crate) struct BlobLayout {
    pub(crate) thresholds: usize,
    pub(crate) mapping: usize,
    /// The frame's `FrameCounters`, uploaded zeroed with the parameters (so
    /// no kernel clears them while another block may already count).
    pub(crate) counters: usize,
    pub(crate) logits: usize,
    pub(crate) boxes: usize,
    pub(crate) masks: usize,
    pub(crate) end: usize,
}

impl BlobLayout {
    /// `inputs`: byte sizes of host logits, boxes and masks staged with the
    /// parameters (`None` for device inputs).
    pub(crate) fn new(plan: &FramePlan, inputs: Option<(usize, usize, usize)>) -> Self {
        let images = std::mem::size_of_val(plan.images.as_slice());
        let thresholds = align(images);
        let mapping = thresholds + align(plan.thresholds.len() * 4);
        let counters = mapping + align(plan.mapping.len() * 4);
        let logits = counters + align(size_of::<FrameCounters>());
        let (l, b, m) = inputs.unwrap_or((0, 0, 0));
        let boxes = logits + align(l);
        let masks = boxes + align(b);
        Self {
            thresholds,
            mapping,
            counters,
            logits,
            boxes,
            masks,
            end: masks + align(m),
        }
    }
}

/// How the write pass produced the chunks of one frame (test support,
/// [`Postprocessor::last_chunk_paths`](crate::Postprocessor::last_chunk_paths)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkPaths {
    /// Items (chunks) of the frame.
    pub items: usize,
    /// Chunks with characters of their own whose characters the write pass
    /// copied from the chunk store.
    pub copied: usize,
    /// Chunks with characters of their own that the write pass evaluated
    /// again (they did not fit their store slot, or the store is off).
    pub walked: usize,
    /// Groups of `MASK_ITEMS` pixels the count pass decided from their
    /// horizontal passes without evaluating them (`rle_kernels::uniform`),
    /// over every chunk.
    pub decided_groups: u64,
    /// Detections whose ROI `rle_select_roi`'s plan found itself because
    /// their query's block had not (`FrameCounters::late_rois`): 0 unless
    /// early ROIs are off ([`Postprocessor::set_early_rois`](crate::Postprocessor::set_early_rois)).
    pub late_rois: usize,
    /// Wide tiles the count pass walked (more than `MASK_TILE` pixels at
    /// once: [`Postprocessor::set_wide_events`](crate::Postprocessor::set_wide_events)).
    pub wide_tiles: u64,
    /// Tiles (wide or not) whose events were more than they could encode at
    /// once (the frame's `wide_events`, or `WIDE_EVENT_CAP`) and were
    /// encoded in parts.
    pub split_tiles: u64,
    /// Items the blocks of the count and write passes took from the queue
    /// ([`Postprocessor::set_item_queue`](crate::Postprocessor::set_item_queue)):
    /// every block claims one after each item it finishes, so a frame with
    /// the queue on and any item has at least one, and none with it off.
    pub queued_items: usize,
}

/// Every buffer one frame uses, and the event that marks its end.
#[derive(Debug)]
pub(crate) struct FrameSlot {
    ctx: Arc<CudaContext>,
    pub(crate) tables: TableCache,
    pub(crate) blob: DeviceBuffer,
    pub(crate) staging: MappedHost,
    keys: DeviceBuffer,
    scores: DeviceBuffer,
    dets: DeviceBuffer,
    det_count: DeviceBuffer,
    /// The device arena: the reserve step's boundary characters (as large
    /// as `out_chars`, same offsets), copied there by the write pass.
    pub(crate) chars: DeviceBuffer,
    /// Each query's ROI, found beside the selection (`rle_select_roi`).
    query_rois: DeviceBuffer,
    rois: DeviceBuffer,
    chunks: DeviceBuffer,
    /// `rle_mask_count`'s copy of each chunk's characters (one slot of
    /// `chunk_store_bytes` per item), copied by `rle_mask_write`.
    chunk_store: DeviceBuffer,
    /// f32 copies of half-precision device logits and boxes.
    pub(crate) widened: DeviceBuffer,
    /// The masks, copied by `rle_snapshot` when a deferred frame overflowed.
    pub(crate) snapshot: DeviceBuffer,
    out_dets: MappedHost,
    out_det_count: MappedHost,
    out_counters: MappedHost,
    /// The COCO string arena. The reserve and write passes write the strings
    /// here directly (mapped pinned memory), so no copy-out follows.
    pub(crate) out_chars: MappedHost,
    /// Recorded after the frame's last launch.
    pub(crate) done: sys::CUevent,
}

// SAFETY: the buffers and the event are owned; `&mut` on the owner serializes use.
unsafe impl Send for FrameSlot {}

impl FrameSlot {
    pub(crate) fn new(ctx: &Arc<CudaContext>) -> Result<Self> {
        ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        let done = result::event::create(sys::CUevent_flags::CU_EVENT_DISABLE_TIMING)
            .call("cuEventCreate")?;
        let d = || DeviceBuffer::empty(ctx);
        let h = || MappedHost::empty(ctx);
        Ok(Self {
            ctx: ctx.clone(),
            tables: TableCache::new(d(), d()),
            blob: d(),
            staging: h(),
            keys: d(),
            scores: d(),
            dets: d(),
            det_count: d(),
            chars: d(),
            query_rois: d(),
            rois: d(),
            chunks: d(),
            chunk_store: d(),
            widened: d(),
            snapshot: d(),
            out_dets: h(),
            out_det_count: h(),
            out_counters: h(),
            out_chars: h(),
            done,
        })
    }

    /// Sizes every buffer for this frame (the slot is idle: its previous
    /// frame was collected).
    pub(crate) fn reserve(&mut self, p: &FramePlan, blob: usize, scores: bool) -> Result<()> {
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
        self.query_rois.ensure(slots * size_of::<MaskRoi>())?;
        self.rois.ensure(slots * size_of::<MaskRoi>())?;
        // A frame has at most MASK_ITEM_BUDGET items plus one per detection
        // (rle_kernels::chunks::chunk_pixels).
        let items = MASK_ITEM_BUDGET as usize + slots;
        self.chunks.ensure(items * size_of::<ChunkState>())?;
        self.chunk_store
            .ensure(items * f.chunk_store_bytes as usize)?;
        self.out_dets.ensure(slots * size_of::<DetRecord>())?;
        self.det_count.ensure(f.batch as usize * 4)?;
        self.out_det_count.ensure(f.batch as usize * 4)?;
        self.out_counters.ensure(size_of::<FrameCounters>())?;
        self.grow_chars(INITIAL_CHARS)?;
        Ok(())
    }

    pub(crate) fn buffers(&self, layout: &BlobLayout, inputs: (u64, u64, u64)) -> FrameBuffers {
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
            counters: blob + layout.counters as u64,
            chars: self.chars.ptr(),
            query_rois: self.query_rois.ptr(),
            rois: self.rois.ptr(),
            chunks: self.chunks.ptr(),
            chunk_store: self.chunk_store.ptr(),
            spans: self.tables.dev_spans.ptr(),
            weights: self.tables.dev_weights.ptr(),
            host_dets: self.out_dets.dev(),
            host_det_count: self.out_det_count.dev(),
            host_counters: self.out_counters.dev(),
            host_chars: self.out_chars.dev(),
        }
    }

    /// Grows both string arenas to at least `bytes` (the slot is idle).
    pub(crate) fn grow_chars(&mut self, bytes: usize) -> Result<()> {
        self.chars.ensure(bytes)?;
        self.out_chars.ensure(self.chars.bytes())?;
        Ok(())
    }

    /// Bytes both string arenas hold (the kernels' `chars_capacity`).
    pub(crate) fn chars_capacity(&self) -> u32 {
        self.chars
            .bytes()
            .min(self.out_chars.capacity())
            .min(u32::MAX as usize) as u32
    }

    /// The counters the frame's write pass (its last block) left in mapped
    /// memory.
    pub(crate) fn counters_now(&self) -> FrameCounters {
        let raw = self.out_counters.bytes(size_of::<FrameCounters>());
        // SAFETY: FrameCounters is plain data and `raw` holds one (unaligned read).
        unsafe { std::ptr::read_unaligned(raw.as_ptr().cast::<FrameCounters>()) }
    }

    /// Builds the results from the mapped output buffers (the frame is done).
    pub(crate) fn assemble(&self, plan: &FramePlan) -> Vec<ImageResult> {
        let f = &plan.frame;
        let c = self.counters_now();
        let counts = self.out_det_count.bytes(f.batch as usize * 4);
        let dets_raw = self
            .out_dets
            .bytes(f.batch as usize * f.queries as usize * size_of::<DetRecord>());
        let chars = self
            .out_chars
            .bytes((c.chars_used as usize).min(self.chars_capacity() as usize));
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

    /// Every sigmoid score of the frame (host-input frames that asked for them).
    pub(crate) fn read_scores(&self, s: &Shapes) -> Result<Array3<f32>> {
        let mut v = vec![0f32; s.batch * s.queries * s.columns];
        // SAFETY: the scores buffer holds this many floats (reserve), and the
        // frame that wrote them is done.
        unsafe { result::memcpy_dtoh_sync(&mut v, self.scores.ptr()) }
            .call("cuMemcpyDtoH(scores)")?;
        Ok(Array3::from_shape_vec((s.batch, s.queries, s.columns), v)
            .expect("length matches the shape"))
    }

    /// Which way the write pass took for each chunk of the slot's last frame
    /// (test support: reads the item count and the chunk states back).
    pub(crate) fn chunk_paths(&self) -> Result<ChunkPaths> {
        // The write pass's last block left the frame's counters in mapped memory.
        let counters = self.counters_now();
        let items = counters.items as usize;
        let mut states = vec![ChunkState::default(); items];
        if items > 0 {
            let room = self.chunks.bytes() / size_of::<ChunkState>();
            if items > room {
                // The plan never makes more items than the buffer holds; a
                // count beyond it is reported, not read past.
                return Err(Error::Limit {
                    what: "items of the last frame (chunk states held)".into(),
                    limit: room as u64,
                    got: items as u64,
                });
            }
            // SAFETY: just checked that the buffer holds `items` states.
            unsafe { result::memcpy_dtoh_sync(&mut states, self.chunks.ptr()) }
                .call("cuMemcpyDtoH(chunks)")?;
        }
        let mut paths = ChunkPaths {
            items,
            decided_groups: states.iter().map(|s| u64::from(s.decided)).sum(),
            late_rois: counters.late_rois as usize,
            wide_tiles: states.iter().map(|s| u64::from(s.wide)).sum(),
            split_tiles: states.iter().map(|s| u64::from(s.split)).sum(),
            queued_items: counters.count_queue as usize + counters.write_queue as usize,
            ..ChunkPaths::default()
        };
        for st in states.iter().filter(|s| s.skip == 0 && s.events > 3) {
            if st.stored != 0 {
                paths.copied += 1;
            } else {
                paths.walked += 1;
            }
        }
        Ok(paths)
    }

    /// Fills every buffer with `0xA5` (test support: results must come from
    /// the frame that reports them). The slot is idle.
    pub(crate) fn poison(&mut self, stream: sys::CUstream) -> Result<()> {
        for d in [
            &self.keys,
            &self.scores,
            &self.dets,
            &self.det_count,
            &self.chars,
            &self.query_rois,
            &self.rois,
            &self.chunks,
            &self.chunk_store,
            &self.blob,
            &self.widened,
            &self.snapshot,
        ] {
            if d.bytes() > 0 {
                // SAFETY: fills our own allocation of that many bytes.
                unsafe { result::memset_d8_async(d.ptr(), 0xA5, d.bytes(), stream) }
                    .call("cuMemsetD8Async(poison)")?;
            }
        }
        // SAFETY: a stream of our context.
        unsafe { result::stream::synchronize(stream) }.call("cuStreamSynchronize")?;
        for h in [
            &mut self.out_dets,
            &mut self.out_det_count,
            &mut self.out_counters,
            &mut self.out_chars,
        ] {
            let n = h.capacity();
            h.write(0, &vec![0xA5u8; n]);
        }
        Ok(())
    }
}

impl Drop for FrameSlot {
    fn drop(&mut self) {
        if self.ctx.bind_to_thread().is_ok() {
            // SAFETY: our event; the owner waited for the frame that recorded it.
            let _ = unsafe { result::event::destroy(self.done) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rle_kernels::abi::{FrameParams, ImageParams};

    fn plan(images: usize, thresholds: usize, mapping: usize) -> FramePlan {
        FramePlan {
            frame: FrameParams::default(),
            images: vec![ImageParams::default(); images],
            thresholds: vec![0.5; thresholds],
            mapping: vec![0; mapping],
            mask_sizes: Vec::new(),
            int_boxes: Vec::new(),
            image_sizes: Vec::new(),
        }
    }

    /// Every part of the uploaded blob starts aligned and after the end of
    /// the one before it: the counters the kernels count into (uploaded
    /// zeroed with the parameters) overlap neither the parameters nor the
    /// staged inputs, and everything lies below `end`.
    #[test]
    fn blob_parts_are_aligned_and_disjoint() {
        let cases = [
            (1, 0, 0, None),
            (
                3,
                91,
                91,
                Some((4 * 100 * 91, 4 * 100 * 4, 4 * 100 * 78 * 78)),
            ),
            (65, 1, 0, Some((4, 16, 2))),
        ];
        for (images, thresholds, mapping, inputs) in cases {
            let l = BlobLayout::new(&plan(images, thresholds, mapping), inputs);
            let (lb, bb, mb) = inputs.unwrap_or((0, 0, 0));
            let parts = [
                ("images", 0, images * size_of::<ImageParams>()),
                ("thresholds", l.thresholds, thresholds * 4),
                ("mapping", l.mapping, mapping * 4),
                ("counters", l.counters, size_of::<FrameCounters>()),
                ("logits", l.logits, lb),
                ("boxes", l.boxes, bb),
                ("masks", l.masks, mb),
            ];
            for (name, start, _) in parts {
                assert_eq!(start % ALIGN, 0, "{name} at {start}: {l:?}");
            }
            for w in parts.windows(2) {
                let ((a, start_a, len_a), (b, start_b, _)) = (w[0], w[1]);
                assert!(start_a + len_a <= start_b, "{a} runs into {b}: {l:?}");
            }
            assert!(l.masks + mb <= l.end, "{l:?}");
        }
    }
}
