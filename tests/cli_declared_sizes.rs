//! Issue #14, defect 1: an archive of a few hundred bytes whose `.npy` headers
//! declare terabytes. Before the fix, `rle run` and `rle bench` allocated the
//! declared size and the process aborted (`memory allocation of … bytes failed`,
//! SIGABRT, no exit code); now the declared size is checked against the member's
//! bytes first and the command fails with one line naming the array.

#[path = "cli_common.rs"]
mod common;

use std::io::Write;
use std::path::Path;

use common::*;

/// A `.npy` member declaring `shape` of `descr`, followed by `data` bytes (numpy's
/// layout: magic, version 1.0, header padded to 64 bytes and ended by a newline).
fn npy(descr: &str, shape: &str, data: usize) -> Vec<u8> {
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = 10 + h.len() + 1;
    h.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((h.len() as u16).to_le_bytes());
    out.extend(h.as_bytes());
    out.extend(std::iter::repeat_n(0u8, data));
    out
}

/// Writes `dir/frame.npz` (deflated members) and a valid one-image sidecar.
fn hostile_frame(dir: &Path, members: &[(&str, Vec<u8>)]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(dir.join("frame.npz")).unwrap());
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        z.start_file(format!("{name}.npy"), o).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
    std::fs::write(
        dir.join("frame.json"),
        r#"{"images": [{"image_id": 1, "original_size": [90, 160], "inference_size": [64, 64],
            "scale_width": 0.4, "scale_height": 0.7111111111111111}]}"#,
    )
    .unwrap();
}

/// `rle run` and `rle bench` on `dir` both fail with exit code 1 and one line
/// containing every part of `parts`.
fn both_refuse(dir: &Path, parts: &[&str]) {
    let size = std::fs::metadata(dir.join("frame.npz")).unwrap().len();
    assert!(size < 2048, "the hostile archive is small: {size} bytes");
    for args in [
        vec![
            "run",
            "--cpu",
            "--out",
            dir.join("r.json").to_str().unwrap(),
        ],
        vec!["bench", "--cpu", "--iters", "1"],
    ] {
        let out = rle()
            .args(&args)
            .arg("--frames")
            .arg(dir.join("frame.npz"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: exit code 1, not a signal; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = one_line(&out.stderr);
        for p in parts {
            assert!(line.contains(p), "{args:?}: `{line}` should contain `{p}`");
        }
    }
    assert!(!dir.join("r.json").exists());
}

#[test]
fn masks_declaring_terabytes_are_refused_not_allocated() {
    let tmp = tempfile::tempdir().unwrap();
    hostile_frame(
        tmp.path(),
        &[
            ("logits", npy("<f4", "(1, 5, 3)", 60)),
            ("boxes", npy("<f4", "(1, 5, 4)", 80)),
            // 5.5 TB declared, 64 bytes stored.
            ("masks", npy("<f4", "(1, 5, 524288, 524288)", 64)),
        ],
    );
    both_refuse(
        tmp.path(),
        &[
            "frame.npz: array \"masks\": its header declares shape 1×5×524288×524288 of '<f4' (5497558138880 bytes of data)",
            "holds 64 bytes after the header",
        ],
    );
}

#[test]
fn logits_declaring_terabytes_are_refused_not_allocated() {
    let tmp = tempfile::tempdir().unwrap();
    hostile_frame(
        tmp.path(),
        &[
            // 2^40 logit columns: 20 TB declared.
            ("logits", npy("<f4", "(1, 5, 1099511627776)", 8)),
            ("boxes", npy("<f4", "(1, 5, 4)", 80)),
            ("masks", npy("<f4", "(1, 5, 4, 4)", 320)),
        ],
    );
    both_refuse(
        tmp.path(),
        &[
            "frame.npz: array \"logits\": its header declares shape 1×5×1099511627776",
            "holds 8 bytes after the header",
        ],
    );
}

#[test]
fn a_header_length_beyond_the_member_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut masks = npy("<f2", "(1, 5, 4, 4)", 160);
    // Version 2.0 with a 4 GiB header length.
    masks[6] = 2;
    masks.splice(8..10, u32::MAX.to_le_bytes());
    hostile_frame(
        tmp.path(),
        &[
            ("logits", npy("<f4", "(1, 5, 3)", 60)),
            ("boxes", npy("<f4", "(1, 5, 4)", 80)),
            ("masks", masks),
        ],
    );
    both_refuse(
        tmp.path(),
        &[
            "frame.npz: array \"masks\": its .npy header declares 4294967295 bytes",
            "more than the 65536 accepted",
        ],
    );
}
