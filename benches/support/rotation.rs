//! A configuration's inputs in rotation: the distinct batches, the slots
//! (device copies, or host batches) frames cycle through so consecutive
//! frames do not find their inputs in the L2 cache, and what the first
//! untimed frame found ([`Measured`]).

use rle_host::{DeviceBatch, Postprocessor};
use rle_reference::ImageResult;

use super::configs::BenchConfig;
use super::inputs::{self, Input};
use super::report::Measured;
use super::Settings;

/// Detections of a batch's results.
pub fn count(results: &[ImageResult]) -> usize {
    results.iter().map(|r| r.detections.len()).sum()
}

/// Warns when a frame did not find the configured number of detections (the
/// benchmark would then measure another workload than its name says).
pub fn check_count(id: &str, cfg: &BenchConfig, got: usize) {
    let want = cfg.expected_detections();
    if got != want {
        eprintln!("warning: {id}: {got} detections, the configuration asks for {want}");
    }
}

/// Inputs of one configuration with the rotation position.
pub struct Rotation<T> {
    /// The distinct batches.
    pub inputs: Vec<Input>,
    /// Each slot and the index of the input it holds.
    pub slots: Vec<(T, usize)>,
    /// Frames taken so far.
    pub next: usize,
    /// What the untimed first frame found.
    pub measured: Measured,
}

impl<T> Rotation<T> {
    /// The next slot and the input it holds a copy of.
    pub fn advance(&mut self) -> (&T, &Input) {
        let (slot, i) = &self.slots[self.next % self.slots.len()];
        self.next += 1;
        (slot, &self.inputs[*i])
    }
}

/// Device copies of a configuration's batches (enough to exceed the
/// settings' rotation bytes), after one untimed frame on the first.
pub fn device_rotation(
    pp: &mut Postprocessor,
    cfg: &BenchConfig,
    s: &Settings,
) -> Rotation<DeviceBatch> {
    let inputs = inputs::distinct(cfg);
    let n = inputs::rotation_slots(inputs[0].bytes(), s.rotate_bytes);
    let slots = (0..n)
        .map(|k| {
            let i = k % inputs.len();
            let dev = pp
                .upload(&inputs[i].data.batch())
                .expect("uploading a benchmark batch");
            (dev, i)
        })
        .collect::<Vec<_>>();
    let first = &inputs[0];
    // SAFETY: `slots[0]` owns device buffers holding batch 0 in the shapes its
    // `inputs()` declares; nothing writes them while the call runs.
    let out = unsafe { pp.run_device(&slots[0].0.inputs(), None, &first.metas, &first.opts) }
        .expect("GPU post-processing of a benchmark frame");
    let measured = Measured {
        slots: n,
        detections: count(&out),
        input: first.identity(),
    };
    Rotation {
        inputs,
        slots,
        next: 0,
        measured,
    }
}

/// The distinct host batches of a configuration, after one untimed `run`
/// on the first.
pub fn host_rotation(
    cfg: &BenchConfig,
    run: impl FnOnce(&Input) -> Vec<ImageResult>,
) -> Rotation<()> {
    let inputs = inputs::distinct(cfg);
    let out = run(&inputs[0]);
    let measured = Measured {
        slots: inputs.len(),
        detections: count(&out),
        input: inputs[0].identity(),
    };
    let slots = (0..inputs.len()).map(|i| ((), i)).collect();
    Rotation {
        inputs,
        slots,
        next: 0,
        measured,
    }
}
