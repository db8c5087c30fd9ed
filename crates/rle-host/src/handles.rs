//! The caller's CUDA handles as plain newtypes, so users of this crate never
//! name a cudarc type: a stream (`torch.cuda.current_stream().cuda_stream`,
//! `cudaStream_t`, `CUstream`: the same handle) and an event (`cudaEvent_t`,
//! `CUevent`). Building one is safe; the `unsafe` entry points that take one
//! state what it must refer to.

use cudarc::driver::sys;

/// A device address (`CUdeviceptr`, a tensor's `data_ptr()`).
pub type DevicePtr = u64;

/// A CUDA stream handle of the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamHandle(usize);

impl StreamHandle {
    /// The legacy default stream (handle 0): it waits for, and is waited on
    /// by, every blocking stream of the context.
    pub const LEGACY_DEFAULT: Self = Self(0);
    /// The per-thread default stream (`CU_STREAM_PER_THREAD`, handle 2).
    pub const PER_THREAD_DEFAULT: Self = Self(2);

    /// Wraps a raw `CUstream` / `cudaStream_t` value.
    pub const fn from_raw(raw: usize) -> Self {
        Self(raw)
    }

    /// The raw handle.
    pub const fn as_raw(self) -> usize {
        self.0
    }

    pub(crate) fn cu(self) -> sys::CUstream {
        self.0 as sys::CUstream
    }
}

/// A CUDA event handle of the caller (e.g. `torch.cuda.Event().cuda_event`
/// after its first `record`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventHandle(usize);

impl EventHandle {
    /// Wraps a raw `CUevent` / `cudaEvent_t` value.
    pub const fn from_raw(raw: usize) -> Self {
        Self(raw)
    }

    /// The raw handle.
    pub const fn as_raw(self) -> usize {
        self.0
    }

    pub(crate) fn cu(self) -> sys::CUevent {
        self.0 as sys::CUevent
    }
}
