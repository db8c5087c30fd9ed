//! Device primitives every kernel family is built from: thread and block
//! indices, the block barrier and the GPU-wide fence, warp shuffles and
//! reductions, block-wide scans and sums, relaxed atomics, warp-aggregated
//! appends, and [`shared_bytes!`] for static shared memory.
//!
//! Compiled for `nvptx64` only (on the host the crate is empty, so host
//! builds of the kernel crates' shared arithmetic need nothing from it).
//! Everything is `#[inline(always)]`: a call across crates would otherwise be
//! a PTX function call, and a value whose address escapes into one lives in
//! local memory.
//!
//! Contract of every function with a barrier or a full-warp shuffle: every
//! thread of the block (or every lane of the warp) reaches it, outside
//! divergent code, and block sizes are multiples of 32.

#![no_std]
#![cfg_attr(
    target_arch = "nvptx64",
    feature(stdarch_nvptx, asm_experimental_arch),
    allow(internal_features)
)]

#[cfg(target_arch = "nvptx64")]
mod atomics;
#[cfg(target_arch = "nvptx64")]
mod block;
#[cfg(target_arch = "nvptx64")]
mod thread;
#[cfg(target_arch = "nvptx64")]
mod warp;

#[cfg(target_arch = "nvptx64")]
pub use {atomics::*, block::*, thread::*, warp::*};

/// How a line of the baseline PTX (`.target sm_75`) carries an instruction
/// that only sm_90 has: as a comment with this prefix, which the host turns
/// into the instruction when it loads the module on an sm_90 device (with
/// the header raised to `.version 7.8`, `.target sm_90`), and leaves a
/// comment everywhere else. [`grid_dependency_wait`] and
/// [`launch_dependents`] are the two such lines. The host side is
/// `rle_host`'s `toolkit::module::specialize_sm90`.
pub const SM90_LINE_PREFIX: &str = "// sm_90: ";

/// Declares a `.shared` byte array of `$bytes` bytes named `$name` in the
/// calling kernel and evaluates to a generic `*mut u8` pointing at it.
///
/// rustc's NVPTX backend has no way to place a Rust static in the `.shared`
/// state space, so each kernel declares its one shared array with inline PTX
/// at function scope. Expand it exactly once per kernel: a second expansion
/// in the same kernel declares the symbol twice and ptxas rejects the PTX.
#[macro_export]
macro_rules! shared_bytes {
    ($name:literal, $bytes:literal) => {{
        let p: u64;
        // SAFETY: declares per-block shared storage and converts its address
        // to a generic pointer; no memory is touched.
        unsafe {
            core::arch::asm!(
                concat!(".shared .align 16 .b8 ", $name, "[", $bytes, "];"),
                concat!("cvta.shared.u64 {p}, ", $name, ";"),
                p = out(reg64) p,
            );
        }
        p as *mut u8
    }};
}
