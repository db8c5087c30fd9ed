//! The pinned nightly that compiles the kernels, and how to run its tools.
//!
//! Only the PTX build uses nightly (`abi_ptx`, `-Zbuild-std`); everything else
//! builds on the stable toolchain in `rust-toolchain.toml`. The nightly is
//! named explicitly here, never picked up from the environment, so the PTX
//! does not change because of whatever nightly a developer happens to have.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The nightly the committed PTX is built with. Changing it changes the PTX:
/// rebuild with `cargo xtask build-ptx` and review `entries.txt`.
pub const NIGHTLY: &str = "nightly-2026-05-20";

/// How to get [`NIGHTLY`] on a fresh machine.
pub fn install_command() -> String {
    format!("rustup toolchain install {NIGHTLY} --profile minimal --component rust-src")
}

/// Environment variables that would make a child cargo or rustc use another
/// toolchain, other flags or another target directory than the ones the PTX
/// build sets. `cargo xtask` runs under the stable toolchain, and rustup and
/// cargo export some of these into our environment.
const OVERRIDING_VARS: &[&str] = &[
    "RUSTUP_TOOLCHAIN",
    "RUSTC",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTDOC",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO",
    "CARGO_TARGET_DIR",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_INCREMENTAL",
];

/// Prefixes of cargo configuration variables that could change code
/// generation (`CARGO_PROFILE_RELEASE_LTO`, `CARGO_BUILD_RUSTFLAGS`,
/// `CARGO_TARGET_<triple>_RUSTFLAGS`, ...).
const OVERRIDING_PREFIXES: &[&str] = &["CARGO_PROFILE_", "CARGO_BUILD_", "CARGO_TARGET_"];

/// A command running `program` (cargo, rustc) of [`NIGHTLY`] through
/// `rustup run`, with overriding variables removed. `rustup run` rather than
/// `cargo +toolchain` because it also works when `cargo` on `PATH` is a
/// toolchain's own binary instead of the rustup proxy.
pub fn nightly_command(program: &str) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", NIGHTLY, program]);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if OVERRIDING_VARS.contains(&key) || OVERRIDING_PREFIXES.iter().any(|p| key.starts_with(p))
        {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// What `rustc -vV` says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustcVersion {
    /// `release:`, e.g. `1.97.0-nightly`.
    pub release: String,
    /// `commit-hash:`, the exact compiler build.
    pub commit_hash: String,
    /// `LLVM version:`, which decides the PTX the backend prints.
    pub llvm_version: String,
}

/// Parses `rustc -vV` output.
pub fn parse_rustc_vv(text: &str) -> Result<RustcVersion> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(|v| v.trim().to_owned())
            .with_context(|| format!("`rustc -vV` output has no `{name}:` line:\n{text}"))
    };
    Ok(RustcVersion {
        release: field("release")?,
        commit_hash: field("commit-hash")?,
        llvm_version: field("LLVM version")?,
    })
}

/// Checks that [`NIGHTLY`] and its `rust-src` are installed and returns its
/// version; the error names the install command.
pub fn check_nightly() -> Result<RustcVersion> {
    let missing = || {
        format!(
            "the pinned nightly `{NIGHTLY}` (with rust-src) is needed to build the PTX; install it with\n    {}",
            install_command()
        )
    };
    let output = nightly_command("rustc")
        .arg("-vV")
        // rustup prints its own backtrace on "not installed" when this is set.
        .env_remove("RUST_BACKTRACE")
        .output()
        .with_context(|| format!("could not run `rustup`; {}", missing()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "`rustup run {NIGHTLY} rustc -vV` failed: {}\n{}",
            stderr.lines().next().unwrap_or("").trim(),
            missing()
        );
    }
    let version = parse_rustc_vv(&String::from_utf8_lossy(&output.stdout))?;

    // `-Zbuild-std` compiles `core` from the sysroot's rust-src component.
    let sysroot = nightly_command("rustc")
        .args(["--print", "sysroot"])
        .output()
        .context("running `rustc --print sysroot`")?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    let core_src = Path::new(&sysroot).join("lib/rustlib/src/rust/library/core");
    if !core_src.is_dir() {
        bail!(
            "`{NIGHTLY}` is installed but has no rust-src (no {}); add it with\n    rustup component add rust-src --toolchain {NIGHTLY}",
            core_src.display()
        );
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rustc_vv() {
        let text = "rustc 1.97.0-nightly (0123abc 2026-05-19)\nbinary: rustc\n\
                    commit-hash: 0123abcdef\ncommit-date: 2026-05-19\n\
                    host: x86_64-unknown-linux-gnu\nrelease: 1.97.0-nightly\nLLVM version: 22.1.0\n";
        let v = parse_rustc_vv(text).unwrap();
        assert_eq!(v.release, "1.97.0-nightly");
        assert_eq!(v.commit_hash, "0123abcdef");
        assert_eq!(v.llvm_version, "22.1.0");
        assert!(parse_rustc_vv("release: 1.0\n").is_err());
    }

    #[test]
    fn install_command_names_the_pin_and_rust_src() {
        let cmd = install_command();
        assert!(cmd.contains(NIGHTLY) && cmd.contains("rust-src"), "{cmd}");
    }
}
