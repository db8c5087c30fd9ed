//! Locating and reading the committed fixtures, and reproducing a case's inputs.
//!
//! Invariant: [`Case::inputs`] either returns tensors whose SHA-256 equal the
//! fixture's `hashes` (the oracle saw exactly these bits) or an error; it never
//! hands out tensors that merely look right.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

use crate::error::FixtureError;
use crate::format::Case;
use crate::synth::{try_generate, SynthBatch};

/// Environment variable that overrides [`fixtures_dir`] (for test executables run
/// on another machine).
pub const FIXTURES_ENV: &str = "RLE_FIXTURES_DIR";

/// The repository's `fixtures/` folder: `$RLE_FIXTURES_DIR` if set, else the path
/// known at compile time (`crates/rle-fixtures/../../fixtures`).
pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os(FIXTURES_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures"),
    }
}

fn read(path: &Path) -> Result<String, FixtureError> {
    fs::read_to_string(path).map_err(|source| FixtureError::Io {
        path: path.to_owned(),
        source,
    })
}

fn parse<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, FixtureError> {
    serde_json::from_str(&read(path)?).map_err(|source| FixtureError::Json {
        path: path.to_owned(),
        source,
    })
}

/// Reads one case file.
pub fn load_case(path: impl AsRef<Path>) -> Result<Case, FixtureError> {
    parse(path.as_ref())
}

/// The paths of `<dir>/cases/*.json`, sorted by name.
pub fn case_paths(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, FixtureError> {
    let cases = dir.as_ref().join("cases");
    let entries = fs::read_dir(&cases).map_err(|source| FixtureError::Io {
        path: cases.clone(),
        source,
    })?;
    let mut paths = Vec::new();
    for e in entries {
        let p = e
            .map_err(|source| FixtureError::Io {
                path: cases.clone(),
                source,
            })?
            .path();
        if p.extension().is_some_and(|x| x == "json") {
            paths.push(p);
        }
    }
    paths.sort();
    Ok(paths)
}

/// Every case under `<dir>/cases/`, sorted by name.
pub fn all_cases(dir: impl AsRef<Path>) -> Result<Vec<Case>, FixtureError> {
    case_paths(dir)?.iter().map(load_case).collect()
}

impl Case {
    /// Regenerates the input tensors and checks them against the stored hashes.
    pub fn inputs(&self) -> Result<SynthBatch, FixtureError> {
        let t = try_generate(&self.recipe).map_err(|source| FixtureError::Recipe {
            case: self.name.clone(),
            source,
        })?;
        let got = t.hashes();
        for (tensor, expected, got) in [
            ("logits", &self.hashes.logits, got.logits),
            ("boxes", &self.hashes.boxes, got.boxes),
            ("masks", &self.hashes.masks, got.masks),
        ] {
            if *expected != got {
                return Err(FixtureError::HashMismatch {
                    case: self.name.clone(),
                    tensor,
                    expected: expected.clone(),
                    got,
                });
            }
        }
        Ok(t)
    }
}

/// `fixtures/sigmoid.json`: float32 inputs and torch's CUDA sigmoid outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmoidFixture {
    /// The inputs.
    pub inputs: Vec<f32>,
    /// `torch.sigmoid` of each input on the oracle device.
    pub outputs: Vec<f32>,
    /// Versions and device (free-form).
    pub provenance: serde_json::Value,
}

#[derive(Deserialize)]
struct SigmoidFile {
    input_bits: String,
    output_bits: String,
    #[serde(default)]
    provenance: serde_json::Value,
}

fn decode_f32s(path: &Path, field: &str, b64: &str) -> Result<Vec<f32>, FixtureError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| FixtureError::Format {
            path: path.to_owned(),
            reason: format!("{field}: {e}"),
        })?;
    if bytes.len() % 4 != 0 {
        let reason = format!(
            "{field}: {} bytes is not a whole number of f32",
            bytes.len()
        );
        return Err(FixtureError::Format {
            path: path.to_owned(),
            reason,
        });
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Reads `<dir>/sigmoid.json`.
pub fn load_sigmoid(dir: impl AsRef<Path>) -> Result<SigmoidFixture, FixtureError> {
    let path = dir.as_ref().join("sigmoid.json");
    let f: SigmoidFile = parse(&path)?;
    let inputs = decode_f32s(&path, "input_bits", &f.input_bits)?;
    let outputs = decode_f32s(&path, "output_bits", &f.output_bits)?;
    if inputs.len() != outputs.len() {
        let reason = format!("{} inputs but {} outputs", inputs.len(), outputs.len());
        return Err(FixtureError::Format { path, reason });
    }
    Ok(SigmoidFixture {
        inputs,
        outputs,
        provenance: f.provenance,
    })
}

/// One single-resize case of `fixtures/resize_raw.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResizeRawCase {
    /// `"antialiased"` or `"bilinear"`.
    pub mode: String,
    /// Input rows.
    pub in_h: usize,
    /// Input columns.
    pub in_w: usize,
    /// Output rows.
    pub out_h: usize,
    /// Output columns.
    pub out_w: usize,
    /// Row-major f32 bits of the input.
    pub input_bits: Vec<u32>,
    /// Row-major f32 bits of the oracle's output.
    pub output_bits: Vec<u32>,
}

#[derive(Deserialize)]
struct ResizeFile {
    cases: Vec<ResizeRawCase>,
}

/// Reads `<dir>/resize_raw.json`, checking each case's lengths.
pub fn load_resize_raw(dir: impl AsRef<Path>) -> Result<Vec<ResizeRawCase>, FixtureError> {
    let path = dir.as_ref().join("resize_raw.json");
    let f: ResizeFile = parse(&path)?;
    for (i, c) in f.cases.iter().enumerate() {
        // Checked products: sizes come from the file, and a wrapped product could match.
        let cells = |h: usize, w: usize| h.checked_mul(w);
        if cells(c.in_h, c.in_w) != Some(c.input_bits.len())
            || cells(c.out_h, c.out_w) != Some(c.output_bits.len())
        {
            let reason = format!(
                "cases[{i}]: lengths disagree with {}×{} → {}×{}",
                c.in_h, c.in_w, c.out_h, c.out_w
            );
            return Err(FixtureError::Format { path, reason });
        }
    }
    Ok(f.cases)
}
