//! Python values ⇄ `rle_host` types: metadata and option tuples in, result
//! tuples out, error mapping. The tuple layouts are private to the package
//! (`python/rle_gpu/_convert.py` writes and reads the same ones).

use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use rle_host::{Error, MaskDtype};
use rle_reference::{
    ImageMeta, ImageResult, Options, ResizeMode, Size, StaticCrop, Threshold, Xyxy,
};

use crate::{DeviceError, InputError};

/// One image's metadata as the package sends it:
/// `((Ho, Wo), (crop_x, crop_y, crop_w, crop_h), (Hs, Ws), (Hi, Wi),
///   nonsquare (h, w) or None, (pad_l, pad_t, pad_r, pad_b), (scale_w, scale_h))`.
pub(crate) type MetaTuple = (
    (u32, u32),
    (u32, u32, u32, u32),
    (u32, u32),
    (u32, u32),
    Option<(u32, u32)>,
    (i32, i32, i32, i32),
    (f64, f64),
);

/// Options: `(scalar threshold or None, per-class thresholds or None,
/// num_classes, class_mapping or None, max_detections or None, resize name,
/// masks_resolution_factor)`.
pub(crate) type OptionsTuple = (
    Option<f64>,
    Option<Vec<f32>>,
    usize,
    Option<Vec<i64>>,
    Option<usize>,
    String,
    f64,
);

pub(crate) fn meta(t: MetaTuple) -> ImageMeta {
    let ((oh, ow), (cx, cy, cw, ch), (sh, sw), (ih, iw), ns, (pl, pt, pr, pb), (scw, sch)) = t;
    ImageMeta {
        original_size: Size::new(oh, ow),
        static_crop: StaticCrop {
            offset_x: cx,
            offset_y: cy,
            width: cw,
            height: ch,
        },
        size_after_pre_processing: Size::new(sh, sw),
        inference_size: Size::new(ih, iw),
        nonsquare_intermediate_size: ns.map(|(h, w)| Size::new(h, w)),
        pad_left: pl,
        pad_top: pt,
        pad_right: pr,
        pad_bottom: pb,
        scale_width: scw,
        scale_height: sch,
    }
}

pub(crate) fn options(t: OptionsTuple) -> PyResult<Options> {
    let (scalar, per_class, num_classes, class_mapping, max_detections, resize, factor) = t;
    let threshold = match (scalar, per_class) {
        (Some(v), None) => Threshold::Scalar(v),
        (None, Some(v)) => Threshold::PerClass(v),
        _ => {
            return Err(InputError::new_err(
                "threshold: expected a float or a per-class sequence, got both or neither",
            ))
        }
    };
    let resize = match resize.as_str() {
        "antialiased" => ResizeMode::Antialiased,
        "bilinear" => ResizeMode::Bilinear,
        other => {
            return Err(InputError::new_err(format!(
                "resize: expected \"antialiased\" or \"bilinear\", got {other:?}"
            )))
        }
    };
    Ok(Options {
        threshold,
        num_classes,
        class_mapping,
        max_detections,
        resize,
        masks_resolution_factor: factor,
        ..Options::new(num_classes)
    })
}

/// A frame's metadata and options as the Rust types.
pub(crate) fn frame_args(
    metas: Vec<MetaTuple>,
    opts: OptionsTuple,
) -> PyResult<(Vec<ImageMeta>, Options)> {
    Ok((metas.into_iter().map(meta).collect(), options(opts)?))
}

pub(crate) fn dtype(field: &str, name: &str) -> PyResult<MaskDtype> {
    match name {
        "float32" => Ok(MaskDtype::F32),
        "float16" => Ok(MaskDtype::F16),
        "bfloat16" => Ok(MaskDtype::Bf16),
        other => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{field}: expected float32, float16 or bfloat16 elements, got {other}"
        ))),
    }
}

/// The Python exception for a host error: what the caller passed is an
/// `InputError` (a `ValueError`), the driver's failures a `DeviceError`.
pub(crate) fn error(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::Input(_)
        | Error::Limit { .. }
        | Error::DevicePointer { .. }
        | Error::Ticket { .. } => InputError::new_err(msg),
        _ => DeviceError::new_err(msg),
    }
}

/// A value error for a malformed argument (shape, rank) found in Rust.
pub(crate) fn bad(msg: String) -> PyErr {
    PyValueError::new_err(msg)
}

/// One image's result: `((Ho, Wo), (Hm, Wm), float_boxes, xyxy (n, 4),
/// confidence (n,), class_id (n,), [counts bytes], query (n,), column (n,))`.
pub(crate) fn result<'py>(py: Python<'py>, r: &ImageResult) -> PyResult<Bound<'py, PyAny>> {
    let n = r.detections.len();
    let float_boxes = r
        .detections
        .first()
        .is_some_and(|d| matches!(d.xyxy, Xyxy::F32(_)))
        || (n == 0 && r.mask_size != r.image_size);
    let xyxy: Bound<'py, PyAny> = if float_boxes {
        let v: Vec<f32> = r.detections.iter().flat_map(|d| d.xyxy.to_f32()).collect();
        PyArray1::from_vec(py, v).reshape([n, 4])?.into_any()
    } else {
        let v: Vec<i32> = r
            .detections
            .iter()
            .flat_map(|d| match d.xyxy {
                Xyxy::Int(b) => b,
                // Mixed kinds cannot happen (one rule per image).
                Xyxy::F32(b) => b.map(|c| c as i32),
            })
            .collect();
        let a: Bound<'py, PyArray2<i32>> = PyArray1::from_vec(py, v).reshape([n, 4])?;
        a.into_any()
    };
    let conf: Vec<f32> = r.detections.iter().map(|d| d.score).collect();
    let cls: Vec<i32> = r.detections.iter().map(|d| d.class_id).collect();
    let query: Vec<u32> = r.detections.iter().map(|d| d.query).collect();
    let column: Vec<u32> = r.detections.iter().map(|d| d.column).collect();
    let counts = PyList::new(
        py,
        r.detections
            .iter()
            .map(|d| PyBytes::new(py, &d.mask.counts)),
    )?;
    let t = (
        (r.image_size.height, r.image_size.width),
        (r.mask_size.height, r.mask_size.width),
        float_boxes,
        xyxy,
        PyArray1::from_vec(py, conf),
        PyArray1::from_vec(py, cls),
        counts,
        PyArray1::from_vec(py, query),
        PyArray1::from_vec(py, column),
    );
    Ok(t.into_pyobject(py)?.into_any())
}

pub(crate) fn results<'py>(py: Python<'py>, rs: &[ImageResult]) -> PyResult<Bound<'py, PyList>> {
    let items = rs
        .iter()
        .map(|r| result(py, r))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}
