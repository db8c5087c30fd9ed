//! Opening a CUDA device: the driver check cudarc needs before any call,
//! `cuInit`, the ordinal check, the primary context and the facts
//! ([`DeviceInfo`]) reports and benches print.

use std::sync::Arc;

use cudarc::driver::{result, sys, CudaContext};

use crate::driver::{driver_present, DeviceInfo};
use crate::error::{DriverContext, Error, Result};

/// `cuDriverGetVersion`, e.g. 13000.
pub(crate) fn driver_version() -> Result<i32> {
    let mut v = 0;
    // SAFETY: writes one int.
    unsafe { sys::cuDriverGetVersion(&mut v) }
        .result()
        .call("cuDriverGetVersion")?;
    Ok(v)
}

/// The primary context of device `ordinal` (bound to this thread) and its
/// facts. `Error::NoDriver` without libcuda, `Error::NoDevice` for a
/// missing ordinal.
pub(crate) fn open(ordinal: usize) -> Result<(Arc<CudaContext>, DeviceInfo)> {
    if !driver_present() {
        return Err(Error::NoDriver);
    }
    result::init().call("cuInit")?;
    let count = result::device::get_count().call("cuDeviceGetCount")?;
    if ordinal >= count.max(0) as usize {
        return Err(Error::NoDevice { ordinal, count });
    }
    let ctx = CudaContext::new(ordinal).call("cuDevicePrimaryCtxRetain")?;
    let driver_version = driver_version()?;
    let attr = |a| ctx.attribute(a).call("cuDeviceGetAttribute");
    let info = DeviceInfo {
        ordinal,
        name: ctx.name().call("cuDeviceGetName")?,
        compute_capability: (
            attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?,
            attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?,
        ),
        driver_version,
        multiprocessors: attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?,
    };
    Ok((ctx, info))
}
