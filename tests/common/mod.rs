//! Helpers shared by the root integration tests that need a GPU.

use rle_host::{Config, Fallback, Postprocessor};

/// A GPU post-processor; fails loudly (never skips) when there is none, so a
/// GPU test run with `--include-ignored` on a CPU machine fails.
pub fn gpu() -> Postprocessor {
    Postprocessor::new(Config {
        ordinal: 0,
        fallback: Fallback::Error,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("this test needs a CUDA GPU: {e}"))
}
