//! The TLS client configuration: one per process for each trust setting, its verifier reading the
//! system's roots on the first certificate it checks.
//!
//! rustls-platform-verifier reads and parses the system's roots when it is built (on Linux every
//! file under `/etc/ssl/certs`: 3-5 ms), and reqwest builds one per `reqwest::Client`, of which a
//! `Client` has up to three. So the configuration is built once per process and trust setting and
//! handed to reqwest prebuilt; a new `Client` costs no reading, plain-http use (loopback, the
//! offline portal) never reads the roots at all, and all clients share one TLS session cache, so a
//! new connection to a host resumes its session (an abbreviated handshake).

use std::ffi::OsString;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientSessionMemoryCache, Resumption};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

/// What decides which certificates are trusted: the extra roots (`ca_file`) and the variables the
/// system's store honours. A `Client` made after `SSL_CERT_FILE` changes reads the roots afresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub extra_roots: Vec<CertificateDer<'static>>,
    cert_file: Option<OsString>,
    cert_dir: Option<OsString>,
}

impl Trust {
    /// The system's store as the environment names it now, plus `extra_roots`.
    pub fn from_env(extra_roots: Vec<CertificateDer<'static>>) -> Self {
        Self {
            extra_roots,
            cert_file: std::env::var_os("SSL_CERT_FILE"),
            cert_dir: std::env::var_os("SSL_CERT_DIR"),
        }
    }
}

/// The TLS state for one trust setting, shared by every `Client` with that setting: the verifier
/// (with the roots, once read) and the session cache. It lives while some `Client` holds it.
#[derive(Debug)]
pub struct Tls {
    verifier: Arc<LazyVerifier>,
    sessions: Arc<ClientSessionMemoryCache>,
}

/// TLS sessions remembered for resumption, across all clients (rustls' default size).
const SESSIONS: usize = 256;

impl Tls {
    /// The state for `trust`: the one a live `Client` already uses, else a new one. Only weak
    /// references are kept here, so a test suite making a CA per test does not keep every one's
    /// roots.
    pub fn for_trust(trust: &Trust) -> Arc<Self> {
        static LIVE: Mutex<Vec<(Trust, Weak<Tls>)>> = Mutex::new(Vec::new());
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        live.retain(|(_, tls)| tls.strong_count() > 0);
        if let Some(tls) = live.iter().find(|(t, _)| t == trust).and_then(|(_, tls)| tls.upgrade()) {
            return tls;
        }
        // As reqwest does: a provider the application installed, else aws-lc-rs.
        let provider = CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        let tls = Arc::new(Self {
            verifier: Arc::new(LazyVerifier::new(trust.extra_roots.clone(), provider)),
            sessions: Arc::new(ClientSessionMemoryCache::new(SESSIONS)),
        });
        live.push((trust.clone(), Arc::downgrade(&tls)));
        tls
    }

    /// A configuration for reqwest (a cheap clone: the verifier and session cache are shared).
    pub fn client_config(&self) -> Result<ClientConfig, rustls::Error> {
        let mut config = ClientConfig::builder_with_provider(self.verifier.provider.clone())
            .with_safe_default_protocol_versions()?
            .dangerous() // a verifier of our own, which is the platform's verifier built later
            .with_custom_certificate_verifier(self.verifier.clone())
            .with_no_client_auth();
        config.resumption = Resumption::store(self.sessions.clone());
        // What reqwest offers with its http2 feature on.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }

    /// Start reading the system's roots on a thread of its own, unless they are read or being
    /// read: a `Client` for an https service calls this, so that its first handshake finds them
    /// ready while the caller does other first-call work.
    pub fn prefetch(&self) {
        let verifier = self.verifier.clone();
        if matches!(*verifier.lock(), State::Empty) {
            // Without a thread (the OS refused one) the first handshake reads them itself.
            let _ = std::thread::Builder::new()
                .name("cloudpartner-roots".into())
                .spawn(move || verifier.verifier());
        }
    }
}

/// The platform's verifier, built when the first certificate is checked (or by `prefetch`).
#[derive(Debug)]
struct LazyVerifier {
    extra_roots: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
    state: Mutex<State>,
    ready: Condvar,
}

#[derive(Debug)]
enum State {
    Empty,
    /// A thread of the process with this pid is reading the roots.
    Reading(u32),
    Built(Arc<Verifier>),
}

impl LazyVerifier {
    fn new(extra_roots: Vec<CertificateDer<'static>>, provider: Arc<CryptoProvider>) -> Self {
        Self { extra_roots, provider, state: Mutex::new(State::Empty), ready: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn verifier(&self) -> Result<Arc<Verifier>, rustls::Error> {
        let pid = std::process::id();
        let mut state = self.lock();
        loop {
            match &*state {
                State::Built(verifier) => return Ok(verifier.clone()),
                // Another thread is reading them: wait rather than read them twice. One of the
                // parent's, in a fork()ed child, will never finish: the child reads its own.
                State::Reading(reader) if *reader == pid => {
                    state = self.ready.wait(state).unwrap_or_else(PoisonError::into_inner);
                }
                _ => break,
            }
        }
        *state = State::Reading(pid);
        drop(state); // not held while reading, so that a fork() meanwhile leaves no lock taken
        let built = Verifier::new_with_extra_roots(self.extra_roots.iter().cloned(), self.provider.clone())
            .map(Arc::new);
        *self.lock() = match &built {
            Ok(verifier) => State::Built(verifier.clone()),
            Err(_) => State::Empty, // each waiter tries itself, and reports its own error
        };
        self.ready.notify_all();
        built
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls13_signature(message, cert, dss)
    }

    /// Asked for the ClientHello, before any certificate: the provider's list, which is what the
    /// platform's verifier answers too, so the roots are not read for it.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_with_one_trust_setting_share_one_state() {
        let plain = Trust { extra_roots: Vec::new(), cert_file: None, cert_dir: None };
        let (a, b) = (Tls::for_trust(&plain), Tls::for_trust(&plain));
        assert!(Arc::ptr_eq(&a, &b));
        let other = Trust { cert_file: Some("/nonexistent/bundle.pem".into()), ..plain.clone() };
        assert!(!Arc::ptr_eq(&a, &Tls::for_trust(&other)));

        let config = a.client_config().unwrap();
        assert_eq!(config.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    }

    #[test]
    fn a_trust_setting_no_client_uses_any_more_is_let_go() {
        let trust = Trust {
            extra_roots: Vec::new(),
            cert_file: Some("/nonexistent/once.pem".into()),
            cert_dir: None,
        };
        let first = Tls::for_trust(&trust);
        let weak = Arc::downgrade(&first);
        drop(first);
        assert!(weak.upgrade().is_none());
        let _again = Tls::for_trust(&trust); // a new one, not a dangling one
    }

    #[test]
    fn the_roots_are_read_on_the_first_certificate_not_before() {
        let lazy = LazyVerifier::new(Vec::new(), Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        assert!(!lazy.supported_verify_schemes().is_empty());
        assert!(matches!(*lazy.lock(), State::Empty));
    }

    #[test]
    fn threads_asking_together_share_one_reading() {
        let lazy =
            Arc::new(LazyVerifier::new(Vec::new(), Arc::new(rustls::crypto::aws_lc_rs::default_provider())));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lazy = lazy.clone();
                std::thread::spawn(move || lazy.verifier().map(|v| Arc::as_ptr(&v) as usize))
            })
            .collect();
        let built: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        match &built[0] {
            // Every thread got the same verifier.
            Ok(first) => assert!(built.iter().all(|b| b.as_ref().ok() == Some(first))),
            // A machine without system roots: every thread reports the error.
            Err(_) => assert!(built.iter().all(Result::is_err)),
        }
    }

    #[test]
    fn a_reading_left_by_another_process_is_not_waited_for() {
        let lazy = LazyVerifier::new(Vec::new(), Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        *lazy.lock() = State::Reading(std::process::id().wrapping_add(1)); // as a fork()ed child sees it
        let _ = lazy.verifier(); // returns (with the roots, or the error) rather than waiting forever
        assert!(!matches!(*lazy.lock(), State::Reading(_)));
    }
}
