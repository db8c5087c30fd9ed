//! The frame's `.npz` archive: the arrays `logits` (B×Q×C f32), `boxes` (B×Q×4
//! f32) and `masks` (B×Q×Mh×Mw f32, f16, or bf16 stored as uint16 bits).
//!
//! Invariants: an archive is accepted only if the three arrays exist with these
//! dtypes, agree on B and Q, and have no empty dimension; every error is one line
//! naming the file and the array. Arrays are read whole (no memory mapping), so a
//! truncated archive fails here and never mid-run.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use half::{bf16, f16};
use ndarray::{Array3, Array4, ArrayD, Dimension, IxDyn};
use ndarray_npy::{
    NpzReader, NpzWriter, ReadDataError, ReadNpyError, ReadNpzError, ReadableElement,
    WritableElement, WriteDataError,
};
use py_literal::Value as PyValue;
use rle_reference::{Batch, MaskLogits};

use super::sidecar::MaskDtypeDecl;

/// Mask logits in their stored element type.
#[derive(Debug, Clone, PartialEq)]
pub enum Masks {
    /// float32.
    F32(Array4<f32>),
    /// float16.
    F16(Array4<f16>),
    /// bfloat16 (stored as uint16 bits).
    Bf16(Array4<bf16>),
}

impl Masks {
    /// The declared-dtype spelling of this element type.
    pub fn dtype(&self) -> MaskDtypeDecl {
        match self {
            Masks::F32(_) => MaskDtypeDecl::F32,
            Masks::F16(_) => MaskDtypeDecl::F16,
            Masks::Bf16(_) => MaskDtypeDecl::Bf16,
        }
    }
}

/// The three arrays of a frame, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensors {
    /// `B×Q×C` class logits.
    pub logits: Array3<f32>,
    /// `B×Q×4` boxes `(cx, cy, w, h)`, normalised.
    pub boxes: Array3<f32>,
    /// `B×Q×Mh×Mw` mask logits.
    pub masks: Masks,
}

impl Tensors {
    /// Views for the post-processor.
    pub fn batch(&self) -> Batch<'_> {
        let masks = match &self.masks {
            Masks::F32(m) => MaskLogits::F32(m.view()),
            Masks::F16(m) => MaskLogits::F16(m.view()),
            Masks::Bf16(m) => MaskLogits::Bf16(m.view()),
        };
        Batch {
            logits: self.logits.view(),
            boxes: self.boxes.view(),
            masks,
        }
    }

    /// `(B, Q, C, Mh, Mw)`.
    pub fn dims(&self) -> (usize, usize, usize, usize, usize) {
        let [b, q, mh, mw] = self.batch().masks.shape();
        (b, q, self.logits.shape()[2], mh, mw)
    }
}

/// float16 as ndarray-npy reads and writes it (`<f2`); the crate has no f16 support.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(transparent)]
pub struct F16Elem(pub f16);

fn descriptor(desc: &PyValue) -> Option<&str> {
    match desc {
        PyValue::String(s) => Some(s.as_str()),
        _ => None,
    }
}

impl ReadableElement for F16Elem {
    fn read_to_end_exact_vec<R: Read>(
        mut reader: R,
        desc: &PyValue,
        len: usize,
    ) -> Result<Vec<Self>, ReadDataError> {
        let from_bytes: fn([u8; 2]) -> u16 = match descriptor(desc) {
            Some("<f2") => u16::from_le_bytes,
            Some(">f2") => u16::from_be_bytes,
            _ => return Err(ReadDataError::WrongDescriptor(desc.clone())),
        };
        let bytes = len
            .checked_mul(2)
            .ok_or_else(|| ReadDataError::ParseData("array length overflows usize".into()))?;
        let mut buf = vec![0u8; bytes];
        reader.read_exact(&mut buf)?;
        let extra = reader.read_to_end(&mut Vec::new())?;
        if extra > 0 {
            return Err(ReadDataError::ExtraBytes(extra));
        }
        Ok(buf
            .chunks_exact(2)
            .map(|c| F16Elem(f16::from_bits(from_bytes([c[0], c[1]]))))
            .collect())
    }
}

impl WritableElement for F16Elem {
    fn type_descriptor() -> PyValue {
        PyValue::String("<f2".into())
    }

    fn write<W: std::io::Write>(&self, mut writer: W) -> Result<(), WriteDataError> {
        writer.write_all(&self.0.to_bits().to_le_bytes())?;
        Ok(())
    }

    fn write_slice<W: std::io::Write>(slice: &[Self], mut writer: W) -> Result<(), WriteDataError> {
        let bytes: Vec<u8> = slice
            .iter()
            .flat_map(|v| v.0.to_bits().to_le_bytes())
            .collect();
        writer.write_all(&bytes)?;
        Ok(())
    }
}

/// A numpy descriptor with its common name, e.g. `float64 ('<f8')`.
fn describe(desc: &PyValue) -> String {
    let Some(s) = descriptor(desc) else {
        return format!("{desc}");
    };
    let name = match s.trim_start_matches(['<', '>', '|', '=']) {
        "f2" => "float16",
        "f4" => "float32",
        "f8" => "float64",
        "i1" => "int8",
        "i2" => "int16",
        "i4" => "int32",
        "i8" => "int64",
        "u1" => "uint8",
        "u2" => "uint16",
        "u4" => "uint32",
        "u8" => "uint64",
        "b1" => "bool",
        _ => return format!("'{s}'"),
    };
    format!("{name} ('{s}')")
}

fn shape_str(shape: &[usize]) -> String {
    if shape.is_empty() {
        return "a scalar".into();
    }
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("×")
}

/// Why reading one array failed; `WrongDescriptor` is kept apart so the caller can
/// try another element type.
enum ArrayError {
    Dtype(PyValue),
    Other(anyhow::Error),
}

fn read_array<T: ReadableElement>(
    npz: &mut NpzReader<BufReader<File>>,
    name: &str,
) -> Result<ArrayD<T>, ArrayError> {
    npz.by_name::<ndarray::OwnedRepr<T>, IxDyn>(name)
        .map_err(|e| match e {
            ReadNpzError::Npy(ReadNpyError::WrongDescriptor(d)) => ArrayError::Dtype(d),
            ReadNpzError::Npy(ReadNpyError::MissingData) => ArrayError::Other(anyhow!(
                "array \"{name}\": the data ends before the shape its header declares (truncated?)"
            )),
            ReadNpzError::Npy(ReadNpyError::ExtraBytes(n)) => ArrayError::Other(anyhow!(
                "array \"{name}\": {n} bytes beyond the shape its header declares"
            )),
            other => ArrayError::Other(anyhow!("array \"{name}\": cannot be read: {other}")),
        })
}

fn f32_array(npz: &mut NpzReader<BufReader<File>>, name: &str) -> Result<ArrayD<f32>> {
    read_array::<f32>(npz, name).map_err(|e| match e {
        ArrayError::Dtype(d) => anyhow!(
            "array \"{name}\": dtype {} is not supported, expected float32 ('<f4')",
            describe(&d)
        ),
        ArrayError::Other(e) => e,
    })
}

/// Checks `array`'s shape against `expected` (`None` = any length ≥ 1) and fixes its rank.
fn shaped<T, D: Dimension>(
    array: ArrayD<T>,
    name: &str,
    layout: &str,
    expected: &[Option<usize>],
    why: &str,
) -> Result<ndarray::Array<T, D>> {
    let shape = array.shape().to_vec();
    let matches = shape.len() == expected.len()
        && shape
            .iter()
            .zip(expected)
            .all(|(&got, want)| want.map_or(got > 0, |w| w == got));
    if !matches {
        let want: Vec<String> = expected
            .iter()
            .zip(layout.split('×'))
            .map(|(w, n)| w.map_or_else(|| n.to_string(), |v| v.to_string()))
            .collect();
        let empty = if shape.len() == expected.len() && shape.contains(&0) {
            " (an empty dimension)"
        } else {
            ""
        };
        bail!(
            "array \"{name}\": expected shape {} ({layout}{why}), got {}{empty}",
            want.join("×"),
            shape_str(&shape)
        );
    }
    Ok(array
        .into_dimensionality::<D>()
        .expect("the rank was checked above"))
}

/// Reads and checks the arrays of `path`. `declared` is the sidecar's `mask_dtype`
/// (`sidecar` names the sidecar file in messages).
pub fn read(path: &Path, declared: Option<MaskDtypeDecl>, sidecar: &Path) -> Result<Tensors> {
    read_inner(path, declared, sidecar).with_context(|| path.display().to_string())
}

fn read_inner(path: &Path, declared: Option<MaskDtypeDecl>, sidecar: &Path) -> Result<Tensors> {
    let file = File::open(path).context("cannot open the frame")?;
    let mut npz = NpzReader::new(BufReader::new(file)).map_err(|e| match e {
        ReadNpzError::Zip(z) => anyhow!("not a readable .npz archive (truncated or corrupt?): {z}"),
        other => anyhow!("not a readable .npz archive: {other}"),
    })?;
    let names = npz
        .names()
        .map_err(|e| anyhow!("cannot list the archive's arrays: {e}"))?;
    for required in ["logits", "boxes", "masks"] {
        if !names.iter().any(|n| n == required) {
            let held = if names.is_empty() {
                "nothing".to_string()
            } else {
                names.join(", ")
            };
            bail!("array \"{required}\" is missing (the archive holds: {held})");
        }
    }

    let logits: Array3<f32> = shaped(
        f32_array(&mut npz, "logits")?,
        "logits",
        "B×Q×C",
        &[None, None, None],
        "",
    )?;
    let (b, q) = (logits.shape()[0], logits.shape()[1]);
    let from_logits = ", B and Q as in \"logits\"";
    let boxes: Array3<f32> = shaped(
        f32_array(&mut npz, "boxes")?,
        "boxes",
        "B×Q×4",
        &[Some(b), Some(q), Some(4)],
        from_logits,
    )?;
    let mask_shape = [Some(b), Some(q), None, None];
    fn masks4<T>(a: ArrayD<T>, expected: &[Option<usize>], why: &str) -> Result<Array4<T>> {
        shaped(a, "masks", "B×Q×Mh×Mw", expected, why)
    }

    let declared_str = |d: MaskDtypeDecl| {
        format!(
            "{} says \"mask_dtype\": \"{}\"",
            sidecar.display(),
            d.name()
        )
    };
    let masks = match read_array::<f32>(&mut npz, "masks") {
        Ok(a) => Masks::F32(masks4(a, &mask_shape, from_logits)?),
        Err(ArrayError::Other(e)) => return Err(e),
        Err(ArrayError::Dtype(d)) => match descriptor(&d).map(|s| s.trim_start_matches(['<', '>', '='])) {
            Some("f2") => {
                let a = read_array::<F16Elem>(&mut npz, "masks").map_err(|e| match e {
                    ArrayError::Dtype(d) => anyhow!("array \"masks\": unexpected dtype {}", describe(&d)),
                    ArrayError::Other(e) => e,
                })?;
                Masks::F16(masks4(a, &mask_shape, from_logits)?.mapv(|v| v.0))
            }
            Some("u2") if declared == Some(MaskDtypeDecl::Bf16) => {
                let a = read_array::<u16>(&mut npz, "masks").map_err(|e| match e {
                    ArrayError::Dtype(d) => anyhow!("array \"masks\": unexpected dtype {}", describe(&d)),
                    ArrayError::Other(e) => e,
                })?;
                Masks::Bf16(masks4(a, &mask_shape, from_logits)?.mapv(bf16::from_bits))
            }
            Some("u2") => bail!(
                "array \"masks\": uint16 ('<u2') holds bfloat16 bits only when {} declares \"mask_dtype\": \"bf16\"{}",
                sidecar.display(),
                declared.map_or(String::new(), |d| format!(" (it says \"{}\")", d.name()))
            ),
            _ => bail!(
                "array \"masks\": dtype {} is not supported, expected float32 ('<f4'), float16 ('<f2') \
                 or bfloat16 bits as uint16 ('<u2')",
                describe(&d)
            ),
        },
    };
    if let Some(d) = declared {
        if d != masks.dtype() {
            bail!(
                "array \"masks\": stored as {}, but {}",
                masks.dtype().name(),
                declared_str(d)
            );
        }
    }
    Ok(Tensors {
        logits,
        boxes,
        masks,
    })
}

/// Writes `tensors` as a compressed `.npz` to `out` (bf16 masks as uint16 bits).
pub fn write(out: impl std::io::Write + std::io::Seek, tensors: &Tensors) -> Result<()> {
    let mut npz = NpzWriter::new_compressed(out);
    npz.add_array("logits", &tensors.logits)?;
    npz.add_array("boxes", &tensors.boxes)?;
    match &tensors.masks {
        Masks::F32(m) => npz.add_array("masks", m)?,
        Masks::F16(m) => npz.add_array("masks", &m.mapv(F16Elem))?,
        Masks::Bf16(m) => npz.add_array("masks", &m.mapv(bf16::to_bits))?,
    }
    npz.finish()?;
    Ok(())
}
