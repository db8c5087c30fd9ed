//! Post-processing options of a frame: command-line overrides, else the sidecar's
//! `options`, else the defaults of the Roboflow wrappers (threshold 0.4,
//! `num_classes = C − 1`, at most 300 detections, antialiased resize).
//!
//! Invariant: the returned [`Options`] has thresholds in [0, 1], one per output
//! class when per-class, a class mapping of `-1`/non-negative ids, and
//! `num_classes ≤ C`; every error names where the bad value came from (the
//! sidecar field or the file given on the command line).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rle_reference::{CanvasRule, Options, ResizeMode, Threshold};
use serde::de::DeserializeOwned;

use super::sidecar::OptionsDecl;

/// SPEC §1.2: `INFERENCE_MODELS_RFDETR_DEFAULT_CONFIDENCE`.
pub const DEFAULT_THRESHOLD: f64 = 0.4;
/// SPEC §1.2: `INFERENCE_MODELS_RFDETR_DEFAULT_MAX_DETECTIONS`.
pub const DEFAULT_MAX_DETECTIONS: usize = 300;

/// A value read from a file named on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct FromFile<T> {
    /// The file.
    pub path: PathBuf,
    /// Its content.
    pub value: T,
}

/// A threshold given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum ThresholdOverride {
    /// `--threshold T`.
    Scalar(f64),
    /// `--thresholds FILE`.
    PerClass(FromFile<Vec<f32>>),
}

/// Command-line overrides of the sidecar's options (already checked one by one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--resize`.
    pub resize: Option<ResizeMode>,
    /// `--threshold` / `--thresholds`.
    pub threshold: Option<ThresholdOverride>,
    /// `--class-mapping`.
    pub class_mapping: Option<FromFile<Vec<i64>>>,
    /// `--num-classes`.
    pub num_classes: Option<usize>,
    /// `--max-detections`.
    pub max_detections: Option<usize>,
    /// `--masks-resolution-factor`.
    pub masks_resolution_factor: Option<f64>,
    /// `--legacy-canvas`.
    pub legacy_canvas: bool,
}

/// Reads a JSON file into `T`; errors name the file and the JSON path.
pub fn read_json_file<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let text = super::input_file::read_text(path, "the file")?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        let at = if at == "." {
            String::new()
        } else {
            format!("{at}: ")
        };
        let inner = e.into_inner();
        let hint =
            super::json_text::hint(&text, &inner).map_or(String::new(), |h| format!("; {h}"));
        anyhow::anyhow!("{}: {at}expected {what}: {inner}{hint}", path.display())
    })
}

/// Checks a threshold value; `field` names it in the error.
pub fn check_threshold(field: &str, t: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&t) {
        bail!("{field}: a threshold must be a number in [0, 1], got {t}");
    }
    Ok(())
}

/// Checks a per-class threshold list's values.
pub fn check_thresholds(field: &str, values: &[f64]) -> Result<Vec<f32>> {
    if values.is_empty() {
        bail!("{field}: the per-class threshold list is empty (need one value per output class)");
    }
    for (i, &t) in values.iter().enumerate() {
        check_threshold(&format!("{field}[{i}]"), t)?;
    }
    // torch builds the threshold tensor from Python floats in float32 (SPEC §1.2).
    Ok(values.iter().map(|&t| t as f32).collect())
}

/// Checks a class mapping's values.
pub fn check_class_mapping(field: &str, mapping: &[i64]) -> Result<()> {
    if mapping.is_empty() {
        bail!("{field}: the class mapping is empty (need one entry per model class)");
    }
    if let Some(i) = mapping
        .iter()
        .position(|&v| !(-1..=i64::from(i32::MAX)).contains(&v))
    {
        bail!(
            "{field}[{i}]: must be -1 (removed) or a class id in 0..={}, got {}",
            i32::MAX,
            mapping[i]
        );
    }
    Ok(())
}

fn sidecar_threshold(json: &Path, value: &serde_json::Value) -> Result<Threshold> {
    let field = format!("{}: options.threshold", json.display());
    match value {
        serde_json::Value::Number(n) => {
            let t = n.as_f64().unwrap_or(f64::NAN);
            check_threshold(&field, t)?;
            Ok(Threshold::Scalar(t))
        }
        serde_json::Value::Array(items) => {
            let values = items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_f64()
                        .with_context(|| format!("{field}[{i}]: expected a number, got {v}"))
                })
                .collect::<Result<Vec<f64>>>()?;
            Ok(Threshold::PerClass(check_thresholds(&field, &values)?))
        }
        other => bail!("{field}: expected a number or a list of numbers, got {other}"),
    }
}

/// The warning for a class mapping (from `source`) whose length is not the frame's
/// model class count `C − 1`, or `None` when it is.
///
/// inference-models accepts any length (SPEC §2.3), and the reference must give
/// what it gives, so this is a warning, not an error: a shorter mapping leaves the
/// columns beyond it without a class (never detected), a longer one maps the
/// "no object" column `C − 1` too (its scores become detections when the entry is
/// a class id) and leaves entries from `C` on unused. Either usually means the
/// mapping belongs to another model.
pub fn mapping_length_warning(source: &str, mapping: &[i64], columns: usize) -> Option<String> {
    let classes = columns.saturating_sub(1);
    let len = mapping.len();
    if len == classes {
        return None;
    }
    let what = format!(
        "{source}: {len} entries for the {classes} model classes of the frame (C = {columns} logit \
         columns, the last one \"no object\")"
    );
    let effect = if len < classes {
        match classes - len {
            1 => format!("; column {len} gets no class and is never detected"),
            _ => format!(
                "; columns {len}..={} get no class and are never detected",
                classes - 1
            ),
        }
    } else {
        let no_object = match mapping.get(classes) {
            Some(&id) if id >= 0 => format!(
                "; the \"no object\" column {classes} maps to class {id}, so its scores become detections of that class"
            ),
            _ => String::new(),
        };
        let unused = match len.saturating_sub(columns) {
            0 => String::new(),
            1 => format!("; entry {columns} is unused"),
            _ => format!("; entries {columns}..={} are unused", len - 1),
        };
        format!("{no_object}{unused}")
    };
    Some(format!(
        "{what}{effect} (inference-models accepts this too; see docs/FRAME_FORMAT.md §2.2)"
    ))
}

/// A frame's options, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The options.
    pub options: Options,
    /// Number of output classes (`max(class_mapping) + 1`, else `num_classes`).
    pub outputs: usize,
    /// Accepted, but probably not meant (see [`mapping_length_warning`]).
    pub warnings: Vec<String>,
}

/// The options of a frame with `columns` logit columns.
pub fn resolve(decl: &OptionsDecl, json: &Path, o: &Overrides, columns: usize) -> Result<Resolved> {
    let mut warnings = Vec::new();
    let class_mapping = match (&o.class_mapping, &decl.class_mapping) {
        (Some(f), _) => {
            let source = format!("{}: class mapping", f.path.display());
            warnings.extend(mapping_length_warning(&source, &f.value, columns));
            Some(f.value.clone())
        }
        (None, Some(m)) => {
            let source = format!("{}: options.class_mapping", json.display());
            check_class_mapping(&source, m)?;
            warnings.extend(mapping_length_warning(&source, m, columns));
            Some(m.clone())
        }
        (None, None) => None,
    };
    let num_classes = match (o.num_classes, decl.num_classes) {
        (Some(n), _) => n,
        (None, Some(n)) => {
            if n > columns {
                bail!(
                    "{}: options.num_classes: {n} exceeds the {columns} logit columns of the frame",
                    json.display()
                );
            }
            n
        }
        (None, None) => columns.saturating_sub(1),
    };
    if num_classes > columns {
        bail!("--num-classes: {num_classes} exceeds the {columns} logit columns of the frame");
    }
    let outputs = match &class_mapping {
        Some(m) => m
            .iter()
            .copied()
            .max()
            .map_or(0, |v| (v + 1).max(0) as usize),
        None => num_classes,
    };
    let threshold = match (&o.threshold, &decl.threshold) {
        (Some(ThresholdOverride::Scalar(t)), _) => Threshold::Scalar(*t),
        (Some(ThresholdOverride::PerClass(f)), _) => {
            if f.value.len() != outputs {
                bail!(
                    "{}: {} per-class thresholds, but the frame has {outputs} output classes (one threshold each)",
                    f.path.display(),
                    f.value.len()
                );
            }
            Threshold::PerClass(f.value.clone())
        }
        (None, Some(v)) => {
            let t = sidecar_threshold(json, v)?;
            if let Threshold::PerClass(list) = &t {
                if list.len() != outputs {
                    bail!(
                        "{}: options.threshold: {} per-class thresholds, but the frame has {outputs} output classes",
                        json.display(),
                        list.len()
                    );
                }
            }
            t
        }
        (None, None) => Threshold::Scalar(DEFAULT_THRESHOLD),
    };
    let opts = Options {
        threshold,
        num_classes,
        class_mapping,
        max_detections: Some(
            o.max_detections
                .or(decl.max_detections)
                .unwrap_or(DEFAULT_MAX_DETECTIONS),
        ),
        resize: o.resize.or(decl.resize.map(Into::into)).unwrap_or_default(),
        masks_resolution_factor: o
            .masks_resolution_factor
            .or(decl.masks_resolution_factor)
            .unwrap_or(1.0),
        canvas: if o.legacy_canvas || decl.legacy_canvas == Some(true) {
            CanvasRule::LegacyOriginCrop
        } else {
            CanvasRule::Current
        },
    };
    if let Some(f) = decl.masks_resolution_factor {
        if !(0.0..=1.0).contains(&f) {
            bail!(
                "{}: options.masks_resolution_factor: must be finite and in [0.0, 1.0], got {f}",
                json.display()
            );
        }
    }
    Ok(Resolved {
        options: opts,
        outputs,
        warnings,
    })
}
