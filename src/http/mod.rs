//! The HTTP engine both services share: settings, a connection pool, and the send loop with
//! retries. What is service-neutral lives here and below (transport, retry policy, TLS,
//! recording); each API's requests and answers live in `cpp` and `ingestion`, which call
//! `Engine::send` with a `Prepared` request and read the `Sent` answer (`Engine::send_within`
//! for each request of a call that makes several, all within one deadline).

pub mod batch;
pub mod poll;
mod prepared;
pub mod record;
pub mod retry;
mod service;
mod settings;
pub mod tls;
pub mod transport;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};

pub use prepared::Prepared;
pub use service::Service;
pub use settings::{
    DEFAULT_DOCUMENT_TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SECONDS, MAX_INPUT_FILE_BYTES, PRODUCT, Settings,
};

use crate::error::{Error, Result};
use crate::json;
use crate::response::{self, RawResponse};
use crate::validate::{self, Token};
use retry::{Deadline, Verdict};
use tls::{Tls, Trust};
use transport::{AttemptError, Connections, Pool, PoolConfig};

const CLIENT_REQUEST_ID: &str = "x-ms-client-request-id";

/// Where the core reports what it does; the binding forwards to Python's `logging`.
pub trait Log: Send + Sync {
    /// Checked before a debug line is formatted, so silent logging costs nothing.
    fn debug_enabled(&self) -> bool;
    fn debug(&self, message: &str);
    fn warning(&self, message: &str);
}

/// A `Log` that drops everything.
pub struct Silent;

impl Log for Silent {
    fn debug_enabled(&self) -> bool {
        false
    }
    fn debug(&self, _: &str) {}
    fn warning(&self, _: &str) {}
}

/// A 2xx answer and the request id it was sent with.
#[derive(Debug)]
pub struct Sent {
    pub response: RawResponse,
    pub client_request_id: String,
}

impl Sent {
    /// The service's request id header, when it sent one.
    pub fn request_id(&self) -> Option<String> {
        response::request_id(&self.response.headers)
    }
}

/// A document the service answered (an offer, the list of offers): its JSON, parsed within the
/// bounds of `json`, and the `ETag` it came with.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: serde_json::Value,
    pub etag: Option<String>,
    pub request_id: Option<String>,
}

/// What a document's JSON must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Object,
    List,
}

impl Document {
    /// A 2xx answer's body as a document of `shape`, or `Error::Malformed` saying why not.
    pub fn read(sent: &Sent, shape: Shape) -> Result<Self> {
        let value = json::parse(whole_body(sent)?).map_err(|e| malformed(sent, format!("the answer {e}")))?;
        let fits = match shape {
            Shape::Object => value.is_object(),
            Shape::List => value.is_array(),
        };
        if !fits {
            let expected = if shape == Shape::List { "a JSON list" } else { "a JSON object" };
            return Err(malformed(sent, format!("the answer is not {expected}")));
        }
        Ok(Self {
            value,
            etag: response::header(&sent.response.headers, "etag"),
            request_id: sent.request_id(),
        })
    }
}

/// One service's settings, a pool of connections to it, and the send loop.
#[derive(Debug)]
pub struct Engine {
    settings: Settings,
    pool: Pool,
    closed: AtomicBool,
}

impl Engine {
    pub fn new(settings: Settings) -> Self {
        let tls = Tls::for_trust(&Trust::from_env(settings.extra_roots.clone()));
        if settings.base_url.scheme() == "https" {
            tls.prefetch();
        }
        let pool = Pool::new(PoolConfig {
            user_agent: settings.user_agent.clone(),
            connect_timeout: settings.timeout,
            bypass_proxy: validate::is_loopback(&settings.base_url),
            tls,
        });
        Self { settings, pool, closed: AtomicBool::new(false) }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Refuse further calls and drop idle connections.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.pool.clear();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The deadline of a call starting now, whose longest request reads or writes a whole
    /// document (`document`) or not (`Settings::timeout_for`).
    pub fn deadline(&self, document: bool) -> Deadline {
        Deadline::new(Instant::now(), self.settings.timeout_for(document))
    }

    /// Send a call's one request (`send_within` a deadline of its own).
    pub async fn send(&self, request: &Prepared, token: &Token, log: &dyn Log) -> Result<Sent> {
        self.send_within(request, token, log, &self.deadline(request.document)).await
    }

    /// Send one of `call`'s requests with retries until a 2xx answer (returned) or a final
    /// failure (the error), within what is left of the call (and no more than the request's own
    /// kind of timeout): each attempt gets what is left, and a retry whose wait would not end
    /// before the deadline is not made (`retry::Deadline`).
    pub async fn send_within(
        &self,
        request: &Prepared,
        token: &Token,
        log: &dyn Log,
        call: &Deadline,
    ) -> Result<Sent> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let deadline = call.at_most(self.settings.timeout_for(request.document), Instant::now());
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let headers = headers(token, &client_request_id, request)?;
        let http = |connections| {
            self.pool
                .client(connections)
                .map_err(|reason| Error::Transport { reason, client_request_id: None })
        };
        let mut client = http(Connections::Pooled)?;
        let mut resent_fresh = false;
        let mut retries = 0;
        let mut attempts = 0;
        loop {
            let started = Instant::now();
            attempts += 1;
            let outcome = transport::attempt(&client, request, headers.clone(), deadline.left(started)).await;
            let elapsed = started.elapsed();
            if let (Some(recorder), Ok(answer)) = (&self.settings.recorder, &outcome)
                && let Err(failed) = recorder.record(request, &headers, answer, token.as_str())
            {
                // Recording is for the caller's tests and bug reports: it never fails the call.
                log.warning(&format!("could not record to {}: {failed}", recorder.path().display()));
            }
            let outcome = match outcome {
                Ok(response) if (200..300).contains(&response.status) => {
                    log_attempt(log, request, &client_request_id, &Ok(&response), elapsed, None);
                    return Ok(Sent { response, client_request_id });
                }
                // A pooled connection the server had closed while idle lost the request before
                // any answer came back. An idempotent request goes again at once on a new
                // connection, once per call and outside `max_retries`: the failure was the idle
                // connection's, not the service's. (The cancel is idempotent: see `Prepared`.)
                Err(AttemptError::Stale(reason)) if request.idempotent && !resent_fresh => {
                    if log.debug_enabled() {
                        log.debug(&format!(
                            "{} {} -> the reused connection was closed under it ({reason}) in {:.1} ms \
                             client-request-id={client_request_id}; sending again on a new connection",
                            request.method,
                            request.url,
                            elapsed.as_secs_f64() * 1000.0
                        ));
                    }
                    client = http(Connections::Fresh)?;
                    resent_fresh = true;
                    continue;
                }
                other => other,
            };
            let retry_after = outcome.as_ref().ok().and_then(header_retry_after);
            let verdict =
                deadline.admit(self.verdict(request, &outcome, retries, retry_after), Instant::now());
            log_attempt(log, request, &client_request_id, &outcome.as_ref(), elapsed, Some(verdict));
            let client_request_id = client_request_id.clone();
            let failure = match outcome {
                Ok(response) => Error::Api(Box::new(response::api_failure(
                    &response,
                    &client_request_id,
                    retry_after.map(|d| d.as_secs_f64()),
                    token.as_str(),
                ))),
                Err(AttemptError::Timeout(timed_out)) => Error::Timeout {
                    after: deadline.timeout(),
                    attempts,
                    last: timed_out.to_string(),
                    client_request_id: Some(client_request_id),
                },
                Err(
                    AttemptError::Connect(reason)
                    | AttemptError::Tls(reason)
                    | AttemptError::Broken(reason)
                    | AttemptError::Stale(reason),
                ) => Error::Transport { reason, client_request_id: Some(client_request_id) },
            };
            match verdict {
                Verdict::GiveUp | Verdict::OutOfTime(_) => return Err(failure),
                Verdict::RetryAfter(delay) => {
                    tokio::time::sleep(delay).await;
                    if self.is_closed() {
                        return Err(Error::Closed);
                    }
                    // A sleep that overran (a busy machine) into the deadline ends the call as a
                    // wait past it would have.
                    if deadline.left(Instant::now()).is_zero() {
                        return Err(failure);
                    }
                    retries += 1;
                }
            }
        }
    }

    /// Whether a failed attempt is worth another, and after what wait (the deadline aside).
    fn verdict(
        &self,
        request: &Prepared,
        outcome: &std::result::Result<RawResponse, AttemptError>,
        retries: u32,
        retry_after: Option<Duration>,
    ) -> Verdict {
        let policy = &self.settings.retry;
        match outcome {
            // A failure status may hide work done (a 502 or 504 from a gateway, a 500 half way):
            // only a request whose repeat is harmless is sent again.
            Ok(response) if request.idempotent => policy.after_status(response.status, retries, retry_after),
            Ok(_) => Verdict::GiveUp,
            Err(AttemptError::Connect(_)) => policy.after_connect_failure(retries),
            Err(AttemptError::Tls(_)) => Verdict::GiveUp,
            // The attempt had all that was left of the call's time.
            Err(AttemptError::Timeout(_)) => Verdict::GiveUp,
            // An idempotent request (a read, a cancel, an unconditional PUT) may be repeated even
            // after it may have reached the service: a repeat does what the first did. Anything
            // else (a publish, a go-live, configure, a PUT under an ETag) may have happened, and a
            // second one is not ours to send.
            Err(AttemptError::Broken(_) | AttemptError::Stale(_)) if request.idempotent => {
                policy.after_connect_failure(retries)
            }
            Err(AttemptError::Broken(_) | AttemptError::Stale(_)) => Verdict::GiveUp,
        }
    }
}

/// The per-call headers. The token is marked sensitive so no debug output of the headers can
/// show it.
fn headers(token: &Token, client_request_id: &str, request: &Prepared) -> Result<HeaderMap> {
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.as_str()))
        .map_err(|_| Error::invalid("token", "is not a valid header value (the value is not shown)"))?;
    auth.set_sensitive(true);
    let mut headers = HeaderMap::with_capacity(4);
    headers.insert(AUTHORIZATION, auth);
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    if request.body.is_some() {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if let Some(condition) = &request.if_match {
        let value = HeaderValue::from_str(condition)
            .map_err(|_| Error::invalid("if_match", format!("{condition:?} is not a valid header value")))?;
        headers.insert(reqwest::header::IF_MATCH, value);
    }
    if let Ok(id) = HeaderValue::from_str(client_request_id) {
        headers.insert(CLIENT_REQUEST_ID, id);
    }
    Ok(headers)
}

#[cold]
pub fn malformed(sent: &Sent, reason: String) -> Error {
    Error::Malformed {
        reason,
        status: sent.response.status,
        request_id: response::request_id(&sent.response.headers),
        client_request_id: Some(sent.client_request_id.clone()),
    }
}

/// The body of a success answer that a call parses: whole, or an error that says why not (never
/// a parse error about a cut body).
pub fn whole_body(sent: &Sent) -> Result<&[u8]> {
    let response = &sent.response;
    if let Some(limit) = response.over_limit {
        return Err(Error::TooLarge {
            limit,
            status: response.status,
            request_id: response::request_id(&response.headers),
            client_request_id: Some(sent.client_request_id.clone()),
        });
    }
    if response.truncated {
        return Err(malformed(sent, format!("the answer broke off after {} bytes", response.body.len())));
    }
    Ok(&response.body)
}

pub fn header_retry_after(response: &RawResponse) -> Option<Duration> {
    let value = response::header(&response.headers, "retry-after")?;
    retry::parse_retry_after(&value, SystemTime::now())
}

/// One DEBUG line per attempt: method, URL, status or error, duration, ids, and the retry plan.
fn log_attempt(
    log: &dyn Log,
    request: &Prepared,
    client_request_id: &str,
    outcome: &std::result::Result<&RawResponse, &AttemptError>,
    elapsed: Duration,
    verdict: Option<Verdict>,
) {
    if !log.debug_enabled() {
        return;
    }
    let result = match outcome {
        Ok(response) => format!(
            "HTTP {} request-id={}",
            response.status,
            response::request_id(&response.headers).as_deref().unwrap_or("-")
        ),
        Err(AttemptError::Connect(reason)) => format!("connect failed: {reason}"),
        Err(AttemptError::Tls(reason)) => format!("TLS failed: {reason}"),
        Err(AttemptError::Broken(reason)) => format!("no usable answer: {reason}"),
        Err(AttemptError::Stale(reason)) => format!("the reused connection was closed under it: {reason}"),
        Err(AttemptError::Timeout(timed_out)) => format!("timed out: {timed_out}"),
    };
    let plan = match verdict {
        Some(Verdict::RetryAfter(delay)) => format!("; retrying in {:.3} s", delay.as_secs_f64()),
        Some(Verdict::OutOfTime(delay)) => {
            format!("; not retrying: a wait of {:.3} s would pass the call's timeout", delay.as_secs_f64())
        }
        Some(Verdict::GiveUp) | None => String::new(),
    };
    log.debug(&format!(
        "{} {} -> {result} in {:.1} ms client-request-id={client_request_id}{plan}",
        request.method,
        request.url,
        elapsed.as_secs_f64() * 1000.0
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_carry_a_sensitive_bearer_and_the_request_id() {
        let url = url::Url::parse("https://example.com/x").unwrap();
        let post = Prepared::post(url, b"{}".to_vec(), false);
        let h = headers(&Token::new("Bearer abc").unwrap(), "id-1", &post).unwrap();
        assert_eq!(h[AUTHORIZATION], "Bearer abc");
        assert!(h[AUTHORIZATION].is_sensitive());
        assert_eq!(h[CONTENT_TYPE], "application/json");
        assert_eq!(h[CLIENT_REQUEST_ID], "id-1");
        assert!(!format!("{h:?}").contains("abc"));
        assert!(Token::new("a b").is_err());
    }
}
