//! One HTTP attempt: the connection pool, the time an attempt gets, the capped body read, and
//! turning reqwest's errors into words a user can act on.

use std::cell::Cell;
use std::error::Error as StdError;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::http::Prepared;
use crate::http::tls::Tls;
use crate::response::RawResponse;

/// A success answer is read up to this many bytes: operation lists and offer documents are
/// legitimately megabytes. A longer one fails with `TooLarge` instead of being parsed cut.
pub const MAX_SUCCESS_BODY_BYTES: usize = 64 << 20;

/// An error answer is read up to this many bytes; the rest is left unread and the error raised
/// with the beginning of its body (`body_truncated`).
pub const MAX_ERROR_BODY_BYTES: usize = 1 << 20;

/// How the pool is built.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Loopback targets never go through a proxy (the system proxy would not reach them).
    pub bypass_proxy: bool,
    /// What is trusted (the platform's roots, which honour `SSL_CERT_FILE`, and the extra ones),
    /// shared with the other clients that trust the same; verification is always on.
    pub tls: Arc<Tls>,
}

/// A connection pool tied to the process that made it: after `fork()` the child builds its own,
/// since the parent's connections belong to a runtime that does not exist in the child.
#[derive(Debug)]
pub struct Pool {
    config: PoolConfig,
    /// One client per runtime kind: a connection belongs to the runtime that opened it, and a
    /// blocking call's connection is only driven while some thread blocks on that runtime.
    current_thread: Mutex<Option<(u32, reqwest::Client)>>,
    multi_thread: Mutex<Option<(u32, reqwest::Client)>>,
    /// Keeps no idle connection, so each request opens its own: for re-sending a request that a
    /// stale pooled connection lost. Usable on either runtime, since nothing outlives a request.
    unpooled: Mutex<Option<(u32, reqwest::Client)>>,
}

/// Which connections a request may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connections {
    /// An idle pooled connection if there is one (the normal case).
    Pooled,
    /// A new connection, never one the server may have closed while it sat idle.
    Fresh,
}

/// Why an attempt produced no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptError {
    /// No connection could be made: nothing reached the server, so it is safe to retry.
    Connect(String),
    /// Connected, but no usable answer (reset, malformed HTTP); the request may have landed.
    Broken(String),
    /// The TLS handshake failed (an untrusted certificate, no common protocol): nothing was
    /// sent, and trying again meets the same certificate.
    Tls(String),
    /// A connection taken from the pool closed or reset before an answer's head arrived: the
    /// server most likely closed it while it sat idle (load balancers do), and the request may
    /// not have been read at all. Whether it is sent again is the request's call (`Prepared`).
    Stale(String),
    /// The time the attempt had (what was left of the call's) ran out.
    Timeout(TimedOut),
}

/// An attempt whose time ran out, and how far it got.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedOut {
    /// The time the attempt had.
    pub within: Duration,
    /// The status of an answer whose head came but whose body did not finish.
    pub answered: Option<u16>,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let within = seconds(self.within);
        match self.answered {
            None => write!(f, "no answer within {within} s"),
            Some(status) => write!(f, "the HTTP {status} answer's body was not whole within {within} s"),
        }
    }
}

/// Seconds to the hundredth (at least 0.01), without trailing zeros: `0.5`, `0.31`, `30`.
fn seconds(time: Duration) -> String {
    let hundredths = (time.as_secs_f64() * 100.0).round().max(1.0);
    let text = format!("{:.2}", hundredths / 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl Pool {
    pub fn new(config: PoolConfig) -> Self {
        Self {
            config,
            current_thread: Mutex::new(None),
            multi_thread: Mutex::new(None),
            unpooled: Mutex::new(None),
        }
    }

    /// The client (a cheap handle) for the runtime this is called on, or the unpooled one, built
    /// on first use in this process.
    pub fn client(&self, connections: Connections) -> Result<reqwest::Client, String> {
        let on_current_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread);
        let slot = match connections {
            Connections::Fresh => &self.unpooled,
            Connections::Pooled if on_current_thread => &self.current_thread,
            Connections::Pooled => &self.multi_thread,
        };
        let pid = std::process::id();
        let mut current = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((owner, client)) = current.as_ref()
            && *owner == pid
        {
            return Ok(client.clone());
        }
        let client = self.build(connections).map_err(|e| format!("could not set up HTTP: {e}"))?;
        *current = Some((pid, client.clone()));
        Ok(client)
    }

    /// Drop the pool's idle connections (in-flight calls keep their own handle).
    pub fn clear(&self) {
        for slot in [&self.current_thread, &self.multi_thread, &self.unpooled] {
            slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        }
    }

    fn build(&self, connections: Connections) -> Result<reqwest::Client, String> {
        let idle_per_host = match connections {
            Connections::Pooled => usize::MAX,
            Connections::Fresh => 0,
        };
        let mut builder = reqwest::Client::builder()
            // A POST carrying a token is never re-sent elsewhere: a 3xx is reported, not followed.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(idle_per_host)
            .connector_layer(MarkNewConnections)
            .user_agent(self.config.user_agent.as_str());
        if self.config.bypass_proxy {
            builder = builder.no_proxy();
        }
        let tls = self.config.tls.client_config().map_err(|e| format!("TLS: {e}"))?;
        builder.tls_backend_preconfigured(tls).build().map_err(|e| describe(&e))
    }
}

/// Send one request and read its answer, all `within` the time given (connect to last byte).
pub async fn attempt(
    client: &reqwest::Client,
    request: &Prepared,
    headers: HeaderMap,
    within: Duration,
) -> Result<RawResponse, AttemptError> {
    let mut builder = client.request(request.method.clone(), request.url.clone()).headers(headers);
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    // Set once the answer's head is in, so a timeout can say the body was what was slow.
    let answered = OnceLock::new();
    let exchange = OPENED_CONNECTION.scope(Cell::new(false), async {
        let sent = builder.send().await;
        let opened = OPENED_CONNECTION.with(Cell::get);
        let mut response = sent.map_err(|e| classify(&e, opened))?;
        let status = response.status().as_u16();
        let _ = answered.set(status);
        let headers = std::mem::take(response.headers_mut());
        let success = (200..300).contains(&status);
        let limit = if success { MAX_SUCCESS_BODY_BYTES } else { MAX_ERROR_BODY_BYTES };
        let declared = response.content_length().map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        // A success body is only useful whole: one declared too long is refused unread. An error
        // body's beginning still explains the error, so it is read up to the limit.
        let (body, end) = if success && declared.is_some_and(|n| n > limit) {
            (Vec::new(), BodyEnd::OverLimit)
        } else {
            read_capped(&mut response, limit, declared).await
        };
        Ok(RawResponse {
            status,
            headers,
            body,
            truncated: end != BodyEnd::Complete,
            over_limit: (end == BodyEnd::OverLimit).then_some(limit),
        })
    });
    match tokio::time::timeout(within, exchange).await {
        Ok(outcome) => outcome,
        Err(_) => Err(AttemptError::Timeout(TimedOut { within, answered: answered.get().copied() })),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyEnd {
    Complete,
    /// Longer than the limit: the rest was left unread.
    OverLimit,
    /// The connection broke off (reset, short Content-Length, bad chunking).
    BrokeOff,
}

/// Read at most `limit` bytes (`declared`: the Content-Length, to allocate once). A body that
/// breaks off keeps what arrived: the status and headers already tell the caller what happened,
/// and losing them would lose the answer.
async fn read_capped(
    response: &mut reqwest::Response,
    limit: usize,
    declared: Option<usize>,
) -> (Vec<u8>, BodyEnd) {
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit.saturating_sub(body.len());
                if chunk.len() > room {
                    body.extend_from_slice(chunk.get(..room).unwrap_or_default());
                    return (body, BodyEnd::OverLimit);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return (body, BodyEnd::Complete),
            Err(_) => return (body, BodyEnd::BrokeOff),
        }
    }
}

tokio::task_local! {
    /// Set inside an attempt when the connector is asked for a new connection: the request did
    /// not get an idle pooled one. (hyper-util starts connecting only when no idle connection
    /// is ready, so an unset flag means the request went out on a reused connection.)
    static OPENED_CONNECTION: Cell<bool>;
}

/// A connector layer that records, for the attempt that asked, that a new connection was opened.
#[derive(Debug, Clone, Copy)]
struct MarkNewConnections;

impl<S> tower_layer::Layer<S> for MarkNewConnections {
    type Service = MarkNew<S>;

    fn layer(&self, inner: S) -> MarkNew<S> {
        MarkNew(inner)
    }
}

#[derive(Debug, Clone)]
struct MarkNew<S>(S);

impl<S: tower_service::Service<R>, R> tower_service::Service<R> for MarkNew<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        // Outside an attempt (a connection finished in the background) there is no flag to set.
        let _ = OPENED_CONNECTION.try_with(|opened| opened.set(true));
        self.0.call(request)
    }
}

/// `opened`: the attempt asked for a new connection (else it went out on a pooled one).
fn classify(error: &reqwest::Error, opened: bool) -> AttemptError {
    let text = describe(error);
    if error.is_connect() && is_tls(&text) {
        AttemptError::Tls(text)
    } else if error.is_connect() {
        AttemptError::Connect(text)
    } else if !opened && connection_dropped(error) {
        AttemptError::Stale(text)
    } else {
        AttemptError::Broken(text)
    }
}

/// The connection closed or reset under the request, as opposed to the server answering
/// something unreadable.
fn connection_dropped(error: &(dyn StdError + 'static)) -> bool {
    use std::io::ErrorKind;
    let mut cause: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(err) = cause {
        if let Some(hyper) = err.downcast_ref::<hyper::Error>()
            && (hyper.is_incomplete_message() || hyper.is_canceled() || hyper.is_closed())
        {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
            )
        {
            return true;
        }
        cause = err.source();
    }
    false
}

/// What the platform verifier says (on Linux) when the system's store held no certificate: the
/// roots are read at the first handshake, so it comes as a handshake error.
const NO_SYSTEM_ROOTS: &str = "No CA certificates were loaded from the system";

/// Words rustls and the platform verifier use for a certificate that was not trusted.
const CERTIFICATE_WORDS: [&str; 3] = ["certificate", "invalidcert", "unknownissuer"];

fn mentions(text: &str, words: &[&str]) -> bool {
    let lower = text.to_ascii_lowercase();
    words.iter().any(|w| lower.contains(w))
}

/// Any TLS failure: not worth retrying, unlike a refused connection.
fn is_tls(text: &str) -> bool {
    mentions(text, &CERTIFICATE_WORDS) || mentions(text, &["tls", "handshake"])
}

/// reqwest's error and its causes, outermost first, each said once; a certificate problem is
/// named as such so users know to look at their trust store (or `ca_file`).
pub fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(err) = cause {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = err.source();
    }
    let joined = parts.join(": ");
    if joined.contains(NO_SYSTEM_ROOTS) {
        format!(
            "TLS: no CA certificate could be read from the system's store: set SSL_CERT_FILE to a PEM \
             bundle, or pass ca_file ({joined})"
        )
    } else if mentions(&joined, &CERTIFICATE_WORDS) {
        format!("TLS handshake failed: the server's certificate is not trusted ({joined})")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn pool() -> Pool {
        Pool::new(PoolConfig {
            user_agent: "test".into(),
            connect_timeout: Duration::from_secs(2),
            bypass_proxy: true,
            tls: Tls::for_trust(&crate::http::tls::Trust::from_env(Vec::new())),
        })
    }

    /// A one-shot server on 127.0.0.1 that reads a request and answers `raw` (or nothing).
    async fn serve_once(raw: &'static [u8]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            if raw.is_empty() {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            let _ = socket.write_all(raw).await;
        });
        format!("http://{addr}/x")
    }

    fn get(url: &str) -> Prepared {
        Prepared::get(url.parse().unwrap())
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        crate::runtime::multi_thread().unwrap().block_on(f)
    }

    #[test]
    fn reads_status_headers_and_body() {
        run(async {
            let url =
                serve_once(b"HTTP/1.1 202 Accepted\r\nLocation: /a\r\nContent-Length: 2\r\n\r\nok").await;
            let got = attempt(
                &pool().client(Connections::Pooled).unwrap(),
                &get(&url),
                HeaderMap::new(),
                Duration::from_secs(2),
            )
            .await
            .unwrap();
            assert_eq!((got.status, got.body.as_slice(), got.truncated), (202, &b"ok"[..], false));
            assert_eq!(got.headers.get("location").unwrap(), "/a");
        });
    }

    #[test]
    fn a_short_body_is_kept_and_marked_truncated() {
        run(async {
            let url = serve_once(b"HTTP/1.1 500 Oops\r\nContent-Length: 100\r\n\r\npartial").await;
            let got = attempt(
                &pool().client(Connections::Pooled).unwrap(),
                &get(&url),
                HeaderMap::new(),
                Duration::from_secs(2),
            )
            .await
            .unwrap();
            assert_eq!((got.status, got.body.as_slice(), got.truncated), (500, &b"partial"[..], true));
        });
    }

    #[test]
    fn silence_hits_the_deadline_and_refusal_is_a_connect_error() {
        run(async {
            let url = serve_once(b"").await;
            let client = pool().client(Connections::Pooled).unwrap();
            let got = attempt(&client, &get(&url), HeaderMap::new(), Duration::from_millis(200)).await;
            let within = Duration::from_millis(200);
            assert_eq!(got.unwrap_err(), AttemptError::Timeout(TimedOut { within, answered: None }));

            let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
            let refused = format!("http://127.0.0.1:{port}/x");
            let got = attempt(&client, &get(&refused), HeaderMap::new(), Duration::from_secs(2)).await;
            assert!(matches!(got, Err(AttemptError::Connect(_))), "{got:?}");
        });
    }

    #[test]
    fn a_new_connection_closed_before_any_answer_is_broken_not_stale() {
        run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/x", listener.local_addr().unwrap());
            tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let _ = socket.read(&mut [0u8; 4096]).await; // the request was read, then:
                drop(socket);
            });
            let got = attempt(
                &pool().client(Connections::Pooled).unwrap(),
                &get(&url),
                HeaderMap::new(),
                Duration::from_secs(2),
            )
            .await;
            // Only a reused connection may have lost the request unread: this one read it.
            assert!(matches!(got, Err(AttemptError::Broken(_))), "{got:?}");
        });
    }

    #[test]
    fn a_success_declared_longer_than_the_limit_is_refused_unread() {
        run(async {
            let url = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n{").await;
            let got = attempt(
                &pool().client(Connections::Pooled).unwrap(),
                &get(&url),
                HeaderMap::new(),
                Duration::from_secs(2),
            )
            .await
            .unwrap();
            assert_eq!((got.status, got.body.len(), got.over_limit), (200, 0, Some(MAX_SUCCESS_BODY_BYTES)));
        });
    }

    #[test]
    fn a_body_still_arriving_at_the_end_of_the_attempt_names_its_status() {
        run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/x", listener.local_addr().unwrap());
            tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let _ = socket.read(&mut [0u8; 4096]).await;
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{").await;
                tokio::time::sleep(Duration::from_secs(5)).await; // the rest never comes
            });
            let within = Duration::from_millis(300);
            let client = pool().client(Connections::Pooled).unwrap();
            let got = attempt(&client, &get(&url), HeaderMap::new(), within).await;
            let timed_out = TimedOut { within, answered: Some(200) };
            assert_eq!(got.unwrap_err(), AttemptError::Timeout(timed_out));
            assert_eq!(timed_out.to_string(), "the HTTP 200 answer's body was not whole within 0.3 s");
        });
    }

    #[test]
    fn a_timeout_says_the_time_it_had_to_the_hundredth() {
        let no_answer = |within| TimedOut { within, answered: None }.to_string();
        assert_eq!(no_answer(Duration::from_secs(30)), "no answer within 30 s");
        assert_eq!(no_answer(Duration::from_millis(500)), "no answer within 0.5 s");
        assert_eq!(no_answer(Duration::from_micros(499_400)), "no answer within 0.5 s");
        assert_eq!(no_answer(Duration::from_micros(312_400)), "no answer within 0.31 s");
        assert_eq!(no_answer(Duration::from_micros(200)), "no answer within 0.01 s");
    }

    #[test]
    fn garbage_is_a_broken_answer() {
        run(async {
            let url = serve_once(b"SMTP ready\r\n\r\n").await;
            let got = attempt(
                &pool().client(Connections::Pooled).unwrap(),
                &get(&url),
                HeaderMap::new(),
                Duration::from_secs(2),
            )
            .await;
            assert!(matches!(got, Err(AttemptError::Broken(_))), "{got:?}");
        });
    }
}
