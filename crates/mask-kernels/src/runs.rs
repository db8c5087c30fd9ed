//! Arithmetic on run ends shared by the kernels and the host: where a pixel's
//! run is, how much foreground lies before a pixel, the bounding box of a
//! run, clamping and status rules, and the IoU quotient. The device runs
//! exactly these functions; the tests below check them on the host against
//! `rle-reference` (the CPU RLE utilities) on fixtures and random masks.
//!
//! Conventions: pixels are numbered column-major (`p = x * H + y`) as in COCO
//! RLE; `ends[k]` is the pixel just past run `k` (the prefix sum of the
//! counts); run `k` is foreground when `k` is odd. Every function is total:
//! on malformed input it returns a clamped value, never panics (a panic on
//! the device would be a `trap`).

use crate::abi::status;

/// A mask's counts span in `counts`, clamped so that it never leaves the
/// array: `(start, end, status bits)`.
#[inline(always)]
pub fn span(offset: u32, next: u32, counts_len: u32) -> (u32, u32, u32) {
    let start = offset.min(counts_len);
    let end = next.clamp(start, counts_len);
    let bad = offset > next || next > counts_len;
    (start, end, if bad { status::BAD_OFFSETS } else { 0 })
}

/// A prefix sum clamped to the mask's `total` pixels, so a malformed mask's
/// run ends still index inside it.
#[inline(always)]
pub fn clamp_end(sum: u64, total: u32) -> u32 {
    if sum > u64::from(total) {
        total
    } else {
        sum as u32
    }
}

/// Status bits of a mask whose counts sum to `sum` over `total` pixels.
#[inline(always)]
pub fn sum_status(sum: u64, total: u32) -> u32 {
    match sum.cmp(&u64::from(total)) {
        core::cmp::Ordering::Less => status::SUM_SHORT,
        core::cmp::Ordering::Equal => 0,
        core::cmp::Ordering::Greater => status::SUM_LONG,
    }
}

/// The run holding pixel `p`: the first `k` with `ends[k] > p`, or
/// `ends.len()` when `p` is past every run. `ends` must be non-decreasing
/// (prefix sums are; clamped ones too). Binary search: `O(log runs)`.
#[inline(always)]
pub fn run_at(ends: &[u32], p: u32) -> usize {
    let (mut lo, mut hi) = (0usize, ends.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        // `get` rather than indexing: no bounds-check trap in the PTX.
        if ends.get(mid).is_none_or(|&e| e > p) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Whether pixel `p` (column-major) is foreground.
#[inline(always)]
pub fn is_foreground(ends: &[u32], p: u32) -> bool {
    let k = run_at(ends, p);
    k < ends.len() && k % 2 == 1
}

/// Foreground pixels in `[0, p)` of a mask with run `ends`, foreground
/// before each run `fg_before`, and `area` foreground pixels in all.
#[inline(always)]
pub fn foreground_before(ends: &[u32], fg_before: &[u32], area: u32, p: u32) -> u32 {
    let k = run_at(ends, p);
    let Some(&before) = fg_before.get(k) else {
        return area;
    };
    if k >= ends.len() {
        return area;
    }
    let start = if k == 0 {
        0
    } else {
        ends.get(k - 1).copied().unwrap_or(0)
    };
    before
        + if k % 2 == 1 {
            p.saturating_sub(start)
        } else {
            0
        }
}

/// The row-major output index `o` of an `h × w` mask as a column-major
/// pixel. `o < h * w < 2^32`, so nothing overflows.
#[inline(always)]
pub fn column_major(o: u32, h: u32, w: u32) -> u32 {
    // `checked_div`: a zero width (the caller returns before) must not
    // compile to a division-by-zero trap.
    let y = o.checked_div(w).unwrap_or(0);
    let x = o - y * w;
    x * h + y
}

/// IoU of two masks from their intersection and areas (pycocotools' `iou`
/// without crowd: `inter / (a + b - inter)`); 0 when both are empty. The
/// quotient is one IEEE division, the same on the host and the GPU.
#[inline(always)]
pub fn iou(inter: u64, area_a: u32, area_b: u32) -> f64 {
    let union = u64::from(area_a) + u64::from(area_b) - inter.min(u64::from(area_a.min(area_b)));
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// An inclusive pixel rectangle, accumulated run by run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    /// Leftmost column.
    pub x0: u32,
    /// Top row.
    pub y0: u32,
    /// Rightmost column (inclusive).
    pub x1: u32,
    /// Bottom row (inclusive).
    pub y1: u32,
}

impl Extent {
    /// Holds nothing; the identity of [`Extent::union`].
    pub const EMPTY: Extent = Extent {
        x0: u32::MAX,
        y0: u32::MAX,
        x1: 0,
        y1: 0,
    };

    /// Whether no pixel was added.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.x0 > self.x1
    }

    /// The rectangle of the non-empty run `[start, end)` of a mask of
    /// `height` rows (nothing when `height` is 0 or the run is empty). A
    /// run that crosses a column boundary covers the bottom of one column
    /// and the top of the next, hence every row.
    #[inline(always)]
    pub fn of_run(start: u32, end: u32, height: u32) -> Extent {
        if height == 0 || end <= start {
            return Extent::EMPTY;
        }
        let last = end - 1;
        // Checked forms compile without a division-by-zero trap.
        let (xs, xe) = (start.checked_div(height), last.checked_div(height));
        let (Some(xs), Some(xe)) = (xs, xe) else {
            return Extent::EMPTY;
        };
        let (ys, ye) = (start - xs * height, last - xe * height);
        if xs == xe {
            Extent {
                x0: xs,
                y0: ys,
                x1: xe,
                y1: ye,
            }
        } else {
            Extent {
                x0: xs,
                y0: 0,
                x1: xe,
                y1: height - 1,
            }
        }
    }

    /// The smallest rectangle holding both.
    #[inline(always)]
    pub fn union(self, o: Extent) -> Extent {
        Extent {
            x0: self.x0.min(o.x0),
            y0: self.y0.min(o.y0),
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
        }
    }

    /// `[x, y, w, h]`, zeros when empty (pycocotools `toBbox`).
    #[inline(always)]
    pub fn xywh(self) -> [u32; 4] {
        if self.is_empty() {
            [0; 4]
        } else {
            [
                self.x0,
                self.y0,
                self.x1 - self.x0 + 1,
                self.y1 - self.y0 + 1,
            ]
        }
    }

    /// Whether two `[x, y, w, h]` boxes share a pixel (empty boxes share none).
    #[inline(always)]
    pub fn boxes_overlap(a: [u32; 4], b: [u32; 4]) -> bool {
        let axis = |a0: u32, al: u32, b0: u32, bl: u32| {
            al > 0
                && bl > 0
                && u64::from(a0) < u64::from(b0) + u64::from(bl)
                && u64::from(b0) < u64::from(a0) + u64::from(al)
        };
        axis(a[0], a[2], b[0], b[2]) && axis(a[1], a[3], b[1], b[3])
    }
}

#[cfg(test)]
mod tests;
