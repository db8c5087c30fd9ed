//! `Engine` (one `rle_host::Postprocessor`) and `Ticket` (one submitted
//! frame), the classes the Python `Postprocessor` wraps.

use std::sync::Mutex;

use half::{bf16, f16, slice::HalfBitsSliceExt};
use ndarray::{ArrayView3, ArrayView4};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyList;
use rle_host::{Config, DeviceInputs, EventHandle, Fallback, Postprocessor, Shapes, StreamHandle};
use rle_reference::{Batch, MaskLogits};

use crate::convert::{self, bad, error, MetaTuple, OptionsTuple};
use crate::InputError;

/// Whether libcuda can be loaded here.
#[pyfunction]
pub(crate) fn driver_present() -> bool {
    rle_host::driver_present()
}

/// `(counts (n, L) int64 zero-padded, lengths (n,) int32)`: the uncompressed
/// COCO counts of compressed strings (what inference-models' Triton path
/// attaches as `_rle_counts_cpu` / `_rle_lengths_cpu`).
#[pyfunction]
pub(crate) fn uncompressed_counts<'py>(
    py: Python<'py>,
    counts: Vec<Vec<u8>>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyArray1<i32>>)> {
    let decoded = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rle_reference::rle::decompress(c)
                .map_err(|e| InputError::new_err(format!("counts[{i}]: not a COCO string: {e:?}")))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let width = decoded.iter().map(Vec::len).max().unwrap_or(0);
    let mut flat = vec![0i64; decoded.len() * width];
    for (row, c) in flat.chunks_mut(width.max(1)).zip(&decoded) {
        for (d, &v) in row.iter_mut().zip(c) {
            *d = i64::from(v);
        }
    }
    let lengths: Vec<i32> = decoded.iter().map(|c| c.len() as i32).collect();
    let m = PyArray1::from_vec(py, flat).reshape([decoded.len(), width])?;
    Ok((m.into_any(), PyArray1::from_vec(py, lengths)))
}

/// `(name, (major, minor), ordinal)` of a device.
type DeviceTuple = (String, (i32, i32), usize);

/// A frame submitted with `Engine.submit_device`; `Engine.collect` takes it.
#[pyclass(module = "rle_gpu._native")]
pub(crate) struct Ticket {
    inner: Mutex<Option<rle_host::Ticket>>,
    id: u64,
}

#[pymethods]
impl Ticket {
    /// The ticket's number.
    #[getter]
    fn id(&self) -> u64 {
        self.id
    }
}

/// One post-processor: a GPU (with CPU fallback) or the CPU.
#[pyclass(module = "rle_gpu._native")]
pub(crate) struct Engine {
    inner: Mutex<Postprocessor>,
}

fn shape_of(name: &str, a: &PyReadonlyArrayDyn<'_, f32>, rank: usize) -> PyResult<Vec<usize>> {
    let s = a.shape().to_vec();
    if s.len() != rank {
        return Err(bad(format!(
            "{name}: expected {rank} dimensions, got shape {s:?}"
        )));
    }
    Ok(s)
}

fn slice<'a, T: numpy::Element>(name: &str, a: &'a PyReadonlyArrayDyn<'_, T>) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|_| bad(format!("{name}: expected a C-contiguous array")))
}

impl Engine {
    /// Runs `f` on the post-processor with the GIL released (the lock is
    /// taken inside, so a thread waiting for it never holds the GIL).
    fn with<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Postprocessor) -> rle_host::Result<R> + Send,
    ) -> PyResult<R> {
        py.detach(|| f(&mut *self.lock()?).map_err(error))
    }

    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, Postprocessor>> {
        self.inner.lock().map_err(|_| {
            crate::DeviceError::new_err("the post-processor is poisoned by an earlier panic")
        })
    }
}

#[pymethods]
impl Engine {
    /// `ordinal`: a CUDA device, or `None` for the CPU only; `fallback`:
    /// `"cpu"` (run on the CPU when no GPU is usable) or `"error"`.
    #[new]
    #[pyo3(signature = (ordinal, fallback, max_in_flight))]
    fn new(
        py: Python<'_>,
        ordinal: Option<usize>,
        fallback: &str,
        max_in_flight: usize,
    ) -> PyResult<Self> {
        let fallback = match fallback {
            "cpu" => Fallback::Cpu,
            "error" => Fallback::Error,
            other => {
                return Err(InputError::new_err(format!(
                    "fallback: expected \"cpu\" or \"error\", got {other:?}"
                )))
            }
        };
        let pp = match ordinal {
            None => Postprocessor::cpu(),
            Some(ordinal) => py
                .detach(|| {
                    Postprocessor::new(Config {
                        ordinal,
                        fallback,
                        max_in_flight,
                    })
                })
                .map_err(error)?,
        };
        Ok(Self {
            inner: Mutex::new(pp),
        })
    }

    /// Whether frames run on the GPU.
    #[getter]
    fn is_gpu(&self) -> PyResult<bool> {
        Ok(self.lock()?.is_gpu())
    }

    /// `(name, (major, minor), ordinal)` of the device, or `None` on the CPU.
    #[getter]
    fn device(&self) -> PyResult<Option<DeviceTuple>> {
        Ok(self
            .lock()?
            .device_info()
            .map(|d| (d.name.clone(), d.compute_capability, d.ordinal)))
    }

    /// Frames that may be in flight at once (0 on the CPU).
    #[getter]
    fn max_in_flight(&self) -> PyResult<usize> {
        Ok(self.lock()?.max_in_flight())
    }

    /// Frames submitted and not finished.
    #[getter]
    fn in_flight(&self) -> PyResult<usize> {
        Ok(self.lock()?.in_flight())
    }

    /// Host arrays: `logits` (B, Q, C) f32, `boxes` (B, Q, 4) f32, `masks`
    /// (B, Q, Mh, Mw) f32, or uint16 bit patterns of `mask_dtype`
    /// ("float16" / "bfloat16"). Runs on the GPU (inputs staged through
    /// pinned memory) or the CPU.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (logits, boxes, masks, mask_dtype, metas, opts))]
    fn run_host<'py>(
        &self,
        py: Python<'py>,
        logits: PyReadonlyArrayDyn<'py, f32>,
        boxes: PyReadonlyArrayDyn<'py, f32>,
        masks: &Bound<'py, PyAny>,
        mask_dtype: &str,
        metas: Vec<MetaTuple>,
        opts: OptionsTuple,
    ) -> PyResult<Bound<'py, PyList>> {
        let (metas, opts) = convert::frame_args(metas, opts)?;
        let out = with_host_batch(&logits, &boxes, masks, mask_dtype, |batch| {
            self.with(py, |pp| pp.run(batch, &metas, &opts))
        })?;
        convert::results(py, &out)
    }

    /// Device buffers: `ptrs` = (logits, boxes, masks) addresses, `dtypes`
    /// their element types, `shape` = (B, Q, C, Mh, Mw); `stream` a raw
    /// CUDA stream handle (None: the post-processor's own stream). Waits for
    /// this frame only.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (ptrs, dtypes, shape, stream, metas, opts))]
    fn run_device<'py>(
        &self,
        py: Python<'py>,
        ptrs: (u64, u64, u64),
        dtypes: (String, String, String),
        shape: (usize, usize, usize, usize, usize),
        stream: Option<usize>,
        metas: Vec<MetaTuple>,
        opts: OptionsTuple,
    ) -> PyResult<Bound<'py, PyList>> {
        let (inputs, metas, opts) = device_args(ptrs, &dtypes, shape, metas, opts)?;
        let stream = stream.map(StreamHandle::from_raw);
        // SAFETY: the Python layer passes the addresses of live tensors it
        // keeps referenced for the whole call; their sizes are checked
        // against the allocations by `run_device`.
        let out = self.with(py, |pp| unsafe {
            pp.run_device(&inputs, stream, &metas, &opts)
        })?;
        convert::results(py, &out)
    }

    /// Like `run_device`, but enqueues and returns a `Ticket` at once;
    /// `inputs_consumed`: a raw CUDA event recorded once the kernels stop
    /// reading the inputs.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (ptrs, dtypes, shape, stream, inputs_consumed, metas, opts))]
    fn submit_device(
        &self,
        py: Python<'_>,
        ptrs: (u64, u64, u64),
        dtypes: (String, String, String),
        shape: (usize, usize, usize, usize, usize),
        stream: Option<usize>,
        inputs_consumed: Option<usize>,
        metas: Vec<MetaTuple>,
        opts: OptionsTuple,
    ) -> PyResult<Ticket> {
        let (inputs, metas, opts) = device_args(ptrs, &dtypes, shape, metas, opts)?;
        let stream = stream.map(StreamHandle::from_raw);
        let consumed = inputs_consumed.map(EventHandle::from_raw);
        // SAFETY: the Python layer keeps the tensors referenced until the
        // ticket is collected (or the consumed event completed); sizes are
        // checked by `submit_device`.
        let t = self.with(py, |pp| unsafe {
            pp.submit_device(&inputs, stream, consumed, &metas, &opts)
        })?;
        Ok(Ticket {
            id: t.id(),
            inner: Mutex::new(Some(t)),
        })
    }

    /// Whether a ticket's frame is done on the GPU (never blocks).
    fn is_ready(&self, ticket: &Ticket) -> PyResult<bool> {
        let guard = ticket
            .inner
            .lock()
            .map_err(|_| bad("ticket poisoned".into()))?;
        match guard.as_ref() {
            None => Err(InputError::new_err(format!(
                "ticket {}: already collected",
                ticket.id
            ))),
            Some(t) => self.lock()?.is_ready(t).map_err(error),
        }
    }

    /// The results of a submitted frame (waits for it; the GIL is released).
    fn collect<'py>(&self, py: Python<'py>, ticket: &Ticket) -> PyResult<Bound<'py, PyList>> {
        let t = ticket
            .inner
            .lock()
            .map_err(|_| bad("ticket poisoned".into()))?
            .take()
            .ok_or_else(|| {
                InputError::new_err(format!("ticket {}: already collected", ticket.id))
            })?;
        let out = self.with(py, |pp| pp.collect(t))?;
        convert::results(py, &out)
    }

    /// Drops a ticket's results (waits for its GPU work); a collected
    /// ticket is left alone.
    fn discard(&self, py: Python<'_>, ticket: &Ticket) -> PyResult<()> {
        let taken = ticket
            .inner
            .lock()
            .map_err(|_| bad("ticket poisoned".into()))?
            .take();
        if let Some(t) = taken {
            self.with(py, |pp| pp.discard(t))?;
        }
        Ok(())
    }
}

/// The CPU reference itself (`rle_reference::postprocess`) on host arrays
/// laid out as for `Engine.run_host`: what the tests compare every path with.
#[pyfunction]
#[pyo3(signature = (logits, boxes, masks, mask_dtype, metas, opts))]
pub(crate) fn reference<'py>(
    py: Python<'py>,
    logits: PyReadonlyArrayDyn<'py, f32>,
    boxes: PyReadonlyArrayDyn<'py, f32>,
    masks: &Bound<'py, PyAny>,
    mask_dtype: &str,
    metas: Vec<MetaTuple>,
    opts: OptionsTuple,
) -> PyResult<Bound<'py, PyList>> {
    let (metas, opts) = convert::frame_args(metas, opts)?;
    let out = with_host_batch(&logits, &boxes, masks, mask_dtype, |batch| {
        py.detach(|| rle_reference::postprocess(batch, &metas, &opts))
            .map_err(|e| error(rle_host::Error::Input(e)))
    })?;
    convert::results(py, &out)
}

/// Builds the `Batch` view of host arrays (shapes checked, C-contiguous
/// required) and hands it to `f` while the array guards are alive.
fn with_host_batch<'py, R>(
    logits: &PyReadonlyArrayDyn<'py, f32>,
    boxes: &PyReadonlyArrayDyn<'py, f32>,
    masks: &Bound<'py, PyAny>,
    mask_dtype: &str,
    f: impl FnOnce(&Batch<'_>) -> PyResult<R>,
) -> PyResult<R> {
    let ls = shape_of("logits", logits, 3)?;
    let bs = shape_of("boxes", boxes, 3)?;
    let l = ArrayView3::from_shape((ls[0], ls[1], ls[2]), slice("logits", logits)?)
        .map_err(|e| bad(format!("logits: {e}")))?;
    let b = ArrayView3::from_shape((bs[0], bs[1], bs[2]), slice("boxes", boxes)?)
        .map_err(|e| bad(format!("boxes: {e}")))?;
    let kind = convert::dtype("masks", mask_dtype)?;
    let m4 = |s: &[usize]| -> PyResult<(usize, usize, usize, usize)> {
        match s {
            [a, b, c, d] => Ok((*a, *b, *c, *d)),
            _ => Err(bad(format!(
                "masks: expected 4 dimensions, got shape {s:?}"
            ))),
        }
    };
    let view_err = |e: ndarray::ShapeError| bad(format!("masks: {e}"));
    if kind == rle_host::MaskDtype::F32 {
        let m = masks
            .extract::<PyReadonlyArrayDyn<'py, f32>>()
            .map_err(|_| bad("masks: expected a float32 array".into()))?;
        let d = m4(m.shape())?;
        let masks =
            MaskLogits::F32(ArrayView4::from_shape(d, slice("masks", &m)?).map_err(view_err)?);
        return f(&Batch {
            logits: l,
            boxes: b,
            masks,
        });
    }
    let m = masks
        .extract::<PyReadonlyArrayDyn<'py, u16>>()
        .map_err(|_| bad("masks: expected uint16 bit patterns of the half type".into()))?;
    let d = m4(m.shape())?;
    let raw = slice("masks", &m)?;
    let masks = if kind == rle_host::MaskDtype::F16 {
        let h: &[f16] = raw.reinterpret_cast();
        MaskLogits::F16(ArrayView4::from_shape(d, h).map_err(view_err)?)
    } else {
        let h: &[bf16] = raw.reinterpret_cast();
        MaskLogits::Bf16(ArrayView4::from_shape(d, h).map_err(view_err)?)
    };
    f(&Batch {
        logits: l,
        boxes: b,
        masks,
    })
}

/// The Rust values of a device call's arguments.
fn device_args(
    ptrs: (u64, u64, u64),
    dtypes: &(String, String, String),
    shape: (usize, usize, usize, usize, usize),
    metas: Vec<MetaTuple>,
    opts: OptionsTuple,
) -> PyResult<(
    DeviceInputs,
    Vec<rle_reference::ImageMeta>,
    rle_reference::Options,
)> {
    let (metas, opts) = convert::frame_args(metas, opts)?;
    Ok((device_inputs(ptrs, dtypes, shape)?, metas, opts))
}

fn device_inputs(
    ptrs: (u64, u64, u64),
    dtypes: &(String, String, String),
    shape: (usize, usize, usize, usize, usize),
) -> PyResult<DeviceInputs> {
    let (batch, queries, columns, mask_h, mask_w) = shape;
    Ok(DeviceInputs {
        logits: ptrs.0,
        boxes: ptrs.1,
        masks: ptrs.2,
        shapes: Shapes {
            batch,
            queries,
            columns,
            mask_h,
            mask_w,
            mask_dtype: convert::dtype("masks", &dtypes.2)?,
        },
        logits_dtype: convert::dtype("logits", &dtypes.0)?,
        boxes_dtype: convert::dtype("bboxes", &dtypes.1)?,
    })
}
