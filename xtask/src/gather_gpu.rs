//! `cargo xtask gather-gpu [--out gpu-bundle]`: builds the workspace's test
//! and bench executables here (stable toolchain, release) and gathers them,
//! the fixtures and run scripts into one folder to copy to the GPU machine,
//! which has no Rust toolchain (docs GPU.md).
//!
//! Layout of the bundle:
//! - `bin/<package>-lib`, `bin/<package>-test-<target>`, `bin/<package>-bin-<target>`:
//!   test executables; `bin/<package>-bench-<target>`: benches; `bin/<bin target>`:
//!   the workspace's own programs (e.g. `rle`), for trying by hand.
//! - `fixtures/`: a copy of the repository's `fixtures/`.
//! - `run-tests.sh`, `run-benches.sh` (see `gpu_scripts.rs`), `BUNDLE.txt`.
//!
//! Invariants: names depend only on package, target kind and target name,
//! never on cargo's hashes, so scripts and logs are comparable across builds;
//! xtask itself is left out (its tests need the repository); the folder is
//! only ever deleted when it carries the marker this command writes.

use std::collections::BTreeMap;
use std::fs;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};
use serde::Deserialize;

use crate::gpu_scripts;

/// The device tool carries at most this much; the bundle must fit with room.
const CARRY_LIMIT_BYTES: u64 = 64 << 20;
/// Warn from here on: fixtures and executables only grow.
const WARN_BYTES: u64 = 48 << 20;
/// Written into the bundle; its presence is what allows deleting the folder.
const MARKER: &str = ".xtask-gpu-bundle";
/// Never gathered: its tests check the repository, which the GPU machine lacks.
const EXCLUDED_PACKAGE: &str = "xtask";

/// Options of `gather-gpu`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder; relative paths are relative to the repository root.
    #[arg(long, default_value = "gpu-bundle")]
    out: PathBuf,
    /// Do not build or gather benchmarks.
    #[arg(long)]
    no_benches: bool,
}

/// What an executable is for in the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Test,
    Bench,
    Tool,
}

/// One executable cargo reported.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Artifact {
    package_id: String,
    target_name: String,
    kinds: Vec<String>,
    /// Built with the test harness (`profile.test`).
    harness: bool,
    executable: PathBuf,
}

/// The subset of cargo's JSON messages we read.
#[derive(Debug, Deserialize)]
struct Message {
    reason: String,
    package_id: Option<String>,
    target: Option<MessageTarget>,
    profile: Option<MessageProfile>,
    executable: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
struct MessageTarget {
    name: String,
    kind: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct MessageProfile {
    test: bool,
}

/// Executables from `cargo ... --message-format=json` stdout.
fn parse_artifacts(stdout: &str) -> Result<Vec<Artifact>> {
    let mut artifacts = Vec::new();
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let msg: Message = serde_json::from_str(line)
            .with_context(|| format!("parsing cargo's JSON message {line}"))?;
        if msg.reason != "compiler-artifact" {
            continue;
        }
        let (Some(executable), Some(package_id), Some(target), Some(profile)) =
            (msg.executable, msg.package_id, msg.target, msg.profile)
        else {
            continue;
        };
        artifacts.push(Artifact {
            package_id,
            target_name: target.name,
            kinds: target.kind,
            harness: profile.test,
            executable,
        });
    }
    Ok(artifacts)
}

/// The role and bundle name of an artifact, or `None` for ones we skip
/// (examples; libs and bins rebuilt in bench mode by `cargo bench`).
fn classify(artifact: &Artifact, package: &str, bench_build: bool) -> Option<(Role, String)> {
    let kind = artifact.kinds.first().map(String::as_str).unwrap_or("");
    let target = &artifact.target_name;
    if bench_build {
        return (kind == "bench").then(|| (Role::Bench, format!("{package}-bench-{target}")));
    }
    if artifact.harness {
        let name = match kind {
            "bin" | "test" | "bench" | "example" => format!("{package}-{kind}-{target}"),
            // lib, rlib, cdylib, proc-macro...: one library per package.
            _ => format!("{package}-lib"),
        };
        return Some((Role::Test, name));
    }
    (kind == "bin").then(|| (Role::Tool, target.clone()))
}

/// Runs `gather-gpu` for the repository at `root`.
pub fn run(root: &Path, args: &Args) -> Result<()> {
    let out = if args.out.is_absolute() {
        args.out.clone()
    } else {
        root.join(&args.out)
    };
    let packages = workspace_packages(root)?;

    let mut gathered: BTreeMap<String, (Role, Artifact)> = BTreeMap::new();
    let test_args = [
        "test",
        "--workspace",
        "--exclude",
        EXCLUDED_PACKAGE,
        "--release",
        "--no-run",
    ];
    for artifact in cargo_artifacts(root, &test_args)? {
        add(&mut gathered, &packages, artifact, false)?;
    }
    let has_benches = packages.values().any(|p| p.has_bench);
    if args.no_benches {
        eprintln!("skipping benches (--no-benches)");
    } else if !has_benches {
        eprintln!("no bench targets in the workspace; skipping benches");
    } else {
        // `--bench '*'` builds bench targets only, not every lib and bin
        // again with the bench profile as plain `cargo bench` would.
        let bench_args = [
            "bench",
            "--workspace",
            "--exclude",
            EXCLUDED_PACKAGE,
            "--no-run",
            "--bench",
            "*",
        ];
        for artifact in cargo_artifacts(root, &bench_args)? {
            add(&mut gathered, &packages, artifact, true)?;
        }
    }
    ensure!(
        gathered.values().any(|(role, _)| *role == Role::Test),
        "cargo built no test executables"
    );

    prepare_out_dir(root, &out)?;
    let bin = out.join("bin");
    fs::create_dir_all(&bin)?;
    let strip = strip_available();
    for (name, (_, artifact)) in &gathered {
        let dest = bin.join(name);
        fs::copy(&artifact.executable, &dest).with_context(|| {
            format!(
                "copying {} to {}",
                artifact.executable.display(),
                dest.display()
            )
        })?;
        if strip {
            strip_debug_info(&dest)?;
        }
    }
    if !strip {
        eprintln!("warning: `strip` not found; executables are copied with their symbols");
    }

    let fixtures = root.join("fixtures");
    if fixtures.is_dir() {
        copy_dir(&fixtures, &out.join("fixtures"))?;
    } else {
        eprintln!(
            "warning: {} does not exist; the bundle has no fixtures",
            fixtures.display()
        );
        fs::create_dir_all(out.join("fixtures"))?;
    }

    let names_of = |role: Role| -> Vec<String> {
        gathered
            .iter()
            .filter(|(_, (r, _))| *r == role)
            .map(|(n, _)| n.clone())
            .collect()
    };
    let tests = names_of(Role::Test);
    let benches = names_of(Role::Bench);
    write_executable(
        &out.join("run-tests.sh"),
        &gpu_scripts::run_tests_script(&tests)?,
    )?;
    if !benches.is_empty() {
        write_executable(
            &out.join("run-benches.sh"),
            &gpu_scripts::run_benches_script(&benches)?,
        )?;
    }
    fs::write(out.join("BUNDLE.txt"), describe(root, &gathered, &packages))?;

    let size = dir_size(&out)?;
    let mib = size as f64 / (1 << 20) as f64;
    eprintln!(
        "gathered {} test, {} bench and {} other executables into {} ({mib:.1} MiB)",
        tests.len(),
        benches.len(),
        gathered.len() - tests.len() - benches.len(),
        out.display()
    );
    if size > CARRY_LIMIT_BYTES {
        eprintln!("warning: the bundle is over the 64 MiB carry limit; it will not reach the GPU machine as is");
    } else if size >= WARN_BYTES {
        eprintln!("warning: the bundle is near the 64 MiB carry limit");
    }
    eprintln!("on the GPU machine: {}/run-tests.sh", args.out.display());
    Ok(())
}

fn add(
    gathered: &mut BTreeMap<String, (Role, Artifact)>,
    packages: &BTreeMap<String, Package>,
    artifact: Artifact,
    bench_build: bool,
) -> Result<()> {
    let package = packages
        .get(&artifact.package_id)
        .with_context(|| format!("cargo built {} outside the workspace", artifact.package_id))?;
    let Some((role, name)) = classify(&artifact, &package.name, bench_build) else {
        return Ok(());
    };
    if let Some((_, existing)) = gathered.get(&name) {
        // The same unit reported twice is fine; two units under one name is not.
        ensure!(
            existing.executable == artifact.executable,
            "two executables would both be named `{name}`: {} and {}",
            existing.executable.display(),
            artifact.executable.display()
        );
        return Ok(());
    }
    gathered.insert(name, (role, artifact));
    Ok(())
}

#[derive(Debug)]
struct Package {
    name: String,
    has_bench: bool,
}

/// Workspace members by package id, from `cargo metadata`.
fn workspace_packages(root: &Path) -> Result<BTreeMap<String, Package>> {
    #[derive(Deserialize)]
    struct Metadata {
        packages: Vec<MetaPackage>,
    }
    #[derive(Deserialize)]
    struct MetaPackage {
        id: String,
        name: String,
        targets: Vec<MessageTarget>,
    }
    let output = cargo(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .context("running `cargo metadata`")?;
    ensure!(output.status.success(), "`cargo metadata` failed");
    let metadata: Metadata =
        serde_json::from_slice(&output.stdout).context("parsing `cargo metadata` output")?;
    Ok(metadata
        .packages
        .into_iter()
        .filter(|p| p.name != EXCLUDED_PACKAGE)
        .map(|p| {
            let has_bench = p
                .targets
                .iter()
                .any(|t| t.kind.iter().any(|k| k == "bench"));
            (
                p.id,
                Package {
                    name: p.name,
                    has_bench,
                },
            )
        })
        .collect())
}

/// The stable cargo that runs xtask (`$CARGO`), so the bundle is built by
/// the pinned host toolchain.
fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root);
    cmd
}

/// Runs a cargo build with JSON messages and returns the executables.
/// Diagnostics are rendered to stderr as usual.
fn cargo_artifacts(root: &Path, args: &[&str]) -> Result<Vec<Artifact>> {
    eprintln!("$ cargo {}", args.join(" "));
    let mut child = cargo(root)
        .args(args)
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting `cargo {}`", args.join(" ")))?;
    let mut stdout = String::new();
    let pipe = child.stdout.take().expect("stdout was piped");
    for line in std::io::BufReader::new(pipe).lines() {
        stdout.push_str(&line.context("reading cargo's output")?);
        stdout.push('\n');
    }
    let status = child.wait()?;
    ensure!(
        status.success(),
        "`cargo {}` failed ({status})",
        args.join(" ")
    );
    parse_artifacts(&stdout)
}

/// Empties `out` for a fresh bundle, refusing to delete anything that is not
/// a previous bundle (a mistyped `--out .` must not wipe the repository).
fn prepare_out_dir(root: &Path, out: &Path) -> Result<()> {
    let out_abs = std::path::absolute(out)?;
    let root_abs = std::path::absolute(root)?;
    ensure!(
        !root_abs.starts_with(&out_abs),
        "refusing to use {} as the bundle folder: it contains the repository",
        out.display()
    );
    if out.exists() {
        let empty = fs::read_dir(out)?.next().is_none();
        if !empty && !out.join(MARKER).exists() {
            bail!(
                "refusing to replace {}: it is not empty and was not made by `cargo xtask gather-gpu` (no {MARKER})",
                out.display()
            );
        }
        fs::remove_dir_all(out).with_context(|| format!("removing the old {}", out.display()))?;
    }
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    fs::write(
        out.join(MARKER),
        "made by `cargo xtask gather-gpu`; the folder is replaced on the next run\n",
    )?;
    Ok(())
}

fn strip_available() -> bool {
    Command::new("strip")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Removes debug information but keeps the symbol table, so a panic's
/// backtrace on the GPU machine still names functions.
fn strip_debug_info(path: &Path) -> Result<()> {
    let status = Command::new("strip")
        .arg("--strip-debug")
        .arg(path)
        .status()
        .with_context(|| format!("running strip on {}", path.display()))?;
    ensure!(status.success(), "strip failed on {}", path.display());
    Ok(())
}

fn write_executable(path: &Path, contents: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// Copies a directory tree (files and folders; symlinks are followed).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let path = entry?.path();
        let dest = to.join(path.file_name().expect("read_dir entries have names"));
        if fs::metadata(&path)?.is_dir() {
            copy_dir(&path, &dest)?;
        } else {
            fs::copy(&path, &dest).with_context(|| format!("copying {}", path.display()))?;
        }
    }
    Ok(())
}

fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// `BUNDLE.txt`: the commit it was built from and what each file is, so
/// logs brought back from the GPU machine can be tied to sources.
fn describe(
    root: &Path,
    gathered: &BTreeMap<String, (Role, Artifact)>,
    packages: &BTreeMap<String, Package>,
) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = match git(&["status", "--porcelain"]) {
        Some(s) if s.is_empty() => "",
        Some(_) => " (with uncommitted changes)",
        None => "",
    };
    let mut text = format!(
        "GPU bundle made by `cargo xtask gather-gpu`.\ncommit: {commit}{dirty}\n\n\
         Run: ./run-tests.sh   (OUT=<dir> keeps logs; RLE_FIXTURES_DIR defaults to ./fixtures)\n\n"
    );
    for (name, (role, artifact)) in gathered {
        let package = packages
            .get(&artifact.package_id)
            .map_or("?", |p| p.name.as_str());
        let kind = artifact.kinds.join(",");
        text.push_str(&format!(
            "bin/{name:<40} {role:?}: package {package}, {kind} target `{}`\n",
            artifact.target_name
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    /// Shapes of real `cargo test --no-run --message-format=json` lines.
    const MESSAGES: &str = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/rle-host#0.1.0","manifest_path":"/w/crates/rle-host/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"rle_host","src_path":"/w/crates/rle-host/src/lib.rs","edition":"2021","doc":true,"doctest":true,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":true},"features":[],"filenames":["/w/target/release/deps/rle_host-1234"],"executable":"/w/target/release/deps/rle_host-1234","fresh":true}
{"reason":"compiler-artifact","package_id":"path+file:///w/crates/rle-host#0.1.0","manifest_path":"/w/crates/rle-host/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"rle_host","src_path":"/w/crates/rle-host/src/lib.rs","edition":"2021","doc":true,"doctest":true,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["/w/target/release/deps/librle_host-1234.rlib"],"executable":null,"fresh":true}
{"reason":"compiler-artifact","package_id":"path+file:///w#rle@0.1.0","manifest_path":"/w/Cargo.toml","target":{"kind":["bin"],"crate_types":["bin"],"name":"rle","src_path":"/w/src/main.rs","edition":"2021","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["/w/target/release/rle"],"executable":"/w/target/release/rle","fresh":true}
{"reason":"compiler-artifact","package_id":"path+file:///w#rle@0.1.0","manifest_path":"/w/Cargo.toml","target":{"kind":["test"],"crate_types":["bin"],"name":"cli","src_path":"/w/tests/cli.rs","edition":"2021","doc":false,"doctest":false,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":true},"features":[],"filenames":["/w/target/release/deps/cli-99"],"executable":"/w/target/release/deps/cli-99","fresh":false}
{"reason":"build-finished","success":true}
"#;

    #[test]
    fn parses_only_executables() {
        let artifacts = parse_artifacts(MESSAGES).unwrap();
        let exes: Vec<_> = artifacts
            .iter()
            .map(|a| a.executable.to_str().unwrap())
            .collect();
        assert_eq!(
            exes,
            [
                "/w/target/release/deps/rle_host-1234",
                "/w/target/release/rle",
                "/w/target/release/deps/cli-99"
            ]
        );
        assert!(artifacts[0].harness && !artifacts[1].harness && artifacts[2].harness);
        assert!(parse_artifacts("{not json\n").is_err());
        assert!(parse_artifacts("   Compiling x\n").unwrap().is_empty());
    }

    fn artifact(kind: &str, name: &str, harness: bool) -> Artifact {
        Artifact {
            package_id: "id".into(),
            target_name: name.into(),
            kinds: vec![kind.into()],
            harness,
            executable: PathBuf::from("/x"),
        }
    }

    #[test]
    fn names_are_stable_and_readable() {
        let c = |kind, name, harness, bench| classify(&artifact(kind, name, harness), "pkg", bench);
        assert_eq!(
            c("lib", "pkg", true, false),
            Some((Role::Test, "pkg-lib".into()))
        );
        assert_eq!(
            c("rlib", "pkg", true, false),
            Some((Role::Test, "pkg-lib".into()))
        );
        assert_eq!(
            c("test", "gpu", true, false),
            Some((Role::Test, "pkg-test-gpu".into()))
        );
        assert_eq!(
            c("bin", "rle", true, false),
            Some((Role::Test, "pkg-bin-rle".into()))
        );
        assert_eq!(
            c("bin", "rle", false, false),
            Some((Role::Tool, "rle".into()))
        );
        assert_eq!(c("example", "demo", false, false), None);
        assert_eq!(
            c("bench", "e2e", true, true),
            Some((Role::Bench, "pkg-bench-e2e".into()))
        );
        // `cargo bench` also rebuilds the lib harness in bench mode: skipped.
        assert_eq!(c("lib", "pkg", true, true), None);
    }

    #[test]
    fn name_collisions_are_errors_but_repeats_are_not() {
        let mut packages = BTreeMap::new();
        packages.insert(
            "id".to_owned(),
            Package {
                name: "pkg".into(),
                has_bench: false,
            },
        );
        let mut gathered = BTreeMap::new();
        add(
            &mut gathered,
            &packages,
            artifact("lib", "pkg", true),
            false,
        )
        .unwrap();
        add(
            &mut gathered,
            &packages,
            artifact("lib", "pkg", true),
            false,
        )
        .unwrap();
        let mut other = artifact("lib", "pkg", true);
        other.executable = PathBuf::from("/y");
        assert!(add(&mut gathered, &packages, other, false).is_err());
        let mut foreign = artifact("lib", "dep", true);
        foreign.package_id = "registry+dep".into();
        assert!(add(&mut gathered, &packages, foreign, false).is_err());
    }

    #[test]
    fn out_dir_is_only_replaced_when_it_is_a_bundle() {
        let tmp = TempDir::new("out-dir");
        let root = tmp.path();
        let out = root.join("gpu-bundle");
        prepare_out_dir(root, &out).unwrap();
        fs::write(out.join("old.log"), "x").unwrap();
        prepare_out_dir(root, &out).unwrap();
        assert!(
            !out.join("old.log").exists(),
            "a previous bundle is replaced"
        );

        let precious = root.join("precious");
        fs::create_dir_all(&precious).unwrap();
        fs::write(precious.join("data"), "x").unwrap();
        assert!(prepare_out_dir(root, &precious).is_err());
        assert!(precious.join("data").exists());
        assert!(prepare_out_dir(root, root).is_err());
    }

    #[test]
    fn copies_trees_and_measures_them() {
        let tmp = TempDir::new("copy-dir");
        tmp.write("src/a.json", "12345");
        tmp.write("src/sub/b.bin", "123");
        copy_dir(&tmp.path().join("src"), &tmp.path().join("dst")).unwrap();
        assert_eq!(
            fs::read_to_string(tmp.path().join("dst/sub/b.bin")).unwrap(),
            "123"
        );
        assert_eq!(dir_size(&tmp.path().join("dst")).unwrap(), 8);
    }
}
