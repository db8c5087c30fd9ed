//! Deterministic synthetic RF-DETR outputs, bit-identical to `scripts/synth.py`.
//!
//! A [`Recipe`] (compact JSON) regenerates a batch of logits, boxes and mask logits
//! with integer hashing only ([`hash`]), blob-shaped masks with matching boxes
//! (`shapes`) and one exact `int · 2^-k` conversion per value, so the Python
//! fixture generator and this crate produce the same bits; [`TensorHashes`]
//! (SHA-256 of the little-endian bytes) prove it. [`random`] draws whole random
//! cases (recipe + metadata + options) for property and GPU tests; [`frame_case`]
//! one realistic frame of a released model for the CLI demo and benchmarks.

mod frame;
mod generate;
pub mod hash;
pub mod random;
mod recipe;
mod shapes;

#[cfg(test)]
mod expected_hashes;

pub use frame::{frame_case, Model, FRAMES};
pub use generate::{
    generate, try_generate, SynthBatch, SynthError, SynthMasks, TensorHashes, MAX_TENSOR_ELEMENTS,
};
pub use random::{random_recipe, Limits};
pub use recipe::*;
