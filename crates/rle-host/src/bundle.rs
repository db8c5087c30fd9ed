//! The embedded PTX bundle built by `cargo xtask build-ptx` (committed, checked
//! for freshness in CI) and what the host needs to know about it: one module
//! per kernel crate ([`PTX_MODULES`]), each readable through [`PtxModule`]. The
//! free functions describe the RLE module ([`PTX`]), as they always did.

/// One embedded PTX module (one kernel crate's `cargo xtask build-ptx` output).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PtxModule {
    /// Its file name in `crates/rle-host/ptx/` (and in `manifest.json`).
    pub file: &'static str,
    /// The PTX text.
    pub text: &'static str,
}

impl PtxModule {
    /// A directive's value from the PTX header, e.g. `directive(".version")`.
    pub fn directive(&self, name: &str) -> Option<&'static str> {
        self.text
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(name).map(str::trim))
    }

    /// PTX ISA version (`.version`).
    pub fn version(&self) -> &'static str {
        self.directive(".version").unwrap_or("?")
    }

    /// Target architecture (`.target`).
    pub fn target(&self) -> &'static str {
        self.directive(".target").unwrap_or("?")
    }

    /// Names of the `.entry` points.
    pub fn entries(&self) -> impl Iterator<Item = &'static str> {
        let text: &'static str = self.text;
        text.lines().filter_map(|l| {
            let rest = l.trim().strip_prefix(".visible .entry ")?;
            Some(rest.split('(').next().unwrap_or(rest).trim())
        })
    }

    /// The parameter list of entry `name`, one PTX declaration per
    /// parameter (e.g. `.param .u64 .ptr .align 1 rle_select_param_1`), or
    /// `None` when the module has no such entry (used by the launch tests).
    pub fn params(&self, name: &str) -> Option<Vec<&'static str>> {
        let text: &'static str = self.text;
        let head = format!(".visible .entry {name}(");
        let start = text.find(&head)? + head.len();
        let end = start + text[start..].find(')')?;
        Some(
            text[start..end]
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect(),
        )
    }
}

/// The RLE post-processor's kernels (`crates/rle-host/ptx/rle_kernels.ptx`).
pub const RLE_MODULE: PtxModule = PtxModule {
    file: "rle_kernels.ptx",
    text: include_str!("../ptx/rle_kernels.ptx"),
};

/// The mask family's kernels (`crates/rle-host/ptx/mask_kernels.ptx`).
pub const MASK_MODULE: PtxModule = PtxModule {
    file: "mask_kernels.ptx",
    text: include_str!("../ptx/mask_kernels.ptx"),
};

/// Every embedded module, in `manifest.json` order.
pub const PTX_MODULES: [PtxModule; 2] = [RLE_MODULE, MASK_MODULE];

/// The PTX text of every RLE kernel (`crates/rle-host/ptx/rle_kernels.ptx`).
pub const PTX: &str = RLE_MODULE.text;

/// A directive's value from the RLE module's header, e.g. `directive(".version")`.
pub fn directive(name: &str) -> Option<&'static str> {
    RLE_MODULE.directive(name)
}

/// PTX ISA version of the bundle (`.version`).
pub fn ptx_version() -> &'static str {
    directive(".version").unwrap_or("?")
}

/// Target architecture of the bundle (`.target`).
pub fn ptx_target() -> &'static str {
    directive(".target").unwrap_or("?")
}

/// Names of the `.entry` points in the RLE module.
pub fn entries() -> impl Iterator<Item = &'static str> {
    RLE_MODULE.entries()
}

/// The parameter list of RLE entry `name` (see [`PtxModule::params`]).
#[cfg(test)]
pub fn params(name: &str) -> Option<Vec<&'static str>> {
    RLE_MODULE.params(name)
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

    #[test]
    fn the_mask_module_has_every_mask_kernel_on_the_same_baseline() {
        assert_eq!(MASK_MODULE.target(), RLE_MODULE.target());
        assert_eq!(MASK_MODULE.version(), RLE_MODULE.version());
        let found: Vec<_> = MASK_MODULE.entries().collect();
        for k in mask_kernels::abi::KERNELS {
            assert!(found.contains(&k), "kernel {k} missing: {found:?}");
        }
    }
}
