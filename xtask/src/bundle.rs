//! The committed PTX bundle in `crates/rle-host/ptx/`: its three files, how
//! they are rendered from one compiled PTX, and how a committed bundle is
//! checked against itself and the current kernel sources.
//!
//! - `rle_kernels.ptx`: the compiler's output, byte for byte.
//! - `manifest.json`: header directives, entry names, toolchain, build flags,
//!   the sources hash (see `sources.rs`) and the PTX's sha256.
//! - `entries.txt`: each `.entry` with its parameter list, so a change of
//!   kernel ABI shows as a diff in review.
//!
//! Invariant: every file is a pure function of (PTX text, toolchain, flags,
//! sources), so rendering twice gives identical bytes and `--check` can
//! compare byte for byte.

use std::fs;
use std::path::Path;

use anyhow::{ensure, Context, Result};
use serde::{Deserialize, Serialize};

use crate::ptx::{self, Entry, Header};
use crate::sources::{sha256_hex, SourcesHash};
use crate::toolchain::RustcVersion;

/// The bundle directory, relative to the repository root.
pub const BUNDLE_DIR: &str = "crates/rle-host/ptx";
/// The PTX file name inside [`BUNDLE_DIR`].
pub const PTX_FILE: &str = "rle_kernels.ptx";
/// The manifest file name inside [`BUNDLE_DIR`].
pub const MANIFEST_FILE: &str = "manifest.json";
/// The ABI snapshot file name inside [`BUNDLE_DIR`].
pub const ENTRIES_FILE: &str = "entries.txt";

/// Bumped when the manifest's shape changes, so readers can refuse old ones.
pub const MANIFEST_SCHEMA: u32 = 1;

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
    /// What is in the PTX.
    pub ptx: PtxInfo,
    /// Which compiler produced it.
    pub toolchain: ToolchainInfo,
    /// How it was invoked.
    pub build: BuildInfo,
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

/// The three files of a bundle, rendered in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub ptx: Vec<u8>,
    pub manifest: Manifest,
    pub manifest_json: String,
    pub entries_txt: String,
}

impl Bundle {
    /// Renders the bundle for compiled `ptx`.
    pub fn render(
        ptx: Vec<u8>,
        toolchain: ToolchainInfo,
        build: BuildInfo,
        sources: SourcesHash,
    ) -> Result<Bundle> {
        let text = std::str::from_utf8(&ptx).context("the PTX is not UTF-8")?;
        let header = ptx::parse_header(text)?;
        let entries = ptx::parse_entries(text)?;
        let manifest = Manifest {
            schema: MANIFEST_SCHEMA,
            generated_by: FIX_COMMAND.to_owned(),
            ptx: ptx_info(&ptx, &header, &entries),
            toolchain,
            build,
            sources,
        };
        Ok(Bundle {
            manifest_json: manifest_to_json(&manifest)?,
            entries_txt: render_entries(&header, &entries),
            ptx,
            manifest,
        })
    }

    /// `(file name, bytes)` of each file, in a fixed order.
    pub fn files(&self) -> [(&'static str, &[u8]); 3] {
        [
            (PTX_FILE, &self.ptx),
            (MANIFEST_FILE, self.manifest_json.as_bytes()),
            (ENTRIES_FILE, self.entries_txt.as_bytes()),
        ]
    }
}

fn ptx_info(ptx: &[u8], header: &Header, entries: &[Entry]) -> PtxInfo {
    PtxInfo {
        file: PTX_FILE.to_owned(),
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
    let manifest: Manifest = serde_json::from_str(json).context("parsing manifest.json")?;
    ensure!(
        manifest.schema == MANIFEST_SCHEMA,
        "manifest.json has schema {} but this xtask writes schema {MANIFEST_SCHEMA}",
        manifest.schema
    );
    Ok(manifest)
}

/// `entries.txt`: one block per entry, parameters one per line.
pub fn render_entries(header: &Header, entries: &[Entry]) -> String {
    let mut out = format!(
        "# Kernel entry points of {PTX_FILE} (PTX {}, {}, {}-bit addresses).\n\
         # Generated by `{FIX_COMMAND}`; do not edit. A diff here is a kernel ABI change:\n\
         # check the host launch code and the #[repr(C)] structs in rle-kernels' abi module.\n",
        header.version, header.target, header.address_size
    );
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
    out
}

/// Reads the committed bundle and checks everything that needs no compiler:
/// the manifest's sources hash against the kernel sources now, the PTX's
/// sha256, and that the manifest header and `entries.txt` are what the
/// committed PTX says. Returns one line per problem (empty: consistent).
pub fn check_committed_without_compiler(root: &Path) -> Result<Vec<String>> {
    let dir = root.join(BUNDLE_DIR);
    let read = |name: &str| {
        let path = dir.join(name);
        fs::read(&path).with_context(|| {
            format!(
                "reading {BUNDLE_DIR}/{name} (missing? run `{FIX_COMMAND}` to create the bundle)"
            )
        })
    };
    let ptx = read(PTX_FILE)?;
    let manifest_json = String::from_utf8(read(MANIFEST_FILE)?)
        .with_context(|| format!("{BUNDLE_DIR}/{MANIFEST_FILE} is not UTF-8"))?;
    let entries_txt = read(ENTRIES_FILE)?;
    let manifest = manifest_from_json(&manifest_json)
        .with_context(|| format!("in {BUNDLE_DIR}/{MANIFEST_FILE}"))?;

    let mut problems = Vec::new();
    let sources = SourcesHash::of_kernel_crate(root)?;
    if sources.sha256 != manifest.sources.sha256 {
        problems.push(format!(
            "{BUNDLE_DIR}/{MANIFEST_FILE} is stale: the kernel sources changed since the PTX was built ({})",
            sources.describe_changes_since(&manifest.sources).join(", ")
        ));
    }
    if sha256_hex(&ptx) != manifest.ptx.sha256 {
        problems.push(format!(
            "{BUNDLE_DIR}/{PTX_FILE} does not match the sha256 in {MANIFEST_FILE} (edited by hand or half-committed?)"
        ));
    }
    let text = std::str::from_utf8(&ptx)
        .with_context(|| format!("{BUNDLE_DIR}/{PTX_FILE} is not UTF-8"))?;
    let header = ptx::parse_header(text).with_context(|| format!("in {BUNDLE_DIR}/{PTX_FILE}"))?;
    let entries =
        ptx::parse_entries(text).with_context(|| format!("in {BUNDLE_DIR}/{PTX_FILE}"))?;
    let mut expected_info = ptx_info(&ptx, &header, &entries);
    // The sha256 mismatch is reported above; compare the rest.
    expected_info.sha256 = manifest.ptx.sha256.clone();
    if expected_info != manifest.ptx {
        problems.push(format!(
            "{BUNDLE_DIR}/{MANIFEST_FILE} describes a different PTX (header or entry names differ from {PTX_FILE})"
        ));
    }
    if render_entries(&header, &entries).as_bytes() != entries_txt.as_slice() {
        problems.push(format!(
            "{BUNDLE_DIR}/{ENTRIES_FILE} does not match the entries of {PTX_FILE}"
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
    use crate::testutil::TempDir;

    pub const PTX: &str = "//\n// Generated by LLVM NVPTX Back-End\n//\n\n.version 7.0\n.target sm_75\n.address_size 64\n\n\
        \t// .globl\tadd_one\n.visible .entry add_one(\n\t.param .u64 .ptr .align 1 add_one_param_0,\n\t.param .u32 add_one_param_1\n)\n{\n\tret;\n\n}\n\
        \t// .globl\tnone\n.visible .entry none()\n.reqntid 128, 1, 1\n{\n\tret;\n\n}\n";

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

    /// Writes a consistent kernel crate and bundle into `tmp`.
    pub fn write_repo(tmp: &TempDir) {
        tmp.write(
            "crates/rle-kernels/Cargo.toml",
            "[package]\nname = \"rle-kernels\"\n",
        );
        tmp.write("crates/rle-kernels/src/lib.rs", "#![no_std]\n");
        let sources = SourcesHash::of_kernel_crate(tmp.path()).unwrap();
        let bundle = Bundle::render(PTX.into(), toolchain(), build(), sources).unwrap();
        for (name, bytes) in bundle.files() {
            tmp.write(&format!("{BUNDLE_DIR}/{name}"), bytes);
        }
    }

    #[test]
    fn manifest_round_trips() {
        let sources = SourcesHash::from_contents([("a".to_owned(), &b"x"[..])]);
        let bundle = Bundle::render(PTX.into(), toolchain(), build(), sources).unwrap();
        let json = &bundle.manifest_json;
        assert!(json.ends_with("}\n"));
        let parsed = manifest_from_json(json).unwrap();
        assert_eq!(parsed, bundle.manifest);
        assert_eq!(&manifest_to_json(&parsed).unwrap(), json);
        assert_eq!(parsed.ptx.entries, ["add_one", "none"]);
        assert_eq!(parsed.ptx.version, "7.0");
        assert_eq!(parsed.ptx.target, "sm_75");
        assert_eq!(parsed.ptx.address_size, 64);
        assert_eq!(parsed.ptx.sha256, sha256_hex(PTX.as_bytes()));
    }

    #[test]
    fn manifest_rejects_other_schemas_and_unknown_fields() {
        let sources = SourcesHash::from_contents([("a".to_owned(), &b"x"[..])]);
        let bundle = Bundle::render(PTX.into(), toolchain(), build(), sources).unwrap();
        let other = bundle
            .manifest_json
            .replace("\"schema\": 1", "\"schema\": 99");
        assert!(manifest_from_json(&other).is_err());
        let extra = bundle.manifest_json.replacen('{', "{\"surprise\": 1,", 1);
        assert!(manifest_from_json(&extra).is_err());
    }

    #[test]
    fn entries_snapshot_shape() {
        let header = ptx::parse_header(PTX).unwrap();
        let entries = ptx::parse_entries(PTX).unwrap();
        let text = render_entries(&header, &entries);
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            body,
            [
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
        assert!(text.contains("PTX 7.0, sm_75, 64-bit"));
    }

    #[test]
    fn rendering_is_deterministic() {
        let sources = || SourcesHash::from_contents([("a".to_owned(), &b"x"[..])]);
        let a = Bundle::render(PTX.into(), toolchain(), build(), sources()).unwrap();
        let b = Bundle::render(PTX.into(), toolchain(), build(), sources()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.ptx, PTX.as_bytes(), "the PTX is kept byte for byte");
    }

    #[test]
    fn committed_check_passes_then_catches_each_kind_of_staleness() {
        let tmp = TempDir::new("bundle-check");
        write_repo(&tmp);
        assert_eq!(
            check_committed_without_compiler(tmp.path()).unwrap(),
            Vec::<String>::new()
        );

        // A kernel edited without rebuilding.
        tmp.write("crates/rle-kernels/src/lib.rs", "#![no_std]\n// edit\n");
        let problems = check_committed_without_compiler(tmp.path()).unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("changed crates/rle-kernels/src/lib.rs"));
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
        tmp.write(&format!("{BUNDLE_DIR}/{PTX_FILE}"), edited);
        let problems = check_committed_without_compiler(tmp.path()).unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains(PTX_FILE) && problems[1].contains(ENTRIES_FILE));

        // A missing file is an error naming the fix.
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
