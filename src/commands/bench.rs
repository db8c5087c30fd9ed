//! `rle bench`: replays frames and reports latency percentiles and throughput.
//!
//! - GPU: each frame is uploaded once (`Postprocessor::upload`), then every sample
//!   is one `run_device` call on inputs already in device memory (the zero-copy path
//!   a TensorRT or PyTorch user takes): parameter upload, four kernel launches,
//!   one stream synchronization and the results assembled on the host.
//! - CPU: every sample is one `rle_cpu::postprocess` call: the sparse CPU path the
//!   post-processor falls back to, equal to `rle_reference::postprocess` (rayon threads).
//!
//! Samples are per frame file (one batch); warm-up passes are untimed.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::backend::{cpu_name, Backend};
use crate::config::{BenchConfig, BenchSource};
use crate::demo;
use crate::frame::{self, Frame};
use crate::output::print;
use crate::progress;
use crate::stats::{ms, Summary};

fn line(s: &mut String, passes: usize, warmup: usize, sum: &Summary, images: usize) -> Result<()> {
    writeln!(
        s,
        "  {passes} pass(es) after {warmup} warm-up: p50 {}  p90 {}  p99 {}  max {}  (mean {}, {} samples)  {:.1} images/s",
        ms(sum.p50),
        ms(sum.p90),
        ms(sum.p99),
        ms(sum.max),
        ms(sum.mean),
        sum.count,
        sum.per_second(images * passes)
    )?;
    Ok(())
}

/// Times `passes` passes over the frames with `one` after `warmup` untimed passes.
fn measure(
    frames: &[Frame],
    warmup: usize,
    passes: usize,
    label: &str,
    mut one: impl FnMut(usize) -> Result<()>,
) -> Result<Vec<Duration>> {
    for _ in 0..warmup {
        for i in 0..frames.len() {
            one(i)?;
        }
    }
    let bar = progress::bar((passes * frames.len()) as u64, "samples", true);
    bar.set_prefix(label.to_string());
    let mut samples = Vec::with_capacity(passes * frames.len());
    for _ in 0..passes {
        for i in 0..frames.len() {
            let t = Instant::now();
            one(i)?;
            samples.push(t.elapsed());
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(samples)
}

/// Runs `rle bench`.
pub fn bench(cfg: BenchConfig) -> Result<()> {
    let frames: Vec<Frame> = match &cfg.source {
        BenchSource::Demo => vec![demo::frame(&cfg.overrides)?],
        BenchSource::Frames(paths) => paths
            .iter()
            .map(|p| frame::load(p, &cfg.overrides))
            .collect::<Result<_>>()?,
    };
    let mut warned = std::collections::HashSet::new();
    for w in frames.iter().flat_map(|f| &f.warnings) {
        if warned.insert(w) {
            eprintln!("warning: {w}");
        }
    }
    let images: usize = frames.iter().map(Frame::images).sum();
    let mut backend = Backend::open(cfg.device)?;

    let mut s = String::new();
    let what = match &cfg.source {
        BenchSource::Demo => "the embedded demo frame".to_string(),
        BenchSource::Frames(p) => format!("{} frame file(s)", p.len()),
    };
    writeln!(s, "rle bench: {what}, {images} image(s) per pass")?;
    for f in frames.iter().take(3) {
        writeln!(s, "  {}: {}", f.name(), super::describe_frame(f))?;
    }
    if frames.len() > 3 {
        writeln!(s, "  … and {} more", frames.len() - 3)?;
    }
    print(&s)?;
    s.clear();

    let (gpu_passes, cpu_passes) = cfg.passes(backend.is_gpu());
    let mut gpu_p50 = None;
    if backend.is_gpu() {
        let uploads = frames
            .iter()
            .map(|f| backend.pp.upload(&f.tensors.batch()))
            .collect::<rle_host::Result<Vec<_>>>()
            .context("uploading the frames to the GPU failed")?;
        let pp = &mut backend.pp;
        let samples = measure(&frames, cfg.warmup, gpu_passes, "GPU", |i| {
            let f = &frames[i];
            // SAFETY: `uploads[i]` owns device buffers holding frame i's tensors in the
            // shapes its `inputs()` declares; they live until this function returns and
            // nothing writes them; `None` selects the post-processor's own stream.
            unsafe { pp.run_device(&uploads[i].inputs(), None, &f.metas, &f.options) }
                .with_context(|| format!("{}: GPU post-processing failed", f.npz.display()))?;
            Ok(())
        })?;
        let sum = Summary::of(&samples).context("no GPU samples")?;
        gpu_p50 = Some(sum.p50);
        writeln!(s, "{}", backend.describe())?;
        writeln!(
            s,
            "  device-input path: inputs uploaded once; a sample is one run_device call \
             (parameter upload, 4 kernel launches, 1 sync, results assembled on the host)"
        )?;
        line(&mut s, gpu_passes, cfg.warmup, &sum, images)?;
    } else {
        match backend.cpu_reason.as_deref() {
            Some("--cpu") => writeln!(s, "GPU: skipped (--cpu); CPU fallback only")?,
            reason => writeln!(
                s,
                "GPU: none ({}); CPU fallback only",
                reason.unwrap_or("no GPU")
            )?,
        }
    }
    print(&s)?;
    s.clear();

    // The CPU path is orders of magnitude slower: one warm-up pass is plenty.
    let cpu_warmup = cfg.warmup.min(1);
    let mut detections = vec![0; frames.len()];
    let samples = measure(&frames, cpu_warmup, cpu_passes, "CPU", |i| {
        let f = &frames[i];
        let r = rle_cpu::postprocess(&f.tensors.batch(), &f.metas, &f.options)
            .with_context(|| format!("{}: post-processing failed", f.npz.display()))?;
        detections[i] = super::detections(&r);
        Ok(())
    })?;
    let sum = Summary::of(&samples).context("no CPU samples")?;
    writeln!(
        s,
        "CPU fallback rle-cpu on {} (sparse path, {} of rayon; results equal to rle_reference::postprocess)",
        cpu_name(),
        crate::backend::threads()
    )?;
    line(&mut s, cpu_passes, cpu_warmup, &sum, images)?;
    writeln!(
        s,
        "{} detection(s) per pass",
        detections.iter().sum::<usize>()
    )?;
    if let Some(g) = gpu_p50 {
        writeln!(
            s,
            "GPU speed-up at p50: {:.0}×",
            sum.p50.as_secs_f64() / g.as_secs_f64().max(f64::MIN_POSITIVE)
        )?;
    }
    print(&s)
}
