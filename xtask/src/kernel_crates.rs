//! Which crates are kernel crates: every workspace member whose `Cargo.toml`
//! has a `[package.metadata.ptx]` table. `build-ptx` compiles each to its
//! own PTX file in the bundle, and the freshness checks hash each one's
//! sources, so adding a kernel family is adding a member with that table,
//! never editing xtask.
//!
//! The table:
//!
//! ```toml
//! [package.metadata.ptx]
//! file = "mask_kernels.ptx"                 # in crates/rle-host/ptx/
//! max-registers = { mask_rle_scan = 64 }    # optional: `.maxnreg` per entry (tune.rs)
//! ```
//!
//! Members are read from the root manifest's `[workspace] members` (plain
//! paths; globs are refused rather than guessed at). A kernel crate's path
//! dependencies (e.g. `kernel-prims`, the device primitives every family
//! shares, directly or through `[workspace.dependencies]`) are part of its
//! sources: their code is compiled into its PTX.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use serde::Deserialize;

/// One kernel crate of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelCrate {
    /// The package name (`cargo -p`).
    pub package: String,
    /// Its directory, `/`-separated, relative to the repository root.
    pub dir: String,
    /// Its PTX file name inside the bundle directory.
    pub ptx_file: String,
    /// `(entry, registers)` limits, sorted by entry.
    pub max_registers: Vec<(String, u32)>,
    /// Directories of its path dependencies (same form as `dir`), sorted.
    pub path_deps: Vec<String>,
}

impl KernelCrate {
    /// Every directory whose sources go into this crate's PTX: its own, then
    /// its path dependencies'.
    pub fn source_dirs(&self) -> Vec<&str> {
        std::iter::once(self.dir.as_str())
            .chain(self.path_deps.iter().map(String::as_str))
            .collect()
    }

    /// The crate as rustc names its outputs (`rle_kernels-<hash>.s`).
    pub fn crate_name(&self) -> String {
        self.package.replace('-', "_")
    }
}

#[derive(Deserialize)]
struct RootManifest {
    workspace: Workspace,
}

#[derive(Deserialize)]
struct Workspace {
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct MemberManifest {
    package: Option<Package>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    /// `[target.'cfg(..)'.dependencies]`: where nvptx-only dependencies go.
    #[serde(default)]
    target: BTreeMap<String, TargetDeps>,
}

#[derive(Deserialize)]
struct TargetDeps {
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
}

impl MemberManifest {
    /// Every `[dependencies]` entry, target-specific ones included.
    fn all_dependencies(&self) -> impl Iterator<Item = (&String, &toml::Value)> {
        self.dependencies
            .iter()
            .chain(self.target.values().flat_map(|t| t.dependencies.iter()))
    }
}

/// `a/b` joined with the relative `../c` as `a/c` (`/`-separated).
fn join_relative(base: &str, rel: &str) -> Result<String> {
    let mut parts: Vec<&str> = if base.is_empty() {
        Vec::new()
    } else {
        base.split('/').collect()
    };
    for part in rel.trim_end_matches('/').split('/') {
        match part {
            "" | "." => {}
            ".." => {
                ensure!(
                    parts.pop().is_some(),
                    "path `{rel}` leaves the repository from `{base}`"
                );
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// The directories of the path dependencies of the crate in `dir`, direct
/// and transitive, target-specific ones included: a path dependency's own
/// path dependencies are compiled into the same PTX.
fn path_deps(
    root: &Path,
    dir: &str,
    manifest: &MemberManifest,
    workspace: &BTreeMap<String, toml::Value>,
) -> Result<Vec<String>> {
    let path_of = |v: &toml::Value| {
        v.get("path")
            .and_then(toml::Value::as_str)
            .map(str::to_owned)
    };
    let mut out: Vec<String> = Vec::new();
    let mut todo: Vec<String> = Vec::new();
    let visit = |at: &str,
                 m: &MemberManifest,
                 out: &mut Vec<String>,
                 todo: &mut Vec<String>|
     -> Result<()> {
        for (name, dep) in m.all_dependencies() {
            let inherited = dep.get("workspace").and_then(toml::Value::as_bool) == Some(true);
            let found = if inherited {
                workspace
                    .get(name)
                    .and_then(path_of)
                    .map(|p| join_relative("", &p))
            } else {
                path_of(dep).map(|p| join_relative(at, &p))
            };
            if let Some(p) = found {
                let p = p?;
                if p != dir && !out.contains(&p) {
                    out.push(p.clone());
                    todo.push(p);
                }
            }
        }
        Ok(())
    };
    visit(dir, manifest, &mut out, &mut todo)?;
    while let Some(at) = todo.pop() {
        let m: MemberManifest = read_toml(&root.join(&at).join("Cargo.toml"))?;
        visit(&at, &m, &mut out, &mut todo)?;
    }
    out.sort();
    Ok(out)
}

#[derive(Deserialize)]
struct Package {
    name: String,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    ptx: Option<PtxTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PtxTable {
    file: String,
    #[serde(default)]
    max_registers: std::collections::BTreeMap<String, u32>,
}

fn read_toml<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The kernel crates of the workspace at `root`, in `members` order.
pub fn discover(root: &Path) -> Result<Vec<KernelCrate>> {
    let ws: RootManifest = read_toml(&root.join("Cargo.toml"))?;
    let mut found: Vec<KernelCrate> = Vec::new();
    for member in ws.workspace.members {
        ensure!(
            !member.contains(['*', '?', '[']),
            "workspace member `{member}` is a glob; list kernel crates by path"
        );
        let dir = member.trim_end_matches('/').to_owned();
        let mut manifest: MemberManifest = read_toml(&root.join(&dir).join("Cargo.toml"))?;
        let Some(package) = manifest.package.take() else {
            continue;
        };
        let Some(ptx) = package.metadata.and_then(|m| m.ptx) else {
            continue;
        };
        ensure!(
            ptx.file.ends_with(".ptx") && !ptx.file.contains(['/', '\\']),
            "{dir}/Cargo.toml: [package.metadata.ptx] file = {:?} must be a plain `*.ptx` file name",
            ptx.file
        );
        if let Some(other) = found.iter().find(|k| k.ptx_file == ptx.file) {
            bail!(
                "{dir} and {} both write {} into the bundle",
                other.dir,
                ptx.file
            );
        }
        let path_deps = path_deps(root, &dir, &manifest, &ws.workspace.dependencies)
            .with_context(|| format!("the dependencies of {dir}"))?;
        found.push(KernelCrate {
            package: package.name,
            dir,
            ptx_file: ptx.file,
            max_registers: ptx.max_registers.into_iter().collect(),
            path_deps,
        });
    }
    ensure!(
        !found.is_empty(),
        "no workspace member of {} has a [package.metadata.ptx] table: there is nothing to build",
        root.display()
    );
    Ok(found)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testutil::TempDir;

    /// A workspace with the given `(dir, package, ptx table)` members
    /// (`None`: not a kernel crate).
    pub fn write_workspace(tmp: &TempDir, members: &[(&str, &str, Option<&str>)]) {
        let list: Vec<String> = members.iter().map(|(d, ..)| format!("{d:?}")).collect();
        tmp.write(
            "Cargo.toml",
            format!("[workspace]\nmembers = [{}]\n", list.join(", ")),
        );
        for (dir, name, table) in members {
            let mut toml = format!("[package]\nname = \"{name}\"\n");
            if let Some(t) = table {
                toml.push_str(&format!("\n[package.metadata.ptx]\n{t}\n"));
            }
            tmp.write(&format!("{dir}/Cargo.toml"), toml);
        }
    }

    #[test]
    fn finds_members_with_a_ptx_table_in_order() {
        let tmp = TempDir::new("discover");
        write_workspace(
            &tmp,
            &[
                ("crates/b-kernels", "b-kernels", Some("file = \"b.ptx\"")),
                ("crates/host", "host", None),
                (
                    "crates/a-kernels",
                    "a-kernels",
                    Some("file = \"a.ptx\"\nmax-registers = { k2 = 64, k1 = 32 }"),
                ),
            ],
        );
        let found = discover(tmp.path()).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].package, "b-kernels");
        assert_eq!(found[1].crate_name(), "a_kernels");
        assert_eq!(found[1].dir, "crates/a-kernels");
        assert_eq!(
            found[1].max_registers,
            [("k1".to_owned(), 32), ("k2".to_owned(), 64)]
        );
    }

    #[test]
    fn path_dependencies_count_as_sources() {
        let tmp = TempDir::new("discover-deps");
        tmp.write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/k\"]\n[workspace.dependencies]\nprims = { path = \"crates/prims\" }\nserde = \"1\"\n",
        );
        tmp.write(
            "crates/k/Cargo.toml",
            "[package]\nname = \"k\"\n[package.metadata.ptx]\nfile = \"k.ptx\"\n[dependencies]\nprims.workspace = true\nserde.workspace = true\nlocal = { path = \"../local/\" }\nregistry = \"2\"\n",
        );
        // `local` itself depends on `deeper`, and an nvptx-only table adds `gpu`.
        tmp.write(
            "crates/local/Cargo.toml",
            "[package]\nname = \"local\"\n[dependencies]\ndeeper = { path = \"../deeper\" }\n",
        );
        tmp.write("crates/deeper/Cargo.toml", "[package]\nname = \"deeper\"\n");
        tmp.write(
            "crates/prims/Cargo.toml",
            "[package]\nname = \"prims\"\n[dependencies]\nlocal = { path = \"../local\" }\n",
        );
        tmp.write("crates/gpu/Cargo.toml", "[package]\nname = \"gpu\"\n");
        let k = std::fs::read_to_string(tmp.path().join("crates/k/Cargo.toml")).unwrap();
        tmp.write(
            "crates/k/Cargo.toml",
            format!("{k}[target.'cfg(target_arch = \"nvptx64\")'.dependencies]\ngpu = {{ path = \"../gpu\" }}\n"),
        );
        let found = discover(tmp.path()).unwrap();
        assert_eq!(
            found[0].path_deps,
            [
                "crates/deeper",
                "crates/gpu",
                "crates/local",
                "crates/prims"
            ]
        );
        assert_eq!(join_relative("a/b", "../../c").unwrap(), "c");
        assert!(join_relative("a", "../../c").is_err());
    }

    #[test]
    fn refuses_clashes_bad_names_and_an_empty_list() {
        let tmp = TempDir::new("discover-bad");
        let t = Some("file = \"x.ptx\"");
        write_workspace(&tmp, &[("a", "a", t), ("b", "b", t)]);
        assert!(format!("{:#}", discover(tmp.path()).unwrap_err()).contains("both write"));
        write_workspace(&tmp, &[("a", "a", Some("file = \"../x.ptx\""))]);
        assert!(discover(tmp.path()).is_err());
        write_workspace(&tmp, &[("a", "a", Some("file = \"x.ptx\"\nsurprise = 1"))]);
        assert!(discover(tmp.path()).is_err());
        write_workspace(&tmp, &[("a", "a", None)]);
        assert!(format!("{:#}", discover(tmp.path()).unwrap_err()).contains("nothing to build"));
    }

    /// The register limits of the RLE kernels are the ones their ABI
    /// documents (`rle_kernels::abi::MAX_REGISTERS`).
    #[test]
    fn the_workspace_lists_both_families_and_the_rle_limits_match_its_abi() {
        let found = discover(&crate::repo_root()).unwrap();
        let names: Vec<_> = found.iter().map(|k| k.package.as_str()).collect();
        assert!(names.contains(&"rle-kernels") && names.contains(&"mask-kernels"));
        let rle = found.iter().find(|k| k.package == "rle-kernels").unwrap();
        // Every family compiles the shared device primitives into its PTX.
        for k in &found {
            assert!(
                k.path_deps.iter().any(|d| d == "crates/kernel-prims"),
                "{}: {:?}",
                k.package,
                k.path_deps
            );
            assert_eq!(k.source_dirs()[0], k.dir);
        }
        let mut abi: Vec<(String, u32)> = rle_kernels::abi::MAX_REGISTERS
            .iter()
            .map(|(k, n)| (k.to_string(), *n))
            .collect();
        abi.sort();
        assert_eq!(rle.max_registers, abi);
    }
}
