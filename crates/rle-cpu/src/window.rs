//! One detection's mask window (SPEC §2.7a) read once into a contiguous f32
//! buffer, with the bounding box of its pixels `> 0`.
//!
//! Invariants: f16/bf16 logits are widened exactly (`half`, every value is an
//! f32); window pixels outside the `Mh×Mw` source are the zero padding (`0.0`,
//! never `> 0`); the input views may have any strides.

use half::{bf16, f16};
use ndarray::{ArrayView2, ArrayView4, Axis};
use rle_reference::geometry::MaskWindow;
use rle_reference::MaskLogits;

/// Window pixels, row-major `height × width`.
#[derive(Debug)]
pub(crate) struct Window {
    pub(crate) width: usize,
    pub(crate) values: Vec<f32>,
}

impl Window {
    /// Window pixel `(y, x)`.
    #[inline(always)]
    pub(crate) fn at(&self, y: u32, x: u32) -> f32 {
        self.values[y as usize * self.width + x as usize]
    }
}

/// Half-open window rows `[y0, y1)` and columns `[x0, x1)` holding every pixel `> 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Positive {
    pub(crate) y0: u32,
    pub(crate) y1: u32,
    pub(crate) x0: u32,
    pub(crate) x1: u32,
}

/// Reads query `q` of image `b` through `geom`; `None` for the box when no pixel is `> 0`.
pub(crate) fn read(
    masks: &MaskLogits<'_>,
    b: usize,
    q: usize,
    geom: &MaskWindow,
) -> (Window, Option<Positive>) {
    fn plane<'a, T>(m: &ArrayView4<'a, T>, b: usize, q: usize) -> ArrayView2<'a, T> {
        (*m).index_axis_move(Axis(0), b).index_axis_move(Axis(0), q)
    }
    match masks {
        MaskLogits::F32(m) => fill(plane(m, b, q), |v| v, geom),
        MaskLogits::F16(m) => fill(plane(m, b, q), f16::to_f32, geom),
        MaskLogits::Bf16(m) => fill(plane(m, b, q), bf16::to_f32, geom),
    }
}

fn fill<T: Copy>(
    src: ArrayView2<'_, T>,
    widen: impl Fn(T) -> f32,
    geom: &MaskWindow,
) -> (Window, Option<Positive>) {
    let (src_h, src_w) = (src.nrows() as i64, src.ncols() as i64);
    let (h, w) = (geom.height, geom.width);
    let mut values = vec![0f32; h * w];
    // Window columns that lie inside the source; the rest stay zero padding.
    let x_lo = (-geom.left).clamp(0, w as i64) as usize;
    let x_hi = (src_w - geom.left).clamp(x_lo as i64, w as i64) as usize;
    let mut pos: Option<Positive> = None;
    for y in 0..h {
        let sy = y as i64 + geom.top;
        if !(0..src_h).contains(&sy) {
            continue;
        }
        let row = src.row(sy as usize);
        let out = &mut values[y * w..(y + 1) * w];
        for x in x_lo..x_hi {
            let v = widen(row[(x as i64 + geom.left) as usize]);
            out[x] = v;
            if v > 0.0 {
                let (y, x) = (y as u32, x as u32);
                pos = Some(match pos {
                    None => Positive {
                        y0: y,
                        y1: y + 1,
                        x0: x,
                        x1: x + 1,
                    },
                    // Rows are visited in order: y0 is already the smallest.
                    Some(p) => Positive {
                        y0: p.y0,
                        y1: y + 1,
                        x0: p.x0.min(x),
                        x1: p.x1.max(x + 1),
                    },
                });
            }
        }
    }
    (Window { width: w, values }, pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array4;

    #[test]
    fn padding_is_zero_and_the_box_covers_positive_pixels() {
        // 1×1×3×3 source, window shifted one up-left with one zero row/column.
        let src = Array4::from_shape_vec(
            (1, 1, 3, 3),
            vec![-1.0, 2.0, -1.0, -1.0, -1.0, -1.0, 3.0, -1.0, f32::NAN],
        )
        .expect("9 values");
        let geom = MaskWindow {
            top: -1,
            left: -1,
            height: 4,
            width: 4,
        };
        let (win, pos) = read(&MaskLogits::F32(src.view()), 0, 0, &geom);
        assert_eq!(win.at(0, 0), 0.0);
        assert_eq!(win.at(1, 2), 2.0);
        assert_eq!(win.at(3, 1), 3.0);
        assert!(win.at(3, 3).is_nan());
        assert_eq!(
            pos,
            Some(Positive {
                y0: 1,
                y1: 4,
                x0: 1,
                x1: 3
            })
        );
    }
}
