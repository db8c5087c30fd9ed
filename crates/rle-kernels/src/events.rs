//! Run boundaries ("events") of a group of `MASK_ITEMS` consecutive ROI
//! pixels, found with a few bit operations on their foreground bits instead
//! of a branch per pixel, so the threads of a warp walking a mask boundary
//! and those walking a uniform stretch run the same instructions
//! (`device/masks/walk.rs`; issue 13: divergence in the count pass).
//!
//! Pixels are in ROI column-major order. A foreground pixel opens a run
//! (an event at its flat canvas position) unless its predecessor in canvas
//! order is foreground, and closes one (an event one past it) unless its
//! successor is. In a ROI that is not whole canvas columns, a pixel at the
//! top of a ROI column never joins its predecessor (the canvas pixel above
//! it lies outside the ROI) and one at the bottom never joins its successor.
//! In a ROI of whole canvas columns (`full_height`) only the ROI's first
//! pixel has no predecessor. A group's events are a 16-bit mask: bit `2j`
//! for pixel `j` opening a run, bit `2j + 1` for it closing one, which is
//! also their canvas order.

use crate::abi::MASK_ITEMS;

/// Bit `i` is byte `i` (little-endian) of `w`, for bytes that are 0 or 1.
/// Each byte's bit lands on its own position of the product's top byte, and
/// no two partial products share a bit (so nothing carries).
#[inline(always)]
pub fn byte_bits(w: u64) -> u32 {
    (w.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

/// Bits `m * rows` (`0..=MASK_ITEMS`): the column starts of a group whose
/// first pixel starts a column, in a ROI of `rows` rows. The walk computes
/// it once per tile it encodes, outside its per-group code, so
/// [`column_tops`] has no loop (the per-group code then unrolls, and its
/// per-group values stay in registers).
#[inline(always)]
pub fn column_period(rows: u32) -> u32 {
    let mut period = 0;
    let mut j = 0;
    while j <= MASK_ITEMS {
        period |= 1 << j;
        j = j.saturating_add(rows);
    }
    period
}

/// Bits `j` (`0..=MASK_ITEMS`) for the pixels `k + j` that start a ROI
/// column, where pixel `k` is row `y` (`< rows`) of its column and `period`
/// is [`column_period`] of `rows`.
#[inline(always)]
pub fn column_tops(y: u32, rows: u32, period: u32) -> u32 {
    let first = if y == 0 { 0 } else { rows - y };
    if first > MASK_ITEMS {
        0
    } else {
        (period << first) & ((2 << MASK_ITEMS) - 1)
    }
}

/// The event mask of pixels `k .. k + n` (`1 <= n <= MASK_ITEMS`): `fg`
/// holds the foreground of pixels `k - 1 ..= k + n` in bits `0 ..= n + 1`
/// (higher bits are ignored), `tops` is [`column_tops`] of pixel `k` (not
/// read with `full_height`), `first` says pixel `k` is the ROI's first.
#[inline(always)]
pub fn group_events(fg: u32, tops: u32, n: u32, full_height: bool, first: bool) -> u32 {
    let own = (fg >> 1) & ((1 << n) - 1);
    let (top, bottom) = if full_height {
        (0, 0)
    } else {
        (tops & 0xFF, (tops >> 1) & 0xFF)
    };
    let mut joins_prev = fg & !top;
    if first {
        joins_prev &= !1;
    }
    let joins_next = (fg >> 2) & !bottom;
    spread(own & !joins_prev) | spread(own & !joins_next) << 1
}

/// Bits `0..8` of `x` moved to the even bits `0, 2, .., 14`.
#[inline(always)]
fn spread(x: u32) -> u32 {
    let x = (x | x << 4) & 0x0F0F;
    let x = (x | x << 2) & 0x3333;
    (x | x << 1) & 0x5555
}

/// The flat canvas position of event bit `bit` of a group whose first pixel
/// lies at flat position `flat`, with the group's [`column_tops`] `tops` and
/// `gap` = canvas height − ROI rows: each column top passed on the way skips
/// the canvas rows outside the ROI (with `full_height` the gap is 0).
#[inline(always)]
pub fn event_position(flat: u32, bit: u32, tops: u32, gap: u32) -> u32 {
    let j = bit >> 1;
    let crossed = (tops & ((2u32 << j) - 2)).count_ones();
    flat + j + crossed * gap + (bit & 1)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::test_rng::below;
    use std::vec::Vec;

    /// Events of pixels `k .. k + n` of a ROI of `rows` rows, one pixel at a
    /// time (the rule in the module header): flat positions in order.
    fn per_pixel(fg: &[bool], k: u32, n: u32, rows: u32, canvas_h: u32, full: bool) -> Vec<u32> {
        let at = |p: u32| -> bool { fg[(p + 1 - k) as usize] };
        let mut out = Vec::new();
        for p in k..k + n {
            if !at(p) {
                continue;
            }
            let (x, y) = (p / rows, p % rows);
            let flat = x * canvas_h + y;
            let joins_prev = p > 0 && at(p - 1) && (y != 0 || (full && x > 0));
            let joins_next = at(p + 1) && (y + 1 != rows || full);
            if !joins_prev {
                out.push(flat);
            }
            if !joins_next {
                out.push(flat + 1);
            }
        }
        out
    }

    #[test]
    fn byte_bits_gathers_each_byte() {
        let mut r = below(0x9e37_79b9);
        for _ in 0..10_000 {
            let bits = r(256) as u32;
            let w = (0..8).fold(0u64, |w, i| w | u64::from((bits >> i) & 1) << (8 * i));
            assert_eq!(byte_bits(w), bits, "{w:#018x}");
        }
    }

    #[test]
    fn column_tops_marks_each_column_start() {
        for rows in (1..20).chain([4095, 1 << 20, u32::MAX - 1]) {
            for y in (0..rows.min(20)).chain(rows.saturating_sub(10)..rows) {
                let want = (0..=MASK_ITEMS)
                    .filter(|&j| (u64::from(y) + u64::from(j)) % u64::from(rows) == 0);
                let want = want.fold(0, |m, j| m | 1 << j);
                let got = column_tops(y, rows, column_period(rows));
                assert_eq!(got, want, "rows {rows} y {y}");
            }
        }
    }

    #[test]
    fn groups_match_the_per_pixel_rule() {
        let mut r = below(0x2545_f491);
        let mut events = 0usize;
        for case in 0..200_000 {
            let rows = 1 + r(if case % 3 == 0 { 12 } else { 40 }) as u32;
            let full = r(2) == 0;
            let canvas_h = if full { rows } else { rows + r(5) as u32 };
            let k = if r(8) == 0 { 0 } else { r(200) as u32 };
            let n = if r(4) == 0 {
                1 + r(8) as u32
            } else {
                MASK_ITEMS
            };
            // Foreground of pixels k-1 ..= k+n: dense, sparse or alternating.
            let density = r(3);
            let mut fg: Vec<bool> = (0..n + 2).map(|_| r(4) < 1 + 2 * density).collect();
            if k == 0 {
                fg[0] = false; // pixel -1 is outside the ROI
            }
            let want = per_pixel(&fg, k, n, rows, canvas_h, full);
            let bits = fg
                .iter()
                .enumerate()
                .fold(0u32, |m, (i, &f)| m | u32::from(f) << i);
            // Bits above n + 1 must not matter.
            let bits = bits | (r(1 << 10) as u32) << (n + 2);
            let (x, y) = (k / rows, k % rows);
            let tops = column_tops(y, rows, column_period(rows));
            let mask = group_events(bits, tops, n, full, k == 0);
            let flat = x * canvas_h + y;
            let got: Vec<u32> = (0..16)
                .filter(|b| mask >> b & 1 != 0)
                .map(|b| event_position(flat, b, tops, canvas_h - rows))
                .collect();
            assert_eq!(got, want, "rows {rows} H {canvas_h} k {k} n {n} fg {fg:?}");
            events += got.len();
        }
        assert!(events > 200_000, "the cases hold events ({events})");
    }
}
