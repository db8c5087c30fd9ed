//! CPU reference of the RF-DETR instance-segmentation post-processing that turns
//! class logits, boxes and low-resolution mask logits into COCO RLE masks.
//!
//! It reproduces, step by step, what the PyTorch reference computes on CUDA
//! (`docs/SPEC.md` at the repository root is the contract). It is deliberately simple: dense arrays,
//! one function per step, no cleverness. Every faster implementation in this
//! workspace is checked against it.
//!
//! Entry points: [`postprocess`] (scores from the CPU sigmoid, near decisions
//! reported) and [`postprocess_with_scores`] (scores from an exact source, bit-exact).
//! The steps are public modules so the GPU host and tests can reuse them:
//! [`sigmoid`] → [`select`] → [`boxes`] → [`geometry`] → [`resize`] → [`mask`] → [`rle`].

#![deny(missing_docs)]

pub mod boxes;
pub mod error;
pub mod geometry;
pub mod mask;
mod pipeline;
pub mod resize;
pub mod rle;
pub mod select;
pub mod sigmoid;
pub mod torch_sort;
mod types;
pub mod validate;

pub use error::Error;
pub use pipeline::{postprocess, postprocess_with_scores};
pub use types::*;
pub use validate::validate;
