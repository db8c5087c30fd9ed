//! SPEC §4.4 end-to-end example: exact detections, boxes, score bits and RLE strings,
//! for both the stretch case and the static-crop + letterbox case.

// Float literals are copied verbatim from SPEC §4.4 (8 significant digits).
#![allow(clippy::excessive_precision)]

mod common;

use common::*;
use ndarray::Array3;
use rle_reference::boxes::box_xyxy_f32;
use rle_reference::rle::decompress;
use rle_reference::sigmoid::sigmoid;
use rle_reference::{postprocess, postprocess_with_scores, ImageResult, Size};

fn summary(r: &ImageResult) -> Vec<(u32, i32, u32, [i32; 4], String, Size)> {
    r.detections
        .iter()
        .map(|d| {
            let rle = String::from_utf8(d.mask.counts.clone()).unwrap();
            (
                d.query,
                d.class_id,
                d.score.to_bits(),
                d.xyxy.as_int().expect("factor 1: integer boxes"),
                rle,
                d.mask.size,
            )
        })
        .collect()
}

#[test]
fn case1_stretch() {
    let t = spec_e2e_tensors();
    let meta = spec_e2e_case1();
    let got = postprocess(&t.batch(), std::slice::from_ref(&meta), &spec_e2e_options()).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].image_size, Size::new(10, 12));
    let size = Size::new(10, 12);
    assert_eq!(
        summary(&got[0]),
        vec![
            (
                0,
                0,
                0x3F61_7BEA,
                [2, 3, 10, 7],
                "122030LO10O0022NN21O1OO0O060M3OM0120LO21N10N210ON10O0010O21O0".into(),
                size
            ),
            (
                1,
                1,
                0x3F44_BE0B,
                [0, 0, 5, 8],
                "31222OMO120O1ON21O1OO021OO10M13O51L0L11N022OMO10120O".into(),
                size
            ),
        ]
    );
    // The float boxes of the SPEC, before rounding.
    assert_eq!(
        box_xyxy_f32([0.5, 0.5, 0.6, 0.4], &meta),
        [2.399_999_9, 3.0, 9.599_999_4, 7.0]
    );
    assert_eq!(
        box_xyxy_f32([0.2, 0.3, 0.5, 0.9], &meta),
        [0.0, 0.0, 5.399_999_6, 7.5]
    );
    // Well away from any tie: nothing near.
    assert!(
        got[0].near_decisions.is_empty(),
        "{:?}",
        got[0].near_decisions
    );
}

#[test]
fn case2_static_crop_and_letterbox() {
    let t = spec_e2e_tensors();
    let meta = spec_e2e_case2();
    let got = postprocess(&t.batch(), std::slice::from_ref(&meta), &spec_e2e_options()).unwrap();
    let size = Size::new(16, 20);
    assert_eq!(got[0].image_size, size);
    assert_eq!(
        summary(&got[0]),
        vec![
            (
                0,
                0,
                0x3F61_7BEA,
                [6, 4, 14, 9],
                "R223160HO0071KO30M08OK021MO610OH26OJ1610NH01O62L0P2".into(),
                size
            ),
            (
                1,
                1,
                0x3F44_BE0B,
                [3, 0, 9, 10],
                "T22316OH07OJ37OKO30J01O92OOKO30O130H040M160HO0071KOQ2".into(),
                size
            ),
        ]
    );
    assert_eq!(
        box_xyxy_f32([0.5, 0.5, 0.6, 0.4], &meta),
        [6.399_999_6, 4.475_000_4, 13.599_999, 9.274_999_6]
    );
    assert_eq!(
        box_xyxy_f32([0.2, 0.3, 0.5, 0.9], &meta),
        [3.400_000_1, 0.0, 9.399_999_6, 9.875]
    );
    // The pasted mask lies in rows 2..12 and columns 4..16 of the 16×20 canvas.
    for d in &got[0].detections {
        let counts = decompress(&d.mask.counts).unwrap();
        let m = rle_reference::rle::decode(&counts, size).unwrap();
        for ((y, x), &v) in m.indexed_iter() {
            if v {
                assert!(
                    (2..12).contains(&y) && (4..16).contains(&x),
                    "pixel ({y}, {x}) outside the paste"
                );
            }
        }
    }
}

#[test]
fn exact_scores_give_the_same_result_without_near_flags() {
    let t = spec_e2e_tensors();
    let scores: Array3<f32> = t.logits.mapv(sigmoid);
    for meta in [spec_e2e_case1(), spec_e2e_case2()] {
        let metas = std::slice::from_ref(&meta);
        let cpu = postprocess(&t.batch(), metas, &spec_e2e_options()).unwrap();
        let exact =
            postprocess_with_scores(&t.batch(), scores.view(), metas, &spec_e2e_options()).unwrap();
        assert_eq!(cpu, exact);
    }
}

#[test]
fn query_three_is_outside_the_top_k() {
    // §4.4: q3 scores 0.599 on both classes, above 0.5, but ranks 5th/6th of 12 with k = 4.
    let t = spec_e2e_tensors();
    let got = postprocess(&t.batch(), &[spec_e2e_case1()], &spec_e2e_options()).unwrap();
    assert!(got[0].detections.iter().all(|d| d.query != 3));
    // With a larger Q (pad with very negative rows) q3 would get in: the cap is k = Q.
    let mut logits = Array3::from_elem((1, 6, 3), -50.0f32);
    logits
        .slice_mut(ndarray::s![.., 0..4, ..])
        .assign(&t.logits);
    let bigger = tensors_with_logits(logits, 8, 8);
    let got = postprocess(&bigger.batch(), &[spec_e2e_case1()], &spec_e2e_options()).unwrap();
    let q3: Vec<i32> = got[0]
        .detections
        .iter()
        .filter(|d| d.query == 3)
        .map(|d| d.class_id)
        .collect();
    assert_eq!(q3, vec![0, 1]);
}
