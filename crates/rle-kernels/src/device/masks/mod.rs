//! The mask stage: four kernels over detections and their items.
//!
//! - `rle_select_roi` (blocks `0..B` select, `crate::device::select`; the
//!   other `B*Q` blocks take one query each): a query that can
//!   become a detection gets its ROI, the bounding box of source logits `> 0`
//!   inside the padded/cropped window mapped through the resize tables (a
//!   pixel can only be foreground if its span holds such a logit, all
//!   weights being ≥ 0; SPEC §7), beside the selection. The last block to
//!   finish gives each detection its query's ROI, splits every ROI into
//!   chunks of about equal pixel counts (`chunks::chunk_pixels`) and numbers
//!   them: the frame's "items" (each chunk state records its detection slot).
//! - `rle_mask_count` (a persistent grid looping over items): evaluates an
//!   item's pixels exactly as the reference does (groups of pixels whose
//!   horizontal passes share a decided sign are set without a vertical pass:
//!   `crate::uniform`), counts run boundaries
//!   ("events") and the COCO characters of every event from the chunk's
//!   fourth on (those only need events of the same chunk), and keeps those
//!   characters in the item's slot of the chunk store when they fit.
//! - `rle_mask_reserve` (grid `(Q, B)`, up to `RESERVE_THREADS`): per detection,
//!   chains its chunks in parallel (`chunks::event_in_run`), encodes each
//!   chunk's first three events and the trailing count, reserves the string's
//!   arena space with one atomic and writes those characters.
//! - `rle_mask_write` (the same item loop as count): copies each stored
//!   chunk's characters to the reserved offset; evaluates the others again
//!   and writes theirs.
//!
//! Work follows pixels, not detections: a frame's large masks are spread over
//! every SM instead of a fixed number of blocks per detection. Pixels are
//! walked in canvas column-major order, so runs that continue from the bottom
//! of one column into the top of the next merge by construction. Count →
//! reserve → write: no cap on runs, ROI or canvas size. When the arena is too
//! small the detection is marked and nothing is written; the host grows the
//! arena and runs reserve and write again.
//!
//! Files: `ctx.rs` (a detection's evaluation context: window reads, one
//! pixel, horizontal passes), `roi.rs` (the ROI and the item plan,
//! `rle_select_roi`), `items.rs` (item → detection lookup), `walk.rs` (the
//! block-wide walk over a chunk's pixels: foreground, events, characters),
//! `passes.rs` (`rle_mask_count`, `rle_mask_write`), `reserve.rs` (chaining a
//! detection's chunks, `rle_mask_reserve`). The shared-memory layout below is
//! common to all of them.

mod ctx;
mod items;
mod passes;
mod reserve;
mod roi;
mod walk;

use super::{
    atomic_add, atomic_add_u64, atomic_max, atomic_min, bid_x, bid_y, block_exclusive_scan,
    fence_gpu, grid_dependency_wait, launch_dependents, nbid_x, ntid, shared_bytes, sync, tid,
    warp_max, warp_min,
};
use crate::abi::{
    dtype, resize_mode, ChunkState, DetRecord, FrameCounters, FrameParams, ImageParams, MaskRoi,
    TapSpan, MASK_ITEMS, MASK_TILE, MASK_WIDE_TILE, WIDE_EVENT_CAP,
};
use crate::chunks::{boundary_values, chunk_pixels, chunk_range, chunks_for, event_in_run};
use crate::coco::{char_len, coded_value, write_chars};
use crate::events::{byte_bits, column_period, column_tops, event_position, group_events};
use crate::fp::{bf16_bits_to_f32, f16_bits_to_f32};
use crate::tables::{foreground_threshold, horizontal, tap_index, vertical};
use crate::tiles::{tile_columns, tile_len, HPASS_CAP};
use crate::uniform::{group_class, shortcuts_allowed, BACKGROUND, MIXED};

const SCAN: usize = 0; // 32 u32
const MISC: usize = 32; // 16 u32
const CARRY: usize = 48; // 4 u32: the last three events, newest first
const FIRST: usize = 52; // 4 u32: the chunk's first three events
const EVENTS: usize = 64; // WIDE_EVENT_CAP events of a tile (or part of one)
const TILE: u32 = MASK_TILE;
const WIDE: u32 = MASK_WIDE_TILE;
const ECAP: u32 = WIDE_EVENT_CAP;
// Pixels of the parts a tile with too many events is encoded in.
const PART: u32 = ECAP / 2;
const WORDS: usize = EVENTS + ECAP as usize;
const FG: usize = WORDS * 4; // byte offset: foreground of tile pixels -1 ..= WIDE
const HPASS: usize = 5186; // word offset: horizontal passes of a tile's columns
const SMEM_BYTES: usize = 28_936;
// Groups of MASK_ITEMS pixels a thread encodes at once (a wide tile's share).
const GROUPS: usize = (WIDE / TILE) as usize;
// A uniform foreground group's eight bytes.
const ALL_FG: u64 = 0x0101_0101_0101_0101;
const _: () = assert!(GROUPS as u32 * MASK_TILE >= WIDE);
const _: () = assert!(FG + WIDE as usize + 2 <= HPASS * 4);
const _: () = assert!(FG % 8 == 0); // the walk reads 8-aligned words of it
const _: () = assert!((HPASS + HPASS_CAP as usize) * 4 <= SMEM_BYTES);
const _: () = assert!(WORDS * 4 <= SMEM_BYTES);
// The mixed-group list of a wide tile lives in the event array.
const _: () = assert!((WIDE + 2).div_ceil(MASK_ITEMS) <= ECAP);
// A part's events always fit (two per pixel at most), and a part is whole
// groups of a thread's MASK_ITEMS pixels.
const _: () = assert!(2 * PART <= ECAP && PART % MASK_ITEMS == 0);
const _: () = assert!(TILE < WIDE && WIDE % MASK_ITEMS == 0);
const _: () = assert!(RESERVE_WORDS * 4 <= RESERVE_SMEM_BYTES);
const _: () = assert!(crate::abi::MASK_THREADS == 256 && SUM % 2 == 0);
const RESERVE_SMEM_BYTES: usize = 20_736;

// MISC slots.
const W_DECIDED: usize = MISC; // walk, thread 0: groups decided at once
const W_WIDE: usize = MISC + 1; // walk, thread 0: wide tiles
const W_SPLIT: usize = MISC + 2; // walk, thread 0: tiles encoded in parts
const W_CHARS: usize = MISC + 3; // walk: characters of the chunk so far
const W_AT: usize = MISC + 4; // walk: the destination (a pointer, 8-aligned: 2 slots)
const W_CAP: usize = MISC + 6; // walk: the destination's capacity in bytes
const W_EVENTS: usize = MISC + 7; // walk: events of the chunk so far
const NMIX: usize = MISC + 8; // walk: mixed groups of the tile (their list at EVENTS)
const FLAG: usize = MISC + 9; // block-uniform yes/no from thread 0
const R_OFF: usize = MISC + 10; // reserve: arena offset
const R_FITS: usize = MISC + 11; // reserve: the string fits
/// Walk: every character so far was written to the destination. The item
/// passes' own slot: the reserve step, which has `R_FITS` here, is a kernel
/// of its own with its own shared array.
const W_WRITTEN: usize = MISC + 11;
const _: () = assert!(W_AT % 2 == 0);
const SUM: usize = MISC + 12; // plan: u64 sum of ROI pixels (8-aligned)
const NEXT: usize = MISC + 14; // item passes: the block's next item (2 slots, in turn)

// Reserve step, over one round of RESERVE_THREADS chunk states (its own
// shared array, after the SCAN and MISC slots):
const ROUND: usize = crate::abi::RESERVE_THREADS as usize;
const R_PRE: usize = EVENTS; // events before each chunk of the round
const R_CNT: usize = R_PRE + ROUND; // events of each chunk
const R_LAST: usize = R_CNT + ROUND; // last three events of each chunk
const RESERVE_WORDS: usize = R_LAST + 3 * ROUND;

/// Whether slot `q` of image `b` holds a detection.
///
/// # Safety
/// `b < B`; `det_count` per the kernels' contract.
#[inline(always)]
unsafe fn is_detection(det_count: *const u32, q: u32, b: u32) -> bool {
    // SAFETY: per the contract.
    unsafe { q < *det_count.add(b as usize) }
}
