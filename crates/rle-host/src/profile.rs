//! Per-kernel GPU times of one frame ([`KernelTimes`]), measured by CUDA
//! events recorded on the frame's stream between its launches
//! ([`crate::Postprocessor::run_device_profiled`]). This is what the
//! per-kernel benchmarks (`benches/kernels.rs`) time: each kernel alone, on
//! the buffers a real frame left for it, without relaunching it out of order
//! (count and reserve accumulate into counters, so a lone relaunch would not
//! be the work of a frame). Recording events adds work to a frame, so the
//! production path records none.

use std::time::Duration;

use cudarc::driver::sys;

use crate::error::Result;
use crate::toolkit::events::EventSet;

/// The kernels of a frame, in launch order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// `rle_select_roi`: scores, top-k, thresholds, sort, boxes; beside
    /// them each query's ROI; then the frame's item plan.
    SelectRoi,
    /// `rle_mask_count`: pass 1 over the items (events, characters).
    MaskCount,
    /// `rle_mask_reserve`: chains each detection's chunks, reserves its string.
    MaskReserve,
    /// `rle_mask_write`: pass 2 over the items (the characters), its last
    /// block copying the counters out.
    MaskWrite,
}

impl Kernel {
    /// Every kernel, in launch order.
    pub const ALL: [Kernel; 4] = [
        Kernel::SelectRoi,
        Kernel::MaskCount,
        Kernel::MaskReserve,
        Kernel::MaskWrite,
    ];

    /// Short name for benchmark IDs (`select_roi`, `mask_count`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Kernel::SelectRoi => "select_roi",
            Kernel::MaskCount => "mask_count",
            Kernel::MaskReserve => "mask_reserve",
            Kernel::MaskWrite => "mask_write",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// GPU time of each kernel of one frame (from the event before its launch
/// to the event after it, so a launch gap on the GPU counts to the kernel
/// that waited). When the string arena had to grow, the rerun of reserve
/// and write is not included: these are the first pass's times.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct KernelTimes {
    gpu: [Duration; 4],
}

impl KernelTimes {
    /// The time of `kernel`.
    pub fn of(&self, kernel: Kernel) -> Duration {
        self.gpu[kernel.index()]
    }

    /// Sum over the kernels.
    pub fn total(&self) -> Duration {
        self.gpu.iter().sum()
    }
}

/// The events of a profiled frame: one before the first launch and one after
/// each. Created on first use and kept with the post-processor. The events
/// themselves are the family-independent `toolkit::events::EventSet`.
#[derive(Debug)]
pub(crate) struct StageEvents {
    events: EventSet<5>,
}

impl StageEvents {
    /// Creates the events in the current context.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            events: EventSet::new()?,
        })
    }

    /// Records mark `i` (0: before the first launch; `k + 1`: after kernel `k`).
    pub(crate) fn mark(&self, i: usize, stream: sys::CUstream) -> Result<()> {
        self.events.mark(i, stream)
    }

    /// The times between the marks, once the stream has been synchronized.
    pub(crate) fn times(&self) -> Result<KernelTimes> {
        let mut t = KernelTimes::default();
        for k in Kernel::ALL {
            let i = k.index();
            t.gpu[i] = self.events.between(i, i + 1)?;
        }
        Ok(t)
    }

    /// Destroys the events (the context must be current).
    pub(crate) fn destroy(self) {
        self.events.destroy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names_are_distinct_and_in_launch_order() {
        let names: Vec<_> = Kernel::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(
            names,
            ["select_roi", "mask_count", "mask_reserve", "mask_write"]
        );
        for (i, k) in Kernel::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }

    #[test]
    fn total_sums_the_kernels() {
        let mut t = KernelTimes::default();
        t.gpu[1] = Duration::from_micros(50);
        t.gpu[3] = Duration::from_micros(7);
        assert_eq!(t.of(Kernel::MaskCount), Duration::from_micros(50));
        assert_eq!(t.total(), Duration::from_micros(57));
    }
}
