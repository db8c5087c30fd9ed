//! `cargo xtask build-ptx [--check | --hash-only | --verify-determinism]`:
//! compiles every kernel crate of the workspace (each member with a
//! `[package.metadata.ptx]` table, see `kernel_crates.rs`: `rle-kernels`,
//! `mask-kernels`) to its own PTX module with the pinned nightly and writes
//! (or, with `--check`, verifies) the committed bundle in `crates/rle-host/ptx/`.
//!
//! The recipe (docs GPU.md): `cargo rustc --target nvptx64-nvidia-cuda
//! -Zbuild-std=core -- --emit=asm` with `panic=immediate-abort`; rustc's
//! `.s` for nvptx64 *is* the PTX module. The `llvm-bitcode-linker` route is
//! not used because that component is not available for this nightly.
//!
//! Invariants:
//! - The build uses its own target directory (`target/ptx`), so the nightly
//!   flags never invalidate the stable host build's cache.
//! - Each kernel crate is cleaned before its build: cargo does not recreate
//!   the `--emit=asm` output of a crate it considers fresh, and stale `.s`
//!   files from other flag sets would otherwise be candidates.
//! - The output is checked to be `.target sm_75` with PTX ISA 7.x or older,
//!   so the bundle loads on any driver from CUDA 11.0 on. This nightly gives
//!   ISA 7.0 for sm_75 by default; `-Ctarget-feature=+ptx70` pins it
//!   explicitly but makes rustc warn (unstable feature), so it is not passed
//!   and the check below stands guard instead.
//! - A build is deterministic and independent of the checkout's path
//!   (checked by `--verify-determinism` and by building in two directories).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, ensure, Context, Result};

use crate::tune;

use crate::bundle::{self, BuildInfo, Bundle, Compiled, PtxInfo, ToolchainInfo, BUNDLE_DIR};
use crate::check_ptx_hash;
use crate::kernel_crates::{self, KernelCrate};
use crate::sources::SourcesHash;
use crate::toolchain::{self, NIGHTLY};
const TARGET_TRIPLE: &str = "nvptx64-nvidia-cuda";
/// The GPU architecture the PTX targets: Turing, the oldest we support; the
/// driver JIT-compiles it for newer GPUs (the H100 included).
const TARGET_CPU: &str = "sm_75";
/// The newest PTX ISA major version accepted (7.x: CUDA 11 drivers and newer).
const MAX_PTX_ISA_MAJOR: u32 = 7;
/// Separate from the host's `target/` so neither build invalidates the other.
const PTX_TARGET_DIR: &str = "target/ptx";

/// `RUSTFLAGS`: they also apply to `core` built by `-Zbuild-std`, which must
/// agree with the kernel crate on panic strategy and CPU.
fn rustflags() -> Vec<String> {
    vec![
        "-Zunstable-options".into(),
        "-Cpanic=immediate-abort".into(),
        format!("-Ctarget-cpu={TARGET_CPU}"),
    ]
}

/// Arguments for the kernel crate's rustc only. One codegen unit gives a
/// single `.s` file holding the whole module.
fn rustc_args() -> Vec<String> {
    vec!["--emit=asm".into(), "-Ccodegen-units=1".into()]
}

/// Options of `build-ptx`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not write: fail if the committed bundle differs from a fresh build
    /// or was built from other kernel sources.
    #[arg(long, conflicts_with = "verify_determinism")]
    check: bool,
    /// Check without compiling (implies --check; no nightly needed): the
    /// sources hash in the manifest against the current kernel sources, and
    /// the bundle's files against each other. Same as `cargo xtask check-ptx-hash`.
    #[arg(long, conflicts_with = "verify_determinism")]
    hash_only: bool,
    /// Build twice, each from a clean kernel crate, and fail unless the two
    /// PTX files are identical; then write the bundle as usual.
    #[arg(long)]
    verify_determinism: bool,
}

/// Runs `build-ptx` for the repository at `root`.
pub fn run(root: &Path, args: &Args) -> Result<()> {
    if args.hash_only {
        return check_ptx_hash::run(root);
    }
    if args.check {
        return check(root);
    }
    let bundle = compile(root)?;
    if args.verify_determinism {
        eprintln!("building again to check determinism");
        let again = compile(root)?;
        for ((file, a), (_, b)) in bundle.ptx.iter().zip(&again.ptx) {
            if let Some(diff) = first_difference(a, b) {
                bail!("two builds from the same sources gave different PTX in {file}: {diff}");
            }
        }
        ensure!(
            bundle == again,
            "two builds gave identical PTX but different bundles"
        );
        eprintln!("deterministic: both builds gave identical PTX");
    }
    write(root, &bundle)
}

/// `--check`: the cheap consistency checks, then a fresh build compared byte
/// for byte with each committed file. All problems are reported together.
fn check(root: &Path) -> Result<()> {
    let mut problems = match bundle::check_committed_without_compiler(root) {
        Ok(problems) => problems,
        Err(e) => vec![format!("{e:#}")],
    };
    let fresh = compile(root)?;
    let dir = root.join(BUNDLE_DIR);
    for (name, bytes) in fresh.files() {
        match fs::read(dir.join(name)) {
            Ok(committed) if committed == bytes => {}
            Ok(committed) => problems.push(format!(
                "{BUNDLE_DIR}/{name} differs from a fresh build{}",
                first_difference(&committed, bytes)
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )),
            Err(_) => problems.push(format!("{BUNDLE_DIR}/{name} is missing")),
        }
    }
    if !problems.is_empty() {
        bail!(bundle::stale_message(&problems));
    }
    eprintln!("{BUNDLE_DIR}/ is up to date (matches a fresh build with {NIGHTLY})");
    Ok(())
}

/// Compiles every kernel crate and renders (but does not write) the bundle.
pub fn compile(root: &Path) -> Result<Bundle> {
    let rustc = toolchain::check_nightly()?;
    let crates = kernel_crates::discover(root)?;
    let mut modules = Vec::with_capacity(crates.len());
    for krate in crates {
        modules.push(compile_crate(root, krate)?);
    }
    let build_info = BuildInfo {
        target_triple: TARGET_TRIPLE.to_owned(),
        rustflags: rustflags(),
        rustc_args: rustc_args(),
    };
    let bundle = Bundle::render(modules, ToolchainInfo::new(NIGHTLY, &rustc), build_info)
        .context("reading the compiled PTX")?;
    for module in &bundle.manifest.modules {
        validate(&module.ptx).with_context(|| format!("in the PTX of {}", module.package))?;
    }
    Ok(bundle)
}

/// Compiles one kernel crate to its tuned PTX.
fn compile_crate(root: &Path, krate: KernelCrate) -> Result<Compiled> {
    let package = krate.package.as_str();
    let name = krate.crate_name();
    let sources = SourcesHash::of_dirs(root, &krate.source_dirs())?;
    let target_dir = root.join(PTX_TARGET_DIR);
    let deps_dir = target_dir.join(TARGET_TRIPLE).join("release").join("deps");

    let mut clean = nightly_cargo(root, &target_dir);
    clean.args(["clean", "--quiet", "-p", package, "--release"]);
    clean.args(["--target", TARGET_TRIPLE]);
    run_command(clean)?;
    remove_stale_outputs(&deps_dir, &name)?;

    let mut build = nightly_cargo(root, &target_dir);
    build.args(["rustc", "-p", package, "--release", "--locked"]);
    build.args([
        "--target",
        TARGET_TRIPLE,
        "-Zbuild-std=core",
        "--crate-type",
        "rlib",
    ]);
    build.arg("--").args(rustc_args());
    eprintln!(
        "building PTX: RUSTFLAGS=\"{}\" cargo +{NIGHTLY} rustc -p {package} --release --target {TARGET_TRIPLE} -Zbuild-std=core --crate-type rlib -- {}",
        rustflags().join(" "),
        rustc_args().join(" ")
    );
    run_command(build)?;

    let ptx_path = find_output(&deps_dir, &name)?;
    let ptx = fs::read(&ptx_path).with_context(|| format!("reading {}", ptx_path.display()))?;
    let ptx = tune::apply(&ptx, &krate.max_registers)
        .with_context(|| format!("applying the register limits of {package}"))?;
    // The lead edits kernels while others build: a PTX compiled from files
    // that changed mid-build would be recorded under the wrong hash.
    let after = SourcesHash::of_dirs(root, &krate.source_dirs())?;
    ensure!(
        after == sources,
        "the sources of {package} changed during the build ({}); run it again",
        after.describe_changes_since(&sources).join(", ")
    );
    Ok(Compiled {
        krate,
        ptx,
        sources,
    })
}

/// The PTX must be loadable by the drivers we support and contain kernels.
fn validate(ptx: &PtxInfo) -> Result<()> {
    ensure!(
        ptx.target == TARGET_CPU,
        "the PTX says `.target {}` but {TARGET_CPU} was asked for (did -Ctarget-cpu reach the kernel crate?)",
        ptx.target
    );
    let (major, _) = crate::ptx::parse_version(&ptx.version)?;
    ensure!(
        major <= MAX_PTX_ISA_MAJOR,
        "the PTX has ISA `.version {}`, newer than {MAX_PTX_ISA_MAJOR}.x; older drivers would refuse it. \
         Pin the ISA with `-Ctarget-feature=+ptx70` in this file's rustflags()",
        ptx.version
    );
    ensure!(
        ptx.address_size == 64,
        "the PTX has `.address_size {}`, want 64",
        ptx.address_size
    );
    ensure!(
        !ptx.entries.is_empty(),
        "the PTX has no `.entry`: kernels must be `#[no_mangle] pub unsafe extern \"ptx-kernel\" fn` \
         compiled under target_arch = \"nvptx64\""
    );
    Ok(())
}

/// Writes the files that changed; leaves identical ones untouched (no mtime
/// churn for editors and builds that `include_str!` them).
fn write(root: &Path, bundle: &Bundle) -> Result<()> {
    let dir = root.join(BUNDLE_DIR);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, bytes) in bundle.files() {
        let path = dir.join(name);
        if fs::read(&path).is_ok_and(|old| old == bytes) {
            eprintln!("unchanged {BUNDLE_DIR}/{name}");
        } else {
            fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote     {BUNDLE_DIR}/{name}");
        }
    }
    for module in &bundle.manifest.modules {
        let ptx = &module.ptx;
        eprintln!(
            "{}: PTX {} for {} with {} entries: {}",
            ptx.file,
            ptx.version,
            ptx.target,
            ptx.entries.len(),
            ptx.entries.join(", ")
        );
    }
    Ok(())
}

fn nightly_cargo(root: &Path, target_dir: &Path) -> Command {
    let mut cmd = toolchain::nightly_command("cargo");
    cmd.current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir)
        .env("RUSTFLAGS", rustflags().join(" "))
        // Incremental compilation is off for release anyway; make sure no
        // user setting turns it on, it is not guaranteed reproducible.
        .env("CARGO_INCREMENTAL", "0");
    cmd
}

fn run_command(mut cmd: Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    ensure!(status.success(), "{cmd:?} failed ({status})");
    Ok(())
}

/// Whether `path` is rustc's assembly output of crate `name` (`name-<hash>.s`).
fn is_kernel_asm(path: &Path, name: &str) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix(name)?.strip_prefix('-')?.strip_suffix(".s"))
        .is_some_and(|hash| !hash.is_empty() && hash.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn kernel_asm_files(deps_dir: &Path, name: &str) -> Result<Vec<PathBuf>> {
    if !deps_dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for entry in
        fs::read_dir(deps_dir).with_context(|| format!("listing {}", deps_dir.display()))?
    {
        let path = entry?.path();
        if is_kernel_asm(&path, name) {
            found.push(path);
        }
    }
    Ok(found)
}

fn remove_stale_outputs(deps_dir: &Path, name: &str) -> Result<()> {
    for path in kernel_asm_files(deps_dir, name)? {
        fs::remove_file(&path).with_context(|| format!("removing stale {}", path.display()))?;
    }
    Ok(())
}

/// The newest `<name>-*.s` (after cleaning there is exactly one).
fn find_output(deps_dir: &Path, name: &str) -> Result<PathBuf> {
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    for path in kernel_asm_files(deps_dir, name)? {
        let modified = fs::metadata(&path)?.modified()?;
        if newest.as_ref().is_none_or(|(t, _)| modified > *t) {
            newest = Some((modified, path));
        }
    }
    newest
        .map(|(_, p)| p)
        .with_context(|| format!("the build wrote no {name}-*.s into {}", deps_dir.display()))
}

/// Where two byte strings first differ, as `line N: "old" vs "new"`.
fn first_difference(old: &[u8], new: &[u8]) -> Option<String> {
    if old == new {
        return None;
    }
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    let mut old_lines = old.lines();
    let mut new_lines = new.lines();
    for n in 1.. {
        match (old_lines.next(), new_lines.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => {
                return Some("they differ only in line endings or the final newline".into())
            }
            (a, b) => {
                let show = |l: Option<&str>| l.map_or("<end of file>".into(), |l| format!("{l:?}"));
                return Some(format!(
                    "line {n}: committed {} vs fresh {}",
                    show(a),
                    show(b)
                ));
            }
        }
    }
    unreachable!("the loop above only ends by returning")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    fn info(version: &str, target: &str, entries: &[&str]) -> PtxInfo {
        PtxInfo {
            file: "rle_kernels.ptx".into(),
            sha256: String::new(),
            version: version.into(),
            target: target.into(),
            address_size: 64,
            entries: entries.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn validation_accepts_sm75_isa7_and_rejects_the_rest() {
        validate(&info("7.0", "sm_75", &["k"])).unwrap();
        validate(&info("7.8", "sm_75", &["k"])).unwrap();
        let newer = validate(&info("8.0", "sm_75", &["k"])).unwrap_err();
        assert!(newer.to_string().contains("+ptx70"), "{newer}");
        assert!(validate(&info("7.0", "sm_80", &["k"])).is_err());
        assert!(validate(&info("7.0", "sm_75", &[])).is_err());
    }

    #[test]
    fn outputs_are_found_by_crate_name_newest_first() {
        let tmp = TempDir::new("find-output");
        let old = tmp.write("rle_kernels-aaaa.s", "old");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let new = tmp.write("rle_kernels-bbbb.s", "new");
        tmp.write("rle_kernels_other-cccc.s", "x");
        tmp.write("rle_kernels-dddd.d", "x");
        tmp.write("core-eeee.s", "x");
        assert_eq!(find_output(tmp.path(), "rle_kernels").unwrap(), new);
        let mut all = kernel_asm_files(tmp.path(), "rle_kernels").unwrap();
        all.sort();
        assert_eq!(all, [old, new]);
        remove_stale_outputs(tmp.path(), "rle_kernels").unwrap();
        assert!(find_output(tmp.path(), "rle_kernels").is_err());
        assert!(tmp.path().join("core-eeee.s").exists());
    }

    #[test]
    fn first_difference_names_the_line() {
        assert_eq!(first_difference(b"a\nb\n", b"a\nb\n"), None);
        assert_eq!(
            first_difference(b"a\nb\n", b"a\nc\n").unwrap(),
            "line 2: committed \"b\" vs fresh \"c\""
        );
        assert!(first_difference(b"a\n", b"a\nb\n")
            .unwrap()
            .contains("<end of file>"));
        assert!(first_difference(b"a\r\n", b"a\n")
            .unwrap()
            .contains("line endings"));
    }
}
