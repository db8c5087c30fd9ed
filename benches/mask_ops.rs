//! The mask kernel family, each kernel alone (criterion, `harness = false`).
//! IDs are `{device}_{kernel}/{config}`:
//!
//! - `gpu_mask_rle_scan`, `gpu_mask_rle_decode`, `gpu_mask_rle_iou`: one
//!   kernel's GPU time, from CUDA events around its launch
//!   (`MaskOps::set_profiling`); uploads and copies back are not in it;
//! - `cpu_mask_stats`, `cpu_mask_decode`, `cpu_mask_iou`: the CPU RLE
//!   utilities of `rle-reference` on the same masks (`area` + `to_bbox`,
//!   `decode`, the dense `iou` of every pair), wall clock.
//!
//! Configurations `{W}x{H}_d{N}`: N elliptical blob masks (the shapes our
//! post-processor emits) on a W×H frame; IoU is every pair of the set with
//! itself. Inputs are made before timing. Without a CUDA driver the GPU
//! groups are skipped with a notice; `RLE_BENCH_REQUIRE_GPU=1` (the GPU run
//! script sets it) makes that a failure. `MASK_BENCH_MEASURE_S` [2] sets the
//! measurement time of every group.

use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use ndarray::Array2;
use rle_host::{MaskOps, MaskTimes, RleSet};
use rle_reference::rle::{area, decode, encode, iou, to_bbox};
use rle_reference::Size;

/// `(width, height, masks)` of each configuration.
const CONFIGS: [(u32, u32, usize); 3] = [(1920, 1080, 15), (1920, 1080, 100), (3840, 2160, 15)];

fn name((w, h, n): (u32, u32, usize)) -> String {
    format!("{w}x{h}_d{n}")
}

/// `n` elliptical masks spread over a `w × h` frame, deterministic.
fn blobs(w: u32, h: u32, n: usize) -> Vec<Vec<u32>> {
    (0..n)
        .map(|i| {
            let f = i as f64 / n as f64;
            let (cx, cy) = (
                w as f64 * (0.15 + 0.7 * f),
                h as f64 * (0.2 + 0.6 * (1.0 - f)),
            );
            let (rx, ry) = (w as f64 * 0.08, h as f64 * 0.12);
            let m = Array2::from_shape_fn((h as usize, w as usize), |(y, x)| {
                let (dx, dy) = ((x as f64 - cx) / rx, (y as f64 - cy) / ry);
                dx * dx + dy * dy <= 1.0
            });
            encode(m.view())
        })
        .collect()
}

fn measure() -> Duration {
    let s = std::env::var("MASK_BENCH_MEASURE_S")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(s)
}

fn open_gpu() -> Option<MaskOps> {
    let require = std::env::var("RLE_BENCH_REQUIRE_GPU").is_ok_and(|v| v == "1");
    let skip = |why: String| {
        assert!(!require, "RLE_BENCH_REQUIRE_GPU=1 but {why}");
        println!("notice: {why}: skipping the gpu_mask_* groups (benches are not tests)");
        None
    };
    if !rle_host::driver_present() {
        return skip("no CUDA driver on this machine".into());
    }
    match MaskOps::new(0) {
        Ok(mut ops) => {
            ops.set_profiling(true).expect("creating CUDA events");
            let d = ops.device_info();
            println!("GPU: {} (driver {})", d.name, d.driver_version);
            Some(ops)
        }
        Err(e) => skip(format!("no usable GPU ({e})")),
    }
}

/// One GPU kernel: `run` performs the call, `pick` takes the kernel's time.
fn gpu_kernel(
    c: &mut Criterion,
    group: &str,
    id: &str,
    masks: u64,
    ops: &mut MaskOps,
    run: &dyn Fn(&mut MaskOps),
    pick: fn(MaskTimes) -> Duration,
) {
    let mut g = c.benchmark_group(group);
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(measure())
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(masks));
    g.bench_function(id, |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    run(ops);
                    pick(ops.last_times().expect("profiling is on"))
                })
                .sum()
        })
    });
    g.finish();
}

fn cpu_step(c: &mut Criterion, group: &str, id: &str, masks: u64, step: &dyn Fn() -> usize) {
    let mut g = c.benchmark_group(group);
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(measure())
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(masks));
    g.bench_function(id, |b| b.iter(step));
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut gpu = open_gpu();
    for cfg in CONFIGS {
        let (w, h, n) = cfg;
        let id = name(cfg);
        let size = Size::new(h, w);
        let counts = blobs(w, h, n);
        let set = RleSet::from_counts(size, &counts).expect("benchmark masks are well-formed");
        let m = n as u64;
        if let Some(ops) = gpu.as_mut() {
            let scan = |o: &mut MaskOps| {
                o.stats(&set).expect("GPU stats");
            };
            let dec = |o: &mut MaskOps| {
                o.decode_device(&set).expect("GPU decode");
            };
            let pairs = |o: &mut MaskOps| {
                o.iou(&set, &set).expect("GPU IoU");
            };
            gpu_kernel(&mut c, "gpu_mask_rle_scan", &id, m, ops, &scan, |t| t.scan);
            gpu_kernel(&mut c, "gpu_mask_rle_decode", &id, m, ops, &dec, |t| {
                t.second.expect("decode ran")
            });
            gpu_kernel(&mut c, "gpu_mask_rle_iou", &id, m * m, ops, &pairs, |t| {
                t.second.expect("IoU ran")
            });
        }
        cpu_step(&mut c, "cpu_mask_stats", &id, m, &|| {
            counts
                .iter()
                .map(|k| {
                    std::hint::black_box(to_bbox(k, size));
                    area(k) as usize
                })
                .sum()
        });
        cpu_step(&mut c, "cpu_mask_decode", &id, m, &|| {
            counts.iter().map(|k| decode(k, size).unwrap().len()).sum()
        });
        if n <= 15 {
            // The dense reference IoU decodes both masks per pair: n^2 decodes.
            cpu_step(&mut c, "cpu_mask_iou", &id, m * m, &|| {
                let mut k = 0;
                for a in &counts {
                    for b in &counts {
                        k += iou(a, b, size).unwrap().0 as usize;
                    }
                }
                k
            });
        }
    }
    c.final_summary();
}
