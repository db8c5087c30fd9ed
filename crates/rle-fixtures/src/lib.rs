//! Deterministic synthetic RF-DETR outputs (bit-identical in Rust and in the
//! Python fixture generator) and the loader of the committed, PyTorch-verified
//! fixture files.
