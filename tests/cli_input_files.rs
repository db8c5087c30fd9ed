//! Issue #14, defect 5: inputs that are not regular files. A FIFO given as
//! `--frames` (or as a sidecar, or as a threshold list) blocked `rle` forever in
//! `open`; a broken `*.npz` symbolic link in a frames directory was skipped without
//! a word. Now each is refused before it is opened, with one line saying what the
//! path is. Every command runs under a timeout, so the old behaviour fails the test
//! instead of hanging it.

#![cfg(unix)]

#[path = "cli_common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo (coreutils) runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A directory holding the committed frame `a_stretch_f32` as `a.npz` + `a.json`.
fn frames() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("frames");
    std::fs::create_dir(&dir).unwrap();
    for ext in ["npz", "json"] {
        std::fs::copy(
            frames_dir().join(format!("a_stretch_f32.{ext}")),
            dir.join(format!("a.{ext}")),
        )
        .unwrap();
    }
    (tmp, dir)
}

/// `rle run --cpu --frames FRAMES --out OUT EXTRA…` under a timeout: exit code 1,
/// one line with every part, and no results file.
fn refused(frames: &Path, extra: &[&str], parts: &[&str]) {
    let out_dir = tempfile::tempdir().unwrap();
    let out = rle()
        .args(["run", "--cpu", "--frames"])
        .arg(frames)
        .arg("--out")
        .arg(out_dir.path().join("r.json"))
        .args(extra)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit code 1 within the timeout; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = one_line(&out.stderr);
    for p in parts {
        assert!(line.contains(p), "`{line}` should contain `{p}`");
    }
    assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 0);
}

#[test]
fn a_fifo_as_the_frame_is_refused_not_opened() {
    let (_tmp, dir) = frames();
    // With its sidecar beside it, as a capture pipeline would leave it.
    let fifo = dir.join("live.npz");
    mkfifo(&fifo);
    std::fs::copy(dir.join("a.json"), dir.join("live.json")).unwrap();
    refused(
        &fifo,
        &[],
        &["live.npz: is a FIFO (named pipe), expected a regular .npz file"],
    );
    // In a directory, beside a good frame: the directory is refused, naming the FIFO.
    refused(
        &dir,
        &[],
        &["live.npz: is a FIFO (named pipe), expected a regular file (a frame in the directory"],
    );
}

#[test]
fn a_broken_link_in_a_frames_directory_is_reported_not_skipped() {
    let (_tmp, dir) = frames();
    std::os::unix::fs::symlink(dir.join("moved-away.npz"), dir.join("b.npz")).unwrap();
    refused(
        &dir,
        &[],
        &[
            "b.npz: is a broken symbolic link (to ",
            "moved-away.npz, which does not exist)",
        ],
    );
    refused(
        &dir.join("b.npz"),
        &[],
        &["b.npz: is a broken symbolic link (to "],
    );
    // A link to a real frame is a frame.
    std::fs::remove_file(dir.join("b.npz")).unwrap();
    std::os::unix::fs::symlink(dir.join("a.npz"), dir.join("b.npz")).unwrap();
    std::os::unix::fs::symlink(dir.join("a.json"), dir.join("b.json")).unwrap();
    let out = rle()
        .args(["run", "--cpu", "--frames"])
        .arg(dir.join("b.npz"))
        .arg("--out")
        .arg(dir.join("r.json"))
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_fifo_as_the_sidecar_or_an_option_file_is_refused() {
    let (_tmp, dir) = frames();
    std::fs::remove_file(dir.join("a.json")).unwrap();
    mkfifo(&dir.join("a.json"));
    refused(
        &dir,
        &[],
        &["a.json: is a FIFO (named pipe), expected a regular file (the metadata sidecar of"],
    );

    let (_tmp, dir) = frames();
    let fifo = dir.join("thresholds.json");
    mkfifo(&fifo);
    refused(
        &dir,
        &["--thresholds", fifo.to_str().unwrap()],
        &["thresholds.json: cannot read the file: is a FIFO (named pipe), expected a regular file"],
    );
    refused(
        &dir,
        &["--class-mapping", "/dev/zero"],
        &["/dev/zero: cannot read the file: is a character device, expected a regular file"],
    );
}
