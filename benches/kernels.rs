//! Each kernel alone, and each step of the CPU reference alone (criterion,
//! `harness = false`). IDs are `{device}_{kernel}/{config}`:
//!
//! - `gpu_select_roi`, `gpu_mask_count`, `gpu_mask_reserve`,
//!   `gpu_mask_write` (the last, with the counters' copy to the host): one
//!   kernel's GPU time per frame, from
//!   CUDA events recorded between the launches of a real frame
//!   (`Postprocessor::run_device_profiled`). A kernel cannot be relaunched
//!   alone on a frame's buffers: count and reserve accumulate into counters
//!   and the plan, so a lone rerun would do other work than a frame's.
//! - `cpu_select` (sigmoid scores, top-k, thresholds, sort), `cpu_masks` (each
//!   kept detection's dense mask: window, resize, threshold, paste) and
//!   `cpu_rle` (column-major RLE and the COCO string of each mask): the CPU
//!   reference's steps (centre configuration unless `RLE_BENCH_CPU=all`).
//!
//! Configurations, inputs, rotation and settings are those of `e2e.rs`
//! (`support/`); inputs rotate over device copies as there. Percentiles go
//! to `$RLE_BENCH_OUT/kernels.json`. Without a CUDA driver the GPU groups
//! are skipped with a notice.

#[allow(dead_code)] // shared with e2e.rs, which uses every helper
mod support;

use criterion::{Criterion, Throughput};
use ndarray::{Array2, Axis as NdAxis};
use rle_host::{Kernel, Postprocessor};
use rle_reference::geometry::{MaskGrid, MaskWindow};
use rle_reference::mask::{detection_mask, query_logits, MaskDtype};
use rle_reference::rle::{compress, encode};
use rle_reference::{select, sigmoid};

use support::configs::{self, Axis, BenchConfig};
use support::filter::Filter;
use support::inputs::Input;
use support::recorder::Recorder;
use support::report::Report;
use support::rotation::{check_count, device_rotation, host_rotation, Rotation};
use support::{group, open_gpu, Settings};

fn gpu_group(k: Kernel) -> String {
    format!("gpu_{}", k.name())
}

/// Every kernel on one configuration; the inputs are prepared once for all
/// six (when criterion runs any of them).
fn bench_gpu_config(
    c: &mut Criterion,
    s: &Settings,
    filter: &Filter,
    pp: &mut Postprocessor,
    (axis, cfg): (Axis, BenchConfig),
    report: &mut Report,
) {
    let name = cfg.name();
    let wanted = Kernel::ALL
        .iter()
        .any(|&k| filter.runs(&format!("{}/{name}", gpu_group(k))));
    let mut state: Option<Rotation<_>> = wanted.then(|| device_rotation(pp, &cfg, s));
    for k in Kernel::ALL {
        let group_name = gpu_group(k);
        let mut g = group(c, &group_name, s, s.measure, s.samples);
        g.throughput(Throughput::Elements(cfg.batch as u64));
        let mut rec = Recorder::new(s.warm_up);
        g.bench_function(&name, |b| {
            b.iter_custom(|iters| {
                rec.call_measured(
                    iters,
                    pp,
                    &mut state,
                    |pp| device_rotation(pp, &cfg, s),
                    |pp, r| {
                        let (dev, input) = r.advance();
                        // SAFETY: `dev` owns device buffers holding `input`'s
                        // tensors in the declared shapes, unwritten meanwhile.
                        let (out, times) = unsafe {
                            pp.run_device_profiled(&dev.inputs(), None, &input.metas, &input.opts)
                        }
                        .expect("profiled GPU post-processing of a benchmark frame");
                        (out, times.of(k))
                    },
                )
            })
        });
        g.finish();
        if let (true, Some(r)) = (rec.ran(), &state) {
            let id = format!("{group_name}/{name}");
            check_count(&id, &cfg, r.measured.detections);
            report.push(&group_name, axis, &cfg, r.measured.clone(), rec.stats());
        }
    }
}

/// One image's kept detections and what the CPU steps after selection need.
struct Kept {
    /// `(mask logits widened to f32, window, encoded grid)` per detection.
    masks: Vec<(Array2<f32>, MaskWindow, MaskGrid)>,
}

/// The selection step of the reference on every image of `input`.
fn cpu_select(input: &Input) -> Vec<select::Selection> {
    let batch = input.data.batch();
    let scores = batch.logits.mapv(sigmoid::sigmoid);
    (0..input.metas.len())
        .map(|b| select::select(scores.index_axis(NdAxis(0), b), None, &input.opts))
        .collect()
}

/// What the mask and RLE steps start from (untimed preparation).
fn kept(input: &Input) -> (Kept, MaskDtype) {
    let batch = input.data.batch();
    let [_, _, mask_h, mask_w] = batch.masks.shape();
    let mut dtype = MaskDtype::F32;
    let mut masks = Vec::new();
    for (b, sel) in cpu_select(input).iter().enumerate() {
        let (window, grid) = MaskGrid::for_image(mask_h, mask_w, &input.metas[b], &input.opts)
            .expect("benchmark metadata leave a non-empty mask window");
        for k in &sel.kept {
            let (m, d) = query_logits(&batch.masks, b, k.candidate.query as usize);
            dtype = d;
            masks.push((m, window, grid));
        }
    }
    (Kept { masks }, dtype)
}

fn cpu_masks(input: &Input, kept: &Kept, dtype: MaskDtype) -> Vec<Array2<bool>> {
    kept.masks
        .iter()
        .map(|(m, w, g)| detection_mask(m.view(), dtype, w, g, input.opts.resize))
        .collect()
}

fn cpu_rle(masks: &[Array2<bool>]) -> Vec<Vec<u8>> {
    masks.iter().map(|m| compress(&encode(m.view()))).collect()
}

/// What the mask and RLE steps of one input start from: its kept
/// detections, their dtype and their dense masks.
type Prepared = (Kept, MaskDtype, Vec<Array2<bool>>);

/// One CPU step on one input; returns how many things it produced.
type Step = fn(&Input, &Prepared) -> usize;

/// The CPU reference's steps on the chosen configurations.
fn bench_cpu(
    c: &mut Criterion,
    s: &Settings,
    filter: &Filter,
    configs: &[(Axis, BenchConfig)],
    report: &mut Report,
) {
    let chosen = s.cpu_configs(configs);
    for &&(axis, cfg) in &chosen {
        let name = cfg.name();
        // The rotation and, per input, the kept detections and their masks
        // (what the later steps start from), made before timing.
        let make = || -> (Rotation<()>, Vec<Prepared>) {
            let r = host_rotation(&cfg, |i| {
                rle_reference::postprocess(&i.data.batch(), &i.metas, &i.opts)
                    .expect("CPU reference on a benchmark frame")
            });
            let p = r
                .inputs
                .iter()
                .map(|i| {
                    let (k, d) = kept(i);
                    let m = cpu_masks(i, &k, d);
                    (k, d, m)
                })
                .collect();
            (r, p)
        };
        let mut rotation: Option<(Rotation<()>, Vec<Prepared>)> = None;
        let steps: [(&str, Step); 3] = [
            ("cpu_select", |i, _| {
                cpu_select(i).iter().map(|s| s.kept.len()).sum()
            }),
            ("cpu_masks", |i, p| cpu_masks(i, &p.0, p.1).len()),
            ("cpu_rle", |_, p| cpu_rle(&p.2).len()),
        ];
        for (group_name, step) in steps {
            let id = format!("{group_name}/{name}");
            if rotation.is_none() && filter.runs(&id) {
                rotation = Some(make());
            }
            let mut g = group(c, group_name, s, s.cpu_measure, 10);
            g.throughput(Throughput::Elements(cfg.batch as u64));
            let mut rec = Recorder::new(s.warm_up);
            g.bench_function(&name, |b| {
                b.iter_custom(|iters| {
                    rec.call(
                        iters,
                        &mut (),
                        &mut rotation,
                        |_| make(),
                        |_, (r, p)| {
                            let i = r.next % r.slots.len();
                            r.next += 1;
                            step(&r.inputs[i], &p[i])
                        },
                    )
                })
            });
            g.finish();
            if let (true, Some((r, _))) = (rec.ran(), &rotation) {
                report.push(group_name, axis, &cfg, r.measured.clone(), rec.stats());
            }
        }
    }
}

fn main() {
    let settings = Settings::from_env();
    let mut c = Criterion::default().configure_from_args();
    let filter = Filter::from_args();
    let mut report = Report::new(
        settings.json(),
        settings.out.as_deref(),
        "kernels.json",
        "benches/kernels.rs",
    );
    let configs = configs::all();
    if let Some(mut pp) = open_gpu(&settings, "the gpu_* kernel groups", &mut report) {
        for &ac in &configs {
            bench_gpu_config(&mut c, &settings, &filter, &mut pp, ac, &mut report);
        }
    }
    bench_cpu(&mut c, &settings, &filter, &configs, &mut report);
    c.final_summary();
    report
        .finish("Time per frame of each kernel (GPU, CUDA events) or CPU step (wall clock)")
        .expect("writing the benchmark results");
}
