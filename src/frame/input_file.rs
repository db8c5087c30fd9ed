//! Which paths may be read as inputs (frames, sidecars, threshold and class-mapping
//! lists): regular files, or symbolic links to them.
//!
//! Anything else is refused before it is opened, with what it is: a FIFO given as
//! `--frames` blocked forever in `open` (it waits for a writer), a character device
//! such as `/dev/zero` as a JSON list would be read without end, and a broken
//! symbolic link in a frames directory was skipped without a word. Checking before
//! opening leaves a window in which the file can change; for a command-line tool
//! reading the user's own files that is the usual trade (opening first would block
//! on the FIFO it is meant to refuse).

use std::path::{Path, PathBuf};

/// Why `path` cannot be read as an input file, or `None` when it is a regular file
/// (directly or through symbolic links).
pub fn problem(path: &Path) -> Option<Problem> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => None,
        Ok(m) => Some(Problem::Kind(kind_name(&m.file_type()))),
        Err(e) => match std::fs::symlink_metadata(path) {
            // The link exists, what it points to does not (or cannot be reached).
            Ok(l) if l.file_type().is_symlink() => {
                Some(Problem::BrokenLink(std::fs::read_link(path).ok()))
            }
            _ if e.kind() == std::io::ErrorKind::NotFound => Some(Problem::Missing),
            _ => Some(Problem::Inaccessible(e)),
        },
    }
}

/// What is wrong with an input path (see [`problem`]).
#[derive(Debug)]
pub enum Problem {
    /// Nothing there.
    Missing,
    /// A symbolic link whose target does not exist.
    BrokenLink(Option<PathBuf>),
    /// Something other than a regular file: `"a directory"`, `"a FIFO (named pipe)"`, ….
    Kind(&'static str),
    /// `stat` failed otherwise (permissions, …).
    Inaccessible(std::io::Error),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing => f.write_str("does not exist"),
            Problem::BrokenLink(Some(to)) => {
                write!(
                    f,
                    "is a broken symbolic link (to {}, which does not exist)",
                    to.display()
                )
            }
            Problem::BrokenLink(None) => f.write_str("is a broken symbolic link"),
            Problem::Kind(kind) => write!(f, "is {kind}, expected a regular file"),
            Problem::Inaccessible(e) => write!(f, "cannot be accessed: {e}"),
        }
    }
}

/// `"a directory"`, `"a FIFO (named pipe)"`, `"a character device"`, … for messages.
pub fn kind_name(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Reads `path` as text once [`problem`] found nothing wrong; errors read
/// `PATH: cannot read WHAT: why`.
pub fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    if let Some(p) = problem(path) {
        anyhow::bail!("{}: cannot read {what}: {p}", path.display());
    }
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read {what}: {e}", path.display()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.json");
        std::fs::write(&file, "[]").unwrap();
        assert!(problem(&file).is_none());
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(problem(&link).is_none(), "a link to a regular file is one");
        let broken = dir.path().join("broken.json");
        std::os::unix::fs::symlink(dir.path().join("gone.json"), &broken).unwrap();
        let text = problem(&broken).unwrap().to_string();
        assert!(text.starts_with("is a broken symbolic link (to "), "{text}");
        assert!(text.contains("gone.json, which does not exist"), "{text}");
        assert_eq!(
            problem(dir.path()).unwrap().to_string(),
            "is a directory, expected a regular file"
        );
        assert_eq!(
            problem(Path::new("/dev/null")).unwrap().to_string(),
            "is a character device, expected a regular file"
        );
        assert_eq!(
            problem(&dir.path().join("none")).unwrap().to_string(),
            "does not exist"
        );
        let e = read_text(Path::new("/dev/zero"), "the list")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "/dev/zero: cannot read the list: is a character device, expected a regular file"
        );
    }
}
