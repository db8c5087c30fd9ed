//! Both resize modes against raw PyTorch-on-CUDA dumps, bit for bit
//! (`fixtures/resize_raw.json`, produced on the GPU machine).
//!
//! The antialiased path must match exactly (at equal sizes either torchvision's
//! identity or the raw kernel, depending on how the dump was made). For plain bilinear the FMA contraction
//! of the CUDA kernel is unknown (SPEC §9 Q5): every candidate [`BilinearVariant`] is
//! scored and the matching ones are printed (run with `--nocapture`); the test fails
//! unless [`BilinearVariant::DEFAULT`] matches. NaN matches NaN whatever its payload.
//! `RLE_RESIZE_RAW=<path>` points the test at another dump.

use std::path::PathBuf;

use ndarray::Array2;
use rle_reference::resize::antialiased::resize_with_tables;
use rle_reference::resize::{resize_antialiased, resize_bilinear_with, AxisTable, BilinearVariant};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    mode: String,
    in_h: usize,
    in_w: usize,
    out_h: usize,
    out_w: usize,
    input_bits: Vec<u32>,
    output_bits: Vec<u32>,
}

impl Case {
    fn input(&self) -> Array2<f32> {
        let v = self.input_bits.iter().map(|&b| f32::from_bits(b)).collect();
        Array2::from_shape_vec((self.in_h, self.in_w), v).expect("input_bits has in_h*in_w entries")
    }

    fn name(&self) -> String {
        format!(
            "{} {}×{} → {}×{}",
            self.mode, self.in_h, self.in_w, self.out_h, self.out_w
        )
    }

    /// Number of outputs whose bits differ from the dump (NaN = NaN).
    fn mismatches(&self, got: &Array2<f32>) -> usize {
        assert_eq!(got.dim(), (self.out_h, self.out_w), "{}", self.name());
        assert_eq!(
            self.output_bits.len(),
            self.out_h * self.out_w,
            "{}: output_bits length",
            self.name()
        );
        got.iter()
            .zip(&self.output_bits)
            .filter(|(g, &w)| {
                let w = f32::from_bits(w);
                !(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()))
            })
            .count()
    }
}

fn fixture_path() -> PathBuf {
    match std::env::var_os("RLE_RESIZE_RAW") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/resize_raw.json"),
    }
}

fn load() -> Fixture {
    let path = fixture_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "missing raw resize fixture {}: {e}. It is produced by PyTorch on CUDA on the GPU machine \
             (fixtures/resize_raw.json); this test cannot pass without it",
            path.display()
        )
    });
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not a resize_raw fixture: {e}", path.display()))
}

#[test]
fn antialiased_matches_cuda_bit_for_bit() {
    let fixture = load();
    let cases: Vec<&Case> = fixture
        .cases
        .iter()
        .filter(|c| c.mode == "antialiased")
        .collect();
    assert!(!cases.is_empty(), "the fixture has no antialiased case");
    let mut failures = Vec::new();
    for case in cases {
        let input = case.input();
        let got = resize_antialiased(input.view(), case.out_h, case.out_w);
        let mut bad = case.mismatches(&got);
        println!("{}: {bad} mismatches", case.name());
        if (case.in_h, case.in_w) == (case.out_h, case.out_w) && bad > 0 {
            // torchvision returns early at equal sizes (what the pipeline does), but a dump
            // made with `F.interpolate(antialias=True)` runs the kernel with weights (1, 0).
            let tx = AxisTable::new(case.in_w, case.out_w);
            let ty = AxisTable::new(case.in_h, case.out_h);
            bad = case.mismatches(&resize_with_tables(input.view(), &ty, &tx));
            println!("  as F.interpolate (kernel at equal size, no torchvision shortcut): {bad} mismatches");
        }
        if bad > 0 {
            failures.push(format!(
                "{}: {bad} of {} outputs differ",
                case.name(),
                got.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn bilinear_default_matches_cuda_and_candidates_are_reported() {
    let fixture = load();
    let cases: Vec<&Case> = fixture
        .cases
        .iter()
        .filter(|c| c.mode == "bilinear")
        .collect();
    assert!(!cases.is_empty(), "the fixture has no bilinear case");
    let mut candidates = BilinearVariant::candidates(true);
    candidates.extend(BilinearVariant::candidates(false));
    let mut matching = Vec::new();
    let mut default_failures = Vec::new();
    for variant in candidates {
        let mut total = 0;
        for case in &cases {
            let got = resize_bilinear_with(case.input().view(), case.out_h, case.out_w, variant);
            let bad = case.mismatches(&got);
            total += bad;
            if variant == BilinearVariant::DEFAULT && bad > 0 {
                default_failures.push(format!(
                    "{}: {bad} of {} outputs differ",
                    case.name(),
                    got.len()
                ));
            }
        }
        println!("{variant:?}: {total} mismatches");
        if total == 0 {
            matching.push(variant);
        }
    }
    println!("matching bilinear variants: {matching:#?}");
    assert!(
        default_failures.is_empty(),
        "BilinearVariant::DEFAULT does not match CUDA: {default_failures:#?}\nmatching variants: {matching:#?}"
    );
}
