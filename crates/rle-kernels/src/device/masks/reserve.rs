//! The reserve step: chain a detection's chunks in parallel, reserve its
//! string in the arena and write the characters that straddle chunk
//! boundaries (`rle_mask_reserve`).

use super::*;

/// Where the reserve step writes: the device arena (each chunk's boundary
/// characters, which the write pass copies to the host arena together with
/// the chunk's own, so each lands there in one coalesced copy instead of a
/// few bytes from every thread over the bus), the host arena (the trailing
/// count: one per detection), the detection's offset in both, and whether
/// its string fits.
#[derive(Clone, Copy)]
struct Dest {
    chars: *mut u8,
    host: *mut u8,
    off: u32,
    fits: bool,
}

/// One round of a detection's chain, as thread `tid()` sees it: its chunk
/// `c`, the coded values of the chunk's first `nb` events and
/// their characters (`mine`), the characters of the round before the chunk
/// (`cpre`); and block-wide the round's events and characters (`tot`, `ctot`)
/// and the three events before the next round (`prev`).
struct Round {
    c: u32,
    bv: [i64; 3],
    nb: u32,
    mine: u32,
    cpre: u32,
    tot: u32,
    ctot: u32,
    prev: [u32; 3],
}

/// Chains the round of chunks `r0 .. r0 + ntid()` of one detection's `n`
/// chunk states: per chunk, the events before it (a block scan) and the three
/// events just before it (`event_in_run` over the round's chunks, or `prev`,
/// the earlier rounds' last three), hence the coded values of its first three
/// events; then the characters before it (a second scan). `g_base`: events of
/// the earlier rounds. Ends with a barrier, so the shared slots can be reused.
///
/// # Safety
/// `states` holds the detection's `n` chunk states. Block-wide: every thread
/// must call it.
#[inline(always)]
unsafe fn round(
    states: *const ChunkState,
    n: u32,
    r0: u32,
    g_base: u32,
    prev: [u32; 3],
    sh: *mut u32,
) -> Round {
    let s = |i: usize| sh.wrapping_add(i);
    let (t, nt) = (tid(), ntid());
    // SAFETY (whole body): chunk indices < n; shared indices < RESERVE_WORDS
    // (t < `RESERVE_THREADS`); barriers reached by all.
    unsafe {
        let c = r0 + t;
        let st = if c < n {
            *states.add(c as usize)
        } else {
            ChunkState::default()
        };
        let (pre, tot) = block_exclusive_scan(st.events, s(SCAN));
        *s(R_PRE + t as usize) = pre;
        *s(R_CNT + t as usize) = st.events;
        for k in 0..3 {
            *s(R_LAST + 3 * t as usize + k) = st.last[k];
        }
        sync();
        let run = (n - r0).min(nt);
        // Event `j` counted from this round's first event (j < 0: earlier).
        let event = |j: i64| -> u32 {
            if j >= 0 {
                event_in_run(
                    j as u32,
                    run,
                    |c| *s(R_PRE + c as usize),
                    |c| *s(R_CNT + c as usize),
                    |c, k| *s(R_LAST + 3 * c as usize + k as usize),
                )
            } else {
                match -j {
                    1 => prev[0],
                    2 => prev[1],
                    _ => prev[2],
                }
            }
        };
        let mut bv = [0i64; 3];
        let nb = st.events.min(3);
        let mut mine = 0u32;
        if nb > 0 {
            let p = i64::from(pre);
            let before = [event(p - 1), event(p - 2), event(p - 3)];
            bv = boundary_values(g_base + pre, before, st.first, nb);
            // Constant indices (see `boundary_values`); a value past `nb` is 0,
            // which takes one character, so it is masked out.
            let len = |i: u32| if i < nb { char_len(bv[i as usize]) } else { 0 };
            mine = len(0) + len(1) + len(2);
        }
        let (cpre, ctot) = block_exclusive_scan(mine + st.chars, s(SCAN));
        let tot64 = i64::from(tot);
        let next_prev = [event(tot64 - 1), event(tot64 - 2), event(tot64 - 3)];
        sync();
        Round {
            c,
            bv,
            nb,
            mine,
            cpre,
            tot,
            ctot,
            prev: next_prev,
        }
    }
}

/// Writes what a round found for this thread's chunk: its boundary
/// characters (when the string fits) and its `out` offset and `skip` flag.
/// `c_base`: characters of the earlier rounds.
///
/// # Safety
/// `states` holds the detection's `n` chunk states; `d` has room for the
/// string when it fits.
#[inline(always)]
unsafe fn write_round(r: &Round, n: u32, c_base: u32, states: *mut ChunkState, d: Dest) {
    if r.c >= n {
        return;
    }
    let at = d.off + c_base + r.cpre;
    // SAFETY: per the contract; the boundary characters lie inside the
    // detection's string.
    unsafe {
        if d.fits {
            let mut w = at as usize;
            // Constant indices, as in `round`.
            let mut put = |i: u32| {
                if i < r.nb {
                    w += write_chars(r.bv[i as usize], |j, ch| *d.chars.add(w + j as usize) = ch)
                        as usize;
                }
            };
            put(0);
            put(1);
            put(2);
        }
        let sp = states.add(r.c as usize);
        (*sp).out = if d.fits { at + r.mine } else { 0 };
        (*sp).lead = if d.fits { r.mine } else { 0 };
        (*sp).skip = u32::from(!d.fits);
    }
}

/// The coded value of a detection's trailing count (the background after its
/// last run) when it has one: `events` in all, `prev` the last three.
#[inline(always)]
fn trailing(events: u32, prev: [u32; 3], hw: u32) -> Option<i64> {
    (events == 0 || prev[0] < hw).then(|| {
        coded_value(
            u64::from(events),
            hw - prev[0],
            prev[1].wrapping_sub(prev[2]),
        )
    })
}

/// Chains `n` chunk states of one detection in rounds of `ntid()` chunks
/// (`round`). Returns (events, string length). With `dest`, also writes the
/// boundary characters and the trailing count and stores each chunk's `out`
/// offset and `skip` flag.
///
/// # Safety
/// `states` holds the detection's `n` chunk states; `dest` has room for the
/// string when it fits. Block-wide: every thread must call it.
#[inline(always)]
unsafe fn chain(
    states: *mut ChunkState,
    n: u32,
    hw: u32,
    sh: *mut u32,
    dest: Option<Dest>,
) -> (u32, u32) {
    let (mut g_base, mut c_base) = (0u32, 0u32);
    let mut prev = [0u32; 3]; // events g_base-1, -2, -3 (0 before the first)
    let mut r0 = 0u32;
    // SAFETY (whole body): per the contract.
    unsafe {
        while r0 < n {
            let r = round(states, n, r0, g_base, prev, sh);
            if let Some(d) = dest {
                write_round(&r, n, c_base, states, d);
            }
            prev = r.prev;
            g_base += r.tot;
            c_base += r.ctot;
            r0 += ntid();
        }
        let mut len = c_base;
        if let Some(x) = trailing(g_base, prev, hw) {
            if let Some(d) = dest {
                if d.fits && tid() == 0 {
                    let at = (d.off + c_base) as usize;
                    write_chars(x, |j, ch| *d.host.add(at + j as usize) = ch);
                }
            }
            len += char_len(x);
        }
        (g_base, len)
    }
}

/// Reserves `len` bytes of the arena for the detection's string (block-wide:
/// thread 0's atomic, broadcast through shared memory) and completes its
/// record, in device memory (later passes read it) and in mapped host memory
/// (`host_det`, the result); counts an overflow when the string does not fit.
///
/// # Safety
/// Pointers per the kernels' contract. Block-wide: every thread must call it.
#[inline(always)]
unsafe fn reserve_string(
    frame: &FrameParams,
    det: *mut DetRecord,
    host_det: *mut DetRecord,
    events: u32,
    len: u32,
    chars: *mut u8,
    host_chars: *mut u8,
    counters: *mut FrameCounters,
    sh: *mut u32,
) -> Dest {
    let s = |i: usize| sh.wrapping_add(i);
    // SAFETY: per the contract; shared slots R_OFF, R_FITS.
    unsafe {
        if tid() == 0 {
            let off = atomic_add_u64(&raw mut (*counters).chars_used, u64::from(len));
            let fits = off + u64::from(len) <= u64::from(frame.chars_capacity);
            let mut record = *det;
            record.chars_len = len;
            record.runs = events / 2;
            record.chars_offset = if fits { off as u32 } else { u32::MAX };
            *det = record;
            *host_det = record;
            if !fits {
                atomic_add(&raw mut (*counters).overflowed, 1);
            }
            *s(R_OFF) = if fits { off as u32 } else { 0 };
            *s(R_FITS) = u32::from(fits);
        }
        sync();
        let dest = Dest {
            chars,
            host: host_chars,
            off: *s(R_OFF),
            fits: *s(R_FITS) != 0,
        };
        sync();
        dest
    }
}

/// The reserve step of one detection (block-wide): chain its chunks, reserve
/// the string's arena space, complete its record and write the boundary
/// characters; mark its chunks skipped when the string does not fit. A
/// detection of at most `ntid()` (≤ `RESERVE_THREADS`) chunks is one round
/// whose values stay in registers across the reservation; longer ones chain
/// twice, counting and then writing.
///
/// # Safety
/// `states` holds the detection's `n` chunk states, all counted; `hw` is
/// the canvas's pixel count; the other pointers follow the kernels'
/// contract. Block-wide.
#[inline(always)]
unsafe fn reserve_detection(
    frame: &FrameParams,
    hw: u32,
    det: *mut DetRecord,
    host_det: *mut DetRecord,
    n: u32,
    states: *mut ChunkState,
    chars: *mut u8,
    host_chars: *mut u8,
    counters: *mut FrameCounters,
    sh: *mut u32,
) {
    // SAFETY (whole body): per the contract.
    unsafe {
        if n <= ntid() {
            let r = round(states, n, 0, 0, [0; 3], sh);
            let x = trailing(r.tot, r.prev, hw);
            let len = r.ctot + x.map_or(0, char_len);
            let d = reserve_string(
                frame, det, host_det, r.tot, len, chars, host_chars, counters, sh,
            );
            write_round(&r, n, 0, states, d);
            if let (Some(x), true, 0) = (x, d.fits, tid()) {
                let at = (d.off + r.ctot) as usize;
                write_chars(x, |j, ch| *d.host.add(at + j as usize) = ch);
            }
        } else {
            let (events, len) = chain(states, n, hw, sh, None);
            let d = reserve_string(
                frame, det, host_det, events, len, chars, host_chars, counters, sh,
            );
            chain(states, n, hw, sh, Some(d));
        }
    }
}

/// The reserve step, one block per detection slot: chain the detection's
/// chunks, reserve its string and write the boundary characters. Run again
/// after the host grew the arena (the chunk states stay valid). The
/// boundary characters go to the device arena `chars`, from where the write
/// pass copies them; the trailing count goes straight to the host arena
/// `host_chars` (mapped memory, as large as `chars`); so do the detection's
/// completed record (`host_dets`) and each image's count
/// (`host_det_count`, written by the image's block of query 0).
///
/// # Safety
/// As for [`rle_mask_count`], which ran before on the same stream; on a
/// rerun, `chars_used` and `overflowed` were cleared since; `host_dets`
/// holds `B*Q` records, `host_det_count` `B` counts, `host_chars` and
/// `chars` `chars_capacity` bytes each. Grid `(Q, B)`, a
/// multiple of 32 threads, at most `RESERVE_THREADS`.
#[unsafe(no_mangle)]
pub unsafe extern "ptx-kernel" fn rle_mask_reserve(
    frame: FrameParams,
    images: *const ImageParams,
    dets: *mut DetRecord,
    det_count: *const u32,
    rois: *const MaskRoi,
    chunks: *mut ChunkState,
    chars: *mut u8,
    counters: *mut FrameCounters,
    host_dets: *mut DetRecord,
    host_det_count: *mut u32,
    host_chars: *mut u8,
) {
    let sh = shared_bytes!("rle_mask_reserve_smem", 20736).cast::<u32>();
    // As in `rle_mask_count`: nothing is read before the count pass
    // completes, and the write pass may start on the SMs this grid leaves.
    grid_dependency_wait();
    launch_dependents();
    let (q, b) = (bid_x(), bid_y());
    // SAFETY (whole body): see the contract; the early return is uniform.
    unsafe {
        // The slot's chunk range and the canvas are loaded beside the
        // detection count, not after it: three independent loads, one
        // latency (the plan writes `chunks` and `item_start` of every slot,
        // so these reads are defined for a slot without a detection too).
        let slot = b * frame.queries + q;
        let roi = rois.add(slot as usize);
        let (n, start) = ((*roi).chunks, (*roi).item_start);
        let img = images.add(b as usize);
        let hw = (*img).canvas_h * (*img).canvas_w;
        if q == 0 && tid() == 0 {
            *host_det_count.add(b as usize) = *det_count.add(b as usize);
        }
        if !is_detection(det_count, q, b) {
            return;
        }
        reserve_detection(
            &frame,
            hw,
            dets.add(slot as usize),
            host_dets.add(slot as usize),
            n,
            chunks.add(start as usize),
            chars,
            host_chars,
            counters,
            sh,
        );
    }
}
