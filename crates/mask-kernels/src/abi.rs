//! The host/device ABI of the mask family: the parameter and record structs
//! its kernels and `rle-host`'s `mask_ops` share, and the entry names.
//! Plain data only (integers, arrays of them): no `bool`, no enums; flags are
//! bits of a `u32`. Layouts are pinned by the const asserts at the end;
//! `crates/rle-host/ptx/entries.txt` snapshots the PTX parameter lists.
//!
//! Data layout on the device, for a set of `masks` COCO RLE masks that all
//! have the same `height × width` (the masks of one image):
//! - `counts: [u32; counts_len]`: every mask's uncompressed counts, one
//!   after the other (background run first, column-major, as pycocotools);
//! - `offsets: [u32; masks + 1]`: mask `i`'s counts are
//!   `counts[offsets[i]..offsets[i + 1]]`;
//! - `ends`, `fg_before: [u32; counts_len]` (written by `mask_rle_scan`):
//!   the column-major pixel where each run ends, and the foreground pixels
//!   of the mask before each run starts;
//! - `stats: [MaskStats; masks]` (written by `mask_rle_scan`).

/// Entry point: per mask, run ends, foreground prefix, area, bounding box
/// and status. Grid: one block of [`SCAN_THREADS`] per mask.
pub const KERNEL_RLE_SCAN: &str = "mask_rle_scan";
/// Entry point: every mask to a dense row-major `u8` mask (0 or 1). Grid:
/// `(pixel blocks, masks)`, blocks of [`DECODE_THREADS`].
pub const KERNEL_RLE_DECODE: &str = "mask_rle_decode";
/// Entry point: IoU and intersection of every pair `(a, b)` of two scanned
/// sets. Grid: `(masks_b, masks_a)`, blocks of [`IOU_THREADS`].
pub const KERNEL_RLE_IOU: &str = "mask_rle_iou";
/// Every entry point this family's PTX must contain.
pub const KERNELS: [&str; 3] = [KERNEL_RLE_SCAN, KERNEL_RLE_DECODE, KERNEL_RLE_IOU];

/// Threads per block of `mask_rle_scan` (a multiple of 32, at most 1024).
pub const SCAN_THREADS: u32 = 256;
/// Threads per block of `mask_rle_decode`.
pub const DECODE_THREADS: u32 = 256;
/// Most blocks of `mask_rle_decode` per mask; larger masks loop. Enough to
/// fill an H100 with one 1080p mask, few enough that small masks do not pay
/// for empty blocks.
pub const DECODE_MAX_BLOCKS_PER_MASK: u32 = 256;
/// Threads per block of `mask_rle_iou`.
pub const IOU_THREADS: u32 = 128;
/// Most masks per launch (`gridDim.y` of decode and IoU is at most 65535).
pub const MAX_MASKS: u32 = 65_535;

/// `MaskStats::status` bits.
pub mod status {
    /// `offsets[i] > offsets[i + 1]` or `offsets[i + 1] > counts_len`: the
    /// kernel clamped the span (and read only inside `counts`).
    pub const BAD_OFFSETS: u32 = 1;
    /// The counts sum to less than `height * width`.
    pub const SUM_SHORT: u32 = 2;
    /// The counts sum to more than `height * width`.
    pub const SUM_LONG: u32 = 4;
}

/// One set of masks (by value, the first parameter of every kernel).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaskSetParams {
    /// Number of masks (`offsets` has one more entry).
    pub masks: u32,
    /// Mask height `H` (rows).
    pub height: u32,
    /// Mask width `W` (columns). The host checks `H * W < 2^32`.
    pub width: u32,
    /// Length of `counts`, `ends` and `fg_before`.
    pub counts_len: u32,
}

/// What `mask_rle_scan` reports per mask.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaskStats {
    /// Sum of the counts (64-bit, so an overflowing sum is reported exactly).
    pub sum: u64,
    /// Foreground pixels (pycocotools `area`).
    pub area: u32,
    /// Number of counts (runs, background runs included).
    pub counts: u32,
    /// Tight bounding box `[x, y, w, h]` (pycocotools `toBbox`), zeros when
    /// the mask is empty.
    pub bbox: [u32; 4],
    /// [`status`] bits; 0 for well-formed counts.
    pub status: u32,
    /// Padding (keeps the size a multiple of 8).
    pub _pad: u32,
}

const _: () = assert!(core::mem::size_of::<MaskSetParams>() == 16);
const _: () = assert!(core::mem::align_of::<MaskSetParams>() == 4);
const _: () = assert!(core::mem::size_of::<MaskStats>() == 40);
const _: () = assert!(core::mem::align_of::<MaskStats>() == 8);
const _: () = assert!(SCAN_THREADS.is_multiple_of(32) && SCAN_THREADS <= 1024);
const _: () = assert!(IOU_THREADS.is_multiple_of(32) && IOU_THREADS <= 1024);
