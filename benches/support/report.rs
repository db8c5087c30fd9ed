//! The results file `ours.json` (schema `rle-bench/1`, shared with
//! `scripts/bench_torch.py`'s `torch.json`) and the plain-text summary printed
//! at the end of a run.
//!
//! Layout: `{schema, source, device, host_cpu, settings, floor, results: [..]}`;
//! a result is `{id, group, config, axis, params, slots, distinct, detections,
//! input, stats}` with `stats` = `{n, p50_us, p90_us, p99_us, mean_us,
//! min_us, max_us}` or `null` when nothing was measured (criterion `--test`).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::configs::{Axis, BenchConfig};
use super::recorder::Stats;

/// What one configuration of one group measured, besides its samples.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Rotation slots.
    pub slots: usize,
    /// Detections of the whole batch in the first (untimed) run.
    pub detections: usize,
    /// `inputs::Input::identity` of batch 0.
    pub input: Value,
}

/// Everything a run measured.
#[derive(Debug)]
pub struct Report {
    out: Option<PathBuf>,
    file: &'static str,
    bench: &'static str,
    device: Value,
    settings: Value,
    floor: Value,
    results: Vec<Value>,
    lines: Vec<String>,
}

fn host_cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn line(id: &str, stats: Option<&Stats>) -> String {
    match stats {
        Some(s) => format!(
            "{id:<52} p50 {:>10.1} µs  p90 {:>10.1} µs  p99 {:>10.1} µs  (n = {})",
            s.p50, s.p90, s.p99, s.n
        ),
        None => format!("{id:<52} (no measurement samples)"),
    }
}

impl Report {
    /// An empty report for a run of `bench` with these settings; with `out`,
    /// the file `out/<file>` is rewritten after every benchmark, so a run
    /// killed at a time limit keeps what it measured.
    pub fn new(
        settings: Value,
        out: Option<&Path>,
        file: &'static str,
        bench: &'static str,
    ) -> Self {
        Self {
            out: out.map(Path::to_path_buf),
            file,
            bench,
            device: Value::Null,
            settings,
            floor: Value::Null,
            results: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// Records the GPU the run used.
    pub fn set_device(&mut self, info: &rle_host::DeviceInfo) {
        self.device = json!({
            "name": info.name,
            "compute_capability": [info.compute_capability.0, info.compute_capability.1],
            "driver_version": info.driver_version,
            "multiprocessors": info.multiprocessors,
        });
    }

    /// Records the floor's samples.
    pub fn set_floor(&mut self, id: &str, stats: Option<Stats>) {
        self.lines.push(line(id, stats.as_ref()));
        self.floor = json!({
            "id": id,
            "what": "empty kernel launch + 64-byte device-to-pinned-host copy + stream synchronize",
            "stats": stats.map(|s| s.json()),
        });
        self.save_or_warn();
    }

    /// Records one configuration of one group.
    pub fn push(
        &mut self,
        group: &str,
        axis: Axis,
        cfg: &BenchConfig,
        measured: Measured,
        stats: Option<Stats>,
    ) {
        let id = format!("{group}/{}", cfg.name());
        self.lines.push(line(&id, stats.as_ref()));
        self.results.push(json!({
            "id": id,
            "group": group,
            "config": cfg.name(),
            "axis": axis.name(),
            "params": cfg.params(),
            "slots": measured.slots,
            "distinct": super::inputs::DISTINCT,
            "detections": measured.detections,
            "input": measured.input,
            "stats": stats.map(|s| s.json()),
        }));
        self.save_or_warn();
    }

    fn save_or_warn(&self) {
        if let Err(e) = self.save() {
            eprintln!("warning: writing {} failed: {e}", self.file);
        }
    }

    /// Writes the results file into the output folder, if there is one;
    /// returns its path.
    fn save(&self) -> std::io::Result<Option<PathBuf>> {
        let Some(dir) = &self.out else {
            return Ok(None);
        };
        std::fs::create_dir_all(dir)?;
        let path = dir.join(self.file);
        let doc = json!({
            "schema": "rle-bench/1",
            "source": "ours",
            "bench": self.bench,
            "device": self.device,
            "host_cpu": host_cpu(),
            "settings": self.settings,
            "floor": self.floor,
            "results": self.results,
        });
        let text = serde_json::to_string_pretty(&doc).expect("JSON values serialise");
        std::fs::write(&path, text + "\n")?;
        Ok(Some(path))
    }

    /// Prints the summary under `title` and writes the results file a last time.
    pub fn finish(&self, title: &str) -> std::io::Result<()> {
        println!("\n{title}:");
        for l in &self.lines {
            println!("  {l}");
        }
        match self.save()? {
            Some(path) => println!("wrote {}", path.display()),
            None => {
                println!(
                    "(set RLE_BENCH_OUT=<dir> to write these percentiles to <dir>/{})",
                    self.file
                )
            }
        }
        Ok(())
    }
}
