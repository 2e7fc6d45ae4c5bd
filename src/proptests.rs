//! Property tests: whatever the network sends, mapping it never panics, and whatever the
//! caller passes, a request either is refused or has exactly the expected path.

use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::cpp::operation;
use crate::cpp::request::{self, Action, OfferAction};
use crate::error::Error;
use crate::http::retry;
use crate::response::{self, RawResponse};

fn base() -> Url {
    Url::parse("https://cloudpartner.azure.com").unwrap()
}

/// Mostly near-valid ids (so both outcomes are exercised), some arbitrary text.
fn id() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9._-]{0,12}", "[A-Za-z0-9._/?#% -]{1,12}", any::<String>()]
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    let name = prop_oneof![
        Just("location".to_owned()),
        Just("operation-location".to_owned()),
        Just("retry-after".to_owned()),
        Just("x-ms-request-id".to_owned()),
        "[a-z][a-z0-9-]{0,12}",
    ];
    let value = prop::collection::vec(any::<u8>(), 0..80);
    prop::collection::vec((name, value), 0..6).prop_map(|pairs| {
        let mut map = HeaderMap::new();
        for (name, bytes) in pairs {
            if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_bytes(&bytes)) {
                map.append(name, value);
            }
        }
        map
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        any::<String>().prop_map(String::into_bytes),
        "\\{\"(error|code|message|operationLocation|location|id|status|steps)\": ?(\"[^\"]{0,30}\"|[0-9]{1,30}|\\[\\]|\\{\\}|null)\\}"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #[test]
    fn any_answer_maps_without_panicking(status in 100u16..1000, headers in headers(), body in body(), truncated in any::<bool>()) {
        let resp = RawResponse { status, headers, body, truncated, over_limit: None };
        let outcome = crate::cpp::answer::action_outcome(&resp, &base());
        if let Some(location) = &outcome.operation_location {
            let parsed = Url::parse(location).unwrap();
            prop_assert!(matches!(parsed.scheme(), "http" | "https"));
        }
        let failure = response::api_failure(&resp, "cid", None, "some-long-token");
        prop_assert_eq!(failure.status, status);
        prop_assert!(failure.message.as_ref().is_none_or(|m| m.chars().count() <= 501));
        // Whatever the body and status, the failure reads as one bounded line.
        let text = failure.to_string();
        prop_assert!(!text.contains(['\n', '\r']), "{}", text);
        prop_assert!(text.chars().count() <= 1200, "{}", text.len());
        let _ = operation::parse_one(&resp.body, Some("x"));
        let _ = operation::parse_list(&resp.body);
    }

    #[test]
    fn error_bodies_of_every_family_read_as_one_bounded_line(
        wrapper in "[A-Z][a-z]{2,10}",
        exception in "[A-Z][A-Za-z]{0,8}(\\.[A-Z][A-Za-z]{0,8}){0,3}Exception",
        sentence in "[^\\x00-\\x1f\"\\\\]{0,600}",
        trace in "(\r\n   at [A-Za-z.<>()]{1,40}){0,5}",
        shape in 0u8..6,
    ) {
        let text = format!("{exception}: {sentence}{trace}");
        let quoted = serde_json::to_string(&text).unwrap();
        let body = match shape {
            0 => format!(r#"{{"{wrapper}": {{"serviceName": "{wrapper}", "error": {quoted}, "exceptionCode": "X"}}}}"#),
            1 => format!(r#"{{"error": {{"code": "c", "message": {quoted}}}}}"#),
            2 => quoted.clone(),
            3 => serde_json::to_string(&format!(r#"{{"Message": {quoted}}}"#)).unwrap(),
            4 => format!("<html><title>{sentence}</title></html>"),
            _ => text.clone(),
        };
        let (code, message) = crate::error_body::fields(&body);
        for part in [&code, &message].into_iter().flatten() {
            prop_assert!(!part.contains(['\n', '\r']), "{:?}", part);
            prop_assert!(part.chars().count() <= crate::error_body::MAX_MESSAGE_CHARS + 1);
        }
        if !sentence.trim().is_empty() && shape != 4 {
            let first: String = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
            let shown = message.unwrap_or_default();
            prop_assert!(shown.starts_with(first.chars().take(40).collect::<String>().as_str()), "{:?} / {:?}", shown, first);
            prop_assert!(!shown.contains(" at "), "{:?}", shown);
        }
    }

    #[test]
    fn a_token_echoed_in_any_encoding_never_survives(
        token in "[A-Za-z0-9+/=._~-]{8,64}",
        encoding in 0u8..4,
        before in "[^\\x00]{0,20}",
        after in "[^\\x00]{0,20}",
    ) {
        let echo: String = match encoding {
            0 => token.clone(),
            1 => percent_encoding::utf8_percent_encode(&token, percent_encoding::NON_ALPHANUMERIC).to_string(),
            2 => serde_json::to_string(&token).unwrap().trim_matches('"').replace('/', "\\/"),
            _ => token.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_string() } else { format!("\\u{:04X}", c as u32) }).collect(),
        };
        let body = format!(r#"{{"error": {{"code": "BadHeader", "message": "{before}Bearer {echo}{after}"}}}}"#);
        let resp = RawResponse { status: 400, headers: HeaderMap::new(), body: body.into_bytes(), truncated: false, over_limit: None };
        let failure = response::api_failure(&resp, "cid", None, &token);
        let everything = format!("{failure:?} {failure}");
        prop_assert!(!everything.contains(&token), "{}", everything);
        prop_assert!(!everything.contains(&echo), "{}", everything);
    }

    #[test]
    fn any_retry_after_parses_or_is_ignored(value in any::<String>()) {
        let _ = retry::parse_retry_after(&value, std::time::SystemTime::now());
    }

    #[test]
    fn any_location_is_refused_or_stays_on_the_service(location in any::<String>()) {
        match request::OperationLocation::new(&base(), &location).map(|l| l.prepare()) {
            Ok(prepared) => {
                prop_assert_eq!(prepared.url.origin(), base().origin());
                prop_assert!(prepared.url.query_pairs().any(|(k, _)| k == "api-version"));
            }
            Err(error) => {
                let is_location_error = matches!(error, Error::InvalidArgument { field: "location", .. });
                prop_assert!(is_location_error);
            }
        }
    }

    #[test]
    fn any_ids_are_refused_or_make_exactly_the_expected_path(publisher in id(), offer in id(), emails in prop::collection::vec(any::<String>(), 0..3)) {
        match OfferAction::new(Action::Cancel, &publisher, &offer, emails.iter().map(String::as_str)) {
            Ok(call) => {
                let url = call.prepare(&base()).url;
                // Each id is one segment, percent-encoded where it must be, and decodes back to itself.
                let segments: Vec<String> = url
                    .path_segments()
                    .unwrap()
                    .map(|s| percent_encoding::percent_decode_str(s).decode_utf8().unwrap().into_owned())
                    .collect();
                prop_assert_eq!(segments, vec!["api", "publishers", publisher.as_str(), "offers", offer.as_str(), "cancel"]);
                prop_assert_eq!(url.query(), Some("api-version=2017-10-31"));
            }
            Err(error) => {
                let refused = matches!(error, Error::InvalidArgument { .. });
                prop_assert!(refused);
            }
        }
    }
}
