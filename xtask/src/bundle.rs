//! The committed PTX bundle in `crates/rle-host/ptx/`: its files, how they
//! are rendered from the compiled PTX modules (one per kernel crate, see
//! `kernel_crates.rs`), and how a committed bundle is checked against itself
//! and the current kernel sources.
//!
//! - `<crate>.ptx` (e.g. `rle_kernels.ptx`, `mask_kernels.ptx`): each kernel
//!   crate's compiler output, byte for byte.
//! - `manifest.json`: per module its header directives, entry names, PTX
//!   sha256 and sources hash (see `sources.rs`); the toolchain and build
//!   flags they share.
//! - `entries.txt`: each module's `.entry` points with their parameter lists,
//!   so a change of kernel ABI shows as a diff in review.
//!
//! Invariant: every file is a pure function of (PTX texts, toolchain, flags,
//! sources), so rendering twice gives identical bytes and `--check` can
//! compare byte for byte.

use std::fs;
use std::path::Path;

use anyhow::{ensure, Context, Result};
use serde::{Deserialize, Serialize};

use crate::kernel_crates::{self, KernelCrate};
use crate::ptx::{self, Entry, Header};
use crate::sources::{sha256_hex, SourcesHash};
use crate::toolchain::RustcVersion;

/// The bundle directory, relative to the repository root.
pub const BUNDLE_DIR: &str = "crates/rle-host/ptx";
/// The manifest file name inside [`BUNDLE_DIR`].
pub const MANIFEST_FILE: &str = "manifest.json";
/// The ABI snapshot file name inside [`BUNDLE_DIR`].
pub const ENTRIES_FILE: &str = "entries.txt";

/// Bumped when the manifest's shape changes, so readers can refuse old ones
/// (2: one record per kernel crate under `modules`).
pub const MANIFEST_SCHEMA: u32 = 2;

/// The command that regenerates the bundle, quoted in every staleness error.
pub const FIX_COMMAND: &str = "cargo xtask build-ptx";

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`MANIFEST_SCHEMA`] when written.
    pub schema: u32,
    /// The command that wrote this file.
    pub generated_by: String,
    /// Which compiler produced every module.
    pub toolchain: ToolchainInfo,
    /// How it was invoked (the same for every module).
    pub build: BuildInfo,
    /// One record per kernel crate, in workspace order.
    pub modules: Vec<ModuleInfo>,
}

/// One kernel crate's PTX module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleInfo {
    /// The package it was compiled from.
    pub package: String,
    /// What is in the PTX.
    pub ptx: PtxInfo,
    /// What it was compiled from.
    pub sources: SourcesHash,
}

/// The PTX file's identity and header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PtxInfo {
    /// File name inside the bundle directory.
    pub file: String,
    /// sha256 of the PTX file's bytes.
    pub sha256: String,
    /// `.version` (PTX ISA).
    pub version: String,
    /// `.target`.
    pub target: String,
    /// `.address_size`.
    pub address_size: u32,
    /// Every `.entry` name, in file order.
    pub entries: Vec<String>,
}

/// The nightly that compiled the kernels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolchainInfo {
    /// The rustup toolchain name (the pin).
    pub name: String,
    /// `rustc -vV` `release:`.
    pub rustc_release: String,
    /// `rustc -vV` `commit-hash:`.
    pub rustc_commit_hash: String,
    /// `rustc -vV` `LLVM version:`.
    pub llvm_version: String,
}

/// The compiler invocation, recorded so a reader can reproduce it by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildInfo {
    /// The rustc target triple.
    pub target_triple: String,
    /// The `RUSTFLAGS` (applied to `core` too).
    pub rustflags: Vec<String>,
    /// The arguments after `--` of `cargo rustc` (the kernel crate only).
    pub rustc_args: Vec<String>,
}

/// One kernel crate compiled: what `Bundle::render` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// The crate.
    pub krate: KernelCrate,
    /// Its PTX (tuned).
    pub ptx: Vec<u8>,
    /// Its sources hash, taken before the build (and checked after it).
    pub sources: SourcesHash,
}

/// The bundle's files, rendered in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// `(file name, PTX)` per module, in manifest order.
    pub ptx: Vec<(String, Vec<u8>)>,
    pub manifest: Manifest,
    pub manifest_json: String,
    pub entries_txt: String,
}

impl Bundle {
    /// Renders the bundle for the compiled modules.
    pub fn render(
        modules: Vec<Compiled>,
        toolchain: ToolchainInfo,
        build: BuildInfo,
    ) -> Result<Bundle> {
        let mut infos = Vec::new();
        let mut parsed = Vec::new();
        let mut ptx_files = Vec::new();
        for m in modules {
            let file = m.krate.ptx_file.clone();
            let text = std::str::from_utf8(&m.ptx)
                .with_context(|| format!("the PTX of {} is not UTF-8", m.krate.package))?;
            let header = ptx::parse_header(text).with_context(|| format!("in {file}"))?;
            let entries = ptx::parse_entries(text).with_context(|| format!("in {file}"))?;
            infos.push(ModuleInfo {
                package: m.krate.package.clone(),
                ptx: ptx_info(&file, &m.ptx, &header, &entries),
                sources: m.sources,
            });
            parsed.push((file.clone(), header, entries));
            ptx_files.push((file, m.ptx));
        }
        let manifest = Manifest {
            schema: MANIFEST_SCHEMA,
            generated_by: FIX_COMMAND.to_owned(),
            toolchain,
            build,
            modules: infos,
        };
        Ok(Bundle {
            manifest_json: manifest_to_json(&manifest)?,
            entries_txt: render_entries(&parsed),
            ptx: ptx_files,
            manifest,
        })
    }

    /// `(file name, bytes)` of each file, in a fixed order: the PTX modules,
    /// then the manifest and the entries snapshot.
    pub fn files(&self) -> Vec<(&str, &[u8])> {
        let mut files: Vec<(&str, &[u8])> = self
            .ptx
            .iter()
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
            .collect();
        files.push((MANIFEST_FILE, self.manifest_json.as_bytes()));
        files.push((ENTRIES_FILE, self.entries_txt.as_bytes()));
        files
    }
}

fn ptx_info(file: &str, ptx: &[u8], header: &Header, entries: &[Entry]) -> PtxInfo {
    PtxInfo {
        file: file.to_owned(),
        sha256: sha256_hex(ptx),
        version: header.version.clone(),
        target: header.target.clone(),
        address_size: header.address_size,
        entries: entries.iter().map(|e| e.name.clone()).collect(),
    }
}

/// Pretty JSON with a trailing newline (diff- and editor-friendly).
pub fn manifest_to_json(manifest: &Manifest) -> Result<String> {
    let mut json = serde_json::to_string_pretty(manifest).context("serialising the manifest")?;
    json.push('\n');
    Ok(json)
}

/// Parses `manifest.json`, refusing other schema versions.
pub fn manifest_from_json(json: &str) -> Result<Manifest> {
    let value: serde_json::Value = serde_json::from_str(json).context("parsing manifest.json")?;
    let schema = value.get("schema").and_then(serde_json::Value::as_u64);
    ensure!(
        schema == Some(u64::from(MANIFEST_SCHEMA)),
        "manifest.json has schema {} but this xtask writes schema {MANIFEST_SCHEMA}",
        schema.map_or("?".to_owned(), |s| s.to_string())
    );
    serde_json::from_value(value).context("parsing manifest.json")
}

/// `entries.txt`: per module a section, one block per entry, parameters one
/// per line.
pub fn render_entries(modules: &[(String, Header, Vec<Entry>)]) -> String {
    let mut out = format!(
        "# Kernel entry points of the PTX bundle, one section per module.\n\
         # Generated by `{FIX_COMMAND}`; do not edit. A diff here is a kernel ABI change:\n\
         # check the host launch code and the #[repr(C)] structs in the kernel crate's abi module.\n"
    );
    for (file, header, entries) in modules {
        out.push_str(&format!(
            "\n## {file} (PTX {}, {}, {}-bit addresses)\n",
            header.version, header.target, header.address_size
        ));
        for entry in entries {
            out.push('\n');
            out.push_str(&format!(".entry {}(\n", entry.name));
            for (i, p) in entry.params.iter().enumerate() {
                let comma = if i + 1 < entry.params.len() { "," } else { "" };
                out.push_str(&format!("    .param {} {}{comma}\n", p.ty, p.name));
            }
            out.push_str(")\n");
            for d in &entry.directives {
                out.push_str(&format!("{d}\n"));
            }
        }
    }
    out
}

/// Reads the committed bundle and checks everything that needs no compiler:
/// that it has one module per kernel crate of the workspace, each module's
/// sources hash against its sources now, each PTX's sha256, and that the
/// manifest's headers and `entries.txt` are what the committed PTX files
/// say. Returns one line per problem (empty: consistent).
pub fn check_committed_without_compiler(root: &Path) -> Result<Vec<String>> {
    let crates = kernel_crates::discover(root)?;
    let dir = root.join(BUNDLE_DIR);
    let read = |name: &str| {
        let path = dir.join(name);
        fs::read(&path).with_context(|| {
            format!(
                "reading {BUNDLE_DIR}/{name} (missing? run `{FIX_COMMAND}` to create the bundle)"
            )
        })
    };
    let manifest_json = String::from_utf8(read(MANIFEST_FILE)?)
        .with_context(|| format!("{BUNDLE_DIR}/{MANIFEST_FILE} is not UTF-8"))?;
    let entries_txt = read(ENTRIES_FILE)?;
    let manifest = manifest_from_json(&manifest_json)
        .with_context(|| format!("in {BUNDLE_DIR}/{MANIFEST_FILE}"))?;

    let mut problems = Vec::new();
    let listed: Vec<&str> = manifest
        .modules
        .iter()
        .map(|m| m.package.as_str())
        .collect();
    let wanted: Vec<&str> = crates.iter().map(|k| k.package.as_str()).collect();
    if listed != wanted {
        problems.push(format!(
            "{BUNDLE_DIR}/{MANIFEST_FILE} lists the kernel crates {listed:?} but the workspace has {wanted:?}"
        ));
    }
    let mut parsed = Vec::new();
    for krate in &crates {
        let file = &krate.ptx_file;
        let ptx = read(file)?;
        let sources = SourcesHash::of_dirs(root, &krate.source_dirs())?;
        let Some(module) = manifest.modules.iter().find(|m| m.package == krate.package) else {
            continue;
        };
        if sources.sha256 != module.sources.sha256 {
            problems.push(format!(
                "{BUNDLE_DIR}/{MANIFEST_FILE} is stale: the sources of {} changed since its PTX was built ({})",
                krate.package,
                sources.describe_changes_since(&module.sources).join(", ")
            ));
        }
        if sha256_hex(&ptx) != module.ptx.sha256 {
            problems.push(format!(
                "{BUNDLE_DIR}/{file} does not match the sha256 in {MANIFEST_FILE} (edited by hand or half-committed?)"
            ));
        }
        let text = std::str::from_utf8(&ptx)
            .with_context(|| format!("{BUNDLE_DIR}/{file} is not UTF-8"))?;
        let header = ptx::parse_header(text).with_context(|| format!("in {BUNDLE_DIR}/{file}"))?;
        let entries =
            ptx::parse_entries(text).with_context(|| format!("in {BUNDLE_DIR}/{file}"))?;
        let mut expected_info = ptx_info(file, &ptx, &header, &entries);
        // The sha256 mismatch is reported above; compare the rest.
        expected_info.sha256 = module.ptx.sha256.clone();
        if expected_info != module.ptx {
            problems.push(format!(
                "{BUNDLE_DIR}/{MANIFEST_FILE} describes a different PTX (header or entry names differ from {file})"
            ));
        }
        parsed.push((file.clone(), header, entries));
    }
    if render_entries(&parsed).as_bytes() != entries_txt.as_slice() {
        problems.push(format!(
            "{BUNDLE_DIR}/{ENTRIES_FILE} does not match the entries of the PTX files"
        ));
    }
    Ok(problems)
}

/// The error text for a list of problems: each on its own line, then the fix.
pub fn stale_message(problems: &[String]) -> String {
    let mut msg = String::from("the committed PTX bundle is stale:\n");
    for p in problems {
        msg.push_str(&format!("  - {p}\n"));
    }
    msg.push_str(&format!(
        "fix: run `{FIX_COMMAND}` (needs {}) and commit {BUNDLE_DIR}/",
        crate::toolchain::NIGHTLY
    ));
    msg
}

impl ToolchainInfo {
    /// The manifest record of `name` as reported by its `rustc -vV`.
    pub fn new(name: &str, rustc: &RustcVersion) -> Self {
        ToolchainInfo {
            name: name.to_owned(),
            rustc_release: rustc.release.clone(),
            rustc_commit_hash: rustc.commit_hash.clone(),
            llvm_version: rustc.llvm_version.clone(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernel_crates::tests::write_workspace;
    use crate::testutil::TempDir;

    pub const PTX: &str = "//\n// Generated by LLVM NVPTX Back-End\n//\n\n.version 7.0\n.target sm_75\n.address_size 64\n\n\
        \t// .globl\tadd_one\n.visible .entry add_one(\n\t.param .u64 .ptr .align 1 add_one_param_0,\n\t.param .u32 add_one_param_1\n)\n{\n\tret;\n\n}\n\
        \t// .globl\tnone\n.visible .entry none()\n.reqntid 128, 1, 1\n{\n\tret;\n\n}\n";

    /// A second module, as a second kernel family would give.
    pub const PTX_B: &str = "//\n.version 7.0\n.target sm_75\n.address_size 64\n\n\
        .visible .entry b_k(\n\t.param .u32 b_k_param_0\n)\n{\n\tret;\n\n}\n";

    pub fn toolchain() -> ToolchainInfo {
        ToolchainInfo {
            name: "nightly-2026-05-20".into(),
            rustc_release: "1.97.0-nightly".into(),
            rustc_commit_hash: "e50aa6fba4e63ab34c72bf9acfd2c307c1155d1a".into(),
            llvm_version: "22.1.4".into(),
        }
    }

    pub fn build() -> BuildInfo {
        BuildInfo {
            target_triple: "nvptx64-nvidia-cuda".into(),
            rustflags: vec!["-Ctarget-cpu=sm_75".into()],
            rustc_args: vec!["--emit=asm".into()],
        }
    }

    fn krate(package: &str, file: &str) -> KernelCrate {
        KernelCrate {
            package: package.into(),
            dir: format!("crates/{package}"),
            ptx_file: file.into(),
            max_registers: Vec::new(),
            path_deps: Vec::new(),
        }
    }

    fn compiled(package: &str, file: &str, ptx: &str) -> Compiled {
        Compiled {
            krate: krate(package, file),
            ptx: ptx.into(),
            sources: SourcesHash::from_contents([(package.to_owned(), &b"x"[..])]),
        }
    }

    fn two_modules() -> Bundle {
        Bundle::render(
            vec![
                compiled("rle-kernels", "rle_kernels.ptx", PTX),
                compiled("b-kernels", "b_kernels.ptx", PTX_B),
            ],
            toolchain(),
            build(),
        )
        .unwrap()
    }

    /// Writes a workspace of two kernel crates and their consistent bundle
    /// into `tmp`.
    pub fn write_repo(tmp: &TempDir) {
        write_workspace(
            tmp,
            &[
                (
                    "crates/rle-kernels",
                    "rle-kernels",
                    Some("file = \"rle_kernels.ptx\""),
                ),
                ("crates/rle-host", "rle-host", None),
                (
                    "crates/b-kernels",
                    "b-kernels",
                    Some("file = \"b_kernels.ptx\""),
                ),
            ],
        );
        tmp.write("crates/rle-kernels/src/lib.rs", "#![no_std]\n");
        tmp.write("crates/b-kernels/src/lib.rs", "#![no_std]\n");
        let crates = kernel_crates::discover(tmp.path()).unwrap();
        let modules = crates
            .into_iter()
            .zip([PTX, PTX_B])
            .map(|(krate, ptx)| Compiled {
                sources: SourcesHash::of_dirs(tmp.path(), &krate.source_dirs()).unwrap(),
                krate,
                ptx: ptx.into(),
            })
            .collect();
        let bundle = Bundle::render(modules, toolchain(), build()).unwrap();
        for (name, bytes) in bundle.files() {
            tmp.write(&format!("{BUNDLE_DIR}/{name}"), bytes);
        }
    }

    #[test]
    fn manifest_round_trips() {
        let bundle = two_modules();
        let json = &bundle.manifest_json;
        assert!(json.ends_with("}\n"));
        let parsed = manifest_from_json(json).unwrap();
        assert_eq!(parsed, bundle.manifest);
        assert_eq!(&manifest_to_json(&parsed).unwrap(), json);
        let m = &parsed.modules[0].ptx;
        assert_eq!(m.entries, ["add_one", "none"]);
        assert_eq!(m.version, "7.0");
        assert_eq!(m.target, "sm_75");
        assert_eq!(m.address_size, 64);
        assert_eq!(m.sha256, sha256_hex(PTX.as_bytes()));
        assert_eq!(parsed.modules[1].package, "b-kernels");
        assert_eq!(parsed.modules[1].ptx.entries, ["b_k"]);
        let names: Vec<_> = bundle.files().iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(
            names,
            [
                "rle_kernels.ptx",
                "b_kernels.ptx",
                MANIFEST_FILE,
                ENTRIES_FILE
            ]
        );
    }

    #[test]
    fn manifest_rejects_other_schemas_and_unknown_fields() {
        let bundle = two_modules();
        let other = bundle
            .manifest_json
            .replace("\"schema\": 2", "\"schema\": 1");
        let err = manifest_from_json(&other).unwrap_err();
        assert!(format!("{err:#}").contains("schema 1"), "{err:#}");
        let extra = bundle.manifest_json.replacen('{', "{\"surprise\": 1,", 1);
        assert!(manifest_from_json(&extra).is_err());
    }

    #[test]
    fn entries_snapshot_shape() {
        let header = ptx::parse_header(PTX).unwrap();
        let entries = ptx::parse_entries(PTX).unwrap();
        let text = render_entries(&[("rle_kernels.ptx".into(), header, entries)]);
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with("# ")).collect();
        assert_eq!(
            body,
            [
                "",
                "## rle_kernels.ptx (PTX 7.0, sm_75, 64-bit addresses)",
                "",
                ".entry add_one(",
                "    .param .u64 .ptr .align 1 add_one_param_0,",
                "    .param .u32 add_one_param_1",
                ")",
                "",
                ".entry none(",
                ")",
                ".reqntid 128, 1, 1",
            ]
        );
        assert!(two_modules().entries_txt.contains("## b_kernels.ptx"));
    }

    #[test]
    fn rendering_is_deterministic() {
        let (a, b) = (two_modules(), two_modules());
        assert_eq!(a, b);
        assert_eq!(a.ptx[0].1, PTX.as_bytes(), "the PTX is kept byte for byte");
    }

    #[test]
    fn committed_check_passes_then_catches_each_kind_of_staleness() {
        let tmp = TempDir::new("bundle-check");
        write_repo(&tmp);
        assert_eq!(
            check_committed_without_compiler(tmp.path()).unwrap(),
            Vec::<String>::new()
        );

        // A kernel edited without rebuilding, in either family.
        tmp.write("crates/b-kernels/src/lib.rs", "#![no_std]\n// edit\n");
        let problems = check_committed_without_compiler(tmp.path()).unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("changed crates/b-kernels/src/lib.rs"));
        assert!(problems[0].contains(MANIFEST_FILE));

        // A new kernel file.
        write_repo(&tmp);
        tmp.write("crates/rle-kernels/src/new.rs", "\n");
        let problems = check_committed_without_compiler(tmp.path()).unwrap();
        assert!(problems[0].contains("added crates/rle-kernels/src/new.rs"));
        std::fs::remove_file(tmp.path().join("crates/rle-kernels/src/new.rs")).unwrap();

        // A hand-edited PTX: hash and entries no longer match.
        write_repo(&tmp);
        let edited = PTX.replace(".param .u32 add_one_param_1", ".param .u64 add_one_param_1");
        tmp.write(&format!("{BUNDLE_DIR}/rle_kernels.ptx"), edited);
        let problems = check_committed_without_compiler(tmp.path()).unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("rle_kernels.ptx") && problems[1].contains(ENTRIES_FILE));

        // A kernel crate added to the workspace without rebuilding.
        write_repo(&tmp);
        let root_toml = std::fs::read_to_string(tmp.path().join("Cargo.toml")).unwrap();
        tmp.write(
            "Cargo.toml",
            root_toml.replace(
                "\"crates/b-kernels\"]",
                "\"crates/b-kernels\", \"crates/c-kernels\"]",
            ),
        );
        tmp.write(
            "crates/c-kernels/Cargo.toml",
            "[package]\nname = \"c-kernels\"\n[package.metadata.ptx]\nfile = \"c.ptx\"\n",
        );
        tmp.write("crates/c-kernels/src/lib.rs", "#![no_std]\n");
        tmp.write(&format!("{BUNDLE_DIR}/c.ptx"), PTX_B);
        let problems = check_committed_without_compiler(tmp.path()).unwrap();
        assert!(problems[0].contains("c-kernels"), "{problems:?}");

        // A missing file is an error naming the fix.
        write_repo(&tmp);
        std::fs::remove_file(tmp.path().join(BUNDLE_DIR).join(ENTRIES_FILE)).unwrap();
        let err = check_committed_without_compiler(tmp.path()).unwrap_err();
        assert!(format!("{err:#}").contains(FIX_COMMAND));
    }

    #[test]
    fn stale_message_lists_problems_and_the_fix() {
        let msg = stale_message(&["a is stale".into(), "b is stale".into()]);
        assert!(msg.contains("  - a is stale\n  - b is stale\n"));
        assert!(msg.contains(FIX_COMMAND) && msg.contains(BUNDLE_DIR));
    }
}
