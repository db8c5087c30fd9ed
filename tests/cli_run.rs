//! `rle run` on the committed frames: the COCO results equal
//! `rle_reference::postprocess` on the same tensors, metadata and options.

#[path = "cli_common.rs"]
mod common;

use common::*;
use rle_reference::{ResizeMode, Threshold};
use serde_json::Value;

#[test]
fn run_directory_matches_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("results.json");
    let assert = rle()
        .args(["run", "--cpu", "--frames"])
        .arg(frames_dir())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let mut want = Vec::new();
    for f in test_frames() {
        want.extend(expected_records(&f, &f.options).0);
    }
    assert!(
        stdout.contains(&format!(
            "wrote {} detections for 4 image(s) from 3 frame(s)",
            want.len()
        )),
        "{stdout}"
    );
    assert_same_records(&read_results(&out), &want);
}

#[test]
fn run_one_frame_named_by_its_npz_or_its_sidecar() {
    let tmp = tempfile::tempdir().unwrap();
    let f = &test_frames()[1];
    let (want, _) = expected_records(f, &f.options);
    for ext in ["npz", "json"] {
        let out = tmp.path().join(format!("from_{ext}.json"));
        rle()
            .args(["run", "--cpu", "--frames"])
            .arg(frames_dir().join(format!("{}.{ext}", f.name)))
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        assert_same_records(&read_results(&out), &want);
    }
}

#[test]
fn flags_override_the_sidecar() {
    let tmp = tempfile::tempdir().unwrap();
    let f = &test_frames()[2]; // sidecar: threshold 0.25, max 2, bilinear, a class mapping
    let out = tmp.path().join("r.json");
    rle()
        .args([
            "run",
            "--cpu",
            "--threshold",
            "0.5",
            "--max-detections",
            "10",
            "--resize",
            "antialiased",
            "--frames",
        ])
        .arg(frames_dir().join(format!("{}.npz", f.name)))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let mut opts = f.options.clone();
    opts.threshold = Threshold::Scalar(0.5);
    opts.max_detections = Some(10);
    opts.resize = ResizeMode::Antialiased;
    let (want, _) = expected_records(f, &opts);
    assert!(want.len() > 2, "the override lifts the sidecar's cap of 2");
    assert_same_records(&read_results(&out), &want);
}

#[test]
fn threshold_and_class_mapping_files() {
    let tmp = tempfile::tempdir().unwrap();
    let f = &test_frames()[0]; // C = 6: five classes and no-object
    let mapping = tmp.path().join("mapping.json");
    std::fs::write(&mapping, "[0, -1, 1, 2, 3]").unwrap();
    let thresholds = tmp.path().join("thresholds.json");
    std::fs::write(&thresholds, "[0.9, 0.5, 0.3, 0.4]").unwrap();
    let out = tmp.path().join("r.json");
    rle()
        .args(["run", "--cpu", "--frames"])
        .arg(frames_dir().join(format!("{}.npz", f.name)))
        .arg("--out")
        .arg(&out)
        .arg("--class-mapping")
        .arg(&mapping)
        .arg("--thresholds")
        .arg(&thresholds)
        .assert()
        .success();
    let mut opts = f.options.clone();
    opts.class_mapping = Some(vec![0, -1, 1, 2, 3]);
    opts.threshold = Threshold::PerClass(vec![0.9, 0.5, 0.3, 0.4]);
    let (want, _) = expected_records(f, &opts);
    assert_same_records(&read_results(&out), &want);
}

#[test]
fn no_detections_is_an_empty_list() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.json");
    rle()
        .args(["run", "--cpu", "--threshold", "1", "--frames"])
        .arg(frames_dir())
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicates::str::contains("wrote 0 detections"));
    assert_eq!(read_results(&out), Vec::<Value>::new());
}

/// Without `--cpu` the GPU runs when there is one; its results are bit-exact, so
/// they equal the reference wherever the reference reports no near decision.
#[test]
fn default_device_matches_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.json");
    let assert = rle()
        .args(["run", "--frames"])
        .arg(frames_dir())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    if !rle_host::driver_present() {
        assert!(
            stdout.contains("CPU fallback rle-cpu") && stdout.contains("no CUDA driver"),
            "{stdout}"
        );
    }
    let mut want = Vec::new();
    for f in test_frames() {
        let (records, near) = expected_records(&f, &f.options);
        assert_eq!(
            near, 0,
            "{}: test frames avoid near decisions so GPU and CPU agree",
            f.name
        );
        want.extend(records);
    }
    assert_same_records(&read_results(&out), &want);
}
