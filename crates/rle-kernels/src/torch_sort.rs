//! ATen's `SmallBitonicSort` network: the order `torch.sort(descending=True)`
//! returns on CUDA for at most 32 elements, ties included (the network is not
//! stable, and the reference must be reproduced tie for tie; above 32 elements
//! torch's sort is stable, so the top-k order stands). 32 slots, 16 virtual
//! threads each doing one compare-exchange per stage; entries past `n` are
//! invalid and sink to the end; the comparator ranks NaN first, then larger.

/// Slots of the network.
pub const SMALL_SORT_SIZE: usize = 32;

#[inline(always)]
fn ranks_first(a: f32, b: f32) -> bool {
    (a.is_nan() && !b.is_nan()) || a > b
}

/// Sorts `keys[..n]` descending with torch's network, permuting `vals` alike.
/// `n <= 32`; slots `n..32` are overwritten.
#[inline(always)]
pub fn small_bitonic_sort(
    keys: &mut [f32; SMALL_SORT_SIZE],
    vals: &mut [u32; SMALL_SORT_SIZE],
    n: usize,
) {
    let mut valid = [false; SMALL_SORT_SIZE];
    for (i, v) in valid.iter_mut().enumerate() {
        *v = i < n;
        if i >= n {
            keys[i] = 0.0;
            vals[i] = 0;
        }
    }
    let mut exchange = |stride: usize, size: Option<usize>| {
        for t in 0..SMALL_SORT_SIZE / 2 {
            let dir = match size {
                Some(size) => t & (size / 2) != 0,
                None => false,
            };
            let a = 2 * t - (t & (stride - 1));
            let b = a + stride;
            let swap = (ranks_first(keys[a], keys[b]) && valid[a]) || !valid[b];
            if swap == dir {
                keys.swap(a, b);
                vals.swap(a, b);
                valid.swap(a, b);
            }
        }
    };
    let mut size = 2;
    while size < SMALL_SORT_SIZE {
        let mut stride = size / 2;
        while stride > 0 {
            exchange(stride, Some(size));
            stride /= 2;
        }
        size *= 2;
    }
    let mut stride = SMALL_SORT_SIZE / 2;
    while stride > 0 {
        exchange(stride, None);
        stride /= 2;
    }
}

/// One slot of the network as seen from slot `lane`: its key, value and
/// whether it holds an entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slot {
    /// Score.
    pub key: f32,
    /// Payload.
    pub val: u32,
    /// Whether the slot holds an entry (`lane < n`).
    pub valid: bool,
}

/// The stages of the network in order: `(stride, Some(size))` for the
/// bitonic build, `(stride, None)` for the final descending merge.
pub const STAGES: [(usize, Option<usize>); 15] = [
    (1, Some(2)),
    (2, Some(4)),
    (1, Some(4)),
    (4, Some(8)),
    (2, Some(8)),
    (1, Some(8)),
    (8, Some(16)),
    (4, Some(16)),
    (2, Some(16)),
    (1, Some(16)),
    (16, None),
    (8, None),
    (4, None),
    (2, None),
    (1, None),
];

/// Bits per stage in [`STRIDE_LOG2`] and [`SIZE_LOG2`].
const STAGE_BITS: usize = 3;

/// [`STAGES`] packed into two integer constants, `STAGE_BITS` per stage:
/// the stride's log2 (`strides`) or the size's log2, 0 for `None` (sizes
/// are at least 2).
const fn pack(strides: bool) -> u64 {
    let mut bits = 0u64;
    let mut i = 0;
    while i < STAGES.len() {
        let (stride, size) = STAGES[i];
        let v = match (strides, size) {
            (true, _) => stride.trailing_zeros(),
            (false, Some(size)) => size.trailing_zeros(),
            (false, None) => 0,
        };
        bits |= (v as u64) << (STAGE_BITS * i);
        i += 1;
    }
    bits
}

/// Each stage's stride, log2, `STAGE_BITS` per stage.
const STRIDE_LOG2: u64 = pack(true);
/// Each stage's size, log2 (0: `None`), `STAGE_BITS` per stage.
const SIZE_LOG2: u64 = pack(false);
const _: () = assert!(STAGES.len() * STAGE_BITS <= 64);

/// Stage `i` of [`STAGES`], computed from two immediates. The device loop
/// uses this instead of indexing the table: LLVM keeps the loop rolled and
/// puts an indexed table in global memory, where each stage waited for a
/// dependent load (about 5 µs of the selection's 15 µs at the centre,
/// docs/BENCHMARKS.md, seventh round).
#[inline(always)]
pub fn stage(i: usize) -> (usize, Option<usize>) {
    let field = |bits: u64| ((bits >> (STAGE_BITS * i)) & 7) as u32;
    let size = field(SIZE_LOG2);
    (1 << field(STRIDE_LOG2), (size != 0).then(|| 1 << size))
}

/// The same network from one slot's point of view (a warp lane per slot,
/// the partner's slot fetched with a shuffle): whether slot `lane` takes its
/// partner `lane ^ stride`'s entry at this stage. Both slots of a pair
/// compute the same decision, so they swap together; identical to
/// [`small_bitonic_sort`]'s compare-exchange (host test
/// `lane_view_equals_the_network`).
#[inline(always)]
pub fn takes_partner(
    lane: usize,
    stride: usize,
    size: Option<usize>,
    mine: Slot,
    theirs: Slot,
) -> bool {
    let (a, b, a_idx) = if lane & stride == 0 {
        (mine, theirs, lane)
    } else {
        (theirs, mine, lane ^ stride)
    };
    // Pair t of the serial loop has lower slot a_idx; its direction bit
    // t & (size/2) is bit `size` of a_idx (stride <= size/2).
    let dir = match size {
        Some(size) => a_idx & size != 0,
        None => false,
    };
    let swap = (ranks_first(a.key, b.key) && a.valid) || !b.valid;
    swap == dir
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lane view run over 32 simulated lanes.
    fn lane_sort(keys: &mut [f32; SMALL_SORT_SIZE], vals: &mut [u32; SMALL_SORT_SIZE], n: usize) {
        let mut slots: [Slot; SMALL_SORT_SIZE] = core::array::from_fn(|i| Slot {
            key: if i < n { keys[i] } else { 0.0 },
            val: if i < n { vals[i] } else { 0 },
            valid: i < n,
        });
        for (stride, size) in STAGES {
            let before = slots;
            for lane in 0..SMALL_SORT_SIZE {
                let p = lane ^ stride;
                if takes_partner(lane, stride, size, before[lane], before[p]) {
                    slots[lane] = before[p];
                }
            }
        }
        for i in 0..SMALL_SORT_SIZE {
            keys[i] = slots[i].key;
            vals[i] = slots[i].val;
        }
    }

    #[test]
    fn lane_view_equals_the_network() {
        let mut next = crate::test_rng::below(0x2545_F491_4F6C_DD1Du64);
        let palette = [0.0f32, 0.5, 0.5, 0.25, 1.0, f32::NAN, 0.75, 1e-30];
        for _ in 0..20_000 {
            let n = next(33) as usize;
            let mut k1 = [0f32; SMALL_SORT_SIZE];
            let mut v1 = [0u32; SMALL_SORT_SIZE];
            for i in 0..n {
                k1[i] = palette[next(palette.len() as u64) as usize];
                v1[i] = i as u32;
            }
            let (mut k2, mut v2) = (k1, v1);
            small_bitonic_sort(&mut k1, &mut v1, n);
            lane_sort(&mut k2, &mut v2, n);
            assert_eq!(v1[..n], v2[..n], "n = {n}");
            for i in 0..n {
                assert_eq!(k1[i].to_bits(), k2[i].to_bits());
            }
        }
    }

    #[test]
    fn stages_are_the_networks_loops() {
        let mut stages = [(0usize, None::<usize>); 15];
        let mut i = 0;
        let mut size = 2;
        while size < SMALL_SORT_SIZE {
            let mut stride = size / 2;
            while stride > 0 {
                stages[i] = (stride, Some(size));
                i += 1;
                stride /= 2;
            }
            size *= 2;
        }
        let mut stride = SMALL_SORT_SIZE / 2;
        while stride > 0 {
            stages[i] = (stride, None);
            i += 1;
            stride /= 2;
        }
        assert_eq!(stages, STAGES);
    }

    #[test]
    fn packed_stages_are_the_table() {
        for (i, &st) in STAGES.iter().enumerate() {
            assert_eq!(stage(i), st, "stage {i}");
        }
    }
}
