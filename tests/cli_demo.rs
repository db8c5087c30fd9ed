//! `rle demo`: prints the embedded frame's detections and timing, writes COCO
//! results, and saves a frame that `rle run` turns into the same results.

#[path = "cli_common.rs"]
mod common;

use common::*;

#[test]
fn demo_prints_detections_and_its_frame_runs_to_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, saved) = (tmp.path().join("demo.json"), tmp.path().join("frame"));
    let assert = rle()
        .arg("demo")
        .arg("--out")
        .arg(&out)
        .arg("--save-frame")
        .arg(&saved)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    for part in [
        "1 image 1920×1080, Q=100, C=91, masks 78×78 f32",
        "class",
        "score",
        "mask area",
        "runs",
        "1 person",
        "15 detections above threshold 0.4",
        "time: ",
        "per frame",
    ] {
        assert!(stdout.contains(part), "`{part}` missing from:\n{stdout}");
    }
    let device = stdout
        .lines()
        .find(|l| l.starts_with("device: "))
        .expect("a device line");
    assert!(
        device.contains("GPU") || device.contains("CPU fallback rle-cpu"),
        "{device}"
    );
    if !rle_host::driver_present() {
        assert!(device.contains("no CUDA driver"), "{device}");
        // Issue #14: the CPU path is rle-cpu on rayon's threads, not "the CPU
        // reference, single thread".
        let time = stdout.lines().find(|l| l.starts_with("time: ")).unwrap();
        assert!(time.contains("(CPU fallback rle-cpu, "), "{time}");
        assert!(time.contains(" thread"), "{time}");
        assert!(!time.contains("single thread"), "{time}");
    }
    let demo = read_results(&out);
    assert_eq!(demo.len(), 15);
    assert!(demo
        .iter()
        .all(|r| r["segmentation"]["size"] == serde_json::json!([1080, 1920])));

    // The saved frame through `rle run` (same device policy) gives the same bytes.
    let run_out = tmp.path().join("run.json");
    rle()
        .args(["run", "--frames"])
        .arg(saved.join("demo.npz"))
        .arg("--out")
        .arg(&run_out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&run_out).unwrap()
    );
}
