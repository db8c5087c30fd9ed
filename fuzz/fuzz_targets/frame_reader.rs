//! `frame_reader`: the CLI's frame loader (`src/frame/`: the `.npz` archive
//! reader, the JSON sidecar parser, option resolution and the cross-checks of
//! `frame::load`) on arbitrary files.
//!
//! The CLI is a binary crate (no `lib.rs`), so its `src/frame/` modules are
//! compiled into this target by path, with a stand-in for the one item they use
//! from elsewhere in the CLI (`output::write_atomically`, used only for saving).
//!
//! Inputs: the sidecar is raw text or a structured record serialized to JSON
//! (with optional unknown fields and arbitrary JSON values in place of fields);
//! the archive is raw bytes or a zip built here (stored or deflated, so its CRCs
//! are right) whose members are raw bytes or `.npy` files built from a dtype,
//! byte order, Fortran flag, shape and data of exact, short or long length, and
//! headers that lie: a huge declared dimension over a few bytes of data, a header
//! length beyond the member (issue #14: the reader must refuse these from the
//! sizes alone; allocating what a header declares aborts the process).
//! Properties: `frame::load` returns a frame or an error, never panics; every
//! error names its source (the archive, the sidecar, or an override's file or flag); a loaded frame passes
//! `rle_reference::validate` (the loader's invariant) and, when small, runs
//! through the reference with `rle_fuzz::check_pipeline`'s checks.

#![no_main]

use std::io::{Cursor, Write};
use std::path::PathBuf;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[path = "../../src/frame/mod.rs"]
#[allow(dead_code, clippy::all)]
mod frame;

/// Stand-in for the CLI's `output` module: the frame modules call it only to save.
mod output {
    use std::fs::File;
    use std::path::Path;

    pub fn write_atomically(
        _path: &Path,
        _fill: impl FnOnce(&mut File) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        unreachable!("the fuzz target never saves frames")
    }
}

use frame::options::{
    check_class_mapping, check_threshold, check_thresholds, FromFile, Overrides, ThresholdOverride,
};

// ---------------------------------------------------------------------------
// The sidecar.

#[derive(Arbitrary, Debug, Clone)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
}

impl Json {
    fn value(&self, depth: u32) -> serde_json::Value {
        use serde_json::Value as V;
        match self {
            Json::Null => V::Null,
            Json::Bool(b) => V::Bool(*b),
            Json::Int(i) => V::from(*i),
            Json::Float(f) => serde_json::Number::from_f64(*f).map_or(V::Null, V::Number),
            Json::Str(s) => V::String(s.clone()),
            Json::Array(items) if depth < 3 => {
                V::Array(items.iter().take(8).map(|j| j.value(depth + 1)).collect())
            }
            Json::Array(_) => V::Array(vec![]),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
struct ImageSpec {
    image_id: i8,
    original: [u16; 2],
    crop: Option<[u16; 4]>,
    after: Option<[u16; 2]>,
    inference: [u16; 2],
    nonsquare: Option<[u16; 2]>,
    pads: [i16; 4],
    scales: [f64; 2],
    /// Replace one field (by index) with an arbitrary JSON value.
    replace: Option<(u8, Json)>,
}

const IMAGE_FIELDS: [&str; 11] = [
    "image_id",
    "original_size",
    "static_crop_offset",
    "size_after_pre_processing",
    "inference_size",
    "nonsquare_intermediate_size",
    "pad_left",
    "pad_top",
    "scale_width",
    "scale_height",
    "file_name",
];

impl ImageSpec {
    fn value(&self) -> serde_json::Value {
        let small = |v: u16| u32::from(v % 40);
        let pair = |p: [u16; 2]| serde_json::json!([small(p[0]), small(p[1])]);
        let mut o = serde_json::json!({
            "image_id": self.image_id,
            "original_size": pair(self.original),
            "inference_size": pair(self.inference),
            "pad_left": self.pads[0] % 24,
            "pad_top": self.pads[1] % 24,
            "pad_right": self.pads[2] % 24,
            "pad_bottom": self.pads[3] % 24,
        });
        let map = o.as_object_mut().expect("an object");
        for (name, v) in [
            ("scale_width", self.scales[0]),
            ("scale_height", self.scales[1]),
        ] {
            map.insert(
                name.into(),
                serde_json::Number::from_f64(v).map_or(serde_json::json!(1.5), Into::into),
            );
        }
        if let Some(c) = self.crop {
            map.insert(
                "static_crop_offset".into(),
                serde_json::json!([c[0] % 8, c[1] % 8, small(c[2]), small(c[3])]),
            );
        }
        if let Some(a) = self.after {
            map.insert("size_after_pre_processing".into(), pair(a));
        }
        if let Some(n) = self.nonsquare {
            map.insert("nonsquare_intermediate_size".into(), pair(n));
        }
        if let Some((i, j)) = &self.replace {
            map.insert(
                IMAGE_FIELDS[usize::from(*i) % IMAGE_FIELDS.len()].into(),
                j.value(0),
            );
        }
        o
    }
}

#[derive(Arbitrary, Debug)]
struct SidecarSpec {
    images: Vec<ImageSpec>,
    format_version: Option<u8>,
    mask_dtype: Option<u8>,
    category_ids: Option<Vec<i8>>,
    threshold: Option<Json>,
    threshold_fraction: Option<u8>,
    num_classes: Option<u8>,
    class_mapping: Option<Vec<i8>>,
    max_detections: Option<u8>,
    resize: Option<bool>,
    unknown_field: Option<(String, Json)>,
}

impl SidecarSpec {
    fn text(&self) -> String {
        let mut o = serde_json::Map::new();
        o.insert(
            "images".into(),
            self.images.iter().take(3).map(ImageSpec::value).collect(),
        );
        if let Some(v) = self.format_version {
            o.insert("format_version".into(), (v % 3).into());
        }
        if let Some(d) = self.mask_dtype {
            o.insert(
                "mask_dtype".into(),
                ["f32", "f16", "bf16", "f64"][usize::from(d % 4)].into(),
            );
        }
        if let Some(c) = &self.category_ids {
            o.insert("category_ids".into(), c.clone().into());
        }
        let mut opts = serde_json::Map::new();
        if let Some(t) = &self.threshold {
            opts.insert("threshold".into(), t.value(0));
        }
        if let Some(k) = self.threshold_fraction {
            opts.insert("threshold".into(), (f64::from(k) / 200.0).into());
        }
        if let Some(n) = self.num_classes {
            opts.insert("num_classes".into(), (n % 10).into());
        }
        if let Some(m) = &self.class_mapping {
            let m: Vec<i64> = m.iter().map(|&v| i64::from(v) % 10).collect();
            opts.insert("class_mapping".into(), m.into());
        }
        if let Some(m) = self.max_detections {
            opts.insert("max_detections".into(), m.into());
        }
        if let Some(r) = self.resize {
            opts.insert(
                "resize".into(),
                if r { "bilinear" } else { "antialiased" }.into(),
            );
        }
        if !opts.is_empty() {
            o.insert("options".into(), opts.into());
        }
        if let Some((k, v)) = &self.unknown_field {
            o.insert(k.clone(), v.value(0));
        }
        serde_json::Value::Object(o).to_string()
    }
}

#[derive(Arbitrary, Debug)]
enum Sidecar {
    Text(String),
    Built(SidecarSpec),
}

// ---------------------------------------------------------------------------
// The archive.

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Descr {
    F4,
    F2,
    U2,
    F8,
    I4,
    B1,
    Odd,
}

#[derive(Arbitrary, Debug)]
enum Npy {
    Raw(Vec<u8>),
    Built {
        version: u8,
        descr: Descr,
        big_endian: bool,
        fortran: bool,
        shape: Vec<u8>,
        /// Replace dimension `.0` of the declared shape by a huge `.1` (issue #14:
        /// a few bytes of data declaring terabytes must be refused, not allocated).
        /// Before the variable-length fields, so that short inputs reach it.
        huge: Option<(u8, HugeDim)>,
        /// Declare this header length instead of the true one.
        header_len: Option<u32>,
        /// Bytes repeated to fill the data.
        data: Vec<u8>,
        /// 0: exact length; otherwise shorter or longer by a few bytes.
        length_error: i8,
        header_junk: Option<String>,
    },
}

/// A declared dimension far beyond any data the archive holds.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum HugeDim {
    /// `2^(16 + k % 48)`.
    Pow2(u8),
    /// Any `u64`.
    Raw(u64),
}

impl HugeDim {
    fn value(self) -> u64 {
        match self {
            HugeDim::Pow2(k) => 1u64 << (16 + u32::from(k) % 48),
            HugeDim::Raw(v) => v,
        }
    }
}

impl Npy {
    fn bytes(&self) -> Vec<u8> {
        let Npy::Built {
            version,
            descr,
            big_endian,
            fortran,
            shape,
            data,
            length_error,
            header_junk,
            huge,
            header_len,
        } = self
        else {
            let Npy::Raw(raw) = self else { unreachable!() };
            return raw.clone();
        };
        let (code, size) = match descr {
            Descr::F4 => ("f4", 4),
            Descr::F2 => ("f2", 2),
            Descr::U2 => ("u2", 2),
            Descr::F8 => ("f8", 8),
            Descr::I4 => ("i4", 4),
            Descr::B1 => ("b1", 1),
            Descr::Odd => ("V3", 3),
        };
        let order = if *big_endian { '>' } else { '<' };
        let dims: Vec<usize> = shape.iter().take(5).map(|&d| usize::from(d % 24)).collect();
        // The declared shape; the data below follows `dims` (a huge dimension is declared only).
        let mut declared: Vec<u64> = dims.iter().map(|&d| d as u64).collect();
        if let Some((i, h)) = huge {
            if !declared.is_empty() {
                let n = declared.len();
                declared[usize::from(*i) % n] = h.value();
            }
        }
        let shape_text = match declared.len() {
            1 => format!("({},)", declared[0]),
            _ => format!(
                "({})",
                declared
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let fortran = if *fortran { "True" } else { "False" };
        let mut header = format!(
            "{{'descr': '{order}{code}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}"
        );
        if let Some(j) = header_junk {
            header.push_str(j);
        }
        let major = 1 + version % 3;
        let len_bytes = if major == 1 { 2 } else { 4 };
        // Pad so that magic + version + length + header is a multiple of 64, ending in '\n'.
        let unpadded = 6 + 2 + len_bytes + header.len() + 1;
        header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
        header.push('\n');
        let mut out = b"\x93NUMPY".to_vec();
        out.extend([major, 0]);
        let len = header_len.unwrap_or(header.len() as u32);
        if major == 1 {
            out.extend((len.min(u32::from(u16::MAX)) as u16).to_le_bytes());
        } else {
            out.extend(len.to_le_bytes());
        }
        out.extend(header.as_bytes());
        let n: usize = dims.iter().product::<usize>() * size;
        let n = (n as i64 + i64::from(*length_error % 8)).clamp(0, 1 << 16) as usize;
        let fill = if data.is_empty() { &[0x3Fu8][..] } else { data };
        out.extend(fill.iter().cycle().take(n));
        out
    }
}

#[derive(Arbitrary, Debug)]
struct Member {
    /// 0: logits, 1: boxes, 2: masks, else `other`.
    name: u8,
    other: String,
    npy_suffix: bool,
    deflate: bool,
    content: Npy,
}

/// Three members with agreeing shapes (`B×Q×C`, `B×Q×4`, `B×Q×Mh×Mw`), so that
/// most inputs get past the archive checks into option resolution and validation.
#[derive(Arbitrary, Debug)]
struct Coherent {
    dims: [u8; 5],
    /// Declare one dimension of one member (`.0`: member, `.1`: dimension) huge.
    huge: Option<(u8, u8, HugeDim)>,
    /// 0: f32, 1: f16, 2: bf16 bits as uint16 masks.
    mask_dtype: u8,
    big_endian: bool,
    fortran: bool,
    deflate: bool,
    data: Vec<u8>,
}

impl Coherent {
    fn b(&self) -> usize {
        usize::from(self.dims[0] % 3) + 1
    }

    fn members(&self) -> Vec<Member> {
        let [_, q, c, mh, mw] = self.dims.map(|d| d % 12 + 1);
        let b = self.b() as u8;
        let npy = |descr, shape: Vec<u8>| Npy::Built {
            version: 0,
            descr,
            big_endian: self.big_endian,
            fortran: self.fortran,
            shape,
            data: self.data.clone(),
            length_error: 0,
            header_junk: None,
            huge: None,
            header_len: None,
        };
        let mask_descr = [Descr::F4, Descr::F2, Descr::U2][usize::from(self.mask_dtype % 3)];
        let mut members = [
            (0, npy(Descr::F4, vec![b, q, c])),
            (1, npy(Descr::F4, vec![b, q, 4])),
            (2, npy(mask_descr, vec![b, q, mh, mw])),
        ];
        if let Some((m, d, h)) = self.huge {
            if let Npy::Built { huge, .. } = &mut members[usize::from(m % 3)].1 {
                *huge = Some((d, h));
            }
        }
        members
            .into_iter()
        .map(|(name, content)| Member {
            name,
            other: String::new(),
            npy_suffix: true,
            deflate: self.deflate,
            content,
        })
        .collect()
    }
}

#[derive(Arbitrary, Debug)]
enum Archive {
    Raw(Vec<u8>),
    Zip(Vec<Member>),
    Coherent(Coherent),
}

impl Archive {
    fn bytes(&self) -> Vec<u8> {
        let coherent;
        let members = match self {
            Archive::Raw(raw) => return raw.clone(),
            Archive::Zip(m) => m,
            Archive::Coherent(c) => {
                coherent = c.members();
                &coherent
            }
        };
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for m in members.iter().take(5) {
            let base = match m.name {
                0 => "logits",
                1 => "boxes",
                2 => "masks",
                _ => m.other.as_str(),
            };
            let name = if m.npy_suffix {
                format!("{base}.npy")
            } else {
                base.to_string()
            };
            let method = if m.deflate {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            // Level 1: the harness should not spend its time compressing.
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(method)
                .compression_level(Some(1));
            // Duplicate or odd names are refused by the writer: skip those members.
            if zip.start_file(name, options).is_ok() {
                zip.write_all(&m.content.bytes())
                    .expect("writing to memory");
            }
        }
        zip.finish().expect("writing to memory").into_inner()
    }
}

// ---------------------------------------------------------------------------
// Command-line overrides, checked the way the CLI's config does before use.

#[derive(Arbitrary, Debug)]
struct OverridesSpec {
    resize: Option<bool>,
    threshold: Option<f64>,
    thresholds: Option<Vec<u8>>,
    class_mapping: Option<Vec<i8>>,
    num_classes: Option<u8>,
    max_detections: Option<u8>,
}

impl OverridesSpec {
    fn overrides(&self) -> Overrides {
        let file = |name: &str| PathBuf::from(format!("/fuzz/{name}.json"));
        let threshold = match (&self.thresholds, self.threshold) {
            (Some(list), _) => {
                let values: Vec<f64> = list.iter().map(|&k| f64::from(k) / 255.0).collect();
                check_thresholds("--thresholds", &values).ok().map(|value| {
                    ThresholdOverride::PerClass(FromFile {
                        path: file("thresholds"),
                        value,
                    })
                })
            }
            (None, Some(t)) => check_threshold("--threshold", t)
                .ok()
                .map(|()| ThresholdOverride::Scalar(t)),
            (None, None) => None,
        };
        let class_mapping = self.class_mapping.as_ref().and_then(|m| {
            let m: Vec<i64> = m.iter().map(|&v| i64::from(v) % 10).collect();
            check_class_mapping("--class-mapping", &m)
                .ok()
                .map(|()| FromFile {
                    path: file("mapping"),
                    value: m,
                })
        });
        Overrides {
            resize: self.resize.map(|b| {
                if b {
                    rle_reference::ResizeMode::Bilinear
                } else {
                    rle_reference::ResizeMode::Antialiased
                }
            }),
            threshold,
            class_mapping,
            num_classes: self.num_classes.map(|n| usize::from(n % 10)),
            max_detections: self.max_detections.map(usize::from),
            ..Overrides::default()
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    sidecar: Sidecar,
    archive: Archive,
    overrides: Option<OverridesSpec>,
}

/// A private directory for this process's two files (tmpfs when there is one).
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("rle-fuzz-frame-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("a temporary directory");
        d
    })
}

fuzz_target!(|input: Input| {
    let mut input = input;
    // A coherent archive usually gets a sidecar with one image per batch entry.
    if let (Archive::Coherent(c), Sidecar::Built(spec)) = (&input.archive, &mut input.sidecar) {
        if !spec.images.is_empty() {
            spec.images.truncate(c.b());
            while spec.images.len() < c.b() {
                let mut extra = spec.images[0].clone();
                extra.image_id = extra.image_id.wrapping_add(spec.images.len() as i8);
                spec.images.push(extra);
            }
        }
    }
    let text = match &input.sidecar {
        Sidecar::Text(t) => t.clone(),
        Sidecar::Built(spec) => spec.text(),
    };
    let (npz, json) = (dir().join("frame.npz"), dir().join("frame.json"));
    std::fs::write(&npz, input.archive.bytes()).expect("writable temp file");
    std::fs::write(&json, text).expect("writable temp file");
    let overrides = input
        .overrides
        .as_ref()
        .map_or_else(Overrides::default, OverridesSpec::overrides);

    match frame::load(&npz, &overrides) {
        Err(e) => {
            // Names where the bad value came from: the archive or the sidecar (both in
            // our directory), an override's file (`/fuzz/...`) or its flag (`--...`).
            let message = format!("{e:#}");
            rle_fuzz::outcome(|| {
                // The part after the file name (and the array's name): which check
                // refused it.
                let mut parts = message.split(": ").skip(1);
                let mut kind = parts.next().unwrap_or("");
                if kind.starts_with("array \"") {
                    kind = parts.next().unwrap_or(kind);
                }
                let words: Vec<&str> = kind.split([' ', '"', '[']).take(3).collect();
                // Issue #14's case: did the header declare far more than the data?
                let declared = kind
                    .split_once(" bytes of data), but")
                    .and_then(|(head, _)| head.rsplit('(').next()?.parse::<u128>().ok());
                match declared {
                    Some(n) if n >= 1 << 31 => "load error: declared size ≥ 2 GiB refused".into(),
                    _ => format!("load error: {}", words.join(" ")),
                }
            });
            let d = dir().display().to_string();
            assert!(
                message.contains(&d) || message.starts_with("/fuzz/") || message.starts_with("--"),
                "the error names no input: {message}"
            );
        }
        Ok(f) => {
            let batch = f.tensors.batch();
            // The loader's invariant: a returned frame passes the reference's checks.
            rle_reference::validate(&batch, &f.metas, &f.options)
                .expect("frame::load returned a frame the reference rejects");
            assert_eq!(f.images(), f.metas.len());
            assert!(rle_fuzz::check_pipeline(&batch, &f.metas, &f.options));
        }
    }
});
