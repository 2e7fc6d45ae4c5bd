//! A service's validated client settings, and their defaults.

use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use url::Url;

use super::Service;
use super::record::Recorder;
use super::retry::RetryPolicy;
use crate::error::{Error, Result};
use crate::validate;

/// Seconds a call may take, its attempts and the waits between them together, unless told otherwise.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;
/// The same for a call that reads or writes a whole document (an offer, a resource tree): the
/// service has taken minutes before its headers there (devigned/pub raised its timeout from one
/// to five minutes for GET offer, commit 44c8e8d).
pub const DEFAULT_DOCUMENT_TIMEOUT_SECONDS: f64 = 300.0;
/// What `User-Agent` ends with.
pub const PRODUCT: &str = concat!("cloudpartner-python/", env!("CARGO_PKG_VERSION"));

/// Validated client settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The service this engine talks to.
    pub service: &'static Service,
    pub base_url: Url,
    /// The API version every request names (`Service::version_parameter`).
    pub version: String,
    /// Bounds each call as a whole, its attempts and the waits between them (`retry::Deadline`).
    pub timeout: Duration,
    /// The same for a request that reads or writes a whole document (`Prepared::document`).
    pub document_timeout: Duration,
    pub retry: RetryPolicy,
    pub user_agent: String,
    /// Trusted in addition to the system's roots (corporate CAs).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Where every exchange is appended, when recording (`record_to`).
    pub recorder: Option<std::sync::Arc<Recorder>>,
}

impl Settings {
    pub fn new(
        service: &'static Service,
        base_url: &str,
        timeout_seconds: Option<f64>,
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
            service,
            base_url: validate::base_url(base_url)?,
            version: service.default_version.to_owned(),
            // A timeout the caller gave bounds every call; else each kind of call has its own.
            timeout: validate::timeout("timeout", timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS))?,
            document_timeout: validate::timeout(
                "timeout",
                timeout_seconds.unwrap_or(DEFAULT_DOCUMENT_TIMEOUT_SECONDS),
            )?,
            retry: RetryPolicy { max_retries, backoff, ..RetryPolicy::default() },
            user_agent,
            extra_roots: Vec::new(),
            recorder: None,
        })
    }

    /// How long a call sending `request` may take.
    pub fn timeout_for(&self, request: &super::Prepared) -> Duration {
        if request.document { self.document_timeout } else { self.timeout }
    }

    /// Name another API version than the service's default (`$version` of the ingestion API).
    pub fn with_version(mut self, version: &str) -> Result<Self> {
        validate::version(version)?;
        version.clone_into(&mut self.version);
        Ok(self)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Prepared, Service};

    /// A service of the engine's own tests: the engine knows no real one.
    const SERVICE: Service = Service {
        name: "a test service",
        default_base_url: "https://service.test",
        scope: "https://service.test/.default",
        version_parameter: "api-version",
        default_version: "2024-01-01",
        token_variable: "TEST_SERVICE_TOKEN",
        base_url_variable: "TEST_SERVICE_BASE_URL",
    };

    #[test]
    fn documents_get_a_longer_timeout_unless_the_caller_gave_one() {
        let url = url::Url::parse("https://service.test/x").unwrap();
        let (quick, document) = (Prepared::get(url.clone()), Prepared::get(url).of_document());
        let defaults = Settings::new(&SERVICE, SERVICE.default_base_url, None, 3, 0.5, None).unwrap();
        assert_eq!(defaults.timeout_for(&quick), Duration::from_secs_f64(DEFAULT_TIMEOUT_SECONDS));
        assert_eq!(
            defaults.timeout_for(&document),
            Duration::from_secs_f64(DEFAULT_DOCUMENT_TIMEOUT_SECONDS)
        );
        let given = Settings::new(&SERVICE, SERVICE.default_base_url, Some(5.0), 3, 0.5, None).unwrap();
        assert_eq!(
            (given.timeout_for(&quick), given.timeout_for(&document)),
            (Duration::from_secs(5), Duration::from_secs(5))
        );
        assert!(Settings::new(&SERVICE, SERVICE.default_base_url, Some(0.0), 3, 0.5, None).is_err());
    }
}
