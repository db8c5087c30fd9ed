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
