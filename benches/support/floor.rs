//! The floor: the least a GPU post-processing frame can cost on this machine
//! and driver: one empty kernel launch, one 64-byte device→pinned-host copy and
//! one stream synchronization, through cudarc's thin `result` layer (no event
//! tracking), on the device's primary context like `rle_host`.
//!
//! "Distance to floor" in BENCHMARKS.md is a frame's p50 minus this p50: the
//! part of the latency that our kernels and host work could still shrink.

use std::ffi::c_void;
use std::sync::Arc;

use cudarc::driver::{result, sys, CudaContext, CudaFunction, CudaModule, DriverError};
use cudarc::nvrtc::Ptx;

/// An empty kernel, PTX ISA 7.0 for sm_75 like the kernel bundle.
const EMPTY_PTX: &str = "\
.version 7.0
.target sm_75
.address_size 64

.visible .entry rle_bench_empty()
{
    ret;
}
";
const EMPTY_ENTRY: &str = "rle_bench_empty";
const COPY_BYTES: usize = 64;

/// Loaded module, stream and buffers of the floor measurement.
#[derive(Debug)]
pub struct Floor {
    ctx: Arc<CudaContext>,
    _module: Arc<CudaModule>,
    func: CudaFunction,
    stream: sys::CUstream,
    dev: sys::CUdeviceptr,
    host: *mut c_void,
}

impl Floor {
    /// Loads the empty kernel on device `ordinal` and allocates the buffers.
    /// Callers check `rle_host::driver_present()` first (cudarc panics
    /// without a driver).
    pub fn new(ordinal: usize) -> Result<Self, DriverError> {
        let ctx = CudaContext::new(ordinal)?;
        let module = ctx.load_module(Ptx::from_src(EMPTY_PTX))?;
        let func = module.load_function(EMPTY_ENTRY)?;
        ctx.bind_to_thread()?;
        let stream = result::stream::create(result::stream::StreamKind::NonBlocking)?;
        // SAFETY: plain allocations in the bound context, freed in Drop; the
        // host buffer is page-locked (cuMemHostAlloc), as the copy needs.
        let (dev, host) = unsafe {
            (
                result::malloc_sync(COPY_BYTES)?,
                result::malloc_host(COPY_BYTES, 0)?,
            )
        };
        Ok(Self {
            ctx,
            _module: module,
            func,
            stream,
            dev,
            host,
        })
    }

    /// One floor frame: launch, copy, synchronize.
    pub fn once(&mut self) -> Result<(), DriverError> {
        // SAFETY: the kernel takes no parameters; `dev` and `host` hold
        // COPY_BYTES bytes each and nothing else uses them; the stream is
        // synchronized before returning, so the copy is complete.
        unsafe {
            result::launch_kernel(
                self.func.cu_function(),
                (1, 1, 1),
                (1, 1, 1),
                0,
                self.stream,
                &mut [],
            )?;
            let dst = std::slice::from_raw_parts_mut(self.host.cast::<u8>(), COPY_BYTES);
            result::memcpy_dtoh_async(dst, self.dev, self.stream)?;
            result::stream::synchronize(self.stream)
        }
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        if self.ctx.bind_to_thread().is_ok() {
            // SAFETY: our own stream and allocations; `once` left the stream idle.
            unsafe {
                let _ = result::stream::synchronize(self.stream);
                let _ = result::stream::destroy(self.stream);
                let _ = result::free_sync(self.dev);
                let _ = result::free_host(self.host);
            }
        }
    }
}
