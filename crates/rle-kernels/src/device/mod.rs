//! Device-only code (nvptx64): the kernel entry points, built on the device
//! primitives every kernel family shares (`kernel_prims`: thread indices,
//! barriers, warp/block scans, atomics, `shared_bytes!` for the one static
//! shared array each kernel declares), re-exported here for the entry
//! points' modules.

use core::arch::nvptx;

pub(crate) use kernel_prims::{
    atomic_add, atomic_add_u64, atomic_max, atomic_min, bid_x, bid_y, block_exclusive_scan,
    fence_gpu, grid_dependency_wait, launch_dependents, nbid_x, ntid, prefetch_l1, shared_bytes,
    shfl_idx, shfl_xor, sync, tid, warp_aggregated_increment, warp_append, warp_inclusive_scan,
    warp_max, warp_min,
};

mod convert;
mod masks;
mod select;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: `trap` aborts the kernel; the host sees a launch error.
    unsafe { nvptx::trap() }
}
