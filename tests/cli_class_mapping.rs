//! Issue #14, defect 6: a class mapping whose length is not the frame's model
//! class count `C − 1` was accepted without a word. inference-models accepts it
//! too (SPEC §2.3: a shorter one leaves the columns beyond it without a class, a
//! longer one maps the "no object" column), and the results must stay the
//! package's, so `rle run` keeps the results and warns on stderr, once per text.

#[path = "cli_common.rs"]
mod common;

use common::*;
use serde_json::Value;

/// `rle run` of the committed frame `a_stretch_f32` (C = 6: 5 classes and "no
/// object") with `--class-mapping` = `mapping`: (records, stderr).
fn run_with_mapping(mapping: &[i64]) -> (Vec<Value>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("mapping.json");
    std::fs::write(&file, serde_json::to_string(mapping).unwrap()).unwrap();
    let out = tmp.path().join("r.json");
    let o = rle()
        .args(["run", "--cpu", "--frames"])
        .arg(frames_dir().join("a_stretch_f32.npz"))
        .arg("--out")
        .arg(&out)
        .arg("--class-mapping")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    (read_results(&out), stderr)
}

/// What the reference gives for frame a with `mapping`.
fn expected(mapping: &[i64]) -> Vec<Value> {
    let f = &test_frames()[0];
    let opts = f.options.clone().with_class_mapping(mapping.to_vec());
    expected_records(f, &opts).0
}

#[test]
fn a_short_mapping_is_applied_as_the_package_does_and_warned_about() {
    let mapping = [0, 1, 2];
    let (got, stderr) = run_with_mapping(&mapping);
    assert_same_records(&got, &expected(&mapping));
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(
            "mapping.json: class mapping: 3 entries for the 5 model classes of the frame (C = 6 logit columns"
        ) && lines[0].contains("columns 3..=4 get no class and are never detected"),
        "{stderr}"
    );
}

#[test]
fn a_long_mapping_that_names_the_no_object_column_is_warned_about() {
    let mapping = [0, 1, 2, 3, 4, 5, 6];
    let (got, stderr) = run_with_mapping(&mapping);
    // Frame a's query 9 is confident in column 5 ("no object"): with this mapping it
    // is a detection of class 5, as in the package.
    assert!(got.iter().any(|r| r["category_id"] == 5), "{got:?}");
    assert_same_records(&got, &expected(&mapping));
    assert!(
        stderr.contains("the \"no object\" column 5 maps to class 5, so its scores become detections of that class; entry 6 is unused"),
        "{stderr}"
    );
}

#[test]
fn a_mapping_of_the_model_class_count_is_silent() {
    let (_, stderr) = run_with_mapping(&[0, -1, 1, 2, 3]);
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn a_sidecar_mapping_is_checked_the_same_way() {
    // Frame c's sidecar mapping has 6 entries for C = 7: silent. One fewer warns,
    // naming the sidecar field.
    let tmp = tempfile::tempdir().unwrap();
    let f = &test_frames()[2];
    for ext in ["npz", "json"] {
        std::fs::copy(
            frames_dir().join(format!("{}.{ext}", f.name)),
            tmp.path().join(format!("c.{ext}")),
        )
        .unwrap();
    }
    let run = || {
        let o = rle()
            .args(["run", "--cpu", "--frames"])
            .arg(tmp.path().join("c.npz"))
            .arg("--out")
            .arg(tmp.path().join("r.json"))
            .output()
            .unwrap();
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    assert!(!run().contains("warning"));
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("c.json")).unwrap()).unwrap();
    v["options"]["class_mapping"] = serde_json::json!([0, -1, 1, 2, -1]);
    std::fs::write(tmp.path().join("c.json"), v.to_string()).unwrap();
    let stderr = run();
    assert!(
        stderr.contains("c.json: options.class_mapping: 5 entries for the 6 model classes")
            && stderr.contains("column 5 gets no class"),
        "{stderr}"
    );
}
