//! A request ready to send, as each service's request builders make it.

use url::Url;

/// A request ready to send, minus the per-call headers (token, request id) the sender adds.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub method: reqwest::Method,
    pub url: Url,
    /// JSON body, for POST and PUT.
    pub body: Option<Vec<u8>>,
    /// Sending it twice does what sending it once does (RFC 9110's "idempotent"): true for
    /// GETs, the cancels and an unconditional PUT. Such a request is sent again, once, when a pooled
    /// connection the server had closed loses it (`AttemptError::Stale`), and retried under
    /// `max_retries` after a connection that broke, even after it was sent (one that timed out
    /// has used the call's time).
    pub idempotent: bool,
    /// `If-Match`, for an update.
    pub if_match: Option<String>,
    /// Reads or writes a whole document (an offer, a resource tree), which the service may take
    /// minutes to answer: the call gets `Settings::document_timeout`.
    pub document: bool,
}

impl Prepared {
    /// A GET of `url`.
    pub fn get(url: Url) -> Self {
        Self {
            method: reqwest::Method::GET,
            url,
            body: None,
            idempotent: true,
            if_match: None,
            document: false,
        }
    }

    /// The same request, as a document read or write (`document`).
    pub fn of_document(mut self) -> Self {
        self.document = true;
        self
    }

    /// A POST of the JSON `body` to `url`.
    pub fn post(url: Url, body: Vec<u8>, idempotent: bool) -> Self {
        Self {
            method: reqwest::Method::POST,
            url,
            body: Some(body),
            idempotent,
            if_match: None,
            document: false,
        }
    }
}
