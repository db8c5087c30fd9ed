//! Atomic file output: everything is written to a temporary file in the target's
//! directory and renamed over the target only when complete, so a failed or
//! interrupted command never leaves a half-written file behind.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `path` through `fill`, atomically (temporary file + rename).
pub fn write_atomically(path: &Path, fill: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    let shown = path.display();
    if path.is_dir() {
        anyhow::bail!("{shown}: is a directory, expected a file name to write");
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Same directory as the target: the final rename never crosses file systems.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".rle-").suffix(".partial");
    // tempfile creates 0600 files; the result should get the usual 0666 & !umask.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir).with_context(|| {
        format!(
            "{shown}: cannot create a temporary file in {}",
            dir.display()
        )
    })?;
    fill(tmp.as_file_mut()).with_context(|| format!("{shown}: writing failed"))?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("{shown}: cannot flush to disk"))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("{shown}: cannot move the finished file into place"))?;
    Ok(())
}

/// Prints `text` to stdout; a closed pipe (`rle demo | head`) is not an error.
pub fn print(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}
