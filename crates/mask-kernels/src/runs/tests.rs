//! The kernels' arithmetic, run sequentially on the host the way the kernels
//! run it in parallel, against the CPU RLE utilities of `rle-reference`
//! (`area`, `to_bbox`, `decode`, `encode`) on edge cases and random masks.

extern crate std;

use std::vec::Vec;

use ndarray::Array2;
use proptest::prelude::*;
use rle_reference::rle::{area, decode, encode, to_bbox};
use rle_reference::Size;

use super::*;

/// What `mask_rle_scan` computes for one mask, sequentially.
fn scan(counts: &[u32], h: u32, w: u32) -> (Vec<u32>, Vec<u32>, u32, [u32; 4], u32) {
    let total = h * w;
    let (mut end, mut fg) = (0u64, 0u64);
    let (mut ends, mut fg_before) = (Vec::new(), Vec::new());
    let mut ext = Extent::EMPTY;
    for (k, &c) in counts.iter().enumerate() {
        let s = end;
        end += u64::from(c);
        ends.push(clamp_end(end, total));
        fg_before.push(clamp_end(fg, total));
        if k % 2 == 1 {
            fg += u64::from(c);
            if c > 0 && s < u64::from(total) {
                ext = ext.union(Extent::of_run(s as u32, clamp_end(end, total), h));
            }
        }
    }
    let area = clamp_end(fg, total);
    (ends, fg_before, area, ext.xywh(), sum_status(end, total))
}

fn check_mask(mask: &Array2<bool>) {
    let (h, w) = (mask.nrows() as u32, mask.ncols() as u32);
    let size = Size::new(h, w);
    let counts = encode(mask.view());
    let (ends, fg_before, a, bbox, st) = scan(&counts, h, w);
    assert_eq!(st, 0);
    assert_eq!(u64::from(a), area(&counts));
    let want = to_bbox(&counts, size);
    assert_eq!(bbox.map(f64::from), want, "{counts:?} in {h}x{w}");
    // Decode: every output pixel, row-major, through its column-major index.
    let dense = decode(&counts, size).unwrap();
    for o in 0..h * w {
        let (y, x) = ((o / w) as usize, (o % w) as usize);
        assert_eq!(
            is_foreground(&ends, column_major(o, h, w)),
            dense[[y, x]],
            "pixel ({y}, {x}) of {counts:?}"
        );
    }
    // Foreground before every pixel.
    let mut running = 0;
    for p in 0..=h * w {
        assert_eq!(foreground_before(&ends, &fg_before, a, p), running, "p {p}");
        if p < h * w && dense[[(p % h) as usize, (p / h) as usize]] {
            running += 1;
        }
    }
}

/// Intersection as `mask_rle_iou` computes it: A's foreground runs against
/// B's foreground prefix.
fn intersection(a: &[u32], b: &[u32], h: u32, w: u32) -> u64 {
    let (ea, _, _, _, _) = scan(a, h, w);
    let (eb, fb, area_b, _, _) = scan(b, h, w);
    (1..ea.len())
        .step_by(2)
        .map(|k| {
            let (s, e) = (ea[k - 1], ea[k]);
            u64::from(
                foreground_before(&eb, &fb, area_b, e) - foreground_before(&eb, &fb, area_b, s),
            )
        })
        .sum()
}

fn dense_intersection(a: &Array2<bool>, b: &Array2<bool>) -> u64 {
    a.iter().zip(b).filter(|(x, y)| **x && **y).count() as u64
}

#[test]
fn edge_cases() {
    for (h, w) in [(1, 1), (1, 7), (7, 1), (3, 5), (4, 4)] {
        let (hu, wu) = (h as usize, w as usize);
        check_mask(&Array2::from_elem((hu, wu), false));
        check_mask(&Array2::from_elem((hu, wu), true));
        let mut border = Array2::from_elem((hu, wu), false);
        border[[hu - 1, wu - 1]] = true;
        border[[0, 0]] = true;
        check_mask(&border);
    }
    // A run crossing a column boundary covers every row.
    assert_eq!(
        Extent::of_run(3, 6, 4),
        Extent {
            x0: 0,
            y0: 0,
            x1: 1,
            y1: 3
        }
    );
    assert_eq!(Extent::EMPTY.xywh(), [0; 4]);
}

#[test]
fn malformed_counts_are_clamped_and_flagged() {
    assert_eq!(scan(&[2, 3], 2, 2).4, status::SUM_LONG);
    assert_eq!(scan(&[1, 1], 2, 2).4, status::SUM_SHORT);
    assert_eq!(scan(&[], 2, 2).4, status::SUM_SHORT);
    assert_eq!(scan(&[u32::MAX, u32::MAX, 5], 2, 2).4, status::SUM_LONG);
    let (ends, ..) = scan(&[u32::MAX, u32::MAX, 5], 2, 2);
    assert!(ends.iter().all(|&e| e <= 4), "{ends:?}");
    assert_eq!(span(3, 2, 10), (3, 3, status::BAD_OFFSETS));
    assert_eq!(span(3, 12, 10), (3, 10, status::BAD_OFFSETS));
    assert_eq!(span(11, 12, 10), (10, 10, status::BAD_OFFSETS));
    assert_eq!(span(2, 5, 10), (2, 5, 0));
    // Past every run: the whole area (ends [2, 4, 6], runs bg 2, fg 2, bg 2;
    // 2 foreground pixels), also from an empty (malformed) run list.
    assert_eq!(foreground_before(&[2, 4, 6], &[0, 0, 2], 2, 9), 2);
    assert_eq!(foreground_before(&[2, 4, 6], &[0, 0, 2], 2, 3), 1);
    assert_eq!(foreground_before(&[], &[], 7, 3), 7);
    assert_eq!(run_at(&[2, 2, 4], 2), 2);
}

#[test]
fn iou_quotient() {
    assert_eq!(iou(0, 0, 0), 0.0);
    assert_eq!(iou(2, 4, 4), 2.0 / 6.0);
    assert_eq!(iou(4, 4, 4), 1.0);
    assert!(Extent::boxes_overlap([0, 0, 2, 2], [1, 1, 2, 2]));
    assert!(!Extent::boxes_overlap([0, 0, 2, 2], [2, 0, 2, 2]));
    assert!(!Extent::boxes_overlap([0, 0, 0, 0], [0, 0, 2, 2]));
}

fn mask_strategy() -> impl Strategy<Value = Array2<bool>> {
    (1usize..14, 1usize..14, 0u8..4).prop_flat_map(|(h, w, density)| {
        // density 0: sparse, 3: dense; long runs come from density 0 and 3.
        proptest::collection::vec(0u8..4, h * w).prop_map(move |v| {
            Array2::from_shape_vec((h, w), v.into_iter().map(|x| x < density).collect()).unwrap()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn scan_decode_and_prefix_match_the_reference(mask in mask_strategy()) {
        check_mask(&mask);
    }

    #[test]
    fn intersection_matches_dense((a, b) in (1usize..10, 1usize..10).prop_flat_map(|(h, w)| {
        let m = proptest::collection::vec(any::<bool>(), h * w)
            .prop_map(move |v| Array2::from_shape_vec((h, w), v).unwrap());
        (m.clone(), m)
    })) {
        let (h, w) = (a.nrows() as u32, a.ncols() as u32);
        let (ca, cb) = (encode(a.view()), encode(b.view()));
        let inter = intersection(&ca, &cb, h, w);
        prop_assert_eq!(inter, dense_intersection(&a, &b));
        prop_assert_eq!(inter, intersection(&cb, &ca, h, w), "symmetric");
    }
}
