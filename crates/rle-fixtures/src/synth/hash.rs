//! Integer hashing of the synthetic generator: splitmix64 streams and uniform draws.
//!
//! Mirrors `scripts/synth.py` (`mix_int`, `key`, `draw_np`, `uniform_np`) exactly:
//! all arithmetic is wrapping u64, and a draw in `[lo, hi]` is `lo + h % (hi-lo+1)`
//! (the modulo bias is irrelevant here and keeps both sides trivially equal).

/// Golden-ratio increment of splitmix64.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
/// First multiplier of the splitmix64 finaliser.
const MIX1: u64 = 0xBF58_476D_1CE4_E5B9;
/// Second multiplier of the splitmix64 finaliser.
const MIX2: u64 = 0x94D0_49BB_1331_11EB;

/// Stream of the background logits.
pub const TAG_BG: u64 = 1;
/// Stream of the per-slot blob parameters.
pub const TAG_BLOB: u64 = 2;
/// Stream of the per-pixel mask noise.
pub const TAG_NOISE: u64 = 3;
/// Stream of the per-pixel values of the all-negative / all-positive mask modes.
pub const TAG_FLAT: u64 = 5;
/// Base of the logit fill streams (fill `n` uses `TAG_FILL + n`).
pub const TAG_FILL: u64 = 0x100;

/// The splitmix64 finaliser (with the increment folded in first).
pub const fn mix(z: u64) -> u64 {
    let z = z.wrapping_add(GOLDEN);
    let z = (z ^ (z >> 30)).wrapping_mul(MIX1);
    let z = (z ^ (z >> 27)).wrapping_mul(MIX2);
    z ^ (z >> 31)
}

/// The key of stream `tag` under `seed`.
pub const fn key(seed: u64, tag: u64) -> u64 {
    mix(mix(seed) ^ tag)
}

/// The `i`-th raw draw of a stream.
pub const fn draw(key: u64, i: u64) -> u64 {
    mix(key ^ i)
}

/// A draw uniform in `[lo, hi]` (inclusive; requires `lo <= hi`).
pub fn uniform(key: u64, i: u64, lo: i64, hi: i64) -> i64 {
    debug_assert!(lo <= hi, "empty range [{lo}, {hi}]");
    let span = (hi - lo + 1) as u64;
    lo + (draw(key, i) % span) as i64
}

/// A draw in `[0, n)` as an index.
pub fn pick(key: u64, i: u64, n: usize) -> usize {
    (draw(key, i) % n as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // splitmix64 from state 0 yields mix(0), mix(GOLDEN), ...: the published
        // first output of splitmix64(seed = 0) is 0xE220A8397B1DCDAF.
        assert_eq!(mix(0), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn uniform_stays_in_range() {
        let k = key(7, TAG_BG);
        for i in 0..1000 {
            let v = uniform(k, i, -5, 3);
            assert!((-5..=3).contains(&v));
        }
    }
}
