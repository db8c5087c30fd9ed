//! One detection's mask, straight to its COCO string: evaluate only the ROI,
//! column by column in canvas column-major order, collect foreground runs.
//!
//! Invariants:
//! - ROI: the output rows/columns whose spans reach the window's positive box.
//!   Every other pixel is background: all weights are ≥ 0, so a sum of taps that
//!   are all `≤ 0` or NaN is `≤ 0` or NaN under any rounding (SPEC §7).
//! - Pixel values come from `rle_kernels::tables::{horizontal, vertical}`, the
//!   GPU's (and the reference's) arithmetic; the horizontal pass of a (source
//!   row, output column) is computed once per column and shared by its rows,
//!   which is bit-identical (SPEC §3.4). A column whose horizontal values are all
//!   `≤ 0` or NaN is skipped by the same argument.
//! - Runs are half-open canvas flat ranges in increasing order; a run ending at
//!   the bottom of a column and one starting at the top of the next touch, and
//!   `counts_from_runs` merges touching runs, so they become one count (§4.1).

use rle_kernels::abi::TapSpan;
use rle_kernels::tables::{horizontal, vertical};
use rle_reference::rle::{compress, counts_from_runs};

use crate::plan::ImagePlan;
use crate::tables::TableSet;
use crate::window::{Positive, Window};

/// The compressed COCO counts of one detection.
pub(crate) fn encode(
    win: &Window,
    positive: Option<Positive>,
    plan: &ImagePlan,
    tables: &TableSet,
) -> Vec<u8> {
    let runs = positive.map_or_else(Vec::new, |p| runs(win, p, plan, tables));
    let total = plan.canvas.height * plan.canvas.width;
    let counts = counts_from_runs(&runs, total)
        .expect("runs are sorted, disjoint and inside the canvas by construction");
    compress(&counts)
}

/// Foreground runs of the ROI spanned by the positive box `p`.
fn runs(win: &Window, p: Positive, plan: &ImagePlan, tables: &TableSet) -> Vec<(u32, u32)> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the running CPU supports FMA, the only feature `runs_fma` enables.
        return unsafe { runs_fma(win, p, plan, tables) };
    }
    runs_any(win, p, plan, tables)
}

/// [`runs_any`] compiled with hardware FMA: `f32::mul_add` becomes one
/// instruction instead of a library call. Same IEEE fused operation, same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
fn runs_fma(win: &Window, p: Positive, plan: &ImagePlan, tables: &TableSet) -> Vec<(u32, u32)> {
    runs_any(win, p, plan, tables)
}

/// Dispatches on the resize arithmetic once per detection, so the per-pixel
/// loops carry no mode branch.
#[inline(always)]
fn runs_any(win: &Window, p: Positive, plan: &ImagePlan, tables: &TableSet) -> Vec<(u32, u32)> {
    if plan.bilinear {
        walk::<true>(win, p, plan, tables)
    } else {
        walk::<false>(win, p, plan, tables)
    }
}

/// One ROI row: its vertical taps and the last window row they read.
#[derive(Clone, Copy)]
struct Row<'a> {
    span: TapSpan,
    weights: &'a [f32],
    last: u32,
}

#[inline(always)]
fn walk<const BILINEAR: bool>(
    win: &Window,
    p: Positive,
    plan: &ImagePlan,
    tables: &TableSet,
) -> Vec<(u32, u32)> {
    let (yt, xt) = (tables.get(plan.ytab), tables.get(plan.xtab));
    let (Some((i0, i1)), Some((j0, j1))) = (yt.reaching(p.y0, p.y1), xt.reaching(p.x0, p.x1))
    else {
        return Vec::new();
    };
    let (win_h, win_w) = (yt.source_len(), xt.source_len());
    // Window rows read by the ROI's rows: the horizontal values one column needs.
    let (sy0, sy1) = yt.sources(i0, i1);
    let rows: Vec<Row<'_>> = (i0..i1)
        .map(|i| Row {
            span: yt.span(i),
            weights: yt.weights(i),
            last: yt.last_tap(i),
        })
        .collect();
    let mut hcol = vec![0f32; (sy1 - sy0) as usize];
    let canvas_h = plan.canvas.height;
    let mut runs = Vec::new();
    for j in j0..j1 {
        let (xs, xw) = (xt.span(j), xt.weights(j));
        // Window rows of this column whose horizontal value is > 0: `[hy0, hy1)`.
        let (mut hy0, mut hy1) = (u32::MAX, 0);
        for (k, h) in hcol.iter_mut().enumerate() {
            let sy = sy0 + k as u32;
            *h = horizontal(BILINEAR, xs, xw, win_w, sy, |y, x| win.at(y, x));
            if *h > 0.0 {
                hy0 = hy0.min(sy);
                hy1 = sy + 1;
            }
        }
        if hy1 == 0 {
            continue; // every value of this column is ≤ 0 or NaN
        }
        // Only rows whose spans reach `[hy0, hy1)` can be foreground (same
        // argument as the ROI); spans are monotone, so they are one interval.
        let (a, b) = if yt.monotone() {
            (
                rows.partition_point(|r| r.last < hy0),
                rows.partition_point(|r| r.span.first < hy1),
            )
        } else {
            (0, rows.len())
        };
        // Flat canvas index of ROI row 0: `flat = column·H + row` (§0.3).
        let base = (plan.paste_x + j as u32) * canvas_h + plan.paste_y + i0 as u32;
        let mut open: Option<u32> = None;
        for (k, r) in rows.iter().enumerate().take(b).skip(a) {
            let v = vertical(BILINEAR, r.span, r.weights, win_h, |sy| {
                hcol[(sy - sy0) as usize]
            });
            let flat = base + k as u32;
            match (v > plan.fg_threshold, open) {
                (true, None) => open = Some(flat),
                (false, Some(start)) => {
                    runs.push((start, flat));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(start) = open {
            runs.push((start, base + b as u32));
        }
    }
    runs
}
