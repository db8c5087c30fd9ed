//! Error paths of `rle run`: every bad input gives exit code 1 (2 for a bad flag)
//! and exactly one stderr line naming the file and the field, and no output file
//! (not even a temporary one) is left behind.

#[path = "cli_common.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};

/// A scratch copy of a committed frame (`frame.npz` + `frame.json`).
struct Scratch {
    dir: tempfile::TempDir,
    frame: TestFrame,
}

impl Scratch {
    fn new(index: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let frame = test_frames()[index].clone();
        for ext in ["npz", "json"] {
            std::fs::copy(
                frames_dir().join(format!("{}.{ext}", frame.name)),
                dir.path().join(format!("frame.{ext}")),
            )
            .unwrap();
        }
        Self { dir, frame }
    }

    fn npz(&self) -> PathBuf {
        self.dir.path().join("frame.npz")
    }

    fn json(&self) -> PathBuf {
        self.dir.path().join("frame.json")
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out").join("results.json")
    }

    fn edit_json(&self, edit: impl FnOnce(&mut Value)) {
        let mut v: Value =
            serde_json::from_str(&std::fs::read_to_string(self.json()).unwrap()).unwrap();
        edit(&mut v);
        std::fs::write(self.json(), serde_json::to_string_pretty(&v).unwrap()).unwrap();
    }

    /// Rewrites the archive with `replace(name, array)` applied to each array.
    fn edit_npz(&self, replace: impl Fn(&str, NpzArray) -> Option<NpzArray>) {
        let arrays: Vec<(&str, NpzArray)> = frame_arrays(&tensors(&self.frame))
            .into_iter()
            .filter_map(|(n, a)| replace(n, a).map(|a| (n, a)))
            .collect();
        write_npz(&self.npz(), &arrays);
    }

    /// Runs `rle run` with extra args; asserts `code`, no output, and returns the line.
    fn fails(&self, code: i32, extra: &[&str]) -> String {
        std::fs::create_dir_all(self.out().parent().unwrap()).unwrap();
        let output = rle()
            .args(["run", "--cpu", "--frames"])
            .arg(self.dir.path())
            .arg("--out")
            .arg(self.out())
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.stdout.is_empty(),
            "nothing on stdout: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        let leftovers: Vec<_> = std::fs::read_dir(self.out().parent().unwrap())
            .unwrap()
            .collect();
        assert!(
            leftovers.is_empty(),
            "no output or temporary file is left: {leftovers:?}"
        );
        one_line(&output.stderr)
    }
}

fn has(line: &str, parts: &[&str]) {
    for p in parts {
        assert!(line.contains(p), "`{line}` should contain `{p}`");
    }
}

#[test]
fn truncated_archive() {
    let s = Scratch::new(0);
    let bytes = std::fs::read(s.npz()).unwrap();
    std::fs::write(s.npz(), &bytes[..bytes.len() / 2]).unwrap();
    has(
        &s.fails(1, &[]),
        &["frame.npz: not a readable .npz archive"],
    );
}

#[test]
fn not_an_archive() {
    let s = Scratch::new(0);
    std::fs::write(s.npz(), b"logits, boxes, masks").unwrap();
    has(
        &s.fails(1, &[]),
        &["frame.npz: not a readable .npz archive"],
    );
}

#[test]
fn missing_array() {
    let s = Scratch::new(0);
    s.edit_npz(|n, a| (n != "masks").then_some(a));
    has(
        &s.fails(1, &[]),
        &[
            "frame.npz: array \"masks\" is missing",
            "holds: logits, boxes",
        ],
    );
}

#[test]
fn wrong_mask_dtype() {
    let s = Scratch::new(0);
    s.edit_npz(|n, a| match (n, a) {
        ("masks", NpzArray::F32(m)) => Some(NpzArray::I32(m.mapv(|v| v as i32))),
        (_, a) => Some(a),
    });
    has(
        &s.fails(1, &[]),
        &["frame.npz: array \"masks\": dtype int32 ('<i4') is not supported"],
    );
}

#[test]
fn wrong_logits_dtype() {
    let s = Scratch::new(0);
    s.edit_npz(|n, a| match (n, a) {
        ("logits", NpzArray::F32(m)) => Some(NpzArray::F64(m.mapv(f64::from))),
        (_, a) => Some(a),
    });
    has(
        &s.fails(1, &[]),
        &[
            "frame.npz: array \"logits\": dtype float64 ('<f8')",
            "expected float32",
        ],
    );
}

#[test]
fn wrong_boxes_shape() {
    let s = Scratch::new(0);
    s.edit_npz(|n, a| match n {
        "boxes" => Some(NpzArray::F32(
            ndarray::Array3::<f32>::zeros((1, 12, 5)).into_dyn(),
        )),
        _ => Some(a),
    });
    has(
        &s.fails(1, &[]),
        &[
            "frame.npz: array \"boxes\": expected shape 1×12×4",
            "got 1×12×5",
        ],
    );
}

#[test]
fn masks_disagree_with_logits_on_q() {
    let s = Scratch::new(0);
    s.edit_npz(|n, a| match n {
        "masks" => Some(NpzArray::F32(zeros4((1, 11, 16, 16)))),
        _ => Some(a),
    });
    has(
        &s.fails(1, &[]),
        &[
            "frame.npz: array \"masks\": expected shape 1×12×Mh×Mw",
            "got 1×11×16×16",
        ],
    );
}

#[test]
fn logits_of_the_wrong_rank() {
    let s = Scratch::new(0);
    s.edit_npz(|n, a| match n {
        "logits" => Some(NpzArray::F32(
            ndarray::Array2::<f32>::zeros((12, 6)).into_dyn(),
        )),
        _ => Some(a),
    });
    has(
        &s.fails(1, &[]),
        &[
            "frame.npz: array \"logits\": expected shape B×Q×C",
            "got 12×6",
        ],
    );
}

#[test]
fn bf16_bits_need_the_declaration() {
    let s = Scratch::new(2);
    s.edit_json(|v| v["mask_dtype"] = json!("f32"));
    has(
        &s.fails(1, &[]),
        &[
            "frame.npz: array \"masks\": uint16",
            "frame.json",
            "mask_dtype",
        ],
    );
}

#[test]
fn declared_mask_dtype_disagrees() {
    let s = Scratch::new(1);
    s.edit_json(|v| v["mask_dtype"] = json!("f32"));
    has(
        &s.fails(1, &[]),
        &[
            "frame.npz: array \"masks\": stored as f16, but",
            "frame.json says \"mask_dtype\": \"f32\"",
        ],
    );
}

#[test]
fn image_count_disagrees_with_the_batch() {
    let s = Scratch::new(1);
    s.edit_json(|v| {
        v["images"].as_array_mut().unwrap().pop();
    });
    has(
        &s.fails(1, &[]),
        &[
            "frame.json: images: 1 entries, but",
            "frame.npz holds 2 image(s)",
        ],
    );
}

#[test]
fn size_after_pre_processing_disagrees_with_the_crop() {
    let s = Scratch::new(0);
    s.edit_json(|v| v["images"][0]["size_after_pre_processing"] = json!([45, 160]));
    has(
        &s.fails(1, &[]),
        &["frame.json: images[0].size_after_pre_processing: [45, 160] differs"],
    );
}

#[test]
fn crop_outside_the_image() {
    let s = Scratch::new(1);
    s.edit_json(|v| v["images"][1]["static_crop_offset"] = json!([30, 5, 100, 70]));
    has(
        &s.fails(1, &[]),
        &["frame.json: images[1].static_crop_offset:", "does not fit"],
    );
}

#[test]
fn negative_scale() {
    let s = Scratch::new(0);
    s.edit_json(|v| v["images"][0]["scale_width"] = json!(-0.4));
    has(
        &s.fails(1, &[]),
        &["frame.json: images[0].scale_width: must be finite and > 0, got -0.4"],
    );
}

#[test]
fn missing_metadata_field() {
    let s = Scratch::new(0);
    s.edit_json(|v| {
        v["images"][0]
            .as_object_mut()
            .unwrap()
            .remove("inference_size");
    });
    has(
        &s.fails(1, &[]),
        &["frame.json: images[0]: missing field `inference_size`"],
    );
}

#[test]
fn misspelt_metadata_field() {
    let s = Scratch::new(0);
    s.edit_json(|v| v["images"][0]["pad_lef"] = json!(3));
    has(
        &s.fails(1, &[]),
        &["frame.json: images[0].pad_lef: unknown field `pad_lef`"],
    );
}

#[test]
fn malformed_sidecar() {
    let s = Scratch::new(0);
    std::fs::write(s.json(), "{\"images\": [ {\"image_id\": 1,, } ]}").unwrap();
    has(
        &s.fails(1, &[]),
        &["frame.json: images[0]", "line 1 column"],
    );
}

#[test]
fn missing_sidecar() {
    let s = Scratch::new(0);
    std::fs::remove_file(s.json()).unwrap();
    has(
        &s.fails(1, &[]),
        &["frame.npz: the metadata sidecar", "frame.json is missing"],
    );
}

#[test]
fn category_ids_too_short() {
    let s = Scratch::new(1);
    s.edit_json(|v| v["category_ids"] = json!([1, 2]));
    has(
        &s.fails(1, &[]),
        &["frame.json: category_ids: 2 entries, but there are 4 output classes"],
    );
}

#[test]
fn sidecar_thresholds_of_the_wrong_length() {
    let s = Scratch::new(1);
    s.edit_json(|v| v["options"]["threshold"] = json!([0.5, 0.5]));
    has(&s.fails(1, &[]), &["frame.json: options.threshold: 2 per-class thresholds, but the frame has 4 output classes"]);
}

#[test]
fn sidecar_threshold_out_of_range() {
    let s = Scratch::new(2);
    s.edit_json(|v| v["options"]["threshold"] = json!(40));
    has(
        &s.fails(1, &[]),
        &["frame.json: options.threshold: a threshold must be a number in [0, 1], got 40"],
    );
}

#[test]
fn duplicate_image_ids_across_frames() {
    let s = Scratch::new(0);
    for ext in ["npz", "json"] {
        std::fs::copy(
            s.dir.path().join(format!("frame.{ext}")),
            s.dir.path().join(format!("frame2.{ext}")),
        )
        .unwrap();
    }
    has(
        &s.fails(1, &[]),
        &["frame2.json: image_id 101 is already used by", "frame.json"],
    );
}

fn thresholds_file(s: &Scratch, text: &str) -> String {
    let p = s.dir.path().join("thresholds.json");
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn threshold_file_not_a_list() {
    let s = Scratch::new(0);
    let p = thresholds_file(&s, "{\"person\": 0.5}");
    has(
        &s.fails(1, &["--thresholds", &p]),
        &[
            "thresholds.json: expected a JSON list of numbers",
            "expected a sequence",
        ],
    );
}

#[test]
fn threshold_file_with_a_string() {
    let s = Scratch::new(0);
    let p = thresholds_file(&s, "[0.5, \"high\", 0.5, 0.5, 0.5]");
    has(
        &s.fails(1, &["--thresholds", &p]),
        &[
            "thresholds.json: [1]: expected a JSON list of numbers",
            "invalid type: string",
        ],
    );
}

#[test]
fn threshold_file_out_of_range() {
    let s = Scratch::new(0);
    let p = thresholds_file(&s, "[0.5, 0.5, 1.5, 0.5, 0.5]");
    has(
        &s.fails(1, &["--thresholds", &p]),
        &["thresholds.json: thresholds[2]: a threshold must be a number in [0, 1], got 1.5"],
    );
}

#[test]
fn threshold_file_of_the_wrong_length() {
    let s = Scratch::new(0);
    let p = thresholds_file(&s, "[0.5, 0.5]");
    has(
        &s.fails(1, &["--thresholds", &p]),
        &["thresholds.json: 2 per-class thresholds, but the frame has 5 output classes"],
    );
}

#[test]
fn threshold_file_empty_or_missing() {
    let s = Scratch::new(0);
    let p = thresholds_file(&s, "[]");
    has(
        &s.fails(1, &["--thresholds", &p]),
        &["thresholds.json: thresholds: the per-class threshold list is empty"],
    );
    let missing = s.dir.path().join("nope.json");
    has(
        &s.fails(1, &["--thresholds", missing.to_str().unwrap()]),
        &["nope.json: cannot read the file: does not exist"],
    );
}

#[test]
fn class_mapping_file_with_a_bad_id() {
    let s = Scratch::new(0);
    let p = s.dir.path().join("mapping.json");
    std::fs::write(&p, "[0, 1, -2]").unwrap();
    has(
        &s.fails(1, &["--class-mapping", p.to_str().unwrap()]),
        &["mapping.json: class mapping[2]: must be -1 (removed) or a class id"],
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    let s = Scratch::new(0);
    has(
        &s.fails(2, &["--threshold", "1.5"]),
        &["--threshold: a threshold must be a number in [0, 1], got 1.5"],
    );
    has(&s.fails(2, &["--threshold", "nan"]), &["--threshold"]);
    let p = thresholds_file(&s, "[0.5]");
    let out = rle()
        .args([
            "run",
            "--threshold",
            "0.5",
            "--thresholds",
            &p,
            "--frames",
            "x",
            "--out",
            "y",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = rle().args(["run", "--frames", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "--out is required");
    let out = rle()
        .args(["bench", "--demo", "--iters", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    one_line(&out.stderr);
}

#[test]
fn missing_frames_and_output_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = rle()
        .args(["run", "--cpu", "--frames"])
        .arg(tmp.path().join("none.npz"))
        .arg("--out")
        .arg(tmp.path().join("r.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    has(
        &one_line(&out.stderr),
        &["none.npz: cannot access the frames"],
    );
    let out = rle()
        .args(["run", "--cpu", "--frames"])
        .arg(tmp.path())
        .arg("--out")
        .arg(tmp.path().join("r.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    has(
        &one_line(&out.stderr),
        &["no .npz frames in this directory"],
    );
    let out = rle()
        .args(["run", "--cpu", "--frames"])
        .arg(frames_dir())
        .arg("--out")
        .arg(Path::new("/nonexistent-dir-for-rle-tests/r.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    has(
        &one_line(&out.stderr),
        &["r.json: the directory /nonexistent-dir-for-rle-tests does not exist"],
    );
}

/// A frame that fails after others succeeded leaves no results file.
#[test]
fn a_late_failure_writes_nothing() {
    let s = Scratch::new(0);
    for f in test_frames() {
        for ext in ["npz", "json"] {
            std::fs::copy(
                frames_dir().join(format!("{}.{ext}", f.name)),
                s.dir.path().join(format!("{}.{ext}", f.name)),
            )
            .unwrap();
        }
    }
    // `frame.*` sorts after the good `c_crop_bf16.*` frames and reuses image id 101.
    has(
        &s.fails(1, &[]),
        &["frame.json: image_id 101 is already used by"],
    );
}

/// Issue #14: these messages named no field a user wrote.
#[test]
fn a_huge_negative_pad_names_the_pads() {
    let s = Scratch::new(0);
    s.edit_json(|v| v["images"][0]["pad_top"] = json!(i32::MIN));
    has(
        &s.fails(1, &[]),
        &[
            "frame.json: images[0].pad_top/pad_bottom (-2147483648, 0): the mask window after pads (height):",
            "exceeds the resize axis limit 2^23",
        ],
    );
}

#[test]
fn a_list_for_the_sidecar_says_an_object_is_expected() {
    let s = Scratch::new(0);
    std::fs::write(s.json(), "[]").unwrap();
    let line = s.fails(1, &[]);
    has(&line, &["frame.json: expected a JSON object (the sidecar"]);
    assert!(!line.contains("struct Sidecar"), "{line}");
    std::fs::write(s.json(), "{\"images\": [[]]}").unwrap();
    has(
        &s.fails(1, &[]),
        &["frame.json: images[0]: expected a JSON object (one image's metadata"],
    );
}

#[test]
fn nan_in_json_says_json_has_no_nan() {
    let s = Scratch::new(0);
    let text = std::fs::read_to_string(s.json()).unwrap();
    let i = text.find("\"scale_width\": ").unwrap() + "\"scale_width\": ".len();
    let j = i + text[i..].find([',', '\n']).unwrap();
    std::fs::write(s.json(), format!("{}NaN{}", &text[..i], &text[j..])).unwrap();
    has(
        &s.fails(1, &[]),
        &[
            "frame.json: images[0].scale_width: expected value at line",
            "JSON has no NaN or Infinity (Python's json.dump writes them unless allow_nan=False)",
        ],
    );
    let p = thresholds_file(&s, "[0.5, 0.5, Infinity, 0.5, 0.5]");
    has(
        &s.fails(1, &["--thresholds", &p]),
        &[
            "thresholds.json: [2]: expected a JSON list of numbers",
            "JSON has no NaN or Infinity",
        ],
    );
}
