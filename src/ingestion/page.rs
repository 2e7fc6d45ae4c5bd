//! Lists of the ingestion API: `{"value": [...]}` pages, continued by an `@nextLink` (a URI) or a
//! `continuationToken` (sent back as a query parameter). A next link must stay on the configured
//! service's origin: the token never follows a link elsewhere.

use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};
use crate::http::Prepared;

/// The most pages one list call follows (a service answering the same link forever would
/// otherwise never end).
pub const MAX_PAGES: usize = 1000;

/// Where the next page is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Link(String),
    Token(String),
}

/// One page's items, and where the next one is.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Value>,
    pub next: Option<Next>,
}

/// A page from its answer: a `{"value": [...]}` object (a bare list is taken as one last page).
pub fn parse(body: &[u8]) -> std::result::Result<Page, String> {
    let value = crate::json::parse(body).map_err(|e| format!("the list {e}"))?;
    let map = match value {
        Value::Array(items) => return Ok(Page { items, next: None }),
        Value::Object(map) => map,
        _ => return Err("the list is neither a JSON object nor a list".to_owned()),
    };
    let items = match map.get("value") {
        Some(Value::Array(items)) => items.clone(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err("\"value\" is not a list".to_owned()),
    };
    let string = |names: &[&str]| {
        map.iter().find_map(|(k, v)| match v {
            Value::String(s) if !s.trim().is_empty() && names.iter().any(|n| k.eq_ignore_ascii_case(n)) => {
                Some(s.trim().to_owned())
            }
            _ => None,
        })
    };
    let next = string(&["@nextLink", "nextLink", "@odata.nextLink"])
        .map(Next::Link)
        .or_else(|| string(&["continuationToken"]).map(Next::Token));
    Ok(Page { items, next })
}

/// The GET of the page after the one `current` answered. A link may be absolute (on the base's
/// origin only) or relative: to the origin when it starts with `/`, else to the base's path.
pub fn next_request(base: &Url, current: &Url, next: &Next) -> Result<Prepared> {
    match next {
        Next::Link(link) => {
            if link.chars().any(char::is_control) {
                return Err(Error::invalid("@nextLink", format!("{link:?} contains control characters")));
            }
            let mut directory = base.clone();
            if !directory.path().ends_with('/') {
                let path = format!("{}/", directory.path());
                directory.set_path(&path);
            }
            let url = directory
                .join(link)
                .map_err(|e| Error::invalid("@nextLink", format!("{link:?} is not a URL or path ({e})")))?;
            if url.origin() != base.origin() || !url.username().is_empty() {
                return Err(Error::invalid(
                    "@nextLink",
                    format!(
                        "{link:?} is not on the configured service {} (the token is only sent there)",
                        base.origin().ascii_serialization()
                    ),
                ));
            }
            Ok(Prepared::get(url))
        }
        Next::Token(token) => {
            let mut url = current.clone();
            let kept: Vec<(String, String)> = current
                .query_pairs()
                .filter(|(name, _)| name != "continuationToken")
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            // Rebuilt with `$version` spelled as sent (a literal `$`), the token escaped.
            let pairs = kept.iter().map(|(n, v)| (n.as_str(), v.as_str()));
            let query = super::request::query_text(pairs.chain([("continuationToken", token.as_str())]));
            url.set_query(Some(&query));
            Ok(Prepared::get(url))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        crate::validate::base_url("https://graph.microsoft.com/rp/product-ingestion").unwrap()
    }

    #[test]
    fn pages_name_their_next_by_link_or_token() {
        let page = parse(br#"{"value": [1, 2], "@nextLink": "submission/x?$skip=2"}"#).unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next, Some(Next::Link("submission/x?$skip=2".into())));
        let page = parse(br#"{"value": [], "continuationToken": "abc+/="}"#).unwrap();
        assert_eq!(page.next, Some(Next::Token("abc+/=".into())));
        assert_eq!(parse(br#"{"value": [3]}"#).unwrap().next, None);
        assert_eq!(parse(b"[4]").unwrap().items.len(), 1);
        assert!(parse(br#"{"value": 1}"#).is_err() && parse(b"1").is_err());
    }

    #[test]
    fn a_relative_link_keeps_the_base_path_and_other_origins_are_refused() {
        let current =
            Url::parse("https://graph.microsoft.com/rp/product-ingestion/submission/x?$version=2022-07-01")
                .unwrap();
        let next = |l: &str| next_request(&base(), &current, &Next::Link(l.into()));
        assert_eq!(
            next("submission/x?$skip=2").unwrap().url.as_str(),
            "https://graph.microsoft.com/rp/product-ingestion/submission/x?$skip=2"
        );
        assert_eq!(
            next("/rp/product-ingestion/submission/x?$skip=4").unwrap().url.as_str(),
            "https://graph.microsoft.com/rp/product-ingestion/submission/x?$skip=4"
        );
        let absolute = "https://graph.microsoft.com/rp/product-ingestion/submission/x?$skip=6";
        assert_eq!(next(absolute).unwrap().url.as_str(), absolute);
        for bad in ["https://evil.example/x", "//evil.example/x", "http://graph.microsoft.com/x", "a\nb"] {
            assert!(next(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_continuation_token_replaces_the_last_one_escaped() {
        let current = Url::parse("https://graph.microsoft.com/rp/product-ingestion/submission/x?$version=2022-07-01&continuationToken=old").unwrap();
        let got = next_request(&base(), &current, &Next::Token("a+b/=".into())).unwrap();
        assert_eq!(
            got.url.as_str(),
            "https://graph.microsoft.com/rp/product-ingestion/submission/x?$version=2022-07-01&continuationToken=a%2Bb%2F%3D"
        );
    }
}
