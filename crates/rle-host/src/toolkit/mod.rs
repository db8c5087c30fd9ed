//! The family-independent host layer every kernel family builds on: opening
//! a device ([`device`]), loading one embedded PTX module eagerly and looking
//! up its functions ([`module`]), the one `cuLaunchKernel` wrapper and its
//! argument helper ([`launch`]), CUDA-event timing ([`events`]), and the
//! growing device and mapped host buffers ([`crate::memory`], re-exported
//! here). The RLE post-processor (`driver.rs`, `launch.rs`, `profile.rs`) and
//! the mask family (`mask_ops/`) both use it; a new family should need
//! nothing else from this crate (docs/WRITING_KERNELS.md).

pub(crate) mod device;
pub(crate) mod events;
pub(crate) mod launch;
pub(crate) mod module;

pub(crate) use crate::memory::DeviceBuffer;
