//! The frame's `.npz` as a zip archive of `.npy` members, each checked against the
//! sizes the archive itself can vouch for **before anything is allocated**.
//!
//! A `.npy` header declares a shape; a reader that trusts it allocates
//! `product(shape) × itemsize` bytes and only then finds the data missing, so a
//! 1 KB archive declaring `(1, 5, 2**19, 2**19) <f4` asks for 5.5 TB and aborts the
//! process. Here, in order, and each failure a one-line error naming the array:
//!
//! 1. the member's uncompressed size (from the zip directory) must be one that its
//!    compressed bytes can produce: equal for a stored member, at most
//!    [`MAX_DEFLATE_RATIO`]× for a deflated one, and the compressed bytes must fit in
//!    the file; so every size below is bounded by about 1000× the file's length;
//! 2. the header's length is at most [`MAX_HEADER_LEN`] and fits in the member;
//! 3. the shape times the item size equals the bytes after the header, exactly.
//!
//! Only then is the data read, through a reader limited to that many bytes, by
//! ndarray-npy's element decoders (endianness, Fortran order). ndarray-npy's own
//! header parser is private to that crate and checks none of this, so the header
//! (magic, version, length, Python-literal dictionary via `py_literal`) is read here.

use std::fs::File;
#[cfg(test)]
use std::io::Cursor;
use std::io::{BufReader, Read, Seek};

use anyhow::{anyhow, bail, Context, Result};
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use ndarray_npy::{ReadDataError, ReadableElement};
use py_literal::Value as PyValue;
use zip::read::ZipFile;
use zip::{CompressionMethod, ZipArchive};

/// Deflate's largest expansion: one 258-byte match per two bits of output
/// (RFC 1951), i.e. 1032:1; a member claiming more was not written by a deflater.
pub const MAX_DEFLATE_RATIO: u64 = 1032;
/// Longest `.npy` header accepted, in bytes; numpy's own reader refuses headers
/// over 10,000 bytes unless told otherwise (`max_header_size`).
pub const MAX_HEADER_LEN: u64 = 1 << 16;
/// Bytes a deflate stream may yield beyond [`MAX_DEFLATE_RATIO`] × its length
/// (block headers of a tiny stream); generous, and still a bound.
const DEFLATE_SLACK: u64 = 1 << 12;

/// An opened `.npz` archive.
pub struct Archive<R> {
    zip: ZipArchive<R>,
    /// Length of the whole archive, which bounds every member's compressed size.
    len: u64,
}

impl<R: Read + Seek> std::fmt::Debug for Archive<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("members", &self.zip.len())
            .field("len", &self.len)
            .finish()
    }
}

/// A member's `.npy` header.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyHeader {
    /// The `descr` value, e.g. `'<f4'` (kept as the literal for ndarray-npy).
    pub descr: PyValue,
    /// Column-major data.
    pub fortran_order: bool,
    /// The declared shape.
    pub shape: Vec<usize>,
}

impl NpyHeader {
    /// The descriptor string, if it is one (`'<f4'`).
    pub fn descr_str(&self) -> Option<&str> {
        match &self.descr {
            PyValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The type code without its byte order, e.g. `f4` for `'<f4'`.
    pub fn type_code(&self) -> Option<&str> {
        self.descr_str()
            .map(|s| s.trim_start_matches(['<', '>', '|', '=']))
    }
}

/// One member, its header read and every size checked; [`Member::read`] decodes it.
pub struct Member<'a, R: Read> {
    /// The header.
    pub header: NpyHeader,
    /// The array's name (for messages).
    name: String,
    /// Bytes of data after the header.
    data_len: u64,
    /// Whether `data_len` was checked against the shape (the dtype has an item size).
    sized: bool,
    file: ZipFile<'a, R>,
}

impl<R: Read> std::fmt::Debug for Member<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("name", &self.name)
            .field("header", &self.header)
            .field("data_len", &self.data_len)
            .finish()
    }
}

impl Archive<BufReader<File>> {
    /// Opens the archive at `path` (errors say the file is not a readable archive).
    pub fn open(path: &std::path::Path) -> Result<Self> {
        let file = File::open(path).context("cannot open the frame")?;
        let len = file
            .metadata()
            .context("cannot read the frame's size")?
            .len();
        Self::new(BufReader::new(file), len)
    }
}

impl<R: Read + Seek> Archive<R> {
    /// Reads the zip directory of `reader`, an archive of `len` bytes.
    pub fn new(reader: R, len: u64) -> Result<Self> {
        let zip = ZipArchive::new(reader)
            .map_err(|z| anyhow!("not a readable .npz archive (truncated or corrupt?): {z}"))?;
        Ok(Self { zip, len })
    }

    /// The arrays' names: member names without their `.npy` suffix, as numpy lists them.
    pub fn names(&self) -> Vec<String> {
        self.zip
            .file_names()
            .map(|n| n.strip_suffix(".npy").unwrap_or(n).to_string())
            .collect()
    }

    /// The member holding array `name` (`name`, else `name.npy`, numpy's lookup), its
    /// sizes and header checked (module header, steps 1–3).
    pub fn member(&mut self, name: &str) -> Result<Member<'_, R>> {
        let index = self
            .zip
            .index_for_name(name)
            .or_else(|| self.zip.index_for_name(&format!("{name}.npy")))
            .ok_or_else(|| anyhow!("array \"{name}\" is missing"))?;
        let file = self
            .zip
            .by_index(index)
            .map_err(|e| anyhow!("array \"{name}\": cannot be read from the archive: {e}"))?;
        member(file, name, self.len).with_context(|| format!("array \"{name}\""))
    }
}

fn member<'a, R: Read>(
    mut file: ZipFile<'a, R>,
    name: &str,
    archive_len: u64,
) -> Result<Member<'a, R>> {
    let (size, packed) = (file.size(), file.compressed_size());
    if packed > archive_len {
        bail!("the archive's directory says {packed} compressed bytes, but the whole file has {archive_len} (truncated or forged?)");
    }
    match file.compression() {
        CompressionMethod::Stored if size != packed => bail!(
            "stored uncompressed, yet the archive's directory says {size} bytes of content in {packed} stored bytes (corrupt?)"
        ),
        CompressionMethod::Stored => {}
        CompressionMethod::Deflated => {
            let most = packed
                .saturating_mul(MAX_DEFLATE_RATIO)
                .saturating_add(DEFLATE_SLACK);
            if size > most {
                bail!(
                    "the archive's directory says {size} uncompressed bytes for {packed} deflated bytes, \
                     more than deflate can produce ({MAX_DEFLATE_RATIO}:1; corrupt or forged?)"
                );
            }
        }
        other => bail!(
            "compression method {other} is not supported (numpy writes stored or deflated members)"
        ),
    }
    let (header, header_len) = read_header(&mut file, size)?;
    let data_len = size - header_len;
    // A dtype without a fixed item size ('O') is decoded by none of our element
    // types: `read` refuses it without reading, and the caller names the dtype.
    let Some(declared) = declared_bytes(&header) else {
        return Ok(Member {
            header,
            name: name.to_string(),
            data_len,
            sized: false,
            file,
        });
    };
    if declared != u128::from(data_len) {
        let shape = shape_text(&header.shape);
        let dtype = header.descr_str().unwrap_or("?");
        if declared > u128::from(data_len) {
            bail!(
                "its header declares shape {shape} of '{dtype}' ({declared} bytes of data), but the member \
                 holds {data_len} bytes after the header (truncated, or a forged shape?)"
            );
        }
        bail!(
            "{} bytes beyond the shape its header declares ({shape} of '{dtype}', {declared} bytes)",
            u128::from(data_len) - declared
        );
    }
    Ok(Member {
        header,
        name: name.to_string(),
        data_len,
        sized: true,
        file,
    })
}

/// Why [`Member::read`] failed: the dtype is not `T`'s (kept apart so the caller
/// can name what it expected), or anything else.
#[derive(Debug)]
pub enum ReadError {
    /// The member's `descr`, which `T` does not decode.
    Dtype(PyValue),
    /// Truncated or corrupt data, with the array's name.
    Other(anyhow::Error),
}

impl<R: Read> Member<'_, R> {
    /// Decodes the data as `T` (ndarray-npy's decoders check `descr` against `T`),
    /// reading at most the data length checked against the shape.
    pub fn read<T: ReadableElement>(mut self) -> Result<ArrayD<T>, ReadError> {
        let name = self.name.clone();
        let other = |what: String| ReadError::Other(anyhow!("array \"{name}\": {what}"));
        if !self.sized {
            return Err(ReadError::Dtype(self.header.descr));
        }
        // Checked in `member`: the shape's bytes equal `data_len`, so this fits.
        let len = self.header.shape.iter().product::<usize>();
        let mut limited = (&mut self.file).take(self.data_len);
        let data = T::read_to_end_exact_vec(&mut limited, &self.header.descr, len).map_err(
            |e| match e {
                ReadDataError::WrongDescriptor(d) => ReadError::Dtype(d),
                ReadDataError::MissingData => {
                    other("the data ends before the shape its header declares (truncated?)".into())
                }
                e => other(format!("cannot be read: {e}")),
            },
        )?;
        // Reading on to the member's end makes the zip reader check its CRC-32;
        // a deflate stream longer than the directory says is corrupt.
        let mut probe = [0u8; 1];
        match self.file.read(&mut probe) {
            Ok(0) => {}
            Ok(_) => {
                return Err(other(
                    "the member holds more data than the archive's directory says (corrupt?)"
                        .into(),
                ))
            }
            Err(e) => return Err(other(format!("cannot be read: {e}"))),
        }
        let shape = IxDyn(&self.header.shape).set_f(self.header.fortran_order);
        ArrayD::from_shape_vec(shape, data)
            .map_err(|e| other(format!("the data does not fit its shape: {e}")))
    }
}

/// `B×Q×C`-style text of a shape.
pub fn shape_text(shape: &[usize]) -> String {
    if shape.is_empty() {
        return "a scalar".into();
    }
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("×")
}

/// Item size of a numpy type code (`f4` → 4); `None` for what numpy sizes otherwise.
fn item_size(code: &str) -> Option<u64> {
    let (kind, digits) = code.split_at(code.find(|c: char| c.is_ascii_digit())?);
    let n: u64 = digits.parse().ok()?;
    match kind {
        "f" | "i" | "u" | "b" | "c" | "V" | "S" | "m" | "M" => Some(n),
        "U" => n.checked_mul(4),
        _ => None,
    }
}

/// `product(shape) × itemsize` (saturating in u128: no declared shape overflows it
/// silently), or `None` when the dtype has no fixed item size.
fn declared_bytes(h: &NpyHeader) -> Option<u128> {
    let size = item_size(h.type_code()?)?;
    Some(
        h.shape
            .iter()
            .try_fold(u128::from(size), |acc, &d| acc.checked_mul(d as u128))
            .unwrap_or(u128::MAX),
    )
}

/// Reads the `.npy` header from the start of a member of `size` bytes; returns it
/// and its length in bytes (preamble included).
pub fn read_header(r: &mut impl Read, size: u64) -> Result<(NpyHeader, u64)> {
    let mut preamble = [0u8; 8];
    read_fully(r, &mut preamble, "its .npy magic and version")?;
    if &preamble[..6] != b"\x93NUMPY" {
        bail!("not a .npy array (the member does not start with the .npy magic \\x93NUMPY)");
    }
    let (major, minor) = (preamble[6], preamble[7]);
    let header_len = match major {
        1 => {
            let mut b = [0u8; 2];
            read_fully(r, &mut b, "its header length")?;
            u64::from(u16::from_le_bytes(b))
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            read_fully(r, &mut b, "its header length")?;
            u64::from(u32::from_le_bytes(b))
        }
        _ => bail!(".npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)"),
    };
    let start = if major == 1 { 10 } else { 12 };
    if header_len > MAX_HEADER_LEN {
        bail!(
            "its .npy header declares {header_len} bytes, more than the {MAX_HEADER_LEN} accepted"
        );
    }
    if start + header_len > size {
        bail!(
            "its .npy header declares {header_len} bytes, but the member has {} after the preamble (truncated?)",
            size.saturating_sub(start)
        );
    }
    let mut text = vec![0u8; header_len as usize];
    read_fully(r, &mut text, "its header")?;
    let text = std::str::from_utf8(&text)
        .ok()
        .filter(|t| major == 3 || t.is_ascii())
        .ok_or_else(|| anyhow!("its .npy header is not text"))?;
    let dict = text
        .strip_suffix('\n')
        .ok_or_else(|| anyhow!("its .npy header does not end with a newline"))?;
    let value: PyValue = dict
        .parse()
        .map_err(|e| anyhow!("its .npy header is not a Python literal: {e}"))?;
    Ok((header_fields(value)?, start + header_len))
}

fn read_fully(r: &mut impl Read, buf: &mut [u8], what: &str) -> Result<()> {
    r.read_exact(buf)
        .with_context(|| format!("the member ends before {what} (truncated?)"))
}

/// The three keys of the header dictionary.
fn header_fields(value: PyValue) -> Result<NpyHeader> {
    let PyValue::Dict(items) = value else {
        bail!("its .npy header is not a dictionary: {value}");
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, v) in items {
        match key {
            PyValue::String(k) if k == "descr" => descr = Some(v),
            PyValue::String(k) if k == "fortran_order" => match v {
                PyValue::Boolean(b) => fortran = Some(b),
                other => bail!("its .npy header's fortran_order is not True or False: {other}"),
            },
            PyValue::String(k) if k == "shape" => shape = Some(shape_of(v)?),
            other => bail!("its .npy header has an unexpected key {other}"),
        }
    }
    let missing = |k: &str| anyhow!("its .npy header has no '{k}'");
    Ok(NpyHeader {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

fn shape_of(v: PyValue) -> Result<Vec<usize>> {
    let PyValue::Tuple(dims) = v else {
        bail!("its .npy header's shape is not a tuple: {v}");
    };
    dims.into_iter()
        .map(|d| match d {
            PyValue::Integer(n) => usize::try_from(&n).map_err(|_| {
                anyhow!("its .npy header's shape has a dimension {n} that is not a size")
            }),
            other => {
                bail!("its .npy header's shape has a dimension that is not an integer: {other}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_memory(bytes: Vec<u8>) -> Result<Archive<Cursor<Vec<u8>>>> {
        let len = bytes.len() as u64;
        Archive::new(Cursor::new(bytes), len)
    }

    /// A `.npy` member: header declaring `shape` of `descr`, then `data`.
    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        let unpadded = 10 + h.len() + 1;
        h.push_str(&" ".repeat((64 - unpadded % 64) % 64));
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((h.len() as u16).to_le_bytes());
        out.extend(h.as_bytes());
        out.extend(data);
        out
    }

    fn zip_of(members: &[(&str, Vec<u8>, bool)]) -> Vec<u8> {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes, deflate) in members {
            let method = if *deflate {
                CompressionMethod::Deflated
            } else {
                CompressionMethod::Stored
            };
            let o = zip::write::SimpleFileOptions::default().compression_method(method);
            z.start_file(*name, o).unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    fn error_of(bytes: Vec<u8>, name: &str) -> String {
        let mut a = in_memory(bytes).unwrap();
        format!("{:#}", a.member(name).unwrap_err())
    }

    #[test]
    fn an_exact_member_reads_back() {
        let data: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        for deflate in [false, true] {
            let bytes = zip_of(&[("x.npy", npy("<f4", "(2, 3)", &data), deflate)]);
            let mut a = in_memory(bytes).unwrap();
            assert_eq!(a.names(), ["x"]);
            let m = a.member("x").unwrap();
            assert_eq!(m.header.shape, [2, 3]);
            let arr = m.read::<f32>().unwrap();
            assert_eq!(arr.shape(), [2, 3]);
            assert_eq!(arr[[1, 2]], 6.0);
        }
    }

    /// Issue #14: a header declaring terabytes over a few bytes of data is refused
    /// from the sizes alone; before, the reader allocated the declared size and the
    /// process aborted ("memory allocation of … bytes failed").
    #[test]
    fn huge_declared_shapes_are_refused_before_any_allocation() {
        for (shape, deflate) in [
            ("(1, 5, 524288, 524288)", false),
            ("(1, 5, 524288, 524288)", true),
            ("(1, 5, 1099511627776)", true),
            ("(18446744073709551615, 18446744073709551615)", false),
        ] {
            let e = error_of(
                zip_of(&[("masks.npy", npy("<f4", shape, &[0; 16]), deflate)]),
                "masks",
            );
            assert!(
                e.starts_with("array \"masks\": its header declares shape"),
                "{e}"
            );
            assert!(e.contains("holds 16 bytes after the header"), "{e}");
        }
        let e = error_of(
            zip_of(&[("a.npy", npy("<f4", "(3,)", &[0; 16]), false)]),
            "a",
        );
        assert!(
            e.contains("4 bytes beyond the shape its header declares"),
            "{e}"
        );
    }

    #[test]
    fn header_lengths_beyond_the_member_or_the_limit_are_refused() {
        let mut m = npy("<f4", "(1,)", &[0; 4]);
        m[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
        let e = error_of(zip_of(&[("a.npy", m, false)]), "a");
        assert!(
            e.contains("header declares 65535 bytes, but the member has"),
            "{e}"
        );
        let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
        v2.extend(u32::MAX.to_le_bytes());
        let e = error_of(zip_of(&[("a.npy", v2, false)]), "a");
        assert!(e.contains("more than the 65536 accepted"), "{e}");
        let e = error_of(zip_of(&[("a.npy", b"\x93NUMPY\x01".to_vec(), false)]), "a");
        assert!(e.contains("ends before its .npy magic and version"), "{e}");
        let e = error_of(
            zip_of(&[("a.npy", b"PK\x03\x04 not npy".to_vec(), false)]),
            "a",
        );
        assert!(e.contains("not a .npy array"), "{e}");
    }

    /// A zip directory whose uncompressed size the compressed bytes cannot produce.
    #[test]
    fn forged_directory_sizes_are_refused() {
        let member = npy("<f4", "(4,)", &[0; 16]);
        let mut bytes = zip_of(&[("a.npy", member.clone(), false)]);
        // Rewrite the uncompressed size (central directory entry, offset 24) to 2^31.
        let cd = bytes
            .windows(4)
            .rposition(|w| w == b"PK\x01\x02")
            .expect("a central directory entry");
        bytes[cd + 24..cd + 28].copy_from_slice(&(1u32 << 31).to_le_bytes());
        let e = error_of(bytes, "a");
        assert!(
            e.contains("stored uncompressed, yet the archive's directory says 2147483648"),
            "{e}"
        );

        let mut bytes = zip_of(&[("a.npy", member, true)]);
        let cd = bytes.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
        bytes[cd + 24..cd + 28].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = error_of(bytes, "a");
        assert!(e.contains("more than deflate can produce"), "{e}");
    }

    #[test]
    fn item_sizes_follow_numpy() {
        assert_eq!(item_size("f4"), Some(4));
        assert_eq!(item_size("u2"), Some(2));
        assert_eq!(item_size("U3"), Some(12));
        assert_eq!(item_size("O"), None);
        assert_eq!(item_size(""), None);
    }
}
