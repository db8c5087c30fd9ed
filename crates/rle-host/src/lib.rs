//! Host API of the GPU post-processor: RF-DETR instance-segmentation outputs
//! (class logits, boxes, low-resolution mask logits) in, detections with COCO
//! RLE masks out, computed by the Rust-built PTX kernels of `rle-kernels` and
//! identical to the CPU reference `rle-reference` (same types, same bits).
//!
//! - [`Postprocessor`]: bound to one device and one stream, with a pool of
//!   device buffers and mapped pinned host buffers reused frame after frame.
//! - Inputs as host ndarrays ([`Postprocessor::run`]) or as device memory
//!   ([`Postprocessor::run_device`], zero-copy for TensorRT / ONNX Runtime /
//!   PyTorch users), synchronous or enqueued ([`Postprocessor::submit_device`]
//!   then [`Postprocessor::collect`], up to [`Config::max_in_flight`] frames).
//! - [`MaskOps`]: the second kernel family (`mask-kernels`): area, bounding
//!   box, dense decode and pairwise IoU of COCO RLE masks on the GPU.
//! - No GPU? [`Fallback::Cpu`] runs `rle-cpu` (the sparse CPU path, equal to the
//!   reference); [`Fallback::Error`] says why.
//!
//! The driver is loaded dynamically (cudarc), so this crate builds and its
//! tests run on machines without CUDA; [`driver_present`] tells whether one
//! can be used.

#![deny(missing_docs)]

mod bundle;
mod device_batch;
mod driver;
mod error;
mod frame;
mod frame_slot;
mod handles;
mod launch;
mod mask_ops;
mod memory;
mod params;
mod postprocessor;
mod profile;
mod tables;
mod toolkit;

pub use bundle::{
    entries as ptx_entries, ptx_target, ptx_version, PtxModule, MASK_MODULE, PTX, PTX_MODULES,
    RLE_MODULE,
};
pub use device_batch::DeviceBatch;
pub use driver::{driver_present, DeviceInfo};
pub use error::{Error, Result};
pub use frame_slot::ChunkPaths;
pub use handles::{DevicePtr, EventHandle, StreamHandle};
pub use mask_ops::{DeviceMasks, IouMatrix, MaskOps, MaskTimes, RleSet, RleStats};
pub use params::{MaskDtype, Shapes};
pub use postprocessor::{
    Config, DeviceInputs, Fallback, Postprocessor, Ticket, DEFAULT_MAX_IN_FLIGHT, ITEM_ROUNDS,
};
pub use profile::{Kernel, KernelTimes};

// One crate to depend on: the input and output types `Postprocessor` takes and
// returns are `rle_reference`'s, re-exported so callers need not name a second
// crate, and so are the `ndarray` and `half` versions those types are built on
// (a caller with another ndarray version would get "expected ArrayView3, found
// ArrayView3" errors).
pub use half;
pub use ndarray;
pub use rle_reference::Error as InputError;
pub use rle_reference::{
    Batch, CanvasRule, CocoRle, Detection, ImageMeta, ImageResult, MaskLogits, NearDecision,
    NearDecisionKind, Options, ResizeMode, Size, StaticCrop, Threshold, Xyxy,
};

/// The Rust example of README.md, compiled and run as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
