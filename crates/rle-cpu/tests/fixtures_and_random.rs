//! The golden corpus and random frames through `rle_cpu` and the reference:
//! every committed fixture and ≥ 300 random frames (`rle_fixtures::random_recipe`)
//! must give equal results, `ImageResult` for `ImageResult` (RLE bytes included).

use rle_fixtures::{all_cases, fixtures_dir, generate, random_recipe, Limits};
use rle_reference::{Batch, ImageMeta, ImageResult, Options};

/// Both implementations on one input; panics with `what` on any difference.
/// Returns the number of detections compared.
fn same(what: &str, batch: &Batch<'_>, metas: &[ImageMeta], opts: &Options) -> usize {
    let want = rle_reference::postprocess(batch, metas, opts);
    let got = rle_cpu::postprocess(batch, metas, opts);
    match (&got, &want) {
        (Ok(g), Ok(w)) => {
            assert_eq!(g.len(), w.len(), "{what}: image count");
            for (b, (gi, wi)) in g.iter().zip(w).enumerate() {
                for (d, (gd, wd)) in gi.detections.iter().zip(&wi.detections).enumerate() {
                    assert_eq!(
                        gd,
                        wd,
                        "{what}: image {b} detection {d}: rle_cpu vs reference ({} / {})",
                        String::from_utf8_lossy(&gd.mask.counts),
                        String::from_utf8_lossy(&wd.mask.counts)
                    );
                }
                assert_eq!(gi, wi, "{what}: image {b}");
            }
            w.iter().map(|im: &ImageResult| im.detections.len()).sum()
        }
        _ => {
            assert_eq!(got, want, "{what}: results differ");
            0
        }
    }
}

#[test]
fn every_fixture_matches_the_reference() {
    let dir = fixtures_dir();
    let cases = all_cases(&dir)
        .unwrap_or_else(|e| panic!("fixtures under {} should load: {e}", dir.display()));
    assert!(!cases.is_empty(), "no fixture under {}", dir.display());
    let mut detections = 0;
    for case in &cases {
        let inputs = case
            .inputs()
            .unwrap_or_else(|e| panic!("case {}: inputs should regenerate: {e}", case.name));
        detections += same(&case.name, &inputs.batch(), &case.metas, &case.options);
    }
    println!("{} fixtures, {detections} detections compared", cases.len());
    assert!(detections > 0, "the fixtures should hold detections");
}

fn random_frames(seeds: std::ops::Range<u64>, limits: &Limits, label: &str) -> usize {
    let mut detections = 0;
    for seed in seeds {
        let (recipe, metas, opts) = random_recipe(seed, limits);
        let t = generate(&recipe);
        detections += same(&format!("{label} seed {seed}"), &t.batch(), &metas, &opts);
    }
    detections
}

#[test]
fn random_small_frames_match_the_reference() {
    let n = random_frames(0..300, &Limits::small(), "small");
    println!("300 small random frames, {n} detections compared");
    assert!(n > 300, "random frames should hold detections, got {n}");
}

#[test]
fn random_default_frames_match_the_reference() {
    // Realistic sizes (up to 3840×2160 canvases): the reference needs seconds each.
    let n = random_frames(1000..1030, &Limits::default(), "default");
    println!("30 default-size random frames, {n} detections compared");
    assert!(n > 0);
}
