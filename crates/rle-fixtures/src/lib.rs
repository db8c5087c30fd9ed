//! Deterministic synthetic RF-DETR outputs (bit-identical in Rust and in the
//! Python fixture generator) and the loader of the committed, PyTorch-verified
//! fixture files.
//!
//! - [`synth`]: recipe → tensors (the twin of `scripts/synth.py`), random cases,
//!   realistic frames of the released models.
//! - [`meta`]: pre-processing metadata builders (SPEC §8.2).
//! - [`format`](mod@format), [`load`]: `fixtures/cases/*.json`, `sigmoid.json`, `resize_raw.json`.
//!
//! Invariant: a case's inputs are only ever handed out after their SHA-256 matched
//! the hashes the oracle recorded ([`Case::inputs`]).

#![deny(missing_docs)]

pub mod error;
pub mod format;
pub mod load;
pub mod meta;
pub mod synth;

pub use error::FixtureError;
pub use format::{Case, ExpectedDetection, ExpectedImage};
pub use load::{
    all_cases, case_paths, fixtures_dir, load_case, load_resize_raw, load_sigmoid, ResizeRawCase,
    SigmoidFixture, FIXTURES_ENV,
};
pub use synth::{
    frame_case, generate, random_recipe, try_generate, Limits, MaskDtype, Model, Recipe,
    SynthBatch, SynthMasks, SynthRecipe,
};
