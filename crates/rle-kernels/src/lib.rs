//! GPU kernels of the post-processor, written in `no_std` Rust and compiled to PTX.
#![no_std]
