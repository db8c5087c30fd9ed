//! Loading one embedded PTX module into the current context, eagerly (so a
//! driver that cannot JIT it fails at start-up with a remedy, not mid-run),
//! specialized for sm_90 when the device has it ([`specialize_sm90`]), and
//! looking up its kernels by name.

use std::ffi::CString;

use cudarc::driver::{result, sys};
use kernel_prims::SM90_LINE_PREFIX;

use crate::bundle::PtxModule;
use crate::error::{DriverContext, Error, Result};

/// Loads `ptx` into the context bound to this thread; a refusal is
/// `Error::PtxLoad` naming the module's ISA and target and the driver.
/// The caller owns the returned module and unloads it
/// ([`result::module::unload`]) once no kernel of it runs.
pub(crate) fn load(ptx: &PtxModule, driver_version: i32) -> Result<sys::CUmodule> {
    load_text(ptx.text).map_err(|source| Error::PtxLoad {
        ptx_version: ptx.version().to_string(),
        ptx_target: ptx.target().to_string(),
        driver_version,
        source,
    })
}

/// `cuModuleLoadData` of a PTX text, into the context bound to this thread.
fn load_text(text: &str) -> std::result::Result<sys::CUmodule, result::DriverError> {
    let src = CString::new(text).expect("a PTX module contains no NUL byte");
    // SAFETY: a NUL-terminated PTX image; the caller bound the context.
    unsafe { result::module::load_data(src.as_ptr().cast()) }
}

/// The PTX ISA and target the sm_90 lines need (`griddepcontrol`: ISA 7.8).
const SM90_VERSION: &str = "7.8";
const SM90_TARGET: &str = "sm_90";

/// The sm_90 form of a baseline module: its `.version` raised to 7.8 and
/// its `.target` to sm_90, and every line carrying an sm_90-only
/// instruction as a comment ([`SM90_LINE_PREFIX`], written by
/// `kernel_prims::grid_dependency_wait` and `launch_dependents`) turned into
/// the instruction. Nothing else changes: the JIT compiles the same code for
/// the device as it does from the baseline, plus those instructions. `None`
/// when the module has no such line (nothing to gain) or its header is not
/// the baseline's `.version 7.x` / `.target sm_75` (the build's contract,
/// checked by `cargo xtask build-ptx`).
pub(crate) fn specialize_sm90(ptx: &str) -> Option<String> {
    if !ptx.contains(SM90_LINE_PREFIX) {
        return None;
    }
    let (mut version, mut target) = (false, false);
    let mut out = String::with_capacity(ptx.len());
    for line in ptx.split_inclusive('\n') {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        if let Some(v) = body.strip_prefix(".version ") {
            if version || !v.trim_end().starts_with("7.") {
                return None;
            }
            version = true;
            out.push_str(&format!(".version {SM90_VERSION}\n"));
        } else if let Some(t) = body.strip_prefix(".target ") {
            if target || t.trim_end() != "sm_75" {
                return None;
            }
            target = true;
            out.push_str(&format!(".target {SM90_TARGET}\n"));
        } else if let Some(insn) = body.strip_prefix(SM90_LINE_PREFIX) {
            out.push_str(indent);
            out.push_str(insn);
        } else {
            out.push_str(line);
        }
    }
    (version && target).then_some(out)
}

/// Loads `ptx` for a device of compute capability `cc`: its sm_90 form
/// ([`specialize_sm90`]) on sm_90 and later when it has one and the driver
/// takes it, else the baseline as [`load`] does. The answer says which:
/// `true` when the sm_90 lines are instructions, so launches may be
/// programmatic (`toolkit::launch::go_after`). A driver that refuses the
/// sm_90 form (older than PTX ISA 7.8) gets the baseline, which runs there
/// with ordinary launches.
pub(crate) fn load_for(
    ptx: &PtxModule,
    cc: (i32, i32),
    driver_version: i32,
) -> Result<(sys::CUmodule, bool)> {
    if cc.0 >= 9 {
        if let Some(m) = specialize_sm90(ptx.text).and_then(|text| load_text(&text).ok()) {
            return Ok((m, true));
        }
    }
    Ok((load(ptx, driver_version)?, false))
}

/// The kernel `name` of a loaded `module`.
pub(crate) fn function(module: sys::CUmodule, name: &'static str) -> Result<sys::CUfunction> {
    let c = CString::new(name).expect("kernel names contain no NUL byte");
    // SAFETY: looks up a symbol in a module loaded by `load` and not unloaded.
    unsafe { result::module::get_function(module, c) }.call("cuModuleGetFunction")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "//\n.version 7.0\n.target sm_75\n.address_size 64\n\n.visible .entry k()\n{\n\t// begin inline asm\n\t// sm_90: griddepcontrol.wait;\n\t// end inline asm\n\tret;\n}\n";

    #[test]
    fn sm90_lines_become_instructions_and_only_the_header_changes() {
        let out = specialize_sm90(BASE).expect("a baseline module with an sm_90 line");
        assert_eq!(
            out,
            "//\n.version 7.8\n.target sm_90\n.address_size 64\n\n.visible .entry k()\n{\n\t// begin inline asm\n\tgriddepcontrol.wait;\n\t// end inline asm\n\tret;\n}\n"
        );
    }

    #[test]
    fn modules_without_sm90_lines_or_with_another_header_stay_as_they_are() {
        assert_eq!(specialize_sm90(&BASE.replace("// sm_90: ", "// ")), None);
        assert_eq!(specialize_sm90(&BASE.replace("sm_75", "sm_80")), None);
        assert_eq!(specialize_sm90(&BASE.replace("7.0", "8.0")), None);
        assert_eq!(specialize_sm90(&BASE.replace(".target sm_75\n", "")), None);
    }

    /// The committed bundles: the RLE module's item passes wait for the grid
    /// before them and let the next one start early (six lines, each an
    /// instruction in the sm_90 form and nowhere else); the mask family has
    /// none, so it loads unchanged everywhere.
    #[test]
    fn the_bundles_sm90_lines() {
        let rle = crate::bundle::RLE_MODULE.text;
        assert_eq!(rle.matches("// sm_90: griddepcontrol.wait;").count(), 3);
        assert_eq!(
            rle.matches("// sm_90: griddepcontrol.launch_dependents;")
                .count(),
            3
        );
        assert_eq!(rle.matches(SM90_LINE_PREFIX).count(), 6);
        let sm90 = specialize_sm90(rle).expect("the RLE module has sm_90 lines");
        assert!(!sm90.contains(SM90_LINE_PREFIX));
        assert_eq!(sm90.matches("\tgriddepcontrol.wait;\n").count(), 3);
        assert_eq!(sm90.lines().count(), rle.lines().count());
        assert_eq!(specialize_sm90(crate::bundle::MASK_MODULE.text), None);
    }
}
