//! COCO compressed-RLE characters (pycocotools `rleToString`, SPEC §4.2) for
//! one count at a time, so the mask kernel can size and write each count's
//! characters in parallel once it knows the count two places back.

/// The value actually encoded for count `index`: the count itself for the first
/// three, else its difference to the count two places back (same run type).
#[inline(always)]
pub fn coded_value(index: u64, count: u32, count_two_back: u32) -> i64 {
    if index > 2 {
        i64::from(count) - i64::from(count_two_back)
    } else {
        i64::from(count)
    }
}

/// Characters needed for `x` (1..=7).
#[inline(always)]
pub fn char_len(mut x: i64) -> u32 {
    let mut n = 0;
    loop {
        let c = x & 0x1F;
        x >>= 5;
        n += 1;
        let more = if c & 0x10 != 0 { x != -1 } else { x != 0 };
        if !more {
            return n;
        }
    }
}

/// Writes the characters of `x` through `put(i, byte)` and returns their count.
#[inline(always)]
pub fn write_chars(mut x: i64, mut put: impl FnMut(u32, u8)) -> u32 {
    let mut n = 0;
    loop {
        let mut c = x & 0x1F;
        x >>= 5;
        let more = if c & 0x10 != 0 { x != -1 } else { x != 0 };
        if more {
            c |= 0x20;
        }
        put(n, (c + 48) as u8);
        n += 1;
        if !more {
            return n;
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn encode(counts: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, &c) in counts.iter().enumerate() {
            let back = if i >= 2 { counts[i - 2] } else { 0 };
            let x = coded_value(i as u64, c, back);
            let before = out.len();
            let n = write_chars(x, |_, b| out.push(b));
            assert_eq!(n as usize, out.len() - before);
            assert_eq!(n, char_len(x));
        }
        out
    }

    #[test]
    fn spec_examples_encode_byte_for_byte() {
        assert_eq!(encode(&[2, 5, 2]), b"252");
        assert_eq!(encode(&[0, 4]), b"04");
        assert_eq!(encode(&[2, 4, 6]), b"246");
        assert_eq!(encode(&[0, 1, 5, 3, 2, 3, 5, 1]), b"0152M03N");
        assert_eq!(encode(&[100, 20, 300, 5, 40]), b"T3d0\\9AlG");
        assert_eq!(encode(&[8_294_400]), b"PPTm7");
        assert_eq!(encode(&[0, 2_073_600]), b"0PPYo1");
    }

    #[test]
    fn extreme_deltas_fit_in_seven_chars() {
        assert_eq!(char_len(i64::from(u32::MAX)), 7);
        assert_eq!(char_len(-i64::from(u32::MAX)), 7);
        assert_eq!(char_len(0), 1);
        assert_eq!(char_len(15), 1);
        assert_eq!(char_len(16), 2);
        assert_eq!(char_len(-16), 1);
        assert_eq!(char_len(-17), 2);
    }
}
