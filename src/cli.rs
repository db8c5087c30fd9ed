//! The command line as clap parses it: raw values, no checks beyond their types.
//!
//! [`crate::config`] turns these into validated configurations before any file
//! is read for real or the GPU is touched; keeping the two apart means a bad flag
//! is a usage error (exit 2) and never a half-run command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// RF-DETR instance-segmentation outputs to COCO RLE masks, on the GPU when there
/// is one (bit-identical to the PyTorch reference), else on the CPU fallback.
#[derive(Debug, Parser)]
#[command(name = "rle", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Post-process the embedded demo frame (1920×1080, rfdetr-seg-nano shapes) and print its detections.
    Demo(DemoArgs),
    /// Post-process captured frames (.npz + .json sidecar) into COCO results JSON.
    Run(RunArgs),
    /// Replay frames many times and report latency percentiles.
    Bench(BenchArgs),
    /// Show the driver, the GPU and the embedded PTX bundle.
    Info(InfoArgs),
}

/// Where to run.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    /// Run on the CPU fallback (rle-cpu, the reference's results) even if a GPU is present.
    #[arg(long)]
    pub cpu: bool,
    /// CUDA device ordinal.
    #[arg(long, value_name = "N", default_value_t = 0, conflicts_with = "cpu")]
    pub device: usize,
}

/// `rle demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Write the detections as COCO results JSON to FILE (- for standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the embedded frame as DIR/demo.npz + DIR/demo.json, ready for `rle run` and `rle bench`.
    #[arg(long, value_name = "DIR")]
    pub save_frame: Option<PathBuf>,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// Mask resize flavour (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResizeArg {
    /// torchvision `resize` on tensors (antialiased bilinear): the Roboflow reference.
    Antialiased,
    /// `F.interpolate(bilinear, align_corners=False)`, as rf-detr's own post-processing.
    Bilinear,
}

/// Options that override a frame's sidecar defaults.
#[derive(Debug, Clone, Args)]
pub struct OptionArgs {
    /// Mask resize flavour [default: the sidecar's, else antialiased].
    #[arg(long, value_enum)]
    pub resize: Option<ResizeArg>,
    /// One confidence threshold for every class, in [0, 1] [default: the sidecar's, else 0.4].
    #[arg(long, value_name = "T", conflicts_with = "thresholds")]
    pub threshold: Option<f64>,
    /// Per-class thresholds: a JSON list of numbers in [0, 1], one per output class.
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,
    /// Class remapping: a JSON list with one int per model class (-1 = removed).
    #[arg(long, value_name = "FILE")]
    pub class_mapping: Option<PathBuf>,
    /// Number of named output classes when there is no remapping [default: the sidecar's, else C − 1].
    #[arg(long, value_name = "N")]
    pub num_classes: Option<usize>,
    /// Keep at most N detections per image [default: the sidecar's, else 300].
    #[arg(long, value_name = "N")]
    pub max_detections: Option<usize>,
    /// Encode masks on a grid between the mask window (0) and the image (1), as
    /// inference-models 0.39.6's `masks_resolution_factor` [default: the sidecar's, else 1].
    #[arg(long, value_name = "F", value_parser = parse_factor, allow_negative_numbers = true)]
    pub masks_resolution_factor: Option<f64>,
    /// The canvas rule of inference-models releases before 0.39.6: a static crop
    /// anchored at (0, 0) encodes the crop's size, not the image's (needs factor 1).
    #[arg(long)]
    pub legacy_canvas: bool,
}

/// `--masks-resolution-factor`: a finite number in [0, 1], as the package checks it.
fn parse_factor(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("expected a number in [0, 1], got {s:?}"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be finite and in [0.0, 1.0], got {s}"))
    }
}

/// `rle run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A frame (`frame.npz`, with `frame.json` beside it) or a directory of frames.
    #[arg(long, value_name = "PATH")]
    pub frames: PathBuf,
    /// Where to write the COCO results JSON: a file (replaced atomically at the end),
    /// a device or FIFO (written directly), or - for standard output.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Report a frame that fails, go on with the others, write their results and
    /// exit with 1 at the end (without it, the first bad frame stops the run).
    #[arg(long)]
    pub keep_going: bool,
    #[command(flatten)]
    pub device: DeviceArgs,
    #[command(flatten)]
    pub options: OptionArgs,
}

/// `rle bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A frame or a directory of frames to replay.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "demo",
        conflicts_with = "demo"
    )]
    pub frames: Option<PathBuf>,
    /// Replay the embedded demo frame.
    #[arg(long)]
    pub demo: bool,
    /// Timed passes over the frames [default: 200 on the GPU; 10 when only the CPU runs].
    #[arg(long, value_name = "N")]
    pub iters: Option<usize>,
    /// Timed passes of the CPU fallback when the GPU is measured too [default: min(iters, 10)].
    #[arg(long, value_name = "N")]
    pub cpu_iters: Option<usize>,
    /// Untimed passes before measuring.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub warmup: usize,
    #[command(flatten)]
    pub device: DeviceArgs,
    #[command(flatten)]
    pub options: OptionArgs,
}

/// `rle info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// CUDA device ordinal to describe.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub device: usize,
}
