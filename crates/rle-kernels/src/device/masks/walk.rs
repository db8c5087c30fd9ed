//! The block-wide walk over a chunk of ROI pixels: foreground into shared
//! memory (uniform groups set at once, the other pixels evaluated one per
//! thread), run boundaries ("events") in canvas column-major order, and the
//! COCO characters of every event from the chunk's fourth on (counted, and
//! written where the caller gives room for them).
//!
//! A tile is `MASK_TILE` pixels, or a wide tile of up to `MASK_WIDE_TILE`
//! when the horizontal passes of every column it touches fit in shared
//! memory: what a tile costs beyond its groups (the passes' loads, a dozen
//! barriers, three block scans) is then paid once for several tiles'
//! pixels, which is what makes the walk's cost follow the mask boundary on
//! large canvases (a uniform group costs one classification whatever the
//! scale). A tile's events are counted before they are stored; a tile with
//! more than the shared array holds (`WIDE_EVENT_CAP`, or the frame's
//! `wide_events` for a wide tile) is encoded in parts of `PART` pixels
//! instead (at most two events per pixel, so a part always fits), with its
//! foreground already in shared memory.

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
    /// Wide tiles walked; tiles (wide or not) encoded in parts.
    pub(super) wide: u32,
    pub(super) split: u32,
}

/// Where a walk writes its characters: `cap` bytes at `at`. The write pass
/// passes the arena (its room was reserved: `cap` unbounded), the count pass
/// its item's slot of the chunk store.
#[derive(Clone, Copy)]
pub(super) struct Dest {
    pub(super) at: *mut u8,
    pub(super) cap: u32,
}

/// Events and characters of the chunk so far (block-uniform).
struct Sums {
    events: u32,
    chars: u32,
    written: bool,
}

/// Walks ROI pixels `[begin, end)` in tiles. Counts events and the characters
/// of every event from the chunk's fourth on; with `out`, also writes those
/// characters there as long as all of them so far fit its `cap` (a tile that
/// would cross it is not written, nor is anything after it: `written` then
/// says no). Leaves the chunk's first three events in `FIRST` and its last
/// three (newest first) in `CARRY`. `wide_events` is
/// `FrameParams::wide_events`. Block-wide: every thread calls it.
#[inline(always)]
pub(super) fn walk(
    cx: &Ctx,
    sh: *mut u32,
    begin: u32,
    end: u32,
    out: Option<Dest>,
    wide_events: u32,
) -> Walked {
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    let mut sums = Sums {
        events: 0,
        chars: 0,
        written: true,
    };
    // Groups set without a vertical pass; wide tiles; tiles split.
    let (mut decided, mut wide, mut split) = (0u32, 0u32, 0u32);
    let wide_cap = wide_events.min(ECAP);
    // SAFETY (whole body): shared indices stay inside their arrays (the
    // mixed-group list, at most (WIDE + 2) / MASK_ITEMS + 1 entries, lives
    // at EVENTS between the fill's barrier and the foreground's; positions
    // of `fg_sh` are < len + 2 <= WIDE + 2); barriers reached by all
    // (`len`, `use_hpass` and `shortcuts` are block-uniform).
    unsafe {
        if t < 8 {
            *s(CARRY + t as usize) = 0;
        }
        sync();
        let mut tile = begin;
        while tile < end {
            let len = tile_len(cx, tile, end, wide_cap > 0);
            // Foreground of pixels tile-1 ..= tile+len (the neighbours may
            // lie in other chunks; outside the ROI everything is
            // background) into shared memory, positions i = pixel-tile+1.
            let fg_sh = sh.cast::<u8>().wrapping_add(FG);
            // `span` positions from tile-1; the last one is pixel `last`.
            let last = tile + len;
            let span = len + 2;
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
            // The whole tile's events at once when they fit (a wide tile's
            // up to the frame's cap), else in parts of PART pixels, which
            // always fit (one call site: the loop goes on with the parts
            // once the whole tile did not fit).
            let mut whole = true;
            wide += u32::from(len > TILE);
            let mut a = tile;
            while a < last {
                let (b, most) = match (whole, len > TILE) {
                    (true, true) => (last, wide_cap),
                    (true, false) => (last, ECAP),
                    (false, _) => ((a + PART).min(last), ECAP),
                };
                if encode(cx, sh, tile, a, b, most, &mut sums, out) {
                    a = b;
                } else {
                    whole = false;
                    split += 1;
                }
            }
            tile = last;
        }
    }
    Walked {
        events: sums.events,
        chars: sums.chars,
        written: sums.written,
        decided,
        wide,
        split,
    }
}

/// Pixels of the tile starting at ROI pixel `tile` of a chunk ending at
/// `end`: `MASK_TILE` (or what is left), or with `wide` up to
/// `MASK_WIDE_TILE` as long as every column the tile reads (its pixels and
/// the one after it) keeps its horizontal passes in shared memory; a wide
/// tile that stops before the chunk's end holds whole groups.
/// Block-uniform.
#[inline(always)]
fn tile_len(cx: &Ctx, tile: u32, end: u32, wide: bool) -> u32 {
    let rest = end - tile;
    if !wide || rest <= TILE || cx.h_rows == 0 {
        return rest.min(TILE);
    }
    let col_a = tile.saturating_sub(1) / cx.rows;
    // Pixels below `lim` lie in the first `HPASS_CAP / h_rows` columns from
    // col_a (so do those the fill reads for them).
    let lim = (u64::from(col_a) + u64::from(HPASS_CAP / cx.h_rows)) * u64::from(cx.rows);
    let mut len = rest.min(WIDE);
    if u64::from((tile + len).min(cx.total - 1)) >= lim {
        // Here lim <= tile + len, so what is left is below WIDE (and 0 when
        // not even column col_a fits).
        len = lim.saturating_sub(u64::from(tile) + 1) as u32;
        len -= len % MASK_ITEMS;
        if len <= TILE {
            return rest.min(TILE);
        }
    }
    len
}

/// Events and characters of pixels `[a, b)` of the tile starting at `tile`
/// (its foreground in shared memory), appended to `sums`, unless the part
/// holds more than `most` events: then nothing changes and the answer is
/// `false` (block-uniform). Each thread walks a run of whole groups.
///
/// # Safety
/// Block-wide, with the tile's foreground in `FG` for positions `a - tile`
/// ..= `b - tile + 1`; `most <= ECAP`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn encode(
    cx: &Ctx,
    sh: *mut u32,
    tile: u32,
    a: u32,
    b: u32,
    most: u32,
    sums: &mut Sums,
    out: Option<Dest>,
) -> bool {
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    let fg_sh = sh.cast::<u8>().wrapping_add(FG);
    let per = (b - a).div_ceil(MASK_ITEMS).div_ceil(nt) * MASK_ITEMS;
    let lo = a.saturating_add(t * per).min(b);
    let hi = lo.saturating_add(per).min(b);
    // SAFETY (whole body): per the contract; event indices < n_tile <= most
    // <= ECAP; `out` has `cap` bytes and only characters below it are
    // written; the barriers are reached by every thread (the early return
    // is block-uniform).
    unsafe {
        // Up to MASK_ITEMS pixels a thread (an ordinary tile, a part) has
        // at most twice as many events: they wait in registers for the
        // scan. A wide tile's threads walk their pixels twice instead,
        // counting, then storing.
        let few = per <= MASK_ITEMS;
        let mut kept = [0u32; 2 * MASK_ITEMS as usize];
        let mut mine = 0usize;
        events_of(cx, fg_sh, tile, lo, hi, |e| {
            if few {
                kept[mine] = e;
            }
            mine += 1;
        });
        let (pre, n_tile) = block_exclusive_scan(mine as u32, s(SCAN));
        if n_tile > most {
            return false;
        }
        if few {
            for (j, &e) in kept.iter().take(mine).enumerate() {
                *s(EVENTS + pre as usize + j) = e;
            }
        } else {
            let mut at = pre as usize;
            events_of(cx, fg_sh, tile, lo, hi, |e| {
                *s(EVENTS + at) = e;
                at += 1;
            });
        }
        sync();
        let ev_base = sums.events;
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
        let ch_base = sums.chars;
        sums.written &=
            out.is_some_and(|d| u64::from(ch_base) + u64::from(ch_tile) <= u64::from(d.cap));
        if let (true, Some(d)) = (sums.written, out) {
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
        sums.events += n_tile;
        sums.chars += ch_tile;
    }
    true
}

/// Calls `f` with the flat canvas position of each event of ROI pixels
/// `[lo, hi)` in order (`lo - tile` a multiple of `MASK_ITEMS`): a
/// foreground pixel opens a run unless its predecessor in canvas order is
/// foreground, and closes one unless its successor is.
///
/// # Safety
/// The tile's foreground is in shared memory for positions `lo - tile` ..=
/// `hi - tile + 1`.
#[inline(always)]
unsafe fn events_of(
    cx: &Ctx,
    fg_sh: *const u8,
    tile: u32,
    lo: u32,
    hi: u32,
    mut f: impl FnMut(u32),
) {
    // SAFETY: per the contract (positions k + 1 - tile for k in lo - 1 ..=
    // hi; the 8-aligned words below start at a multiple of MASK_ITEMS).
    unsafe {
        let fg = |k: u32| *fg_sh.add((k + 1 - tile) as usize) != 0;
        let (mut x, mut y) = (lo / cx.rows, lo % cx.rows);
        let mut k = lo;
        while k < hi {
            let n = (hi - k).min(MASK_ITEMS);
            // Pixels k-1 ..= k+8 (positions k-tile ..= k-tile+9, 8-aligned)
            // all background, or all foreground inside one column away from
            // its ends: no event, nothing to walk.
            let plain = n == MASK_ITEMS && {
                let at = fg_sh.add((k - tile) as usize);
                let (w0, w1) = (*at.cast::<u32>(), *at.add(4).cast::<u32>());
                let w2 = *at.add(8).cast::<u16>();
                let none = (w0 | w1 | u32::from(w2)) == 0;
                let all = w0 == 0x0101_0101 && w1 == 0x0101_0101 && w2 == 0x0101;
                none || (all && y >= 1 && y + MASK_ITEMS < cx.rows)
            };
            if plain {
                y += MASK_ITEMS;
                while y >= cx.rows {
                    y -= cx.rows;
                    x += 1;
                }
            } else {
                // Whether a neighbour is the canvas neighbour is decided per
                // pixel (a column break can fall inside a group).
                for j in 0..n {
                    let k = k + j;
                    if fg(k) {
                        let prev_joins =
                            k > 0 && fg(k - 1) && (y != 0 || (cx.full_height && x > 0));
                        let next_joins = fg(k + 1) && (y + 1 != cx.rows || cx.full_height);
                        let flat = (cx.c0 + x) * cx.img.canvas_h + cx.r0 + y;
                        if !prev_joins {
                            f(flat);
                        }
                        if !next_joins {
                            f(flat + 1);
                        }
                    }
                    y += 1;
                    if y == cx.rows {
                        y = 0;
                        x += 1;
                    }
                }
            }
            k += n;
        }
    }
}
