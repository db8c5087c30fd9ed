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
mod memory;
mod params;
mod postprocessor;
mod profile;
mod tables;

pub use bundle::{entries as ptx_entries, ptx_target, ptx_version, PTX};
pub use device_batch::DeviceBatch;
pub use driver::{driver_present, DeviceInfo};
pub use error::{Error, Result};
pub use handles::{DevicePtr, EventHandle, StreamHandle};
pub use params::{MaskDtype, Shapes};
pub use postprocessor::{
    Config, DeviceInputs, Fallback, Postprocessor, Ticket, DEFAULT_MAX_IN_FLIGHT,
};
pub use profile::{Kernel, KernelTimes};
