//! CPU reference of the RF-DETR instance-segmentation post-processing that turns
//! class logits, boxes and low-resolution mask logits into COCO RLE masks.
//!
//! It reproduces, step by step, what the PyTorch reference computes on CUDA
//! (docs/SPEC.md is the contract). It is deliberately simple: dense arrays,
//! one function per step, no cleverness. Every faster implementation in this
//! workspace is checked against it.

#![deny(missing_docs)]

mod types;

pub use types::*;
