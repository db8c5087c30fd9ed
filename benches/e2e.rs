//! End-to-end latency of one frame (criterion, `harness = false`):
//!
//! - `gpu_e2e/<config>`: the production path. Inputs already in device memory
//!   (as TensorRT / ONNX Runtime / PyTorch leave them), one
//!   `Postprocessor::run_device` call: parameter upload, kernel launches,
//!   stream synchronization, detections with COCO RLE strings on the host.
//! - `gpu_e2e_hostinputs/<config>`: the same from host ndarrays (`run`), which
//!   adds staging the inputs and their host→device copy.
//! - `cpu_e2e/<config>`: the CPU reference `rle_reference::postprocess`
//!   (centre configuration only unless `RLE_BENCH_CPU=all`).
//! - `cpu_fast_e2e/<config>`: the no-GPU fallback `rle_cpu::postprocess`
//!   (same configurations; `RAYON_NUM_THREADS` sets its threads).
//! - `gpu_floor/launch_d2h64_sync`: empty kernel + 64-byte copy + sync.
//!
//! Configurations and names: `support/configs.rs` (centre 1920x1080, Q = 100
//! with 78×78 masks, 15 detections, f32, batch 1; one axis varied at a time).
//! Filter as usual: `cargo bench --bench e2e -- 'gpu_e2e/.*_d(1|50)_'`.
//!
//! Timing: `iter_custom`, each iteration timed on its own with `Instant`
//! around a complete call (each ends with a stream synchronization, so this
//! is the latency a caller sees); input generation and upload are untimed;
//! frames rotate over several batches and device copies (`support/inputs.rs`).
//! Besides criterion's report, p50/p90/p99 go to `$RLE_BENCH_OUT/ours.json`.
//! Without a CUDA driver the GPU groups are skipped with a notice.

mod support;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use rle_host::Postprocessor;

use support::configs::{self, Axis, BenchConfig};
use support::filter::Filter;
use support::floor::Floor;
use support::inputs::Input;
use support::recorder::Recorder;
use support::report::Report;
use support::rotation::{check_count, device_rotation, host_rotation, Rotation};
use support::{group, open_gpu, Settings};

const GPU_DEVICE: &str = "gpu_e2e";
const GPU_HOST: &str = "gpu_e2e_hostinputs";
const CPU: &str = "cpu_e2e";
const CPU_FAST: &str = "cpu_fast_e2e";
const FLOOR: &str = "gpu_floor";
const FLOOR_NAME: &str = "launch_d2h64_sync";
fn bench_floor(c: &mut Criterion, s: &Settings, report: &mut Report) {
    let mut floor = match Floor::new(0) {
        Ok(f) => f,
        Err(e) => {
            println!("notice: skipping {FLOOR}: {e}");
            return;
        }
    };
    let mut g = group(c, FLOOR, s, s.measure, s.samples);
    g.throughput(Throughput::Elements(1));
    let mut rec = Recorder::new(s.warm_up);
    let mut state = Some(());
    g.bench_function(FLOOR_NAME, |b| {
        b.iter_custom(|iters| {
            rec.call(
                iters,
                &mut floor,
                &mut state,
                |_| (),
                |f, _| f.once().expect("floor launch, copy and synchronize"),
            )
        })
    });
    g.finish();
    if rec.ran() {
        report.set_floor(&format!("{FLOOR}/{FLOOR_NAME}"), rec.stats());
    }
}

/// One configuration of one group: prepares its inputs before criterion
/// times anything (when criterion is going to run it), benchmarks `one` on
/// them, records the percentiles.
#[allow(clippy::too_many_arguments)]
fn bench_one<C, T, R>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    ctx: &mut C,
    s: &Settings,
    filter: &Filter,
    report: &mut Report,
    (group, axis, cfg): (&str, Axis, &BenchConfig),
    mut init: impl FnMut(&mut C) -> Rotation<T>,
    mut one: impl FnMut(&mut C, &mut Rotation<T>) -> R,
) {
    let name = cfg.name();
    let id = format!("{group}/{name}");
    let mut state = filter.runs(&id).then(|| init(ctx));
    let mut rec = Recorder::new(s.warm_up);
    g.throughput(Throughput::Elements(cfg.batch as u64));
    g.bench_function(name, |b| {
        b.iter_custom(|iters| rec.call(iters, ctx, &mut state, &mut init, &mut one))
    });
    if let (true, Some(r)) = (rec.ran(), state) {
        check_count(&id, cfg, r.measured.detections);
        report.push(group, axis, cfg, r.measured, rec.stats());
    }
}

fn bench_gpu_device(
    c: &mut Criterion,
    s: &Settings,
    filter: &Filter,
    pp: &mut Postprocessor,
    configs: &[(Axis, BenchConfig)],
    report: &mut Report,
) {
    let mut g = group(c, GPU_DEVICE, s, s.measure, s.samples);
    for &(axis, cfg) in configs {
        bench_one(
            &mut g,
            pp,
            s,
            filter,
            report,
            (GPU_DEVICE, axis, &cfg),
            |pp| device_rotation(pp, &cfg, s),
            |pp, r| {
                let (dev, input) = r.advance();
                // SAFETY: `dev` owns device buffers holding `input`'s tensors
                // in the declared shapes, alive and unwritten for the call.
                unsafe { pp.run_device(&dev.inputs(), None, &input.metas, &input.opts) }
                    .expect("GPU post-processing of a benchmark frame")
            },
        );
    }
    g.finish();
}

fn bench_gpu_host(
    c: &mut Criterion,
    s: &Settings,
    filter: &Filter,
    pp: &mut Postprocessor,
    configs: &[(Axis, BenchConfig)],
    report: &mut Report,
) {
    let run = |pp: &mut Postprocessor, i: &Input| {
        pp.run(&i.data.batch(), &i.metas, &i.opts)
            .expect("GPU post-processing of a benchmark frame")
    };
    let mut g = group(c, GPU_HOST, s, s.measure, s.samples);
    for &(axis, cfg) in configs {
        bench_one(
            &mut g,
            pp,
            s,
            filter,
            report,
            (GPU_HOST, axis, &cfg),
            |pp| host_rotation(&cfg, |i| run(pp, i)),
            |pp, r| run(pp, r.advance().1),
        );
    }
    g.finish();
}

fn bench_cpu(
    c: &mut Criterion,
    s: &Settings,
    filter: &Filter,
    configs: &[(Axis, BenchConfig)],
    report: &mut Report,
) {
    let chosen = s.cpu_configs(configs);
    // The reference and the no-GPU fallback (rle-cpu, rayon over detections;
    // RAYON_NUM_THREADS sets its threads), on the rotation the PyTorch script
    // uses. The reference takes up to seconds per frame: criterion's minimum
    // of 10 samples.
    type CpuPath = fn(&Input) -> Vec<rle_reference::ImageResult>;
    let paths: [(&str, CpuPath); 2] = [
        (CPU, |i| {
            rle_reference::postprocess(&i.data.batch(), &i.metas, &i.opts)
                .expect("CPU reference on a benchmark frame")
        }),
        (CPU_FAST, |i| {
            rle_cpu::postprocess(&i.data.batch(), &i.metas, &i.opts)
                .expect("CPU fallback on a benchmark frame")
        }),
    ];
    for (name, path) in paths {
        let mut g = group(c, name, s, s.cpu_measure, 10);
        for &&(axis, cfg) in &chosen {
            bench_one(
                &mut g,
                &mut (),
                s,
                filter,
                report,
                (name, axis, &cfg),
                |_| host_rotation(&cfg, path),
                |_, r| path(r.advance().1),
            );
        }
        g.finish();
    }
}

fn main() {
    let settings = Settings::from_env();
    let mut c = Criterion::default().configure_from_args();
    let filter = Filter::from_args();
    let mut report = Report::new(
        settings.json(),
        settings.out.as_deref(),
        "ours.json",
        "benches/e2e.rs",
    );
    let configs = configs::all();
    let skipped = format!("the {FLOOR}, {GPU_DEVICE} and {GPU_HOST} groups");
    if let Some(mut pp) = open_gpu(&settings, &skipped, &mut report) {
        bench_floor(&mut c, &settings, &mut report);
        bench_gpu_device(&mut c, &settings, &filter, &mut pp, &configs, &mut report);
        bench_gpu_host(&mut c, &settings, &filter, &mut pp, &configs, &mut report);
    }
    bench_cpu(&mut c, &settings, &filter, &configs, &mut report);
    c.final_summary();
    report
        .finish("Latency per frame (wall clock, one sample per iteration)")
        .expect("writing the benchmark results");
}
