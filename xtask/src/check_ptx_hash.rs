//! `cargo xtask check-ptx-hash` (also `build-ptx --hash-only`): the cheap
//! freshness check of the committed PTX bundle, needing no nightly and no
//! GPU, so it runs in every plain `cargo test` (see the test below).
//!
//! It catches kernels edited without `cargo xtask build-ptx` (the sources hash
//! in the manifest no longer matches) and a bundle edited or committed in
//! part (the PTX's sha256, header or entries disagree with the manifest and
//! `entries.txt`). It cannot tell whether the PTX is what the compiler would
//! produce today; `build-ptx --check` does that, with the nightly.

use std::path::Path;

use anyhow::{bail, Result};

use crate::bundle::{self, BUNDLE_DIR};

/// Runs the check for the repository at `root`.
pub fn run(root: &Path) -> Result<()> {
    let problems = bundle::check_committed_without_compiler(root)?;
    if !problems.is_empty() {
        bail!(bundle::stale_message(&problems));
    }
    eprintln!("{BUNDLE_DIR}/ matches the current kernel sources");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    /// Guards the real repository: fails when someone edits a kernel crate
    /// (`rle-kernels`, `mask-kernels`) without regenerating the committed PTX.
    #[test]
    fn committed_ptx_bundle_matches_kernel_sources() {
        if let Err(e) = run(&crate::repo_root()) {
            panic!("{e:#}");
        }
    }

    #[test]
    fn fails_with_the_fix_after_a_kernel_edit() {
        let tmp = TempDir::new("check-hash");
        bundle::tests::write_repo(&tmp);
        run(tmp.path()).unwrap();
        tmp.write(
            "crates/rle-kernels/src/lib.rs",
            "#![no_std]\npub fn more() {}\n",
        );
        let msg = format!("{:#}", run(tmp.path()).unwrap_err());
        assert!(
            msg.contains("changed crates/rle-kernels/src/lib.rs"),
            "{msg}"
        );
        assert!(msg.contains("cargo xtask build-ptx"), "{msg}");
    }
}
