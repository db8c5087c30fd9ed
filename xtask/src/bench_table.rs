//! `cargo xtask bench-table [--criterion DIR] [--groups a,b] [--sum]`: merges
//! criterion's saved results (`<DIR>/<group>/<function>/new/benchmark.json`
//! and `estimates.json`) into one Markdown table: a row per function (our
//! configuration names), a column per group (e.g. one per kernel), each cell
//! criterion's median per iteration with its 95 % confidence interval.
//!
//! On the GPU machine criterion writes under `target/criterion` of the
//! working directory; `benches/run_gpu.sh` packs it into `$OUT`, and this
//! command runs here on the unpacked copy. BENCHMARKS.md's end-to-end table
//! comes from our own percentiles instead (`scripts/bench_merge.py`), since
//! criterion keeps no p90/p99.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use serde::Deserialize;

/// Options of `bench-table`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Criterion's output folder; relative paths are relative to the repository root.
    #[arg(long, default_value = "target/criterion")]
    criterion: PathBuf,
    /// Groups to show, in this order (default: every group, sorted).
    #[arg(long, value_delimiter = ',')]
    groups: Vec<String>,
    /// Add a column with the sum of each row's medians (e.g. kernels of one frame).
    #[arg(long)]
    sum: bool,
}

#[derive(Debug, Deserialize)]
struct BenchmarkId {
    group_id: String,
    function_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

#[derive(Debug, Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Debug, Deserialize)]
struct Estimates {
    median: Estimate,
}

/// One benchmark's median per iteration, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Median {
    ns: f64,
    lo: f64,
    hi: f64,
}

/// Medians by (group, function).
type Results = BTreeMap<(String, String), Median>;

/// Every `new/` result under `dir` (criterion's layout: `group/function/new`
/// or `group/new` for a benchmark without a function name).
fn collect(dir: &Path) -> Result<Results> {
    ensure!(
        dir.is_dir(),
        "{} is not a folder: run the benches first (criterion writes there), or pass --criterion",
        dir.display()
    );
    let mut out = Results::new();
    let mut stack = vec![(dir.to_path_buf(), 0)];
    while let Some((d, depth)) = stack.pop() {
        let new = d.join("new");
        if new.join("benchmark.json").is_file() {
            let read = |name: &str| -> Result<String> {
                let p = new.join(name);
                fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
            };
            let id: BenchmarkId = serde_json::from_str(&read("benchmark.json")?)
                .with_context(|| format!("parsing {}/benchmark.json", new.display()))?;
            let est: Estimates = serde_json::from_str(&read("estimates.json")?)
                .with_context(|| format!("parsing {}/estimates.json", new.display()))?;
            let m = est.median;
            out.insert(
                (id.group_id, id.function_id.unwrap_or_default()),
                Median {
                    ns: m.point_estimate,
                    lo: m.confidence_interval.lower_bound,
                    hi: m.confidence_interval.upper_bound,
                },
            );
        }
        // Criterion nests at most group/function/{new,base,change}.
        if depth < 2 {
            for entry in fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
                let p = entry?.path();
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if p.is_dir() && !matches!(name, "new" | "base" | "change" | "report") {
                    stack.push((p, depth + 1));
                }
            }
        }
    }
    ensure!(
        !out.is_empty(),
        "no criterion results (`*/new/benchmark.json`) under {}",
        dir.display()
    );
    Ok(out)
}

/// `ns` with a unit that keeps three significant digits.
fn human(ns: f64) -> String {
    let (v, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

/// The Markdown table of `groups` (every group when empty).
fn table(results: &Results, groups: &[String], sum: bool) -> Result<String> {
    let all: BTreeSet<&str> = results.keys().map(|(g, _)| g.as_str()).collect();
    let cols: Vec<&str> = if groups.is_empty() {
        all.iter().copied().collect()
    } else {
        for g in groups {
            if !all.contains(g.as_str()) {
                bail!(
                    "no group `{g}` in criterion's results; there are: {}",
                    all.iter().copied().collect::<Vec<_>>().join(", ")
                );
            }
        }
        groups.iter().map(String::as_str).collect()
    };
    let rows: BTreeSet<&str> = results
        .keys()
        .filter(|(g, _)| cols.contains(&g.as_str()))
        .map(|(_, f)| f.as_str())
        .collect();
    let mut s = String::new();
    let _ = write!(s, "| benchmark |");
    for c in &cols {
        let _ = write!(s, " {c} |");
    }
    if sum {
        s.push_str(" sum of medians |");
    }
    s.push_str("\n|---|");
    for _ in 0..cols.len() + usize::from(sum) {
        s.push_str("---|");
    }
    s.push('\n');
    for r in rows {
        let _ = write!(s, "| {} |", if r.is_empty() { "(group)" } else { r });
        let mut total = 0.0;
        let mut complete = true;
        for c in &cols {
            match results.get(&(c.to_string(), r.to_string())) {
                Some(m) => {
                    total += m.ns;
                    let _ = write!(s, " {} ({}–{}) |", human(m.ns), human(m.lo), human(m.hi));
                }
                None => {
                    complete = false;
                    s.push_str(" - |");
                }
            }
        }
        if sum {
            if complete {
                let _ = write!(s, " {} |", human(total));
            } else {
                s.push_str(" - |");
            }
        }
        s.push('\n');
    }
    s.push_str(
        "\nCells: criterion's median time per iteration (95 % confidence interval of the median).\n",
    );
    Ok(s)
}

/// Runs `bench-table` for the repository at `root`.
pub fn run(root: &Path, args: &Args) -> Result<()> {
    let dir = if args.criterion.is_absolute() {
        args.criterion.clone()
    } else {
        root.join(&args.criterion)
    };
    let results = collect(&dir)?;
    print!("{}", table(&results, &args.groups, args.sum)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    fn bench(dir: &TempDir, group: &str, function: &str, median_ns: f64) {
        let base = format!("{group}/{function}/new");
        dir.write(
            &format!("{base}/benchmark.json"),
            format!(r#"{{"group_id":"{group}","function_id":"{function}","value_str":null}}"#),
        );
        let est = |v: f64| {
            format!(
                r#"{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":{},"upper_bound":{}}},"point_estimate":{v},"standard_error":1.0}}"#,
                v * 0.9,
                v * 1.1
            )
        };
        dir.write(
            &format!("{base}/estimates.json"),
            format!(
                r#"{{"mean":{},"median":{},"median_abs_dev":{},"slope":null,"std_dev":{}}}"#,
                est(median_ns * 1.05),
                est(median_ns),
                est(1.0),
                est(1.0)
            ),
        );
        // Earlier runs' results must not be read.
        dir.write(
            &format!("{group}/{function}/base/benchmark.json"),
            "not json",
        );
    }

    #[test]
    fn merges_groups_into_columns_and_sums_rows() {
        let dir = TempDir::new("bench-table");
        bench(&dir, "gpu_select_roi", "cfg_a", 16_000.0);
        bench(&dir, "gpu_mask_count", "cfg_a", 53_000.0);
        bench(&dir, "gpu_select_roi", "cfg_b", 9_000.0);
        dir.write("gpu_select_roi/report/index.html", "<html>");
        let results = collect(dir.path()).unwrap();
        assert_eq!(results.len(), 3);
        let groups = vec!["gpu_select_roi".to_string(), "gpu_mask_count".to_string()];
        let t = table(&results, &groups, true).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "| benchmark | gpu_select_roi | gpu_mask_count | sum of medians |"
        );
        assert_eq!(
            lines[2],
            "| cfg_a | 16.0 µs (14.4 µs–17.6 µs) | 53.0 µs (47.7 µs–58.3 µs) | 69.0 µs |"
        );
        // A missing cell shows as `-`, and so does the sum of an incomplete row.
        assert_eq!(lines[3], "| cfg_b | 9.00 µs (8.10 µs–9.90 µs) | - | - |");
    }

    #[test]
    fn unknown_groups_and_empty_folders_are_errors() {
        let dir = TempDir::new("bench-table-empty");
        let e = collect(dir.path()).unwrap_err().to_string();
        assert!(e.contains("no criterion results"), "{e}");
        let e = collect(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a folder"), "{e}");
        bench(&dir, "cpu_e2e", "x", 5e8);
        let results = collect(dir.path()).unwrap();
        let e = table(&results, &["gpu_e2e".into()], false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no group `gpu_e2e`") && e.contains("cpu_e2e"),
            "{e}"
        );
        let t = table(&results, &[], false).unwrap();
        assert!(t.contains("| x | 500 ms (450 ms–550 ms) |"), "{t}");
    }

    #[test]
    fn human_units() {
        assert_eq!(human(12.345), "12.3 ns");
        assert_eq!(human(193_000.0), "193 µs");
        assert_eq!(human(2.5e6), "2.50 ms");
        assert_eq!(human(3.2e9), "3.20 s");
    }
}
