//! What goes on the wire: method, URL and body of each call, built from validated input.

use serde::Serialize;
use url::Url;

use super::SERVICE;
use crate::error::{Error, Result};
use crate::http::Prepared;
use crate::validate;

/// The API version every route of the Cloud Partner Portal API takes.
pub const API_VERSION: &str = SERVICE.default_version;

/// What a POST on an offer asks the service to start. Each answers 202 with the location of the
/// operation it started (or, for a cancel, of the one it is cancelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Cancel,
    Publish,
    GoLive,
}

impl Action {
    /// The route's last path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::Publish => "publish",
            Self::GoLive => "golive",
        }
    }
}

/// A validated cancel, publish or go-live call.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferAction {
    pub action: Action,
    pub publisher: String,
    pub offer: String,
    pub emails: Vec<String>,
}

#[derive(Serialize)]
struct ActionBody<'a> {
    metadata: Metadata<'a>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(rename = "notification-emails", skip_serializing_if = "Option::is_none")]
    notification_emails: Option<&'a str>,
}

impl OfferAction {
    /// Validate the ids and addresses; nothing is sent when this fails.
    pub fn new<'a>(
        action: Action,
        publisher: &str,
        offer: &str,
        emails: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self> {
        validate::id("publisher", publisher)?;
        validate::id("offer", offer)?;
        Ok(Self {
            action,
            publisher: publisher.to_owned(),
            offer: offer.to_owned(),
            emails: validate::emails(emails)?,
        })
    }

    /// `POST {base}/api/publishers/{publisher}/offers/{offer}/{cancel|publish|golive}?api-version=2017-10-31`
    /// with `{"metadata": {"notification-emails": "a@x.com,b@x.com"}}` (or `{"metadata": {}}`:
    /// go-live mails the list the publish was given).
    pub fn prepare(&self, base: &Url) -> Prepared {
        let url = offer_url(base, &self.publisher, &self.offer, &[self.action.as_str()]);
        let joined = self.emails.join(",");
        let body = ActionBody {
            metadata: Metadata { notification_emails: (!joined.is_empty()).then_some(joined.as_str()) },
        };
        // Serializing a struct of strings cannot fail; an empty metadata object is the fallback.
        let body = serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"metadata":{}}"#.to_vec());
        // A cancel is idempotent: the service answers a repeated cancel with 202, as it answers a
        // cancel with nothing running ("returns a 202 whether it cancelled or not", cpp-api.md),
        // and a second cancel of the same publish stops nothing more. A publish or go-live is
        // not: a second one while the first runs is refused (409).
        let idempotent = self.action == Action::Cancel;
        Prepared::post(url, body, idempotent)
    }
}

/// An operation's location, validated: an absolute or relative location (as a cancel returned
/// it) resolved against the base URL. Refused when it points at another origin than the
/// configured service: the token goes nowhere else. `api-version` is added when it lacks one.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationLocation {
    url: Url,
}

impl OperationLocation {
    pub fn new(base: &Url, location: &str) -> Result<Self> {
        let trimmed = location.trim();
        if trimmed.is_empty() {
            return Err(Error::invalid("location", "must not be empty"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Error::invalid("location", format!("{location:?} contains control characters")));
        }
        let url = base
            .join(trimmed)
            .map_err(|e| Error::invalid("location", format!("{location:?} is not a URL or path ({e})")))?;
        if url.origin() != base.origin() {
            return Err(Error::invalid(
                "location",
                format!(
                    "{location:?} is on {}, not on the configured service {} (the token is only sent there)",
                    url.origin().ascii_serialization(),
                    base.origin().ascii_serialization()
                ),
            ));
        }
        if url.fragment().is_some() || !url.username().is_empty() {
            return Err(Error::invalid(
                "location",
                format!("{location:?} must not carry a fragment or user name"),
            ));
        }
        let mut url = url;
        if !url.query_pairs().any(|(name, _)| name == "api-version") {
            url.query_pairs_mut().append_pair("api-version", API_VERSION);
        }
        Ok(Self { url })
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `GET` of the operation.
    pub fn prepare(&self) -> Prepared {
        Prepared::get(self.url.clone())
    }
}

/// A validated "list the operations of an offer" query (the `submissions` route).
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub publisher: String,
    pub offer: String,
    pub status: Option<String>,
}

impl ListQuery {
    pub fn new(publisher: &str, offer: &str, status: Option<&str>) -> Result<Self> {
        validate::id("publisher", publisher)?;
        validate::id("offer", offer)?;
        if let Some(status) = status
            && (status.trim().is_empty()
                || status.len() > 64
                || !status.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '))
        {
            return Err(Error::invalid(
                "status",
                format!("{status:?} is not a status like running or completed"),
            ));
        }
        Ok(Self {
            publisher: publisher.to_owned(),
            offer: offer.to_owned(),
            status: status.map(|s| s.trim().to_owned()),
        })
    }

    /// `GET {base}/api/publishers/{publisher}/offers/{offer}/submissions?api-version=...[&status=...]`.
    pub fn prepare(&self, base: &Url) -> Prepared {
        let mut url = offer_url(base, &self.publisher, &self.offer, &["submissions"]);
        if let Some(status) = &self.status {
            url.query_pairs_mut().append_pair("status", status);
        }
        Prepared::get(url)
    }
}

/// `{base}/api/publishers/{publisher}/offers/{offer}/{tail...}?api-version=...`. The ids are
/// validated to unreserved characters, and the url crate escapes each segment regardless.
pub fn offer_url(base: &Url, publisher: &str, offer: &str, tail: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(["api", "publishers", publisher, "offers", offer]).extend(tail);
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
        let call = OfferAction::new(
            Action::Cancel,
            "contoso",
            "contoso-virtualmachineoffer",
            ["jondoe@contoso.com"],
        )
        .unwrap();
        let req = call.prepare(&base());
        assert_eq!(req.method, reqwest::Method::POST);
        assert_eq!(
            req.url.as_str(),
            "https://cloudpartner.azure.com/api/publishers/contoso/offers/contoso-virtualmachineoffer/cancel?api-version=2017-10-31"
        );
        assert_eq!(req.body.unwrap(), br#"{"metadata":{"notification-emails":"jondoe@contoso.com"}}"#);
    }

    #[test]
    fn several_emails_are_one_comma_joined_string_and_none_is_empty_metadata() {
        let two = OfferAction::new(Action::Cancel, "p", "o", ["a@contoso.com", "b@contoso.com"])
            .unwrap()
            .prepare(&base());
        assert_eq!(
            two.body.unwrap(),
            br#"{"metadata":{"notification-emails":"a@contoso.com,b@contoso.com"}}"#
        );
        let none = OfferAction::new(Action::Cancel, "p", "o", []).unwrap().prepare(&base());
        assert_eq!(none.body.unwrap(), br#"{"metadata":{}}"#);
    }

    #[test]
    fn a_base_path_prefix_is_kept() {
        let base = crate::validate::base_url("http://127.0.0.1:8080/mount/").unwrap();
        let req = OfferAction::new(Action::Cancel, "p", "o", []).unwrap().prepare(&base);
        assert_eq!(
            req.url.as_str(),
            "http://127.0.0.1:8080/mount/api/publishers/p/offers/o/cancel?api-version=2017-10-31"
        );
    }

    #[test]
    fn operation_locations_resolve_and_get_an_api_version() {
        let absolute = "https://cloudpartner.azure.com/api/publishers/contoso/offers/o/operations/56615b67";
        assert_eq!(
            OperationLocation::new(&base(), absolute).unwrap().url().as_str(),
            format!("{absolute}?api-version=2017-10-31")
        );
        let relative = "/api/operations/contoso$o$2$preview?api-version=2017-10-31";
        let req = OperationLocation::new(&base(), relative).unwrap().prepare();
        assert_eq!(req.method, reqwest::Method::GET);
        assert_eq!(req.url.as_str(), format!("https://cloudpartner.azure.com{relative}"));
    }

    #[test]
    fn operation_locations_elsewhere_are_refused() {
        for bad in [
            "https://evil.example/api/operations/1",
            "http://cloudpartner.azure.com/api/operations/1",
            "https://cloudpartner.azure.com:8443/x",
            "//evil.example/x",
            "",
            "/api/\nx",
            "/a\r\nX: y",
        ] {
            assert!(
                matches!(
                    OperationLocation::new(&base(), bad),
                    Err(Error::InvalidArgument { field: "location", .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn submissions_with_an_optional_status() {
        let req = ListQuery::new("contoso", "o", Some("running")).unwrap().prepare(&base());
        assert_eq!(
            req.url.as_str(),
            "https://cloudpartner.azure.com/api/publishers/contoso/offers/o/submissions?api-version=2017-10-31&status=running"
        );
        assert!(
            ListQuery::new("contoso", "o", None)
                .unwrap()
                .prepare(&base())
                .url
                .as_str()
                .ends_with("submissions?api-version=2017-10-31")
        );
        assert!(ListQuery::new("contoso", "o", Some("a&b=c")).is_err());
        assert!(ListQuery::new("con/toso", "o", None).is_err());
    }

    #[test]
    fn invalid_ids_are_refused_before_building() {
        assert!(OfferAction::new(Action::Cancel, "con/toso", "o", []).is_err());
        assert!(OfferAction::new(Action::Cancel, "p", "", []).is_err());
        assert!(OfferAction::new(Action::Cancel, "p", "o", ["nope"]).is_err());
    }
}
