//! Choosing where frames run: the GPU post-processor when a usable GPU is there
//! (unless `--cpu`), else the CPU fallback (`rle-cpu`: sparse and parallel, with
//! the reference's results), and saying which in plain words.

use anyhow::{Context, Result};
use rle_host::{Config, Fallback, Postprocessor};

/// Where the user asked frames to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevicePolicy {
    /// `--cpu`: the CPU fallback, even with a GPU present.
    Cpu,
    /// The GPU with this ordinal if one is usable, else the CPU fallback.
    Auto {
        /// CUDA device ordinal.
        ordinal: usize,
    },
}

/// A post-processor and why it runs where it runs.
#[derive(Debug)]
pub struct Backend {
    /// The post-processor.
    pub pp: Postprocessor,
    /// Why the CPU fallback is used (`None` on the GPU).
    pub cpu_reason: Option<String>,
}

/// The CPU's model name (Linux), for reports.
pub fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// `1 thread` or `N threads`: the CPU fallback's rayon pool.
pub fn threads() -> String {
    match rle_cpu::threads() {
        1 => "1 thread".to_string(),
        n => format!("{n} threads"),
    }
}

impl Backend {
    /// Opens the post-processor for `policy`.
    pub fn open(policy: DevicePolicy) -> Result<Self> {
        let ordinal = match policy {
            DevicePolicy::Cpu => {
                return Ok(Self {
                    pp: Postprocessor::cpu(),
                    cpu_reason: Some("--cpu".into()),
                })
            }
            DevicePolicy::Auto { ordinal } => ordinal,
        };
        let pp = Postprocessor::new(Config {
            ordinal,
            fallback: Fallback::Cpu,
            ..Default::default()
        })
        .with_context(|| format!("cannot start the GPU post-processor on device {ordinal} (--cpu runs the CPU fallback)"))?;
        let cpu_reason = (!pp.is_gpu()).then(|| {
            if rle_host::driver_present() {
                format!("no CUDA device {ordinal}")
            } else {
                "no CUDA driver".to_string()
            }
        });
        Ok(Self { pp, cpu_reason })
    }

    /// Whether frames run on the GPU.
    pub fn is_gpu(&self) -> bool {
        self.pp.is_gpu()
    }

    /// e.g. `GPU 0: NVIDIA H100 80GB HBM3 (sm_90)` or
    /// `CPU fallback rle-cpu on <cpu>, 2 threads (no CUDA driver)`.
    pub fn describe(&self) -> String {
        match (self.pp.device_info(), &self.cpu_reason) {
            (Some(d), _) => format!(
                "GPU {}: {} (sm_{}{})",
                d.ordinal, d.name, d.compute_capability.0, d.compute_capability.1
            ),
            (None, reason) => format!(
                "CPU fallback rle-cpu on {}, {} ({})",
                cpu_name(),
                threads(),
                reason.as_deref().unwrap_or("no GPU")
            ),
        }
    }
}
