//! SPEC §4.3 worked examples: masks → counts → strings, checked both ways.

use ndarray::Array2;
use rle_reference::rle::{area, compress, decode, decompress, encode, to_bbox};
use rle_reference::Size;

/// A mask from rows of '0'/'1'.
fn mask(rows: &[&str]) -> Array2<bool> {
    Array2::from_shape_fn((rows.len(), rows[0].len()), |(r, c)| {
        rows[r].as_bytes()[c] == b'1'
    })
}

fn check(m: &Array2<bool>, counts: &[u32], string: &str) {
    assert_eq!(encode(m.view()), counts);
    assert_eq!(compress(counts), string.as_bytes());
    assert_eq!(decompress(string.as_bytes()).unwrap(), counts);
    let (h, w) = m.dim();
    assert_eq!(&decode(counts, Size::new(h as u32, w as u32)).unwrap(), m);
}

#[test]
fn three_by_three() {
    check(&mask(&["011", "010", "110"]), &[2, 5, 2], "252");
}

#[test]
fn all_ones_and_all_zeros() {
    check(&Array2::from_elem((2, 2), true), &[0, 4], "04");
    check(&Array2::from_elem((2, 3), false), &[6], "6");
}

#[test]
fn run_crossing_a_column_boundary_is_one_run() {
    let mut m = Array2::from_elem((4, 3), false);
    m[[2, 0]] = true;
    m[[3, 0]] = true;
    m[[0, 1]] = true;
    m[[1, 1]] = true;
    check(&m, &[2, 4, 6], "246");
}

#[test]
fn five_by_four_with_negative_deltas() {
    check(
        &mask(&["1000", "0110", "0110", "0110", "0001"]),
        &[0, 1, 5, 3, 2, 3, 5, 1],
        "0152M03N",
    );
}

#[test]
fn given_counts_15x31() {
    let counts = [100, 20, 300, 5, 40];
    assert_eq!(compress(&counts), b"T3d0\\9AlG");
    assert_eq!(decompress(b"T3d0\\9AlG").unwrap(), counts);
    assert_eq!(
        decode(&counts, Size::new(15, 31))
            .unwrap()
            .iter()
            .filter(|&&v| v)
            .count(),
        25
    );
    assert_eq!(area(&counts), 25);
}

#[test]
fn large_full_and_empty_masks() {
    assert_eq!(compress(&[8_294_400]), b"PPTm7");
    assert_eq!(
        encode(Array2::from_elem((2160, 3840), false).view()),
        [8_294_400]
    );
    assert_eq!(compress(&[0, 2_073_600]), b"0PPYo1");
    assert_eq!(
        encode(Array2::from_elem((1080, 1920), true).view()),
        [0, 2_073_600]
    );
}

#[test]
fn bbox_and_area_follow_pycocotools() {
    let m = mask(&["1000", "0110", "0110", "0110", "0001"]);
    let counts = encode(m.view());
    assert_eq!(area(&counts), 8);
    assert_eq!(to_bbox(&counts, Size::new(5, 4)), [0.0, 0.0, 4.0, 5.0]);
    let m = mask(&["000", "011", "010", "000"]);
    assert_eq!(
        to_bbox(&encode(m.view()), Size::new(4, 3)),
        [1.0, 1.0, 2.0, 2.0]
    );
    // A run crossing a column boundary widens the box to the full height (rleToBbox quirk).
    assert_eq!(to_bbox(&[2, 4, 6], Size::new(4, 3)), [0.0, 0.0, 2.0, 4.0]);
    assert_eq!(to_bbox(&[12], Size::new(4, 3)), [0.0; 4]);
}

#[test]
fn decode_checks_the_sum() {
    assert!(decode(&[2, 5], Size::new(3, 3)).is_err());
    assert!(decode(&[2, 5, 2, 1], Size::new(3, 3)).is_err());
}
