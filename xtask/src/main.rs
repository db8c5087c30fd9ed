//! Developer commands, run as `cargo xtask <command>` (an alias in
//! `.cargo/config.toml`). One module per subcommand:
//!
//! - `build-ptx` (`build_ptx.rs`): compile every kernel crate of the
//!   workspace (`kernel_crates.rs`) to the committed PTX bundle in
//!   `crates/rle-host/ptx/`, or `--check` it against a fresh build.
//! - `check-ptx-hash` (`check_ptx_hash.rs`): the cheap, nightly-free check
//!   that the bundle matches the kernel sources; also a `#[test]`.
//! - `gather-gpu` (`gather_gpu.rs`): test and bench executables, fixtures
//!   and run scripts in one folder for the GPU machine.
//! - `bench-table` (`bench_table.rs`): criterion's saved results (e.g. the
//!   per-kernel benches, one group per kernel) merged into a Markdown table.
//! - `entries`: print the committed kernel ABI snapshot.
//!
//! Shared pieces: `ptx.rs` (reading PTX), `bundle.rs` (the bundle's files),
//! `sources.rs` (the kernel sources hash), `toolchain.rs` (the pinned
//! nightly), `gpu_scripts.rs` (the bundle's shell scripts), `tune.rs` (the
//! per-kernel register limits written into the PTX).
//!
//! Exit status: 0 on success, 1 on failure (the cause chain is printed),
//! 2 for usage errors (clap).

mod bench_table;
mod build_ptx;
mod bundle;
mod check_ptx_hash;
mod entries;
mod gather_gpu;
mod gpu_scripts;
mod kernel_crates;
mod ptx;
mod sources;
#[cfg(test)]
mod testutil;
mod toolchain;
mod tune;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Developer commands of the rle-gpu workspace"
)]
struct Cli {
    /// Repository root to work on (default: the workspace this xtask belongs to).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile every kernel crate to PTX (pinned nightly) and write crates/rle-host/ptx/.
    BuildPtx(build_ptx::Args),
    /// Check that the committed PTX bundle matches the kernel sources (no nightly needed).
    CheckPtxHash,
    /// Build test and bench executables and gather them with fixtures for the GPU machine.
    GatherGpu(gather_gpu::Args),
    /// Merge criterion's saved results into one Markdown table (a column per group).
    BenchTable(bench_table::Args),
    /// Print the committed kernel entry points and their parameters (entries.txt).
    Entries,
}

/// The repository root: the parent of this crate's directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

fn run(cli: Cli) -> Result<()> {
    let root = match cli.root {
        Some(root) => std::path::absolute(root)?,
        None => repo_root(),
    };
    match cli.command {
        Command::BuildPtx(args) => build_ptx::run(&root, &args),
        Command::CheckPtxHash => check_ptx_hash::run(&root),
        Command::GatherGpu(args) => gather_gpu::run(&root, &args),
        Command::BenchTable(args) => bench_table::run(&root, &args),
        Command::Entries => entries::run(&root),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn check_flags_parse() {
        let cli = Cli::try_parse_from(["xtask", "build-ptx", "--check"]).unwrap();
        assert!(matches!(cli.command, Command::BuildPtx(_)));
        Cli::try_parse_from(["xtask", "build-ptx", "--check", "--hash-only"]).unwrap();
        assert!(
            Cli::try_parse_from(["xtask", "build-ptx", "--check", "--verify-determinism"]).is_err()
        );
        let cli =
            Cli::try_parse_from(["xtask", "gather-gpu", "--out", "x", "--root", "/r"]).unwrap();
        assert_eq!(cli.root, Some(PathBuf::from("/r")));
        let cli = Cli::try_parse_from([
            "xtask",
            "bench-table",
            "--groups",
            "gpu_select_roi,gpu_mask_count",
            "--sum",
        ])
        .unwrap();
        assert!(matches!(cli.command, Command::BenchTable(_)));
    }
}
