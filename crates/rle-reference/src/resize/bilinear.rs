//! Plain bilinear resize (`antialias=False`, `align_corners=False`), CUDA's
//! `upsample_bilinear2d_out_frame` (SPEC §3.9).
//!
//! The formula is fixed; how nvcc contracted its multiply-adds into FMAs is not
//! known (SPEC §9 Q5). [`BilinearVariant`] makes that choice explicit so that
//! `tests/resize_raw.rs` can try every candidate against PyTorch-on-CUDA dumps;
//! [`BilinearVariant::DEFAULT`] is the guess used by the pipeline.
//!
//! Same size on both axes: PyTorch's host code (`upsample_bilinear2d_out_cuda_template`)
//! returns `output.copy_(input)` when `input.sizes() == output.sizes()`, before any
//! arithmetic. The default follows that source; the literal formula instead turns a
//! neighbouring inf into NaN (`0·inf`), which the raw-dump fixture distinguishes.

use ndarray::{Array2, ArrayView2};

/// How `a*b + c*d` is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contraction {
    /// Two rounded products, then a rounded sum.
    Unfused,
    /// `fma(a, b, c*d)`: the first product is fused.
    FuseFirst,
    /// `fma(c, d, a*b)`: the second product is fused.
    FuseSecond,
}

impl Contraction {
    /// `a*b + c*d` under this contraction.
    pub fn eval(self, a: f32, b: f32, c: f32, d: f32) -> f32 {
        match self {
            Contraction::Unfused => a * b + c * d,
            Contraction::FuseFirst => a.mul_add(b, c * d),
            Contraction::FuseSecond => c.mul_add(d, a * b),
        }
    }

    /// Every contraction.
    pub const ALL: [Contraction; 3] = [
        Contraction::Unfused,
        Contraction::FuseFirst,
        Contraction::FuseSecond,
    ];
}

/// One hypothesis about the CUDA kernel's rounding (SPEC §9 Q5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BilinearVariant {
    /// `src = scale*(i + 0.5) - 0.5` as `fma(scale, i+0.5, -0.5)` (true) or product then sum.
    pub fused_source_index: bool,
    /// The inner, horizontal sums `λ0x·v00 + λ1x·v01`.
    pub inner: Contraction,
    /// The outer sum `λ0y·inner0 + λ1y·inner1`.
    pub outer: Contraction,
    /// Return the input unchanged when the size does not change (PyTorch's host-side copy).
    pub same_size_copy: bool,
}

impl BilinearVariant {
    /// The variant the pipeline uses: fused source index, first products fused,
    /// same-size copy (see the module header).
    pub const DEFAULT: BilinearVariant = BilinearVariant {
        fused_source_index: true,
        inner: Contraction::FuseFirst,
        outer: Contraction::FuseFirst,
        same_size_copy: true,
    };

    /// Every combination of contractions (18), with the given same-size behaviour.
    pub fn candidates(same_size_copy: bool) -> Vec<BilinearVariant> {
        let mut all = Vec::new();
        for fused_source_index in [true, false] {
            for inner in Contraction::ALL {
                for outer in Contraction::ALL {
                    all.push(BilinearVariant {
                        fused_source_index,
                        inner,
                        outer,
                        same_size_copy,
                    });
                }
            }
        }
        all
    }
}

/// Per-output sampling of one axis: `(i0, i1, λ0, λ1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BilinearTap {
    /// Lower source index.
    pub i0: usize,
    /// Upper source index (`i0 + 1`, or `i0` at the last source index).
    pub i1: usize,
    /// Weight of `i0`.
    pub l0: f32,
    /// Weight of `i1`.
    pub l1: f32,
}

/// The taps of one axis, `n` inputs → `m` outputs (`area_pixel_compute_source_index`).
pub fn bilinear_axis(n: usize, m: usize, fused_source_index: bool) -> Vec<BilinearTap> {
    let scale = n as f32 / m as f32;
    (0..m)
        .map(|i| {
            let p = i as f32 + 0.5;
            let src = if fused_source_index {
                scale.mul_add(p, -0.5)
            } else {
                scale * p - 0.5
            };
            let src = if src < 0.0 { 0.0 } else { src };
            let i0 = src as i32;
            let i1 = i0 + i32::from(i0 < n as i32 - 1);
            let l1 = src - i0 as f32;
            BilinearTap {
                i0: i0 as usize,
                i1: i1 as usize,
                l0: 1.0 - l1,
                l1,
            }
        })
        .collect()
}

/// Resizes `src` to `out_h×out_w` with plain bilinear under `variant`.
pub fn resize_bilinear_with(
    src: ArrayView2<'_, f32>,
    out_h: usize,
    out_w: usize,
    variant: BilinearVariant,
) -> Array2<f32> {
    let (h, w) = src.dim();
    if variant.same_size_copy && (h, w) == (out_h, out_w) {
        return src.to_owned();
    }
    let ty = bilinear_axis(h, out_h, variant.fused_source_index);
    let tx = bilinear_axis(w, out_w, variant.fused_source_index);
    Array2::from_shape_fn((out_h, out_w), |(oy, ox)| {
        let (y, x) = (ty[oy], tx[ox]);
        let inner0 = variant
            .inner
            .eval(x.l0, src[[y.i0, x.i0]], x.l1, src[[y.i0, x.i1]]);
        let inner1 = variant
            .inner
            .eval(x.l0, src[[y.i1, x.i0]], x.l1, src[[y.i1, x.i1]]);
        variant.outer.eval(y.l0, inner0, y.l1, inner1)
    })
}

/// Resizes with [`BilinearVariant::DEFAULT`].
pub fn resize_bilinear(src: ArrayView2<'_, f32>, out_h: usize, out_w: usize) -> Array2<f32> {
    resize_bilinear_with(src, out_h, out_w, BilinearVariant::DEFAULT)
}
