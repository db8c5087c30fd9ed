//! CPU sigmoid that follows CUDA's instruction sequence (SPEC §2.1), and ulp distances.
//!
//! Every step of the PTX sequence is reproduced exactly except one:
//! `ex2.approx.ftz.f32` (the hardware MUFU.EX2), whose results are undocumented
//! (SPEC §9 Q1). It is replaced by the correctly rounded `2^k` (computed in f64, then
//! rounded to f32) with the same flush-to-zero of subnormal inputs and outputs.
//! Invariant: the result is within [`SIGMOID_TOLERANCE_ULP`] of CUDA's and equal to it
//! most of the time; code that needs CUDA's exact bits takes scores from the GPU
//! (`postprocess_with_scores`).
//!
//! Measured against `torch.sigmoid` on an H100 (torch 2.11+cu130) over all 2^32 inputs
//! (`examples/sigmoid_vs_cuda.rs`): 98.44% equal, 0.68% at 1 ulp, 0.49% at 2, 10,246
//! inputs at 3 and 4,139 at 4 ulp, none further; NaN agrees everywhere. The 4-ulp cases
//! sit just below a power of two (e.g. x = −16.635544, s ≈ 2^-24), where MUFU.EX2's own
//! error (measured −2…+1 ulp against the correctly rounded `2^k`) counts double.

/// How far (in ulp) [`sigmoid`] may be from CUDA's `torch.sigmoid`: 4, the measured
/// maximum over every float32 input (see the module header); 3 would miss 4,139 inputs.
pub const SIGMOID_TOLERANCE_ULP: u32 = 4;

/// `0.00572498 = log2(e) / 252`: scales `-x` into the table index of the range reduction.
const LOG2E_OVER_252: f32 = f32::from_bits(0x3BBB_989D);
/// `12582913 = 1.5·2^23 + 1`: adding it puts the integer part in the low mantissa bits.
const SHIFTER: f32 = f32::from_bits(0x4B40_0001);
/// `-12583039 = -(1.5·2^23 + 127)`: removes the shifter and the exponent bias.
const NEG_SHIFTER_BIAS: f32 = f32::from_bits(0xCB40_007F);
/// High part of `log2(e)`.
const LOG2E_HI: f32 = f32::from_bits(0x3FB8_AA3B);
/// Low part of `log2(e)`.
const LOG2E_LO: f32 = f32::from_bits(0x32A5_7060);

/// `1 / (1 + exp(-x))` as CUDA computes it (SPEC §2.1), with the `ex2.approx`
/// step replaced by a correctly rounded `2^k` (see the module header).
pub fn sigmoid(x: f32) -> f32 {
    let a = -x;
    let t = saturate(a.mul_add(LOG2E_OVER_252, 0.5));
    let j = fma_round_down(t, 252.0, SHIFTER);
    let k = -(j + NEG_SHIFTER_BIAS);
    let k = a.mul_add(LOG2E_HI, k);
    let k = a.mul_add(LOG2E_LO, k);
    let e = ex2_ftz(k);
    // The low 9 bits of `j` (= 1 + floor(252·t)) become the exponent field of `p`.
    let p = f32::from_bits(j.to_bits() << 23);
    let d = e.mul_add(p, 1.0);
    1.0 / d
}

/// PTX `cvt.sat.f32.f32`: clamp to `[0, 1]`, NaN becomes `+0`.
fn saturate(t: f32) -> f32 {
    if t.is_nan() {
        0.0
    } else {
        t.clamp(0.0, 1.0)
    }
}

/// Stand-in for PTX `ex2.approx.ftz.f32`: subnormal inputs count as 0 and subnormal
/// results flush to +0 (ftz); the value itself is `2^k` correctly rounded, which
/// is the best a CPU can do without a model of MUFU.EX2 (SPEC §9 Q1).
fn ex2_ftz(k: f32) -> f32 {
    let k = if k.is_subnormal() { 0.0 } else { k };
    let e = f64::from(k).exp2() as f32;
    if e.is_subnormal() {
        0.0
    } else {
        e
    }
}

/// PTX `fma.rm.f32`: `a*b + c` with a single rounding toward −∞, exactly.
///
/// The product of two f32 is exact in f64; the f64 sum `s` plus its exact error
/// `err` (Knuth's TwoSum) represent `a*b + c` exactly. Rounding `s` to f32 (nearest)
/// lands on one of the two f32 neighbours of the exact value (f32 grid points are
/// f64 points, so the f64 rounding cannot cross one); if it landed above, step down.
pub fn fma_round_down(a: f32, b: f32, c: f32) -> f32 {
    let p = f64::from(a) * f64::from(b);
    let c = f64::from(c);
    let s = p + c;
    if !s.is_finite() {
        // Only inf/NaN operands get here (|a*b| < 2^256 cannot overflow f64).
        return s as f32;
    }
    let bp = s - c;
    let err = (p - bp) + (c - (s - bp));
    if s == 0.0 && err == 0.0 {
        // An exact zero sum is -0 under round-down unless both addends are +0 (IEEE 754 §6.3).
        let both_positive_zero =
            p == 0.0 && c == 0.0 && p.is_sign_positive() && c.is_sign_positive();
        return if both_positive_zero { 0.0 } else { -0.0 };
    }
    let r = s as f32;
    let above = f64::from(r) > s || (f64::from(r) == s && err < 0.0);
    if above {
        r.next_down()
    } else {
        r
    }
}

/// Distance in units in the last place between two floats, counted along the
/// ordered f32 line (`-0` and `+0` are the same point, so mixed signs add the
/// distances of each side from zero). NaN on either side gives `u32::MAX`.
pub fn ulp_distance(a: f32, b: f32) -> u32 {
    if a.is_nan() || b.is_nan() {
        return u32::MAX;
    }
    let key = |v: f32| -> i64 {
        let magnitude = i64::from(v.to_bits() & 0x7FFF_FFFF);
        if v.is_sign_negative() {
            -magnitude
        } else {
            magnitude
        }
    };
    let d = (key(a) - key(b)).unsigned_abs();
    u32::try_from(d).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fma_round_down_matches_floor_in_the_shifter_range() {
        // In [2^23, 2^24) the f32 spacing is 1, so round-down is floor.
        for i in 0..=1000u32 {
            let t = i as f32 / 1000.0;
            let want = 12_582_913.0 + (f64::from(t) * 252.0).floor();
            assert_eq!(
                f64::from(fma_round_down(t, 252.0, SHIFTER)),
                want,
                "t = {t}"
            );
        }
    }

    #[test]
    fn fma_round_down_rounds_toward_negative_infinity() {
        // 1 + 2^-30 is not representable: nearest gives 1, down gives 1; -(1 + 2^-30) gives the next float below -1.
        let tiny = f32::from_bits(0x3080_0000); // 2^-30
        assert_eq!(fma_round_down(tiny, 1.0, 1.0), 1.0);
        assert_eq!(fma_round_down(tiny, -1.0, -1.0), (-1.0f32).next_down());
        assert_eq!(fma_round_down(f32::MAX, 2.0, 0.0), f32::MAX);
        assert_eq!(fma_round_down(f32::MAX, -2.0, 0.0), f32::NEG_INFINITY);
        assert!(fma_round_down(1.0, -1.0, 1.0).is_sign_negative());
        assert!(fma_round_down(0.0, 1.0, 0.0).is_sign_positive());
        assert!(fma_round_down(f32::NAN, 1.0, 0.0).is_nan());
    }

    #[test]
    fn ulp_distance_counts_across_zero() {
        assert_eq!(ulp_distance(1.0, 1.0), 0);
        assert_eq!(ulp_distance(1.0, 1.0f32.next_up()), 1);
        assert_eq!(ulp_distance(0.0, -0.0), 0);
        assert_eq!(ulp_distance(f32::from_bits(1), -f32::from_bits(1)), 2);
        assert_eq!(ulp_distance(f32::NAN, 1.0), u32::MAX);
        assert_eq!(ulp_distance(f32::INFINITY, f32::MAX), 1);
        assert_eq!(
            ulp_distance(f32::INFINITY, f32::NEG_INFINITY),
            2 * 0x7F80_0000
        );
    }
}
