//! The host/device ABI: parameter and record structs shared by the kernels and
//! `rle-host`, written once. Plain data only (integers, floats, arrays of them):
//! no `bool`, no enums, so both sides agree on every bit. Layouts are pinned
//! with const asserts; `crates/rle-host/ptx/entries.txt` snapshots the PTX
//! parameter lists so drift shows in review.

/// Entry point: per image, sigmoid, exact flat top-k, validity, threshold,
/// sort, boxes; beside it, per query that can become a detection, its ROI
/// (the canvas rectangle where a pixel can be foreground); the last block to
/// finish gives each detection its ROI and splits every ROI into chunks of
/// about equal pixel counts ("items") for the two pixel passes.
pub const KERNEL_SELECT_ROI: &str = "rle_select_roi";
/// Entry point: per item, evaluate the pixels and count run boundaries and
/// COCO characters.
pub const KERNEL_MASK_COUNT: &str = "rle_mask_count";
/// Entry point: per detection, chain its chunks, reserve the string's arena
/// space and write the characters that straddle chunk boundaries (run again
/// when the strings did not fit the arena); the detection records and
/// counts go to mapped host memory.
pub const KERNEL_MASK_RESERVE: &str = "rle_mask_reserve";
/// Entry point: per item, write its characters (copied from the chunk store
/// or evaluated again); the last block copies the frame's counters to mapped
/// host memory.
pub const KERNEL_MASK_WRITE: &str = "rle_mask_write";
/// Entry point: f16/bf16 logits or boxes widened exactly to f32.
pub const KERNEL_WIDEN: &str = "rle_widen";
/// Entry point: copies the mask logits when the string arena overflowed
/// (deferred frames, whose rerun must not read the caller's buffers).
pub const KERNEL_SNAPSHOT: &str = "rle_snapshot";
/// Threads per block and blocks of `rle_widen` and `rle_snapshot`.
pub const CONVERT_THREADS: u32 = 256;
/// See [`CONVERT_THREADS`].
pub const CONVERT_BLOCKS: u32 = 264;
/// Every entry point the PTX bundle must contain.
pub const KERNELS: [&str; 6] = [
    KERNEL_SELECT_ROI,
    KERNEL_MASK_COUNT,
    KERNEL_MASK_RESERVE,
    KERNEL_MASK_WRITE,
    KERNEL_WIDEN,
    KERNEL_SNAPSHOT,
];

/// Threads per block of `rle_select_roi`: one block per image selects, one
/// block per query finds its ROI.
pub const SELECT_THREADS: u32 = 1024;
/// Largest `Q` the select kernel holds in shared memory.
pub const MAX_QUERIES: u32 = 2048;
/// Threads per block of every mask kernel but the reserve step.
pub const MASK_THREADS: u32 = 256;
/// Most threads per block of `rle_mask_reserve` (its shared arrays hold one
/// round of this many chunk states): one chunk per thread and round, so a
/// detection of up to `ntid()` chunks is chained in one round. The kernel
/// works with any multiple of 32 up to this; the host launches
/// [`DEFAULT_RESERVE_THREADS`] unless told otherwise
/// (`Postprocessor::set_reserve_threads`).
pub const RESERVE_THREADS: u32 = 1024;
/// Threads per block the host launches `rle_mask_reserve` with by default.
/// Fewer threads make each round's scans and barriers quicker, more make
/// fewer rounds for a detection of many chunks (with 256 and the item plans
/// of the second round, the largest detection's rounds were the step's
/// cost; with the item target's plans, 256 and 512 were quicker than 1024
/// at the centre, and 512 the quickest at 4K: docs/BENCHMARKS.md, issue 13,
/// second and seventh rounds).
pub const DEFAULT_RESERVE_THREADS: u32 = 512;
/// Canvas pixels each mask thread evaluates per tile.
pub const MASK_ITEMS: u32 = 8;
/// Pixels one mask block walks per tile.
pub const MASK_TILE: u32 = MASK_THREADS * MASK_ITEMS;
/// Most pixels one mask block walks in a wide tile: a run of columns whose
/// horizontal passes all fit in shared memory at once, so the tile's fixed
/// cost (the passes' loads, the barriers, the scans) is paid once for up to
/// six tiles' pixels. Each thread then classifies and walks six groups.
/// (Six, not eight: the shared memory of four blocks an SM then stays
/// within the carveout that leaves L1 its size, which the passes' loads of
/// logits and tables need.)
pub const MASK_WIDE_TILE: u32 = 6 * MASK_TILE;
/// Events a tile's shared array holds: one per pixel of a [`MASK_TILE`]
/// (a checkerboard's count). A tile with more is encoded in parts of half
/// as many pixels, which always fit (a pixel opens and closes at most one
/// run each).
pub const WIDE_EVENT_CAP: u32 = MASK_TILE;
/// Default [`FrameParams::wide_events`]: wide tiles on, with the whole array.
pub const DEFAULT_WIDE_EVENTS: u32 = WIDE_EVENT_CAP;
/// Largest item budget ([`FrameParams::item_budget`]): the buffers of the
/// item passes are sized for `MASK_ITEM_BUDGET + B*Q` items.
pub const MASK_ITEM_BUDGET: u32 = 4096;
/// Default [`FrameParams::item_budget`]: the largest. Chunk sizes come from
/// the item target ([`FrameParams::item_target`]); the budget is the bound
/// the buffers are sized for.
pub const DEFAULT_ITEM_BUDGET: u32 = MASK_ITEM_BUDGET;
/// Default [`FrameParams::max_chunk_pixels`]: one wide tile, so a chunk of a
/// large frame is walked in one step of the walk's loop (measured against
/// other sizes on the H200: docs/BENCHMARKS.md, "Issue 13, fifth round").
pub const DEFAULT_MAX_CHUNK_PIXELS: u32 = MASK_WIDE_TILE;
/// Default smallest chunk ([`FrameParams::min_chunk_pixels`]): one tile, so
/// a chunk is one block-wide step of the walk.
pub const DEFAULT_CHUNK_PIXELS: u32 = MASK_TILE;
/// Default bytes of the chunk store per item ([`FrameParams::chunk_store_bytes`]).
/// A chunk's characters from its fourth event on are a few bytes per column
/// it crosses for the smooth masks RF-DETR produces (a 2048-pixel chunk of a
/// mask a few hundred rows tall crosses under ten columns, and the item
/// target's chunks are up to six times that); 2048 leaves room for ragged
/// ones, and a chunk with more is evaluated again by the write pass, so the
/// value never changes a result, only which pass writes it.
pub const DEFAULT_CHUNK_STORE_BYTES: u32 = 2048;
/// Largest [`FrameParams::chunk_store_bytes`] the host accepts: 64 KiB per
/// item bounds the store (slot offsets are computed in 64 bits).
pub const MAX_CHUNK_STORE_BYTES: u32 = 1 << 16;
/// Register limits per thread written into the PTX as `.maxnreg` (rustc has
/// no launch-bounds attribute for nvptx; `cargo xtask build-ptx` adds the
/// directive). The item kernels are latency-bound: 64 registers let four
/// 256-thread blocks share an SM instead of two, at the price of a few
/// spilled bytes.
/// The reserve step's 64 is what lets its 1024-thread blocks launch at all
/// (64 × 1024 = the SM's 65 536 registers).
/// `rle_select_roi` needs 64 for the same reason.
pub const MAX_REGISTERS: [(&str, u32); 4] = [
    (KERNEL_SELECT_ROI, 64),
    (KERNEL_MASK_COUNT, 64),
    (KERNEL_MASK_WRITE, 64),
    (KERNEL_MASK_RESERVE, 64),
];

/// `FrameParams::mask_dtype` values.
pub mod dtype {
    /// float32 mask logits.
    pub const F32: u32 = 0;
    /// float16 mask logits.
    pub const F16: u32 = 1;
    /// bfloat16 mask logits.
    pub const BF16: u32 = 2;
}

/// `FrameParams::resize_mode` values.
pub mod resize_mode {
    /// torchvision antialiased bilinear (SPEC §3.3–3.4).
    pub const ANTIALIASED: u32 = 0;
    /// plain `F.interpolate` bilinear (SPEC §3.9).
    pub const BILINEAR: u32 = 1;
}

/// Marker for "no cap" in [`FrameParams::max_detections`].
pub const NO_MAX_DETECTIONS: u32 = u32::MAX;

/// Per-frame parameters, passed by value to every kernel.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameParams {
    /// Images in the batch `B`.
    pub batch: u32,
    /// Queries `Q`.
    pub queries: u32,
    /// Logit columns `C`.
    pub columns: u32,
    /// Mask height `Mh`.
    pub mask_h: u32,
    /// Mask width `Mw`.
    pub mask_w: u32,
    /// Named output classes (used when `mapping_len == 0`).
    pub num_classes: u32,
    /// Length `L` of the class mapping; 0 means no remapping.
    pub mapping_len: u32,
    /// Length of the per-class threshold array; 0 means scalar `threshold`.
    pub threshold_len: u32,
    /// Scalar threshold, already rounded to f32.
    pub threshold: f32,
    /// Cap after sorting, or [`NO_MAX_DETECTIONS`].
    pub max_detections: u32,
    /// One of [`dtype`].
    pub mask_dtype: u32,
    /// One of [`resize_mode`] (informational: each image carries the
    /// evaluation it needs in [`ImageParams::resize`]).
    pub resize_mode: u32,
    /// Capacity of the COCO string arena in bytes.
    pub chars_capacity: u32,
    /// Non-zero: `rle_select_roi` writes every sigmoid score to `scores_out`.
    pub write_scores: u32,
    /// Smallest chunk of ROI pixels an item walks (≥ 1; default
    /// [`DEFAULT_CHUNK_PIXELS`]). Smaller values only add items: tests use
    /// them to cross chunk boundaries everywhere.
    pub min_chunk_pixels: u32,
    /// Bytes of the chunk store each item owns (at `item * chunk_store_bytes`,
    /// at most [`MAX_CHUNK_STORE_BYTES`]): `rle_mask_count` keeps a chunk's
    /// characters there when they fit, and `rle_mask_write` copies them
    /// instead of evaluating the chunk again. 0 stores nothing (every chunk
    /// is evaluated twice, as before the store existed); tests use 0 and
    /// small values to take both paths.
    pub chunk_store_bytes: u32,
    /// Items the plan may make: chunks get at least `ceil(total ROI pixels /
    /// item_budget)` pixels, so a frame has at most `item_budget + B*Q` items
    /// (each detection rounds up once). Clamped to `1..=MASK_ITEM_BUDGET`;
    /// default [`DEFAULT_ITEM_BUDGET`]. Tests rotate it (smaller budgets:
    /// chunks of many tiles).
    pub item_budget: u32,
    /// Items the plan aims at: chunks of `ceil(total ROI pixels /
    /// item_target)` pixels as long as that is at most `max_chunk_pixels`
    /// (and the other bounds allow: `chunks::chunk_pixels`). The host sets
    /// the blocks of the item passes' grid (`rle_host::ITEM_ROUNDS` rounds
    /// of them); 0 aims at nothing (chunks of `min_chunk_pixels`).
    pub item_target: u32,
    /// Largest chunk the item target asks for (default
    /// [`DEFAULT_MAX_CHUNK_PIXELS`]); the budget may still make chunks larger.
    pub max_chunk_pixels: u32,
    /// Non-zero (the default): after its first item (its block index), a
    /// block of the item passes takes the next one from a queue (an atomic
    /// counter in [`FrameCounters`]), so blocks with cheap items take more;
    /// 0: block `b` takes items `b`, `b + G`, `b + 2G`, … (the grid `G`).
    pub item_queue: u32,
    /// Non-zero (the default): `rle_select_roi`'s query blocks find the ROI
    /// of every query that can become a detection beside the selection. 0:
    /// they find none and the plan finds every detection's ROI itself (test
    /// support: the path a query the blocks missed would take).
    pub early_rois: u32,
    /// Events a wide tile ([`MASK_WIDE_TILE`]) may encode at once (clamped
    /// to [`WIDE_EVENT_CAP`]; default [`DEFAULT_WIDE_EVENTS`]); a wide tile
    /// with more is encoded in parts of `WIDE_EVENT_CAP / 2` pixels. 0: no
    /// wide tiles (every tile is `MASK_TILE` pixels). Results never depend on
    /// it: tests use 0 and small values to take every path, the benches
    /// compare.
    pub wide_events: u32,
}

/// Per-image parameters (one record per image of the batch).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ImageParams {
    /// `f32(Dw)`, `f32(Dh)`: the denorm size.
    pub denorm_w: f32,
    /// See `denorm_w`.
    pub denorm_h: f32,
    /// `f32(pad_left)`, `f32(pad_top)`.
    pub pad_left: f32,
    /// See `pad_left`.
    pub pad_top: f32,
    /// `f32` of the box chain's scales (`scale_width`, or `scale_width · Ws/Wt`
    /// when the resize target `T ≠ S`, SPEC §10.3).
    pub scale_w: f32,
    /// See `scale_w`.
    pub scale_h: f32,
    /// `f32` of the box offset (the canvas offset of `T`); added to boxes only when
    /// `add_offset != 0`.
    pub offset_x: f32,
    /// See `offset_x`.
    pub offset_y: f32,
    /// `f32` of the box clamp bounds (the encoded grid's width and height).
    pub clamp_w: f32,
    /// See `clamp_w`.
    pub clamp_h: f32,
    /// Non-zero when the box chain adds `offset_x`, `offset_y`.
    pub add_offset: u32,
    /// Mask window after the padding crop/extension, in source rows/columns:
    /// window pixel `(y, x)` is source `(y + win_top, x + win_left)`, or 0.0
    /// outside the source.
    pub win_top: i32,
    /// See `win_top`.
    pub win_left: i32,
    /// Window height `h` (input length of the vertical resize).
    pub win_h: u32,
    /// Window width `w`.
    pub win_w: u32,
    /// Resize target `T` (`S` at factor 1): height.
    pub out_h: u32,
    /// Its width.
    pub out_w: u32,
    /// Encoded grid (canvas) height (`mask_size`, SPEC §10.2).
    pub canvas_h: u32,
    /// Final mask width.
    pub canvas_w: u32,
    /// Row of the canvas where resized row 0 lands (0 without a canvas).
    pub paste_y: u32,
    /// Column of the canvas where resized column 0 lands.
    pub paste_x: u32,
    /// Index of the vertical table's first [`TapSpan`] in the span buffer.
    pub ytab: u32,
    /// Index of its first weight in the weight buffer.
    pub yweights: u32,
    /// Weights stored per output row.
    pub yslots: u32,
    /// Same three for the horizontal table.
    pub xtab: u32,
    /// See `xtab`.
    pub xweights: u32,
    /// See `xtab`.
    pub xslots: u32,
    /// How this image's pixels are evaluated, one of [`resize_mode`]. Chosen
    /// per image with its tables: a same-size image is an identity copy in
    /// either mode and uses 1-tap antialiased-style tables.
    pub resize: u32,
    /// Smallest horizontal-pass value the uniform-group shortcut takes for
    /// foreground (`uniform::foreground_bound` of the vertical table): `+inf`
    /// for none (background only), NaN to evaluate every pixel.
    pub fg_bound: f32,
}

/// Taps of one output index of a resize table: source indices
/// `min(first + j, n - 1)` for `j < count` (the clamp only ever binds for plain
/// bilinear at the last source row, where CUDA reads that row twice).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TapSpan {
    /// First source index.
    pub first: u32,
    /// Number of taps.
    pub count: u32,
}

/// One detection, written by `rle_select_roi` and completed by `rle_mask_reserve`
/// (string offset, length and runs).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetRecord {
    /// Query index.
    pub query: u32,
    /// Logit column.
    pub column: u32,
    /// Output class id.
    pub class_id: i32,
    /// f32 bits of the sigmoid score.
    pub score_bits: u32,
    /// f32 bits of `[x1, y1, x2, y2]` after the clamp, before any rounding (the
    /// host rounds them when the grid is the image's, SPEC §10.3).
    pub xyxy_bits: [u32; 4],
    /// Byte offset of the COCO string in the arena.
    pub chars_offset: u32,
    /// Its length in bytes.
    pub chars_len: u32,
    /// Number of foreground runs.
    pub runs: u32,
    /// Padding.
    pub _pad: u32,
}

/// The ROI of one detection slot and how it is split into items, written by
/// `rle_select_roi`'s plan. The same record holds each query's ROI in the
/// per-query array its query blocks write (`known` set when found there).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaskRoi {
    /// First canvas row.
    pub r0: u32,
    /// First canvas column.
    pub c0: u32,
    /// Rows per column (≥ 1).
    pub rows: u32,
    /// Pixels (0 when nothing can be foreground).
    pub total: u32,
    /// Non-zero when the ROI spans the whole canvas height (runs may continue
    /// from one column into the next).
    pub full_height: u32,
    /// Items (chunks) of this slot: ≥ 1 for a detection, 0 for an empty slot.
    pub chunks: u32,
    /// Index of its first item; items of all slots are numbered in slot order.
    pub item_start: u32,
    /// Non-zero when the ROI fields hold a found ROI (per-query records: 0
    /// when the query's block did not look).
    pub known: u32,
}

/// What the mask kernels know about one chunk (item): a range of ROI pixels
/// in column-major ROI order. Written by `rle_select_roi` (its slot),
/// `rle_mask_count` (range, events, first/last events, characters, whether
/// they are stored) and `rle_mask_reserve` (arena offset).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkState {
    /// First ROI pixel (column-major ROI index) of this chunk.
    pub begin: u32,
    /// One past its last pixel.
    pub end: u32,
    /// Run boundaries ("events") in the chunk.
    pub events: u32,
    /// Characters of the chunk's events from its fourth on (the first three
    /// need the previous chunks' events, so the reserve step encodes them).
    pub chars: u32,
    /// The chunk's first three events (flat canvas positions).
    pub first: [u32; 3],
    /// Its last three events, newest first.
    pub last: [u32; 3],
    /// Arena offset where the characters of its fourth event start.
    pub out: u32,
    /// Non-zero when the detection's string did not fit the arena.
    pub skip: u32,
    /// Non-zero when `rle_mask_count` kept the chunk's `chars` characters in
    /// its slot of the chunk store (they fitted); the write pass then copies
    /// them instead of walking the chunk again.
    pub stored: u32,
    /// The detection slot (`b*Q + q`) the chunk belongs to, written by
    /// `rle_select_roi`'s plan so the item passes look it up with one load.
    pub slot: u32,
    /// Groups of `MASK_ITEMS` pixels `rle_mask_count` decided without a
    /// vertical pass (`uniform`); what is left was evaluated pixel by pixel.
    pub decided: u32,
    /// Wide tiles (more than `MASK_TILE` pixels) `rle_mask_count` walked.
    pub wide: u32,
    /// Tiles (wide or not) whose events were more than they could encode at
    /// once (`wide_events`, `WIDE_EVENT_CAP`) and were encoded in parts.
    pub split: u32,
    /// Bytes of the characters of the chunk's first events, which the
    /// reserve step wrote into the device arena just before `out`; the
    /// write pass copies them to the host arena with the chunk's own.
    pub lead: u32,
}

/// Frame-level counters written by the kernels. The host uploads them
/// zeroed with the frame's parameters (they live in its parameter blob), so
/// no kernel has to clear them before another block counts.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameCounters {
    /// Bytes of the string arena handed out (may exceed the capacity: then the
    /// strings that did not fit were not written and the host grows the arena
    /// to at least this size and runs the reserve and write passes again).
    pub chars_used: u64,
    /// Detections whose string did not fit.
    pub overflowed: u32,
    /// Items `rle_mask_write`'s blocks took from the queue
    /// (`FrameParams::item_queue`), past the first one each.
    pub write_queue: u32,
    /// Blocks of `rle_mask_write` finished (the last one copies these
    /// counters to mapped host memory).
    pub write_done: u32,
    /// Blocks of `rle_select_roi` finished (the last one plans the items).
    pub roi_done: u32,
    /// Items of the frame (set by `rle_select_roi`'s last block).
    pub items: u32,
    /// Detections whose ROI the plan found itself because their query's
    /// block had not (0 unless `FrameParams::early_rois == 0`: the GPU
    /// suites assert it).
    pub late_rois: u32,
    /// Items `rle_mask_count`'s blocks took from the queue, past the first
    /// one each.
    pub count_queue: u32,
    /// Unused (keeps the record free of padding bytes).
    pub _pad: u32,
}

/// Bytes of [`FrameCounters`] the host clears before rerunning the reserve
/// and write passes (`chars_used`, `overflowed`, `write_queue` and
/// `write_done`; the item plan stays).
pub const COUNTERS_RESET_BYTES: usize = 20;
const _: () = assert!(core::mem::offset_of!(FrameCounters, write_done) + 4 == COUNTERS_RESET_BYTES);

const _: () = assert!(core::mem::size_of::<FrameParams>() == 88);
const _: () = assert!(core::mem::size_of::<ImageParams>() == 116);
const _: () = assert!(core::mem::size_of::<TapSpan>() == 8);
const _: () = assert!(core::mem::size_of::<DetRecord>() == 48);
const _: () = assert!(core::mem::size_of::<FrameCounters>() == 40);
const _: () = assert!(core::mem::size_of::<ChunkState>() == 72);
const _: () = assert!(core::mem::size_of::<MaskRoi>() == 32);
const _: () = assert!(core::mem::align_of::<ImageParams>() == 4);
