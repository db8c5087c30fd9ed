//! The host crate's typed error. Every variant says what failed, where, and
//! (for driver problems) what to do about it.

use cudarc::driver::DriverError;
use thiserror::Error;

/// Why the GPU post-processor could not start or could not process a frame.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The CUDA driver library (libcuda) is not installed or not loadable.
    #[error(
        "no CUDA driver: libcuda could not be loaded on this machine; install the NVIDIA driver, \
         or create the post-processor with `Fallback::Cpu` to run the CPU reference instead"
    )]
    NoDriver,
    /// The requested device does not exist.
    #[error("no CUDA device with ordinal {ordinal}: the driver reports {count} device(s)")]
    NoDevice {
        /// Ordinal asked for.
        ordinal: usize,
        /// Devices present.
        count: i32,
    },
    /// A driver call failed.
    #[error("CUDA driver call `{call}` failed: {source}")]
    Driver {
        /// The call, e.g. `cuLaunchKernel(rle_mask_count)`.
        call: &'static str,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// The driver refused the embedded PTX bundle.
    #[error(
        "the CUDA driver could not load the embedded PTX (PTX ISA {ptx_version}, {ptx_target}; \
         driver API {driver_version}): {source}. Remedy: update the NVIDIA driver to one that \
         supports PTX ISA {ptx_version} (CUDA 11.0 or newer), or rebuild the bundle for an older \
         ISA with `cargo xtask build-ptx`"
    )]
    PtxLoad {
        /// `.version` of the bundle.
        ptx_version: String,
        /// `.target` of the bundle.
        ptx_target: String,
        /// `cuDriverGetVersion`, e.g. 13000.
        driver_version: i32,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// The inputs, metadata or options were rejected (same checks as the CPU reference).
    #[error(transparent)]
    Input(#[from] rle_reference::Error),
    /// A size the GPU path cannot index.
    #[error("{what}: {got} exceeds the GPU path's limit of {limit}")]
    Limit {
        /// What is too large, e.g. `"Q (queries)"`.
        what: String,
        /// The limit.
        limit: u64,
        /// The value given.
        got: u64,
    },
    /// A device pointer handed in by the caller is unusable.
    #[error("{field}: {reason}")]
    DevicePointer {
        /// e.g. `"inputs.masks"`.
        field: &'static str,
        /// What is wrong, with the numbers.
        reason: String,
    },
    /// An RLE mask handed to [`crate::MaskOps`] is malformed or does not
    /// fit its set.
    #[error("RLE mask {mask}: {what}: expected {expected}, got {got}")]
    MaskInput {
        /// Index of the mask in its set.
        mask: usize,
        /// What is wrong, e.g. `"counts sum (height * width)"`.
        what: &'static str,
        /// The value it must have (or the limit).
        expected: u64,
        /// The value given.
        got: u64,
    },
    /// RLE masks handed to [`crate::MaskOps`] that must share one size do
    /// not (within a set, or the two sets of an IoU).
    #[error("RLE mask {mask}: {what}: expected {expected_h}×{expected_w}, got {got_h}×{got_w}")]
    MaskSize {
        /// Index of the mask in its set (0 for a whole set).
        mask: usize,
        /// Which size, e.g. `"size of set b (an IoU's two sets share one size)"`.
        what: &'static str,
        /// Height expected.
        expected_h: u32,
        /// Width expected.
        expected_w: u32,
        /// Height given.
        got_h: u32,
        /// Width given.
        got_w: u32,
    },
    /// A COCO RLE string handed to [`crate::MaskOps`] does not decode.
    #[error("RLE mask {mask}: {source}")]
    MaskRle {
        /// Index of the mask in its set.
        mask: usize,
        /// Why the string does not decode.
        #[source]
        source: rle_reference::rle::RleError,
    },
    /// A ticket of [`crate::Postprocessor::submit_device`] that this
    /// post-processor cannot collect.
    #[error("ticket {ticket}: {reason}")]
    Ticket {
        /// The ticket's number.
        ticket: u64,
        /// Why, e.g. already collected.
        reason: String,
    },
}

/// Shorthand for `Result<T, rle_host::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds the failing call's name to a driver result.
pub(crate) trait DriverContext<T> {
    fn call(self, call: &'static str) -> Result<T>;
}

impl<T> DriverContext<T> for std::result::Result<T, DriverError> {
    fn call(self, call: &'static str) -> Result<T> {
        self.map_err(|source| Error::Driver { call, source })
    }
}
