//! Captured frames: one `.npz` of model outputs plus its `.json` sidecar
//! (docs/FRAME_FORMAT.md), found, read, cross-checked and turned into what the
//! post-processor takes.
//!
//! - [`npz`]: the arrays ([`archive`]: the zip members, size-checked before reading);
//!   [`sidecar`]: the metadata; [`options`]: option resolution.
//! - [`discover`]: a frame path or a directory of frames → sorted `.npz` paths.
//! - [`load`]: one frame, fully checked.
//!
//! Invariant: a [`Frame`] returned by [`load`] passes `rle_reference::validate`, so
//! processing it can fail only for device reasons; every rejection is one line
//! naming the file and the field.

pub mod archive;
pub mod input_file;
pub mod json_text;
pub mod npz;
pub mod options;
pub mod sidecar;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rle_reference::{ImageMeta, Options};

use npz::Tensors;
use options::Overrides;
use sidecar::Sidecar;

/// A frame ready to post-process.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Where the arrays came from (for messages).
    pub npz: PathBuf,
    /// Where the metadata came from (for messages).
    pub json: PathBuf,
    /// The arrays.
    pub tensors: Tensors,
    /// COCO `image_id` of each image of the batch.
    pub image_ids: Vec<i64>,
    /// Pre-processing metadata of each image.
    pub metas: Vec<ImageMeta>,
    /// Resolved options.
    pub options: Options,
    /// COCO `category_id` per output class id, when the sidecar maps them.
    pub category_ids: Option<Vec<i64>>,
    /// What was accepted but is probably not meant (printed on stderr by the commands).
    pub warnings: Vec<String>,
}

impl Frame {
    /// Display name: the `.npz` file name.
    pub fn name(&self) -> String {
        self.npz.file_name().map_or_else(
            || self.npz.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// Images in the batch.
    pub fn images(&self) -> usize {
        self.metas.len()
    }
}

/// The sidecar of `npz`: the same path with the extension `.json`.
pub fn sidecar_path(npz: &Path) -> PathBuf {
    npz.with_extension("json")
}

/// The `.npz` frames named by `path`: the file itself, or a directory's `*.npz`
/// sorted by file name. Every frame must be a regular file (or a link to one): a
/// FIFO would block the first read forever, and a broken link in a directory is
/// reported, not skipped.
pub fn discover(path: &Path) -> Result<Vec<PathBuf>> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => match input_file::problem(path) {
            Some(p @ input_file::Problem::BrokenLink(_)) => bail!("{shown}: {p}"),
            _ => return Err(e).with_context(|| format!("{shown}: cannot access the frames")),
        },
    };
    if meta.is_dir() {
        let mut frames = Vec::new();
        let entries = std::fs::read_dir(path)
            .with_context(|| format!("{shown}: cannot list the directory"))?;
        for entry in entries {
            let p = entry
                .with_context(|| format!("{shown}: cannot list the directory"))?
                .path();
            if p.extension().is_some_and(|e| e == "npz") {
                if let Some(problem) = input_file::problem(&p) {
                    bail!(
                        "{}: {problem} (a frame in the directory {shown})",
                        p.display()
                    );
                }
                frames.push(p);
            }
        }
        if frames.is_empty() {
            bail!("{shown}: no .npz frames in this directory");
        }
        frames.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        Ok(frames)
    } else if path.extension().is_some_and(|e| e == "npz") {
        if !meta.is_file() {
            bail!(
                "{shown}: is {}, expected a regular .npz file (a frame)",
                input_file::kind_name(&meta.file_type())
            );
        }
        Ok(vec![path.to_path_buf()])
    } else if path.extension().is_some_and(|e| e == "json") && path.with_extension("npz").is_file()
    {
        // The sidecar was named; its arrays are beside it.
        Ok(vec![path.with_extension("npz")])
    } else {
        bail!(
            "{shown}: a frame must be a .npz file (with its .json sidecar) or a directory of them",
        )
    }
}

/// Maps a reference validation message onto the frame files' vocabulary:
/// `metas[i]` is the sidecar's `images[i]`, `batch.x` the archive's array `x`.
fn reference_error(frame: &Frame, e: &rle_reference::Error) -> anyhow::Error {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix("batch.") {
        anyhow::anyhow!("{}: array {rest}", frame.npz.display())
    } else {
        let text = text
            .replace("metas[", "images[")
            .replace("opts.", "options.");
        anyhow::anyhow!("{}: {text}", frame.json.display())
    }
}

/// Checks what spans the two files and the options, and returns the frame.
pub fn assemble(
    npz: PathBuf,
    json: PathBuf,
    tensors: Tensors,
    sidecar: Sidecar,
    overrides: &Overrides,
) -> Result<Frame> {
    let (b, _, c, _, _) = tensors.dims();
    let j = json.display();
    if sidecar.images.len() != b {
        bail!(
            "{j}: images: {} entries, but {} holds {b} image(s) (B = {b})",
            sidecar.images.len(),
            npz.display()
        );
    }
    let mut seen = HashSet::new();
    let mut metas = Vec::with_capacity(b);
    for (i, img) in sidecar.images.iter().enumerate() {
        if !seen.insert(img.image_id) {
            bail!("{j}: images[{i}].image_id: {} appears twice", img.image_id);
        }
        metas.push(
            img.to_meta(&format!("images[{i}]"))
                .with_context(|| j.to_string())?,
        );
    }
    let options::Resolved {
        options,
        outputs,
        warnings,
    } = options::resolve(&sidecar.options, &json, overrides, c)?;
    if let Some(ids) = &sidecar.category_ids {
        if ids.len() < outputs {
            bail!(
                "{j}: category_ids: {} entries, but there are {outputs} output classes (one category id each)",
                ids.len()
            );
        }
    }
    let frame = Frame {
        image_ids: sidecar.images.iter().map(|i| i.image_id).collect(),
        category_ids: sidecar.category_ids,
        npz,
        json,
        tensors,
        metas,
        options,
        warnings,
    };
    rle_reference::validate(&frame.tensors.batch(), &frame.metas, &frame.options)
        .map_err(|e| reference_error(&frame, &e))?;
    Ok(frame)
}

/// Loads and checks the frame `npz` and its sidecar.
pub fn load(npz_path: &Path, overrides: &Overrides) -> Result<Frame> {
    let json = sidecar_path(npz_path);
    match input_file::problem(&json) {
        None => {}
        Some(input_file::Problem::Missing) => bail!(
            "{}: the metadata sidecar {} is missing",
            npz_path.display(),
            json.display()
        ),
        Some(p) => bail!(
            "{}: {p} (the metadata sidecar of {})",
            json.display(),
            npz_path.display()
        ),
    }
    let sidecar = sidecar::read(&json)?;
    let tensors = npz::read(npz_path, sidecar.mask_dtype, &json)?;
    assemble(npz_path.to_path_buf(), json, tensors, sidecar, overrides)
}

/// Writes a frame as `dir/stem.npz` + `dir/stem.json` (each atomically).
pub fn save(
    dir: &Path,
    stem: &str,
    tensors: &Tensors,
    sidecar: &Sidecar,
) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create the directory", dir.display()))?;
    let npz_path = dir.join(format!("{stem}.npz"));
    let json_path = dir.join(format!("{stem}.json"));
    crate::output::write_atomically(&npz_path, |f| npz::write(f, tensors))?;
    let text = sidecar::to_text(sidecar).context("serializing the sidecar")?;
    crate::output::write_atomically(&json_path, |f| {
        use std::io::Write;
        f.write_all(text.as_bytes())?;
        Ok(())
    })?;
    Ok((npz_path, json_path))
}
