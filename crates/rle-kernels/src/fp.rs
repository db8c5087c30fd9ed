//! Floating-point primitives with one definition per target: on the device they
//! map to the exact PTX instructions PyTorch's CUDA kernels use, on the host to
//! IEEE-equivalent std functions, so shared code computes the same bits on both.
//!
//! Plain `+ - * /` are safe to use everywhere: the NVPTX backend emits them as
//! `add.rn`/`mul.rn`/`div.rn`, which ptxas never contracts into FMAs. Every FMA
//! the reference has is therefore written out with [`fma`].

#[cfg(not(target_arch = "nvptx64"))]
extern crate std;

#[cfg(target_arch = "nvptx64")]
mod nv {
    unsafe extern "C" {
        #[link_name = "llvm.fma.f32"]
        pub fn fma_f32(a: f32, b: f32, c: f32) -> f32;
        #[link_name = "llvm.roundeven.f32"]
        pub fn roundeven_f32(a: f32) -> f32;
        #[link_name = "llvm.nvvm.ex2.approx.ftz.f"]
        pub fn ex2_approx_ftz(a: f32) -> f32;
        #[link_name = "llvm.nvvm.fma.rm.f"]
        pub fn fma_rm(a: f32, b: f32, c: f32) -> f32;
        #[link_name = "llvm.nvvm.saturate.f"]
        pub fn saturate(a: f32) -> f32;
        #[link_name = "llvm.nvvm.rcp.rn.f"]
        pub fn rcp_rn(a: f32) -> f32;
    }
}

/// `a*b + c` with a single rounding (IEEE fused multiply-add, RNE).
#[inline(always)]
pub fn fma(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(target_arch = "nvptx64")]
    // SAFETY: an LLVM intrinsic with no memory effects, defined for all inputs.
    unsafe {
        nv::fma_f32(a, b, c)
    }
    #[cfg(not(target_arch = "nvptx64"))]
    {
        a.mul_add(b, c)
    }
}

/// Round to the nearest integer, ties to even (torch `round`).
#[inline(always)]
pub fn round_half_even(a: f32) -> f32 {
    #[cfg(target_arch = "nvptx64")]
    // SAFETY: an LLVM intrinsic with no memory effects, defined for all inputs.
    unsafe {
        nv::roundeven_f32(a)
    }
    #[cfg(not(target_arch = "nvptx64"))]
    {
        a.round_ties_even()
    }
}

/// `torch.sigmoid` on CUDA, bit for bit: SPEC §2.1's instruction sequence
/// (nvcc's `expf` with FMA contraction, `ex2.approx.ftz`, `rcp.rn`). Only the
/// device has `ex2.approx`, so only the device has this function; the CPU
/// reference approximates it within 3 ulp.
#[cfg(target_arch = "nvptx64")]
#[inline(always)]
pub fn sigmoid_cuda(x: f32) -> f32 {
    // SAFETY: LLVM NVVM intrinsics with no memory effects, defined for all inputs.
    unsafe {
        let a = -x;
        let t = nv::saturate(fma(a, f32::from_bits(0x3BBB_989D), 0.5));
        let j = nv::fma_rm(t, 252.0, f32::from_bits(0x4B40_0001));
        let k = -(j + f32::from_bits(0xCB40_007F));
        let k = fma(a, f32::from_bits(0x3FB8_AA3B), k);
        let k = fma(a, f32::from_bits(0x32A5_7060), k);
        let e = nv::ex2_approx_ftz(k);
        let p = f32::from_bits(j.to_bits() << 23);
        let d = fma(e, p, 1.0);
        nv::rcp_rn(d)
    }
}

/// IEEE half → float (exact; every f16 is an f32).
#[inline(always)]
pub fn f16_bits_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1F);
    let man = u32::from(h & 0x3FF);
    if exp == 0 {
        // Zero or subnormal: man · 2^-24, exact in f32.
        let v = man as f32 * f32::from_bits(0x3380_0000);
        f32::from_bits(v.to_bits() | sign)
    } else if exp == 31 {
        f32::from_bits(sign | 0x7F80_0000 | (man << 13))
    } else {
        f32::from_bits(sign | ((exp + 112) << 23) | (man << 13))
    }
}

/// bfloat16 → float (exact: bf16 is the top half of an f32).
#[inline(always)]
pub fn bf16_bits_to_f32(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_conversions_are_exact_for_every_bit_pattern() {
        for h in 0..=u16::MAX {
            let a = f16_bits_to_f32(h);
            let b = half::f16::from_bits(h).to_f32();
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "{h:#x}"
            );
            let c = bf16_bits_to_f32(h);
            let d = half::bf16::from_bits(h).to_f32();
            assert!(
                c.to_bits() == d.to_bits() || (c.is_nan() && d.is_nan()),
                "{h:#x}"
            );
        }
    }

    #[test]
    fn round_half_even_matches_spec_examples() {
        for (v, r) in [
            (0.5f32, 0.0f32),
            (1.5, 2.0),
            (2.5, 2.0),
            (-0.5, -0.0),
            (-1.5, -2.0),
            (7.5, 8.0),
        ] {
            assert_eq!(round_half_even(v).to_bits(), r.to_bits(), "{v}");
        }
    }
}
