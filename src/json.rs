//! JSON documents, read and written: the one parse of a success answer's body, and the bounds
//! every document keeps both ways. A document within them converts to Python values without
//! meeting a limit of Python's (recursion, the integer-text limit), and whatever the client reads
//! it can write back.

use std::fmt;
use std::str::FromStr;

use serde_json::{Number, Value};

/// The deepest nesting of lists and objects a document may have (`{}` is one level). Far beyond
/// what the services define (an offer definition nests under 15 levels), and below serde_json's
/// own limit (128), so this bound, not a parser's, is what refuses a deeper one.
pub const MAX_DEPTH: usize = 100;

/// The most digits an integer may have (far beyond 2^64, which `arbitrary_precision` keeps exact):
/// 640 is Python's `sys.int_info.str_digits_check_threshold`, the lowest limit
/// `sys.set_int_max_str_digits` accepts, so an integer within it converts under any setting.
pub const MAX_INTEGER_DIGITS: usize = 640;

/// Why a document is refused: not JSON, or JSON beyond the bounds (`Fault`).
#[derive(Debug)]
pub enum Unreadable {
    Syntax(serde_json::Error),
    Fault(Fault),
}

/// Reads after the name of what was parsed: "the answer is not JSON (...)", "the job has an
/// integer longer than 640 digits at $.n".
impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(e) => write!(f, "is not JSON ({e})"),
            Self::Fault(fault) => fault.fmt(f),
        }
    }
}

/// Something a document holds that the client neither reads nor writes, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    what: String,
    at: At,
}

#[derive(Debug, Clone, PartialEq)]
enum At {
    /// The steps from the document's root, innermost first (pushed as the walk unwinds).
    Path(Vec<Step>),
    /// A byte offset, where no path was built (a nesting found before parsing).
    Byte(usize),
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

impl Fault {
    /// `what` (worded to follow "has") at the root; the walk adds the steps to it on its way out.
    #[cold]
    pub fn new(what: impl Into<String>) -> Self {
        Self { what: what.into(), at: At::Path(Vec::new()) }
    }

    #[cold]
    pub fn too_deep() -> Self {
        Self::new(format!("a list or object nested deeper than {MAX_DEPTH} levels"))
    }

    #[cold]
    pub fn long_integer() -> Self {
        Self::new(format!("an integer longer than {MAX_INTEGER_DIGITS} digits"))
    }

    /// The fault as found inside the member `key` of an object.
    #[must_use]
    pub fn in_key(mut self, key: &str) -> Self {
        if let At::Path(steps) = &mut self.at {
            steps.push(Step::Key(key.to_owned()));
        }
        self
    }

    /// The fault as found inside item `index` of a list.
    #[must_use]
    pub fn in_item(mut self, index: usize) -> Self {
        if let At::Path(steps) = &mut self.at {
            steps.push(Step::Index(index));
        }
        self
    }
}

/// "has NaN (not valid JSON) at $.plans[0].x": a path as JSONPath writes it.
impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "has {} at ", self.what)?;
        let steps = match &self.at {
            At::Byte(offset) => return write!(f, "byte {offset}"),
            At::Path(steps) => steps,
        };
        f.write_str("$")?;
        for step in steps.iter().rev() {
            match step {
                Step::Index(index) => write!(f, "[{index}]")?,
                Step::Key(key) if is_plain_name(key) => write!(f, ".{key}")?,
                Step::Key(key) => write!(f, "[{}]", Value::String(key.clone()))?,
            }
        }
        Ok(())
    }
}

fn is_plain_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-'))
}

/// A success answer's body as JSON, within the bounds. The nesting is measured before parsing,
/// so no parser meets a depth of its own.
pub fn parse(body: &[u8]) -> Result<Value, Unreadable> {
    if let Some(offset) = too_deep_at(body) {
        let mut fault = Fault::too_deep();
        fault.at = At::Byte(offset);
        return Err(Unreadable::Fault(fault));
    }
    let value = serde_json::from_slice(body).map_err(Unreadable::Syntax)?;
    check(&value).map_err(Unreadable::Fault)?;
    Ok(value)
}

/// The offset of the first `[` or `{` deeper than `MAX_DEPTH` (outside strings), if any: one
/// pass, no allocation.
fn too_deep_at(body: &[u8]) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (offset, &byte) in body.iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(offset);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Whether `value` keeps the bounds (a document to send, or one just parsed).
pub fn check(value: &Value) -> Result<(), Fault> {
    check_at(value, 1)
}

fn check_at(value: &Value, depth: usize) -> Result<(), Fault> {
    match value {
        Value::Number(n) => integer_digits_ok(n.as_str()),
        Value::Array(_) | Value::Object(_) if depth > MAX_DEPTH => Err(Fault::too_deep()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(index, item)| check_at(item, depth + 1).map_err(|f| f.in_item(index))),
        Value::Object(map) => {
            map.iter().try_for_each(|(key, item)| check_at(item, depth + 1).map_err(|f| f.in_key(key)))
        }
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

/// A number's text (as sent, `arbitrary_precision`) is fine unless it is an integer of too many
/// digits: a fraction or exponent makes it a float, which has no such limit.
fn integer_digits_ok(text: &str) -> Result<(), Fault> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.len() > MAX_INTEGER_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Fault::long_integer());
    }
    Ok(())
}

/// An integer from its decimal text (`-?[0-9]+`, as Python writes one), kept exact.
pub fn integer(text: &str) -> Result<Number, Fault> {
    integer_digits_ok(text)?;
    Number::from_str(text).map_err(|_| Fault::new(format!("an integer written as {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn nesting_up_to_the_bound_is_read_and_one_level_more_is_refused_by_offset() {
        assert!(parse(nested(MAX_DEPTH).as_bytes()).is_ok());
        let err = parse(nested(MAX_DEPTH + 1).as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("has a list or object nested deeper than {MAX_DEPTH} levels at byte {MAX_DEPTH}")
        );
        // Far deeper than any parser's own limit: still this bound's refusal, not a parser's.
        assert!(matches!(parse(nested(100_000).as_bytes()), Err(Unreadable::Fault(_))));
    }

    #[test]
    fn brackets_inside_strings_are_not_nesting() {
        let text = format!(r#"{{"a": "{}", "b": "\"[[["}}"#, "[{".repeat(500));
        assert!(parse(text.as_bytes()).is_ok());
    }

    #[test]
    fn integers_beyond_64_bits_stay_exact_up_to_the_digit_bound() {
        let most = format!(r#"{{"n": -{}}}"#, "9".repeat(MAX_INTEGER_DIGITS));
        let value = parse(most.as_bytes()).unwrap();
        assert_eq!(value["n"].to_string().len(), MAX_INTEGER_DIGITS + 1);
        let big = parse(b"[18446744073709551617]").unwrap();
        assert_eq!(big.to_string(), "[18446744073709551617]");
    }

    #[test]
    fn a_longer_integer_is_refused_with_its_path_and_a_long_float_is_not() {
        let long = format!(r#"{{"plans": [{{"x y": {{"n": {}}}}}]}}"#, "1".repeat(MAX_INTEGER_DIGITS + 1));
        let err = parse(long.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(r#"has an integer longer than {MAX_INTEGER_DIGITS} digits at $.plans[0]["x y"].n"#)
        );
        let float = format!("[0.{}, 1{}e-5000]", "1".repeat(5000), "0".repeat(5000));
        assert!(parse(float.as_bytes()).is_ok());
    }

    #[test]
    fn a_document_built_in_rust_is_checked_by_the_same_walk() {
        let mut deep = Value::from(1);
        for _ in 0..MAX_DEPTH {
            deep = Value::Array(vec![deep]);
        }
        assert_eq!(check(&deep), Ok(()));
        let deeper = serde_json::json!({"a": [deep]});
        let err = check(&deeper).unwrap_err();
        assert!(err.to_string().ends_with(&format!("at $.a[0]{}", "[0]".repeat(MAX_DEPTH - 2))), "{err}");
    }

    #[test]
    fn integers_from_text_keep_every_digit_within_the_bound() {
        let text = format!("-{}", "7".repeat(MAX_INTEGER_DIGITS));
        assert_eq!(integer(&text).unwrap().as_str(), text);
        assert_eq!(integer(&"7".repeat(MAX_INTEGER_DIGITS + 1)), Err(Fault::long_integer()));
        assert!(integer("1.5x").is_err());
    }

    #[test]
    fn syntax_errors_say_not_json() {
        let err = parse(b"{\"a\": ").unwrap_err();
        assert!(err.to_string().starts_with("is not JSON ("), "{err}");
    }
}
