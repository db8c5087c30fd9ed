//! The embedded PTX bundle built by `cargo xtask build-ptx` (committed, checked
//! for freshness in CI) and what the host needs to know about it.

/// The PTX text of every kernel (`crates/rle-host/ptx/rle_kernels.ptx`).
pub const PTX: &str = include_str!("../ptx/rle_kernels.ptx");

/// A directive's value from the PTX header, e.g. `directive(".version")`.
pub fn directive(name: &str) -> Option<&'static str> {
    PTX.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(name).map(str::trim))
}

/// PTX ISA version of the bundle (`.version`).
pub fn ptx_version() -> &'static str {
    directive(".version").unwrap_or("?")
}

/// Target architecture of the bundle (`.target`).
pub fn ptx_target() -> &'static str {
    directive(".target").unwrap_or("?")
}

/// Names of the `.entry` points in the bundle.
pub fn entries() -> impl Iterator<Item = &'static str> {
    PTX.lines().filter_map(|l| {
        let rest = l.trim().strip_prefix(".visible .entry ")?;
        Some(rest.split('(').next().unwrap_or(rest).trim())
    })
}

/// The parameter list of entry `name`, one PTX declaration per parameter
/// (e.g. `.param .u64 .ptr .align 1 rle_select_param_1`), or `None` when
/// the bundle has no such entry (used by the launch tests).
#[cfg(test)]
pub fn params(name: &str) -> Option<Vec<&'static str>> {
    let head = format!(".visible .entry {name}(");
    let start = PTX.find(&head)? + head.len();
    let end = start + PTX[start..].find(')')?;
    Some(
        PTX[start..end]
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_targets_the_baseline_and_has_every_kernel() {
        assert_eq!(ptx_target(), "sm_75");
        let (major, minor) = ptx_version().split_once('.').expect("`.version X.Y`");
        assert!(
            major.parse::<u32>().unwrap() <= 7,
            "PTX ISA {major}.{minor} is above 7.x"
        );
        let found: Vec<_> = entries().collect();
        for k in rle_kernels::abi::KERNELS {
            assert!(
                found.contains(&k),
                "kernel {k} missing from the bundle: {found:?}"
            );
        }
    }
}
