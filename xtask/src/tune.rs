//! Performance directives rustc cannot emit for nvptx: a `.maxnreg N` line
//! between an entry's parameter list and its body, for each kernel named in
//! its crate's `[package.metadata.ptx] max-registers` table
//! (`kernel_crates.rs`; ptxas then allocates at most N registers per thread,
//! spilling if it must). Applied to rustc's PTX before the bundle is hashed
//! and written, so `--check` compares tuned to tuned.

use anyhow::{ensure, Context, Result};

/// The PTX with every `(entry, registers)` limit inserted.
pub fn apply(ptx: &[u8], limits: &[(String, u32)]) -> Result<Vec<u8>> {
    let mut text = String::from_utf8(ptx.to_vec()).context("the PTX is not UTF-8")?;
    for (kernel, registers) in limits {
        text = limit_registers(&text, kernel, *registers)?;
    }
    Ok(text.into_bytes())
}

fn limit_registers(ptx: &str, kernel: &str, registers: u32) -> Result<String> {
    let head = format!(".entry {kernel}(");
    let start = ptx
        .find(&head)
        .with_context(|| format!("no entry {kernel} in the PTX"))?;
    ensure!(
        ptx[start + head.len()..].find(&head).is_none(),
        "entry {kernel} appears twice in the PTX"
    );
    // The directive goes between the parameter list and the body: after the
    // line holding only ')' or, for an entry without parameters, after its
    // `.entry k()` line; never past the body's '{' (into the next entry).
    let body = ptx[start..]
        .find('{')
        .with_context(|| format!("entry {kernel} has no body"))?
        + start;
    let close = match ptx[start..body].find("\n)\n") {
        Some(i) => start + i + 3,
        None => {
            let eol = ptx[start..body]
                .find('\n')
                .with_context(|| format!("the parameter list of {kernel} does not end"))?
                + start;
            ensure!(
                ptx[start..eol].trim_end().ends_with("()"),
                "the parameter list of {kernel} does not end"
            );
            eol + 1
        }
    };
    ensure!(
        !ptx[close..].starts_with(".maxnreg"),
        "entry {kernel} already has a register limit"
    );
    Ok(format!(
        "{}.maxnreg {registers}\n{}",
        &ptx[..close],
        &ptx[close..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PTX: &str = ".version 7.0\n.visible .entry a(\n\t.param .u64 a_param_0\n)\n{\n\tret;\n}\n.visible .entry b(\n\t.param .u64 b_param_0\n)\n{\n\tret;\n}\n";

    #[test]
    fn inserts_the_directive_before_the_body_of_that_entry_only() {
        let out = limit_registers(PTX, "b", 64).unwrap();
        assert_eq!(
            out,
            PTX.replace("b_param_0\n)\n{", "b_param_0\n)\n.maxnreg 64\n{")
        );
        assert!(limit_registers(PTX, "c", 64).is_err());
        assert!(limit_registers(&out, "b", 64).is_err(), "twice");
    }

    #[test]
    fn an_entry_without_parameters_gets_it_after_its_own_line() {
        let ptx = format!(".visible .entry z()\n{{\n\tret;\n}}\n{}", &PTX[13..]);
        let out = limit_registers(&ptx, "z", 32).unwrap();
        assert!(
            out.starts_with(".visible .entry z()\n.maxnreg 32\n{"),
            "{out}"
        );
        // The next entry's parameter list is untouched.
        assert_eq!(out.matches(".maxnreg").count(), 1);
        assert!(limit_registers(&out, "a", 64)
            .unwrap()
            .contains("a_param_0\n)\n.maxnreg 64\n{"));
    }
}
