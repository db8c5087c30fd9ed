//! What the JSON parser's own messages leave out, for the files users write:
//!
//! - JSON has no NaN or Infinity, but Python's `json.dump` writes them (unless
//!   `allow_nan=False`), and serde_json then says only "expected value at line 3
//!   column 18": [`hint`] adds why.
//! - serde reads a JSON list in place of an object by position, and when the
//!   lengths differ it says "invalid length 0, expected struct Sidecar with 6
//!   elements", naming a Rust type: [`list_for_object`] says which field should
//!   have been an object.

use serde_json::Value;

/// A hint for a syntax error at a token JSON cannot hold (`NaN`, `Infinity`,
/// `-Infinity`, as Python writes them), else `None`.
pub fn hint(text: &str, e: &serde_json::Error) -> Option<&'static str> {
    if !e.is_syntax() || e.line() == 0 {
        return None;
    }
    // Bytes, not chars: the column is a byte count and may fall inside a
    // multi-byte character of a hostile file (the fuzzer found that).
    let line = text.lines().nth(e.line() - 1)?.as_bytes();
    // serde_json's column is 1-based and points at or just past the start of the
    // token it could not read: widen to the run of letters and '-' around it.
    let word = |b: &u8| b.is_ascii_alphabetic() || *b == b'-';
    let at = e.column().saturating_sub(1).min(line.len());
    let start = line[..at]
        .iter()
        .rposition(|b| !word(b))
        .map_or(0, |i| i + 1);
    let len = line[start..].iter().take_while(|b| word(b)).count();
    let token = line[start..start + len].to_ascii_lowercase();
    let token = token.strip_prefix(b"-").unwrap_or(&token);
    (token.starts_with(b"nan") || token.starts_with(b"inf")).then_some(
        "JSON has no NaN or Infinity (Python's json.dump writes them unless allow_nan=False); \
         write a finite number",
    )
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The first place in a sidecar's JSON where an object is required and something
/// else stands, as `(json path, message)`; `None` when the text is no valid JSON
/// (the typed parser reports that) or every object is one.
pub fn list_for_object(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    let Value::Object(top) = &v else {
        return Some(format!(
            "expected a JSON object (the sidecar: {{\"images\": [...], ...}}, docs/FRAME_FORMAT.md §2), got {}",
            kind(&v)
        ));
    };
    if let Some(o) = top.get("options").filter(|o| !o.is_object()) {
        return Some(format!(
            "options: expected a JSON object (option defaults, docs/FRAME_FORMAT.md §2.2), got {}",
            kind(o)
        ));
    }
    if let Some(Value::Array(images)) = top.get("images") {
        if let Some((i, im)) = images.iter().enumerate().find(|(_, im)| !im.is_object()) {
            return Some(format!(
                "images[{i}]: expected a JSON object (one image's metadata, docs/FRAME_FORMAT.md §2.1), got {}",
                kind(im)
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax_error(text: &str) -> serde_json::Error {
        serde_json::from_str::<Value>(text).unwrap_err()
    }

    #[test]
    fn python_non_finite_numbers_get_a_hint() {
        for text in [
            "{\"a\": NaN}",
            "[0.5,\n  Infinity]",
            "[-Infinity]",
            "{\"scale_width\": nan}",
        ] {
            assert!(hint(text, &syntax_error(text)).is_some(), "{text}");
        }
        for text in ["{\"a\": 1,, }", "[0.5, \"x]", "[tru]"] {
            assert_eq!(hint(text, &syntax_error(text)), None, "{text}");
        }
        // Found by the frame_reader fuzz target: an error column inside a multi-byte
        // character once sliced a &str off its char boundary (a panic).
        // (`"҉` then a control character: the error's column is just past `҉`, whose
        // start the old code stepped one byte beyond.)
        for text in ["\"\u{489}\0", "[\"\u{489}\0", "\"8\u{489}\0\0"] {
            assert_eq!(hint(text, &syntax_error(text)), None, "{text:?}");
        }
        let text = "{\"\u{489}\": NaN\u{489}}";
        assert!(hint(text, &syntax_error(text)).is_some());
    }

    #[test]
    fn a_list_where_an_object_belongs_is_named() {
        assert!(list_for_object("[]")
            .unwrap()
            .starts_with("expected a JSON object (the sidecar"));
        assert!(list_for_object("5").unwrap().ends_with("got a number"));
        assert_eq!(
            list_for_object("{\"images\": [{}, []]}").unwrap(),
            "images[1]: expected a JSON object (one image's metadata, docs/FRAME_FORMAT.md §2.1), got a list"
        );
        assert!(list_for_object("{\"options\": [0.5]}")
            .unwrap()
            .starts_with("options: expected a JSON object"));
        assert_eq!(list_for_object("{\"images\": [{}]}"), None);
        assert_eq!(list_for_object("{bad"), None);
    }
}
