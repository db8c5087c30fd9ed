//! The frame's `.npz` archive: the arrays `logits` (B×Q×C f32), `boxes` (B×Q×4
//! f32) and `masks` (B×Q×Mh×Mw f32, f16, or bf16 stored as uint16 bits).
//!
//! Invariants: an archive is accepted only if the three arrays exist with these
//! dtypes, agree on B and Q, and have no empty dimension; every error is one line
//! naming the file and the array. Arrays are read whole (no memory mapping), so a
//! truncated archive fails here and never mid-run; and nothing is allocated for an
//! array before its declared size matched the bytes the archive holds ([`super::archive`]).

use std::io::{Read, Seek};
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use half::{bf16, f16};
use ndarray::{Array3, Array4, Dimension};
use ndarray_npy::{NpzWriter, ReadDataError, ReadableElement, WritableElement, WriteDataError};
use py_literal::Value as PyValue;
use rle_reference::{Batch, MaskLogits};

use super::archive::{shape_text, Archive, Member, ReadError};
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

/// Checks a declared `shape` against `expected` (`None` = any length ≥ 1).
fn check_shape(
    shape: &[usize],
    name: &str,
    layout: &str,
    expected: &[Option<usize>],
    why: &str,
) -> Result<()> {
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
            shape_text(shape)
        );
    }
    Ok(())
}

/// Reads the member `name` as `T` once its shape passed `check`; the rank is fixed to `D`.
fn read_as<T: ReadableElement, D: Dimension, R: Read>(
    member: Member<'_, R>,
    name: &str,
    unexpected: impl FnOnce(PyValue) -> anyhow::Error,
) -> Result<ndarray::Array<T, D>> {
    let array = member.read::<T>().map_err(|e| match e {
        ReadError::Dtype(descr) => unexpected(descr),
        ReadError::Other(e) => e,
    })?;
    array
        .into_dimensionality::<D>()
        .map_err(|e| anyhow!("array \"{name}\": {e}"))
}

fn f32_array<D: Dimension, R: Read + Seek>(
    archive: &mut Archive<R>,
    name: &str,
    layout: &str,
    expected: &[Option<usize>],
    why: &str,
) -> Result<ndarray::Array<f32, D>> {
    let member = archive.member(name)?;
    let unsupported = |d: &PyValue| {
        anyhow!(
            "array \"{name}\": dtype {} is not supported, expected float32 ('<f4')",
            describe(d)
        )
    };
    if member.header.type_code() != Some("f4") {
        return Err(unsupported(&member.header.descr));
    }
    check_shape(&member.header.shape, name, layout, expected, why)?;
    read_as(member, name, |d| unsupported(&d))
}

/// Reads and checks the arrays of `path`. `declared` is the sidecar's `mask_dtype`
/// (`sidecar` names the sidecar file in messages).
pub fn read(path: &Path, declared: Option<MaskDtypeDecl>, sidecar: &Path) -> Result<Tensors> {
    let archive = Archive::open(path).with_context(|| path.display().to_string())?;
    from_archive(archive, declared, sidecar).with_context(|| path.display().to_string())
}

/// [`read`] on an opened archive: sizes and dtypes are checked on each member's
/// header, and shapes against each other, before its data is read (`archive`).
pub fn from_archive<R: Read + Seek>(
    mut archive: Archive<R>,
    declared: Option<MaskDtypeDecl>,
    sidecar: &Path,
) -> Result<Tensors> {
    let names = archive.names();
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

    let logits: Array3<f32> = f32_array(&mut archive, "logits", "B×Q×C", &[None, None, None], "")?;
    let (b, q) = (logits.shape()[0], logits.shape()[1]);
    let from_logits = ", B and Q as in \"logits\"";
    let boxes: Array3<f32> = f32_array(
        &mut archive,
        "boxes",
        "B×Q×4",
        &[Some(b), Some(q), Some(4)],
        from_logits,
    )?;

    let member = archive.member("masks")?;
    let code = member.header.type_code().map(str::to_string);
    let descr = member.header.descr.clone();
    let unsupported = || {
        anyhow!(
            "array \"masks\": dtype {} is not supported, expected float32 ('<f4'), float16 ('<f2') \
             or bfloat16 bits as uint16 ('<u2')",
            describe(&descr)
        )
    };
    let unexpected = |d: PyValue| anyhow!("array \"masks\": unexpected dtype {}", describe(&d));
    let shape_ok = |m: &Member<'_, R>| {
        check_shape(
            &m.header.shape,
            "masks",
            "B×Q×Mh×Mw",
            &[Some(b), Some(q), None, None],
            from_logits,
        )
    };
    let masks = match code.as_deref() {
        Some("f4") => {
            shape_ok(&member)?;
            Masks::F32(read_as(member, "masks", |_| unsupported())?)
        }
        Some("f2") => {
            shape_ok(&member)?;
            let m: Array4<F16Elem> = read_as(member, "masks", unexpected)?;
            Masks::F16(m.mapv(|v| v.0))
        }
        Some("u2") if declared == Some(MaskDtypeDecl::Bf16) => {
            shape_ok(&member)?;
            let m: Array4<u16> = read_as(member, "masks", unexpected)?;
            Masks::Bf16(m.mapv(bf16::from_bits))
        }
        Some("u2") => bail!(
            "array \"masks\": uint16 ('<u2') holds bfloat16 bits only when {} declares \"mask_dtype\": \"bf16\"{}",
            sidecar.display(),
            declared.map_or(String::new(), |d| format!(" (it says \"{}\")", d.name()))
        ),
        _ => return Err(unsupported()),
    };
    if let Some(d) = declared {
        if d != masks.dtype() {
            bail!(
                "array \"masks\": stored as {}, but {} says \"mask_dtype\": \"{}\"",
                masks.dtype().name(),
                sidecar.display(),
                d.name()
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
