//! `rle_select`: one block per image. Sigmoid (bit-exact with torch on CUDA),
//! exact flat top-k over the `Q×C` scores, validity/remapping, threshold,
//! compaction in rank order (which is already the reference's sort order, see
//! below), `max_detections`, and the box of every kept detection.
//!
//! Top-k: a 4-pass, 8-bit radix select finds the k-th largest score key `T`
//! and how many entries equal to `T` are needed; entries above `T`, and the
//! needed ones equal to `T` in ascending flat order, are gathered; each then
//! finds its rank by counting the entries that rank before it. Ranking by
//! (key desc, flat asc) is the observed torch order (SPEC §2.2), and the
//! reference's later sort is stable on that order (§2.5), so compacting the
//! kept entries in rank order yields the final order with no second sort.

use super::{atomic_add, block_exclusive_scan, bid_x, ntid, shared_bytes, sync, tid};
use crate::abi::{DetRecord, FrameCounters, FrameParams, ImageParams, MAX_QUERIES};
use crate::boxes::box_xyxy;
use crate::fp::sigmoid_cuda;
use crate::keys::{key_score, ranks_before, score_key};

const HIST: usize = 0; // 256 u32
const SCAN: usize = 256; // 32 u32
const MISC: usize = 288; // 8 u32
const SEL_KEY: usize = 296; // MAX_QUERIES u32
const SEL_FLAT: usize = SEL_KEY + MAX_QUERIES as usize;
const ORDER: usize = SEL_FLAT + MAX_QUERIES as usize;
const WORDS: usize = ORDER + MAX_QUERIES as usize;
const _: () = assert!(WORDS * 4 <= 25_856);

/// Selects the detections of image `blockIdx.x`.
///
/// # Safety
/// Pointers must be valid for `frame`'s sizes: `logits` and `keys` `B*Q*C`,
/// `boxes` `B*Q*4`, `thresholds` `threshold_len`, `mapping` `mapping_len`,
/// `scores_out` `B*Q*C` when `write_scores != 0`, `dets` `B*Q`, `det_count` `B`,
/// `images` `B`. `Q <= MAX_QUERIES`, `Q*C < 2^31`, grid = `B` blocks.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_select(
    frame: FrameParams,
    images: *const ImageParams,
    logits: *const f32,
    boxes: *const f32,
    thresholds: *const f32,
    mapping: *const i32,
    keys: *mut u32,
    scores_out: *mut f32,
    dets: *mut DetRecord,
    det_count: *mut u32,
    counters: *mut FrameCounters,
) {
    let sh = shared_bytes!("rle_select_smem", 25856).cast::<u32>();
    let s = |i: usize| -> *mut u32 { sh.wrapping_add(i) };
    let (t, nt) = (tid(), ntid());
    let b = bid_x();
    let cols = frame.columns;
    let n = frame.queries * cols;
    let k = frame.queries;
    let base = (b as usize) * (n as usize);

    // SAFETY (whole body): indices stay below the sizes in the contract above;
    // shared indices stay below WORDS; barriers are reached by every thread.
    unsafe {
        if b == 0 && t == 0 {
            *counters = FrameCounters::default();
        }
        // Pass 0: scores, keys, histogram of the top byte.
        let mut i = t;
        while i < 256 {
            *s(HIST + i as usize) = 0;
            i += nt;
        }
        sync();
        let mut f = t;
        while f < n {
            let score = sigmoid_cuda(*logits.add(base + f as usize));
            let key = score_key(score);
            *keys.add(base + f as usize) = key;
            if frame.write_scores != 0 {
                *scores_out.add(base + f as usize) = score;
            }
            atomic_add(s(HIST + (key >> 24) as usize), 1);
            f += nt;
        }
        sync();

        // Radix select of the k-th largest key, 8 bits at a time.
        let mut prefix = 0u32;
        let mut remaining = k;
        let mut shift = 24u32;
        loop {
            if t == 0 {
                let mut seen = 0u32;
                let mut bin = 256u32;
                while bin > 0 {
                    bin -= 1;
                    let c = *s(HIST + bin as usize);
                    if seen + c >= remaining {
                        break;
                    }
                    seen += c;
                }
                *s(MISC) = prefix | (bin << shift);
                *s(MISC + 1) = remaining - seen;
            }
            sync();
            prefix = *s(MISC);
            remaining = *s(MISC + 1);
            if shift == 0 {
                break;
            }
            shift -= 8;
            let mut i = t;
            while i < 256 {
                *s(HIST + i as usize) = 0;
                i += nt;
            }
            sync();
            let mut f = t;
            while f < n {
                let key = *keys.add(base + f as usize);
                if (key ^ prefix) >> (shift + 8) == 0 {
                    atomic_add(s(HIST + ((key >> shift) & 0xFF) as usize), 1);
                }
                f += nt;
            }
            sync();
        }
        let kth = prefix;
        let need_eq = remaining;

        // Gather the k winners (unordered), in one pass over flat order.
        let mut selected = 0u32;
        let mut eq_seen = 0u32;
        let mut start = 0u32;
        while start < n {
            let f = start + t;
            let key = if f < n { *keys.add(base + f as usize) } else { 0 };
            let gt = f < n && key > kth;
            let eq = f < n && key == kth;
            let (pre, tot) = block_exclusive_scan(u32::from(gt) | (u32::from(eq) << 16), s(SCAN));
            let (gt_pre, eq_pre) = (pre & 0xFFFF, pre >> 16);
            let eq_taken_before = (eq_seen + eq_pre).min(need_eq) - eq_seen.min(need_eq);
            if gt || (eq && eq_seen + eq_pre < need_eq) {
                let pos = (selected + gt_pre + eq_taken_before) as usize;
                *s(SEL_KEY + pos) = key;
                *s(SEL_FLAT + pos) = f;
            }
            selected += (tot & 0xFFFF) + (eq_seen + (tot >> 16)).min(need_eq) - eq_seen.min(need_eq);
            eq_seen += tot >> 16;
            start += nt;
        }
        sync();

        // Rank of every winner = number of winners that rank before it.
        let mut i = t;
        while i < k {
            let (ki, fi) = (*s(SEL_KEY + i as usize), *s(SEL_FLAT + i as usize));
            let mut rank = 0u32;
            for j in 0..k {
                rank += u32::from(ranks_before(*s(SEL_KEY + j as usize), *s(SEL_FLAT + j as usize), ki, fi));
            }
            *s(ORDER + rank as usize) = i;
            i += nt;
        }
        sync();

        // Validity, threshold, compaction in rank order, cap, boxes.
        let img = &*images.add(b as usize);
        let mut kept = 0u32;
        let mut start = 0u32;
        while start < k {
            let r = start + t;
            let mut keep = false;
            let mut rec = DetRecord::default();
            if r < k {
                let w = *s(ORDER + r as usize) as usize;
                let (key, f) = (*s(SEL_KEY + w), *s(SEL_FLAT + w));
                let (q, c) = (f / cols, f % cols);
                let class = if frame.mapping_len == 0 {
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
                let score = key_score(key);
                let thr = if frame.threshold_len == 0 {
                    frame.threshold
                } else {
                    let idx = class.clamp(0, frame.threshold_len as i32 - 1);
                    *thresholds.add(idx as usize)
                };
                keep = class >= 0 && score > thr;
                if keep {
                    let bx = boxes.add(((b * frame.queries + q) * 4) as usize);
                    let cxcywh = [*bx, *bx.add(1), *bx.add(2), *bx.add(3)];
                    rec = DetRecord {
                        query: q,
                        column: c,
                        class_id: class,
                        score_bits: score.to_bits(),
                        xyxy: box_xyxy(cxcywh, img),
                        ..DetRecord::default()
                    };
                }
            }
            let (pre, tot) = block_exclusive_scan(u32::from(keep), s(SCAN));
            let pos = kept + pre;
            if keep && pos < frame.max_detections {
                *dets.add((b * frame.queries + pos) as usize) = rec;
            }
            kept += tot;
            start += nt;
        }
        if t == 0 {
            *det_count.add(b as usize) = kept.min(frame.max_detections);
        }
    }
}
