//! `cargo xtask entries`: prints the committed kernel ABI snapshot
//! (`crates/rle-host/ptx/entries.txt`), i.e. each PTX `.entry` with its
//! parameter list, without building anything.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::bundle::{BUNDLE_DIR, ENTRIES_FILE, FIX_COMMAND};

/// Prints `entries.txt` of the repository at `root` to stdout.
pub fn run(root: &Path) -> Result<()> {
    let path = root.join(BUNDLE_DIR).join(ENTRIES_FILE);
    let text = fs::read_to_string(&path).with_context(|| {
        format!("reading {BUNDLE_DIR}/{ENTRIES_FILE} (no bundle yet? run `{FIX_COMMAND}`)")
    })?;
    print!("{text}");
    Ok(())
}
