//! CPU end-to-end latency of one frame (criterion, `harness = false`): the
//! sparse CPU post-processor `rle_cpu::postprocess` against the dense CPU
//! reference `rle_reference::postprocess`, on the centre configuration of
//! `benches/e2e.rs` (1920×1080 frame, seg-nano Q = 100 with 78×78 f32 masks,
//! 15 detections, batch 1).
//!
//! Names: `cpu_fast_e2e_1920x1080_q100m78_d15`, `cpu_ref_e2e_1920x1080_q100m78_d15`.
//! Input generation is untimed; both calls are checked to agree before timing.
//! `rle_cpu` runs on rayon's global pool: set `RAYON_NUM_THREADS` to pin its size
//! (e.g. `RAYON_NUM_THREADS=2 cargo bench --bench cpu_fast`).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use rle_fixtures::{frame_case, generate, MaskDtype, Model};
use rle_reference::Size;

const SEED: u64 = 1;
const DETECTIONS: usize = 15;
const NAME: &str = "1920x1080_q100m78_d15";

fn bench(c: &mut Criterion) {
    let (recipe, metas, opts) = frame_case(
        SEED,
        Model::NANO,
        Size::new(1080, 1920),
        DETECTIONS,
        MaskDtype::F32,
    );
    let inputs = generate(&recipe);
    let batch = inputs.batch();
    let want = rle_reference::postprocess(&batch, &metas, &opts).expect("frame cases are valid");
    let got = rle_cpu::postprocess(&batch, &metas, &opts).expect("frame cases are valid");
    assert_eq!(
        got, want,
        "rle_cpu must equal the reference before it is timed"
    );
    assert_eq!(want[0].detections.len(), DETECTIONS);

    let mut g = c.benchmark_group("cpu_fast");
    g.throughput(Throughput::Elements(DETECTIONS as u64));
    g.bench_function(format!("cpu_fast_e2e_{NAME}"), |b| {
        b.iter(|| rle_cpu::postprocess(&batch, &metas, &opts).expect("valid"))
    });
    // The reference takes most of a second per call: few, flat samples.
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(10));
    g.bench_function(format!("cpu_ref_e2e_{NAME}"), |b| {
        b.iter(|| rle_reference::postprocess(&batch, &metas, &opts).expect("valid"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
