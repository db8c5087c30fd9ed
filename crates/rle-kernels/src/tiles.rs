//! The length of the mask walk's next tile (`device/masks/walk.rs`): one
//! [`MASK_TILE`], or a wide tile of up to [`MASK_WIDE_TILE`] pixels when the
//! horizontal passes of every ROI column it reads fit in the walk's shared
//! array of [`HPASS_CAP`] values. Host-compiled so the bound that keeps a
//! wide tile inside that array is tested here (a tile that broke it would
//! write past the array on the device).

use crate::abi::{MASK_ITEMS, MASK_TILE, MASK_WIDE_TILE};

/// Horizontal-pass values (f32) the walk keeps in shared memory per tile.
pub const HPASS_CAP: u32 = 2048;

/// Pixels of the tile starting at ROI pixel `tile` of a chunk ending at
/// `end` (`tile < end <= total`) in a ROI of `rows` rows and `total` pixels
/// whose columns read `h_rows` window rows: `MASK_TILE` (or what is left),
/// or with `wide` up to `MASK_WIDE_TILE` as long as every column the tile
/// reads (its pixels, the one before and the one after it, as far as they
/// are in the ROI) keeps its `h_rows` passes in the array; a wide tile that
/// stops before the chunk's end holds whole groups of `MASK_ITEMS`.
#[inline(always)]
pub fn tile_len(tile: u32, end: u32, wide: bool, rows: u32, total: u32, h_rows: u32) -> u32 {
    let rest = end - tile;
    if !wide || rest <= MASK_TILE || h_rows == 0 {
        return rest.min(MASK_TILE);
    }
    let col_a = tile.saturating_sub(1) / rows;
    // Pixels below `lim` lie in the first `HPASS_CAP / h_rows` columns from
    // col_a (so do those the fill reads for them).
    let lim = (u64::from(col_a) + u64::from(HPASS_CAP / h_rows)) * u64::from(rows);
    let mut len = rest.min(MASK_WIDE_TILE);
    if u64::from((tile + len).min(total - 1)) >= lim {
        // Here lim <= tile + len, so what is left is below MASK_WIDE_TILE
        // (and 0 when not even column col_a fits).
        len = lim.saturating_sub(u64::from(tile) + 1) as u32;
        len -= len % MASK_ITEMS;
        if len <= MASK_TILE {
            return rest.min(MASK_TILE);
        }
    }
    len
}

/// The ROI columns a tile of `len` pixels from `tile` reads (pixels
/// `tile - 1 ..= tile + len`, clipped to the ROI): `(first, count)`. The
/// walk keeps their horizontal passes when `count * h_rows <= HPASS_CAP`.
#[inline(always)]
pub fn tile_columns(tile: u32, len: u32, rows: u32, total: u32) -> (u32, u32) {
    let first = tile.saturating_sub(1) / rows;
    let last = (tile + len).min(total - 1) / rows;
    (first, last + 1 - first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        /// Every tile is at least one pixel and stays in its chunk; a wide
        /// tile keeps the passes of every column it reads in the array and
        /// (unless it ends the chunk) holds whole groups; an ordinary tile
        /// is a whole MASK_TILE unless it ends the chunk.
        #[test]
        fn tiles_stay_inside_the_chunk_and_the_array(
            rows in 1u32..5000,
            cols in 1u32..5000,
            h_rows in 0u32..3000,
            wide in any::<bool>(),
            a in 0.0f64..1.0,
            b in 0.0f64..1.0,
        ) {
            let total = rows * cols;
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            let tile = ((f64::from(total - 1)) * lo) as u32;
            let end = (tile + 1).max((f64::from(total) * hi) as u32).min(total);
            let len = tile_len(tile, end, wide, rows, total, h_rows);
            prop_assert!(len >= 1 && tile + len <= end, "len {len} tile {tile} end {end}");
            if len > MASK_TILE {
                prop_assert!(wide && h_rows > 0 && len <= MASK_WIDE_TILE);
                let (_, ncols) = tile_columns(tile, len, rows, total);
                prop_assert!(ncols * h_rows <= HPASS_CAP, "{ncols} columns of {h_rows}");
                prop_assert!(tile + len == end || len.is_multiple_of(MASK_ITEMS));
            } else {
                prop_assert!(len == MASK_TILE || tile + len == end);
            }
        }
    }

    #[test]
    fn tall_columns_make_wide_tiles() {
        // 1080-row ROI, 20 window rows a column: 102 columns fit, so a long
        // chunk gets a full wide tile; 2000 window rows fit one column only.
        assert_eq!(
            tile_len(0, 1_000_000, true, 1080, 2_000_000, 20),
            MASK_WIDE_TILE
        );
        assert_eq!(
            tile_len(0, 1_000_000, false, 1080, 2_000_000, 20),
            MASK_TILE
        );
        assert_eq!(
            tile_len(5, 1_000_000, true, 1080, 2_000_000, 2000),
            MASK_TILE
        );
        assert_eq!(tile_len(0, 100, true, 1080, 2_000_000, 20), 100);
    }
}
