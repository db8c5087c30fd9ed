//! `coco_string`: the COCO compressed-RLE codec on arbitrary bytes.
//!
//! Properties: `decompress` returns counts or a typed `RleError`, never panics;
//! when it returns counts, `compress` gives their canonical string, which decodes
//! to the same counts and is a fixed point (`compress(decompress(c)) == c`); a
//! string is canonical exactly when it equals that form. When the counts fit a
//! small mask (one column of `sum` pixels), `decode` → `encode` gives the counts
//! with empty interior runs merged, `area` matches the decoded foreground, and the
//! pycocotools JSON record round-trips the bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rle_reference::rle::{area, compress, decode, decompress, encode, to_bbox, RleJson};
use rle_reference::{CocoRle, Size};

/// Counts with zero-length interior runs merged away (what `encode` produces).
fn canonical(counts: &[u32]) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::with_capacity(counts.len());
    let mut color_of_last = true; // so the first count (background) always opens a run
    for (i, &c) in counts.iter().enumerate() {
        let color = i % 2 == 1;
        if c == 0 && i > 0 {
            continue;
        }
        match out.last_mut() {
            Some(last) if color == color_of_last => *last += c,
            _ => {
                if out.is_empty() && color {
                    out.push(0); // a mask starting with foreground
                }
                out.push(c);
            }
        }
        color_of_last = color;
    }
    if out.is_empty() {
        out.push(0);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(counts) = decompress(data) else {
        return;
    };
    let c = compress(&counts);
    assert_eq!(
        decompress(&c).as_ref(),
        Ok(&counts),
        "canonical string decodes back"
    );
    assert_eq!(
        compress(&decompress(&c).unwrap()),
        c,
        "canonical form is a fixed point"
    );
    assert!(c.iter().all(|b| (48..=111).contains(b)));
    assert!(
        c.len() <= data.len() || data.is_empty(),
        "canonical is never longer"
    );

    let sum: u64 = counts.iter().map(|&x| u64::from(x)).sum();
    if sum == 0 || sum > 1 << 12 {
        return;
    }
    // One column of `sum` pixels, and the same pixels as `sum` columns of one row.
    for size in [Size::new(sum as u32, 1), Size::new(1, sum as u32)] {
        let mask = decode(&counts, size).expect("the counts cover the mask");
        let enc = encode(mask.view());
        assert_eq!(enc, canonical(&counts), "{counts:?}");
        assert_eq!(area(&counts), mask.iter().filter(|&&v| v).count() as u64);
        let _ = to_bbox(&counts, size);
        let rle = CocoRle {
            size,
            counts: c.clone(),
        };
        let json = RleJson::try_from(&rle).expect("compressed strings are ASCII");
        let text = serde_json::to_string(&json).expect("serializable");
        let back: RleJson = serde_json::from_str(&text).expect("parses back");
        assert_eq!(back, json);
    }
    assert!(decode(&counts, Size::new(sum as u32 + 1, 1)).is_err());
});
