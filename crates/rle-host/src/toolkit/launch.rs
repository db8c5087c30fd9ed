//! The crate's launch wrappers (`cuLaunchKernel`, and `cuLaunchKernelEx` for
//! programmatic dependent launches) and their argument helper.
//! Each family's typed launch functions (`crate::launch` for the RLE
//! kernels, `crate::mask_ops::launch` for the mask kernels) build the
//! parameter array and call [`go`] inside their one `unsafe` block.

use std::ffi::c_void;

use cudarc::driver::{result, sys};

use crate::error::{DriverContext, Result};

/// A kernel argument: the address of a value the launch copies.
pub(crate) fn arg<T>(v: &T) -> *mut c_void {
    (v as *const T).cast_mut().cast()
}

/// One `cuLaunchKernel` of `f` on `stream` with no dynamic shared memory; a
/// failure is `Error::Driver` naming `call`.
///
/// # Safety
/// `params` matches `f`'s parameter list and every pointer in it is valid
/// for the launch, as each typed launch function states.
pub(crate) unsafe fn go(
    f: sys::CUfunction,
    grid: (u32, u32, u32),
    threads: u32,
    stream: sys::CUstream,
    params: &mut [*mut c_void],
    call: &'static str,
) -> Result<()> {
    // SAFETY: the caller's contract.
    unsafe { result::launch_kernel(f, grid, (threads, 1, 1), 0, stream, params) }.call(call)
}

/// Like [`go`], but with `programmatic` the launch carries
/// `CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION` (`cuLaunchKernelEx`):
/// the grid's blocks may start before the grid queued before it on `stream`
/// completes, once every block of that one called
/// `kernel_prims::launch_dependents` or exited, and `f` waits for it in
/// `kernel_prims::grid_dependency_wait` before touching memory. That hides
/// the launch latency between dependent kernels. Without `programmatic`,
/// an ordinary launch.
///
/// # Safety
/// As for [`go`]; with `programmatic`, `f` belongs to a module loaded in its
/// sm_90 form (`toolkit::module::load_for` said so) and calls
/// `grid_dependency_wait` before any memory access the previous grid on
/// `stream` orders.
pub(crate) unsafe fn go_after(
    f: sys::CUfunction,
    grid: (u32, u32, u32),
    threads: u32,
    stream: sys::CUstream,
    params: &mut [*mut c_void],
    programmatic: bool,
    call: &'static str,
) -> Result<()> {
    if !programmatic {
        // SAFETY: the caller's contract.
        return unsafe { go(f, grid, threads, stream, params, call) };
    }
    let mut attr = sys::CUlaunchAttribute {
        id: sys::CUlaunchAttributeID::CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION,
        pad: [0; 4],
        value: sys::CUlaunchAttributeValue {
            programmaticStreamSerializationAllowed: 1,
        },
    };
    let config = sys::CUlaunchConfig {
        gridDimX: grid.0,
        gridDimY: grid.1,
        gridDimZ: grid.2,
        blockDimX: threads,
        blockDimY: 1,
        blockDimZ: 1,
        sharedMemBytes: 0,
        hStream: stream,
        attrs: &raw mut attr,
        numAttrs: 1,
    };
    // SAFETY: the caller's contract; `config` and its one attribute outlive
    // the call, which copies them.
    unsafe {
        sys::cuLaunchKernelEx(
            &raw const config,
            f,
            params.as_mut_ptr(),
            std::ptr::null_mut(),
        )
    }
    .result()
    .call(call)
}
