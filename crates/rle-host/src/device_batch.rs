//! [`DeviceBatch`]: a batch copied into device memory owned by this crate.
//! Benchmarks, the CLI and tests use it to exercise the zero-copy device path
//! ([`Postprocessor::run_device`](crate::Postprocessor::run_device)) the way a
//! TensorRT or PyTorch user would, with inputs already resident on the GPU.

use cudarc::driver::{result, CudaContext};
use rle_reference::{Batch, MaskLogits};
use std::sync::Arc;

use crate::error::{DriverContext, Result};
use crate::memory::DeviceBuffer;
use crate::params::{MaskDtype, Shapes};
use crate::postprocessor::DeviceInputs;

/// Logits, boxes and masks of one batch in device memory.
#[derive(Debug)]
pub struct DeviceBatch {
    logits: DeviceBuffer,
    boxes: DeviceBuffer,
    masks: DeviceBuffer,
    shapes: Shapes,
}

fn upload<T: Copy>(
    ctx: &Arc<CudaContext>,
    view: ndarray::ArrayViewD<'_, T>,
) -> Result<DeviceBuffer> {
    let data: Vec<T> = view.iter().copied().collect();
    let mut buf = DeviceBuffer::empty(ctx);
    buf.ensure(std::mem::size_of_val(data.as_slice()).max(1))?;
    // SAFETY: the buffer holds at least `data`'s bytes; synchronous copy.
    unsafe { result::memcpy_htod_sync(buf.ptr(), &data) }.call("cuMemcpyHtoD(batch)")?;
    Ok(buf)
}

impl DeviceBatch {
    pub(crate) fn new(ctx: &Arc<CudaContext>, batch: &Batch) -> Result<Self> {
        ctx.bind_to_thread().call("cuCtxSetCurrent")?;
        let [b, q, mh, mw] = batch.masks.shape();
        let (masks, mask_dtype) = match batch.masks {
            MaskLogits::F32(m) => (upload(ctx, m.into_dyn())?, MaskDtype::F32),
            MaskLogits::F16(m) => (upload(ctx, m.into_dyn())?, MaskDtype::F16),
            MaskLogits::Bf16(m) => (upload(ctx, m.into_dyn())?, MaskDtype::Bf16),
        };
        Ok(Self {
            logits: upload(ctx, batch.logits.into_dyn())?,
            boxes: upload(ctx, batch.boxes.into_dyn())?,
            masks,
            shapes: Shapes {
                batch: b,
                queries: q,
                columns: batch.logits.shape()[2],
                mask_h: mh,
                mask_w: mw,
                mask_dtype,
            },
        })
    }

    /// The raw device view for [`Postprocessor::run_device`](crate::Postprocessor::run_device).
    pub fn inputs(&self) -> DeviceInputs {
        DeviceInputs::f32(
            self.logits.ptr(),
            self.boxes.ptr(),
            self.masks.ptr(),
            self.shapes,
        )
    }
}
