//! Issue #14, defects 2–4: where `rle run --out` writes.
//!
//! - A character device or a FIFO is written in place; before, the temporary file
//!   was renamed over it (as root, `--out /dev/null` replaced the device node with
//!   a regular file). A symbolic link is followed: the file it points to gets the
//!   results and the link stays a link. `--out -` is standard output.
//! - An output that is one of the run's inputs is refused, naming both paths.
//! - The destination is opened before any frame is read; `--keep-going` reports a
//!   bad frame, writes the others' results and exits with 1.

#![cfg(unix)]

#[path = "cli_common.rs"]
mod common;

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::Value;

/// A directory holding copies of the three committed frames.
fn frames_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("frames");
    std::fs::create_dir(&dir).unwrap();
    for f in test_frames() {
        for ext in ["npz", "json"] {
            let name = format!("{}.{ext}", f.name);
            std::fs::copy(frames_dir().join(&name), dir.join(&name)).unwrap();
        }
    }
    (tmp, dir)
}

/// The records the reference gives for the committed frames, in order.
fn all_expected() -> Vec<Value> {
    test_frames()
        .iter()
        .flat_map(|f| expected_records(f, &f.options).0)
        .collect()
}

fn run(frames: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    rle()
        .args(["run", "--cpu", "--frames"])
        .arg(frames)
        .arg("--out")
        .arg(out)
        .args(extra)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_symbolic_link_is_followed_and_stays_a_link() {
    let (tmp, dir) = frames_copy();
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("results.json"), "old").unwrap();
    let link = tmp.path().join("results.json");
    std::os::unix::fs::symlink("real/results.json", &link).unwrap();
    let o = run(&dir, &link, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    assert_same_records(&read_results(&real.join("results.json")), &all_expected());
    // A dangling link: the file it names is created.
    std::fs::remove_file(real.join("results.json")).unwrap();
    let o = run(&dir, &link, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_records(&read_results(&real.join("results.json")), &all_expected());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_fifo_is_written_in_place() {
    let (tmp, dir) = frames_copy();
    let fifo = tmp.path().join("results.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // The reader: `timeout` ends it if nothing ever opens the FIFO for writing.
    let reader = std::process::Command::new("timeout")
        .arg("60")
        .arg("cat")
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let o = run(&dir, &fifo, &[]);
    let still_fifo = std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo();
    if !still_fifo {
        // The FIFO the reader waits on is gone: end it (SIGTERM to `timeout`, which
        // passes it on to `cat`) so the test fails instead of waiting.
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &reader.id().to_string()])
            .status();
    }
    let read = reader.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(still_fifo, "the FIFO is still a FIFO, not a regular file");
    let got: Vec<Value> = serde_json::from_slice(&read.stdout).expect("JSON through the FIFO");
    assert_same_records(&got, &all_expected());
}

/// As root (CI is), a device node of our own: `mknod DIR/null c 1 3` is /dev/null's
/// twin, so the test never risks the real one.
#[test]
fn a_character_device_is_written_in_place() {
    let (tmp, dir) = frames_copy();
    let node = tmp.path().join("null");
    let made = std::process::Command::new("mknod")
        .arg(&node)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("skipped: mknod needs root (a device node cannot be made here)");
        return;
    }
    let o = run(&dir, &node, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = std::fs::symlink_metadata(&node).unwrap().file_type();
    assert!(t.is_char_device(), "the device node was replaced: {t:?}");
    let entries: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries.len(), 2, "no temporary file is left: {entries:?}");
}

#[test]
fn dash_is_standard_output() {
    let (_tmp, dir) = frames_copy();
    let o = run(&dir, Path::new("-"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Vec<Value> = serde_json::from_slice(&o.stdout).expect("stdout is the results");
    assert_same_records(&got, &all_expected());
    // The report goes to stderr, and no file named "-" appears.
    assert!(stderr(&o).contains("to standard output"), "{}", stderr(&o));
    assert!(!dir.join("-").exists() && !Path::new("-").exists());
}

#[test]
fn an_input_is_never_the_output() {
    let (tmp, dir) = frames_copy();
    let sidecar = dir.join("b_batch2_f16.json");
    let npz = dir.join("a_stretch_f32.npz");
    let before = (
        std::fs::read(&sidecar).unwrap(),
        std::fs::read(&npz).unwrap(),
    );
    let thresholds = tmp.path().join("t.json");
    std::fs::write(&thresholds, "[0.5, 0.5, 0.5, 0.5, 0.5]").unwrap();
    let link = tmp.path().join("link.json");
    std::os::unix::fs::symlink(&npz, &link).unwrap();
    for (out, frames, extra, parts) in [
        (
            sidecar.clone(),
            dir.clone(),
            vec![],
            vec![
                "b_batch2_f16.json, the metadata sidecar of",
                "b_batch2_f16.npz",
            ],
        ),
        (
            npz.clone(),
            dir.clone(),
            vec![],
            vec!["a_stretch_f32.npz, a frame of this run"],
        ),
        // Through a link, and spelt differently: the same file all the same.
        (
            link.clone(),
            dir.clone(),
            vec![],
            vec!["link.json: is", "a_stretch_f32.npz"],
        ),
        (
            dir.join("..").join("frames").join("a_stretch_f32.json"),
            npz.clone(),
            vec![],
            vec!["the metadata sidecar of"],
        ),
        (
            thresholds.clone(),
            npz.clone(),
            vec!["--thresholds", thresholds.to_str().unwrap()],
            vec!["t.json: is", "the --thresholds file"],
        ),
    ] {
        let o = run(&frames, &out, &extra);
        assert_eq!(o.status.code(), Some(2), "{out:?}: {}", stderr(&o));
        let line = one_line(&o.stderr);
        assert!(line.contains(&format!("--out {}", out.display())), "{line}");
        assert!(
            line.contains("writing the results there would replace it"),
            "{line}"
        );
        for p in parts {
            assert!(line.contains(p), "`{line}` should contain `{p}`");
        }
    }
    assert_eq!(
        (
            std::fs::read(&sidecar).unwrap(),
            std::fs::read(&npz).unwrap()
        ),
        before,
        "the inputs are untouched"
    );
}

/// The destination fails before any frame is read: with an unwritable output and a
/// broken frame, the error is the output's (before, the frames were processed
/// first and the output failed only at the end).
#[cfg(target_os = "linux")]
#[test]
fn the_destination_is_opened_before_the_frames_are_read() {
    let (_tmp, dir) = frames_copy();
    std::fs::write(dir.join("c_crop_bf16.json"), "{").unwrap();
    // /proc accepts no new files, not even from root.
    let out = Path::new("/proc/rle-test-results.json");
    let o = run(&dir, out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let line = one_line(&o.stderr);
    assert!(
        line.contains("/proc/rle-test-results.json: cannot create a temporary file in /proc"),
        "{line}"
    );
}

#[test]
fn keep_going_reports_bad_frames_and_writes_the_others() {
    let (tmp, dir) = frames_copy();
    // A broken frame between the good ones, and one reusing a good frame's image id.
    std::fs::copy(dir.join("a_stretch_f32.npz"), dir.join("b0_broken.npz")).unwrap();
    std::fs::write(dir.join("b0_broken.json"), "{\"images\": [}").unwrap();
    for ext in ["npz", "json"] {
        std::fs::copy(
            dir.join(format!("a_stretch_f32.{ext}")),
            dir.join(format!("z_duplicate.{ext}")),
        )
        .unwrap();
    }
    let out = tmp.path().join("r.json");

    // Without --keep-going: the first bad frame stops the run, nothing is written.
    let o = run(&dir, &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(one_line(&o.stderr).contains("b0_broken.json"));
    assert!(!out.exists());

    let o = run(&dir, &out, &["--keep-going"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stderr(&o);
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(
        errors.len(),
        3,
        "one line per bad frame and a summary:\n{text}"
    );
    assert!(errors[0].contains("b0_broken.json"), "{text}");
    assert!(
        errors[1].contains("z_duplicate.json: image_id 101 is already used by"),
        "{text}"
    );
    assert!(
        errors[2].contains(
            "2 of 5 frame(s) failed (each reported above); the results of the other 3 were written"
        ),
        "{text}"
    );
    assert_same_records(&read_results(&out), &all_expected());
    assert!(String::from_utf8_lossy(&o.stdout).contains("from 3 frame(s)"));
}

#[test]
fn demo_writes_to_standard_output_and_never_over_the_frame_it_saves() {
    let tmp = tempfile::tempdir().unwrap();
    let o = rle()
        .args(["demo", "--cpu", "--out", "-", "--save-frame"])
        .arg(tmp.path())
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Vec<Value> = serde_json::from_slice(&o.stdout).expect("stdout is the results alone");
    assert_eq!(got.len(), 15);
    assert!(
        stderr(&o).contains("wrote 15 detections to standard output"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("saved the demo frame as"),
        "{}",
        stderr(&o)
    );

    let sidecar = tmp.path().join("demo.json");
    let o = rle()
        .args(["demo", "--cpu", "--out"])
        .arg(&sidecar)
        .arg("--save-frame")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let line = one_line(&o.stderr);
    assert!(
        line.contains(
            "demo.json, a file --save-frame writes; writing the results there would replace it"
        ),
        "{line}"
    );
}
