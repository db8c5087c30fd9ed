//! `rle run --masks-resolution-factor` / `--legacy-canvas` and the sidecar's
//! `masks_resolution_factor` (inference-models 0.39.6, SPEC §10): the COCO results
//! equal `rle_reference::postprocess` with the same options; `segmentation.size` is
//! the encoded grid and `bbox` stays float off the image grid.

#[path = "cli_common.rs"]
mod common;

use common::*;
use rle_reference::CanvasRule;

fn run(extra: &[&str], frame: &str, out: &std::path::Path) -> assert_cmd::assert::Assert {
    rle()
        .args(["run", "--cpu"])
        .args(extra)
        .arg("--frames")
        .arg(frames_dir().join(format!("{frame}.npz")))
        .arg("--out")
        .arg(out)
        .assert()
}

#[test]
fn factor_below_one_encodes_a_smaller_grid_with_float_boxes() {
    let tmp = tempfile::tempdir().unwrap();
    let f = &test_frames()[0];
    let out = tmp.path().join("half.json");
    run(&["--masks-resolution-factor", "0.5"], f.name, &out).success();
    let mut opts = f.options.clone();
    opts.masks_resolution_factor = 0.5;
    let (want, _) = expected_records(f, &opts);
    assert!(!want.is_empty(), "the test frame has detections");
    let got = read_results(&out);
    assert_same_records(&got, &want);
    let image = f.metas[0].original_size;
    for r in &got {
        let size = &r["segmentation"]["size"];
        assert_ne!(
            (size[0].as_u64(), size[1].as_u64()),
            (Some(u64::from(image.height)), Some(u64::from(image.width))),
            "factor 0.5 shrinks the grid of a frame larger than its mask"
        );
        assert!(
            r["bbox"].as_array().unwrap().iter().any(|v| !v.is_i64())
                || r["bbox"] == serde_json::json!([0.0, 0.0, 0.0, 0.0]),
            "float bbox expected: {}",
            r["bbox"]
        );
    }
}

#[test]
fn legacy_canvas_flag_selects_the_old_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let f = &test_frames()[0];
    let out = tmp.path().join("legacy.json");
    run(&["--legacy-canvas"], f.name, &out).success();
    let mut opts = f.options.clone();
    opts.canvas = CanvasRule::LegacyOriginCrop;
    assert_same_records(&read_results(&out), &expected_records(f, &opts).0);
}

#[test]
fn bad_factors_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let f = &test_frames()[0];
    for bad in ["1.5", "-0.1", "nan", "inf", "half"] {
        let out = tmp.path().join("x.json");
        let a = run(&["--masks-resolution-factor", bad], f.name, &out).failure();
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains("--masks-resolution-factor"), "{bad}: {err}");
        assert!(!out.exists(), "nothing written for {bad}");
    }
    // The legacy rule predates the factor: combining them is refused by validation.
    let out = tmp.path().join("y.json");
    let a = run(
        &["--legacy-canvas", "--masks-resolution-factor", "0.5"],
        f.name,
        &out,
    )
    .failure();
    let err = one_line(&a.get_output().stderr);
    assert!(
        err.contains("canvas") && err.contains("masks_resolution_factor"),
        "{err}"
    );
}
