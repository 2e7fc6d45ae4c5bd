//! Reading the Cloud Partner Portal API's success answers to a cancel, publish or go-live: the
//! operation to follow, and its id. Like `response`, nothing here fails on an odd answer.

use percent_encoding::percent_decode_str;
use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

use crate::response::{RawResponse, header, request_id};

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

/// The operation location of a 2xx answer, resolved against the base URL.
pub fn operation_location(headers: &HeaderMap, body: &[u8], base: &Url) -> Option<Url> {
    let raw = header(headers, "operation-location")
        .or_else(|| header(headers, "location"))
        .or_else(|| body_location(body))?;
    base.join(&raw).ok().filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// Some pages say the location of a cancel that needs its own operation is in the body.
fn body_location(body: &[u8]) -> Option<String> {
    let Value::Object(map) = crate::json::parse(body).ok()? else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::tests::answer;

    fn base() -> Url {
        Url::parse("https://cloudpartner.azure.com").unwrap()
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
}
