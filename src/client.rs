//! A configured client: settings, a connection pool, and the send loop with retries.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use url::Url;

use crate::error::{Error, Result};
use crate::offer::{self, OfferQuery, PutOffer};
use crate::operation::{self, Operation};
use crate::record::Recorder;
use crate::request::{ListQuery, OfferAction, OperationLocation, Prepared};
use crate::response::{self, RawResponse};
use crate::retry::{self, RetryPolicy, Verdict};
use crate::tls::{Tls, Trust};
use crate::transport::{self, AttemptError, Connections, Pool, PoolConfig};
use crate::validate::{self, Token};

/// The service, as an `https://` origin; also the resource tokens are issued for.
macro_rules! service {
    () => {
        "https://cloudpartner.azure.com"
    };
}
pub(crate) use service;

pub const DEFAULT_BASE_URL: &str = service!();
/// Seconds each attempt may take, connect to last byte.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;
/// Seconds `wait` waits in all, and between polls, unless told otherwise (a cancel takes one to
/// three minutes).
pub const DEFAULT_WAIT_SECONDS: f64 = 600.0;
pub const DEFAULT_POLL_INTERVAL_SECONDS: f64 = 5.0;
const CLIENT_REQUEST_ID: &str = "x-ms-client-request-id";
const PRODUCT: &str = concat!("cloudpartner-python/", env!("CARGO_PKG_VERSION"));

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

/// Validated client settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: Url,
    /// Bounds each attempt as a whole, connect to last byte.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub user_agent: String,
    /// Trusted in addition to the system's roots (corporate CAs).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Where every exchange is appended, when recording (`record_to`).
    pub recorder: Option<std::sync::Arc<Recorder>>,
}

impl Settings {
    pub fn new(
        base_url: &str,
        timeout_seconds: f64,
        max_retries: u32,
        backoff_seconds: f64,
        user_agent: Option<&str>,
    ) -> Result<Self> {
        if max_retries > 10 {
            return Err(Error::invalid("max_retries", format!("{max_retries} is more than 10")));
        }
        let backoff = if backoff_seconds == 0.0 {
            Duration::ZERO
        } else {
            validate::timeout("backoff", backoff_seconds)?
        };
        let user_agent = match user_agent {
            Some(prefix) => {
                validate::user_agent(prefix)?;
                format!("{prefix} {PRODUCT}")
            }
            None => PRODUCT.to_owned(),
        };
        Ok(Self {
            base_url: validate::base_url(base_url)?,
            timeout: validate::timeout("timeout", timeout_seconds)?,
            retry: RetryPolicy { max_retries, backoff, ..RetryPolicy::default() },
            user_agent,
            extra_roots: Vec::new(),
            recorder: None,
        })
    }

    /// Append every exchange to the JSON Lines file at `path` (`record::Recorder`).
    pub fn record_to(mut self, path: &std::path::Path) -> Result<Self> {
        self.recorder = Some(std::sync::Arc::new(Recorder::open(path)?));
        Ok(self)
    }

    /// Also trust the certificates of a PEM bundle. Read now, so a bad file fails at once.
    pub fn trust_pem_file(mut self, path: &std::path::Path) -> Result<Self> {
        let shown = path.display();
        let pem = std::fs::read(path)
            .map_err(|e| Error::invalid("ca_file", format!("cannot read {:?}: {e}", shown.to_string())))?;
        let certs =
            CertificateDer::pem_slice_iter(&pem).collect::<std::result::Result<Vec<_>, _>>().map_err(
                |e| Error::invalid("ca_file", format!("{:?} is not a PEM bundle: {e}", shown.to_string())),
            )?;
        if certs.is_empty() {
            return Err(Error::invalid(
                "ca_file",
                format!("{:?} holds no PEM certificate", shown.to_string()),
            ));
        }
        self.extra_roots.extend(certs);
        Ok(self)
    }
}

/// A successful cancel.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub outcome: response::ActionOutcome,
    pub client_request_id: String,
}

/// A document the service answered (an offer, the list of offers): its JSON text, checked to be
/// an object or a list, and the `ETag` it came with.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub request_id: Option<String>,
}

/// How `wait` polls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitOptions {
    pub timeout: Duration,
    pub poll_interval: Duration,
    /// Also stop when the operation waits for the publisher's review (`publisher-signoff`):
    /// a publish has done its part, and going live is next.
    pub until_review: bool,
}

impl WaitOptions {
    pub fn new(timeout_seconds: f64, poll_interval_seconds: f64) -> Result<Self> {
        Ok(Self {
            timeout: validate::timeout("timeout", timeout_seconds)?,
            poll_interval: validate::timeout("poll_interval", poll_interval_seconds)?,
            until_review: false,
        })
    }
}

/// Gives the token for each poll of a long wait (a credential's token may be refreshed meanwhile);
/// `None` when the token source failed (the binding keeps the reason).
pub type TokenSupplier<'a> = dyn Fn() -> Option<Token> + Send + Sync + 'a;

/// Told each finished item of a batch (its input index); `Break` stops the batch.
pub type ResultSink<'a> = dyn FnMut(usize, &Result<(OfferAction, Accepted)>) -> ControlFlow<()> + Send + 'a;

/// The most calls a batch may keep in flight.
pub const MAX_CONCURRENCY: usize = 1024;
/// How many calls a batch keeps in flight unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Told each new state while waiting; `Break` stops the wait with `Error::Stopped`.
pub type ProgressSink<'a> = dyn FnMut(&Operation) -> ControlFlow<()> + Send + 'a;

/// A 2xx answer and the request id it was sent with.
struct Sent {
    response: RawResponse,
    client_request_id: String,
}

#[derive(Debug)]
pub struct Client {
    settings: Settings,
    pool: Pool,
    closed: AtomicBool,
}

impl Client {
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

    /// Send a validated cancel, publish or go-live and map its answer.
    pub async fn submit(&self, call: &OfferAction, token: &Token, log: &dyn Log) -> Result<Accepted> {
        let sent = self.send(&call.prepare(&self.settings.base_url), token, log).await?;
        let outcome = response::action_outcome(&sent.response, &self.settings.base_url);
        if outcome.status == 202 && outcome.operation_location.is_none() {
            log.warning(&format!(
                "{} of {}/{} was accepted (202) but the answer names no operation location \
                 (client request id {})",
                call.action.as_str(),
                call.publisher,
                call.offer,
                sent.client_request_id
            ));
        }
        Ok(Accepted { outcome, client_request_id: sent.client_request_id })
    }

    /// Cancel many offers with at most `concurrency` calls in flight. Each item's outcome is kept
    /// in input order; a failed item (refused input, 404, ...) does not stop the others.
    pub async fn cancel_many(
        &self,
        calls: Vec<Result<OfferAction>>,
        token: &Token,
        concurrency: usize,
        log: &dyn Log,
        on_result: &mut ResultSink<'_>,
    ) -> Result<Vec<Result<(OfferAction, Accepted)>>> {
        use futures_util::stream::{self, StreamExt};

        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            return Err(Error::invalid(
                "concurrency",
                format!("{concurrency} is not from 1 to {MAX_CONCURRENCY}"),
            ));
        }
        let mut slots: Vec<Option<Result<(OfferAction, Accepted)>>> = vec![None; calls.len()];
        let mut finished = stream::iter(calls.into_iter().enumerate())
            .map(|(index, call)| async move {
                let outcome = match call {
                    Ok(call) => self.submit(&call, token, log).await.map(|done| (call, done)),
                    Err(refused) => Err(refused),
                };
                (index, outcome)
            })
            .buffer_unordered(concurrency);
        while let Some((index, outcome)) = finished.next().await {
            if on_result(index, &outcome).is_break() {
                return Err(Error::Stopped);
            }
            if let Some(slot) = slots.get_mut(index) {
                *slot = Some(outcome);
            }
        }
        // Every index was filled by the loop above; `Closed` only stands in for the impossible.
        Ok(slots.into_iter().map(|slot| slot.unwrap_or(Err(Error::Closed))).collect())
    }

    /// One operation, by the location a cancel returned (absolute or relative), with the
    /// `Retry-After` the answer carried, if any.
    pub async fn get_operation(
        &self,
        location: &OperationLocation,
        token: &Token,
        log: &dyn Log,
    ) -> Result<(Operation, Option<Duration>)> {
        let prepared = location.prepare();
        let fallback_id = response::operation_id(location.url());
        let sent = self.send(&prepared, token, log).await?;
        let operation = operation::parse_one(whole_body(&sent)?, fallback_id.as_deref())
            .map_err(|r| malformed(&sent, r))?;
        Ok((operation, header_retry_after(&sent.response)))
    }

    /// The operations of an offer, newest first as the service lists them.
    pub async fn list_operations(
        &self,
        query: &ListQuery,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Vec<Operation>> {
        let sent = self.send(&query.prepare(&self.settings.base_url), token, log).await?;
        operation::parse_list(whole_body(&sent)?).map_err(|r| malformed(&sent, r))
    }

    /// One offer's definition (`offer::OfferQuery`), with its ETag.
    pub async fn get_offer(&self, query: &OfferQuery, token: &Token, log: &dyn Log) -> Result<Document> {
        self.document(&query.prepare(&self.settings.base_url), b'{', token, log).await
    }

    /// Create or update an offer under the concurrency rule `put.if_match`; the service answers
    /// with the stored offer and its new ETag.
    pub async fn put_offer(&self, put: &PutOffer, token: &Token, log: &dyn Log) -> Result<Document> {
        self.document(&put.prepare(&self.settings.base_url), b'{', token, log).await
    }

    /// The publisher's offers: a JSON list of summaries.
    pub async fn list_offers(&self, prepared: &Prepared, token: &Token, log: &dyn Log) -> Result<Document> {
        self.document(prepared, b'[', token, log).await
    }

    /// An offer's status: `{"status", "messages", "steps"}`, read as an operation is.
    pub async fn offer_status(&self, prepared: &Prepared, token: &Token, log: &dyn Log) -> Result<Operation> {
        let sent = self.send(prepared, token, log).await?;
        operation::parse_one(whole_body(&sent)?, None).map_err(|r| malformed(&sent, r))
    }

    /// A 2xx answer whose body is one JSON value opening with `open` (`{` or `[`).
    async fn document(
        &self,
        prepared: &Prepared,
        open: u8,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Document> {
        let sent = self.send(prepared, token, log).await?;
        if !offer::is_json(whole_body(&sent)?, open) {
            let expected = if open == b'[' { "a JSON list" } else { "a JSON object" };
            return Err(malformed(&sent, format!("the answer is not {expected}")));
        }
        Ok(Document {
            etag: response::header(&sent.response.headers, "etag"),
            request_id: response::request_id(&sent.response.headers),
            body: sent.response.body,
        })
    }

    /// Poll an operation until it ends (returned), `options.timeout` passes
    /// (`Error::WaitTimeout` with the last state seen), or it cannot be polled. Transient failures
    /// (5xx, 429, transport, unreadable answers) are polled through; `on_progress` hears every
    /// change of status or step progress, the first state included.
    pub async fn wait(
        &self,
        location: &OperationLocation,
        tokens: &TokenSupplier<'_>,
        options: WaitOptions,
        log: &dyn Log,
        on_progress: &mut ProgressSink<'_>,
    ) -> Result<Operation> {
        let deadline = Instant::now() + options.timeout;
        let timed_out =
            |last: Option<Operation>| Error::WaitTimeout { after: options.timeout, last: last.map(Box::new) };
        let mut last: Option<Operation> = None;
        loop {
            let token = tokens().ok_or(Error::Stopped)?;
            let mut delay = options.poll_interval;
            // A poll with its retries and their waits may not outlast the wait itself.
            let remaining = deadline.saturating_duration_since(Instant::now());
            let Ok(polled) = tokio::time::timeout(remaining, self.get_operation(location, &token, log)).await
            else {
                return Err(timed_out(last));
            };
            match polled {
                Ok((operation, retry_after)) => {
                    let changed = last.as_ref().is_none_or(|l| !l.same_progress(&operation));
                    if changed && on_progress(&operation).is_break() {
                        return Err(Error::Stopped);
                    }
                    if operation.phase().is_terminal()
                        || (options.until_review && operation.waiting_for_review())
                    {
                        return Ok(operation);
                    }
                    delay = delay.max(retry_after.unwrap_or_default());
                    last = Some(operation);
                }
                Err(error) if error.is_transient() => {
                    if log.debug_enabled() {
                        log.debug(&format!("polling {} failed, polling on: {error}", location.url()));
                    }
                    // A throttled or failing poll's Retry-After is honoured too (however long:
                    // the wait's own deadline bounds it).
                    if let Error::Api(failure) = &error {
                        let asked = failure.retry_after.map_or(Duration::ZERO, Duration::from_secs_f64);
                        delay = delay.max(asked);
                    }
                }
                Err(error) => return Err(error),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(timed_out(last));
            }
            tokio::time::sleep(delay.min(deadline - now)).await;
        }
    }

    /// Send with retries until a 2xx answer (returned) or a final failure (the error).
    async fn send(&self, request: &Prepared, token: &Token, log: &dyn Log) -> Result<Sent> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
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
        loop {
            let started = Instant::now();
            let outcome = transport::attempt(&client, request, headers.clone(), self.settings.timeout).await;
            let elapsed = started.elapsed();
            if let (Some(recorder), Ok(answer)) = (&self.settings.recorder, &outcome)
                && let Err(failed) = recorder.record(request, &headers, answer, token.as_str())
            {
                // Recording is for the caller's tests and bug reports: it never fails the call.
                log.warning(&format!("could not record to {}: {failed}", recorder.path().display()));
            }
            let (verdict, failure) = match outcome {
                Ok(response) if (200..300).contains(&response.status) => {
                    log_attempt(log, request, &client_request_id, &Ok(&response), elapsed, None);
                    return Ok(Sent { response, client_request_id });
                }
                Ok(response) => {
                    let wait = header_retry_after(&response);
                    let verdict = self.settings.retry.after_status(response.status, retries, wait);
                    let failure = response::api_failure(
                        &response,
                        &client_request_id,
                        wait.map(|d| d.as_secs_f64()),
                        token.as_str(),
                    );
                    log_attempt(log, request, &client_request_id, &Ok(&response), elapsed, Some(verdict));
                    (verdict, Error::Api(Box::new(failure)))
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
                Err(error) => {
                    let verdict = match &error {
                        AttemptError::Connect(_) => self.settings.retry.after_connect_failure(retries),
                        // A GET may be repeated; a POST may have reached the service, and a second
                        // one after an answer went missing is not ours to send.
                        AttemptError::Broken(_) | AttemptError::Stale(_) | AttemptError::Timeout
                            if request.is_safe() =>
                        {
                            self.settings.retry.after_connect_failure(retries)
                        }
                        AttemptError::Broken(_) | AttemptError::Stale(_) | AttemptError::Timeout => {
                            Verdict::GiveUp
                        }
                    };
                    log_attempt(log, request, &client_request_id, &Err(&error), elapsed, Some(verdict));
                    let client_request_id = Some(client_request_id.clone());
                    let failure = match error {
                        AttemptError::Connect(reason)
                        | AttemptError::Broken(reason)
                        | AttemptError::Stale(reason) => Error::Transport { reason, client_request_id },
                        AttemptError::Timeout => {
                            Error::Timeout { after: self.settings.timeout, client_request_id }
                        }
                    };
                    (verdict, failure)
                }
            };
            match verdict {
                Verdict::GiveUp => return Err(failure),
                Verdict::RetryAfter(delay) => {
                    tokio::time::sleep(delay).await;
                    if self.is_closed() {
                        return Err(Error::Closed);
                    }
                    retries += 1;
                }
            }
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
fn malformed(sent: &Sent, reason: String) -> Error {
    Error::Malformed {
        reason,
        status: sent.response.status,
        request_id: response::request_id(&sent.response.headers),
        client_request_id: Some(sent.client_request_id.clone()),
    }
}

/// The body of a success answer that a call parses: whole, or an error that says why not (never
/// a parse error about a cut body).
fn whole_body(sent: &Sent) -> Result<&[u8]> {
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

fn header_retry_after(response: &RawResponse) -> Option<Duration> {
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
        Err(AttemptError::Broken(reason)) => format!("no usable answer: {reason}"),
        Err(AttemptError::Stale(reason)) => format!("the reused connection was closed under it: {reason}"),
        Err(AttemptError::Timeout) => "timed out".to_owned(),
    };
    let plan = match verdict {
        Some(Verdict::RetryAfter(delay)) => format!("; retrying in {:.3} s", delay.as_secs_f64()),
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
    use crate::request::Action;

    fn token() -> Token {
        Token::new("t").unwrap()
    }

    /// The operation `op` on `client`'s service.
    fn op(client: &Client) -> OperationLocation {
        OperationLocation::new(&client.settings().base_url, "/api/operations/op").unwrap()
    }

    #[test]
    fn settings_validate_every_field() {
        let ok = Settings::new(DEFAULT_BASE_URL, 30.0, 3, 0.5, Some("release-bot/2.1")).unwrap();
        assert_eq!(ok.user_agent, format!("release-bot/2.1 {PRODUCT}"));
        assert!(matches!(
            Settings::new(DEFAULT_BASE_URL, 0.0, 3, 0.5, None),
            Err(Error::InvalidArgument { field: "timeout", .. })
        ));
        assert!(matches!(
            Settings::new(DEFAULT_BASE_URL, 1.0, 11, 0.5, None),
            Err(Error::InvalidArgument { field: "max_retries", .. })
        ));
        assert!(matches!(
            Settings::new("http://example.com", 1.0, 1, 0.5, None),
            Err(Error::InvalidArgument { field: "base_url", .. })
        ));
        assert!(matches!(
            Settings::new(DEFAULT_BASE_URL, 1.0, 1, 0.5, Some("a\nb")),
            Err(Error::InvalidArgument { field: "user_agent", .. })
        ));
    }

    #[test]
    fn headers_carry_a_sensitive_bearer_and_the_request_id() {
        let post = OfferAction::new(Action::Cancel, "p", "o", [])
            .unwrap()
            .prepare(&Url::parse(DEFAULT_BASE_URL).unwrap());
        let h = headers(&Token::new("Bearer abc").unwrap(), "id-1", &post).unwrap();
        assert_eq!(h[AUTHORIZATION], "Bearer abc");
        assert!(h[AUTHORIZATION].is_sensitive());
        assert_eq!(h[CONTENT_TYPE], "application/json");
        assert_eq!(h[CLIENT_REQUEST_ID], "id-1");
        assert!(!format!("{h:?}").contains("abc"));
        assert!(Token::new("a b").is_err());
    }

    #[test]
    fn a_batch_checks_its_concurrency_and_keeps_refused_items_in_place() {
        let client = Client::new(Settings::new("http://127.0.0.1:9", 1.0, 0, 0.0, None).unwrap());
        let rt = crate::runtime::current_thread().unwrap();
        let mut ignore = |_: usize, _: &Result<(OfferAction, Accepted)>| ControlFlow::Continue(());
        for bad in [0, MAX_CONCURRENCY + 1] {
            let got = rt.block_on(client.cancel_many(vec![], &token(), bad, &Silent, &mut ignore));
            assert!(matches!(got, Err(Error::InvalidArgument { field: "concurrency", .. })));
        }
        let calls = vec![
            OfferAction::new(Action::Cancel, "a/b", "o", []),
            OfferAction::new(Action::Cancel, "p", "", []),
        ];
        let mut heard = Vec::new();
        let got = rt
            .block_on(client.cancel_many(calls, &token(), 4, &Silent, &mut |i, _| {
                heard.push(i);
                ControlFlow::Continue(())
            }))
            .unwrap();
        let fields: Vec<_> = got
            .iter()
            .map(|r| match r {
                Err(Error::InvalidArgument { field, .. }) => *field,
                _ => "sent",
            })
            .collect();
        assert_eq!(fields, ["publisher", "offer"]);
        heard.sort_unstable();
        assert_eq!(heard, [0, 1]);
    }

    /// A server on 127.0.0.1 answering each connection with the next of `answers` (the last
    /// repeats), as `HTTP/1.1 200` with a JSON body and `Connection: close`.
    fn serve(answers: Vec<&'static str>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for (n, stream) in listener.incoming().enumerate().take(50) {
                let Ok(mut stream) = stream else { return };
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let body = answers[n.min(answers.len() - 1)];
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
            }
        });
        base
    }

    const RUNNING_40: &str = r#"{"id": "op", "status": "running", "steps": [{"stepName": "s", "status": "inProgress", "progressPercentage": 40}]}"#;
    const RUNNING_60: &str = r#"{"id": "op", "status": "running", "steps": [{"stepName": "s", "status": "inProgress", "progressPercentage": 60}]}"#;
    const CANCELED: &str = r#"{"id": "op", "status": "Cancelled", "steps": []}"#;

    #[test]
    fn wait_polls_to_the_end_reporting_each_change_once() {
        let base = serve(vec![RUNNING_40, RUNNING_40, RUNNING_60, CANCELED]);
        let client = Client::new(Settings::new(&base, 2.0, 0, 0.0, None).unwrap());
        let options = WaitOptions::new(5.0, 0.01).unwrap();
        let mut seen = Vec::new();
        let tokens = || Some(token());
        let done = crate::runtime::current_thread()
            .unwrap()
            .block_on(client.wait(&op(&client), &tokens, options, &Silent, &mut |op| {
                seen.push((op.status.clone(), op.steps.first().and_then(|s| s.progress)));
                ControlFlow::Continue(())
            }))
            .unwrap();
        assert!(done.phase() == crate::operation::Phase::Canceled);
        assert_eq!(
            seen,
            [("running".into(), Some(40.0)), ("running".into(), Some(60.0)), ("Cancelled".into(), None)]
        );
    }

    #[test]
    fn wait_times_out_with_the_last_state_and_a_callback_can_stop_it() {
        let base = serve(vec![RUNNING_40]);
        let client = Client::new(Settings::new(&base, 2.0, 0, 0.0, None).unwrap());
        let rt = crate::runtime::current_thread().unwrap();
        let tokens = || Some(token());
        let options = WaitOptions::new(0.2, 0.05).unwrap();
        let got = rt.block_on(
            client.wait(&op(&client), &tokens, options, &Silent, &mut |_| ControlFlow::Continue(())),
        );
        match got {
            Err(Error::WaitTimeout { last: Some(op), .. }) => assert_eq!(op.status, "running"),
            other => panic!("expected a wait timeout, got {other:?}"),
        }
        let got = rt
            .block_on(client.wait(&op(&client), &tokens, options, &Silent, &mut |_| ControlFlow::Break(())));
        assert_eq!(got, Err(Error::Stopped));
        let no_token = || None;
        let got = rt.block_on(
            client.wait(&op(&client), &no_token, options, &Silent, &mut |_| ControlFlow::Continue(())),
        );
        assert_eq!(got, Err(Error::Stopped));
    }

    #[test]
    fn a_poll_that_hangs_cannot_outlast_the_wait() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let _held: Vec<_> = listener.incoming().take(4).collect(); // accept, never answer
            std::thread::sleep(Duration::from_secs(10));
        });
        let client = Client::new(Settings::new(&base, 5.0, 2, 0.0, None).unwrap());
        let tokens = || Some(token());
        let options = WaitOptions::new(0.3, 0.05).unwrap();
        let started = Instant::now();
        let got = crate::runtime::current_thread().unwrap().block_on(client.wait(
            &op(&client),
            &tokens,
            options,
            &Silent,
            &mut |_| ControlFlow::Continue(()),
        ));
        assert!(matches!(got, Err(Error::WaitTimeout { last: None, .. })), "{got:?}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }

    /// A `Log` that keeps every debug line.
    #[derive(Default)]
    struct Lines(std::sync::Mutex<Vec<String>>);

    impl Log for Lines {
        fn debug_enabled(&self) -> bool {
            true
        }
        fn debug(&self, message: &str) {
            self.0.lock().unwrap().push(message.to_owned());
        }
        fn warning(&self, message: &str) {
            self.0.lock().unwrap().push(message.to_owned());
        }
    }

    impl Lines {
        fn count(&self, needle: &str) -> usize {
            self.0.lock().unwrap().iter().filter(|l| l.contains(needle)).count()
        }
    }

    const RESENT: &str = "sending again on a new connection";

    /// Run `f` on this test's own current-thread runtime (other tests drive the shared one) as a
    /// blocking call does (`catch_up`), or entering it bare, so that the pool cannot have seen
    /// what happened while nobody drove the runtime.
    fn enter<F: std::future::Future>(runtime: &tokio::runtime::Runtime, catch_up: bool, f: F) -> F::Output {
        if catch_up { crate::runtime::block_on_caught_up(runtime, f) } else { runtime.block_on(f) }
    }

    fn private_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    /// Longer than the test server's idle close (50 ms), with nobody driving the runtime.
    fn undriven_pause() {
        std::thread::sleep(Duration::from_millis(150));
    }

    #[test]
    fn a_get_lost_on_a_pooled_connection_the_server_closed_is_sent_once_more_on_a_new_one() {
        let server =
            crate::test_server::IdleClosingServer::start(Duration::from_millis(50), "200 OK", CANCELED);
        let client = Client::new(Settings::new(&server.base, 2.0, 0, 0.0, None).unwrap());
        let log = Lines::default();
        let rt = private_runtime();
        let first = enter(&rt, false, client.get_operation(&op(&client), &token(), &log));
        undriven_pause();
        let second = enter(&rt, false, client.get_operation(&op(&client), &token(), &log));
        assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
        assert_eq!(log.count(RESENT), 1);
        // The lost request never reached the server: it saw two requests on two connections.
        assert_eq!((server.requests(), server.connections()), (2, 2));
    }

    #[test]
    fn a_cancel_lost_on_a_stale_pooled_connection_is_sent_again_since_cancel_is_idempotent() {
        let server =
            crate::test_server::IdleClosingServer::start(Duration::from_millis(50), "202 Accepted", "");
        let client = Client::new(Settings::new(&server.base, 2.0, 0, 0.0, None).unwrap());
        let log = Lines::default();
        let call = OfferAction::new(Action::Cancel, "p", "o", []).unwrap();
        let rt = private_runtime();
        let first = enter(&rt, false, client.submit(&call, &token(), &log));
        undriven_pause();
        let second = enter(&rt, false, client.submit(&call, &token(), &log));
        assert_eq!(second.unwrap().outcome.status, 202, "{first:?}");
        assert_eq!(log.count(RESENT), 1);
        assert_eq!(server.requests(), 2);
    }

    #[test]
    fn entering_the_runtime_first_lets_the_pool_drop_connections_closed_while_idle() {
        let server =
            crate::test_server::IdleClosingServer::start(Duration::from_millis(50), "200 OK", CANCELED);
        let client = Client::new(Settings::new(&server.base, 2.0, 0, 0.0, None).unwrap());
        let log = Lines::default();
        let rt = private_runtime();
        let first = enter(&rt, true, client.get_operation(&op(&client), &token(), &log));
        undriven_pause();
        let second = enter(&rt, true, client.get_operation(&op(&client), &token(), &log));
        assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
        assert_eq!(log.count(RESENT), 0, "the pool handed out a connection it could have known was closed");
        assert_eq!((server.requests(), server.connections()), (2, 2));
    }

    #[test]
    fn a_closed_client_refuses_before_sending() {
        let client = Client::new(Settings::new("http://127.0.0.1:9", 1.0, 0, 0.0, None).unwrap());
        client.close();
        let call = OfferAction::new(Action::Cancel, "p", "o", []).unwrap();
        let got = crate::runtime::current_thread().unwrap().block_on(client.submit(&call, &token(), &Silent));
        assert_eq!(got, Err(Error::Closed));
    }
}
