//! A fixed set of CUDA events recorded on one stream, and the GPU time
//! between any two of them: what per-kernel profiling of any family is made
//! of (`crate::profile` for the RLE frame, `crate::mask_ops` for the mask
//! kernels). Recording adds work, so production paths record none.

use std::time::Duration;

use cudarc::driver::{result, sys};

use crate::error::{DriverContext, Result};

/// `N` events of the current context.
#[derive(Debug)]
pub(crate) struct EventSet<const N: usize> {
    events: [sys::CUevent; N],
}

impl<const N: usize> EventSet<N> {
    /// Creates the events in the current context (none leak on failure).
    pub(crate) fn new() -> Result<Self> {
        let mut events = [std::ptr::null_mut(); N];
        for i in 0..N {
            match result::event::create(sys::CUevent_flags::CU_EVENT_DEFAULT) {
                Ok(ev) => events[i] = ev,
                Err(err) => {
                    for made in &events[..i] {
                        // SAFETY: created just above, never recorded.
                        let _ = unsafe { result::event::destroy(*made) };
                    }
                    return Err(err).call("cuEventCreate");
                }
            }
        }
        Ok(Self { events })
    }

    /// Records event `i` on `stream`.
    pub(crate) fn mark(&self, i: usize, stream: sys::CUstream) -> Result<()> {
        // SAFETY: our event; `stream` belongs to the same context.
        unsafe { result::event::record(self.events[i], stream) }.call("cuEventRecord")
    }

    /// GPU time from event `from` to event `to`, both recorded on one
    /// stream that has since been synchronized.
    pub(crate) fn between(&self, from: usize, to: usize) -> Result<Duration> {
        // SAFETY: both events were recorded on one stream, which completed.
        let ms = unsafe { result::event::elapsed(self.events[from], self.events[to]) }
            .call("cuEventElapsedTime")?;
        Ok(Duration::from_secs_f64(f64::from(ms.max(0.0)) * 1e-3))
    }

    /// Destroys the events (the context must be current).
    pub(crate) fn destroy(self) {
        for e in self.events {
            // SAFETY: our events; the stream they were recorded on was synchronized.
            let _ = unsafe { result::event::destroy(e) };
        }
    }
}
