//! The order `torch.sort(scores, descending=True)` gives on CUDA (SPEC §2.5),
//! including its order for equal scores, which depends on the size:
//!
//! - `n ≤ 32`: ATen's `SmallBitonicSort`, an unstable bitonic network over 32
//!   slots (16 threads, 2 items each). Entries past `n` are invalid and always
//!   sink to the end; the comparator is `GTOp` (NaN ranks first). *Verified* on
//!   an H100 (torch 2.11): ties come out permuted by this network
//!   (`scripts/probe_tie_order.py`, and the fixtures' tie cases).
//! - `n > 32`: a stable sort (cub warp merge sort up to 128, radix sort above):
//!   ties keep their input order.

/// Largest size sorted by the bitonic network.
pub const SMALL_SORT_SIZE: usize = 32;

/// `GTOp<float, true>`: `a` ranks before `b`.
fn greater(a: f32, b: f32) -> bool {
    (a.is_nan() && !b.is_nan()) || a > b
}

/// One compare-exchange of the network: ATen's `bitonicSwap`.
fn compare_swap(slots: &mut [(f32, usize, bool)], a: usize, b: usize, dir: bool) {
    let (ka, _, va) = slots[a];
    let (kb, _, vb) = slots[b];
    let swap = (greater(ka, kb) && va) || !vb;
    if swap == dir {
        slots.swap(a, b);
    }
}

/// The stages of the network as `(stride, direction rule)`: `Some(size)` means
/// thread `t` sorts with direction `t & (size/2) != 0`; `None`, direction false.
fn stages() -> Vec<(usize, Option<usize>)> {
    let mut out = Vec::new();
    let mut size = 2;
    while size < SMALL_SORT_SIZE {
        let mut stride = size / 2;
        while stride > 0 {
            out.push((stride, Some(size)));
            stride /= 2;
        }
        size *= 2;
    }
    let mut stride = SMALL_SORT_SIZE / 2;
    while stride > 0 {
        out.push((stride, None));
        stride /= 2;
    }
    out
}

/// Input positions of `scores` in the order torch's descending sort returns them.
pub fn sort_descending_order(scores: &[f32]) -> Vec<usize> {
    let n = scores.len();
    if n > SMALL_SORT_SIZE {
        let mut order: Vec<usize> = (0..n).collect();
        // Stable: equal scores keep their input order.
        order.sort_by(|&a, &b| {
            if greater(scores[a], scores[b]) {
                std::cmp::Ordering::Less
            } else if greater(scores[b], scores[a]) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        return order;
    }
    if n <= 1 {
        return (0..n).collect();
    }
    let mut slots: Vec<(f32, usize, bool)> = (0..SMALL_SORT_SIZE)
        .map(|i| {
            if i < n {
                (scores[i], i, true)
            } else {
                (0.0, 0, false)
            }
        })
        .collect();
    for (stride, rule) in stages() {
        for t in 0..SMALL_SORT_SIZE / 2 {
            let dir = rule.is_some_and(|size| t & (size / 2) != 0);
            let pos = 2 * t - (t & (stride - 1));
            compare_swap(&mut slots, pos, pos + stride, dir);
        }
    }
    slots[..n].iter().map(|s| s.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_scores_come_out_descending_at_every_size() {
        for n in 0..80 {
            let scores: Vec<f32> = (0..n).map(|i| ((i * 37) % 101) as f32 / 7.0).collect();
            let order = sort_descending_order(&scores);
            assert_eq!(order.len(), n);
            for w in order.windows(2) {
                assert!(scores[w[0]] >= scores[w[1]], "n={n}");
            }
        }
    }

    #[test]
    fn small_ties_follow_the_bitonic_network_not_input_order() {
        // Two equal scores among others: torch 2.11 on an H100 put the later
        // one first for these inputs (fixtures center_crop_odd / remap cases).
        let s = [0.9, 0.8, 0.7, 0.5, 0.5, 0.4];
        let order = sort_descending_order(&s);
        assert_eq!(&order[..3], &[0, 1, 2]);
        assert_eq!(&order[5..], &[5]);
        assert!(order[3] == 4 && order[4] == 3, "{order:?}");
        // Above 32 entries the sort is stable.
        let mut big = vec![0.1f32; 40];
        big[3] = 0.5;
        big[9] = 0.5;
        let order = sort_descending_order(&big);
        assert_eq!(&order[..2], &[3, 9]);
    }
}
