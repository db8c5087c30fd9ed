//! Antialiased bilinear resize as the CUDA kernel computes it (SPEC §3.2–§3.4).
//!
//! Invariants:
//! - [`AxisTable`] reproduces §3.3 bit for bit: `scale = f32(n)/f32(m)`, the two
//!   contracted FMAs for the span (`lo`, `hi`) and the contracted `mc`, truncation
//!   toward zero, the triangle filter, left-to-right total, IEEE division.
//! - [`resize_antialiased`] is separable, horizontal pass first, each pass a product
//!   then an FMA chain in tap order, the horizontal result rounded to f32 (§3.4).
//!   Zero-weight taps are never skipped: `inf·0 = NaN` must reach the output.
//! - Same size on both axes returns the input unchanged (torchvision's early return,
//!   §2.7b); same size on one axis still runs the arithmetic (weights `(1, 0)`).

use ndarray::{Array2, ArrayView2};

/// Per-axis weights of the antialiased resize, `n` inputs → `m` outputs (§3.3).
#[derive(Debug, Clone, PartialEq)]
pub struct AxisTable {
    /// Input length `n`.
    pub input_len: usize,
    /// First source index (`xmin`) of each output.
    pub start: Vec<u32>,
    /// Number of taps (`xsize`) of each output.
    pub len: Vec<u32>,
    /// Row stride of `weights`: `2*ceil(support) + 1`, the kernel's buffer size, which
    /// bounds every `len`.
    pub stride: usize,
    /// `weights[i*stride + j]` is tap `j` of output `i` for `j < len[i]`; the rest are 0.
    pub weights: Vec<f32>,
}

/// The per-axis parameters of §3.2: `(scale, support, invscale)`.
pub fn axis_params(n: usize, m: usize) -> (f32, f32, f32) {
    let scale = n as f32 / m as f32;
    if scale >= 1.0 {
        // invscale: double division, then one rounding to f32.
        (scale, scale, (1.0 / f64::from(scale)) as f32)
    } else {
        (scale, 1.0, 1.0)
    }
}

/// `2*ceil(support) + 1`: taps the CUDA kernel reserves per output on one axis.
pub fn interp_size(n: usize, m: usize) -> usize {
    let (_, support, _) = axis_params(n, m);
    2 * support.ceil() as usize + 1
}

/// The bilinear (triangle) filter `1 − |a|` on `|a| < 1`.
fn triangle(a: f32) -> f32 {
    let a = a.abs();
    if a < 1.0 {
        1.0 - a
    } else {
        0.0
    }
}

impl AxisTable {
    /// Builds the table of one axis (`n ≥ 1` inputs, `m ≥ 1` outputs).
    pub fn new(n: usize, m: usize) -> Self {
        let (scale, support, invscale) = axis_params(n, m);
        let stride = interp_size(n, m);
        let mut start = Vec::with_capacity(m);
        let mut len = Vec::with_capacity(m);
        let mut weights = vec![0.0f32; m * stride];
        for i in 0..m {
            let p = i as f32 + 0.5;
            // nvcc contracts `center ∓ support` and `xmin − center` into FMAs (§3.3).
            let lo = scale.mul_add(p, -support);
            let hi = scale.mul_add(p, support);
            // `as i32` truncates toward zero, like the C cast.
            let xmin = ((lo + 0.5) as i32).max(0);
            let xend = ((hi + 0.5) as i32).min(n as i32);
            let xsize = (xend - xmin).max(0) as usize;
            assert!(
                xsize <= stride,
                "span of {xsize} taps exceeds the kernel's {stride} slots"
            );
            let mc = (-scale).mul_add(p, xmin as f32);
            let row = &mut weights[i * stride..i * stride + xsize];
            let mut total = 0.0f32;
            for (j, w) in row.iter_mut().enumerate() {
                let a = ((j as f32 + mc) + 0.5) * invscale;
                *w = triangle(a);
                total += *w;
            }
            if total != 0.0 {
                for w in row.iter_mut() {
                    *w /= total;
                }
            }
            start.push(xmin as u32);
            len.push(xsize as u32);
        }
        Self {
            input_len: n,
            start,
            len,
            stride,
            weights,
        }
    }

    /// Number of outputs `m`.
    pub fn output_len(&self) -> usize {
        self.start.len()
    }

    /// The taps of output `i`: `(first source index, weights)`.
    pub fn taps(&self, i: usize) -> (usize, &[f32]) {
        let base = i * self.stride;
        (
            self.start[i] as usize,
            &self.weights[base..base + self.len[i] as usize],
        )
    }
}

/// "Product, then FMA chain in tap order" over `values[k]·weights[k]` (§3.4).
/// An empty span gives 0 (cannot happen for valid sizes).
fn weighted_sum(mut values: impl Iterator<Item = f32>, weights: &[f32]) -> f32 {
    let mut w = weights.iter();
    let (Some(v0), Some(w0)) = (values.next(), w.next()) else {
        return 0.0;
    };
    let mut acc = v0 * w0;
    for (v, w) in values.zip(w) {
        acc = v.mul_add(*w, acc);
    }
    acc
}

/// Resizes `src` (`h×w`) to `out_h×out_w` with the CUDA antialiased bilinear kernel.
pub fn resize_antialiased(src: ArrayView2<'_, f32>, out_h: usize, out_w: usize) -> Array2<f32> {
    let (h, w) = src.dim();
    if (h, w) == (out_h, out_w) {
        return src.to_owned();
    }
    let tx = AxisTable::new(w, out_w);
    let ty = AxisTable::new(h, out_h);
    resize_with_tables(src, &ty, &tx)
}

/// The two passes of §3.4 with precomputed tables (`ty`: rows, `tx`: columns).
pub fn resize_with_tables(src: ArrayView2<'_, f32>, ty: &AxisTable, tx: &AxisTable) -> Array2<f32> {
    let (h, out_w) = (src.nrows(), tx.output_len());
    // hrow[r][ox] depends only on (source row, output column), so computing it once per
    // source row is bit-identical to the kernel recomputing it per output pixel.
    let hrow = Array2::from_shape_fn((h, out_w), |(r, ox)| {
        let (x0, wx) = tx.taps(ox);
        weighted_sum((0..wx.len()).map(|c| src[[r, x0 + c]]), wx)
    });
    Array2::from_shape_fn((ty.output_len(), out_w), |(oy, ox)| {
        let (y0, wy) = ty.taps(oy);
        weighted_sum((0..wy.len()).map(|r| hrow[[y0 + r, ox]]), wy)
    })
}
