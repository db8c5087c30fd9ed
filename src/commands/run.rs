//! `rle run`: captured frames in, one COCO results JSON out.
//!
//! The output is opened first (for a file, its temporary file is created in the
//! target's directory), so an unwritable destination fails before any frame is
//! read. Frames are then loaded and processed one at a time (memory stays at one
//! frame); results accumulate and are written at the end, atomically for a file,
//! so an error leaves no output file.
//!
//! Without `--keep-going` the first bad frame stops the run. With it, each bad
//! frame is reported on its own `error:` line and skipped (its image ids are not
//! taken), the others' results are written, and the run fails at the end.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rle_reference::ImageResult;

use crate::backend::Backend;
use crate::coco::{self, CocoResult};
use crate::config::RunConfig;
use crate::frame::{self, options::Overrides};
use crate::output::{print, Output};
use crate::progress;

/// What one good frame contributed.
struct FrameOutcome {
    records: Vec<CocoResult>,
    images: usize,
    near: usize,
    warnings: Vec<String>,
}

/// Loads, checks and post-processes one frame; registers its image ids in `seen`
/// only when it succeeds.
fn one_frame(
    path: &Path,
    overrides: &Overrides,
    backend: &mut Backend,
    seen: &mut HashMap<i64, PathBuf>,
) -> Result<FrameOutcome> {
    let frame = frame::load(path, overrides)?;
    for &id in &frame.image_ids {
        if let Some(first) = seen.get(&id) {
            bail!(
                "{}: image_id {id} is already used by {}",
                frame.json.display(),
                first.display()
            );
        }
    }
    let results: Vec<ImageResult> = backend
        .pp
        .run(&frame.tensors.batch(), &frame.metas, &frame.options)
        .with_context(|| format!("{}: post-processing failed", frame.npz.display()))?;
    let records = coco::records(&frame, &results)?;
    for &id in &frame.image_ids {
        seen.insert(id, frame.json.clone());
    }
    Ok(FrameOutcome {
        records,
        images: frame.images(),
        near: super::near_decisions(&results),
        warnings: frame.warnings,
    })
}

/// Runs `rle run`.
pub fn run(cfg: RunConfig) -> Result<()> {
    let mut output = Output::create(&cfg.out)?;
    let to_stdout = output.is_stdout();
    let mut backend = Backend::open(cfg.device)?;
    let bar = progress::bar(cfg.frames.len() as u64, "frames", cfg.frames.len() > 1);
    let mut records = Vec::new();
    let mut seen: HashMap<i64, PathBuf> = HashMap::new();
    let (mut images, mut near, mut failed) = (0usize, 0usize, 0usize);
    // A warning about a shared option (`--class-mapping`) would repeat for every
    // frame: each distinct text is printed once.
    let mut warned = HashSet::new();
    for path in &cfg.frames {
        match one_frame(path, &cfg.overrides, &mut backend, &mut seen) {
            Ok(o) => {
                for w in o.warnings {
                    if warned.insert(w.clone()) {
                        bar.suspend(|| eprintln!("warning: {w}"));
                    }
                }
                records.extend(o.records);
                images += o.images;
                near += o.near;
            }
            Err(e) if cfg.keep_going => {
                failed += 1;
                bar.suspend(|| eprintln!("error: {}", super::one_line(&e)));
            }
            Err(e) => return Err(e),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    coco::write_json(output.writer(), &records)
        .with_context(|| format!("{}: writing failed", cfg.out.display()))?;
    output.finish()?;
    let good = cfg.frames.len() - failed;
    let report = format!(
        "wrote {} detections for {images} image(s) from {good} frame(s) to {} ({})\n",
        records.len(),
        if to_stdout {
            "standard output".to_string()
        } else {
            cfg.out.display().to_string()
        },
        backend.describe()
    );
    // With the results on standard output, reports go to stderr.
    if to_stdout {
        eprint!("{report}");
    } else {
        print(&report)?;
    }
    if let Some(note) = super::near_note(near) {
        eprintln!("{note}");
    }
    if failed > 0 {
        bail!(
            "{failed} of {} frame(s) failed (each reported above); the results of the other {good} were written",
            cfg.frames.len()
        );
    }
    Ok(())
}
