//! Walking a column-major index in fixed strides without dividing.
//!
//! The mask passes visit ROI positions `k, k + s, k + 2s, …` (one thread's
//! pixels of a tile, `s` the block size) and need each one's column and row,
//! `(k / rows, k % rows)`. A 32-bit division by a value known only at run
//! time is a few dozen instructions on the GPU, about as many as the pixel's
//! vertical pass, so the passes divide once per walk (the stride's own
//! quotient and remainder) and once per thread's first position, then step.
//! The host tests below pin the step to the division it replaces.

/// A position `(col, row)` of a column-major grid of `rows` rows, and the
/// stride it advances by, split once into whole columns and leftover rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridStep {
    /// Rows per column (≥ 1).
    pub rows: u32,
    /// `stride / rows`.
    pub cols_per_step: u32,
    /// `stride % rows`.
    pub rows_per_step: u32,
}

impl GridStep {
    /// The step of `stride` positions on a grid of `rows` rows (`rows` ≥ 1;
    /// 0 counts as 1).
    #[inline(always)]
    pub fn new(rows: u32, stride: u32) -> Self {
        let rows = rows.max(1);
        GridStep {
            rows,
            cols_per_step: stride / rows,
            rows_per_step: stride % rows,
        }
    }

    /// `(k / rows, k % rows)`, with `k = u32::MAX` standing for position −1:
    /// column `u32::MAX` (−1, wrapping) and row `rows − 1`, so that stepping
    /// from it lands on `stride − 1` (the walks' "pixel before the tile").
    #[inline(always)]
    pub fn at(&self, k: u32) -> (u32, u32) {
        if k == u32::MAX {
            (u32::MAX, self.rows - 1)
        } else {
            (k / self.rows, k % self.rows)
        }
    }

    /// The position `stride` further on: `row + rows_per_step < 2·rows`, so
    /// one conditional carry into the column suffices. Column arithmetic
    /// wraps (from −1), as the index it stands for does.
    #[inline(always)]
    pub fn next(&self, (col, row): (u32, u32)) -> (u32, u32) {
        let mut row = row + self.rows_per_step;
        let mut col = col.wrapping_add(self.cols_per_step);
        if row >= self.rows {
            row -= self.rows;
            col = col.wrapping_add(1);
        }
        (col, row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Walks `steps` strides from `k0` and checks every position against the
    /// division, as the passes use it (wrapping index, −1 allowed as start).
    fn check(rows: u32, stride: u32, k0: u32, steps: u32) {
        let g = GridStep::new(rows, stride);
        let rows = rows.max(1);
        let mut p = g.at(k0);
        let mut k = k0;
        for _ in 0..steps {
            if k != u32::MAX {
                assert_eq!(p, (k / rows, k % rows), "rows {rows} stride {stride} k {k}");
            }
            p = g.next(p);
            let Some(n) = k
                .checked_add(stride)
                .or((k == u32::MAX).then(|| stride - 1))
            else {
                return;
            };
            k = n;
        }
    }

    #[test]
    fn edge_cases_match_division() {
        for rows in [1, 2, 3, 7, 255, 256, 257, 1080, 2160, 65_535, 1 << 20] {
            for stride in [1, 31, 255, 256, 257, 1024, 2048] {
                check(rows, stride, 0, 600);
                check(rows, stride, u32::MAX, 600);
                check(rows, stride, rows - 1, 600);
                check(rows, stride, 12_345, 600);
            }
        }
        // Near the end of the 32-bit index range (largest canvases).
        check(65_535, 256, u32::MAX - 256 * 40, 39);
    }

    proptest! {
        #[test]
        fn stepping_matches_division(rows in 1u32..5000, stride in 1u32..4096, k0 in 0u32..10_000_000, steps in 1u32..64) {
            check(rows, stride, k0, steps);
        }
    }
}
