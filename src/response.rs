//! Reading the service's answer: success outcomes, error bodies, ids and operation locations.
//! Everything here takes what arrived and never fails: odd answers map to `None`s, not panics.

use percent_encoding::percent_decode_str;
use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

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

/// What a successful cancel told us.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionOutcome {
    pub status: u16,
    pub operation_location: Option<String>,
    pub operation_id: Option<String>,
    pub request_id: Option<String>,
}

/// Map a 2xx cancel answer. The location comes from `Operation-Location`, else `Location`
/// (the 2018 and 2020 shapes of the page), else a location-like field of a JSON body.
pub fn action_outcome(resp: &RawResponse, base: &Url) -> ActionOutcome {
    let location = operation_location(&resp.headers, &resp.body, base);
    ActionOutcome {
        status: resp.status,
        operation_id: location.as_ref().and_then(operation_id),
        operation_location: location.map(String::from),
        request_id: request_id(&resp.headers),
    }
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

/// The operation location of a 2xx answer, resolved against the base URL.
pub fn operation_location(headers: &HeaderMap, body: &[u8], base: &Url) -> Option<Url> {
    let raw = header(headers, "operation-location")
        .or_else(|| header(headers, "location"))
        .or_else(|| body_location(body))?;
    base.join(&raw).ok().filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// Some pages say the location of a cancel that needs its own operation is in the body.
fn body_location(body: &[u8]) -> Option<String> {
    let Value::Object(map) = serde_json::from_slice::<Value>(body).ok()? else {
        return None;
    };
    map.iter().find_map(|(key, value)| {
        let key = key.to_ascii_lowercase().replace(['-', '_'], "");
        match value {
            Value::String(s) if key == "operationlocation" || key == "location" => Some(s.clone()),
            _ => None,
        }
    })
}

/// The last path segment: a GUID, or `publisher$offer$N$slot` for non-migrated offers.
pub fn operation_id(location: &Url) -> Option<String> {
    let segment = location.path_segments()?.rev().find(|s| !s.is_empty())?;
    Some(percent_decode_str(segment).decode_utf8_lossy().into_owned())
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn base() -> Url {
        Url::parse("https://cloudpartner.azure.com").unwrap()
    }

    fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> RawResponse {
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
    fn absolute_operation_location_from_the_2018_page() {
        let loc = "https://cloudpartner.azure.com/api/publishers/contoso/offers/contoso-virtualmachineoffer/operations/56615b67-2185-49fe-80d2-c4ddf77bb2e8";
        let out = action_outcome(
            &answer(202, &[("operation-location", loc), ("x-ms-request-id", "r1")], ""),
            &base(),
        );
        assert_eq!(out.operation_location.as_deref(), Some(loc));
        assert_eq!(out.operation_id.as_deref(), Some("56615b67-2185-49fe-80d2-c4ddf77bb2e8"));
        assert_eq!(out.request_id.as_deref(), Some("r1"));
    }

    #[test]
    fn relative_location_shapes_from_the_2020_page() {
        let migrated = "/api/publishers/contoso/offers/contoso-offer/operations/56615b67-2185-49fe-80d2-c4ddf77bb2e8?api-version=2017-10-31";
        let out = action_outcome(&answer(202, &[("location", migrated)], ""), &base());
        assert_eq!(
            out.operation_location.as_deref(),
            Some(&*format!("https://cloudpartner.azure.com{migrated}"))
        );
        assert_eq!(out.operation_id.as_deref(), Some("56615b67-2185-49fe-80d2-c4ddf77bb2e8"));

        let legacy = "/api/operations/contoso$contoso-offer$2$preview?api-version=2017-10-31";
        let out = action_outcome(&answer(202, &[("location", legacy)], ""), &base());
        assert_eq!(out.operation_id.as_deref(), Some("contoso$contoso-offer$2$preview"));
        let encoded = "/api/operations/contoso%24contoso-offer%242%24preview";
        let out = action_outcome(&answer(202, &[("location", encoded)], ""), &base());
        assert_eq!(out.operation_id.as_deref(), Some("contoso$contoso-offer$2$preview"));
    }

    #[test]
    fn operation_location_wins_over_location_and_body_is_the_last_resort() {
        let out = action_outcome(
            &answer(
                202,
                &[("location", "/api/operations/b"), ("operation-location", "/api/operations/a")],
                "",
            ),
            &base(),
        );
        assert_eq!(out.operation_id.as_deref(), Some("a"));
        let out = action_outcome(&answer(202, &[], r#"{"operationLocation": "/api/operations/c"}"#), &base());
        assert_eq!(out.operation_id.as_deref(), Some("c"));
        let none = action_outcome(&answer(200, &[], ""), &base());
        assert_eq!((none.operation_location, none.operation_id), (None, None));
        let not_http = action_outcome(&answer(202, &[("location", "javascript:alert(1)")], ""), &base());
        assert_eq!(not_http.operation_location, None);
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
