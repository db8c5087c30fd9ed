//! The typed error of the fixture loader.
//!
//! Invariant: every variant names the file (or case) and what was expected, so a
//! failing test says which fixture to regenerate or which generator drifted.

use std::path::PathBuf;

use thiserror::Error;

use crate::synth::SynthError;

/// Why a fixture could not be loaded or its inputs not reproduced.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// Reading a file or folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not the JSON this crate expects.
    #[error("{path}: invalid fixture JSON: {source}")]
    Json {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A file's content is inconsistent (bad base64, lengths that disagree, ...).
    #[error("{path}: {reason}")]
    Format {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The case's recipe is invalid.
    #[error("case {case}: {source}")]
    Recipe {
        /// Case name.
        case: String,
        /// The cause.
        source: SynthError,
    },
    /// The regenerated tensor differs from the one the oracle saw: the Rust and
    /// Python generators drifted apart (or the fixture is stale).
    #[error("case {case}: regenerated {tensor} hash {got} differs from the fixture's {expected} (scripts/synth.py and rle_fixtures::synth disagree)")]
    HashMismatch {
        /// Case name.
        case: String,
        /// `"logits"`, `"boxes"` or `"masks"`.
        tensor: &'static str,
        /// Hash stored in the fixture.
        expected: String,
        /// Hash of the regenerated tensor.
        got: String,
    },
}
