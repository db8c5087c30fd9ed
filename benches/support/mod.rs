//! Shared pieces of the criterion benches: the configurations
//! ([`configs`]), which of them criterion will run ([`filter`]), their inputs
//! ([`inputs`]) and their rotation ([`rotation`]), per-iteration percentiles
//! ([`recorder`]), the launch floor ([`floor`]), the JSON results
//! ([`report`]), criterion groups ([`group`]), the GPU post-processor
//! ([`open_gpu`]) and the run settings read from the environment
//! ([`Settings`]).
//!
//! Timing settings come from environment variables rather than criterion's
//! `--warm-up-time`/`--measurement-time` flags, because the recorder must know
//! the warm-up time that criterion applies.

pub mod configs;
pub mod filter;
pub mod floor;
pub mod inputs;
pub mod recorder;
pub mod report;
pub mod rotation;

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};

/// Which configurations also run the (slow) CPU reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuConfigs {
    /// None.
    None,
    /// The centre configuration only (default).
    Centre,
    /// Every configuration (minutes at 4K and 100 detections).
    All,
}

/// Run settings (environment variables, defaults in brackets):
/// - `RLE_BENCH_OUT`: folder for `ours.json` [not written]
/// - `RLE_BENCH_WARMUP_S` [1], `RLE_BENCH_MEASURE_S` [2], `RLE_BENCH_SAMPLES` [50]:
///   criterion's warm-up, measurement time and sample count of the GPU groups
/// - `RLE_BENCH_CPU_MEASURE_S` [3]: measurement time of the CPU group (10 samples)
/// - `RLE_BENCH_CPU`: `centre` | `all` | `none` [centre]
/// - `RLE_BENCH_ROTATE_MIB` [128]: device input bytes to rotate over per configuration
/// - `RLE_BENCH_REQUIRE_GPU=1`: panic instead of skipping the GPU groups without a GPU
/// - `RLE_BENCH_CHUNK_PIXELS`: the mask kernels' smallest chunk (`set_min_chunk_pixels`)
///   [the library's default]; results do not depend on it, only the split of the work
/// - `RLE_BENCH_ITEM_BUDGET`: items the mask plan may make (`set_item_budget`) [the
///   library's default]; like the chunk size, it changes only the split of the work
/// - `RLE_BENCH_STORE_BYTES`: chunk-store bytes per item (`set_chunk_store_bytes`)
///   [the library's default]; changes only which pass writes a chunk's characters
/// - `RLE_BENCH_UNIFORM=0`: the mask passes evaluate every pixel (`set_uniform_groups`)
///   [1: uniform groups decided without evaluation, the library's default]
/// - `RLE_BENCH_ITEM_TARGET`: items the mask plan aims at (`set_item_target`; 0: none)
///   [the library's default: the item passes' grid]
/// - `RLE_BENCH_MAX_CHUNK_PIXELS`: largest chunk the target asks for
///   (`set_max_chunk_pixels`) [the library's default]
/// - `RLE_BENCH_ITEM_QUEUE=0`: the item passes stride over items instead of taking
///   them from a queue (`set_item_queue`) [1: the queue, the library's default]
/// - `RLE_BENCH_WIDE_EVENTS`: events a wide tile of the mask passes encodes at once
///   (`set_wide_events`; 0: no wide tiles) [the library's default]
/// - `RLE_BENCH_RESERVE_THREADS`: threads per block of the reserve step
///   (`set_reserve_threads`) [the library's default]
/// - `RLE_BENCH_PROGRAMMATIC=0`: the item passes launched one after the other
///   instead of programmatically on sm_90 (`set_programmatic_launch`) [1: the
///   library's default]
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where `ours.json` goes.
    pub out: Option<std::path::PathBuf>,
    /// Criterion warm-up time (every group).
    pub warm_up: Duration,
    /// Criterion measurement time of the GPU groups.
    pub measure: Duration,
    /// Criterion sample count of the GPU groups.
    pub samples: usize,
    /// Criterion measurement time of the CPU group.
    pub cpu_measure: Duration,
    /// Which configurations run the CPU reference.
    pub cpu: CpuConfigs,
    /// Device input bytes rotated over per configuration.
    pub rotate_bytes: usize,
    /// Fail instead of skipping the GPU groups when no GPU can be used.
    pub require_gpu: bool,
    /// The mask kernels' smallest chunk of ROI pixels (`None`: the library's default).
    pub chunk_pixels: Option<u32>,
    /// Items the mask plan aims at (`RLE_BENCH_ITEM_BUDGET`).
    pub item_budget: Option<u32>,
    /// Chunk-store bytes per item (`RLE_BENCH_STORE_BYTES`).
    pub store_bytes: Option<u32>,
    /// Uniform groups on (`RLE_BENCH_UNIFORM`, default on).
    pub uniform: bool,
    /// Events a wide tile encodes at once (`RLE_BENCH_WIDE_EVENTS`).
    pub wide_events: Option<u32>,
    /// Threads per block of the reserve step (`None`: the library's default).
    pub reserve_threads: Option<u32>,
    /// Items the mask plan aims at (`RLE_BENCH_ITEM_TARGET`).
    pub item_target: Option<u32>,
    /// Largest chunk the target asks for (`RLE_BENCH_MAX_CHUNK_PIXELS`).
    pub max_chunk_pixels: Option<u32>,
    /// Items taken from a queue (`RLE_BENCH_ITEM_QUEUE`, default on).
    pub item_queue: bool,
    /// Programmatic launches of the item passes (`RLE_BENCH_PROGRAMMATIC`,
    /// default on).
    pub programmatic: bool,
}

fn env_f64(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} should be a number")),
        Err(_) => default,
    }
}

/// An optional count from the environment (`None` when unset); `what` names
/// the unit in the panic for a value that is not one.
fn env_count(name: &str, what: &str) -> Option<u32> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v} should be {what}"))
    })
}

/// An on/off switch from the environment: on unless set to `0`.
fn env_on(name: &str) -> bool {
    std::env::var(name).map_or(true, |v| v != "0")
}

impl Settings {
    /// Reads the environment.
    pub fn from_env() -> Self {
        let secs = |name, default| Duration::from_secs_f64(env_f64(name, default));
        let cpu = match std::env::var("RLE_BENCH_CPU").as_deref() {
            Ok("none") => CpuConfigs::None,
            Ok("all") => CpuConfigs::All,
            Ok("centre") | Err(_) => CpuConfigs::Centre,
            Ok(other) => panic!("RLE_BENCH_CPU={other} should be centre, all or none"),
        };
        Self {
            out: std::env::var_os("RLE_BENCH_OUT").map(Into::into),
            warm_up: secs("RLE_BENCH_WARMUP_S", 1.0),
            measure: secs("RLE_BENCH_MEASURE_S", 2.0),
            samples: env_f64("RLE_BENCH_SAMPLES", 50.0).max(10.0) as usize,
            cpu_measure: secs("RLE_BENCH_CPU_MEASURE_S", 3.0),
            cpu,
            rotate_bytes: (env_f64("RLE_BENCH_ROTATE_MIB", 128.0) * (1 << 20) as f64) as usize,
            require_gpu: std::env::var("RLE_BENCH_REQUIRE_GPU").is_ok_and(|v| v == "1"),
            chunk_pixels: env_count("RLE_BENCH_CHUNK_PIXELS", "a pixel count"),
            item_budget: env_count("RLE_BENCH_ITEM_BUDGET", "an item count"),
            store_bytes: env_count("RLE_BENCH_STORE_BYTES", "a byte count"),
            uniform: env_on("RLE_BENCH_UNIFORM"),
            wide_events: env_count("RLE_BENCH_WIDE_EVENTS", "an event count"),
            reserve_threads: env_count("RLE_BENCH_RESERVE_THREADS", "a thread count"),
            item_target: env_count("RLE_BENCH_ITEM_TARGET", "an item count"),
            max_chunk_pixels: env_count("RLE_BENCH_MAX_CHUNK_PIXELS", "a pixel count"),
            item_queue: env_on("RLE_BENCH_ITEM_QUEUE"),
            programmatic: env_on("RLE_BENCH_PROGRAMMATIC"),
        }
    }

    /// The configurations the CPU groups run (none, the centre, or all).
    pub fn cpu_configs<'a>(
        &self,
        configs: &'a [(configs::Axis, configs::BenchConfig)],
    ) -> Vec<&'a (configs::Axis, configs::BenchConfig)> {
        match self.cpu {
            CpuConfigs::None => Vec::new(),
            CpuConfigs::Centre => configs
                .iter()
                .filter(|(a, _)| *a == configs::Axis::Centre)
                .collect(),
            CpuConfigs::All => configs.iter().collect(),
        }
    }

    /// As JSON, for the results file.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "warm_up_s": self.warm_up.as_secs_f64(),
            "measurement_s": self.measure.as_secs_f64(),
            "sample_size": self.samples,
            "cpu_measurement_s": self.cpu_measure.as_secs_f64(),
            "cpu_configs": format!("{:?}", self.cpu).to_lowercase(),
            "rotate_mib": self.rotate_bytes as f64 / (1 << 20) as f64,
            "distinct_batches": inputs::DISTINCT,
            "chunk_pixels": self.chunk_pixels,
            "item_budget": self.item_budget,
            "store_bytes": self.store_bytes,
            "uniform": self.uniform,
            "wide_events": self.wide_events,
            "reserve_threads": self.reserve_threads,
            "item_target": self.item_target,
            "max_chunk_pixels": self.max_chunk_pixels,
            "item_queue": self.item_queue,
            "programmatic": self.programmatic,
        })
    }
}

/// Bootstrap resamples for criterion's confidence intervals (default 100 000
/// costs about a second per benchmark; the percentiles are ours anyway).
const RESAMPLES: usize = 10_000;

/// A criterion group with flat sampling and the given times.
pub fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
    s: &Settings,
    measure: std::time::Duration,
    samples: usize,
) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(s.warm_up)
        .measurement_time(measure)
        .sample_size(samples)
        .sampling_mode(SamplingMode::Flat)
        .nresamples(RESAMPLES);
    g
}

/// The GPU post-processor (its device printed and recorded in `report`), or
/// `None` (with a notice naming the `skipped` groups) where there is none.
/// Panics instead with `RLE_BENCH_REQUIRE_GPU=1` (the GPU run scripts set
/// it), so a GPU run never silently measures nothing.
pub fn open_gpu(
    s: &Settings,
    skipped: &str,
    report: &mut report::Report,
) -> Option<rle_host::Postprocessor> {
    let skip = |why: String| {
        assert!(!s.require_gpu, "RLE_BENCH_REQUIRE_GPU=1 but {why}");
        println!("notice: {why}: skipping {skipped} (benches are not tests)");
        None
    };
    if !rle_host::driver_present() {
        return skip("no CUDA driver on this machine".into());
    }
    match rle_host::Postprocessor::new(rle_host::Config {
        ordinal: 0,
        fallback: rle_host::Fallback::Error,
        ..Default::default()
    }) {
        Ok(mut pp) => {
            if let Some(px) = s.chunk_pixels {
                pp.set_min_chunk_pixels(px);
                println!("mask kernels' smallest chunk: {px} pixels");
            }
            if let Some(items) = s.item_budget {
                pp.set_item_budget(items);
                println!("mask plan's item budget: {items}");
            }
            if let Some(bytes) = s.store_bytes {
                pp.set_chunk_store_bytes(bytes);
                println!("chunk store: {bytes} bytes per item");
            }
            if let Some(items) = s.item_target {
                pp.set_item_target(Some(items));
                println!("mask plan's item target: {items} (0: none)");
            }
            if let Some(px) = s.max_chunk_pixels {
                pp.set_max_chunk_pixels(px);
                println!("largest chunk the target asks for: {px} pixels");
            }
            if !s.item_queue {
                pp.set_item_queue(false);
                println!("item queue off: the item passes stride over items");
            }
            if !s.programmatic {
                pp.set_programmatic_launch(false);
                println!("programmatic launches off: the item passes one after the other");
            }
            if let Some(events) = s.wide_events {
                pp.set_wide_events(events);
                println!("wide tiles: {events} events at once (0: off)");
            }
            if let Some(threads) = s.reserve_threads {
                pp.set_reserve_threads(threads);
                println!("reserve step: {threads} threads per block");
            }
            if !s.uniform {
                pp.set_uniform_groups(false);
                println!("uniform groups off: every pixel evaluated");
            }
            if let Some(info) = pp.device_info() {
                println!(
                    "GPU: {} (driver {}); programmatic launches of the item passes: {}",
                    info.name,
                    info.driver_version,
                    pp.programmatic_launches()
                );
                report.set_device(info);
            }
            Some(pp)
        }
        Err(e) => skip(format!("no usable GPU ({e})")),
    }
}
