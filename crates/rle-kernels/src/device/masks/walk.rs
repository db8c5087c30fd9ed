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
//! scale); `crate::tiles::tile_len` picks the length. A tile's events are
//! found per group of `MASK_ITEMS` pixels with bit operations
//! (`crate::events`), kept in registers as one mask per group, counted by a
//! block scan and then stored; a tile with more than the shared array holds
//! (`WIDE_EVENT_CAP`, or the frame's `wide_events` for a wide tile) is
//! encoded in parts of `PART` pixels instead (at most two events per pixel,
//! so a part always fits), with its foreground already in shared memory.

use super::ctx::Ctx;
use super::*;

/// What a walk over a chunk found.
pub(super) struct Walked {
    pub(super) events: u32,
    pub(super) chars: u32,
    /// There is a destination and every one of those characters was
    /// written to it.
    pub(super) written: bool,
    /// Groups of `MASK_ITEMS` pixels decided by `uniform`.
    pub(super) decided: u32,
    /// Wide tiles walked; tiles (wide or not) encoded in parts. Every field
    /// is thread 0's (0 or false in the other threads): the walk keeps them
    /// in shared memory, not in every thread's registers.
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

/// Walks ROI pixels `[begin, end)` in tiles. Counts events and the characters
/// of every event from the chunk's fourth on; with `out`, also writes those
/// characters there as long as all of them so far fit its `cap` (a tile that
/// would cross it is not written, nor is anything after it: `written` then
/// says no). Leaves the chunk's first three events in `FIRST` and its last
/// three (newest first) in `CARRY`. `wide_events` is
/// `FrameParams::wide_events`. Block-wide: every thread calls it.
///
/// What is the same in every thread and lives through the whole walk but is
/// used only now and then (the chunk's event and character counts so far,
/// whether every character so far was written, the destination) is kept in
/// shared memory (`W_*` slots) instead of every thread's registers: the
/// item passes are capped at 64 registers, and spilled values are what
/// their time follows (docs/BENCHMARKS.md, eighth and ninth rounds). Only
/// thread 0's `events`, `chars` and `written` in the answer are defined.
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
    // Groups set without a vertical pass; wide tiles; tiles split: counted
    // by thread 0 in shared memory (they are the same in every thread, and
    // kept in registers they were three more values live across every loop
    // of the walk).
    let count = |slot: usize, n: u32| {
        if t == 0 {
            // SAFETY: a MISC slot only the walk's thread 0 touches.
            unsafe { *s(slot) += n };
        }
    };
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
        if t == 0 {
            *s(W_DECIDED) = 0;
            *s(W_WIDE) = 0;
            *s(W_SPLIT) = 0;
            *s(W_EVENTS) = 0;
            *s(W_CHARS) = 0;
            // Without a destination nothing is written: `written` says no
            // from the start (every caller also checks `out` itself).
            *s(W_WRITTEN) = u32::from(out.is_some());
            let d = out.unwrap_or(Dest {
                at: core::ptr::null_mut(),
                cap: 0,
            });
            *s(W_AT).cast::<*mut u8>() = d.at;
            *s(W_CAP) = d.cap;
        }
        sync();
        let mut tile = begin;
        while tile < end {
            let len = tile_len(tile, end, wide_cap > 0, cx.rows, cx.total, cx.h_rows);
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
            let (col_a, ncols) = tile_columns(tile, len, cx.rows, cx.total);
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
                    } else if n == MASK_ITEMS {
                        // One 8-byte store (FG and i0 are 8-aligned).
                        let word = if class == BACKGROUND { 0 } else { ALL_FG };
                        *fg_sh.add(i0 as usize).cast::<u64>() = word;
                    } else {
                        for j in 0..n {
                            *fg_sh.add((i0 + j) as usize) = u8::from(class != BACKGROUND);
                        }
                    }
                    g += nt;
                }
                sync();
                let mixed = *s(NMIX);
                count(W_DECIDED, groups - mixed);
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
            count(W_WIDE, u32::from(len > TILE));
            let mut a = tile;
            while a < last {
                let (b, most) = match (whole, len > TILE) {
                    (true, true) => (last, wide_cap),
                    (true, false) => (last, ECAP),
                    (false, _) => ((a + PART).min(last), ECAP),
                };
                if encode(cx, sh, tile, a, b, most) {
                    a = b;
                } else {
                    whole = false;
                    count(W_SPLIT, 1);
                }
            }
            tile = last;
        }
    }
    // SAFETY: thread 0 reads the counts it wrote itself.
    let mine = |slot: usize| if t == 0 { unsafe { *s(slot) } } else { 0 };
    Walked {
        events: mine(W_EVENTS),
        chars: mine(W_CHARS),
        written: mine(W_WRITTEN) != 0,
        decided: mine(W_DECIDED),
        wide: mine(W_WIDE),
        split: mine(W_SPLIT),
    }
}

/// Events and characters of pixels `[a, b)` of the tile starting at `tile`
/// (its foreground in shared memory), added to the chunk's counts in the
/// `W_EVENTS` and `W_CHARS` slots (and the characters written to the
/// destination in `W_AT` / `W_CAP` while `W_WRITTEN` holds), unless the part
/// holds more than `most` events: then nothing changes and the answer is
/// `false` (block-uniform). Each thread takes a run of whole groups (one,
/// or up to `GROUPS` in a wide tile) and finds each group's events with a
/// few bit operations (`crate::events`), the same instructions for a
/// boundary group as for a uniform one; the events wait in registers as one
/// 16-bit mask per group for the block scan that places them.
///
/// # Safety
/// Block-wide with `MASK_THREADS` threads, with the tile's foreground in
/// `FG` for positions `a - tile` ..= `b - tile + 1`; `b - a <=
/// MASK_WIDE_TILE`; `most <= ECAP`.
#[inline(always)]
unsafe fn encode(cx: &Ctx, sh: *mut u32, tile: u32, a: u32, b: u32, most: u32) -> bool {
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    let fg_sh = sh.cast::<u8>().wrapping_add(FG);
    let per = (b - a).div_ceil(MASK_ITEMS).div_ceil(nt) * MASK_ITEMS;
    let lo = a.saturating_add(t * per).min(b);
    let hi = lo.saturating_add(per).min(b);
    // SAFETY (whole body): per the contract (a thread's groups are at most
    // GROUPS, so none is left out); event indices < n_tile <= most <= ECAP;
    // the destination in W_AT has W_CAP bytes (the walk's `out`) and only
    // characters below them are written; the
    // barriers are reached by every thread (the early return is
    // block-uniform).
    unsafe {
        // Per group: its event mask (bits 0..16) and column tops (from bit
        // 16), and the flat canvas position of its first pixel.
        let mut masks = [0u32; GROUPS];
        let mut flats = [0u32; GROUPS];
        let mut mine = 0u32;
        let h = cx.img.canvas_h;
        let period = column_period(cx.rows);
        let (mut x, mut y) = (lo / cx.rows, lo % cx.rows);
        let mut group = |r: usize| {
            // (Compared as an offset: `lo + offset` may pass u32::MAX near
            // the end of a 2^32-pixel canvas, the group never does.)
            let offset = r as u32 * MASK_ITEMS;
            if offset < hi - lo {
                let k = lo + offset;
                let n = (hi - k).min(MASK_ITEMS);
                let fg = fg_bits(fg_sh, k - tile, n);
                // (With full_height the tops change nothing: the gap is 0.)
                let tops = column_tops(y, cx.rows, period);
                let m = group_events(fg, tops, n, cx.full_height, k == 0);
                masks[r] = m | tops << 16;
                flats[r] = (cx.c0 + x) * h + cx.r0 + y;
                mine += m.count_ones();
                y += MASK_ITEMS;
                if y >= cx.rows {
                    x += y / cx.rows;
                    y %= cx.rows;
                }
            }
        };
        // Written out: LLVM keeps a loop of this body rolled, and the two
        // arrays would then live in local memory instead of registers.
        const _: () = assert!(GROUPS == 6);
        group(0);
        group(1);
        group(2);
        group(3);
        group(4);
        group(5);
        let (pre, n_tile) = block_exclusive_scan(mine, s(SCAN));
        if n_tile > most {
            return false;
        }
        let mut at = pre as usize;
        for r in 0..GROUPS {
            let mut m = masks[r] & 0xFFFF;
            while m != 0 {
                let bit = m.trailing_zeros();
                m &= m - 1;
                *s(EVENTS + at) = event_position(flats[r], bit, masks[r] >> 16, h - cx.rows);
                at += 1;
            }
        }
        sync();
        // The chunk's counts so far: thread 0 last wrote them before the
        // previous call's final barrier (or the walk's first one).
        let ev_base = *s(W_EVENTS);
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
        // `ch_tile` and the slots are block-uniform, so is the decision to
        // write.
        let ch_base = *s(W_CHARS);
        let written =
            *s(W_WRITTEN) != 0 && u64::from(ch_base) + u64::from(ch_tile) <= u64::from(*s(W_CAP));
        if written {
            let to = *s(W_AT).cast::<*mut u8>();
            let mut at = (ch_base + ch_pre) as usize;
            for i in lo..hi {
                if let Some(x) = coded(i) {
                    at += write_chars(x, |j, c| *to.add(at + j as usize) = c) as usize;
                }
            }
        }
        sync();
        if t == 0 {
            if n_tile > 0 {
                let c = [
                    ev(n_tile as i64 - 1),
                    ev(n_tile as i64 - 2),
                    ev(n_tile as i64 - 3),
                ];
                *s(CARRY) = c[0];
                *s(CARRY + 1) = c[1];
                *s(CARRY + 2) = c[2];
            }
            // Every thread read the counts before the barrier above.
            *s(W_EVENTS) = ev_base + n_tile;
            *s(W_CHARS) = ch_base + ch_tile;
            *s(W_WRITTEN) = u32::from(written);
        }
        sync();
    }
    true
}

/// Foreground bits of pixels `k - 1 ..= k + n` from shared memory
/// (`pos = k - tile`, a multiple of `MASK_ITEMS`, is pixel `k - 1`'s
/// position): one 8-byte and one 2-byte load for a whole group, else byte by
/// byte (the last group of a part, which may end the tile's positions).
///
/// # Safety
/// Positions `pos ..= pos + n + 1` of `fg_sh` hold the tile's foreground,
/// and with `n == MASK_ITEMS` `fg_sh + pos` is 8-aligned.
#[inline(always)]
unsafe fn fg_bits(fg_sh: *const u8, pos: u32, n: u32) -> u32 {
    // SAFETY: per the contract.
    unsafe {
        let at = fg_sh.add(pos as usize);
        if n == MASK_ITEMS {
            byte_bits(*at.cast::<u64>()) | byte_bits(u64::from(*at.add(8).cast::<u16>())) << 8
        } else {
            // A fixed trip count: the caller's loop over groups unrolls.
            let mut bits = 0;
            for i in 0..MASK_ITEMS + 1 {
                if i < n + 2 {
                    bits |= u32::from(*at.add(i as usize)) << i;
                }
            }
            bits
        }
    }
}
