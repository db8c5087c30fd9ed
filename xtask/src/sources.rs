//! The fingerprint of a kernel crate's sources, recorded per module in the
//! PTX manifest so that a plain `cargo test` (no nightly) notices kernels
//! edited without regenerating the PTX.
//!
//! Definition (kept reproducible with coreutils, from the repository root),
//! for a kernel crate in `<dir>` (e.g. `crates/rle-kernels`) and each of its
//! path dependencies (`crates/kernel-prims`): the files are every regular
//! file under each `<dir>/src` plus each `<dir>/Cargo.toml`, named by their
//! `/`-separated path relative to the repository root and sorted bytewise;
//! the listing is one `<sha256 of the file>  <path>\n` line per file (exactly
//! `sha256sum` output), and the sources hash is the sha256 of that listing:
//!
//! ```text
//! { find crates/rle-kernels/src crates/kernel-prims/src -type f; \
//!   echo crates/rle-kernels/Cargo.toml; echo crates/kernel-prims/Cargo.toml; } \
//!   | LC_ALL=C sort | xargs sha256sum | sha256sum
//! ```
//!
//! Every file counts, not only `*.rs`: `include_bytes!` data and the like
//! change the PTX as much as code does.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One hashed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// `/`-separated, relative to the repository root.
    pub path: String,
    /// Lowercase hex sha256 of the file's bytes.
    pub sha256: String,
}

/// The per-file hashes (sorted by path) and the hash over their listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesHash {
    /// sha256 of the `sha256sum`-style listing of `files`.
    pub sha256: String,
    /// The hashed files, sorted by `path`.
    pub files: Vec<SourceFile>,
}

impl SourcesHash {
    /// Builds the hash from `(path, contents)` pairs in any order.
    pub fn from_contents<'a>(files: impl IntoIterator<Item = (String, &'a [u8])>) -> Self {
        let mut files: Vec<SourceFile> = files
            .into_iter()
            .map(|(path, bytes)| SourceFile {
                path,
                sha256: sha256_hex(bytes),
            })
            .collect();
        // Bytewise order, as `LC_ALL=C sort` gives; independent of the order
        // the file system lists directories in.
        files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        let listing: String = files
            .iter()
            .map(|f| format!("{}  {}\n", f.sha256, f.path))
            .collect();
        SourcesHash {
            sha256: sha256_hex(listing.as_bytes()),
            files,
        }
    }

    /// Hashes the crates in `dirs` (relative) of the repository at `root`
    /// together: a kernel crate and its path dependencies
    /// (`KernelCrate::source_dirs`).
    pub fn of_dirs(root: &Path, dirs: &[&str]) -> Result<Self> {
        let mut paths = Vec::new();
        for dir in dirs {
            let crate_dir = root.join(dir);
            paths.push(crate_dir.join("Cargo.toml"));
            collect_files(&crate_dir.join("src"), &mut paths)?;
        }
        let mut contents = Vec::with_capacity(paths.len());
        for path in &paths {
            let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            contents.push((relative_slash_path(root, path)?, bytes));
        }
        Ok(Self::from_contents(
            contents.iter().map(|(p, b)| (p.clone(), b.as_slice())),
        ))
    }

    /// A human summary of how `self` (current) differs from `recorded`:
    /// which files were added, removed or changed.
    pub fn describe_changes_since(&self, recorded: &SourcesHash) -> Vec<String> {
        let mut changes = Vec::new();
        for now in &self.files {
            match recorded.files.iter().find(|f| f.path == now.path) {
                None => changes.push(format!("added {}", now.path)),
                Some(then) if then.sha256 != now.sha256 => {
                    changes.push(format!("changed {}", now.path))
                }
                Some(_) => {}
            }
        }
        for then in &recorded.files {
            if !self.files.iter().any(|f| f.path == then.path) {
                changes.push(format!("removed {}", then.path));
            }
        }
        changes
    }
}

/// Lowercase hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Appends every regular file below `dir`, recursively. Symlinks are
/// followed, because the compiler reads through them; this is the one case
/// where the `find -type f` recipe in the header (which skips them) differs.
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        let meta = fs::metadata(&path).with_context(|| format!("stat {}", path.display()))?;
        if meta.is_dir() {
            collect_files(&path, out)?;
        } else if meta.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

fn relative_slash_path(root: &Path, path: &Path) -> Result<String> {
    let rel = path
        .strip_prefix(root)
        .with_context(|| format!("{} is not under {}", path.display(), root.display()))?;
    let mut parts = Vec::new();
    for part in rel.components() {
        match part.as_os_str().to_str() {
            Some(s) => parts.push(s),
            None => bail!("path {} is not valid UTF-8", path.display()),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn order_of_input_does_not_matter_and_is_bytewise() {
        let a = SourcesHash::from_contents([
            ("crates/k/src/b.rs".to_owned(), &b"b"[..]),
            ("crates/k/Cargo.toml".to_owned(), &b"t"[..]),
            ("crates/k/src/a.rs".to_owned(), &b"a"[..]),
            ("crates/k/src/Z.rs".to_owned(), &b"z"[..]),
        ]);
        let b = SourcesHash::from_contents([
            ("crates/k/src/Z.rs".to_owned(), &b"z"[..]),
            ("crates/k/src/a.rs".to_owned(), &b"a"[..]),
            ("crates/k/Cargo.toml".to_owned(), &b"t"[..]),
            ("crates/k/src/b.rs".to_owned(), &b"b"[..]),
        ]);
        assert_eq!(a, b);
        let paths: Vec<_> = a.files.iter().map(|f| f.path.as_str()).collect();
        // Uppercase sorts before lowercase bytewise (`LC_ALL=C sort`).
        assert_eq!(
            paths,
            [
                "crates/k/Cargo.toml",
                "crates/k/src/Z.rs",
                "crates/k/src/a.rs",
                "crates/k/src/b.rs"
            ]
        );
    }

    #[test]
    fn matches_sha256sum_listing() {
        // `printf 'hi' | sha256sum` and the listing hashed by hand.
        let h = SourcesHash::from_contents([("x".to_owned(), &b"hi"[..])]);
        let file = "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4";
        assert_eq!(h.files[0].sha256, file);
        assert_eq!(h.sha256, sha256_hex(format!("{file}  x\n").as_bytes()));
    }

    #[test]
    fn renames_and_edits_change_the_hash_and_are_described() {
        let base =
            SourcesHash::from_contents([("a".to_owned(), &b"1"[..]), ("b".to_owned(), &b"2"[..])]);
        let renamed =
            SourcesHash::from_contents([("a".to_owned(), &b"1"[..]), ("c".to_owned(), &b"2"[..])]);
        let edited =
            SourcesHash::from_contents([("a".to_owned(), &b"1!"[..]), ("b".to_owned(), &b"2"[..])]);
        assert_ne!(base.sha256, renamed.sha256);
        assert_ne!(base.sha256, edited.sha256);
        assert_eq!(
            renamed.describe_changes_since(&base),
            ["added c", "removed b"]
        );
        assert_eq!(edited.describe_changes_since(&base), ["changed a"]);
        assert!(base.describe_changes_since(&base).is_empty());
    }

    #[test]
    fn walks_the_crate_on_disk() {
        let tmp = TempDir::new("sources");
        let root = tmp.path();
        tmp.write("crates/rle-kernels/Cargo.toml", "[package]\n");
        tmp.write("crates/rle-kernels/src/lib.rs", "#![no_std]\n");
        tmp.write("crates/rle-kernels/src/device/mod.rs", "\n");
        // Outside `src`: not part of the hash.
        tmp.write("crates/rle-kernels/README.md", "docs\n");
        let h = SourcesHash::of_dirs(root, &["crates/rle-kernels"]).unwrap();
        let paths: Vec<_> = h.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "crates/rle-kernels/Cargo.toml",
                "crates/rle-kernels/src/device/mod.rs",
                "crates/rle-kernels/src/lib.rs"
            ]
        );
        let expected = SourcesHash::from_contents([
            (
                "crates/rle-kernels/Cargo.toml".to_owned(),
                &b"[package]\n"[..],
            ),
            (
                "crates/rle-kernels/src/lib.rs".to_owned(),
                &b"#![no_std]\n"[..],
            ),
            (
                "crates/rle-kernels/src/device/mod.rs".to_owned(),
                &b"\n"[..],
            ),
        ]);
        assert_eq!(h, expected);
        // A path dependency's files join the same sorted listing.
        tmp.write("crates/kernel-prims/Cargo.toml", "[package]\n");
        tmp.write("crates/kernel-prims/src/lib.rs", "\n");
        let both =
            SourcesHash::of_dirs(root, &["crates/rle-kernels", "crates/kernel-prims"]).unwrap();
        let paths: Vec<_> = both.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths[..2],
            [
                "crates/kernel-prims/Cargo.toml",
                "crates/kernel-prims/src/lib.rs"
            ]
        );
        assert_eq!(paths.len(), 5);
        assert_ne!(both.sha256, h.sha256);
    }
}
