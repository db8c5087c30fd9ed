//! Device buffers and mapped pinned host buffers owned by a post-processor.
//!
//! Both grow on demand and never shrink, so after the first frames of a shape
//! the pool is big enough and a frame allocates nothing. Growth discards the
//! old contents (callers refill them every frame or re-upload on growth).

use std::ffi::c_void;
use std::sync::Arc;

use cudarc::driver::{result, sys, CudaContext};

use crate::error::{DriverContext, Result};

/// Rounds a request up so repeated small growth does not reallocate each time.
fn grown(bytes: usize) -> usize {
    bytes.max(256).next_power_of_two()
}

/// A device allocation (`cuMemAlloc`).
pub(crate) struct DeviceBuffer {
    ptr: sys::CUdeviceptr,
    bytes: usize,
    ctx: Arc<CudaContext>,
}

impl std::fmt::Debug for DeviceBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceBuffer({:#x}, {} bytes)", self.ptr, self.bytes)
    }
}

impl DeviceBuffer {
    pub(crate) fn empty(ctx: &Arc<CudaContext>) -> Self {
        Self {
            ptr: 0,
            bytes: 0,
            ctx: ctx.clone(),
        }
    }

    /// Makes room for `bytes`; returns whether it reallocated.
    pub(crate) fn ensure(&mut self, bytes: usize) -> Result<bool> {
        if bytes <= self.bytes && self.ptr != 0 {
            return Ok(false);
        }
        self.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        let size = grown(bytes);
        // SAFETY: frees our own allocation (not in use: callers synchronize
        // their stream before growing) and allocates a fresh one.
        unsafe {
            let old = self.bytes;
            if self.ptr != 0 {
                result::free_sync(self.ptr).call("cuMemFree")?;
                self.ptr = 0;
                self.bytes = 0;
            }
            match result::malloc_sync(size) {
                Ok(p) => self.ptr = p,
                Err(e) => {
                    // Keep the pool usable: take the old capacity back (its
                    // memory was just freed), so frames that fit it still run.
                    if old > 0 {
                        if let Ok(p) = result::malloc_sync(old) {
                            self.ptr = p;
                            self.bytes = old;
                        }
                    }
                    return Err(e).call("cuMemAlloc");
                }
            }
        }
        self.bytes = size;
        Ok(true)
    }

    pub(crate) fn ptr(&self) -> sys::CUdeviceptr {
        self.ptr
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        if self.ptr != 0 && self.ctx.bind_to_thread().is_ok() {
            // SAFETY: our own allocation; the owner synchronized its stream.
            let _ = unsafe { result::free_sync(self.ptr) };
        }
    }
}

/// Page-locked host memory mapped into the device address space
/// (`cuMemHostAlloc(DEVICEMAP)`): kernels write results straight into it and
/// the host reads them after one stream synchronization.
pub(crate) struct MappedHost {
    host: *mut u8,
    dev: sys::CUdeviceptr,
    bytes: usize,
    ctx: Arc<CudaContext>,
}

impl std::fmt::Debug for MappedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MappedHost({:p}, {} bytes)", self.host, self.bytes)
    }
}

// SAFETY: the buffer is owned memory; access is serialized by `&mut` on the owner.
unsafe impl Send for MappedHost {}
// SAFETY: as above; shared references only read.
unsafe impl Send for DeviceBuffer {}

impl MappedHost {
    pub(crate) fn empty(ctx: &Arc<CudaContext>) -> Self {
        Self {
            host: std::ptr::null_mut(),
            dev: 0,
            bytes: 0,
            ctx: ctx.clone(),
        }
    }

    /// Makes room for `bytes`; returns whether it reallocated.
    pub(crate) fn ensure(&mut self, bytes: usize) -> Result<bool> {
        if bytes <= self.bytes && !self.host.is_null() {
            return Ok(false);
        }
        self.ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        let size = grown(bytes);
        // SAFETY: frees our own allocation (owner synchronized), allocates a
        // mapped one and asks the driver for its device address.
        unsafe {
            if !self.host.is_null() {
                result::free_host(self.host.cast()).call("cuMemFreeHost")?;
                self.host = std::ptr::null_mut();
                self.bytes = 0;
            }
            let old = self.bytes;
            if let Err(e) = self.allocate(size) {
                // As for device buffers: take the old capacity back.
                if old > 0 {
                    let _ = self.allocate(old);
                }
                return Err(e);
            }
        }
        Ok(true)
    }

    /// Allocates `size` mapped bytes into an empty `self` (no leak on failure).
    ///
    /// # Safety
    /// `self.host` is null (nothing to free).
    unsafe fn allocate(&mut self, size: usize) -> Result<()> {
        // SAFETY: allocates a mapped buffer and asks for its device address;
        // frees it again if that fails.
        unsafe {
            let flags = sys::CU_MEMHOSTALLOC_DEVICEMAP | sys::CU_MEMHOSTALLOC_PORTABLE;
            let host = result::malloc_host(size, flags).call("cuMemHostAlloc")?;
            let mut dev: sys::CUdeviceptr = 0;
            if let Err(e) = sys::cuMemHostGetDevicePointer_v2(&mut dev, host, 0).result() {
                let _ = result::free_host(host);
                return Err(e).call("cuMemHostGetDevicePointer");
            }
            self.host = host.cast();
            self.dev = dev;
            self.bytes = size;
        }
        Ok(())
    }

    pub(crate) fn capacity(&self) -> usize {
        self.bytes
    }

    pub(crate) fn dev(&self) -> sys::CUdeviceptr {
        self.dev
    }

    pub(crate) fn host_ptr(&self) -> *mut c_void {
        self.host.cast()
    }

    /// The first `bytes` as a byte slice (the caller synchronized the stream).
    pub(crate) fn bytes(&self, bytes: usize) -> &[u8] {
        assert!(
            bytes <= self.bytes,
            "read of {bytes} bytes from a {}-byte mapped buffer",
            self.bytes
        );
        if bytes == 0 {
            return &[];
        }
        // SAFETY: in bounds (checked above) and no kernel writes it now: the
        // owner synchronized the stream that wrote it.
        unsafe { std::slice::from_raw_parts(self.host, bytes) }
    }

    /// Copies `src` into the start of the buffer.
    pub(crate) fn write<T: Copy>(&mut self, offset: usize, src: &[T]) {
        let n = std::mem::size_of_val(src);
        assert!(
            offset + n <= self.bytes,
            "write past the end of a mapped buffer"
        );
        // SAFETY: in bounds (checked above); T is plain data; the previous
        // frame's transfers finished (the owner synchronized).
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr().cast::<u8>(), self.host.add(offset), n)
        };
    }
}

impl Drop for MappedHost {
    fn drop(&mut self) {
        if !self.host.is_null() && self.ctx.bind_to_thread().is_ok() {
            // SAFETY: our own allocation; the owner synchronized its stream.
            let _ = unsafe { result::free_host(self.host.cast()) };
        }
    }
}
