//! `rle demo`: the embedded frame through the post-processor, its detections as a
//! table, the time per frame, and optionally the results JSON or the frame files.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rle_reference::rle::area;
use rle_reference::ImageResult;

use crate::backend::Backend;
use crate::coco;
use crate::config::DemoConfig;
use crate::demo;
use crate::frame::{self, options::Overrides};
use crate::output::{print, Output};
use crate::stats::ms;

/// GPU timing runs after the warm-up.
const GPU_RUNS: usize = 20;
/// The CPU fallback stops timing after this many runs or [`CPU_BUDGET`].
const CPU_RUNS: usize = 5;
const CPU_BUDGET: Duration = Duration::from_secs(2);

/// The detections of the first image as a table.
fn table(result: &ImageResult) -> Result<String> {
    let mut s = String::new();
    writeln!(
        s,
        "  #  {:<18} {:>9}  {:<26} {:>10} {:>6}",
        "class", "score", "box [x1, y1, x2, y2]", "mask area", "runs"
    )?;
    for (i, d) in result.detections.iter().enumerate() {
        let counts = d
            .mask
            .decode_counts()
            .context("the RLE produced for the demo does not decode")?;
        let name = demo::coco_names::name(i64::from(d.class_id)).unwrap_or("?");
        let [x1, y1, x2, y2] = d.xyxy.to_f32();
        writeln!(
            s,
            " {:>2}  {:<18} {:>9.6}  [{x1:>5}, {y1:>5}, {x2:>5}, {y2:>5}] {:>10} {:>6}",
            i + 1,
            format!("{} {name}", d.class_id),
            d.score,
            area(&counts),
            counts.len() / 2,
        )?;
    }
    Ok(s)
}

/// Runs `rle demo`.
pub fn demo(cfg: DemoConfig) -> Result<()> {
    // Opened first: an unwritable destination fails before the frame runs.
    let output = cfg.out.as_deref().map(Output::create).transpose()?;
    // With the results on standard output, everything else goes to stderr.
    let to_stdout = output.as_ref().is_some_and(Output::is_stdout);
    let report = |text: &str| -> Result<()> {
        if to_stdout {
            eprint!("{text}");
            Ok(())
        } else {
            print(text)
        }
    };
    if let Some(dir) = &cfg.save_frame {
        let (tensors, sidecar) = demo::parts()?;
        let (npz, json) = frame::save(dir, "demo", &tensors, &sidecar)?;
        report(&format!(
            "saved the demo frame as {} + {}\n",
            npz.display(),
            json.display()
        ))?;
    }
    let frame = demo::frame(&Overrides::default())?;
    let mut backend = Backend::open(cfg.device)?;
    let batch = frame.tensors.batch();
    let gpu = backend.is_gpu();
    let description = backend.describe();
    let mut run = || -> Result<(Vec<ImageResult>, Duration)> {
        let t = Instant::now();
        let r = backend
            .pp
            .run(&batch, &frame.metas, &frame.options)
            .context("the demo frame failed")?;
        Ok((r, t.elapsed()))
    };
    let start = Instant::now();
    // The first run also fills the GPU's buffer pool and resize tables: untimed there.
    let (results, first) = run()?;
    let mut times = Vec::new();
    if gpu {
        for _ in 0..GPU_RUNS {
            times.push(run()?.1);
        }
    } else {
        // The CPU path needs no warm-up; a slow machine (or a debug build) runs it once.
        times.push(first);
        while times.len() < CPU_RUNS && start.elapsed() < CPU_BUDGET {
            times.push(run()?.1);
        }
    }
    times.sort_unstable();
    let median = times[times.len() / 2];

    let mut s = String::new();
    writeln!(
        s,
        "rle demo: embedded frame ({}), rfdetr-seg-nano shapes, stretched to {}×{} for inference",
        super::describe_frame(&frame),
        demo::INFERENCE.width,
        demo::INFERENCE.height
    )?;
    writeln!(s, "device: {description}")?;
    writeln!(s)?;
    let image = &results[0];
    s.push_str(&table(image)?);
    writeln!(s)?;
    let masks: std::collections::HashSet<u32> = image.detections.iter().map(|d| d.query).collect();
    writeln!(
        s,
        "{} detections above threshold {} ({} distinct masks), COCO RLE at {}×{}",
        image.detections.len(),
        super::describe_threshold(&frame.options.threshold),
        masks.len(),
        image.image_size.width,
        image.image_size.height
    )?;
    let how = if gpu {
        format!(
            "GPU, host inputs incl. upload; median of {} runs after one warm-up",
            times.len()
        )
    } else {
        format!(
            "CPU fallback rle-cpu, {}; median of {} run(s)",
            crate::backend::threads(),
            times.len()
        )
    };
    writeln!(s, "time: {} per frame ({how})", ms(median))?;
    if let Some(note) = super::near_note(super::near_decisions(&results)) {
        writeln!(s, "{note}")?;
    }
    if let (Some(mut out), Some(path)) = (output, &cfg.out) {
        let records = coco::records(&frame, &results)?;
        coco::write_json(out.writer(), &records)
            .with_context(|| format!("{}: writing failed", path.display()))?;
        out.finish()?;
        let to = if to_stdout {
            "standard output".to_string()
        } else {
            path.display().to_string()
        };
        writeln!(s, "wrote {} detections to {to}", records.len())?;
    }
    report(&s)
}
