//! The committed CLI test frames under `tests/data/cli/` are what
//! `cli_common::test_frames` describes: a freshness check, and the (ignored)
//! generator that rewrites them.

#[path = "cli_common.rs"]
mod common;

use common::*;

/// Rewrites `tests/data/cli/frames/*` and the list files beside them.
/// Run `cargo test -p rle --test cli_data -- --ignored` after changing `test_frames`.
#[test]
#[ignore = "rewrites the committed test data; run on purpose, then commit the result"]
fn regenerate_committed_frames() {
    let dir = frames_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for f in test_frames() {
        let t = tensors(&f);
        rle_reference::validate(&t.batch(), &f.metas, &f.options).expect("test frames are valid");
        write_frame(&dir, &f);
    }
}

#[test]
fn committed_frames_match_their_definitions() {
    for f in test_frames() {
        let t = tensors(&f);
        let (logits, boxes, masks) = read_committed(&f);
        assert_eq!(
            logits.mapv(f32::to_bits),
            t.logits.mapv(f32::to_bits),
            "{}: logits",
            f.name
        );
        assert_eq!(
            boxes.mapv(f32::to_bits),
            t.boxes.mapv(f32::to_bits),
            "{}: boxes",
            f.name
        );
        assert_eq!(masks, mask_bits(&t), "{}: masks", f.name);
        let text = std::fs::read_to_string(frames_dir().join(format!("{}.json", f.name))).unwrap();
        let committed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(committed, sidecar_json(&f), "{}: sidecar", f.name);
    }
}

#[test]
fn committed_frames_are_small() {
    for entry in std::fs::read_dir(frames_dir()).unwrap() {
        let p = entry.unwrap().path();
        let len = std::fs::metadata(&p).unwrap().len();
        assert!(
            len < 16 * 1024,
            "{} is {len} bytes; keep test data to a few KB",
            p.display()
        );
    }
}
