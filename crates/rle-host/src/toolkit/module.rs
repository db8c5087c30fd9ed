//! Loading one embedded PTX module into the current context, eagerly (so a
//! driver that cannot JIT it fails at start-up with a remedy, not mid-run),
//! and looking up its kernels by name.

use std::ffi::CString;

use cudarc::driver::{result, sys};

use crate::bundle::PtxModule;
use crate::error::{DriverContext, Error, Result};

/// Loads `ptx` into the context bound to this thread; a refusal is
/// `Error::PtxLoad` naming the module's ISA and target and the driver.
/// The caller owns the returned module and unloads it
/// ([`result::module::unload`]) once no kernel of it runs.
pub(crate) fn load(ptx: &PtxModule, driver_version: i32) -> Result<sys::CUmodule> {
    let src = CString::new(ptx.text).expect("a PTX module contains no NUL byte");
    // SAFETY: a NUL-terminated PTX image; the caller bound the context.
    unsafe { result::module::load_data(src.as_ptr().cast()) }.map_err(|source| Error::PtxLoad {
        ptx_version: ptx.version().to_string(),
        ptx_target: ptx.target().to_string(),
        driver_version,
        source,
    })
}

/// The kernel `name` of a loaded `module`.
pub(crate) fn function(module: sys::CUmodule, name: &'static str) -> Result<sys::CUfunction> {
    let c = CString::new(name).expect("kernel names contain no NUL byte");
    // SAFETY: looks up a symbol in a module loaded by `load` and not unloaded.
    unsafe { result::module::get_function(module, c) }.call("cuModuleGetFunction")
}
