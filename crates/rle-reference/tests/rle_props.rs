//! Property tests of the RLE codec (SPEC §4): round trips, agreement with a naive
//! dense encoder, cross-column merges, empty/full/1×N/N×1 masks, and a decoder
//! that never panics on arbitrary bytes.

use ndarray::Array2;
use proptest::prelude::*;
use rle_reference::rle::{area, compress, counts_from_runs, decode, decompress, encode};
use rle_reference::Size;

/// The obvious encoder: flatten column-major, then count equal neighbours.
fn naive_counts(mask: &Array2<bool>) -> Vec<u32> {
    let (h, w) = mask.dim();
    let flat: Vec<bool> = (0..w)
        .flat_map(|x| (0..h).map(move |y| (y, x)))
        .map(|(y, x)| mask[[y, x]])
        .collect();
    let mut counts = vec![0u32];
    let mut current = false;
    for v in flat {
        if v != current {
            counts.push(0);
            current = v;
        }
        *counts.last_mut().unwrap() += 1;
    }
    counts
}

/// Masks biased toward the edge cases: 1×N, N×1, empty, full, random density.
fn masks() -> impl Strategy<Value = Array2<bool>> {
    let dims = prop_oneof![
        (1usize..=1, 1usize..40),
        (1usize..40, 1usize..=1),
        (1usize..24, 1usize..24),
    ];
    (dims, 0u8..=4).prop_flat_map(|((h, w), kind)| {
        proptest::collection::vec(any::<u8>(), h * w).prop_map(move |bytes| {
            Array2::from_shape_fn((h, w), |(y, x)| match kind {
                0 => false,
                1 => true,
                2 => bytes[y * w + x] < 32,
                3 => bytes[y * w + x] < 224,
                _ => bytes[y * w + x] < 128,
            })
        })
    })
}

proptest! {
    #[test]
    fn encode_matches_the_naive_encoder(mask in masks()) {
        let counts = encode(mask.view());
        prop_assert_eq!(&counts, &naive_counts(&mask));
        let (h, w) = mask.dim();
        prop_assert_eq!(counts.iter().map(|&c| c as usize).sum::<usize>(), h * w);
        prop_assert!(counts.iter().skip(1).all(|&c| c > 0), "only counts[0] may be 0: {:?}", counts);
        prop_assert_eq!(area(&counts) as usize, mask.iter().filter(|&&v| v).count());
    }

    #[test]
    fn encode_decode_round_trip(mask in masks()) {
        let (h, w) = mask.dim();
        let counts = encode(mask.view());
        prop_assert_eq!(decode(&counts, Size::new(h as u32, w as u32)).unwrap(), mask);
    }

    #[test]
    fn compress_decompress_round_trip(counts in proptest::collection::vec(any::<u32>(), 0..40)) {
        let s = compress(&counts);
        prop_assert!(s.iter().all(|b| (48..=111).contains(b)));
        prop_assert_eq!(decompress(&s).unwrap(), counts);
    }

    #[test]
    fn mask_string_round_trip(mask in masks()) {
        let counts = encode(mask.view());
        prop_assert_eq!(decompress(&compress(&counts)).unwrap(), counts);
    }

    #[test]
    fn decompress_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decompress(&bytes);
    }

    #[test]
    fn decompress_never_panics_on_alphabet_bytes(bytes in proptest::collection::vec(48u8..=111, 0..64)) {
        if let Ok(counts) = decompress(&bytes) {
            // Whatever decodes re-encodes to a string that decodes to the same counts.
            prop_assert_eq!(decompress(&compress(&counts)).unwrap(), counts);
        }
    }

    #[test]
    fn runs_per_column_merge_into_the_same_counts(mask in masks()) {
        // Split every foreground run at column boundaries, as a per-column GPU pass would.
        let (h, w) = mask.dim();
        let mut runs = Vec::new();
        for x in 0..w {
            let mut y = 0;
            while y < h {
                if mask[[y, x]] {
                    let start = y;
                    while y < h && mask[[y, x]] { y += 1; }
                    runs.push(((x * h + start) as u32, (x * h + y) as u32));
                } else {
                    y += 1;
                }
            }
        }
        prop_assert_eq!(counts_from_runs(&runs, (h * w) as u32).unwrap(), encode(mask.view()));
    }
}

#[test]
fn cross_column_runs_merge_and_empty_runs_vanish() {
    // 4×3 mask: rows 2–3 of column 0 and rows 0–1 of column 1 (SPEC §4.3 "246").
    assert_eq!(counts_from_runs(&[(2, 4), (4, 6)], 12).unwrap(), [2, 4, 6]);
    assert_eq!(
        counts_from_runs(&[(2, 4), (5, 5), (6, 6)], 12).unwrap(),
        [2, 2, 8]
    );
    assert_eq!(counts_from_runs(&[], 12).unwrap(), [12]);
    assert_eq!(counts_from_runs(&[(0, 12)], 12).unwrap(), [0, 12]);
    assert_eq!(counts_from_runs(&[(0, 3), (3, 12)], 12).unwrap(), [0, 12]);
}

#[test]
fn invalid_runs_are_rejected() {
    assert!(counts_from_runs(&[(4, 6), (2, 3)], 12).is_err(), "unsorted");
    assert!(counts_from_runs(&[(2, 6), (5, 8)], 12).is_err(), "overlap");
    assert!(
        counts_from_runs(&[(10, 13)], 12).is_err(),
        "beyond the mask"
    );
    assert!(counts_from_runs(&[(5, 4)], 12).is_err(), "reversed");
}
