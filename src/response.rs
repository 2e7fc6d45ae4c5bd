//! Reading an answer, whichever service sent it: the raw answer, error bodies, request ids and
//! headers. Everything here takes what arrived and never fails: odd answers map to `None`s.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, Timelike};
use reqwest::header::HeaderMap;

use crate::error::ApiFailure;

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

pub use crate::redact::redact;

/// Map a non-success answer. A service that echoes the bearer token back (in a message about a
/// bad header, say) does not get it into the exception: every copy becomes `***`.
pub fn api_failure(
    resp: &RawResponse,
    client_request_id: &str,
    retry_after: Option<f64>,
    token: &str,
) -> ApiFailure {
    let redact = |text: String| crate::redact::secrets(text, token);
    let body = redact(String::from_utf8_lossy(&resp.body).into_owned());
    let (code, message) = crate::error_body::fields(&body);
    // A message decoded from JSON escapes is checked again in its decoded form.
    let (code, message) = (code.map(redact), message.map(redact));
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
