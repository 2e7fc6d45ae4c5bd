//! One HTTP attempt: the connection pool, the attempt deadline, the capped body read, and
//! turning reqwest's errors into words a user can act on.

use std::error::Error as StdError;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::request::Prepared;
use crate::response::RawResponse;

/// Response bodies are read up to this many bytes; the rest is left unread.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// How the pool is built.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Loopback targets never go through a proxy (the system proxy would not reach them).
    pub bypass_proxy: bool,
    /// Trusted besides the platform's roots (which honour `SSL_CERT_FILE`); verification is
    /// always on.
    pub extra_roots: Vec<reqwest::Certificate>,
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
}

/// Why an attempt produced no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptError {
    /// No connection could be made: nothing reached the server, so it is safe to retry.
    Connect(String),
    /// Connected, but no usable answer (TLS, reset, malformed HTTP); the request may have landed.
    Broken(String),
    /// The attempt deadline passed.
    Timeout,
}

impl Pool {
    pub fn new(config: PoolConfig) -> Self {
        Self { config, current_thread: Mutex::new(None), multi_thread: Mutex::new(None) }
    }

    /// The client (a cheap handle) for the runtime this is called on, built on first use in
    /// this process.
    pub fn client(&self) -> Result<reqwest::Client, String> {
        let on_current_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread);
        let slot = if on_current_thread { &self.current_thread } else { &self.multi_thread };
        let pid = std::process::id();
        let mut current = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((owner, client)) = current.as_ref()
            && *owner == pid
        {
            return Ok(client.clone());
        }
        let client = self.build().map_err(|e| format!("could not set up HTTP: {}", describe(&e)))?;
        *current = Some((pid, client.clone()));
        Ok(client)
    }

    /// Drop the pool's idle connections (in-flight calls keep their own handle).
    pub fn clear(&self) {
        for slot in [&self.current_thread, &self.multi_thread] {
            slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        }
    }

    fn build(&self) -> reqwest::Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder()
            // A POST carrying a token is never re-sent elsewhere: a 3xx is reported, not followed.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(self.config.user_agent.as_str());
        if self.config.bypass_proxy {
            builder = builder.no_proxy();
        }
        builder.tls_certs_merge(self.config.extra_roots.iter().cloned()).build()
    }
}

/// Send one request and read its answer, all within `deadline`.
pub async fn attempt(
    client: &reqwest::Client,
    request: &Prepared,
    headers: HeaderMap,
    deadline: Duration,
) -> Result<RawResponse, AttemptError> {
    let mut builder = client.request(request.method.clone(), request.url.clone()).headers(headers);
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let exchange = async {
        let mut response = builder.send().await.map_err(|e| classify(&e))?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let (body, truncated) = read_capped(&mut response).await;
        Ok(RawResponse { status, headers, body, truncated })
    };
    tokio::time::timeout(deadline, exchange).await.unwrap_or(Err(AttemptError::Timeout))
}

/// Read at most `MAX_BODY_BYTES`. A body that breaks off (reset, short Content-Length, bad
/// chunking) keeps what arrived and counts as truncated: the status and headers already tell the
/// caller what happened, and losing them would lose the answer.
async fn read_capped(response: &mut reqwest::Response) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_BODY_BYTES.saturating_sub(body.len());
                if chunk.len() > room {
                    body.extend_from_slice(chunk.get(..room).unwrap_or_default());
                    return (body, true);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return (body, false),
            Err(_) => return (body, true),
        }
    }
}

fn classify(error: &reqwest::Error) -> AttemptError {
    let text = describe(error);
    if error.is_connect() && !is_tls(&text) {
        AttemptError::Connect(text)
    } else {
        AttemptError::Broken(text)
    }
}

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
    if mentions(&joined, &CERTIFICATE_WORDS) {
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
            extra_roots: Vec::new(),
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
        Prepared { method: reqwest::Method::GET, url: url.parse().unwrap(), body: None }
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        crate::runtime::multi_thread().unwrap().block_on(f)
    }

    #[test]
    fn reads_status_headers_and_body() {
        run(async {
            let url =
                serve_once(b"HTTP/1.1 202 Accepted\r\nLocation: /a\r\nContent-Length: 2\r\n\r\nok").await;
            let got =
                attempt(&pool().client().unwrap(), &get(&url), HeaderMap::new(), Duration::from_secs(2))
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
            let got =
                attempt(&pool().client().unwrap(), &get(&url), HeaderMap::new(), Duration::from_secs(2))
                    .await
                    .unwrap();
            assert_eq!((got.status, got.body.as_slice(), got.truncated), (500, &b"partial"[..], true));
        });
    }

    #[test]
    fn silence_hits_the_deadline_and_refusal_is_a_connect_error() {
        run(async {
            let url = serve_once(b"").await;
            let client = pool().client().unwrap();
            let got = attempt(&client, &get(&url), HeaderMap::new(), Duration::from_millis(200)).await;
            assert_eq!(got.unwrap_err(), AttemptError::Timeout);

            let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
            let refused = format!("http://127.0.0.1:{port}/x");
            let got = attempt(&client, &get(&refused), HeaderMap::new(), Duration::from_secs(2)).await;
            assert!(matches!(got, Err(AttemptError::Connect(_))), "{got:?}");
        });
    }

    #[test]
    fn garbage_is_a_broken_answer() {
        run(async {
            let url = serve_once(b"SMTP ready\r\n\r\n").await;
            let got =
                attempt(&pool().client().unwrap(), &get(&url), HeaderMap::new(), Duration::from_secs(2))
                    .await;
            assert!(matches!(got, Err(AttemptError::Broken(_))), "{got:?}");
        });
    }
}
