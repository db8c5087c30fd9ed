//! Where results go (`--out`, and the files `--save-frame` writes), opened before
//! any work so that a destination that cannot be written fails at once, not after
//! the last frame.
//!
//! - `-`: standard output.
//! - A character device (`/dev/null`) or a FIFO: written in place. A temporary file
//!   renamed over it would replace the device node or the pipe with a regular file
//!   (as root, `--out /dev/null` did exactly that).
//! - A regular file, or a name that does not exist yet: written to a temporary file
//!   in the target's directory, created when the output is opened, and renamed over
//!   the target only when complete, so a failed or interrupted command leaves the
//!   old file (or none) in place. A symbolic link is followed to its final target
//!   first: the link stays, the file it points to is replaced (renaming over the
//!   link would have replaced the link itself). An existing file keeps its
//!   permissions.
//! - Anything else (a directory, a block device, a socket) is refused.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::frame::input_file::kind_name;

/// Symbolic links followed at most (Linux's own limit for path resolution).
const MAX_LINKS: usize = 40;

/// What an output path designates, links followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `-`.
    Stdout,
    /// A character device or a FIFO at this path: written directly.
    Direct(PathBuf),
    /// A regular file or a new name at this path (the final target of any links).
    File(PathBuf),
}

impl Destination {
    /// Resolves `path` (see the module header); `-` is standard output.
    pub fn of(path: &Path) -> Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(Self::Stdout);
        }
        let shown = path.display();
        let target = follow_links(path)?;
        let via = if target == path {
            String::new()
        } else {
            format!(" (the target of the link {shown})")
        };
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.is_file() => Ok(Self::File(target)),
            Ok(m) if is_direct(&m.file_type()) => Ok(Self::Direct(target)),
            Ok(m) => bail!(
                "{}{via}: is {}; the output must be a regular file, a character device, a FIFO or - (standard output)",
                target.display(),
                kind_name(&m.file_type())
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                    if !dir.is_dir() {
                        bail!(
                            "{}{via}: the directory {} does not exist",
                            target.display(),
                            dir.display()
                        );
                    }
                }
                Ok(Self::File(target))
            }
            Err(e) => Err(e).with_context(|| format!("{}{via}: cannot access", target.display())),
        }
    }

    /// The path written, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Stdout => None,
            Self::Direct(p) | Self::File(p) => Some(p),
        }
    }
}

#[cfg(unix)]
fn is_direct(t: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    t.is_char_device() || t.is_fifo()
}

#[cfg(not(unix))]
fn is_direct(_: &std::fs::FileType) -> bool {
    false
}

/// The final target of `path`'s symbolic links (relative targets resolved against
/// the link's directory); `path` itself when it is no link or does not exist.
fn follow_links(path: &Path) -> Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)
                    .with_context(|| format!("{}: cannot read the symbolic link", p.display()))?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    bail!(
        "{}: more than {MAX_LINKS} symbolic links to follow (a loop?)",
        path.display()
    )
}

/// An opened output: bytes go to [`Output::writer`]; [`Output::finish`] completes it.
#[derive(Debug)]
pub struct Output {
    /// As the user wrote it, for messages.
    shown: PathBuf,
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    Stdout(ClosedPipeOk),
    Direct(File),
    Temp {
        tmp: tempfile::NamedTempFile,
        target: PathBuf,
    },
}

impl Output {
    /// Resolves and opens `path` now: for a file, the temporary file is created in
    /// the target's directory; a device or FIFO is opened for writing (a FIFO waits
    /// for its reader here, as a shell redirection would).
    pub fn create(path: &Path) -> Result<Self> {
        let shown = path.to_path_buf();
        let sink = match Destination::of(path)? {
            Destination::Stdout => Sink::Stdout(ClosedPipeOk(std::io::stdout())),
            Destination::Direct(p) => Sink::Direct(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .with_context(|| format!("{}: cannot open for writing", p.display()))?,
            ),
            Destination::File(target) => Sink::Temp {
                tmp: temp_beside(&target)?,
                target,
            },
        };
        Ok(Self { shown, sink })
    }

    /// Whether the output is standard output (reports then go to stderr).
    pub fn is_stdout(&self) -> bool {
        matches!(self.sink, Sink::Stdout(_))
    }

    /// Where the bytes go.
    pub fn writer(&mut self) -> &mut dyn Write {
        match &mut self.sink {
            Sink::Stdout(s) => s,
            Sink::Direct(f) => f,
            Sink::Temp { tmp, .. } => tmp.as_file_mut(),
        }
    }

    /// The file written, for callers that need `Seek` too (not standard output).
    pub fn file(&mut self) -> Result<&mut File> {
        match &mut self.sink {
            Sink::Stdout(_) => bail!("standard output cannot hold this file"),
            Sink::Direct(f) => Ok(f),
            Sink::Temp { tmp, .. } => Ok(tmp.as_file_mut()),
        }
    }

    /// Flushes, and for a file moves the finished temporary file into place.
    pub fn finish(self) -> Result<()> {
        let shown = self.shown.display();
        match self.sink {
            Sink::Stdout(mut s) => s.flush().context("cannot write to stdout"),
            Sink::Direct(mut f) => f
                .flush()
                .with_context(|| format!("{shown}: writing failed")),
            Sink::Temp { tmp, target } => {
                tmp.as_file()
                    .sync_all()
                    .with_context(|| format!("{shown}: cannot flush to disk"))?;
                tmp.persist(&target).map_err(|e| e.error).with_context(|| {
                    format!("{shown}: cannot move the finished file into place")
                })?;
                Ok(())
            }
        }
    }
}

/// Standard output for results: a closed pipe (`rle run --out - | head`) is the
/// reader's choice, not an error; what is left is dropped.
#[derive(Debug)]
struct ClosedPipeOk(std::io::Stdout);

impl Write for ClosedPipeOk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// A temporary file in `target`'s directory (the rename never crosses file
/// systems), with the permissions the target has, or `0666 & !umask` for a new one.
fn temp_beside(target: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".rle-").suffix(".partial");
    // tempfile creates 0600 files; a results file should be readable like any other.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(dir).with_context(|| {
        format!(
            "{}: cannot create a temporary file in {}",
            target.display(),
            dir.display()
        )
    })?;
    if let Ok(m) = std::fs::metadata(target) {
        tmp.as_file()
            .set_permissions(m.permissions())
            .with_context(|| format!("{}: cannot copy its permissions", target.display()))?;
    }
    Ok(tmp)
}

/// Writes `path` through `fill` (see the module header: atomically for a file).
pub fn write_atomically(path: &Path, fill: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    let mut out = Output::create(path)?;
    fill(out.file()?).with_context(|| format!("{}: writing failed", path.display()))?;
    out.finish()
}

/// Whether `a` and `b` name the same file: the same inode when both exist (links
/// and `..` followed), else the same directory entry.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return (x.dev(), x.ino()) == (y.dev(), y.ino());
        }
    }
    let entry = |p: &Path| -> Option<PathBuf> {
        let p = follow_links(p).ok()?;
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
    };
    match (entry(a), entry(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Prints `text` to stdout; a closed pipe (`rle demo | head`) is not an error.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn destinations_follow_links_and_keep_devices() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("r.json");
        assert_eq!(
            Destination::of(&file).unwrap(),
            Destination::File(file.clone())
        );
        assert_eq!(
            Destination::of(Path::new("-")).unwrap(),
            Destination::Stdout
        );
        assert_eq!(
            Destination::of(Path::new("/dev/null")).unwrap(),
            Destination::Direct("/dev/null".into())
        );
        let link = d.path().join("link.json");
        std::os::unix::fs::symlink("r.json", &link).unwrap();
        assert_eq!(
            Destination::of(&link).unwrap(),
            Destination::File(file.clone())
        );
        let e = format!("{:#}", Destination::of(d.path()).unwrap_err());
        assert!(
            e.contains("is a directory; the output must be a regular file"),
            "{e}"
        );
        let lp = d.path().join("loop");
        std::os::unix::fs::symlink("loop", &lp).unwrap();
        let e = format!("{:#}", Destination::of(&lp).unwrap_err());
        assert!(e.contains("more than 40 symbolic links"), "{e}");
    }

    #[test]
    fn same_file_sees_through_links_and_dots() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.json");
        std::fs::write(&a, "x").unwrap();
        let link = d.path().join("l.json");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        assert!(same_file(&a, &link));
        assert!(same_file(&a, &d.path().join(".").join("a.json")));
        assert!(!same_file(&a, &d.path().join("b.json")));
        // Neither exists: the same directory entry.
        assert!(same_file(
            &d.path().join("n.json"),
            &d.path().join("./n.json")
        ));
    }
}
