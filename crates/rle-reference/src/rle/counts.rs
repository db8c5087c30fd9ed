//! Boolean masks ⇄ uncompressed COCO counts (SPEC §4.1), plus `area` and `toBbox`.
//!
//! Invariants: pixels are visited column-major (`flat = x*H + y`), so a run that
//! reaches the bottom of column `x` continues at the top of column `x+1` as one run;
//! counts start with the background run (possibly 0) and contain no other 0.

use ndarray::{Array2, ArrayView2};

use super::RleError;
use crate::Size;

/// Column-major run lengths of `mask` (`H×W`, row-major view), as `torch_mask_to_coco_rle`.
pub fn encode(mask: ArrayView2<'_, bool>) -> Vec<u32> {
    let mut counts = Vec::new();
    let mut current = false; // counts[0] is the leading background run
    let mut run: u32 = 0;
    for x in 0..mask.ncols() {
        for y in 0..mask.nrows() {
            let v = mask[[y, x]];
            if v != current {
                counts.push(run);
                run = 0;
                current = v;
            }
            run += 1;
        }
    }
    counts.push(run);
    counts
}

/// Counts of a mask of `total` pixels from its foreground runs, given as sorted,
/// non-overlapping half-open column-major ranges `(start, end)`.
///
/// Runs that touch (`end == next start`, e.g. across a column boundary or a tile edge)
/// merge into one, and empty runs are skipped, so the result is canonical: no 0 count
/// except possibly the first.
pub fn counts_from_runs(runs: &[(u32, u32)], total: u32) -> Result<Vec<u32>, RleError> {
    let mut counts = Vec::with_capacity(2 * runs.len() + 1);
    let mut pos: u32 = 0; // end of the background (or last run) written so far
    let mut open: Option<(u32, u32)> = None; // the foreground run being merged
    for (index, &(start, end)) in runs.iter().enumerate() {
        let floor = open.map_or(pos, |(_, e)| e);
        if start > end || start < floor || end > total {
            return Err(RleError::InvalidRun {
                index,
                start,
                end,
                total,
            });
        }
        if start == end {
            continue;
        }
        open = match open {
            Some((s, e)) if e == start => Some((s, end)),
            Some((s, e)) => {
                counts.push(s - pos);
                counts.push(e - s);
                pos = e;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    if let Some((s, e)) = open {
        counts.push(s - pos);
        counts.push(e - s);
        pos = e;
    }
    if pos < total || counts.is_empty() {
        counts.push(total - pos);
    }
    Ok(counts)
}

/// The `H×W` mask (row-major array) described by `counts`; the counts must sum to `H*W`.
pub fn decode(counts: &[u32], size: Size) -> Result<Array2<bool>, RleError> {
    let (h, w) = (size.height as usize, size.width as usize);
    let expected = h as u64 * w as u64;
    let sum: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    if sum != expected {
        return Err(RleError::SumMismatch { sum, expected });
    }
    let mut mask = Array2::from_elem((h, w), false);
    let mut flat = 0usize;
    for (i, &c) in counts.iter().enumerate() {
        let end = flat + c as usize;
        if i % 2 == 1 {
            for p in flat..end {
                mask[[p % h, p / h]] = true;
            }
        }
        flat = end;
    }
    Ok(mask)
}

/// Foreground pixel count (sum of the odd-indexed counts), as pycocotools `area`.
pub fn area(counts: &[u32]) -> u64 {
    counts
        .iter()
        .skip(1)
        .step_by(2)
        .map(|&c| u64::from(c))
        .sum()
}

/// pycocotools `toBbox`: `[x, y, w, h]` of the foreground, `[0, 0, 0, 0]` when there is
/// no foreground run.
///
/// Follows `rleToBbox` literally, including its unsigned wrap-around arithmetic: a
/// run that spans a column boundary widens the box to the full height.
pub fn to_bbox(counts: &[u32], size: Size) -> [f64; 4] {
    let (h, w) = (size.height, size.width);
    let m = counts.len() / 2 * 2;
    if m == 0 || h == 0 || w == 0 {
        return [0.0; 4];
    }
    let (mut xs, mut ys, mut xe, mut ye) = (w, h, 0u32, 0u32);
    let mut cc: u32 = 0;
    let mut xp: u32 = 0;
    for (j, &count) in counts[..m].iter().enumerate() {
        cc = cc.wrapping_add(count);
        let t = cc.wrapping_sub((j % 2) as u32);
        let y = t % h;
        let x = (t - y) / h;
        if j % 2 == 0 {
            xp = x;
        } else if xp < x {
            ys = 0;
            ye = h - 1;
        }
        xs = xs.min(x);
        xe = xe.max(x);
        ys = ys.min(y);
        ye = ye.max(y);
    }
    [
        f64::from(xs),
        f64::from(ys),
        f64::from(xe) - f64::from(xs) + 1.0,
        f64::from(ye) - f64::from(ys) + 1.0,
    ]
}
