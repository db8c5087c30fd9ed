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
//! - Uniform segments: consecutive rows reading the same taps whose horizontal
//!   values share a decided sign (`rle_kernels::uniform::group_class`: none
//!   `> 0`, or all in `[bound, 2^32]`) are background or foreground with no
//!   vertical pass, exactly (the argument is in `rle_kernels::uniform`, the
//!   GPU's count pass uses it too); the other rows are evaluated one by one.
//! - Runs are half-open canvas flat ranges in increasing order; a run ending at
//!   the bottom of a column and one starting at the top of the next touch, and
//!   `counts_from_runs` merges touching runs, so they become one count (§4.1).

use rle_kernels::abi::TapSpan;
use rle_kernels::tables::{horizontal, vertical};
use rle_kernels::uniform::{group_class, shortcuts_allowed, BACKGROUND, FOREGROUND, MIXED};
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
    let runs = positive.map_or_else(Vec::new, |p| runs(win, p, plan, tables).runs);
    let total = plan.canvas.height * plan.canvas.width;
    let counts = counts_from_runs(&runs, total)
        .expect("runs are sorted, disjoint and inside the canvas by construction");
    compress(&counts)
}

/// What walking one detection's ROI found.
#[derive(Debug, Default)]
struct Walked {
    /// Foreground runs: half-open canvas flat ranges, increasing.
    runs: Vec<(u32, u32)>,
    /// Rows decided by uniform segments without a vertical pass (read by the
    /// unit test that proves the shortcut runs; one add per segment).
    #[cfg_attr(not(test), allow(dead_code))]
    decided: u64,
}

/// Foreground runs of the ROI spanned by the positive box `p`.
fn runs(win: &Window, p: Positive, plan: &ImagePlan, tables: &TableSet) -> Walked {
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
fn runs_fma(win: &Window, p: Positive, plan: &ImagePlan, tables: &TableSet) -> Walked {
    runs_any(win, p, plan, tables)
}

/// Dispatches on the resize arithmetic once per detection, so the per-pixel
/// loops carry no mode branch.
#[inline(always)]
fn runs_any(win: &Window, p: Positive, plan: &ImagePlan, tables: &TableSet) -> Walked {
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
) -> Walked {
    let (yt, xt) = (tables.get(plan.ytab), tables.get(plan.xtab));
    let (Some((i0, i1)), Some((j0, j1))) = (yt.reaching(p.y0, p.y1), xt.reaching(p.x0, p.x1))
    else {
        return Walked::default();
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
    // Segments of rows reading the same taps: `[start, end)` indices of `rows`.
    let mut segments = Vec::new();
    let mut start = 0;
    for k in 1..=rows.len() {
        if k == rows.len() || rows[k].span != rows[start].span {
            segments.push((start, k));
            start = k;
        }
    }
    let shortcut = shortcuts_allowed(plan.fg_bound);
    let mut hcol = vec![0f32; (sy1 - sy0) as usize];
    let canvas_h = plan.canvas.height;
    let mut runs = Vec::new();
    let mut decided = 0u64;
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
        // A run opens at the first foreground row after a background one and
        // closes at the next background row, whichever way each was decided.
        let mut set = |fg: bool, flat: u32, open: &mut Option<u32>| match (fg, *open) {
            (true, None) => *open = Some(flat),
            (false, Some(start)) => {
                runs.push((start, flat));
                *open = None;
            }
            _ => {}
        };
        let mut seg = segments.partition_point(|&(_, end)| end <= a);
        let mut k = a;
        while k < b {
            let end = segments[seg].1.min(b);
            let span = rows[k].span;
            let class = if shortcut {
                group_class(
                    span,
                    span,
                    BILINEAR,
                    win_h,
                    (sy0, sy1 - sy0),
                    plan.fg_bound,
                    |r| hcol[r as usize],
                )
            } else {
                MIXED
            };
            if class == MIXED {
                for (kk, r) in rows.iter().enumerate().take(end).skip(k) {
                    let v = vertical(BILINEAR, r.span, r.weights, win_h, |sy| {
                        hcol[(sy - sy0) as usize]
                    });
                    set(v > plan.fg_threshold, base + kk as u32, &mut open);
                }
            } else {
                debug_assert!(class == FOREGROUND || class == BACKGROUND);
                set(class == FOREGROUND, base + k as u32, &mut open);
                decided += (end - k) as u64;
            }
            k = end;
            seg += 1;
        }
        if let Some(start) = open {
            runs.push((start, base + b as u32));
        }
    }
    Walked { runs, decided }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window;
    use rle_fixtures::{generate, random_recipe, Limits};

    /// Every query of random frames (both resize modes, every dtype, pads and
    /// canvases as `random_recipe` draws them), walked with uniform segments
    /// and without: the same runs, and the shortcut decides rows only when on.
    /// (Equality with the reference is the integration tests' job.)
    #[test]
    fn uniform_segments_change_no_run_and_decide_rows() {
        let (mut decided, mut walked, mut masks) = (0u64, 0u64, 0usize);
        for seed in 0..120u64 {
            let limits = if seed % 6 == 5 {
                Limits::default()
            } else {
                Limits::small()
            };
            let (recipe, metas, opts) = random_recipe(0xC0FF_EE00 ^ seed, &limits);
            let data = generate(&recipe);
            let batch = data.batch();
            let mut tables = TableSet::default();
            let [_, queries, _, _] = batch.masks.shape();
            for (b, meta) in metas.iter().enumerate() {
                let plan = ImagePlan::new(&batch.masks, meta, &opts, &mut tables);
                let off = ImagePlan {
                    fg_bound: f32::NAN,
                    ..plan
                };
                for q in 0..queries {
                    let (win, positive) = window::read(&batch.masks, b, q, &plan.window);
                    let Some(p) = positive else { continue };
                    let on = runs(&win, p, &plan, &tables);
                    let without = runs(&win, p, &off, &tables);
                    assert_eq!(on.runs, without.runs, "seed {seed} image {b} query {q}");
                    assert_eq!(
                        without.decided, 0,
                        "seed {seed}: decided with the shortcut off"
                    );
                    decided += on.decided;
                    walked += 1;
                }
                masks += queries;
            }
        }
        assert!(walked > 100, "{walked} of {masks} masks had a positive box");
        assert!(decided > 0, "no row was decided by a uniform segment");
        println!("{walked} masks walked both ways, {decided} rows decided without a vertical pass");
    }
}
