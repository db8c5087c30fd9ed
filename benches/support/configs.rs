//! The benchmarked configurations: one centre (1920×1080 frame, seg-nano
//! Q = 100 with 78×78 masks, 15 detections, f32 mask logits, batch 1) and
//! one-axis sweeps around it, so each axis's effect is read off directly and
//! the run stays short.
//!
//! Invariant: [`BenchConfig::name`] is the configuration's identity across
//! tools: `scripts/bench_torch.py` builds the same list with the same names
//! (`{W}x{H}_q{Q}m{M}_d{D}_{dtype}_b{B}`), and `scripts/bench_merge.py`
//! matches results by it. Change both together.

use rle_fixtures::{MaskDtype, Model};
use rle_reference::Size;

/// One end-to-end configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchConfig {
    /// Video frame size `(h, w)`: masks are resized to it.
    pub frame: Size,
    /// Model shape (queries, mask side, input resolution).
    pub model: Model,
    /// Detections per image (distinct queries above the threshold).
    pub detections: usize,
    /// Mask logits dtype.
    pub dtype: MaskDtype,
    /// Images per batch.
    pub batch: usize,
}

/// Which sweep a configuration belongs to (the centre belongs to all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// The centre configuration.
    Centre,
    /// Frame size varies.
    Frame,
    /// Model shape varies.
    Model,
    /// Detections per frame vary.
    Detections,
    /// Mask dtype varies.
    Dtype,
    /// Batch size varies.
    Batch,
}

impl Axis {
    /// Lower-case name written into the JSON results.
    pub fn name(self) -> &'static str {
        match self {
            Axis::Centre => "centre",
            Axis::Frame => "frame",
            Axis::Model => "model",
            Axis::Detections => "detections",
            Axis::Dtype => "dtype",
            Axis::Batch => "batch",
        }
    }
}

/// The centre of every sweep.
pub const CENTRE: BenchConfig = BenchConfig {
    frame: Size::new(1080, 1920),
    model: Model::NANO,
    detections: 15,
    dtype: MaskDtype::F32,
    batch: 1,
};

/// Every configuration, centre first, each tagged with its sweep axis.
pub fn all() -> Vec<(Axis, BenchConfig)> {
    let mut out = vec![(Axis::Centre, CENTRE)];
    for frame in [
        Size::new(176, 312),
        Size::new(720, 1280),
        Size::new(2160, 3840),
    ] {
        out.push((Axis::Frame, BenchConfig { frame, ..CENTRE }));
    }
    for model in [Model::MEDIUM, Model::XLARGE] {
        out.push((Axis::Model, BenchConfig { model, ..CENTRE }));
    }
    for detections in [1, 50, 100] {
        out.push((
            Axis::Detections,
            BenchConfig {
                detections,
                ..CENTRE
            },
        ));
    }
    out.push((
        Axis::Dtype,
        BenchConfig {
            dtype: MaskDtype::F16,
            ..CENTRE
        },
    ));
    out.push((Axis::Batch, BenchConfig { batch: 4, ..CENTRE }));
    out
}

/// `"f32"`, `"f16"` or `"bf16"`.
pub fn dtype_name(d: MaskDtype) -> &'static str {
    match d {
        MaskDtype::F32 => "f32",
        MaskDtype::F16 => "f16",
        MaskDtype::Bf16 => "bf16",
    }
}

impl BenchConfig {
    /// `{W}x{H}_q{Q}m{M}_d{D}_{dtype}_b{B}`, e.g. `1920x1080_q100m78_d15_f32_b1`.
    pub fn name(&self) -> String {
        format!(
            "{}x{}_q{}m{}_d{}_{}_b{}",
            self.frame.width,
            self.frame.height,
            self.model.queries,
            self.model.mask,
            self.detections,
            dtype_name(self.dtype),
            self.batch
        )
    }

    /// Detections the whole batch must yield.
    pub fn expected_detections(&self) -> usize {
        self.detections.min(self.model.queries) * self.batch
    }

    /// The parameters as JSON, for the merge and plot scripts.
    pub fn params(&self) -> serde_json::Value {
        serde_json::json!({
            "frame_w": self.frame.width,
            "frame_h": self.frame.height,
            "queries": self.model.queries,
            "mask": self.model.mask,
            "resolution": self.model.resolution,
            "detections": self.detections,
            "dtype": dtype_name(self.dtype),
            "batch": self.batch,
        })
    }
}
