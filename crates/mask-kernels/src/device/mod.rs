//! Device-only code (nvptx64): the few thread-index, barrier and warp
//! primitives this family needs ([`prims`]), and its entry points
//! ([`scan`], [`decode`], [`iou`]).
//!
//! The primitives are this crate's own on purpose: a kernel crate compiles
//! alone to its own PTX module, and `rle-kernels`' device helpers are private
//! to it. Shared memory is declared with inline PTX at kernel scope
//! ([`prims::shared_bytes!`]), once per kernel.

mod decode;
mod iou;
mod prims;
mod scan;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: `trap` aborts the kernel; the host sees a launch error.
    unsafe { core::arch::nvptx::trap() }
}
