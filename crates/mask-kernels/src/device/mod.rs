//! Device-only code (nvptx64): this family's entry points ([`scan`],
//! [`decode`], [`iou`]), built on the device primitives every kernel family
//! shares (`kernel_prims`: thread indices, barriers, warp/block scans,
//! atomics, and `shared_bytes!` for each kernel's static shared array).

mod decode;
mod iou;
mod scan;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: `trap` aborts the kernel; the host sees a launch error.
    unsafe { core::arch::nvptx::trap() }
}
