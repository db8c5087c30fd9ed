//! The mask kernel family (`MaskOps`: `mask_rle_scan`, `mask_rle_decode`,
//! `mask_rle_iou`) against the CPU RLE utilities of `rle-reference`
//! (`area`, `to_bbox`, `decode`, `iou`), exactly: on every COCO string of the
//! committed PyTorch fixtures (each image's detections as one set) and on
//! random masks from empty to full, 1×N, N×1 and odd sizes, with runs that
//! cross column boundaries. Outputs are poisoned (0xA5) before every launch.
//! Ignored without a GPU; run on the GPU machine with `--include-ignored`
//! (`scripts/device/run_toolkit_gpu.sh`).

use ndarray::Array2;
use rle_fixtures::synth::hash::mix;
use rle_fixtures::{all_cases, fixtures_dir};
use rle_host::{MaskOps, RleSet};
use rle_reference::rle::{area, decode, encode, iou, to_bbox};
use rle_reference::Size;

fn gpu() -> MaskOps {
    let mut ops = MaskOps::new(0).unwrap_or_else(|e| panic!("this test needs a CUDA GPU: {e}"));
    ops.set_poison(true);
    ops
}

/// Checks every operation on `a` (and IoU of `a` × `b`) against the
/// reference; returns the number of masks and pairs checked.
fn check(ops: &mut MaskOps, what: &str, a: &[Vec<u32>], b: &[Vec<u32>], size: Size) -> usize {
    let set_a = RleSet::from_counts(size, a).unwrap();
    let set_b = RleSet::from_counts(size, b).unwrap();
    let stats = ops.stats(&set_a).unwrap();
    for (i, (s, c)) in stats.iter().zip(a).enumerate() {
        assert_eq!(u64::from(s.area), area(c), "{what}: area of mask {i}");
        assert_eq!(
            s.bbox.map(f64::from),
            to_bbox(c, size),
            "{what}: bbox of mask {i}"
        );
        assert_eq!(s.counts as usize, c.len(), "{what}: counts of mask {i}");
    }
    let dense = ops.decode(&set_a).unwrap();
    let pixels = (size.height * size.width) as usize;
    assert_eq!(dense.len(), a.len() * pixels, "{what}");
    for (i, c) in a.iter().enumerate() {
        let want = decode(c, size).unwrap();
        let got = &dense[i * pixels..(i + 1) * pixels];
        for (o, (&g, &w)) in got.iter().zip(want.iter()).enumerate() {
            assert_eq!(g, u8::from(w), "{what}: mask {i} pixel {o} (row-major)");
        }
    }
    let m = ops.iou(&set_a, &set_b).unwrap();
    assert_eq!(m.iou.dim(), (a.len(), b.len()));
    for (i, ca) in a.iter().enumerate() {
        for (j, cb) in b.iter().enumerate() {
            let (inter, want) = iou(ca, cb, size).unwrap();
            assert_eq!(
                u64::from(m.intersection[[i, j]]),
                inter,
                "{what}: ({i}, {j})"
            );
            assert_eq!(
                m.iou[[i, j]].to_bits(),
                want.to_bits(),
                "{what}: IoU ({i}, {j})"
            );
        }
    }
    a.len() + a.len() * b.len()
}

/// A small deterministic generator (the synthetic generator's splitmix64,
/// `rle_fixtures::synth::hash::mix`, over a counter), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let z = self.0;
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(z)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A random mask: noise, a filled rectangle, empty or full.
fn random_mask(rng: &mut Rng, h: usize, w: usize) -> Vec<u32> {
    let kind = rng.below(5);
    let mut m = Array2::from_elem((h, w), kind == 3);
    match kind {
        0 | 1 => {
            let density = rng.below(100);
            m.iter_mut().for_each(|v| *v = rng.below(100) < density);
        }
        2 => {
            let (y0, x0) = (rng.below(h as u64) as usize, rng.below(w as u64) as usize);
            let (y1, x1) = (
                y0 + rng.below((h - y0) as u64) as usize + 1,
                x0 + rng.below((w - x0) as u64) as usize + 1,
            );
            m.slice_mut(ndarray::s![y0..y1, x0..x1]).fill(true);
        }
        _ => {}
    }
    encode(m.view())
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (scripts/device/run_toolkit_gpu.sh)"]
fn mask_ops_equal_the_reference_on_fixtures_and_random_masks() {
    let mut ops = gpu();
    let (mut masks, mut checked) = (0usize, 0usize);
    for case in all_cases(fixtures_dir()).expect("fixtures load") {
        for (k, img) in case.expected().iter().enumerate() {
            let Some(first) = img.detections.first() else {
                continue;
            };
            let size = first.mask.size;
            let counts: Vec<Vec<u32>> = img
                .detections
                .iter()
                .map(|d| d.mask.decode_counts().expect("fixture strings decode"))
                .collect();
            // Also through the COCO strings themselves.
            let coco: Vec<_> = img.detections.iter().map(|d| d.mask.clone()).collect();
            let from_coco = RleSet::from_coco(&coco).unwrap();
            assert_eq!(from_coco, RleSet::from_counts(size, &counts).unwrap());
            masks += counts.len();
            checked += check(
                &mut ops,
                &format!("fixture {} image {k}", case.name),
                &counts,
                &counts,
                size,
            );
        }
    }
    assert!(masks >= 100, "only {masks} fixture masks");
    let mut rng = Rng(0x2026_1203);
    let cases: u64 = std::env::var("MASK_OPS_RANDOM_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for c in 0..cases {
        let (h, w) = match c % 6 {
            0 => (1, 1 + rng.below(40) as usize),
            1 => (1 + rng.below(40) as usize, 1),
            2 => (1 + rng.below(300) as usize, 1 + rng.below(300) as usize),
            _ => (1 + rng.below(33) as usize, 1 + rng.below(33) as usize),
        };
        let (na, nb) = (1 + rng.below(12) as usize, 1 + rng.below(12) as usize);
        let a: Vec<_> = (0..na).map(|_| random_mask(&mut rng, h, w)).collect();
        let b: Vec<_> = (0..nb).map(|_| random_mask(&mut rng, h, w)).collect();
        let size = Size::new(h as u32, w as u32);
        checked += check(
            &mut ops,
            &format!("random case {c} ({h}x{w})"),
            &a,
            &b,
            size,
        );
        masks += na;
    }
    // A large mask: a 1080p frame's worth of pixels in one set.
    let big: Vec<_> = (0..3).map(|_| random_mask(&mut rng, 1080, 1920)).collect();
    checked += check(&mut ops, "1920x1080", &big, &big, Size::new(1080, 1920));
    println!(
        "gpu mask ops: {masks} masks and {checked} stats/IoU results identical to rle_reference (area, to_bbox, decode, iou)"
    );
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (scripts/device/run_toolkit_gpu.sh)"]
fn mask_ops_refuse_mismatched_sets_and_stay_usable() {
    let mut ops = gpu();
    let a = RleSet::from_counts(Size::new(2, 2), &[vec![1, 2, 1]]).unwrap();
    let b = RleSet::from_counts(Size::new(2, 3), &[vec![6]]).unwrap();
    let err = ops.iou(&a, &b).unwrap_err();
    assert!(
        matches!(
            err,
            rle_host::Error::MaskSize {
                expected_h: 2,
                expected_w: 2,
                got_h: 2,
                got_w: 3,
                ..
            }
        ),
        "{err}"
    );
    let empty = RleSet::from_counts::<Vec<u32>>(Size::new(2, 2), &[]).unwrap();
    assert!(ops.stats(&empty).unwrap().is_empty());
    assert_eq!(ops.iou(&a, &empty).unwrap().iou.dim(), (1, 0));
    assert_eq!(ops.decode(&a).unwrap(), [0, 1, 1, 0]);
    ops.set_profiling(true).unwrap();
    ops.iou(&a, &a).unwrap();
    let t = ops.last_times().expect("profiling is on");
    assert!(t.second.is_some());
}
