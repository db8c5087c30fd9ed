//! Ordering keys of sigmoid scores for the flat top-k (SPEC §2.2).
//!
//! Scores are non-negative (sigmoid never returns a negative number), so their
//! IEEE bits already sort like the values; NaN ranks above every number, so it
//! maps to the largest key. Ties on the key are broken by ascending flat index,
//! the order torch 2.11 was observed to use.

/// Key of a sigmoid score: larger key = ranks first.
#[inline(always)]
pub fn score_key(score: f32) -> u32 {
    if score.is_nan() {
        u32::MAX
    } else {
        // -0.0 cannot come out of the sigmoid, but map it like +0.0 anyway so
        // the key order is total over every score the kernel can see.
        score.to_bits() & 0x7FFF_FFFF
    }
}

/// The score a key came from (NaN for the NaN key).
#[inline(always)]
pub fn key_score(key: u32) -> f32 {
    if key == u32::MAX {
        f32::NAN
    } else {
        f32::from_bits(key)
    }
}

/// Whether entry `a = (key, flat)` ranks before entry `b` in the top-k order.
#[inline(always)]
pub fn ranks_before(a_key: u32, a_flat: u32, b_key: u32, b_flat: u32) -> bool {
    a_key > b_key || (a_key == b_key && a_flat < b_flat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_score_order_and_nan_ranks_first() {
        let scores = [
            0.0f32,
            1e-40,
            1.6458115e-38,
            0.4,
            f32::from_bits(0x3F7F_FFFE),
            1.0,
        ];
        for w in scores.windows(2) {
            assert!(score_key(w[0]) < score_key(w[1]), "{w:?}");
        }
        assert!(score_key(f32::NAN) > score_key(1.0));
        assert!(key_score(score_key(f32::NAN)).is_nan());
        assert_eq!(key_score(score_key(0.4)), 0.4);
        assert!(ranks_before(5, 9, 5, 10));
        assert!(!ranks_before(5, 10, 5, 9));
        assert!(ranks_before(6, 100, 5, 0));
    }
}
