//! The selection of one image: the work of `rle_select_roi`'s first `B`
//! blocks (one block per image). Sigmoid (bit-exact with torch on CUDA),
//! exact flat top-k over the `Q×C` scores, validity/remapping, threshold,
//! compaction in rank order (which is already the reference's sort order, see
//! below), `max_detections`, and the box of every kept detection.
//!
//! Fast path: an entry whose score is at or below every threshold can never
//! be kept, so when at most `k` entries score above the lowest threshold (or
//! are NaN, which ranks first), they are exactly the part of the top-k that
//! matters, in the same order; pass 0 gathers them and the radix select is
//! skipped. Otherwise, top-k: a 4-pass, 8-bit radix select finds the k-th
//! largest score key `T` and how many entries equal to `T` are needed;
//! entries above `T`, and the needed ones equal to `T` in ascending flat
//! order, are gathered; each then finds its rank by counting the entries
//! that rank before it. Ranking by
//! (key desc, flat asc) is the observed torch order (SPEC §2.2), and the
//! kept entries are compacted in rank order. torch's final sort is stable above
//! 32 survivors, so that is the final order; up to 32 survivors it is a
//! bitonic network that permutes ties, replayed here (`torch_sort`).

use super::{
    block_exclusive_scan, ntid, prefetch_l1, shared_bytes, shfl_idx, shfl_xor, sync, tid,
    warp_aggregated_increment, warp_append, warp_min,
};
use crate::abi::{DetRecord, FrameParams, ImageParams, MAX_QUERIES};
use crate::boxes::box_xyxy;
use crate::fp::sigmoid_cuda;
use crate::keys::{key_score, ranks_before, score_key};
use crate::torch_sort::{stage, takes_partner, Slot, SMALL_SORT_SIZE, STAGES};

const HIST: usize = 0; // 256 u32
const SCAN: usize = 256; // 32 u32
const MISC: usize = 288; // 8 u32
const CUT: usize = MISC + 2; // lowest threshold's key, or u32::MAX: no fast path
const CANDIDATES: usize = MISC + 3; // entries above CUT (fast path)
const SEL_KEY: usize = 296; // MAX_QUERIES u32
const SEL_FLAT: usize = SEL_KEY + MAX_QUERIES as usize;
const ORDER: usize = SEL_FLAT + MAX_QUERIES as usize;
const KEPT: usize = ORDER + MAX_QUERIES as usize;
const KEPT_CLASS: usize = KEPT + MAX_QUERIES as usize;
const WORDS: usize = KEPT_CLASS + MAX_QUERIES as usize;
const _: () = assert!(WORDS * 4 <= 42_240);

/// torch's `SmallBitonicSort` on one warp (all 32 lanes take part): lane `lane`
/// holds slot `lane`'s score, `valid == false` past the end. Returns the slot whose
/// entry ends up at `lane` (partners by shuffle; `torch_sort::takes_partner`).
/// Zeroes the 256 histogram bins at `hist`, every thread its share.
///
/// # Safety
/// `hist` points at 256 shared words no thread reads before the caller's
/// next barrier.
#[inline(always)]
unsafe fn clear_histogram(hist: *mut u32, t: u32, nt: u32) {
    let mut i = t;
    while i < 256 {
        // SAFETY: i < 256, per the contract.
        unsafe { *hist.add(i as usize) = 0 };
        i += nt;
    }
}

/// Visits this thread's entries `f = t, t + nt, ...` below `n` four at a
/// time: the four `load`s are issued before any `visit` (four independent
/// loads in flight instead of one), then `visit(f, value)` for each, in
/// order. The radix select's histogram passes.
#[inline(always)]
fn four_in_flight<T: Copy + Default>(
    n: u32,
    t: u32,
    nt: u32,
    load: impl Fn(u32) -> T,
    mut visit: impl FnMut(u32, T),
) {
    let mut f0 = t;
    while f0 < n {
        let mut v = [T::default(); 4];
        for (u, v) in v.iter_mut().enumerate() {
            let f = f0 + u as u32 * nt;
            if f < n {
                *v = load(f);
            }
        }
        for (u, &v) in v.iter().enumerate() {
            let f = f0 + u as u32 * nt;
            if f < n {
                visit(f, v);
            }
        }
        f0 += 4 * nt;
    }
}

#[inline(always)]
fn warp_small_sort(lane: u32, key: f32, valid: bool) -> u32 {
    let mut me = Slot {
        key,
        val: lane,
        valid,
    };
    // One stage: the partner's slot in two shuffles (the value is a lane
    // index, so the valid flag rides in its top bit).
    let mut step = |i: usize| {
        let (stride, size) = stage(i);
        let m = stride as u32;
        let packed = shfl_xor(me.val | (u32::from(me.valid) << 31), m);
        let theirs = Slot {
            key: f32::from_bits(shfl_xor(me.key.to_bits(), m)),
            val: packed & !(1 << 31),
            valid: packed >> 31 != 0,
        };
        if takes_partner(lane as usize, stride, size, me, theirs) {
            me = theirs;
        }
    };
    // Written out so every stage's stride and size are constants: as a loop
    // the 15 stages stayed rolled (1.8 µs of the selection at the centre,
    // docs/BENCHMARKS.md, seventh round).
    const _: () = assert!(STAGES.len() == 15);
    step(0);
    step(1);
    step(2);
    step(3);
    step(4);
    step(5);
    step(6);
    step(7);
    step(8);
    step(9);
    step(10);
    step(11);
    step(12);
    step(13);
    step(14);
    me.val
}

/// The key of the lowest threshold, the fast path's cut (and the ROI
/// blocks' test of which queries can become detections): scores are `>= 0`
/// or NaN, so `score > thr` is `key > key(thr)` for `thr >= 0` (and `-0.0`);
/// a negative threshold passes every score: `u32::MAX`, no cut. Called by
/// all 32 lanes of one warp; every lane gets the cut.
///
/// # Safety
/// `thresholds` holds `frame.threshold_len` values.
#[inline(always)]
pub(super) unsafe fn lowest_cut(frame: &FrameParams, thresholds: *const f32, lane: u32) -> u32 {
    let mut lowest = u32::MAX; // keys of thresholds >= 0
    let mut any_negative = false;
    let mut consider = |thr: f32| {
        if thr >= 0.0 {
            lowest = lowest.min(score_key(thr));
        } else {
            any_negative = true;
        }
    };
    if frame.threshold_len == 0 {
        consider(frame.threshold);
    } else {
        let mut j = lane;
        while j < frame.threshold_len {
            // SAFETY: j < threshold_len, per the contract.
            consider(unsafe { *thresholds.add(j as usize) });
            j += 32;
        }
    }
    let lowest = warp_min(lowest);
    let negative = warp_min(u32::from(!any_negative)) == 0;
    if negative {
        u32::MAX
    } else {
        lowest
    }
}

/// Selects the detections of image `b`: the work of one whole block of
/// `rle_select_roi` (every thread calls it).
///
/// # Safety
/// Pointers must be valid for `frame`'s sizes: `logits` and `keys` `B*Q*C`,
/// `boxes` `B*Q*4`, `thresholds` `threshold_len`, `mapping` `mapping_len`,
/// `scores_out` `B*Q*C` when `write_scores != 0`, `dets` `B*Q`, `det_count` `B`,
/// `images` `B`. `b < B`, `Q <= MAX_QUERIES`, `Q*C < 2^31`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn select_image(
    frame: &FrameParams,
    images: *const ImageParams,
    logits: *const f32,
    boxes: *const f32,
    thresholds: *const f32,
    mapping: *const i32,
    keys: *mut u32,
    scores_out: *mut f32,
    dets: *mut DetRecord,
    det_count: *mut u32,
    b: u32,
) {
    let sh = shared_bytes!("rle_select_smem", 42240).cast::<u32>();
    let s = |i: usize| -> *mut u32 { sh.wrapping_add(i) };
    let (t, nt) = (tid(), ntid());
    let cols = frame.columns;
    let n = frame.queries * cols;
    let k = frame.queries;
    let base = (b as usize) * (n as usize);

    // SAFETY (whole body): indices stay below the sizes in the contract above;
    // shared indices stay below WORDS; barriers are reached by every thread.
    unsafe {
        // Pass 0: scores and the candidates above the cut (the fast path's
        // winners). The keys and the histogram only the radix select needs
        // are made by its own first pass: pass 0 runs on every frame, and
        // these were half of its per-entry work.
        // Logits come from DRAM: BATCH loads in flight per thread before any
        // is used (a dependent load per step was most of this pass). BATCH
        // covers Q×C = 100×91 in one round at 1024 threads, and the first
        // round's loads are issued before the cut's, so their latencies overlap.
        const BATCH: u32 = 12;
        let load = |f0: u32| -> [f32; BATCH as usize] {
            let mut x = [0f32; BATCH as usize];
            for (u, x) in x.iter_mut().enumerate() {
                let f = f0 + u as u32 * nt;
                if f < n {
                    // f < n = Q*C: inside image b's logits.
                    *x = *logits.add(base + f as usize);
                }
            }
            x
        };
        let mut x = load(t);
        // The boxes are read at the end, for the kept detections: their
        // lines asked for now, so that read finds them in L1, not DRAM.
        let box_bytes = frame.queries * 16;
        if t * 128 < box_bytes {
            prefetch_l1(boxes.add((b * frame.queries * 4 + t * 32) as usize).cast());
        }
        // The fast path's cut (`lowest_cut`).
        if t < 32 {
            let cut = lowest_cut(frame, thresholds, t);
            if t == 0 {
                *s(CUT) = cut;
                *s(CANDIDATES) = 0;
            }
        }
        sync();
        let cut = *s(CUT);
        let mut f0 = t;
        while f0 < n {
            let one = |u: u32, x: f32| {
                let f = f0 + u * nt;
                if f >= n {
                    return;
                }
                let score = sigmoid_cuda(x);
                let key = score_key(score);
                // f < n; shared indices below WORDS (`at < k`).
                if frame.write_scores != 0 {
                    *scores_out.add(base + f as usize) = score;
                }
                // NaN keys (u32::MAX) rank first: candidates whenever there is a cut.
                let candidate = cut != u32::MAX && key > cut;
                if let Some(at) = warp_append(s(CANDIDATES), candidate) {
                    if at < k {
                        *s(SEL_KEY + at as usize) = key;
                        *s(SEL_FLAT + at as usize) = f;
                    }
                }
            };
            // Written out so `x` stays in registers: as a loop LLVM kept it
            // rolled and the array went to local memory.
            const _: () = assert!(BATCH == 12);
            one(0, x[0]);
            one(1, x[1]);
            one(2, x[2]);
            one(3, x[3]);
            one(4, x[4]);
            one(5, x[5]);
            one(6, x[6]);
            one(7, x[7]);
            one(8, x[8]);
            one(9, x[9]);
            one(10, x[10]);
            one(11, x[11]);
            f0 += BATCH * nt;
            if f0 < n {
                x = load(f0);
            }
        }
        sync();
        let candidates = *s(CANDIDATES);
        // k ≤ 32: torch's topk orders its k results with the small bitonic
        // network, whose output depends on all k of them, so gather all k.
        let fast = cut != u32::MAX && candidates <= k && k as usize > SMALL_SORT_SIZE;
        // Winners held in SEL_KEY/SEL_FLAT (unordered) after the next step.
        let winners = if fast { candidates } else { k };
        if !fast {
            // The keys (the same sigmoid again, so the same bits) and the
            // histogram of their top byte.
            clear_histogram(s(HIST), t, nt);
            sync();
            four_in_flight(
                n,
                t,
                nt,
                |f| *logits.add(base + f as usize),
                |f, x| {
                    let key = score_key(sigmoid_cuda(x));
                    *keys.add(base + f as usize) = key;
                    warp_aggregated_increment(s(HIST), key >> 24);
                },
            );
            sync();
            // Radix select of the k-th largest key, 8 bits at a time.
            let mut prefix = 0u32;
            let mut remaining = k;
            let mut shift = 24u32;
            loop {
                // Warp 0 finds the bin holding the `remaining`-th largest key:
                // lane l sums bins 255-8l down to 248-8l, a warp scan orders the
                // groups from the top, and the one lane whose group crosses the
                // rank walks its 8 bins.
                if t < 32 {
                    let top = 255 - 8 * t;
                    let mut group = 0u32;
                    for i in 0..8 {
                        group += *s(HIST + (top - i) as usize);
                    }
                    let incl = super::warp_inclusive_scan(group);
                    let before = incl - group;
                    if before < remaining && incl >= remaining {
                        let mut seen = before;
                        let mut bin = top;
                        loop {
                            let c = *s(HIST + bin as usize);
                            if seen + c >= remaining || bin == top - 7 {
                                break;
                            }
                            seen += c;
                            bin -= 1;
                        }
                        *s(MISC) = prefix | (bin << shift);
                        *s(MISC + 1) = remaining - seen;
                    }
                }
                sync();
                prefix = *s(MISC);
                remaining = *s(MISC + 1);
                if shift == 0 {
                    break;
                }
                shift -= 8;
                clear_histogram(s(HIST), t, nt);
                sync();
                four_in_flight(
                    n,
                    t,
                    nt,
                    |f| *keys.add(base + f as usize),
                    |_, key| {
                        if (key ^ prefix) >> (shift + 8) == 0 {
                            warp_aggregated_increment(s(HIST), (key >> shift) & 0xFF);
                        }
                    },
                );
                sync();
            }
            let kth = prefix;
            let need_eq = remaining;

            // Gather the k winners (unordered), in one pass over flat order; each
            // thread takes GATHER consecutive entries per round (one block scan
            // per round instead of one per entry).
            const GATHER: u32 = 8;
            let mut selected = 0u32;
            let mut eq_seen = 0u32;
            let mut start = 0u32;
            while start < n {
                let f0 = start + t * GATHER;
                let (mut gt, mut eq) = (0u32, 0u32);
                for f in f0..(f0 + GATHER).min(n) {
                    let key = *keys.add(base + f as usize);
                    gt += u32::from(key > kth);
                    eq += u32::from(key == kth);
                }
                let (pre, tot) = block_exclusive_scan(gt | (eq << 16), s(SCAN));
                let (gt_pre, eq_pre) = (pre & 0xFFFF, pre >> 16);
                let mut eq_rank = eq_seen + eq_pre;
                let mut pos = selected + gt_pre + eq_rank.min(need_eq) - eq_seen.min(need_eq);
                for f in f0..(f0 + GATHER).min(n) {
                    let key = *keys.add(base + f as usize);
                    let take = key > kth || (key == kth && eq_rank < need_eq);
                    eq_rank += u32::from(key == kth);
                    if take {
                        *s(SEL_KEY + pos as usize) = key;
                        *s(SEL_FLAT + pos as usize) = f;
                        pos += 1;
                    }
                }
                let (gt_tot, eq_tot) = (tot & 0xFFFF, tot >> 16);
                selected += gt_tot + (eq_seen + eq_tot).min(need_eq) - eq_seen.min(need_eq);
                eq_seen += eq_tot;
                start += nt * GATHER;
            }
        }
        sync();

        // Rank of every winner = number of winners that rank before it.
        let mut i = t;
        while i < winners {
            let (ki, fi) = (*s(SEL_KEY + i as usize), *s(SEL_FLAT + i as usize));
            let mut rank = 0u32;
            for j in 0..winners {
                rank += u32::from(ranks_before(
                    *s(SEL_KEY + j as usize),
                    *s(SEL_FLAT + j as usize),
                    ki,
                    fi,
                ));
            }
            *s(ORDER + rank as usize) = i;
            i += nt;
        }
        sync();

        // k ≤ 32: `torch.topk` writes its winners in gather order (those above the
        // k-th key, then those equal to it, each by flat index) and sorts them with
        // the small bitonic network, which permutes ties (docs/SPEC-NOTES.md §10).
        if t < 32 && k >= 2 && k as usize <= SMALL_SORT_SIZE {
            let lane = t;
            let valid = lane < k;
            let w = if valid { *s(ORDER + lane as usize) } else { 0 };
            let (key, flat) = if valid {
                (*s(SEL_KEY + w as usize), *s(SEL_FLAT + w as usize))
            } else {
                (0, u32::MAX)
            };
            let kth = shfl_idx(key, k - 1);
            let eq = key == kth;
            // Position of this winner in gather order.
            let mut pos = 0u32;
            for j in 0..32u32 {
                let (kj, fj) = (shfl_idx(key, j), shfl_idx(flat, j));
                let eqj = kj == kth;
                if valid && j < k && ((eq && !eqj) || (eq == eqj && fj < flat)) {
                    pos += 1;
                }
            }
            // Slot `lane` of the network holds the winner whose gather position is `lane`.
            let mut src = 0u32;
            for j in 0..32u32 {
                if shfl_idx(pos, j) == lane && j < k {
                    src = j;
                }
            }
            let w_slot = shfl_idx(w, src);
            let key_slot = shfl_idx(key, src);
            let from = warp_small_sort(lane, if valid { key_score(key_slot) } else { 0.0 }, valid);
            let w_new = shfl_idx(w_slot, from);
            if valid {
                *s(ORDER + lane as usize) = w_new;
            }
        }
        sync();

        // Validity and threshold in rank order; compact the survivors.
        let mut kept = 0u32;
        let mut start = 0u32;
        while start < winners {
            let r = start + t;
            let mut keep = false;
            let (mut w, mut class) = (0u32, -1i32);
            if r < winners {
                w = *s(ORDER + r as usize);
                let (key, f) = (*s(SEL_KEY + w as usize), *s(SEL_FLAT + w as usize));
                let c = f % cols;
                class = if frame.mapping_len == 0 {
                    if c < frame.num_classes {
                        c as i32
                    } else {
                        -1
                    }
                } else if c < frame.mapping_len {
                    *mapping.add(c as usize)
                } else {
                    -1
                };
                let thr = if frame.threshold_len == 0 {
                    frame.threshold
                } else {
                    *thresholds.add(class.clamp(0, frame.threshold_len as i32 - 1) as usize)
                };
                keep = class >= 0 && key_score(key) > thr;
            }
            let (pre, tot) = block_exclusive_scan(u32::from(keep), s(SCAN));
            if keep {
                *s(KEPT + (kept + pre) as usize) = w;
                *s(KEPT_CLASS + (kept + pre) as usize) = class as u32;
            }
            kept += tot;
            start += nt;
        }
        sync();

        // torch's descending sort: a bitonic network up to 32 survivors, one
        // lane per slot (partners by shuffle; `torch_sort::takes_partner`).
        if t < 32 && kept >= 2 && kept as usize <= SMALL_SORT_SIZE {
            let lane = t as usize;
            let valid = t < kept;
            let (w, cl) = if valid {
                (*s(KEPT + lane), *s(KEPT_CLASS + lane))
            } else {
                (0, 0)
            };
            let key = if valid {
                key_score(*s(SEL_KEY + w as usize))
            } else {
                0.0
            };
            let from = warp_small_sort(t, key, valid);
            // Slot `lane` now holds the entry first at slot `from`.
            let (w_new, cl_new) = (shfl_idx(w, from), shfl_idx(cl, from));
            if valid {
                *s(KEPT + lane) = w_new;
                *s(KEPT_CLASS + lane) = cl_new;
            }
        }
        sync();

        // Cap, boxes, records.
        let img = &*images.add(b as usize);
        let n_out = kept.min(frame.max_detections);
        let mut p = t;
        while p < n_out {
            let w = *s(KEPT + p as usize) as usize;
            let (key, f) = (*s(SEL_KEY + w), *s(SEL_FLAT + w));
            let q = f / cols;
            let bx = boxes.add(((b * frame.queries + q) * 4) as usize);
            *dets.add((b * frame.queries + p) as usize) = DetRecord {
                query: q,
                column: f % cols,
                class_id: *s(KEPT_CLASS + p as usize) as i32,
                score_bits: key_score(key).to_bits(),
                xyxy_bits: box_xyxy([*bx, *bx.add(1), *bx.add(2), *bx.add(3)], img)
                    .map(f32::to_bits),
                ..DetRecord::default()
            };
            p += nt;
        }
        if t == 0 {
            *det_count.add(b as usize) = n_out;
        }
    }
}
