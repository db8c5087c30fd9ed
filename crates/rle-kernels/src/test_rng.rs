//! A tiny deterministic generator for the host unit tests (xorshift64): the
//! same cases on every run, no dependency in a `no_std` crate.

/// A generator of values below `m` (`m > 0`) from `seed` (non-zero).
pub(crate) fn below(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |m| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    }
}
