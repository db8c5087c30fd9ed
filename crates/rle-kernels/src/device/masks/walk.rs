//! The block-wide walk over a chunk of ROI pixels: foreground into shared
//! memory (uniform groups set at once, the other pixels evaluated one per
//! thread), run boundaries ("events") in canvas column-major order, and the
//! COCO characters of every event from the chunk's fourth on (counted, and
//! written where the caller gives room for them).

use super::ctx::Ctx;
use super::*;

/// What a walk over a chunk found.
pub(super) struct Walked {
    pub(super) events: u32,
    pub(super) chars: u32,
    /// Every one of those characters was written to the destination.
    pub(super) written: bool,
    /// Groups of `MASK_ITEMS` pixels decided by `uniform` (block-uniform).
    pub(super) decided: u32,
}

/// Where a walk writes its characters: `cap` bytes at `at`. The write pass
/// passes the arena (its room was reserved: `cap` unbounded), the count pass
/// its item's slot of the chunk store.
#[derive(Clone, Copy)]
pub(super) struct Dest {
    pub(super) at: *mut u8,
    pub(super) cap: u32,
}

/// Walks ROI pixels `[begin, end)` in tiles. Counts events and the characters
/// of every event from the chunk's fourth on; with `out`, also writes those
/// characters there as long as all of them so far fit its `cap` (a tile that
/// would cross it is not written, nor is anything after it: `written` then
/// says no). Leaves the chunk's first three events in `FIRST` and its last
/// three (newest first) in `CARRY`. Block-wide: every thread calls it.
#[inline(always)]
pub(super) fn walk(cx: &Ctx, sh: *mut u32, begin: u32, end: u32, out: Option<Dest>) -> Walked {
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    let mut ev_base = 0u32; // events of earlier tiles of this chunk
    let mut ch_base = 0u32;
    let mut written = true;
    // Groups set without a vertical pass.
    let mut decided = 0u32;
    // SAFETY (whole body): shared indices < WORDS (events per tile <= 2*TILE;
    // the mixed-group list, at most TILE/MASK_ITEMS + 1 entries, lives at
    // EVENTS between the fill's barrier and the foreground's); `out` has
    // `cap` bytes and only characters below it are written; barriers
    // reached by all (`use_hpass` and `shortcuts` are block-uniform).
    unsafe {
        if t < 8 {
            *s(CARRY + t as usize) = 0;
        }
        sync();
        let mut tile = begin;
        while tile < end {
            // Foreground of pixels tile-1 ..= min(tile+TILE, end) (the
            // neighbours may lie in other chunks; outside the ROI everything
            // is background) into shared memory, positions i = pixel-tile+1.
            let fg_sh = sh.cast::<u8>().wrapping_add(FG);
            let last = (tile + TILE).min(end); // last position evaluated
                                               // Positions from tile-1.
            let span = last + 1 - tile + 1;
            // The columns those pixels lie in: their horizontal passes go to
            // shared memory once (a few columns × the window rows the ROI
            // reads), leaving one vertical pass per pixel. Tiles spanning too
            // many short columns evaluate every pixel in full. Neighbouring
            // threads take neighbouring columns of one window row, so their
            // logit loads share sectors.
            let hpass = sh.wrapping_add(HPASS).cast::<f32>();
            let col_a = tile.saturating_sub(1) / cx.rows;
            let ncols = last.min(cx.total - 1) / cx.rows + 1 - col_a;
            let use_hpass = cx.h_rows > 0 && ncols * cx.h_rows <= HPASS_CAP;
            if use_hpass {
                if t == 0 {
                    *s(NMIX) = 0;
                }
                let n = ncols * cx.h_rows;
                let mut i = t;
                while i < n {
                    let (r, c) = (i / ncols, i % ncols);
                    *hpass.add((c * cx.h_rows + r) as usize) =
                        cx.horizontal_at(col_a + c, cx.sy_lo + r);
                    i += nt;
                }
                sync();
            }
            if cx.shortcuts(use_hpass) {
                // Groups of MASK_ITEMS positions: those the uniform argument
                // decides are set at once; the others go to a list (at
                // EVENTS, free until this tile's events) whose pixels the
                // whole block then evaluates, one per thread.
                let groups = span.div_ceil(MASK_ITEMS);
                let mut g = t;
                while g < groups {
                    let i0 = g * MASK_ITEMS;
                    let n = (span - i0).min(MASK_ITEMS);
                    let k0 = (tile + i0).wrapping_sub(1);
                    let class = if tile + i0 >= 1 && k0 < cx.total && n <= cx.total - k0 {
                        cx.group_class(k0, n, hpass, col_a)
                    } else {
                        MIXED
                    };
                    if class == MIXED {
                        let at = atomic_add(s(NMIX), 1);
                        *s(EVENTS + at as usize) = g;
                    } else {
                        for j in 0..n {
                            *fg_sh.add((i0 + j) as usize) = u8::from(class != BACKGROUND);
                        }
                    }
                    g += nt;
                }
                sync();
                let mixed = *s(NMIX);
                decided += groups - mixed;
                let mut p = t;
                while p < mixed * MASK_ITEMS {
                    let i = *s(EVENTS + (p / MASK_ITEMS) as usize) * MASK_ITEMS + p % MASK_ITEMS;
                    if i < span {
                        *fg_sh.add(i as usize) = u8::from(cx.fg_at(tile, i, true, hpass, col_a));
                    }
                    p += nt;
                }
            } else {
                let mut i = t;
                while i < span {
                    *fg_sh.add(i as usize) = u8::from(cx.fg_at(tile, i, use_hpass, hpass, col_a));
                    i += nt;
                }
            }
            sync();
            // Events of this thread's MASK_ITEMS consecutive pixels.
            let k0 = tile + t * MASK_ITEMS;
            let mut evs = [0u32; 2 * MASK_ITEMS as usize];
            let mut n_ev = 0usize;
            if k0 < end {
                // Whether a neighbour is the canvas neighbour is decided per
                // pixel (a column break can fall inside one thread's items).
                let n = (end - k0).min(MASK_ITEMS);
                let fg = |k: u32| *fg_sh.add((k + 1 - tile) as usize) != 0;
                let (mut x, mut y) = (k0 / cx.rows, k0 % cx.rows);
                // Pixels k0-1 ..= k0+8 (positions 8t ..= 8t+9, 8-aligned)
                // all background, or all foreground inside one column away
                // from its ends: no event, nothing to walk.
                let plain = n == MASK_ITEMS && {
                    let at = fg_sh.add((t * MASK_ITEMS) as usize);
                    let (w0, w1) = (*at.cast::<u32>(), *at.add(4).cast::<u32>());
                    let w2 = *at.add(8).cast::<u16>();
                    let none = (w0 | w1 | u32::from(w2)) == 0;
                    let all = w0 == 0x0101_0101 && w1 == 0x0101_0101 && w2 == 0x0101;
                    none || (all && y >= 1 && y + MASK_ITEMS < cx.rows)
                };
                for j in 0..if plain { 0 } else { n } {
                    let k = k0 + j;
                    let cur = fg(k);
                    if cur {
                        let prev_joins =
                            k > 0 && fg(k - 1) && (y != 0 || (cx.full_height && x > 0));
                        let next_joins = fg(k + 1) && (y + 1 != cx.rows || cx.full_height);
                        let flat = (cx.c0 + x) * cx.img.canvas_h + cx.r0 + y;
                        if !prev_joins {
                            evs[n_ev] = flat;
                            n_ev += 1;
                        }
                        if !next_joins {
                            evs[n_ev] = flat + 1;
                            n_ev += 1;
                        }
                    }
                    y += 1;
                    if y == cx.rows {
                        y = 0;
                        x += 1;
                    }
                }
            }
            let (pre, n_tile) = block_exclusive_scan(n_ev as u32, s(SCAN));
            for (j, &e) in evs.iter().take(n_ev).enumerate() {
                *s(EVENTS + pre as usize + j) = e;
            }
            sync();
            let ev = |i: i64| -> u32 {
                if i >= 0 {
                    *s(EVENTS + i as usize)
                } else {
                    *s(CARRY + (-i - 1) as usize)
                }
            };
            if t == 0 && ev_base < 3 {
                for i in 0..n_tile.min(3 - ev_base) {
                    *s(FIRST + (ev_base + i) as usize) = ev(i64::from(i));
                }
            }
            // Event i of the chunk closes count E(i) - E(i-1); its characters
            // encode that minus the count two places back (SPEC §4.2). The
            // chunk's first three events need earlier chunks: skipped here.
            let per = n_tile.div_ceil(nt);
            let lo = (t * per).min(n_tile);
            let hi = (lo + per).min(n_tile);
            let coded = |i: u32| -> Option<i64> {
                if ev_base + i < 3 {
                    return None;
                }
                let i = i64::from(i);
                Some(coded_value(3, ev(i) - ev(i - 1), ev(i - 2) - ev(i - 3)))
            };
            let mut mine = 0u32;
            for i in lo..hi {
                mine += coded(i).map_or(0, char_len);
            }
            let (ch_pre, ch_tile) = block_exclusive_scan(mine, s(SCAN));
            // `ch_tile` is block-uniform, so is the decision to write.
            written &=
                out.is_some_and(|d| u64::from(ch_base) + u64::from(ch_tile) <= u64::from(d.cap));
            if let (true, Some(d)) = (written, out) {
                let mut at = (ch_base + ch_pre) as usize;
                for i in lo..hi {
                    if let Some(x) = coded(i) {
                        at += write_chars(x, |j, c| *d.at.add(at + j as usize) = c) as usize;
                    }
                }
            }
            sync();
            if t == 0 && n_tile > 0 {
                let c = [
                    ev(n_tile as i64 - 1),
                    ev(n_tile as i64 - 2),
                    ev(n_tile as i64 - 3),
                ];
                *s(CARRY) = c[0];
                *s(CARRY + 1) = c[1];
                *s(CARRY + 2) = c[2];
            }
            sync();
            ev_base += n_tile;
            ch_base += ch_tile;
            tile += TILE;
        }
    }
    Walked {
        events: ev_base,
        chars: ch_base,
        written,
        decided,
    }
}
