//! Reading the PTX that rustc's NVPTX backend emits: the module header
//! (`.version`, `.target`, `.address_size`) and each kernel `.entry` with its
//! parameter list.
//!
//! Pure text processing, no I/O, so it is unit-tested on small inline snippets.
//! It is not a PTX parser: it understands exactly the shapes LLVM prints
//! (one directive per line, `//` and `/* */` comments, `.entry name(...)`
//! followed by optional performance directives and a body or `;`), and it
//! fails loudly on anything else rather than guessing.

use anyhow::{bail, ensure, Context, Result};

/// The three directives that open every PTX module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// PTX ISA version, e.g. `7.0`, kept as written.
    pub version: String,
    /// Target architecture list as written after `.target`, e.g. `sm_75`.
    pub target: String,
    /// `.address_size`: 64 for nvptx64.
    pub address_size: u32,
}

impl Header {
    /// The ISA version as `(major, minor)`, for comparisons.
    pub fn version_number(&self) -> Result<(u32, u32)> {
        parse_version(&self.version)
    }
}

/// Parses a PTX ISA version `MAJOR.MINOR` into numbers.
pub fn parse_version(version: &str) -> Result<(u32, u32)> {
    let bad = || format!("PTX .version `{version}` is not MAJOR.MINOR");
    let (major, minor) = version.split_once('.').with_context(bad)?;
    Ok((
        major.parse().with_context(bad)?,
        minor.parse().with_context(bad)?,
    ))
}

/// One kernel entry point (`.entry`): what a host launch must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The symbol the host looks up (`#[no_mangle]` name).
    pub name: String,
    /// Parameters in declaration order.
    pub params: Vec<Param>,
    /// Performance directives between the parameter list and the body
    /// (`.maxntid`, `.reqntid`, `.minnctapersm`, ...), whitespace-normalised.
    /// They constrain launches too, so they belong in the ABI snapshot.
    pub directives: Vec<String>,
}

/// One `.param` of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Everything between `.param` and the name, whitespace-normalised:
    /// `.u64 .ptr .align 1`, `.align 4 .b8`, `.u32`, ...
    pub ty: String,
    /// The parameter name including any array suffix: `k_param_0[8]`.
    pub name: String,
}

/// Removes `//` line comments and `/* */` block comments, keeping line
/// structure (a block comment's newlines survive) so line-based parsing works.
pub fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let line = rest.find("//");
        let block = rest.find("/*");
        let line_first = match (line, block) {
            (Some(l), Some(b)) => l < b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => {
                out.push_str(rest);
                return out;
            }
        };
        if line_first {
            let l = line.expect("line_first implies a `//`");
            out.push_str(&rest[..l]);
            match rest[l..].find('\n') {
                Some(nl) => rest = &rest[l + nl..],
                None => return out,
            }
        } else {
            let b = block.expect("!line_first implies a `/*`");
            out.push_str(&rest[..b]);
            match rest[b + 2..].find("*/") {
                Some(end) => {
                    let close = b + 2 + end + 2;
                    out.extend(rest[b..close].chars().filter(|&c| c == '\n'));
                    rest = &rest[close..];
                }
                // An unterminated comment swallows the rest, as in PTX.
                None => return out,
            }
        }
    }
}

/// Reads the module header. Each directive must appear before the first
/// function or variable declaration, as the PTX ISA requires.
pub fn parse_header(ptx: &str) -> Result<Header> {
    let text = strip_comments(ptx);
    let mut version = None;
    let mut target = None;
    let mut address_size = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (directive, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let value = value.trim();
        match directive {
            ".version" => version = Some(value.to_owned()),
            ".target" => target = Some(normalise_ws(value)),
            ".address_size" => {
                address_size = Some(
                    value
                        .parse::<u32>()
                        .with_context(|| format!("bad .address_size `{value}`"))?,
                )
            }
            // The header is over at the first other directive.
            _ => break,
        }
    }
    let header = Header {
        version: version.context("PTX has no `.version` directive in its header")?,
        target: target.context("PTX has no `.target` directive in its header")?,
        address_size: address_size.context("PTX has no `.address_size` directive in its header")?,
    };
    header.version_number()?;
    Ok(header)
}

/// Every `.entry` in file order, with parameters and directives.
pub fn parse_entries(ptx: &str) -> Result<Vec<Entry>> {
    let text = strip_comments(ptx);
    let mut entries: Vec<Entry> = Vec::new();
    let mut search_from = 0;
    while let Some(found) = find_token(&text, ".entry", search_from) {
        let after = found + ".entry".len();
        let (entry, end) = parse_one_entry(&text, after)
            .with_context(|| format!("while reading the .entry at byte {found}"))?;
        ensure!(
            entries.iter().all(|e| e.name != entry.name),
            "PTX declares `.entry {}` twice",
            entry.name
        );
        entries.push(entry);
        search_from = end;
    }
    Ok(entries)
}

/// Parses `name(params) directives {` starting just after `.entry`; returns
/// the entry and the byte offset where its declaration ends.
fn parse_one_entry(text: &str, start: usize) -> Result<(Entry, usize)> {
    let rest = &text[start..];
    let name_start = rest.len() - rest.trim_start().len();
    let name_len = rest[name_start..]
        .find(|c: char| !is_ident_char(c))
        .unwrap_or(rest.len() - name_start);
    ensure!(name_len > 0, "`.entry` is not followed by a name");
    let name = rest[name_start..name_start + name_len].to_owned();

    let mut pos = name_start + name_len;
    let after_name = rest[pos..].trim_start();
    pos = rest.len() - after_name.len();
    let mut params = Vec::new();
    if after_name.starts_with('(') {
        let close = after_name
            .find(')')
            .with_context(|| format!("unclosed parameter list of `.entry {name}`"))?;
        for raw in after_name[1..close].split(',') {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            params.push(parse_param(raw).with_context(|| format!("in `.entry {name}`"))?);
        }
        pos += close + 1;
    }

    // Directives run up to the body `{` (a definition) or `;` (a declaration).
    let tail = &rest[pos..];
    let body = tail
        .find(['{', ';'])
        .with_context(|| format!("`.entry {name}` has neither a body nor a `;`"))?;
    let directives = tail[..body]
        .lines()
        .map(normalise_ws)
        .filter(|d| !d.is_empty())
        .collect();
    let end = start + pos + body + 1;
    Ok((
        Entry {
            name,
            params,
            directives,
        },
        end,
    ))
}

fn parse_param(raw: &str) -> Result<Param> {
    let tokens: Vec<&str> = raw.split_whitespace().collect();
    match tokens.as_slice() {
        [".param", ty @ .., name] if !ty.is_empty() => Ok(Param {
            ty: ty.join(" "),
            name: (*name).to_owned(),
        }),
        _ => bail!("unexpected parameter declaration `{raw}` (want `.param TYPE NAME`)"),
    }
}

/// Finds `token` at or after `from` where it stands alone: not part of a
/// longer identifier such as `.entry_point` or `x.entry`.
fn find_token(text: &str, token: &str, from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(rel) = text[at..].find(token) {
        let idx = at + rel;
        let before_ok = text[..idx]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace());
        let after_ok = text[idx + token.len()..]
            .chars()
            .next()
            .is_some_and(char::is_whitespace);
        if before_ok && after_ok {
            return Some(idx);
        }
        at = idx + token.len();
    }
    None
}

/// PTX identifier characters (`[a-zA-Z0-9_$%]`; `%` only leads, but the
/// name has already been located, so accepting it anywhere is harmless).
fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '%')
}

fn normalise_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed from what nightly-2026-05-20 emits for two small kernels.
    const SAMPLE: &str = "//
// Generated by LLVM NVPTX Back-End
//

.version 7.0
.target sm_75
.address_size 64

\t// .globl\t_RNvCseulmdZsCeCG_7___rustc17rust_begin_unwind

.visible .func _RNvCseulmdZsCeCG_7___rustc17rust_begin_unwind(
\t.param .b64 _RNvCseulmdZsCeCG_7___rustc17rust_begin_unwind_param_0
)
.noreturn
{
$L__BB0_1:
\tbra.uni \t$L__BB0_1;
}
\t// .globl\tadd_one
.visible .entry add_one(
\t.param .u64 .ptr .align 1 add_one_param_0,
\t.param .u32 add_one_param_1
)
{
\tret;
}
\t// .globl\tscale
.visible .entry scale(
\t.param .align 4 .b8 scale_param_0[8],
\t.param .f64 scale_param_1
)
.maxntid 256, 1, 1
{
\tret;
}
";

    #[test]
    fn header_is_read() {
        let h = parse_header(SAMPLE).unwrap();
        assert_eq!(
            h,
            Header {
                version: "7.0".into(),
                target: "sm_75".into(),
                address_size: 64
            }
        );
        assert_eq!(h.version_number().unwrap(), (7, 0));
    }

    #[test]
    fn header_keeps_target_modifiers_and_rejects_missing_parts() {
        let h = parse_header(".version 8.5\n.target  sm_90a,  debug\n.address_size 64\n").unwrap();
        assert_eq!(h.target, "sm_90a, debug");
        assert_eq!(h.version_number().unwrap(), (8, 5));

        let err = parse_header(".version 7.0\n.address_size 64\n").unwrap_err();
        assert!(err.to_string().contains(".target"), "{err}");
        // A `.target` after the first function does not count as the header.
        let late = ".version 7.0\n.address_size 64\n.visible .func f()\n{\n}\n.target sm_75\n";
        assert!(parse_header(late).is_err());
        assert!(parse_header(".version seven\n.target sm_75\n.address_size 64\n").is_err());
    }

    #[test]
    fn entries_with_params_and_directives() {
        let entries = parse_entries(SAMPLE).unwrap();
        let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
        // The `.func` (panic handler) is not an entry.
        assert_eq!(names, ["add_one", "scale"]);
        assert_eq!(
            entries[0].params,
            [
                Param {
                    ty: ".u64 .ptr .align 1".into(),
                    name: "add_one_param_0".into()
                },
                Param {
                    ty: ".u32".into(),
                    name: "add_one_param_1".into()
                },
            ]
        );
        assert!(entries[0].directives.is_empty());
        assert_eq!(entries[1].params[0].ty, ".align 4 .b8");
        assert_eq!(entries[1].params[0].name, "scale_param_0[8]");
        assert_eq!(entries[1].directives, [".maxntid 256, 1, 1"]);
    }

    #[test]
    fn entry_without_params_and_declaration_only() {
        let ptx = ".visible .entry empty()\n{\n\tret;\n}\n.extern .entry decl(\n\t.param .u32 decl_param_0\n);\n";
        let entries = parse_entries(ptx).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].name, "empty");
        assert!(entries[0].params.is_empty());
        assert_eq!(entries[1].name, "decl");
        assert_eq!(entries[1].params.len(), 1);
    }

    #[test]
    fn commented_out_entries_and_lookalike_tokens_are_ignored() {
        let ptx =
            "// .visible .entry ghost(\n/* .entry ghost2( */\n.visible .func f_entry()\n{\n}\n";
        assert!(parse_entries(ptx).unwrap().is_empty());
    }

    #[test]
    fn duplicate_and_malformed_entries_are_errors() {
        let dup = ".entry a()\n{\n}\n.entry a()\n{\n}\n";
        assert!(parse_entries(dup).is_err());
        let bad_param = ".entry a(\n\t.reg .u32 x\n)\n{\n}\n";
        assert!(parse_entries(bad_param).is_err());
        let unclosed = ".entry a(\n\t.param .u32 x\n";
        assert!(parse_entries(unclosed).is_err());
    }

    #[test]
    fn comments_are_stripped_keeping_lines() {
        let s = "a // one\nb /* two\nthree */ c\n";
        assert_eq!(strip_comments(s), "a \nb \n c\n");
        assert_eq!(strip_comments("x /* open"), "x ");
        assert_eq!(strip_comments("y // end"), "y ");
    }
}
