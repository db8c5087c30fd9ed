//! The RLE post-processor's device: its context, its PTX module (in its
//! sm_90 form on sm_90 devices, for programmatic launches) and kernels.
//! The module is loaded eagerly when a [`Gpu`] is created, so a driver that
//! cannot JIT it fails here, with a remedy, instead of in the middle of a
//! video. Opening a device and loading a module are `crate::toolkit`'s
//! (shared with the other kernel families).

use std::sync::Arc;

use cudarc::driver::{result, sys, CudaContext};
use rle_kernels::abi::{
    KERNEL_MASK_COUNT, KERNEL_MASK_RESERVE, KERNEL_MASK_WRITE, KERNEL_SELECT_ROI, KERNEL_SNAPSHOT,
    KERNEL_WIDEN, MASK_THREADS,
};

use crate::bundle;
use crate::error::{DriverContext, Result};
use crate::toolkit;

/// Whether the CUDA driver library can be loaded on this machine. Must be
/// checked before any other driver call: cudarc panics without it.
pub fn driver_present() -> bool {
    // SAFETY: only tries to dlopen libcuda.
    unsafe { sys::is_culib_present() }
}

/// Facts about the device, for `rle info` and benchmark reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Ordinal.
    pub ordinal: usize,
    /// Marketing name, e.g. "NVIDIA H100 80GB HBM3".
    pub name: String,
    /// Compute capability `(major, minor)`.
    pub compute_capability: (i32, i32),
    /// `cuDriverGetVersion`, e.g. 13000.
    pub driver_version: i32,
    /// Multiprocessors.
    pub multiprocessors: i32,
}

/// A context with the kernel module loaded.
#[derive(Debug)]
pub(crate) struct Gpu {
    pub(crate) ctx: Arc<CudaContext>,
    pub(crate) module: sys::CUmodule,
    pub(crate) select_roi: sys::CUfunction,
    pub(crate) mask_count: sys::CUfunction,
    pub(crate) mask_reserve: sys::CUfunction,
    pub(crate) mask_write: sys::CUfunction,
    pub(crate) widen: sys::CUfunction,
    pub(crate) snapshot: sys::CUfunction,
    /// Blocks of the persistent item kernels: as many as are resident at once.
    pub(crate) item_blocks: u32,
    /// Threads per block of `rle_mask_reserve` (a multiple of 32, at most
    /// `RESERVE_THREADS`; `Postprocessor::set_reserve_threads`).
    pub(crate) reserve_threads: u32,
    /// The module was loaded in its sm_90 form, so the item passes may be
    /// launched programmatically (`toolkit::module::load_for`).
    pub(crate) programmatic: bool,
    pub(crate) info: DeviceInfo,
}

// SAFETY: CUDA handles are usable from any thread once the context is bound
// (every entry point binds it first).
unsafe impl Send for Gpu {}
// SAFETY: as above; the handles are never mutated after creation.
unsafe impl Sync for Gpu {}

impl Gpu {
    /// Opens device `ordinal` and loads the embedded RLE PTX module (device
    /// opening and module loading are the family-independent
    /// `crate::toolkit`).
    pub(crate) fn open(ordinal: usize) -> Result<Self> {
        let (ctx, info) = toolkit::device::open(ordinal)?;
        let (module, programmatic) = toolkit::module::load_for(
            &bundle::RLE_MODULE,
            info.compute_capability,
            info.driver_version,
        )?;
        let function = |name: &'static str| toolkit::module::function(module, name);
        let mask_count = function(KERNEL_MASK_COUNT)?;
        let mask_write = function(KERNEL_MASK_WRITE)?;
        let item_blocks = item_blocks(&[mask_count, mask_write], info.multiprocessors)?;
        Ok(Self {
            select_roi: function(KERNEL_SELECT_ROI)?,
            mask_count,
            mask_reserve: function(KERNEL_MASK_RESERVE)?,
            mask_write,
            widen: function(KERNEL_WIDEN)?,
            snapshot: function(KERNEL_SNAPSHOT)?,
            item_blocks,
            reserve_threads: rle_kernels::abi::DEFAULT_RESERVE_THREADS,
            programmatic,
            ctx,
            module,
            info,
        })
    }
}

/// Grid of the persistent item kernels: the blocks of the least occupant of
/// `kernels` that fit on the device at once (a larger grid would only queue
/// blocks behind the loop; a smaller one leaves SMs idle).
fn item_blocks(kernels: &[sys::CUfunction], multiprocessors: i32) -> Result<u32> {
    let mut per_sm = i32::MAX;
    for &f in kernels {
        // SAFETY: a function of the loaded module; static shared memory only.
        let n = unsafe {
            result::occupancy::max_active_block_per_multiprocessor(f, MASK_THREADS as i32, 0)
        }
        .call("cuOccupancyMaxActiveBlocksPerMultiprocessor")?;
        per_sm = per_sm.min(n);
    }
    Ok((per_sm.max(1) as u32).saturating_mul(multiprocessors.max(1) as u32))
}

impl Drop for Gpu {
    fn drop(&mut self) {
        if self.ctx.bind_to_thread().is_ok() {
            // SAFETY: our own module; no kernel of it runs (owners synchronize).
            let _ = unsafe { result::module::unload(self.module) };
        }
    }
}
