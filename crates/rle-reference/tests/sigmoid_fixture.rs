//! The CPU sigmoid against CUDA `torch.sigmoid` outputs (`fixtures/sigmoid.json`):
//! every output within `SIGMOID_TOLERANCE_ULP`, NaN exactly where CUDA has NaN, and
//! most outputs bit-identical. `RLE_SIGMOID_FIXTURE=<path>` points at another dump.

use std::path::PathBuf;

use rle_reference::sigmoid::{sigmoid, ulp_distance, SIGMOID_TOLERANCE_ULP};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    count: usize,
    input_bits: String,
    output_bits: String,
}

/// Standard base64 (with padding) → bytes; the fixture is trusted, so no error paths.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for chunk in text.as_bytes().chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().filter(|&c| c != b'=').collect();
        let mut acc = 0u32;
        for &c in &data {
            acc = (acc << 6) | value(c);
        }
        acc <<= 6 * (4 - data.len() as u32);
        out.extend_from_slice(&acc.to_be_bytes()[1..data.len()]);
    }
    out
}

fn u32s(text: &str) -> Vec<u32> {
    base64_decode(text)
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn base64_decoder_round_trips_known_strings() {
    assert_eq!(base64_decode("TWFu"), b"Man");
    assert_eq!(base64_decode("TWE="), b"Ma");
    assert_eq!(base64_decode("TQ=="), b"M");
}

#[test]
fn cpu_sigmoid_is_within_tolerance_of_cuda() {
    let path = match std::env::var_os("RLE_SIGMOID_FIXTURE") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sigmoid.json"),
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("missing sigmoid fixture {}: {e}. It is produced by PyTorch on CUDA (fixtures/sigmoid.json)", path.display())
    });
    let fixture: Fixture =
        serde_json::from_str(&text).expect("sigmoid.json has count, input_bits, output_bits");
    let (inputs, outputs) = (u32s(&fixture.input_bits), u32s(&fixture.output_bits));
    assert_eq!(
        (inputs.len(), outputs.len()),
        (fixture.count, fixture.count)
    );
    let last = SIGMOID_TOLERANCE_ULP as usize + 1;
    let mut histogram = vec![0usize; last + 1];
    let mut failures = Vec::new();
    for (&x, &want) in inputs.iter().zip(&outputs) {
        let (x, want) = (f32::from_bits(x), f32::from_bits(want));
        let got = sigmoid(x);
        if got.is_nan() || want.is_nan() {
            if got.is_nan() != want.is_nan() {
                failures.push(format!("x = {x:e}: cpu {got:e}, cuda {want:e}"));
            }
            continue;
        }
        let d = ulp_distance(got, want);
        histogram[(d as usize).min(last)] += 1;
        if d > SIGMOID_TOLERANCE_ULP {
            failures.push(format!(
                "x = {x:e} ({:#010x}): cpu {:#010x}, cuda {:#010x}, {d} ulp",
                x.to_bits(),
                got.to_bits(),
                want.to_bits()
            ));
        }
    }
    println!("ulp histogram 0..={SIGMOID_TOLERANCE_ULP}, more: {histogram:?}");
    assert!(
        failures.is_empty(),
        "{} outputs out of tolerance: {failures:#?}",
        failures.len()
    );
    let exact = histogram[0] as f64 / inputs.len() as f64;
    // About 90% on this sample (dense in [-20, 20], where the MUFU.EX2 error shows most).
    assert!(exact > 0.85, "only {:.1}% bit-identical", 100.0 * exact);
}
