//! `rle`: RF-DETR instance-segmentation outputs to COCO RLE masks from the
//! command line (docs/CLI.md). `demo`, `run`, `bench` and `info`.
//!
//! Flow: clap parses into [`cli`] structs, [`config`] validates them into a
//! configuration (usage errors exit with 2 before any work), then the
//! subcommand runs ([`commands`]). Any failure prints one line, `error: ` and
//! the cause chain, and exits with 1.

mod backend;
mod cli;
mod coco;
mod commands;
mod config;
mod demo;
mod frame;
mod output;
mod progress;
mod stats;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits with 2 (0 for --help/--version).
    let cli = cli::Cli::parse();
    match config::validate(cli).and_then(commands::dispatch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", commands::one_line(&e));
            if e.downcast_ref::<config::UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
