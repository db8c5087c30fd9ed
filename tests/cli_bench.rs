//! `rle bench`: latency percentiles and throughput, GPU and CPU (CPU only, and
//! saying so, without a GPU).

#[path = "cli_common.rs"]
mod common;

use common::*;

fn check_report(stdout: &str) {
    for part in [
        "p50 ",
        "p90 ",
        "p99 ",
        "max ",
        "images/s",
        "CPU fallback rle-cpu on",
    ] {
        assert!(stdout.contains(part), "`{part}` missing from:\n{stdout}");
    }
    if rle_host::driver_present() {
        assert!(stdout.contains("GPU"), "{stdout}");
    } else {
        assert!(
            stdout.contains("GPU: none (no CUDA driver); CPU fallback only"),
            "{stdout}"
        );
    }
}

#[test]
fn bench_frames_reports_percentiles() {
    let assert = rle()
        .args(["bench", "--iters", "3", "--warmup", "1", "--frames"])
        .arg(frames_dir())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    check_report(&stdout);
    assert!(
        stdout.contains("3 frame file(s), 4 image(s) per pass"),
        "{stdout}"
    );
    assert!(stdout.contains("3 pass(es) after 1 warm-up"), "{stdout}");
    assert!(stdout.contains("13 detection(s) per pass"), "{stdout}");
}

#[test]
fn bench_demo_on_the_cpu() {
    let assert = rle()
        .args(["bench", "--demo", "--cpu", "--iters", "1", "--warmup", "0"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    for part in [
        "the embedded demo frame",
        "GPU: skipped (--cpu)",
        "p50 ",
        "p99 ",
        "15 detection(s) per pass",
    ] {
        assert!(stdout.contains(part), "`{part}` missing from:\n{stdout}");
    }
}

#[test]
fn bench_needs_exactly_one_source() {
    let out = rle().args(["bench"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = rle()
        .args(["bench", "--demo", "--frames", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
