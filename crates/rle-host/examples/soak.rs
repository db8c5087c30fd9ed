//! Soak test: many frames of varying shapes through ONE [`Postprocessor`], checked
//! against the CPU reference, with process and device memory sampled at the start
//! and the end (docs/RELIABILITY.md §4).
//!
//! A pool of random cases (`rle_fixtures::random_recipe`: every metadata kind, mask
//! dtype, threshold and remapping kind, B, Q, C and mask sizes drawn per case) is
//! generated once. The first pass over the pool is the warm-up: each case runs with
//! its exact scores (`run_with_scores`) and its expected result is computed once by
//! `rle_reference::postprocess_with_scores` fed with those scores (in parallel). Then
//! frames cycle through the pool in a scrambled order; on the GPU, one frame in
//! `--host-every` uses host inputs (`run`) and the others device inputs uploaded once
//! (`run_device`). Every `--check-every`-th frame is compared with its case's expected
//! detections (image size, classes, scores' bits, boxes, RLE bytes). Memory baselines
//! are taken after the warm-up, when every buffer has reached its final size.
//!
//! Prints progress lines (`soak: progress ...`) and one summary line (`soak: done
//! ...`); exits 0 when no frame failed or mismatched, 1 otherwise, 2 on bad usage.
//!
//! ```text
//! soak [--frames N] [--cpu] [--check-every K] [--pool P] [--limits small|default]
//!      [--seed S] [--max-seconds T] [--host-every M] [--progress-seconds R] [--device D]
//! ```
//! Defaults: 10,000 frames, GPU when present (else the CPU fallback), K = 1, P = 16,
//! default limits (canvases up to 3840×2160, Q ≤ 300, masks ≤ 192, B ≤ 3), seed 1,
//! no time limit, M = 4, progress every 30 s, device 0.

use std::time::{Duration, Instant};

use rle_fixtures::{generate, random_recipe, Limits, SynthBatch};
use rle_host::{Config, DeviceBatch, Fallback, Postprocessor};
use rle_reference::{Detection, ImageMeta, ImageResult, Options, Size};

/// Command-line settings.
#[derive(Debug, Clone)]
struct Args {
    frames: u64,
    cpu: bool,
    check_every: u64,
    pool: usize,
    small: bool,
    seed: u64,
    max_seconds: Option<f64>,
    host_every: u64,
    progress_seconds: f64,
    device: usize,
}

const USAGE: &str = "usage: soak [--frames N] [--cpu] [--check-every K] [--pool P] \
[--limits small|default] [--seed S] [--max-seconds T] [--host-every M] \
[--progress-seconds R] [--device D]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        frames: 10_000,
        cpu: false,
        check_every: 1,
        pool: 16,
        small: false,
        seed: 1,
        max_seconds: None,
        host_every: 4,
        progress_seconds: 30.0,
        device: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--cpu" {
            a.cpu = true;
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        let value = it.next().ok_or(format!("{flag}: missing value\n{USAGE}"))?;
        let num = |v: &str| -> Result<u64, String> {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|e| format!("{flag} {v}: {e}"))
        };
        match flag.as_str() {
            "--frames" => a.frames = num(&value)?,
            "--check-every" => a.check_every = num(&value)?.max(1),
            "--pool" => a.pool = num(&value)?.max(1) as usize,
            "--seed" => a.seed = num(&value)?,
            "--host-every" => a.host_every = num(&value)?.max(1),
            "--device" => a.device = num(&value)? as usize,
            "--max-seconds" | "--progress-seconds" => {
                let v: f64 = value.parse().map_err(|e| format!("{flag} {value}: {e}"))?;
                if v.is_nan() || v <= 0.0 {
                    return Err(format!("{flag}: must be > 0, got {value}"));
                }
                if flag == "--max-seconds" {
                    a.max_seconds = Some(v);
                } else {
                    a.progress_seconds = v;
                }
            }
            "--limits" => {
                a.small = match value.as_str() {
                    "small" => true,
                    "default" => false,
                    other => return Err(format!("--limits: small or default, got {other}")),
                }
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(a)
}

/// Per image: the declared size and the detections.
type Expected = Vec<(Size, Vec<Detection>)>;

/// One case of the pool.
struct Case {
    seed: u64,
    data: SynthBatch,
    metas: Vec<ImageMeta>,
    opts: Options,
    device: Option<DeviceBatch>,
    /// What the reference produces for this case.
    expected: Expected,
}

/// What is compared: everything but the CPU-only near-decision flags.
fn comparable(r: &[ImageResult]) -> Expected {
    r.iter()
        .map(|i| (i.image_size, i.detections.clone()))
        .collect()
}

/// A readable account of the first difference.
fn first_difference(got: &Expected, want: &Expected) -> String {
    if got.len() != want.len() {
        return format!("{} images, expected {}", got.len(), want.len());
    }
    for (b, (g, w)) in got.iter().zip(want).enumerate() {
        if g.0 != w.0 {
            return format!("image {b}: size {:?}, expected {:?}", g.0, w.0);
        }
        if g.1.len() != w.1.len() {
            return format!(
                "image {b}: {} detections, expected {}",
                g.1.len(),
                w.1.len()
            );
        }
        for (i, (gd, wd)) in g.1.iter().zip(&w.1).enumerate() {
            if gd != wd {
                return format!("image {b} detection {i}: got {gd:?}, expected {wd:?}");
            }
        }
    }
    "no difference".into()
}

/// `VmRSS` and `VmHWM` of this process in KiB (0 where /proc is unavailable).
fn rss_kib() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Device memory in use (total − free, MiB) on the post-processor's device, or
/// `None` on the CPU. Reads through the device's primary context, which the
/// post-processor shares.
struct DeviceMemory(Option<std::sync::Arc<cudarc::driver::CudaContext>>);

impl DeviceMemory {
    fn new(pp: &Postprocessor, ordinal: usize) -> Self {
        // `is_gpu` implies libcuda is loaded, so cudarc may be called.
        Self(
            pp.is_gpu()
                .then(|| cudarc::driver::CudaContext::new(ordinal).ok())
                .flatten(),
        )
    }

    fn used_mib(&self) -> Option<(u64, u64)> {
        let ctx = self.0.as_ref()?;
        let (free, total) = ctx.mem_get_info().ok()?;
        Some((((total - free) >> 20) as u64, (total >> 20) as u64))
    }
}

fn fmt_device(d: Option<(u64, u64)>) -> String {
    d.map_or("n/a".into(), |(used, _)| used.to_string())
}

/// splitmix64: scrambles the order in which pool cases come.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Default)]
struct Tally {
    frames: u64,
    checked: u64,
    host_frames: u64,
    device_frames: u64,
    mismatches: u64,
    errors: u64,
    detections: u64,
}

impl Tally {
    fn failed(&mut self, what: &str, case: &Case, frame: u64, detail: &str) {
        let n = self.mismatches + self.errors;
        if n < 5 {
            eprintln!(
                "soak: {what} at frame {frame} (case seed {}): {detail}",
                case.seed
            );
        }
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let limits = if args.small {
        Limits::small()
    } else {
        Limits::default()
    };
    let mut pp = if args.cpu {
        Postprocessor::cpu()
    } else {
        match Postprocessor::new(Config {
            ordinal: args.device,
            fallback: Fallback::Cpu,
            ..Default::default()
        }) {
            Ok(pp) => pp,
            Err(e) => {
                eprintln!("soak: cannot create the post-processor: {e}");
                std::process::exit(1);
            }
        }
    };
    let backend = match pp.device_info() {
        Some(d) => format!("gpu ({}, driver {})", d.name, d.driver_version),
        None => "cpu (the CPU fallback, rle-cpu)".to_string(),
    };
    println!(
        "soak: backend {backend}; {} frames, pool {}, {} limits, seed {}, check every {}, host inputs every {}",
        args.frames,
        args.pool,
        if args.small { "small" } else { "default" },
        args.seed,
        args.check_every,
        args.host_every
    );
    let device_memory = DeviceMemory::new(&pp, args.device);

    // The pool, and each case's device copy on the GPU.
    let t_pool = Instant::now();
    let mut pool: Vec<Case> = (0..args.pool as u64)
        .map(|i| {
            let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(i);
            let (recipe, metas, opts) = random_recipe(seed, &limits);
            let data = generate(&recipe);
            Case {
                seed,
                data,
                metas,
                opts,
                device: None,
                expected: Vec::new(),
            }
        })
        .collect();
    if pp.is_gpu() {
        for c in &mut pool {
            c.device = Some(pp.upload(&c.data.batch()).expect("uploading a pool case"));
        }
    }
    let shapes: Vec<String> = pool
        .iter()
        .map(|c| {
            let (l, m) = (c.data.logits.shape(), c.data.batch().masks.shape());
            let o = c.metas[0].original_size;
            format!(
                "{}x{}x{}/{}x{}/{}x{}",
                l[0], l[1], l[2], m[2], m[3], o.height, o.width
            )
        })
        .collect();
    println!(
        "soak: pool of {} cases (BxQxC/mask/first image) in {:.1} s: {}",
        pool.len(),
        t_pool.elapsed().as_secs_f64(),
        shapes.join(" ")
    );

    let start = Instant::now();
    let mut tally = Tally::default();

    // Warm-up: one frame per case with exact scores, then the expected results.
    let t_expect = Instant::now();
    let mut outputs = Vec::with_capacity(pool.len());
    for c in &pool {
        let batch = c.data.batch();
        match pp.run_with_scores(&batch, &c.metas, &c.opts) {
            Ok((r, scores)) => {
                let scores =
                    scores.unwrap_or_else(|| batch.logits.mapv(rle_reference::sigmoid::sigmoid));
                outputs.push(Some((comparable(&r), scores)));
            }
            Err(e) => {
                tally.failed("error", c, tally.frames, &e.to_string());
                tally.errors += 1;
                outputs.push(None);
            }
        }
        tally.frames += 1;
        tally.host_frames += 1;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let expected: Vec<Option<Expected>> = std::thread::scope(|s| {
        let chunk = pool.len().div_ceil(threads);
        let handles: Vec<_> = pool
            .chunks(chunk)
            .zip(outputs.chunks(chunk))
            .map(|(cases, outs)| {
                s.spawn(move || {
                    cases
                        .iter()
                        .zip(outs)
                        .map(|(c, o)| {
                            let (_, scores) = o.as_ref()?;
                            let r = rle_reference::postprocess_with_scores(
                                &c.data.batch(),
                                scores.view(),
                                &c.metas,
                                &c.opts,
                            )
                            .expect("pool cases are valid");
                            Some(comparable(&r))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a reference thread"))
            .collect()
    });
    for ((c, o), e) in pool.iter_mut().zip(&outputs).zip(expected) {
        let (Some((got, _)), Some(want)) = (o, e) else {
            continue;
        };
        tally.checked += 1;
        tally.detections += want.iter().map(|i| i.1.len() as u64).sum::<u64>();
        if *got != want {
            tally.failed("mismatch", c, 0, &first_difference(got, &want));
            tally.mismatches += 1;
        }
        c.expected = want;
    }
    drop(outputs);
    println!(
        "soak: warm-up done: {} frames, expected results in {:.1} s ({threads} threads)",
        tally.frames,
        t_expect.elapsed().as_secs_f64()
    );

    let rss_start = rss_kib();
    let dev_start = device_memory.used_mib();
    let loop_start = Instant::now();
    let mut last_progress = Instant::now();
    let deadline = args.max_seconds.map(Duration::from_secs_f64);
    let mut stopped_early = false;
    while tally.frames < args.frames {
        if deadline.is_some_and(|d| start.elapsed() >= d) {
            stopped_early = true;
            break;
        }
        let i = tally.frames;
        let c = &pool[(mix(args.seed ^ i) % pool.len() as u64) as usize];
        let use_device = c.device.is_some() && i % args.host_every != 0;
        let result = match &c.device {
            Some(dev) if use_device => {
                tally.device_frames += 1;
                // SAFETY: `dev` holds this case's tensors with the declared shapes and
                // is never written while the post-processor reads it.
                unsafe { pp.run_device(&dev.inputs(), None, &c.metas, &c.opts) }
            }
            _ => {
                tally.host_frames += 1;
                pp.run(&c.data.batch(), &c.metas, &c.opts)
            }
        };
        tally.frames += 1;
        match result {
            Err(e) => {
                tally.failed("error", c, i, &e.to_string());
                tally.errors += 1;
            }
            Ok(r) if i % args.check_every == 0 && !c.expected.is_empty() => {
                tally.checked += 1;
                tally.detections += r.iter().map(|x| x.detections.len() as u64).sum::<u64>();
                let got = comparable(&r);
                if got != c.expected {
                    tally.failed("mismatch", c, i, &first_difference(&got, &c.expected));
                    tally.mismatches += 1;
                }
            }
            Ok(_) => {}
        }
        if last_progress.elapsed().as_secs_f64() >= args.progress_seconds {
            last_progress = Instant::now();
            let (rss, hwm) = rss_kib();
            println!(
                "soak: progress frames={} seconds={:.1} checked={} mismatches={} errors={} rss_kib={rss} rss_peak_kib={hwm} device_used_mib={}",
                tally.frames,
                start.elapsed().as_secs_f64(),
                tally.checked,
                tally.mismatches,
                tally.errors,
                fmt_device(device_memory.used_mib())
            );
        }
    }
    let loop_seconds = loop_start.elapsed().as_secs_f64();
    let seconds = start.elapsed().as_secs_f64();
    let (rss_end, hwm) = rss_kib();
    let dev_end = device_memory.used_mib();
    let loop_frames = tally.frames.saturating_sub(pool.len() as u64);
    println!(
        "soak: done backend={} frames={} seconds={seconds:.1} fps={:.1} checked={} detections_checked={} \
         host_frames={} device_frames={} mismatches={} errors={} rss_start_kib={} rss_end_kib={rss_end} \
         rss_peak_kib={hwm} device_used_start_mib={} device_used_end_mib={} device_total_mib={}{}",
        if pp.is_gpu() { "gpu" } else { "cpu" },
        tally.frames,
        if loop_seconds > 0.0 {
            loop_frames as f64 / loop_seconds
        } else {
            0.0
        },
        tally.checked,
        tally.detections,
        tally.host_frames,
        tally.device_frames,
        tally.mismatches,
        tally.errors,
        rss_start.0,
        fmt_device(dev_start),
        fmt_device(dev_end),
        dev_end.map_or("n/a".into(), |(_, t)| t.to_string()),
        if stopped_early {
            " stopped=max-seconds"
        } else {
            ""
        },
    );
    if tally.mismatches + tally.errors > 0 {
        std::process::exit(1);
    }
}
