//! Detection selection for one image: flat top-k, class validity and remapping,
//! threshold, keep/sort/cap (SPEC §2.2–§2.5), and near-decision flags.
//!
//! Ordering invariant: the top-k is ranked by [`rank_order`]: NaN above every
//! number, then score descending, then flat index `q*C + c` ascending (the order
//! observed on CUDA, §2.2). The final sort is torch's (`crate::torch_sort`): stable
//! above 32 survivors, a bitonic network (which permutes ties) up to 32. The top-k keeps `k = Q` entries of the `Q×C`
//! scores, whatever their class; invalid classes are dropped only afterwards.
//!
//! Near decisions (only when the scores were computed on the CPU, whose sigmoid is
//! within [`SIGMOID_TOLERANCE_ULP`] of CUDA's, §9 Q1), reported by flat index:
//! - [`NearDecisionKind::TopKBoundary`]: an included and an excluded top-k entry whose
//!   scores are within `2 × SIGMOID_TOLERANCE_ULP` ulp (equal included; each side may be
//!   off by the tolerance) and whose logits differ: CUDA
//!   could rank them the other way. Equal logits give equal scores on every device, so
//!   those ties are certain and not flagged. Both entries are flagged.
//! - [`NearDecisionKind::Threshold`]: a valid top-k entry whose score is within
//!   `SIGMOID_TOLERANCE_ULP` (inclusive) of its threshold.
//! - [`NearDecisionKind::SortOrder`]: two kept detections adjacent in the sorted order
//!   (before the cap, so the cap boundary is covered) within `2 × SIGMOID_TOLERANCE_ULP`
//!   with different logits.
//!   Both entries are flagged.
//!
//! Flags are sorted by (kind, flat index) and deduplicated.

use std::cmp::Ordering;

use ndarray::ArrayView2;

use crate::sigmoid::{ulp_distance, SIGMOID_TOLERANCE_ULP};
use crate::torch_sort::sort_descending_order;
use crate::{NearDecision, NearDecisionKind, Options, Threshold};

/// One entry of the flat score array.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Flat index `q*C + c`.
    pub flat: u32,
    /// Query `q`.
    pub query: u32,
    /// Logit column `c`.
    pub column: u32,
    /// Sigmoid score.
    pub score: f32,
}

/// A detection that survived §2.3–§2.5, before boxes and masks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Selected {
    /// The entry it comes from.
    pub candidate: Candidate,
    /// Output class id (remapped when remapping is active).
    pub class_id: i32,
}

/// Result of [`select`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selection {
    /// Kept detections in the reference order, capped at `max_detections`.
    pub kept: Vec<Selected>,
    /// Near decisions (empty when no logits were given).
    pub near: Vec<NearDecision>,
}

/// The reference ranking: NaN first, then score descending, then flat index ascending.
pub fn rank_order(a: &Candidate, b: &Candidate) -> Ordering {
    match (a.score.is_nan(), b.score.is_nan()) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (true, true) => a.flat.cmp(&b.flat),
        // `partial_cmp` is total here (no NaN); -0 and +0 compare equal and fall to the index.
        (false, false) => b
            .score
            .partial_cmp(&a.score)
            .unwrap_or(Ordering::Equal)
            .then(a.flat.cmp(&b.flat)),
    }
}

/// All `Q×C` entries ranked by [`rank_order`]; the first `Q` are the top-k (§2.2).
pub fn ranked(scores: ArrayView2<'_, f32>) -> Vec<Candidate> {
    let columns = scores.ncols();
    let mut all: Vec<Candidate> = scores
        .indexed_iter()
        .map(|((q, c), &score)| Candidate {
            // validate() guarantees Q*C fits in u32.
            flat: (q * columns + c) as u32,
            query: q as u32,
            column: c as u32,
            score,
        })
        .collect();
    all.sort_by(rank_order);
    all
}

/// Output class of logit column `column`, or `None` when the column is not a valid
/// output class (§2.3, all three cases).
pub fn output_class(column: u32, opts: &Options) -> Option<i32> {
    let column = column as usize;
    match &opts.class_mapping {
        None => (column < opts.num_classes).then_some(column as i32),
        // `L ≥ C` and `L < C` collapse: columns beyond the mapping are invalid.
        Some(mapping) => match mapping.get(column) {
            Some(&id) if id >= 0 => Some(id as i32),
            _ => None,
        },
    }
}

/// The raw output id used to index a per-class threshold: the class id, or for an
/// invalid entry what the reference computes anyway (`cls` without remapping, `-1`
/// or the mapped value with remapping); only the clamped index matters (§2.4).
fn raw_output_id(column: u32, opts: &Options) -> i64 {
    match &opts.class_mapping {
        None => i64::from(column),
        Some(mapping) => mapping.get(column as usize).copied().unwrap_or(-1),
    }
}

/// The float32 threshold an entry is compared with (§2.4): `f32(scalar)`, or the
/// per-class value at `clamp(out_cls, 0, n_T - 1)`.
pub fn threshold_for(column: u32, opts: &Options) -> f32 {
    match &opts.threshold {
        Threshold::Scalar(t) => *t as f32,
        Threshold::PerClass(table) => {
            let last = table.len().saturating_sub(1) as i64;
            let index = raw_output_id(column, opts).clamp(0, last) as usize;
            table[index]
        }
    }
}

/// The order `torch.topk` returns its `k` winners in (`included`: the winners by
/// score descending, flat index ascending). Above 32 that order itself; for
/// `k ≤ 32` topk writes them in gather order (scores above the k-th, then those
/// equal to it, each by flat index) and sorts them with the small bitonic network,
/// which permutes ties (found by the 0.39.6 sweep, docs/SPEC-NOTES.md §10).
fn topk_order(included: &[Candidate]) -> Vec<Candidate> {
    let k = included.len();
    if !(2..=crate::torch_sort::SMALL_SORT_SIZE).contains(&k) {
        return included.to_vec();
    }
    let kth = included[k - 1].score;
    let same = |a: f32| a.to_bits() == kth.to_bits() || (a.is_nan() && kth.is_nan());
    let mut gather: Vec<Candidate> = included
        .iter()
        .copied()
        .filter(|c| !same(c.score))
        .collect();
    gather.sort_by_key(|c| c.flat);
    let mut ties: Vec<Candidate> = included.iter().copied().filter(|c| same(c.score)).collect();
    ties.sort_by_key(|c| c.flat);
    gather.extend(ties);
    let scores: Vec<f32> = gather.iter().map(|c| c.score).collect();
    sort_descending_order(&scores)
        .into_iter()
        .map(|i| gather[i])
        .collect()
}

/// Selects the detections of one image from its `Q×C` scores (§2.2–§2.5).
///
/// `logits` (the same `Q×C` shape) switches on the near-decision flags; pass `None`
/// when the scores come from an exact source.
pub fn select(
    scores: ArrayView2<'_, f32>,
    logits: Option<ArrayView2<'_, f32>>,
    opts: &Options,
) -> Selection {
    let k = scores.nrows();
    let all = ranked(scores);
    let (included, excluded) = all.split_at(k.min(all.len()));
    let topk = topk_order(included);
    let included = topk.as_slice();

    // Keep valid & passing entries, in top-k order. NaN scores fail `>`.
    let mut kept: Vec<Selected> = included
        .iter()
        .filter_map(|c| {
            let class_id = output_class(c.column, opts)?;
            (c.score > threshold_for(c.column, opts)).then_some(Selected {
                candidate: *c,
                class_id,
            })
        })
        .collect();
    // Survivors are in rank order; torch's descending sort keeps that order
    // except for ties among at most 32 survivors (see `torch_sort`).
    let scores: Vec<f32> = kept.iter().map(|s| s.candidate.score).collect();
    kept = sort_descending_order(&scores)
        .into_iter()
        .map(|i| kept[i])
        .collect();

    let near = match logits {
        Some(logits) => near_decisions(included, excluded, &kept, logits, opts),
        None => Vec::new(),
    };
    if let Some(cap) = opts.max_detections {
        kept.truncate(cap);
    }
    Selection { kept, near }
}

/// Two scores that CUDA might order differently from the CPU (see module header).
fn near_pair(a: &Candidate, b: &Candidate, logits: ArrayView2<'_, f32>) -> bool {
    let logit = |c: &Candidate| logits[[c.query as usize, c.column as usize]].to_bits();
    ulp_distance(a.score, b.score) <= 2 * SIGMOID_TOLERANCE_ULP && logit(a) != logit(b)
}

fn near_decisions(
    included: &[Candidate],
    excluded: &[Candidate],
    kept: &[Selected],
    logits: ArrayView2<'_, f32>,
    opts: &Options,
) -> Vec<NearDecision> {
    let mut flags = Vec::new();
    let mut flag = |kind, c: &Candidate| {
        flags.push(NearDecision {
            kind,
            flat_index: c.flat,
        })
    };
    let window = 2 * SIGMOID_TOLERANCE_ULP;

    // (1) Top-k boundary. A near pair (i, e) has s_e ≤ top_excluded ≤ bottom_included ≤ s_i,
    // so i is within the window of top_excluded and e within the window of bottom_included:
    // only those two short lists need pairing.
    let top_excluded = excluded.iter().find(|c| !c.score.is_nan());
    if let (Some(top_ex), Some(bottom_in)) = (top_excluded, included.last()) {
        let near_in: Vec<&Candidate> = included
            .iter()
            .filter(|c| ulp_distance(c.score, top_ex.score) <= window)
            .collect();
        let near_ex: Vec<&Candidate> = excluded
            .iter()
            .filter(|c| ulp_distance(c.score, bottom_in.score) <= window)
            .collect();
        let mut hit_ex = vec![false; near_ex.len()];
        for i in &near_in {
            let mut hit = false;
            for (e, seen) in near_ex.iter().zip(hit_ex.iter_mut()) {
                if near_pair(i, e, logits) {
                    hit = true;
                    *seen = true;
                }
            }
            if hit {
                flag(NearDecisionKind::TopKBoundary, i);
            }
        }
        for (e, seen) in near_ex.iter().zip(&hit_ex) {
            if *seen {
                flag(NearDecisionKind::TopKBoundary, e);
            }
        }
    }

    // (2) Threshold: valid top-k entries within the tolerance of their threshold.
    for c in included {
        if output_class(c.column, opts).is_some()
            && ulp_distance(c.score, threshold_for(c.column, opts)) <= SIGMOID_TOLERANCE_ULP
        {
            flag(NearDecisionKind::Threshold, c);
        }
    }

    // (3) Sort order of adjacent kept detections.
    for pair in kept.windows(2) {
        let (a, b) = (&pair[0].candidate, &pair[1].candidate);
        if near_pair(a, b, logits) {
            flag(NearDecisionKind::SortOrder, a);
            flag(NearDecisionKind::SortOrder, b);
        }
    }

    let kind_rank = |k: NearDecisionKind| match k {
        NearDecisionKind::TopKBoundary => 0u8,
        NearDecisionKind::Threshold => 1,
        NearDecisionKind::SortOrder => 2,
    };
    flags.sort_by_key(|f| (kind_rank(f.kind), f.flat_index));
    flags.dedup();
    flags
}
