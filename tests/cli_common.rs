//! Shared support of the `rle` command-line tests (included by each `tests/cli_*.rs`
//! with `#[path]`; compiled on its own it is an empty test crate).
//!
//! It holds the definitions of the committed frames under `tests/data/cli/frames/`
//! (recipe, metadata, sidecar, the options the CLI must resolve), an independent
//! writer of the frame format (ndarray-npy + serde_json, not the binary's code), and
//! the COCO records the reference gives for a frame.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

use half::f16;
use ndarray::{Array3, Array4, ArrayD, IxDyn};
use ndarray_npy::{
    NpzReader, NpzWriter, ReadDataError, ReadableElement, WritableElement, WriteDataError,
};
use py_literal::Value as PyValue;
use rle_fixtures::meta::{center_crop, letterbox, stretch};
use rle_fixtures::synth::{LogitSet, MaskDtype, MaskMode, ModeSet};
use rle_fixtures::{Recipe, SynthBatch, SynthMasks, SynthRecipe};
use rle_reference::{ImageMeta, Options, ResizeMode, Size, Threshold};
use serde_json::{json, Value};

/// The `rle` binary under test.
pub fn rle() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("rle")
        .expect("cargo builds the rle binary for integration tests")
}

/// `tests/data/cli`.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cli")
}

/// `tests/data/cli/frames`: the committed frames.
pub fn frames_dir() -> PathBuf {
    data_dir().join("frames")
}

/// A committed frame: how it is made and what the CLI must make of it.
#[derive(Debug, Clone)]
pub struct TestFrame {
    /// File stem under `frames/`.
    pub name: &'static str,
    /// The tensors' recipe.
    pub recipe: Recipe,
    /// Metadata per image.
    pub metas: Vec<ImageMeta>,
    /// COCO image ids.
    pub image_ids: Vec<i64>,
    /// `category_ids` of the sidecar.
    pub category_ids: Option<Vec<i64>>,
    /// The sidecar's `options` object (JSON), if any.
    pub options_json: Option<Value>,
    /// `mask_dtype` written in the sidecar.
    pub mask_dtype: &'static str,
    /// The options the CLI must resolve with no flags.
    pub options: Options,
}

fn logit(query: usize, column: usize, v: f64) -> LogitSet {
    LogitSet {
        image: 0,
        query,
        column,
        logit: rle_fixtures::synth::Value::Num(v),
    }
}

fn on_image(mut l: LogitSet, image: usize) -> LogitSet {
    l.image = image;
    l
}

/// The three committed frames (sorted by name, as `rle run` reads a directory).
pub fn test_frames() -> Vec<TestFrame> {
    // a: one stretched 160×90 image, f32 masks, no sidecar options (all defaults).
    let mut a = SynthRecipe::new(11, 1, 12, 6, 16, 16);
    a.logits = vec![
        logit(1, 0, 3.0),
        logit(3, 2, 1.5),
        logit(5, 4, 0.5),
        logit(7, 1, -0.3), // 0.4256: passes 0.4
        logit(8, 3, -0.5), // 0.3775: fails 0.4
        logit(9, 5, 5.0),  // the no-object column: never a detection
        logit(3, 1, 1.25), // query 3 passes for two classes
    ];
    a.mask_modes = vec![ModeSet {
        image: 0,
        query: 5,
        mode: MaskMode::Border,
    }];
    let a = TestFrame {
        name: "a_stretch_f32",
        recipe: Recipe::Synth(a),
        metas: vec![stretch(Size::new(90, 160), Size::new(64, 64), None)],
        image_ids: vec![101],
        category_ids: None,
        options_json: None,
        mask_dtype: "f32",
        options: Options {
            threshold: Threshold::Scalar(0.4),
            num_classes: 5,
            class_mapping: None,
            max_detections: Some(300),
            resize: ResizeMode::Antialiased,
            ..Options::new(0)
        },
    };

    // b: two images (letterbox; static crop that pastes), f16 masks, per-class
    // thresholds and category ids from the sidecar.
    let mut b = SynthRecipe::new(22, 2, 10, 5, 12, 12);
    b.mask_dtype = MaskDtype::F16;
    b.logits = vec![
        logit(0, 0, 2.0),
        logit(2, 1, -0.125),            // 0.469: fails class 1's 0.5
        logit(4, 2, 0.25),              // 0.562: passes class 2's 0.4
        logit(6, 3, 1.0),               // 0.731: passes class 3's 0.6
        on_image(logit(1, 0, -0.5), 1), // 0.3775: passes class 0's 0.3
        on_image(logit(5, 3, 4.0), 1),
        on_image(logit(8, 2, 6.0), 1),
    ];
    let b = TestFrame {
        name: "b_batch2_f16",
        recipe: Recipe::Synth(b),
        metas: vec![
            letterbox(
                Size::new(60, 100),
                Size::new(48, 48),
                Size::new(48, 48),
                None,
            ),
            stretch(
                Size::new(80, 120),
                Size::new(48, 48),
                Some([10, 5, 110, 75]),
            ),
        ],
        image_ids: vec![201, 202],
        category_ids: Some(vec![1, 3, 7, 9]),
        options_json: Some(json!({"threshold": [0.3, 0.5, 0.4, 0.6]})),
        mask_dtype: "f16",
        options: Options {
            threshold: Threshold::PerClass(vec![0.3, 0.5, 0.4, 0.6]),
            num_classes: 4,
            class_mapping: None,
            max_detections: Some(300),
            resize: ResizeMode::Antialiased,
            ..Options::new(0)
        },
    };

    // c: center crop with negative pads, non-square bf16 masks, class remapping
    // shorter than C, a cap of 2 detections and the bilinear resize.
    let mut c = SynthRecipe::new(33, 1, 8, 7, 14, 10);
    c.mask_dtype = MaskDtype::Bf16;
    c.logits = vec![
        logit(0, 0, 1.0),
        logit(1, 1, 5.0), // class 1 is removed by the mapping
        logit(2, 2, 2.0),
        logit(3, 3, 3.0),
        logit(4, 5, 4.0),
        logit(5, 6, 6.0), // column 6 is beyond the mapping (L = 6 < C = 7)
    ];
    let mapping = vec![0, -1, 1, 2, -1, 3];
    let c = TestFrame {
        name: "c_crop_bf16",
        recipe: Recipe::Synth(c),
        metas: vec![center_crop(
            Size::new(70, 50),
            Size::new(56, 40),
            Size::new(64, 48),
            None,
        )],
        image_ids: vec![301],
        category_ids: None,
        options_json: Some(json!({
            "threshold": 0.25, "class_mapping": mapping, "max_detections": 2, "resize": "bilinear"
        })),
        mask_dtype: "bf16",
        options: Options {
            threshold: Threshold::Scalar(0.25),
            num_classes: 6,
            class_mapping: Some(mapping),
            max_detections: Some(2),
            resize: ResizeMode::Bilinear,
            ..Options::new(0)
        },
    };
    vec![a, b, c]
}

/// The frame's tensors.
pub fn tensors(f: &TestFrame) -> SynthBatch {
    rle_fixtures::generate(&f.recipe)
}

/// The sidecar JSON of a test frame, written independently of the binary.
pub fn sidecar_json(f: &TestFrame) -> Value {
    let hw = |s: Size| json!([s.height, s.width]);
    let images: Vec<Value> = f
        .metas
        .iter()
        .zip(&f.image_ids)
        .map(|(m, id)| {
            let c = m.static_crop;
            let mut v = json!({
                "image_id": id,
                "original_size": hw(m.original_size),
                "static_crop_offset": [c.offset_x, c.offset_y, c.width, c.height],
                "size_after_pre_processing": hw(m.size_after_pre_processing),
                "inference_size": hw(m.inference_size),
                "pad_left": m.pad_left, "pad_top": m.pad_top,
                "pad_right": m.pad_right, "pad_bottom": m.pad_bottom,
                "scale_width": m.scale_width, "scale_height": m.scale_height,
            });
            if let Some(d) = m.nonsquare_intermediate_size {
                v["nonsquare_intermediate_size"] = hw(d);
            }
            v
        })
        .collect();
    let mut v = json!({"format_version": 1, "mask_dtype": f.mask_dtype, "images": images});
    if let Some(ids) = &f.category_ids {
        v["category_ids"] = json!(ids);
    }
    if let Some(o) = &f.options_json {
        v["options"] = o.clone();
    }
    v
}

/// float16 for ndarray-npy (`<f2`), as numpy writes it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct F16(pub f16);

impl WritableElement for F16 {
    fn type_descriptor() -> PyValue {
        PyValue::String("<f2".into())
    }
    fn write<W: std::io::Write>(&self, mut w: W) -> Result<(), WriteDataError> {
        w.write_all(&self.0.to_le_bytes())?;
        Ok(())
    }
    fn write_slice<W: std::io::Write>(s: &[Self], mut w: W) -> Result<(), WriteDataError> {
        for v in s {
            w.write_all(&v.0.to_le_bytes())?;
        }
        Ok(())
    }
}

impl ReadableElement for F16 {
    fn read_to_end_exact_vec<R: Read>(
        mut r: R,
        desc: &PyValue,
        len: usize,
    ) -> Result<Vec<Self>, ReadDataError> {
        if !matches!(desc, PyValue::String(s) if s == "<f2") {
            return Err(ReadDataError::WrongDescriptor(desc.clone()));
        }
        let mut buf = vec![0u8; 2 * len];
        r.read_exact(&mut buf)?;
        Ok(buf
            .chunks_exact(2)
            .map(|c| F16(f16::from_le_bytes([c[0], c[1]])))
            .collect())
    }
}

/// An array to put in a test `.npz`, in any dtype the tests need.
#[derive(Debug)]
pub enum NpzArray {
    /// float32.
    F32(ArrayD<f32>),
    /// float64.
    F64(ArrayD<f64>),
    /// float16.
    F16(ArrayD<f16>),
    /// uint16 (bf16 bits).
    U16(ArrayD<u16>),
    /// int32.
    I32(ArrayD<i32>),
}

/// Writes `arrays` as a compressed `.npz`.
pub fn write_npz(path: &Path, arrays: &[(&str, NpzArray)]) {
    let file = std::fs::File::create(path).expect("the test directory is writable");
    let mut npz = NpzWriter::new_compressed(file);
    for (name, a) in arrays {
        match a {
            NpzArray::F32(a) => npz.add_array(*name, a),
            NpzArray::F64(a) => npz.add_array(*name, a),
            NpzArray::F16(a) => npz.add_array(*name, &a.mapv(F16)),
            NpzArray::U16(a) => npz.add_array(*name, a),
            NpzArray::I32(a) => npz.add_array(*name, a),
        }
        .expect("writing a test array succeeds");
    }
    npz.finish().expect("finishing a test .npz succeeds");
}

/// The three arrays of a synthetic batch, as the frame format stores them.
pub fn frame_arrays(t: &SynthBatch) -> Vec<(&'static str, NpzArray)> {
    let masks = match &t.masks {
        SynthMasks::F32(m) => NpzArray::F32(m.clone().into_dyn()),
        SynthMasks::F16(m) => NpzArray::F16(m.clone().into_dyn()),
        SynthMasks::Bf16(m) => NpzArray::U16(m.mapv(|v| v.to_bits()).into_dyn()),
    };
    vec![
        ("logits", NpzArray::F32(t.logits.clone().into_dyn())),
        ("boxes", NpzArray::F32(t.boxes.clone().into_dyn())),
        ("masks", masks),
    ]
}

/// Writes a test frame as `dir/name.npz` + `dir/name.json`.
pub fn write_frame(dir: &Path, f: &TestFrame) {
    write_npz(
        &dir.join(format!("{}.npz", f.name)),
        &frame_arrays(&tensors(f)),
    );
    let text = serde_json::to_string_pretty(&sidecar_json(f)).expect("JSON values serialize");
    std::fs::write(dir.join(format!("{}.json", f.name)), text + "\n")
        .expect("the test directory is writable");
}

/// Reads the committed arrays of a frame back (f16 and bf16 masks as their bits).
pub fn read_committed(f: &TestFrame) -> (Array3<f32>, Array3<f32>, Vec<u32>) {
    let path = frames_dir().join(format!("{}.npz", f.name));
    let mut npz = NpzReader::new(std::fs::File::open(&path).expect("the committed frame exists"))
        .expect("the committed frame is a valid .npz");
    let logits: Array3<f32> = npz.by_name("logits").expect("logits are f32");
    let boxes: Array3<f32> = npz.by_name("boxes").expect("boxes are f32");
    let masks: Vec<u32> = match f.mask_dtype {
        "f32" => npz
            .by_name::<_, IxDyn>("masks")
            .map(|a: ArrayD<f32>| a.iter().map(|v| v.to_bits()).collect()),
        "f16" => npz
            .by_name::<_, IxDyn>("masks")
            .map(|a: ArrayD<F16>| a.iter().map(|v| u32::from(v.0.to_bits())).collect()),
        _ => npz
            .by_name::<_, IxDyn>("masks")
            .map(|a: ArrayD<u16>| a.iter().map(|&v| u32::from(v)).collect()),
    }
    .expect("masks have the declared dtype");
    (logits, boxes, masks)
}

/// The bits of generated masks, in the same form as [`read_committed`].
pub fn mask_bits(t: &SynthBatch) -> Vec<u32> {
    match &t.masks {
        SynthMasks::F32(m) => m.iter().map(|v| v.to_bits()).collect(),
        SynthMasks::F16(m) => m.iter().map(|v| u32::from(v.to_bits())).collect(),
        SynthMasks::Bf16(m) => m.iter().map(|v| u32::from(v.to_bits())).collect(),
    }
}

/// The COCO records the reference gives for a frame (CPU scores), as JSON values,
/// and the number of near decisions it reported.
pub fn expected_records(f: &TestFrame, opts: &Options) -> (Vec<Value>, usize) {
    let t = tensors(f);
    let results =
        rle_reference::postprocess(&t.batch(), &f.metas, opts).expect("the test frame is valid");
    let mut out = Vec::new();
    let mut near = 0;
    for (r, id) in results.iter().zip(&f.image_ids) {
        near += r.near_decisions.len();
        for d in &r.detections {
            let class = i64::from(d.class_id);
            let category = f
                .category_ids
                .as_ref()
                .map_or(class, |ids| ids[class as usize]);
            let bbox = match d.xyxy {
                rle_reference::Xyxy::Int(v) => {
                    let [x1, y1, x2, y2] = v.map(i64::from);
                    json!([x1, y1, x2 - x1, y2 - y1])
                }
                rle_reference::Xyxy::F32(v) => {
                    let [x1, y1, x2, y2] = v.map(f64::from);
                    json!([x1, y1, x2 - x1, y2 - y1])
                }
            };
            out.push(json!({
                "image_id": id,
                "category_id": category,
                "score": d.score,
                "bbox": bbox,
                "segmentation": {
                    "size": [d.mask.size.height, d.mask.size.width],
                    "counts": String::from_utf8(d.mask.counts.clone()).expect("COCO strings are ASCII"),
                },
            }));
        }
    }
    (out, near)
}

/// Compares a results file with expected records: every field equal, scores as f32 bits.
pub fn assert_same_records(got: &[Value], want: &[Value]) {
    assert_eq!(
        got.len(),
        want.len(),
        "number of detections\ngot: {got:#?}\nwant: {want:#?}"
    );
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        for key in ["image_id", "category_id", "bbox", "segmentation"] {
            assert_eq!(g[key], w[key], "record {i}: {key}");
        }
        let (gs, ws) = (
            g["score"].as_f64().unwrap() as f32,
            w["score"].as_f64().unwrap() as f32,
        );
        assert_eq!(gs.to_bits(), ws.to_bits(), "record {i}: score {gs} vs {ws}");
        let keys: Vec<&String> = g.as_object().unwrap().keys().collect();
        assert_eq!(
            keys.len(),
            5,
            "record {i} has exactly the COCO results fields: {keys:?}"
        );
    }
}

/// Reads a COCO results file.
pub fn read_results(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("the results file exists");
    serde_json::from_str(&text).expect("the results file is a JSON list")
}

/// The single stderr line of a failed command (asserts there is exactly one).
pub fn one_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr, got:\n{text}");
    assert!(
        lines[0].starts_with("error: "),
        "the line starts with `error: `: {text}"
    );
    lines[0].to_string()
}

/// A 4-D f32 array of zeros.
pub fn zeros4(shape: (usize, usize, usize, usize)) -> ArrayD<f32> {
    Array4::<f32>::zeros(shape).into_dyn()
}
