//! Reading an answer, whichever service sent it: the raw answer, error bodies, request ids and
//! headers. Everything here takes what arrived and never fails: odd answers map to `None`s.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, Timelike};
use reqwest::header::HeaderMap;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::error::ApiFailure;

/// The longest service message kept for an exception's text.
const MAX_MESSAGE_CHARS: usize = 500;

/// An answer as it arrived (body capped by the sender).
#[derive(Debug, Clone, Default)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body is not whole (longer than the read limit, or it broke off); `body` holds its
    /// beginning.
    pub truncated: bool,
    /// The limit the body was longer than, when that is why it was cut.
    pub over_limit: Option<usize>,
}

/// Tokens shorter than this are not redacted from answers: real bearer tokens are hundreds of
/// characters, and blanking a short test value would garble the service's messages.
const MIN_REDACTED_LEN: usize = 8;

/// `text` with every copy of `token` replaced by `***` (tokens shorter than `MIN_REDACTED_LEN`
/// are left: no real bearer token is that short).
pub fn redact(text: String, token: &str) -> String {
    if token.len() >= MIN_REDACTED_LEN && text.contains(token) { text.replace(token, "***") } else { text }
}

/// Map a non-success answer. A service that echoes the bearer token back (in a message about a
/// bad header, say) does not get it into the exception: every copy becomes `***`.
pub fn api_failure(
    resp: &RawResponse,
    client_request_id: &str,
    retry_after: Option<f64>,
    token: &str,
) -> ApiFailure {
    let redact = |text: String| redact(text, token);
    let body = redact(String::from_utf8_lossy(&resp.body).into_owned());
    let (code, message) = error_fields(&body);
    ApiFailure {
        status: resp.status,
        code,
        message,
        request_id: request_id(&resp.headers),
        client_request_id: Some(client_request_id.to_owned()),
        retry_after,
        location: header(&resp.headers, "location").map(redact),
        body_truncated: resp.truncated,
        body,
    }
}

/// The service's id for this request, under the names Azure front ends use.
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-ms-request-id", "request-id", "x-ms-correlation-request-id", "x-request-id"]
        .iter()
        .find_map(|name| header(headers, name))
}

/// A header as text (lossy: a non-UTF-8 value is still readable), trimmed, `None` when empty.
pub fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?;
    let text = String::from_utf8_lossy(value.as_bytes()).trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// `(code, message)` from the error shapes seen in the wild: `{"error": {"code", "message"}}`,
/// `{"error": "text"}`, `{"code", "message"}`, `{"Message": ...}`; a plain-text body gives its
/// first characters as the message.
pub fn error_fields(body: &str) -> (Option<String>, Option<String>) {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return (None, None);
    }
    let Ok(json) = serde_json::from_str::<Value>(trimmed) else {
        return (None, Some(excerpt(trimmed)));
    };
    let object = match &json {
        Value::Object(map) => match map.get("error") {
            Some(Value::Object(inner)) => inner,
            Some(Value::String(text)) => return (None, Some(excerpt(text))),
            _ => map,
        },
        _ => return (None, Some(excerpt(trimmed))),
    };
    let field = |names: &[&str]| {
        names.iter().find_map(|n| match object.get(*n) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(excerpt(s)),
            Some(v @ Value::Number(_)) => Some(v.to_string()),
            _ => None,
        })
    };
    (field(&["code", "Code"]), field(&["message", "Message", "error_description"]))
}

/// Whitespace folded and the length capped, so an exception's text stays one short line.
fn excerpt(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= MAX_MESSAGE_CHARS {
        return folded;
    }
    let cut: String = folded.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{cut}…")
}

/// Whether `body` is one JSON value opening with `open` (`{` or `[`), checked without building it.
pub fn is_json(body: &[u8], open: u8) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&open)
        && serde_json::from_slice::<IgnoredAny>(body).is_ok()
}

/// RFC 3339 (any number of fraction digits), or the same without an offset, taken as UTC. Only
/// what a Python `datetime` can hold: years 1 to 9999 (in UTC and locally), a leap second folded
/// into the second before it; anything else is `None` rather than a failure.
pub fn timestamp(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    let parsed = DateTime::parse_from_rfc3339(text).ok().or_else(|| {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|naive| naive.and_utc().fixed_offset())
    })?;
    let parsed = match parsed.nanosecond() {
        leap @ 1_000_000_000.. => parsed.with_nanosecond(leap - 1_000_000_000)?,
        _ => parsed,
    };
    let holdable = |year: i32| (1..=9999).contains(&year);
    (holdable(parsed.year()) && holdable(parsed.to_utc().year())).then_some(parsed)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    pub fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> RawResponse {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        RawResponse {
            status,
            headers: map,
            body: body.as_bytes().to_vec(),
            truncated: false,
            over_limit: None,
        }
    }

    #[test]
    fn error_bodies_in_every_shape() {
        let documented = r#"{"error": {"code": "InvalidAPIVersion", "message": "Invalid api version. Allowed values are [2017-10-31]"}}"#;
        assert_eq!(
            error_fields(documented),
            (
                Some("InvalidAPIVersion".into()),
                Some("Invalid api version. Allowed values are [2017-10-31]".into())
            )
        );
        assert_eq!(error_fields(r#"{"error": "nope"}"#), (None, Some("nope".into())));
        assert_eq!(error_fields(r#"{"code": 12, "Message": "m"}"#), (Some("12".into()), Some("m".into())));
        assert_eq!(error_fields(""), (None, None));
        assert_eq!(error_fields("  upstream\n  timed out "), (None, Some("upstream timed out".into())));
        assert_eq!(error_fields("[1,2]"), (None, Some("[1,2]".into())));
        let long = error_fields(&"x".repeat(10_000)).1.unwrap();
        assert!(long.chars().count() <= MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn api_failure_keeps_raw_body_ids_and_lossy_text() {
        let mut resp = answer(404, &[("x-ms-correlation-request-id", "corr")], "");
        resp.body = b"\xff\xfenot utf8".to_vec();
        let failure = api_failure(&resp, "cid", None, "");
        assert_eq!(failure.status, 404);
        assert_eq!(failure.request_id.as_deref(), Some("corr"));
        assert_eq!(failure.client_request_id.as_deref(), Some("cid"));
        assert!(failure.body.ends_with("not utf8"));
    }

    #[test]
    fn an_echoed_token_is_redacted_everywhere() {
        let token = "eyJ0eXAiOiJKV1Qi.secret";
        let resp = answer(
            400,
            &[("location", &format!("/x?t={token}"))],
            &format!(
                r#"{{"error": {{"code": "BadHeader", "message": "Bad header Authorization: Bearer {token}"}}}}"#
            ),
        );
        let failure = api_failure(&resp, "cid", None, token);
        let everything = format!("{failure:?}");
        assert!(!everything.contains(token), "{everything}");
        assert_eq!(failure.message.as_deref(), Some("Bad header Authorization: Bearer ***"));
        assert_eq!(failure.location.as_deref(), Some("/x?t=***"));
        let short =
            api_failure(&answer(404, &[], r#"{"error": {"message": "no t here"}}"#), "cid", None, "t");
        assert_eq!(short.message.as_deref(), Some("no t here"));
    }
}
