//! Blob-shaped mask logits and the boxes that match them, in exact integers.
//!
//! Mirrors `blob_params`, `ellipse_field`, `mask_ints`, `half_extents` and
//! `box_ints` of `scripts/synth.py` line by line. Units: positions in quarter
//! pixels of the mask grid (pixel centre `4x + 2`), logits in 1/256, boxes in
//! 2^-20. Floor divisions use `div_euclid` (divisors are always positive), which
//! equals Python's `//`. Magnitudes stay far below 2^63 (see the comments).

use super::hash::{draw, key, pick, uniform, TAG_BLOB, TAG_FLAT, TAG_NOISE};
use super::recipe::MaskMode;

/// Fixed-point radius unit: a point on an ellipse's border has normalised distance `S`.
const S: i64 = 256;
/// Distances beyond 8 radii give the same clamped value (keeps products small).
const Q_CAP: i64 = 64 * S * S;
/// `(cos, sin) = (a/c, b/c)` from Pythagorean triples: rotations without trigonometry.
const ROTATIONS: [(i64, i64, i64); 10] = [
    (1, 0, 1),
    (4, 3, 5),
    (3, 4, 5),
    (0, 1, 1),
    (-3, 4, 5),
    (-4, 3, 5),
    (12, 5, 13),
    (5, 12, 13),
    (-5, 12, 13),
    (-12, 5, 13),
];
/// Aspect ratios `ry = r * num / den`; round blobs repeat so they dominate.
const ELONGATIONS: [(i64, i64); 8] = [
    (1, 1),
    (1, 1),
    (1, 1),
    (3, 2),
    (2, 3),
    (2, 1),
    (1, 2),
    (3, 1),
];
/// Box coordinates are integers in units of `2^-BOX_SHIFT`.
pub(crate) const BOX_SHIFT: i32 = 20;
const BOX_ONE: i64 = 1 << BOX_SHIFT;

/// One rotated ellipse in quarter-pixel units.
#[derive(Debug, Clone, Copy)]
struct Ellipse {
    cx: i64,
    cy: i64,
    rx: i64,
    ry: i64,
    rot: usize,
}

impl Ellipse {
    /// Logit (1/256) at quarter-pixel point `(px, py)`: `g·(1 − d²)` in fixed point.
    /// |du| ≤ 13·(2·4·192·3) < 2^16, so `du·S` < 2^24 and `q` ≤ Q_CAP = 2^22.
    fn field(&self, px: i64, py: i64, g: i64) -> i64 {
        let (a, b, c) = ROTATIONS[self.rot];
        let (dx, dy) = (px - self.cx, py - self.cy);
        let du = a * dx + b * dy;
        let dv = a * dy - b * dx;
        let su = (du * S).div_euclid(c * self.rx);
        let sv = (dv * S).div_euclid(c * self.ry);
        let q = (su * su + sv * sv).min(Q_CAP);
        (g * (S * S - q)).div_euclid(S * S)
    }

    /// Half width and half height (quarter pixels, rounded down) of the rotated ellipse.
    fn half_extents(&self) -> (i64, i64) {
        let (a, b, c) = ROTATIONS[self.rot];
        let hx = ((a * self.rx).pow(2) + (b * self.ry).pow(2)) as u64;
        let hy = ((b * self.rx).pow(2) + (a * self.ry).pow(2)) as u64;
        (hx.isqrt() as i64 / c, hy.isqrt() as i64 / c)
    }
}

/// The shape parameters of one slot (`s = b·Q + q`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Blob {
    first: Ellipse,
    second: Option<Ellipse>,
    /// Logit at the centre (1/256).
    g: i64,
    /// Values are clamped below at `-neg` (1/256).
    neg: i64,
    /// Per-pixel noise amplitude (1/256).
    noise: i64,
    /// Box centre jitter (2^-20).
    jx: i64,
    jy: i64,
}

impl Blob {
    /// Draws slot `slot`'s parameters for an `mh × mw` grid (`blob_params` in Python).
    pub(crate) fn new(seed: u64, slot: u64, mh: usize, mw: usize, mode: MaskMode) -> Self {
        let k = key(seed, TAG_BLOB);
        let base = slot * 16;
        let (mh, mw) = (mh as i64, mw as i64);
        let mn = mh.min(mw);
        let rmin = (mn / 6).max(6);
        let rmax = mn.max(rmin);
        let u = |j: u64, lo: i64, hi: i64| uniform(k, base + j, lo, hi);
        let mut two = draw(k, base).is_multiple_of(4);
        let cx1 = u(1, 0, 4 * mw - 1);
        let cy1 = u(2, 0, 4 * mh - 1);
        let r = u(3, rmin, rmax);
        let (num, den) = ELONGATIONS[pick(k, base + 4, ELONGATIONS.len())];
        let rot1 = pick(k, base + 5, ROTATIONS.len());
        let g = u(6, 2 * 256, 8 * 256);
        let neg = u(7, 12 * 256, 30 * 256);
        let noise = u(8, 0, 64);
        let dx2 = u(9, -2 * r, 2 * r);
        let dy2 = u(10, -2 * r, 2 * r);
        let r2 = u(11, (r / 2).max(4), r);
        let rot2 = pick(k, base + 12, ROTATIONS.len());
        let (num2, den2) = ELONGATIONS[pick(k, base + 13, ELONGATIONS.len())];
        let jx = u(14, -(BOX_ONE >> 8), BOX_ONE >> 8);
        let jy = u(15, -(BOX_ONE >> 8), BOX_ONE >> 8);
        let mut first = Ellipse {
            cx: cx1,
            cy: cy1,
            rx: r,
            ry: (r * num / den).max(4),
            rot: rot1,
        };
        let second = Ellipse {
            cx: cx1 + dx2,
            cy: cy1 + dy2,
            rx: r2,
            ry: (r2 * num2 / den2).max(4),
            rot: rot2,
        };
        match mode {
            MaskMode::Single => two = false,
            MaskMode::Double => two = true,
            MaskMode::Elongated => {
                first.ry = 4 * r;
                two = false;
            }
            MaskMode::Border => {
                // Centred, 1.2× the half-size: covers the middle of every edge, not the corners.
                first = Ellipse {
                    cx: 2 * mw,
                    cy: 2 * mh,
                    rx: 24 * mw / 10,
                    ry: 24 * mh / 10,
                    rot: 0,
                };
                two = false;
            }
            MaskMode::Auto | MaskMode::Neg | MaskMode::Pos => {}
        }
        Blob {
            first,
            second: two.then_some(second),
            g,
            neg,
            noise,
            jx,
            jy,
        }
    }

    /// The slot's `mh × mw` mask in 1/256 units, row-major, before quantisation.
    /// `pix0` is the flat index of the slot's first pixel.
    pub(crate) fn fill_mask(
        &self,
        seed: u64,
        mode: MaskMode,
        mh: usize,
        mw: usize,
        pix0: u64,
        out: &mut [i64],
    ) {
        let knoise = key(seed, TAG_NOISE);
        let kflat = key(seed, TAG_FLAT);
        for y in 0..mh {
            let py = 4 * y as i64 + 2;
            for x in 0..mw {
                let px = 4 * x as i64 + 2;
                let i = y * mw + x;
                let pix = pix0 + i as u64;
                out[i] = match mode {
                    MaskMode::Neg => -uniform(kflat, pix, 256, self.neg),
                    MaskMode::Pos => uniform(kflat, pix, 256, self.g),
                    _ => {
                        let mut f = self.first.field(px, py, self.g);
                        if let Some(e) = &self.second {
                            f = f.max(e.field(px, py, self.g));
                        }
                        f.max(-self.neg) + uniform(knoise, pix, -self.noise, self.noise)
                    }
                };
            }
        }
    }

    /// `[cx, cy, w, h]` in 2^-20 units: the bounding box of the ellipses, normalised
    /// by the grid, centre jittered, each clamped to `[1, 2^20 − 1]`.
    pub(crate) fn box_ints(&self, mh: usize, mw: usize) -> [i64; 4] {
        let (hx, hy) = self.first.half_extents();
        let (mut x0, mut x1) = (self.first.cx - hx, self.first.cx + hx);
        let (mut y0, mut y1) = (self.first.cy - hy, self.first.cy + hy);
        if let Some(e) = &self.second {
            let (hx2, hy2) = e.half_extents();
            x0 = x0.min(e.cx - hx2);
            x1 = x1.max(e.cx + hx2);
            y0 = y0.min(e.cy - hy2);
            y1 = y1.max(e.cy + hy2);
        }
        let (gw, gh) = (4 * mw as i64, 4 * mh as i64);
        let clamp = |v: i64| v.clamp(1, BOX_ONE - 1);
        [
            clamp(((x0 + x1) * (BOX_ONE / 2)).div_euclid(gw) + self.jx),
            clamp(((y0 + y1) * (BOX_ONE / 2)).div_euclid(gh) + self.jy),
            clamp(((x1 - x0) * BOX_ONE).div_euclid(gw)),
            clamp(((y1 - y0) * BOX_ONE).div_euclid(gh)),
        ]
    }
}
