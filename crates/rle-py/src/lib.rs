//! `rle_gpu._native`: the Python extension module over `rle-host`. It is the
//! thin typed layer only; the Python package (`python/rle_gpu`) turns
//! tensors, DLPack capsules and `__cuda_array_interface__` dicts into the
//! addresses, shapes and stream handles these functions take, and builds the
//! user-facing objects from the tuples they return.
//!
//! Rules kept here: the GIL is released while a frame runs (host or GPU);
//! every `rle_host::Error` becomes a Python exception carrying its one-line
//! message (`InputError`, a `ValueError`, for what the caller passed;
//! `DeviceError`, a `RuntimeError`, for the driver); nothing panics across
//! the boundary (pyo3 turns a panic into `PanicException` anyway, but no
//! input reaches one).

mod convert;
mod engine;

use pyo3::prelude::*;

pyo3::create_exception!(
    _native,
    InputError,
    pyo3::exceptions::PyValueError,
    "Inputs, metadata or options rejected (same checks as the CPU reference)."
);
pyo3::create_exception!(
    _native,
    DeviceError,
    pyo3::exceptions::PyRuntimeError,
    "The CUDA driver or device failed, or none is usable."
);

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("DeviceError", py.get_type::<DeviceError>())?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<engine::Ticket>()?;
    m.add_function(wrap_pyfunction!(engine::uncompressed_counts, m)?)?;
    m.add_function(wrap_pyfunction!(engine::driver_present, m)?)?;
    m.add_function(wrap_pyfunction!(engine::reference, m)?)?;
    m.add("DEFAULT_MAX_IN_FLIGHT", rle_host::DEFAULT_MAX_IN_FLIGHT)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
