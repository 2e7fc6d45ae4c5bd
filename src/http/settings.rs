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

/// Seconds each attempt may take, connect to last byte.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;
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
        service: &'static Service,
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
            service,
            base_url: validate::base_url(base_url)?,
            version: service.default_version.to_owned(),
            timeout: validate::timeout("timeout", timeout_seconds)?,
            retry: RetryPolicy { max_retries, backoff, ..RetryPolicy::default() },
            user_agent,
            extra_roots: Vec::new(),
            recorder: None,
        })
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
