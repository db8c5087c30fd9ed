//! Parsed arguments → validated configurations, before any frame is processed or
//! the GPU is touched.
//!
//! Invariant: a flag whose value is wrong on its face (a threshold outside
//! [0, 1], zero iterations) is a [`UsageError`] (exit code 2); a problem inside a
//! file the user named (frames, threshold or class-mapping lists) is an ordinary
//! error (exit code 1) naming that file.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use rle_reference::ResizeMode;

use crate::backend::DevicePolicy;
use crate::cli::{
    BenchArgs, Cli, Command, DemoArgs, DeviceArgs, InfoArgs, OptionArgs, ResizeArg, RunArgs,
};
use crate::frame::options::{
    check_class_mapping, check_threshold, check_thresholds, read_json_file, FromFile, Overrides,
    ThresholdOverride,
};
use crate::output::{same_file, Destination};

/// A command-line value that is invalid by itself (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// `rle demo`.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// COCO results destination.
    pub out: Option<PathBuf>,
    /// Where to write the frame files.
    pub save_frame: Option<PathBuf>,
    /// Where to run.
    pub device: DevicePolicy,
}

/// `rle run`.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The `.npz` frames, in processing order.
    pub frames: Vec<PathBuf>,
    /// COCO results destination, as given (`-`: standard output).
    pub out: PathBuf,
    /// `--keep-going`: report a bad frame and go on with the others.
    pub keep_going: bool,
    /// Where to run.
    pub device: DevicePolicy,
    /// Option overrides.
    pub overrides: Overrides,
}

/// What `rle bench` replays.
#[derive(Debug, Clone)]
pub enum BenchSource {
    /// The embedded demo frame.
    Demo,
    /// These `.npz` frames.
    Frames(Vec<PathBuf>),
}

/// `rle bench`.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// The frames.
    pub source: BenchSource,
    /// `--iters`.
    pub iters: Option<usize>,
    /// `--cpu-iters`.
    pub cpu_iters: Option<usize>,
    /// Untimed passes first.
    pub warmup: usize,
    /// Where to run.
    pub device: DevicePolicy,
    /// Option overrides.
    pub overrides: Overrides,
}

impl BenchConfig {
    /// `(GPU passes, CPU passes)`. The reference is orders of magnitude slower, so
    /// next to the GPU it gets at most 10 passes unless `--cpu-iters` says otherwise;
    /// alone, it gets `--iters` (default 10).
    pub fn passes(&self, gpu: bool) -> (usize, usize) {
        if gpu {
            let iters = self.iters.unwrap_or(200);
            (iters, self.cpu_iters.unwrap_or(iters.min(10)))
        } else {
            (0, self.cpu_iters.or(self.iters).unwrap_or(10))
        }
    }
}

/// `rle info`.
#[derive(Debug, Clone)]
pub struct InfoConfig {
    /// Device to describe.
    pub ordinal: usize,
}

/// A validated command.
#[derive(Debug, Clone)]
pub enum Config {
    /// See [`DemoConfig`].
    Demo(DemoConfig),
    /// See [`RunConfig`].
    Run(RunConfig),
    /// See [`BenchConfig`].
    Bench(BenchConfig),
    /// See [`InfoConfig`].
    Info(InfoConfig),
}

fn device(d: &DeviceArgs) -> DevicePolicy {
    if d.cpu {
        DevicePolicy::Cpu
    } else {
        DevicePolicy::Auto { ordinal: d.device }
    }
}

fn overrides(o: &OptionArgs) -> Result<Overrides> {
    let threshold = match (o.threshold, &o.thresholds) {
        (Some(t), _) => {
            check_threshold("--threshold", t).map_err(|e| usage(e.to_string()))?;
            Some(ThresholdOverride::Scalar(t))
        }
        (None, Some(path)) => {
            let values: Vec<f64> = read_json_file(
                path,
                "a JSON list of numbers (one threshold per output class)",
            )?;
            let values = check_thresholds(&format!("{}: thresholds", path.display()), &values)?;
            Some(ThresholdOverride::PerClass(FromFile {
                path: path.clone(),
                value: values,
            }))
        }
        (None, None) => None,
    };
    let class_mapping = match &o.class_mapping {
        Some(path) => {
            let value: Vec<i64> = read_json_file(
                path,
                "a JSON list of integers (one per model class, -1 = removed)",
            )?;
            check_class_mapping(&format!("{}: class mapping", path.display()), &value)?;
            Some(FromFile {
                path: path.clone(),
                value,
            })
        }
        None => None,
    };
    Ok(Overrides {
        resize: o.resize.map(|r| match r {
            ResizeArg::Antialiased => ResizeMode::Antialiased,
            ResizeArg::Bilinear => ResizeMode::Bilinear,
        }),
        threshold,
        class_mapping,
        num_classes: o.num_classes,
        max_detections: o.max_detections,
        masks_resolution_factor: o.masks_resolution_factor,
        legacy_canvas: o.legacy_canvas,
    })
}

/// Checks `--out` before anything runs: a directory is a usage error; a name in a
/// missing directory, a block device and the like are errors ([`Destination::of`]).
fn check_out(out: &Path) -> Result<Destination> {
    if out.is_dir() {
        return Err(usage(format!(
            "--out {}: is a directory, expected a file name",
            out.display()
        )));
    }
    Destination::of(out)
}

/// Refuses an output that is one of the command's own files (`files`: each path and
/// what it is), naming both: the results would replace it.
fn refuse_overwrite(out: &Path, dest: &Destination, files: &[(PathBuf, String)]) -> Result<()> {
    let Some(target) = dest.path() else {
        return Ok(());
    };
    for (file, role) in files {
        if same_file(target, file) {
            return Err(usage(format!(
                "--out {}: is {}, {role}; writing the results there would replace it",
                out.display(),
                file.display()
            )));
        }
    }
    Ok(())
}

/// Every file `rle run` reads, with what it is (for [`refuse_overwrite`]).
fn run_inputs(frames: &[PathBuf], o: &OptionArgs) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for npz in frames {
        files.push((npz.clone(), "a frame of this run".to_string()));
        files.push((
            crate::frame::sidecar_path(npz),
            format!("the metadata sidecar of {}", npz.display()),
        ));
    }
    if let Some(p) = &o.thresholds {
        files.push((p.clone(), "the --thresholds file".to_string()));
    }
    if let Some(p) = &o.class_mapping {
        files.push((p.clone(), "the --class-mapping file".to_string()));
    }
    files
}

fn demo(a: DemoArgs) -> Result<Config> {
    if let Some(out) = &a.out {
        let dest = check_out(out)?;
        if let Some(dir) = &a.save_frame {
            let saved = ["demo.npz", "demo.json"]
                .map(|n| (dir.join(n), "a file --save-frame writes".to_string()));
            refuse_overwrite(out, &dest, &saved)?;
        }
    }
    Ok(Config::Demo(DemoConfig {
        out: a.out,
        save_frame: a.save_frame,
        device: device(&a.device),
    }))
}

fn run(a: RunArgs) -> Result<Config> {
    let dest = check_out(&a.out)?;
    let overrides = overrides(&a.options)?;
    let frames = crate::frame::discover(&a.frames)?;
    refuse_overwrite(&a.out, &dest, &run_inputs(&frames, &a.options))?;
    Ok(Config::Run(RunConfig {
        frames,
        out: a.out,
        keep_going: a.keep_going,
        device: device(&a.device),
        overrides,
    }))
}

fn bench(a: BenchArgs) -> Result<Config> {
    if a.iters == Some(0) {
        return Err(usage("--iters: must be at least 1"));
    }
    if a.cpu_iters == Some(0) {
        return Err(usage("--cpu-iters: must be at least 1"));
    }
    let overrides = overrides(&a.options)?;
    let source = match (&a.frames, a.demo) {
        (Some(p), false) => BenchSource::Frames(crate::frame::discover(p)?),
        (None, true) => BenchSource::Demo,
        // clap enforces exactly one of the two.
        _ => return Err(usage("give either --frames PATH or --demo")),
    };
    Ok(Config::Bench(BenchConfig {
        source,
        iters: a.iters,
        cpu_iters: a.cpu_iters,
        warmup: a.warmup,
        device: device(&a.device),
        overrides,
    }))
}

/// Validates the parsed command line.
pub fn validate(cli: Cli) -> Result<Config> {
    match cli.command {
        Command::Demo(a) => demo(a),
        Command::Run(a) => run(a),
        Command::Bench(a) => bench(a),
        Command::Info(InfoArgs { device }) => Ok(Config::Info(InfoConfig { ordinal: device })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench(iters: Option<usize>, cpu_iters: Option<usize>) -> BenchConfig {
        BenchConfig {
            source: BenchSource::Demo,
            iters,
            cpu_iters,
            warmup: 0,
            device: DevicePolicy::Cpu,
            overrides: Overrides::default(),
        }
    }

    #[test]
    fn bench_passes() {
        assert_eq!(bench(None, None).passes(true), (200, 10));
        assert_eq!(bench(Some(5), None).passes(true), (5, 5));
        assert_eq!(bench(Some(500), Some(20)).passes(true), (500, 20));
        assert_eq!(bench(None, None).passes(false), (0, 10));
        assert_eq!(bench(Some(50), None).passes(false), (0, 50));
        assert_eq!(bench(Some(50), Some(3)).passes(false), (0, 3));
    }
}
