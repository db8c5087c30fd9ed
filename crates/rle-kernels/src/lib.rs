//! GPU kernels of the post-processor, written in `no_std` Rust and compiled to
//! PTX by `cargo xtask build-ptx` (rustc's NVPTX backend, pinned nightly).
//!
//! Layout:
//! - [`abi`]: every `#[repr(C)]` struct that crosses the host/device boundary and
//!   the kernel entry names. Plain data only; layouts pinned by const asserts.
//! - [`fp`], [`boxes`], [`tables`], [`coco`], [`chunks`], [`events`], [`keys`], [`tiles`], [`torch_sort`], [`uniform`]: logic shared by the
//!   kernels and the host. It compiles for the host too, where it is unit-tested
//!   against `rle-reference`, so the device runs the very code the tests check.
//! - `device` (nvptx64 only): the `extern "ptx-kernel"` entry points.
//!
//! Invariant: nothing here allocates; the device code never panics (the PTX
//! build uses `panic=immediate-abort`, so a panic would be a `trap`), and every
//! index is checked against sizes validated by the host before a launch.

#![no_std]
#![cfg_attr(
    target_arch = "nvptx64",
    feature(abi_ptx, stdarch_nvptx, asm_experimental_arch, link_llvm_intrinsics),
    allow(internal_features)
)]

pub mod abi;
pub mod boxes;
pub mod chunks;
pub mod coco;
pub mod events;
pub mod fp;
pub mod keys;
pub mod tables;
pub mod tiles;
pub mod torch_sort;
pub mod uniform;

#[cfg(test)]
mod test_rng;

#[cfg(target_arch = "nvptx64")]
mod device;
