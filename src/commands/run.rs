//! `rle run`: captured frames in, one COCO results JSON out.
//!
//! Frames are loaded and processed one at a time (memory stays at one frame);
//! results accumulate and are written atomically at the end, so any error leaves
//! no output file.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::backend::Backend;
use crate::coco;
use crate::config::RunConfig;
use crate::frame;
use crate::output::print;
use crate::progress;

/// Runs `rle run`.
pub fn run(cfg: RunConfig) -> Result<()> {
    let mut backend = Backend::open(cfg.device)?;
    let bar = progress::bar(cfg.frames.len() as u64, "frames", cfg.frames.len() > 1);
    let mut records = Vec::new();
    let mut seen: HashMap<i64, PathBuf> = HashMap::new();
    let (mut images, mut near) = (0usize, 0usize);
    for path in &cfg.frames {
        let frame = frame::load(path, &cfg.overrides)?;
        for &id in &frame.image_ids {
            if let Some(first) = seen.insert(id, frame.json.clone()) {
                bail!(
                    "{}: image_id {id} is already used by {}",
                    frame.json.display(),
                    first.display()
                );
            }
        }
        let results = backend
            .pp
            .run(&frame.tensors.batch(), &frame.metas, &frame.options)
            .with_context(|| format!("{}: post-processing failed", frame.npz.display()))?;
        images += frame.images();
        near += super::near_decisions(&results);
        records.extend(coco::records(&frame, &results)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    coco::save(&cfg.out, &records)?;
    print(&format!(
        "wrote {} detections for {images} image(s) from {} frame(s) to {} ({})\n",
        records.len(),
        cfg.frames.len(),
        cfg.out.display(),
        backend.describe()
    ))?;
    if let Some(note) = super::near_note(near) {
        eprintln!("{note}");
    }
    Ok(())
}
