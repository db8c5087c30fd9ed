//! SPEC §2.2–§2.5 selection rules (top-k over all columns, NaN first, ties by flat
//! index, the three remapping cases, strict f32 thresholds, per-class clamp, cap)
//! and the near-decision flags of CPU-computed scores.

use ndarray::{Array2, Array3};
use rle_reference::select::{output_class, ranked, select, threshold_for, Candidate};
use rle_reference::sigmoid::sigmoid;
use rle_reference::{NearDecision, NearDecisionKind, Options, ResizeMode, Threshold};

fn opts(threshold: Threshold, num_classes: usize, mapping: Option<Vec<i64>>) -> Options {
    Options {
        threshold,
        num_classes,
        class_mapping: mapping,
        max_detections: None,
        resize: ResizeMode::Antialiased,
        ..Options::new(0)
    }
}

fn kept(scores: &Array2<f32>, o: &Options) -> Vec<(u32, u32, i32)> {
    select(scores.view(), None, o)
        .kept
        .iter()
        .map(|s| (s.candidate.query, s.candidate.column, s.class_id))
        .collect()
}

#[test]
fn nan_ranks_first_then_score_desc_then_flat_index_asc() {
    let s = Array2::from_shape_vec((2, 3), vec![0.5, f32::NAN, 0.9, 0.9, 0.5, f32::NAN]).unwrap();
    let order: Vec<u32> = ranked(s.view())
        .iter()
        .map(|c: &Candidate| c.flat)
        .collect();
    assert_eq!(order, vec![1, 5, 2, 3, 0, 4]);
}

#[test]
fn nan_takes_a_slot_and_then_fails_the_threshold() {
    // Q = 2: the NaN entry takes one of the two slots; only one real detection survives.
    let s = Array2::from_shape_vec((2, 2), vec![f32::NAN, 0.9, 0.8, 0.7]).unwrap();
    assert_eq!(
        kept(&s, &opts(Threshold::Scalar(0.5), 2, None)),
        vec![(0, 1, 1)]
    );
}

#[test]
fn ties_at_the_boundary_go_to_the_lowest_flat_index() {
    // Four entries at exactly 1.0, Q = 2: flat 1 and 2 win the top-k slots.
    // With k = 2 ≤ 32, topk sorts its two winners with the small bitonic network,
    // which reverses a tied pair, and the final sort of the two tied survivors
    // reverses them again (docs/SPEC-NOTES.md §10; the 0.39.6 sweep checks it).
    let s = Array2::from_shape_vec((2, 4), vec![0.1, 1.0, 1.0, 0.2, 1.0, 0.3, 1.0, 0.0]).unwrap();
    assert_eq!(
        kept(&s, &opts(Threshold::Scalar(0.5), 4, None)),
        vec![(0, 1, 1), (0, 2, 2)]
    );
}

#[test]
fn no_object_and_removed_classes_take_slots_then_vanish() {
    // C = 3 with the last column no-object; Q = 2.
    let s = Array2::from_shape_vec((2, 3), vec![0.6, 0.1, 0.95, 0.7, 0.65, 0.2]).unwrap();
    // No remapping, num_classes = 2: top-2 = flat 2 (no-object, dropped), 3.
    assert_eq!(
        kept(&s, &opts(Threshold::Scalar(0.5), 2, None)),
        vec![(1, 0, 0)]
    );
    // Remapping L ≥ C: class 0 removed, 1 → 0, column 2 maps to 1.
    let o = opts(Threshold::Scalar(0.5), 99, Some(vec![-1, 0, 1]));
    assert_eq!(kept(&s, &o), vec![(0, 2, 1)]);
    // Remapping L < C: columns ≥ L are invalid, including no-object.
    let o = opts(Threshold::Scalar(0.5), 99, Some(vec![5, 6]));
    assert_eq!(kept(&s, &o), vec![(1, 0, 5)]);
    assert_eq!(output_class(2, &o), None);
}

#[test]
fn threshold_is_strict_in_f32_after_rounding() {
    let t = 0.4f32; // f32(0.4) = 0.4000000059604645 > 0.4 in double
    let s = Array2::from_shape_vec((2, 2), vec![t, 0.1, t.next_up(), 0.1]).unwrap();
    assert_eq!(
        kept(&s, &opts(Threshold::Scalar(0.4), 2, None)),
        vec![(1, 0, 0)]
    );
}

#[test]
fn per_class_thresholds_use_the_output_id_with_a_clamp() {
    let o = opts(
        Threshold::PerClass(vec![0.9, 0.1]),
        99,
        Some(vec![1, 0, -1]),
    );
    assert_eq!(threshold_for(0, &o), 0.1); // column 0 → class 1
    assert_eq!(threshold_for(1, &o), 0.9); // column 1 → class 0
    assert_eq!(threshold_for(2, &o), 0.9); // invalid → -1 clamps to 0
    assert_eq!(threshold_for(7, &o), 0.9); // beyond the mapping → -1
    let o = opts(Threshold::PerClass(vec![0.9, 0.1]), 5, None);
    assert_eq!(threshold_for(4, &o), 0.1); // 4 clamps to n_T - 1
    let s = Array2::from_shape_vec((2, 2), vec![0.5, 0.6, 0.95, 0.2]).unwrap();
    let o = opts(Threshold::PerClass(vec![0.9, 0.3]), 2, None);
    assert_eq!(kept(&s, &o), vec![(1, 0, 0), (0, 1, 1)]);
}

#[test]
fn max_detections_caps_after_sorting() {
    let s = Array2::from_shape_vec((3, 1), vec![0.6, 0.9, 0.7]).unwrap();
    let mut o = opts(Threshold::Scalar(0.5), 1, None);
    o.max_detections = Some(2);
    assert_eq!(kept(&s, &o), vec![(1, 0, 0), (2, 0, 0)]);
    o.max_detections = Some(0);
    assert!(kept(&s, &o).is_empty());
}

fn flags(logits: &Array3<f32>, o: &Options) -> Vec<NearDecision> {
    let l = logits.index_axis(ndarray::Axis(0), 0);
    select(l.mapv(sigmoid).view(), Some(l), o).near
}

#[test]
fn near_topk_boundary_is_flagged_only_for_different_logits() {
    // Q = 2, C = 2. Logits 20 and 30 both saturate to 1.0: a near tie across the boundary.
    let logits = Array3::from_shape_vec((1, 2, 2), vec![20.0, 30.0, 25.0, -3.0]).unwrap();
    let got = flags(&logits, &opts(Threshold::Scalar(0.5), 2, None));
    let boundary: Vec<u32> = got
        .iter()
        .filter(|f| f.kind == NearDecisionKind::TopKBoundary)
        .map(|f| f.flat_index)
        .collect();
    assert_eq!(boundary, vec![0, 1, 2]);
    // Equal logits give certain ties: nothing to flag.
    let logits = Array3::from_shape_vec((1, 2, 2), vec![20.0, 20.0, 20.0, -3.0]).unwrap();
    assert!(flags(&logits, &opts(Threshold::Scalar(0.5), 2, None)).is_empty());
}

#[test]
fn near_threshold_and_sort_order_are_flagged() {
    // sigmoid(0) = 0.5 exactly: within the tolerance of threshold 0.5 (and fails it).
    let logits = Array3::from_shape_vec((1, 3, 1), vec![0.0, 5.0, 5.000_001]).unwrap();
    let got = flags(&logits, &opts(Threshold::Scalar(0.5), 1, None));
    assert!(
        got.contains(&NearDecision {
            kind: NearDecisionKind::Threshold,
            flat_index: 0
        }),
        "{got:?}"
    );
    // 5.0 and 5.000001 give scores within a few ulp: adjacent kept detections.
    assert!(
        got.contains(&NearDecision {
            kind: NearDecisionKind::SortOrder,
            flat_index: 1
        }),
        "{got:?}"
    );
    assert!(
        got.contains(&NearDecision {
            kind: NearDecisionKind::SortOrder,
            flat_index: 2
        }),
        "{got:?}"
    );
    // Far from every decision: no flag.
    let logits = Array3::from_shape_vec((1, 3, 1), vec![-4.0, 5.0, 1.0]).unwrap();
    assert!(flags(&logits, &opts(Threshold::Scalar(0.5), 1, None)).is_empty());
}
