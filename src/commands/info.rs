//! `rle info`: is there a CUDA driver, which GPU, which PTX bundle is embedded,
//! and does it load.
//!
//! Exit code: 0 when `rle run` would start (a working GPU, or no GPU at all and
//! the CPU fallback); 1 when a driver and device are there but unusable (the
//! module does not load, a driver call fails), since `rle run` would fail too.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use rle_host::{Config, Error as HostError, Fallback, Postprocessor};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::backend::cpu_name;
use crate::config::InfoConfig;
use crate::output::print;

/// The bundle's manifest, written by `cargo xtask build-ptx` next to the PTX.
const MANIFEST: &str = include_str!("../../crates/rle-host/ptx/manifest.json");

fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or("?")
}

fn ptx_section(s: &mut String) -> Result<()> {
    let m: Value =
        serde_json::from_str(MANIFEST).context("the embedded PTX manifest is not JSON")?;
    let total: usize = rle_host::PTX_MODULES.iter().map(|p| p.text.len()).sum();
    writeln!(
        s,
        "embedded PTX bundle ({} modules, {total} bytes); toolchain: {} (rustc {}, LLVM {})",
        rle_host::PTX_MODULES.len(),
        text(&m, &["toolchain", "name"]),
        text(&m, &["toolchain", "rustc_release"]),
        text(&m, &["toolchain", "llvm_version"])
    )?;
    let recorded: &[Value] = m
        .get("modules")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    for module in rle_host::PTX_MODULES {
        let hash = Sha256::digest(module.text.as_bytes());
        let hash: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        let record = recorded
            .iter()
            .find(|r| r.pointer("/ptx/file").and_then(Value::as_str) == Some(module.file));
        let none = Value::Null;
        let r = record.unwrap_or(&none);
        let entries: Vec<&str> = r
            .pointer("/ptx/entries")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let embedded: Vec<&str> = module.entries().collect();
        writeln!(
            s,
            "  {} ({}, {} bytes): PTX ISA {} for {} (manifest: {} / {})",
            module.file,
            text(r, &["package"]),
            module.text.len(),
            module.version(),
            module.target(),
            text(r, &["ptx", "version"]),
            text(r, &["ptx", "target"])
        )?;
        writeln!(s, "    kernels: {}", entries.join(", "))?;
        let (mut sorted_embedded, mut sorted_manifest) = (embedded.clone(), entries.clone());
        sorted_embedded.sort_unstable();
        sorted_manifest.sort_unstable();
        if sorted_embedded != sorted_manifest {
            writeln!(
                s,
                "    warning: the PTX's entry points ({}) differ from the manifest's",
                embedded.join(", ")
            )?;
        }
        writeln!(
            s,
            "    kernel sources sha256: {}",
            text(r, &["sources", "sha256"])
        )?;
        let verdict = if hash == text(r, &["ptx", "sha256"]) {
            "matches the manifest"
        } else {
            "DIFFERS from the manifest (stale bundle?)"
        };
        writeln!(s, "    PTX sha256: {hash} ({verdict})")?;
    }
    Ok(())
}

/// Runs `rle info`.
pub fn info(cfg: InfoConfig) -> Result<()> {
    let mut s = String::new();
    writeln!(s, "rle {}", env!("CARGO_PKG_VERSION"))?;
    let mut failure = None;
    if !rle_host::driver_present() {
        writeln!(s, "CUDA driver: not found (libcuda could not be loaded)")?;
        writeln!(
            s,
            "GPU: none; rle runs on the CPU fallback rle-cpu ({}, {})",
            cpu_name(),
            crate::backend::threads()
        )?;
    } else {
        writeln!(s, "CUDA driver: found")?;
        match Postprocessor::new(Config {
            ordinal: cfg.ordinal,
            fallback: Fallback::Error,
            ..Default::default()
        }) {
            Ok(pp) => {
                if let Some(d) = pp.device_info() {
                    writeln!(s, "GPU {}: {}", d.ordinal, d.name)?;
                    writeln!(
                        s,
                        "  compute capability {}.{}, {} SMs",
                        d.compute_capability.0, d.compute_capability.1, d.multiprocessors
                    )?;
                    writeln!(
                        s,
                        "  driver API version {}.{} ({})",
                        d.driver_version / 1000,
                        d.driver_version % 1000 / 10,
                        d.driver_version
                    )?;
                }
                writeln!(s, "  PTX module: loads (kernels ready)")?;
                writeln!(
                    s,
                    "  item passes launched programmatically: {}",
                    if pp.programmatic_launches() {
                        "yes (sm_90 form of the module: each waits for the kernel before it on the GPU)"
                    } else {
                        "no (before sm_90: each launch after the previous kernel completes)"
                    }
                )?;
            }
            Err(HostError::NoDevice { ordinal, count }) => {
                writeln!(s, "GPU: none at ordinal {ordinal} (the driver reports {count} device(s)); rle runs on the CPU fallback rle-cpu")?;
            }
            Err(e) => {
                writeln!(s, "GPU {}: unusable: {e}", cfg.ordinal)?;
                failure = Some(e);
            }
        }
    }
    ptx_section(&mut s)?;
    print(&s)?;
    match failure {
        Some(e) => Err(anyhow::Error::new(e)
            .context(format!("GPU {} cannot run the post-processor", cfg.ordinal))),
        None => Ok(()),
    }
}
