//! One module per subcommand; each takes its validated configuration.

pub mod bench;
pub mod demo;
pub mod info;
pub mod run;

use anyhow::Result;
use rle_reference::{ImageResult, Threshold};

use crate::config::Config;
use crate::frame::npz::Masks;
use crate::frame::Frame;

/// Runs a validated command.
pub fn dispatch(config: Config) -> Result<()> {
    match config {
        Config::Demo(c) => demo::demo(c),
        Config::Run(c) => run::run(c),
        Config::Bench(c) => bench::bench(c),
        Config::Info(c) => info::info(c),
    }
}

/// An error as one line: the cause chain (`{:#}`) with any newline flattened, so
/// scripts can grep it and people read it.
pub fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

/// e.g. `1 image 1920×1080, Q=100, C=91, masks 78×78 f32`.
pub fn describe_frame(frame: &Frame) -> String {
    let (b, q, c, mh, mw) = frame.tensors.dims();
    let dtype = match frame.tensors.masks {
        Masks::F32(_) => "f32",
        Masks::F16(_) => "f16",
        Masks::Bf16(_) => "bf16",
    };
    let sizes: Vec<String> = frame
        .metas
        .iter()
        .map(|m| format!("{}×{}", m.original_size.width, m.original_size.height))
        .collect();
    let mut sizes_text = sizes.join(", ");
    if sizes.len() > 3 && sizes.iter().all(|s| *s == sizes[0]) {
        sizes_text = format!("{} each", sizes[0]);
    }
    format!(
        "{b} image{} {sizes_text}, Q={q}, C={c}, masks {mh}×{mw} {dtype}",
        if b == 1 { "" } else { "s" }
    )
}

/// e.g. `0.4` or `per-class (90 values)`.
pub fn describe_threshold(t: &Threshold) -> String {
    match t {
        Threshold::Scalar(v) => format!("{v}"),
        Threshold::PerClass(v) => format!("per-class ({} values)", v.len()),
    }
}

/// Detections over all images of a result.
pub fn detections(results: &[ImageResult]) -> usize {
    results.iter().map(|r| r.detections.len()).sum()
}

/// Near-tie decisions over all images (CPU scores only).
pub fn near_decisions(results: &[ImageResult]) -> usize {
    results.iter().map(|r| r.near_decisions.len()).sum()
}

/// The note printed when CPU scores left decisions within the sigmoid tolerance.
pub fn near_note(count: usize) -> Option<String> {
    (count > 0).then(|| {
        format!(
            "note: {count} decision(s) depended on a score within the CPU sigmoid's few-ulp tolerance \
             (SPEC §2.1); the GPU, which is bit-exact, may decide them the other way"
        )
    })
}
