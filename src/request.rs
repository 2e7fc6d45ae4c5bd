//! What goes on the wire: method, URL and body of each call, built from validated input.

use serde::Serialize;
use url::Url;

use crate::error::Result;
use crate::validate;

/// The API version every route of the Cloud Partner Portal API takes.
pub const API_VERSION: &str = "2017-10-31";

/// A request ready to send, minus the per-call headers (token, request id) the sender adds.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub method: reqwest::Method,
    pub url: Url,
    /// JSON body, for POST.
    pub body: Option<Vec<u8>>,
}

/// A validated "Cancel operation" call.
#[derive(Debug, Clone, PartialEq)]
pub struct Cancel {
    pub publisher: String,
    pub offer: String,
    pub emails: Vec<String>,
}

#[derive(Serialize)]
struct CancelBody<'a> {
    metadata: Metadata<'a>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(rename = "notification-emails", skip_serializing_if = "Option::is_none")]
    notification_emails: Option<&'a str>,
}

impl Cancel {
    /// Validate the ids and addresses; nothing is sent when this fails.
    pub fn new<'a>(publisher: &str, offer: &str, emails: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        validate::id("publisher", publisher)?;
        validate::id("offer", offer)?;
        Ok(Self {
            publisher: publisher.to_owned(),
            offer: offer.to_owned(),
            emails: validate::emails(emails)?,
        })
    }

    /// `POST {base}/api/publishers/{publisher}/offers/{offer}/cancel?api-version=2017-10-31` with
    /// `{"metadata": {"notification-emails": "a@x.com,b@x.com"}}` (or `{"metadata": {}}`).
    pub fn prepare(&self, base: &Url) -> Prepared {
        let url = offer_url(base, &self.publisher, &self.offer, &["cancel"]);
        let joined = self.emails.join(",");
        let body = CancelBody {
            metadata: Metadata {
                notification_emails: (!joined.is_empty()).then_some(joined.as_str()),
            },
        };
        // Serializing a struct of strings cannot fail; an empty metadata object is the fallback.
        let body = serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"metadata":{}}"#.to_vec());
        Prepared {
            method: reqwest::Method::POST,
            url,
            body: Some(body),
        }
    }
}

/// `{base}/api/publishers/{publisher}/offers/{offer}/{tail...}?api-version=...`. The ids are
/// validated to unreserved characters, and the url crate escapes each segment regardless.
pub fn offer_url(base: &Url, publisher: &str, offer: &str, tail: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .extend(["api", "publishers", publisher, "offers", offer])
            .extend(tail);
    }
    url.query_pairs_mut().append_pair("api-version", API_VERSION);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://cloudpartner.azure.com").unwrap()
    }

    #[test]
    fn cancel_matches_the_documented_request() {
        let call = Cancel::new("contoso", "contoso-virtualmachineoffer", ["jondoe@contoso.com"]).unwrap();
        let req = call.prepare(&base());
        assert_eq!(req.method, reqwest::Method::POST);
        assert_eq!(
            req.url.as_str(),
            "https://cloudpartner.azure.com/api/publishers/contoso/offers/contoso-virtualmachineoffer/cancel?api-version=2017-10-31"
        );
        assert_eq!(
            req.body.unwrap(),
            br#"{"metadata":{"notification-emails":"jondoe@contoso.com"}}"#
        );
    }

    #[test]
    fn several_emails_are_one_comma_joined_string_and_none_is_empty_metadata() {
        let two = Cancel::new("p", "o", ["a@contoso.com", "b@contoso.com"])
            .unwrap()
            .prepare(&base());
        assert_eq!(
            two.body.unwrap(),
            br#"{"metadata":{"notification-emails":"a@contoso.com,b@contoso.com"}}"#
        );
        let none = Cancel::new("p", "o", []).unwrap().prepare(&base());
        assert_eq!(none.body.unwrap(), br#"{"metadata":{}}"#);
    }

    #[test]
    fn a_base_path_prefix_is_kept() {
        let base = crate::validate::base_url("http://127.0.0.1:8080/mount/").unwrap();
        let req = Cancel::new("p", "o", []).unwrap().prepare(&base);
        assert_eq!(
            req.url.as_str(),
            "http://127.0.0.1:8080/mount/api/publishers/p/offers/o/cancel?api-version=2017-10-31"
        );
    }

    #[test]
    fn invalid_ids_are_refused_before_building() {
        assert!(Cancel::new("con/toso", "o", []).is_err());
        assert!(Cancel::new("p", "", []).is_err());
        assert!(Cancel::new("p", "o", ["nope"]).is_err());
    }
}
