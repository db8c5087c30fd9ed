//! Counts ⇄ compressed COCO string (SPEC §4.2): pycocotools' `rleToString` and
//! `rleFrString`.
//!
//! Invariants: from the 4th count on, each value is the delta against the count two
//! places back (same run type); values are written as 5-bit little-endian groups with
//! a continuation bit (0x20) and bit 4 of the last group as the sign, each group plus
//! 48. Output bytes are always in 48..=111. [`decompress`] rejects what pycocotools
//! would silently misread (bytes outside the alphabet, truncated groups, values
//! outside `0..=u32::MAX`) and never panics.

use super::RleError;

/// Compresses counts into the COCO string, byte-identical to `rleToString`.
pub fn compress(counts: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(counts.len() * 2);
    for (i, &count) in counts.iter().enumerate() {
        let mut x = i64::from(count);
        if i > 2 {
            x -= i64::from(counts[i - 2]);
        }
        loop {
            let mut c = (x & 0x1F) as u8;
            x >>= 5; // arithmetic shift: floor division by 32
            let more = if c & 0x10 != 0 { x != -1 } else { x != 0 };
            if more {
                c |= 0x20;
            }
            out.push(c + 48);
            if !more {
                break;
            }
        }
    }
    out
}

/// Most 5-bit groups a value may use: 12 groups hold 60 bits, far beyond any
/// difference of two u32 counts (34 bits, 7 groups).
const MAX_GROUPS: u32 = 12;

/// Decompresses a COCO string into counts (`rleFrString`), with typed errors.
pub fn decompress(bytes: &[u8]) -> Result<Vec<u32>, RleError> {
    let mut counts: Vec<u32> = Vec::with_capacity(bytes.len());
    let mut p = 0;
    while p < bytes.len() {
        let index = counts.len();
        let mut x: i64 = 0;
        let mut k: u32 = 0;
        loop {
            let Some(&byte) = bytes.get(p) else {
                return Err(RleError::Truncated {
                    index,
                    position: p - 1,
                });
            };
            if !(48..=111).contains(&byte) {
                return Err(RleError::InvalidByte { byte, position: p });
            }
            if k == MAX_GROUPS {
                return Err(RleError::Overflow {
                    index,
                    value: i64::MAX,
                });
            }
            let c = i64::from(byte - 48);
            x |= (c & 0x1F) << (5 * k);
            p += 1;
            k += 1;
            if c & 0x20 == 0 {
                if c & 0x10 != 0 {
                    x |= -1i64 << (5 * k); // sign-extend from the last group's bit 4
                }
                break;
            }
        }
        if index > 2 {
            x += i64::from(counts[index - 2]);
        }
        if x < 0 {
            return Err(RleError::NegativeCount { index, value: x });
        }
        let count = u32::try_from(x).map_err(|_| RleError::Overflow { index, value: x })?;
        counts.push(count);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_hand_traces() {
        assert_eq!(compress(&[0, 1, 5, 3, 2, 3, 5, 1]), b"0152M03N");
        assert_eq!(compress(&[100, 20, 300, 5, 40]), b"T3d0\\9AlG");
        assert_eq!(
            decompress(b"T3d0\\9AlG").unwrap(),
            vec![100, 20, 300, 5, 40]
        );
    }

    #[test]
    fn malformed_strings_are_typed_errors() {
        assert_eq!(
            decompress(b"T"),
            Err(RleError::Truncated {
                index: 0,
                position: 0
            })
        );
        assert_eq!(
            decompress(b"0 "),
            Err(RleError::InvalidByte {
                byte: b' ',
                position: 1
            })
        );
        // 0, 1, 5, then delta -3 against count 1 → -2.
        assert_eq!(
            decompress(b"015M"),
            Err(RleError::NegativeCount {
                index: 3,
                value: -2
            })
        );
        // 2^32 needs 7 groups: 0x20-continued zeros then 4 (bits 30..34 = 0b100 → 2^32).
        assert!(matches!(
            decompress(b"PPPPPP4"),
            Err(RleError::Overflow { index: 0, .. })
        ));
        assert!(matches!(
            decompress(b"PPPPPPPPPPPPP0"),
            Err(RleError::Overflow {
                value: i64::MAX,
                ..
            })
        ));
        assert_eq!(decompress(b""), Ok(vec![]));
    }

    #[test]
    fn u32_max_round_trips_and_needs_seven_characters() {
        let counts = [u32::MAX, 0, u32::MAX, 0, u32::MAX];
        let s = compress(&counts);
        assert_eq!(decompress(&s).unwrap(), counts);
        assert_eq!(compress(&[u32::MAX]).len(), 7);
    }
}
