//! The one `cuLaunchKernel` wrapper of the crate and its argument helper.
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
