//! How the mask stage splits detections into items and chains them back
//! together: the arithmetic the device's item planning and reserve step use,
//! compiled for the host too so it is tested there against a one-shot
//! encoding (`tests` below).
//!
//! A detection's ROI pixels, in column-major ROI order, are cut into
//! `chunks` contiguous ranges of about `chunk_pixels` each; every chunk finds
//! its run boundaries ("events") alone. COCO characters of an event need the
//! three events before it, so each chunk encodes its events from its fourth
//! on, and the reserve step encodes every chunk's first three with the last
//! events of the chunks before it.

use crate::abi::MASK_ITEM_BUDGET;
use crate::coco::coded_value;

/// Pixels per chunk for a frame whose ROIs hold `sum_total` pixels: about
/// `sum_total / target` (a target of 0 asks for nothing) but at most
/// `max_chunk` for that; then at least `min_chunk` (and 1), and large enough
/// that the frame has at most `budget` items (clamped to
/// `1..=MASK_ITEM_BUDGET`) plus one per detection.
#[inline(always)]
pub fn chunk_pixels(
    sum_total: u64,
    min_chunk: u32,
    budget: u32,
    target: u32,
    max_chunk: u32,
) -> u64 {
    let budget = budget.clamp(1, MASK_ITEM_BUDGET);
    let aimed = match target {
        0 => 0,
        n => sum_total.div_ceil(u64::from(n)).min(u64::from(max_chunk)),
    };
    u64::from(min_chunk.max(1))
        .max(sum_total.div_ceil(u64::from(budget)))
        .max(aimed)
}

/// Chunks of a detection whose ROI has `total` pixels (≥ 1: an empty ROI
/// still needs its one-count string).
#[inline(always)]
pub fn chunks_for(total: u32, chunk_pixels: u64) -> u32 {
    (u64::from(total).div_ceil(chunk_pixels.max(1)) as u32).max(1)
}

/// ROI pixel range `[begin, end)` of chunk `c` of `chunks`.
#[inline(always)]
pub fn chunk_range(total: u32, chunks: u32, c: u32) -> (u32, u32) {
    let n = u64::from(chunks.max(1));
    let t = u64::from(total);
    (
        (u64::from(c) * t / n) as u32,
        ((u64::from(c) + 1) * t / n) as u32,
    )
}

/// Coded values (SPEC §4.2) of a chunk's first `n ≤ 3` events `first`, the
/// chunk's first event having global index `g` and `prev` holding the three
/// events before it, newest first (0 where the index would be negative);
/// 0 past the `n`-th.
///
/// Written with constant indices only: on the device an array indexed by a
/// loop the compiler keeps rolled lives in local memory (the reserve step had
/// a 152-byte stack frame, docs/BENCHMARKS.md, seventh round).
#[inline(always)]
pub fn boundary_values(g: u32, prev: [u32; 3], first: [u32; 3], n: u32) -> [i64; 3] {
    // e[m + 3] = event g + m for m in -3..=2.
    let e = [prev[2], prev[1], prev[0], first[0], first[1], first[2]];
    let g = u64::from(g);
    let value = |i: usize| -> i64 {
        let count = e[i + 3].wrapping_sub(e[i + 2]);
        let two_back = e[i + 1].wrapping_sub(e[i]);
        if (i as u32) < n {
            coded_value(g + i as u64, count, two_back)
        } else {
            0
        }
    };
    [value(0), value(1), value(2)]
}

/// Event `j` of a run of chunks, `j` counted from the run's first event and
/// lying within the last three events of its chunk. `pre(c)` is the number of
/// events before chunk `c` of the run, `count(c)` its events and `last(c, k)`
/// its `k`-th newest event; `n` chunks. Binary search for the last chunk with
/// `pre(c) <= j` (an empty chunk never ends such a search: the chunk after it
/// starts at the same count).
#[inline(always)]
pub fn event_in_run(
    j: u32,
    n: u32,
    pre: impl Fn(u32) -> u32,
    count: impl Fn(u32) -> u32,
    last: impl Fn(u32, u32) -> u32,
) -> u32 {
    let (mut lo, mut hi) = (0u32, n);
    // Invariant: pre(lo) <= j (pre(0) = 0) and the answer is below hi.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if pre(mid) <= j {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let from_end = pre(lo) + count(lo) - 1 - j;
    last(lo, from_end)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::{vec, vec::Vec};

    use super::*;
    use crate::coco::{char_len, write_chars};

    /// Encodes events (flat positions of run boundaries) of an `hw`-pixel
    /// mask the one-shot way: every event and the trailing count.
    fn one_shot(events: &[u32], hw: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = [0u32; 3];
        let mut emit = |x: i64| {
            write_chars(x, |_, c| out.push(c));
        };
        for (g, &ev) in events.iter().enumerate() {
            emit(coded_value(g as u64, ev - e[0], e[1] - e[2]));
            e = [ev, e[0], e[1]];
        }
        if events.is_empty() || e[0] < hw {
            emit(coded_value(events.len() as u64, hw - e[0], e[1] - e[2]));
        }
        out
    }

    /// The chunked way, as the device does it: chunks encode events from
    /// their fourth on; boundary events use `event_in_run` over the chunks'
    /// last events.
    fn chunked(events: &[u32], cuts: &[usize], hw: u32) -> Vec<u8> {
        let mut bounds = vec![0];
        bounds.extend_from_slice(cuts);
        bounds.push(events.len());
        let chunks: Vec<&[u32]> = bounds.windows(2).map(|w| &events[w[0]..w[1]]).collect();
        let n = chunks.len() as u32;
        let pre: Vec<u32> = bounds[..chunks.len()].iter().map(|&b| b as u32).collect();
        let count = |c: u32| chunks[c as usize].len() as u32;
        let last = |c: u32, k: u32| {
            let ch = chunks[c as usize];
            assert!(
                k < 3 && (k as usize) < ch.len(),
                "only the last three events are kept"
            );
            ch[ch.len() - 1 - k as usize]
        };
        let ev_before = |g: u32, k: u32| -> u32 {
            // event g - 1 - k, or 0 before the first
            if g < k + 1 {
                0
            } else {
                event_in_run(g - 1 - k, n, |c| pre[c as usize], count, last)
            }
        };
        let mut out = Vec::new();
        for (c, ch) in chunks.iter().enumerate() {
            let g = pre[c];
            let prev = [ev_before(g, 0), ev_before(g, 1), ev_before(g, 2)];
            let mut first = [0u32; 3];
            for (i, f) in first.iter_mut().enumerate().take(ch.len().min(3)) {
                *f = ch[i];
            }
            let bv = boundary_values(g, prev, first, ch.len() as u32);
            let before = out.len();
            for &x in bv.iter().take(ch.len().min(3)) {
                write_chars(x, |_, c| out.push(c));
            }
            let expected: u32 = bv.iter().take(ch.len().min(3)).map(|&x| char_len(x)).sum();
            assert_eq!((out.len() - before) as u32, expected);
            for i in 3..ch.len() {
                let gi = g as usize + i;
                let x = coded_value(
                    gi as u64,
                    events[gi] - events[gi - 1],
                    events[gi - 2] - events[gi - 3],
                );
                write_chars(x, |_, c| out.push(c));
            }
        }
        let g = events.len() as u32;
        let e = [ev_before(g, 0), ev_before(g, 1), ev_before(g, 2)];
        if g == 0 || e[0] < hw {
            write_chars(coded_value(u64::from(g), hw - e[0], e[1] - e[2]), |_, c| {
                out.push(c)
            });
        }
        out
    }

    #[test]
    fn chunked_encoding_equals_one_shot_for_every_split() {
        let mut next = crate::test_rng::below(0x9E37_79B9_7F4A_7C15u64);
        for _ in 0..3000 {
            let hw = 1 + next(5000) as u32;
            let mut events: Vec<u32> = (0..next(40))
                .map(|_| next(u64::from(hw) + 1) as u32)
                .collect();
            events.sort_unstable();
            events.dedup();
            if events.len() % 2 == 1 {
                events.pop();
            }
            let mut cuts: Vec<usize> = (0..next(12))
                .map(|_| next(events.len() as u64 + 1) as usize)
                .collect();
            cuts.sort_unstable();
            assert_eq!(
                chunked(&events, &cuts, hw),
                one_shot(&events, hw),
                "events {events:?} cuts {cuts:?} hw {hw}"
            );
        }
    }

    #[test]
    fn chunk_ranges_tile_the_roi_and_respect_the_budget() {
        for total in [0u32, 1, 7, 2048, 2049, 1_000_003, u32::MAX] {
            for chunks in [1u32, 2, 3, 64, 4097] {
                let mut at = 0;
                for c in 0..chunks {
                    let (a, b) = chunk_range(total, chunks, c);
                    assert_eq!(a, at);
                    assert!(b >= a);
                    at = b;
                }
                assert_eq!(at, total);
            }
        }
        // Budget: sum of chunks_for over detections <= budget + detections.
        let totals = [3_000_000u32, 5, 0, 800_000, 12_345, u32::MAX];
        for (min, budget, target, max) in [
            (1u32, 0u32, 0u32, 0u32),
            (64, 7, 0, 1),
            (DEFAULT_MIN, DEFAULT_BUDGET, 528, DEFAULT_MAX),
            (1, u32::MAX, u32::MAX, u32::MAX),
            (DEFAULT_MIN, DEFAULT_BUDGET, 1, 1),
        ] {
            let sum: u64 = totals.iter().map(|&t| u64::from(t)).sum();
            let px = chunk_pixels(sum, min, budget, target, max);
            assert!(px >= u64::from(min));
            if target > 0 {
                // The target's size, unless a bound overrides it.
                let aimed = sum.div_ceil(u64::from(target)).min(u64::from(max));
                assert!(px >= aimed, "{px} below the target's {aimed}");
            }
            let items: u64 = totals.iter().map(|&t| u64::from(chunks_for(t, px))).sum();
            let most = u64::from(budget.clamp(1, MASK_ITEM_BUDGET));
            assert!(
                items <= most + totals.len() as u64,
                "{items} items, budget {budget}"
            );
            for &t in &totals {
                let n = chunks_for(t, px);
                assert!(n >= 1);
                for c in 0..n {
                    let (a, b) = chunk_range(t, n, c);
                    assert!(u64::from(b - a) <= px, "chunk of {} > {px}", b - a);
                }
            }
        }
        assert_eq!(chunks_for(0, 2048), 1);
        assert_eq!(chunks_for(2049, 2048), 2);
    }

    const DEFAULT_MIN: u32 = crate::abi::DEFAULT_CHUNK_PIXELS;
    const DEFAULT_BUDGET: u32 = crate::abi::DEFAULT_ITEM_BUDGET;
    const DEFAULT_MAX: u32 = crate::abi::DEFAULT_MAX_CHUNK_PIXELS;
}
