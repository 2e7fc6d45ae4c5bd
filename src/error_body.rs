//! An error answer's body, whatever its shape, as a `code` and a one-line `message`: the one
//! mapping both services' failures, and the errors inside an ingestion job, go through.
//!
//! Shapes seen (tests/reference and tests/reference/observed): the documented envelope
//! `{"error": {"code", "message"}}`; `{"error": "text"}`; top-level `code`/`message` in any case;
//! the Partner Center shim's wrapper, keyed by an internal service name
//! (`{"Product": {"serviceName", "error": "<.NET exception>: <message>\r\n   at …", "exceptionCode",
//! "httpStatusCode"}}`); a bare JSON string, which may itself hold JSON; JSON cut short; plain
//! text; HTML; nothing at all.

use serde_json::{Map, Value};

/// The longest message kept for an exception's text.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// How deep a body's JSON is unwrapped (a string holding JSON holding a string…).
const MAX_DEPTH: usize = 3;

/// `(code, message)` of an error body; both `None` for an empty one.
pub fn fields(body: &str) -> (Option<String>, Option<String>) {
    from_text(body, 0)
}

fn from_text(body: &str, depth: usize) -> (Option<String>, Option<String>) {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return (None, None);
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(value) => from_json(&value, depth),
        Err(_) if looks_like_html(trimmed) => (None, html_message(trimmed)),
        Err(_) if trimmed.starts_with('{') => match cut_json_field(trimmed) {
            Some(text) => (exception_code(&text), Some(message(&text))),
            None => (None, Some(excerpt(trimmed))),
        },
        Err(_) => (exception_code(trimmed), Some(text_message(trimmed))),
    }
}

fn from_json(value: &Value, depth: usize) -> (Option<String>, Option<String>) {
    match value {
        Value::Object(map) => from_object(map),
        // A string body: the text itself, or JSON written as a string.
        Value::String(text) if depth < MAX_DEPTH => match from_text(text, depth + 1) {
            (None, None) => (None, None),
            (code, message) => (code.or_else(|| exception_code(text)), message),
        },
        Value::String(text) => (None, Some(message(text))),
        Value::Null => (None, None),
        other => (None, Some(excerpt(&other.to_string()))),
    }
}

fn from_object(map: &Map<String, Value>) -> (Option<String>, Option<String>) {
    match get(map, "error") {
        Some(Value::Object(inner)) => return from_object(inner),
        Some(Value::String(text)) => {
            let code = code_field(map, &["exceptionCode", "code"]).or_else(|| exception_code(text));
            return (code, Some(message(text)));
        }
        _ => {}
    }
    let code = code_field(map, &["code", "exceptionCode"]);
    let message = raw_field(map, &["message", "error_description", "detail", "title"]).map(|m| message(&m));
    if code.is_some() || message.is_some() {
        return (code, message);
    }
    // The shim's wrapper: one key (the service's name) holding the error object.
    if let Some(inner) = map.values().find_map(|v| v.as_object().filter(|o| get(o, "error").is_some())) {
        return from_object(inner);
    }
    (None, Some(excerpt(&Value::Object(map.clone()).to_string())))
}

/// A key in any letter case.
fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The first of `keys` that holds text (or a number), as sent.
fn raw_field(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| match get(map, key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        v @ Value::Number(_) => Some(v.to_string()),
        _ => None,
    })
}

/// A code: one short line.
fn code_field(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    raw_field(map, keys).map(|code| excerpt(&code))
}

/// An error string's one line a person reads: its first non-empty line, without a .NET
/// exception's type prefix (`Microsoft.Ingestion.Api.Common.Exceptions.Http404Exception: `),
/// folded and capped.
pub fn message(text: &str) -> String {
    let first = text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or_default();
    excerpt(without_exception_type(first))
}

/// A plain-text body's message: its lines up to a stack trace's first frame, folded into one
/// and capped, without an exception's type prefix.
fn text_message(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("at ") && !line.starts_with("--- End of"))
        .collect();
    excerpt(without_exception_type(&lines.join(" ")))
}

fn without_exception_type(line: &str) -> &str {
    match line.split_once(": ") {
        Some((prefix, rest)) if is_exception_type(prefix) && !rest.trim().is_empty() => rest,
        _ => line,
    }
}

/// `Http404Exception` of a text that starts with an exception's type (`A.B.Http404Exception: …`,
/// or the type alone, as some bodies are).
fn exception_code(text: &str) -> Option<String> {
    let first = text.trim_start().split([':', '\r', '\n', ' ']).next()?.trim_end_matches('.');
    is_exception_type(first).then(|| first.rsplit('.').next().unwrap_or(first).to_owned())
}

/// A dotted identifier whose last part ends in `Exception`.
fn is_exception_type(text: &str) -> bool {
    text.ends_with("Exception")
        && text.split('.').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text.chars().take(200).collect::<String>().to_ascii_lowercase();
    head.starts_with('<')
        && (head.contains("<html")
            || head.contains("<!doctype")
            || head.contains("<title")
            || head.contains("<h1"))
}

/// An HTML page's `<title>`, else its first `<h1>`, else its text.
fn html_message(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let inside = |tag: &str| {
        let open = lower.find(&format!("<{tag}"))?;
        let start = open + lower.get(open..)?.find('>')? + 1;
        let end = start + lower.get(start..)?.find(&format!("</{tag}"))?;
        html.get(start..end)
    };
    let text = inside("title").or_else(|| inside("h1")).map_or_else(|| strip_tags(html), strip_tags);
    let text = excerpt(&text);
    (!text.is_empty()).then_some(text)
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// From JSON cut short (a quoted or truncated body): the start of its `message` or `error`
/// string, decoded as far as it goes.
fn cut_json_field(text: &str) -> Option<String> {
    ["\"message\"", "\"Message\"", "\"error\""].iter().find_map(|key| {
        let after = text.get(text.find(key)? + key.len()..)?.trim_start().strip_prefix(':')?.trim_start();
        let body = after.strip_prefix('"')?;
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => break,
                },
                other => out.push(other),
            }
        }
        (!out.trim().is_empty()).then_some(out)
    })
}

/// Whitespace folded and the length capped, so an exception's text stays one short line.
pub fn excerpt(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= MAX_MESSAGE_CHARS {
        return folded;
    }
    let cut: String = folded.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(body: &str) -> (Option<&'static str>, Option<String>) {
        let (code, message) = fields(body);
        (code.map(|c| &*Box::leak(c.into_boxed_str())), message)
    }

    #[test]
    fn the_documented_envelope_and_its_variants() {
        let documented = r#"{"error": {"code": "InvalidAPIVersion", "message": "Invalid api version. Allowed values are [2017-10-31]"}}"#;
        assert_eq!(
            both(documented),
            (Some("InvalidAPIVersion"), Some("Invalid api version. Allowed values are [2017-10-31]".into()))
        );
        assert_eq!(both(r#"{"error": "nope"}"#), (None, Some("nope".into())));
        assert_eq!(both(r#"{"code": 12, "Message": "m"}"#), (Some("12"), Some("m".into())));
        assert_eq!(
            both(r#"{"Error": {"Code": "Conflict", "Message": "busy"}}"#),
            (Some("Conflict"), Some("busy".into()))
        );
        assert_eq!(both(""), (None, None));
        assert_eq!(both("null"), (None, None));
    }

    #[test]
    fn the_service_name_wrapper_gives_the_sentence_and_the_exception_code() {
        let body = r#"{"Product": {"serviceName": "Product", "error": "Microsoft.Ingestion.Api.Common.Exceptions.Http404Exception: CPP product test-offer not found in current PC environment.\r\n   at Microsoft.Ingestion.Api.Controllers.CppOperationController.<>c__DisplayClass22_0.<<GetDraftOfferJsonAsync>b__0>d.MoveNext() in D:\\a\\_work\\1\\s\\src\\CppOperationController.Product.cs:line 310", "exceptionCode": "Http404Exception", "httpStatusCode": "NotFound"}}"#;
        assert_eq!(
            both(body),
            (
                Some("Http404Exception"),
                Some("CPP product test-offer not found in current PC environment.".into())
            )
        );
        let variant = r#"{"Variant":{"serviceName":"Variant","error":"snapshot() resulted in an internal conflict! Retry is OK.\r\n[\r\n  \"azure-sku\"]"}}"#;
        assert_eq!(
            both(variant),
            (None, Some("snapshot() resulted in an internal conflict! Retry is OK.".into()))
        );
    }

    #[test]
    fn json_cut_short_still_gives_its_first_line() {
        let cut = r#"{"Variant":{"serviceName":"Variant","error":"snapshot() resulted in an internal conflict! Retry is OK.\r\n[\r\n  \"azure-sku [variantId: edccc6b4] -- mismatch(1)\",\r\n ..."#;
        assert_eq!(both(cut).1.as_deref(), Some("snapshot() resulted in an internal conflict! Retry is OK."));
    }

    #[test]
    fn bare_strings_lose_their_quotes_and_may_hold_json() {
        assert_eq!(
            both(r#""Microsoft.Ingestion.Api.Common.Exceptions.Http404Exception...""#),
            (
                Some("Http404Exception"),
                Some("Microsoft.Ingestion.Api.Common.Exceptions.Http404Exception...".into())
            )
        );
        let encoded = r#""{\"error\":{\"code\":\"Forbidden\",\"message\":\"User does not have the required permissions\"}}""#;
        assert_eq!(
            both(encoded),
            (Some("Forbidden"), Some("User does not have the required permissions".into()))
        );
        assert_eq!(both(r#""""#), (None, None));
    }

    #[test]
    fn text_and_html_give_one_line() {
        assert_eq!(both("  upstream\n  timed out "), (None, Some("upstream timed out".into())));
        let trace = "System.InvalidOperationException: the offer is locked\r\n   at A.B()\r\n   at C.D()";
        assert_eq!(both(trace), (Some("InvalidOperationException"), Some("the offer is locked".into())));
        assert_eq!(both("[1,2]"), (None, Some("[1,2]".into())));
        let page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad</h1></body></html>";
        assert_eq!(both(page), (None, Some("502 Bad Gateway".into())));
        assert_eq!(
            both("<html><body><h1>Service\nUnavailable</h1></body></html>").1.as_deref(),
            Some("Service Unavailable")
        );
        let long = fields(&"x".repeat(10_000)).1.unwrap();
        assert!(long.chars().count() <= MAX_MESSAGE_CHARS + 1);
    }
}
