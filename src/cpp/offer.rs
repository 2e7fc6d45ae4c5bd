//! Offers: what `GET`/`PUT .../offers/...` and `GET .../status` send, and the documents they
//! return. Offer definitions are large JSON documents the API does not fix, so the core checks
//! only that one is a JSON object within the bounds of `json`, both ways, and hands it on whole
//! (integers exact).

use serde_json::Value;
use url::Url;

use super::request::offer_url;
use crate::error::{Error, Result};
use crate::http::Prepared;
use crate::validate;

/// A slot an offer's definition lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Draft,
    Preview,
    Production,
}

impl Slot {
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "draft" => Ok(Self::Draft),
            "preview" => Ok(Self::Preview),
            "production" => Ok(Self::Production),
            _ => Err(Error::invalid("slot", format!("{text:?} is not draft, preview or production"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Preview => "preview",
            Self::Production => "production",
        }
    }
}

/// A validated `GET` of one offer: `.../offers/{offer}[/versions/{n}][/slot/{slot}]`.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferQuery {
    pub publisher: String,
    pub offer: String,
    pub version: Option<u64>,
    pub slot: Option<Slot>,
}

impl OfferQuery {
    pub fn new(publisher: &str, offer: &str, version: Option<u64>, slot: Option<Slot>) -> Result<Self> {
        validate::id("publisher", publisher)?;
        validate::id("offer", offer)?;
        Ok(Self { publisher: publisher.to_owned(), offer: offer.to_owned(), version, slot })
    }

    pub fn prepare(&self, base: &Url) -> Prepared {
        let version = self.version.map(|n| n.to_string());
        let mut tail: Vec<&str> = Vec::new();
        if let Some(version) = &version {
            tail.extend(["versions", version]);
        }
        if let Some(slot) = self.slot {
            tail.extend(["slot", slot.as_str()]);
        }
        Prepared::get(offer_url(base, &self.publisher, &self.offer, &tail)).of_document()
    }
}

/// A validated `GET .../publishers/{publisher}/offers`: the publisher's offer summaries, only
/// those of one offer type with `offer_type` (`$filter=offerTypeId eq '<type>'`, as Microsoft's
/// own CLI asks, escaped as a URL's query is: `%20`, `%27`).
pub fn list(base: &Url, publisher: &str, offer_type: Option<&str>) -> Result<Prepared> {
    validate::id("publisher", publisher)?;
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(["api", "publishers", publisher, "offers"]);
    }
    let mut query = format!("api-version={}", super::request::API_VERSION);
    if let Some(offer_type) = offer_type {
        validate::id("offer_type", offer_type)?;
        query.push_str(&format!("&$filter=offerTypeId%20eq%20'{offer_type}'"));
    }
    url.set_query(Some(&query));
    Ok(Prepared::get(url).of_document())
}

/// `GET /api/publishers`: the publishers the token may act for.
pub fn publishers(base: &Url) -> Prepared {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(["api", "publishers"]);
    }
    url.query_pairs_mut().append_pair("api-version", super::request::API_VERSION);
    Prepared::get(url)
}

/// A validated `GET .../offers/{offer}/status`.
pub fn status(base: &Url, publisher: &str, offer: &str) -> Result<Prepared> {
    validate::id("publisher", publisher)?;
    validate::id("offer", offer)?;
    Ok(Prepared::get(offer_url(base, publisher, offer, &["status"])))
}

/// The concurrency rule of an update, which the API makes mandatory ("Concurrency control"): the
/// service answers 412 when the ETag no longer matches, and 400 when there is no `If-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: last one wins, whatever changed since it was read.
    Any,
    /// Only if the offer is still the version this ETag names (optimistic concurrency).
    ETag(String),
}

impl IfMatch {
    /// `"*"`, or an ETag as the service sent it (`W/"datetime'...'"`).
    pub fn parse(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        if trimmed == "*" {
            return Ok(Self::Any);
        }
        if trimmed.is_empty() || !trimmed.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
            return Err(Error::invalid("if_match", format!("{text:?} is not \"*\" or an ETag")));
        }
        Ok(Self::ETag(trimmed.to_owned()))
    }

    pub fn header_value(&self) -> &str {
        match self {
            Self::Any => "*",
            Self::ETag(etag) => etag,
        }
    }
}

/// Keys of an offer's `definition.offer` that `GET` returns but the service refuses back in a
/// `PUT`: Debian's cloud-images tooling strips them before every PUT since 2024 ("Workaround
/// broken Azure Partner API", debian-cloud-images commit 329a4a07: "can't write these key").
/// Python's `Offer.for_put()` drops the same keys (`_core.READ_ONLY_OFFER_KEYS`).
pub const READ_ONLY_OFFER_KEYS: [&str; 2] =
    ["microsoft-azure-corevm.legacyOfferId", "microsoft-azure-corevm.legacyPublisherId"];

/// `document` (an offer as `GET` returned it) made fit to put back: without
/// `READ_ONLY_OFFER_KEYS`, every other member kept in its place.
pub fn for_put(document: &mut Value) {
    if let Some(offer) = document.pointer_mut("/definition/offer").and_then(Value::as_object_mut) {
        for key in READ_ONLY_OFFER_KEYS {
            offer.shift_remove(key);
        }
    }
}

/// A validated `PUT .../offers/{offer}` with the offer's JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct PutOffer {
    pub publisher: String,
    pub offer: String,
    pub definition: Vec<u8>,
    pub if_match: IfMatch,
}

impl PutOffer {
    /// The definition must be an object within the bounds every document keeps (`json::check`):
    /// what `get_offer` reads can be written back, and nothing else.
    pub fn new(publisher: &str, offer: &str, definition: Value, if_match: IfMatch) -> Result<Self> {
        validate::id("publisher", publisher)?;
        validate::id("offer", offer)?;
        if !definition.is_object() {
            return Err(Error::invalid("definition", "must be a JSON object (a dict)"));
        }
        crate::json::check(&definition).map_err(|fault| Error::invalid("definition", fault.to_string()))?;
        let definition = serde_json::to_vec(&definition)
            .map_err(|e| Error::invalid("definition", format!("cannot be written as JSON ({e})")))?;
        Ok(Self { publisher: publisher.to_owned(), offer: offer.to_owned(), definition, if_match })
    }

    pub fn prepare(&self, base: &Url) -> Prepared {
        Prepared {
            method: reqwest::Method::PUT,
            url: offer_url(base, &self.publisher, &self.offer, &[]),
            body: Some(self.definition.clone()),
            // A PUT of the same document twice leaves the same offer (RFC 9110), but under an
            // ETag a repeat of a PUT that did land meets 412: only `*` is safe to send again.
            idempotent: self.if_match == IfMatch::Any,
            if_match: Some(self.if_match.header_value().to_owned()),
            document: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn offers_of_one_type_and_the_publishers_list() {
        let base = Url::parse("https://cloudpartner.azure.com").unwrap();
        let all = list(&base, "contoso", None).unwrap();
        assert_eq!(
            all.url.as_str(),
            "https://cloudpartner.azure.com/api/publishers/contoso/offers?api-version=2017-10-31"
        );
        assert!(all.document);
        let vms = list(&base, "contoso", Some("microsoft-azure-virtualmachines")).unwrap();
        assert_eq!(
            vms.url.as_str(),
            // The URL standard escapes `'` in an http(s) query; the service decodes it either way.
            "https://cloudpartner.azure.com/api/publishers/contoso/offers?api-version=2017-10-31&$filter=offerTypeId%20eq%20%27microsoft-azure-virtualmachines%27"
        );
        assert!(matches!(
            list(&base, "contoso", Some("x' or 1 eq 1")),
            Err(Error::InvalidArgument { field: "offer_type", .. })
        ));
        assert_eq!(
            publishers(&base).url.as_str(),
            "https://cloudpartner.azure.com/api/publishers?api-version=2017-10-31"
        );
    }

    fn base() -> Url {
        Url::parse("https://cloudpartner.azure.com").unwrap()
    }

    #[test]
    fn offer_routes() {
        let get =
            |version, slot| OfferQuery::new("contoso", "o", version, slot).unwrap().prepare(&base()).url;
        assert_eq!(get(None, None).path(), "/api/publishers/contoso/offers/o");
        assert_eq!(get(Some(2), None).path(), "/api/publishers/contoso/offers/o/versions/2");
        assert_eq!(get(None, Some(Slot::Preview)).path(), "/api/publishers/contoso/offers/o/slot/preview");
        assert_eq!(
            get(Some(3), Some(Slot::Draft)).path(),
            "/api/publishers/contoso/offers/o/versions/3/slot/draft"
        );
        assert_eq!(get(None, None).query(), Some("api-version=2017-10-31"));
        assert_eq!(list(&base(), "contoso", None).unwrap().url.path(), "/api/publishers/contoso/offers");
        assert_eq!(
            status(&base(), "contoso", "o").unwrap().url.path(),
            "/api/publishers/contoso/offers/o/status"
        );
        assert!(OfferQuery::new("con/toso", "o", None, None).is_err());
        assert_eq!(Slot::parse(" Production ").unwrap(), Slot::Production);
        assert!(Slot::parse("live").is_err());
    }

    #[test]
    fn an_update_says_which_concurrency_rule_it_takes() {
        assert_eq!(IfMatch::parse("*").unwrap(), IfMatch::Any);
        let etag = r#"W/"datetime'2019-10-30T22%3A03%3A51.6562051Z'""#;
        assert_eq!(IfMatch::parse(etag).unwrap().header_value(), etag);
        assert!(IfMatch::parse("").is_err() && IfMatch::parse("a\nb").is_err());
        let put = PutOffer::new("p", "o", json!({"id": "o"}), IfMatch::Any).unwrap().prepare(&base());
        assert_eq!((put.method.as_str(), put.if_match.as_deref()), ("PUT", Some("*")));
        assert!(PutOffer::new("p", "o", json!([1]), IfMatch::Any).is_err());
    }

    #[test]
    fn for_put_drops_only_the_legacy_ids_keeping_the_order() {
        let mut document = crate::json::parse(
            br#"{"definition": {"offer": {"a": 1, "microsoft-azure-corevm.legacyOfferId": "x", "b": 2,
                "microsoft-azure-corevm.legacyPublisherId": "y", "c": 3}, "plans": []}}"#,
        )
        .unwrap();
        for_put(&mut document);
        assert_eq!(
            serde_json::to_string(&document).unwrap(),
            r#"{"definition":{"offer":{"a":1,"b":2,"c":3},"plans":[]}}"#
        );
        for mut other in [json!({}), json!({"definition": []}), json!({"definition": {"offer": "x"}})] {
            let before = other.clone();
            for_put(&mut other);
            assert_eq!(other, before);
        }
    }

    #[test]
    fn a_definition_is_written_as_read_within_the_same_bounds() {
        let mut deepest = json!(1);
        for _ in 0..crate::json::MAX_DEPTH {
            deepest = json!({"a": deepest});
        }
        let body = br#"{"z": 1, "big": 18446744073709551617, "a": [0.5]}"#;
        let read = crate::json::parse(body).unwrap();
        let put = PutOffer::new("p", "o", read, IfMatch::Any).unwrap();
        assert_eq!(
            put.definition, br#"{"z":1,"big":18446744073709551617,"a":[0.5]}"#,
            "order and digits kept"
        );
        assert!(PutOffer::new("p", "o", deepest.clone(), IfMatch::Any).is_ok());
        let deeper = json!({"plans": [deepest]});
        let err = PutOffer::new("p", "o", deeper, IfMatch::Any).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "invalid definition: has a list or object nested deeper than 100 levels at $.plans[0].a"
            ),
            "{err}"
        );
    }
}
