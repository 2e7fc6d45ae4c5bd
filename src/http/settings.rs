//! A service's validated client settings, and their defaults.

use std::fs::{File, FileType};
use std::io::Read;
use std::path::Path;
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
/// The most a file named by the caller may hold (`ca_file`; the command line's `--token-file` and
/// list of offers): far above any real one (a system's whole CA bundle is about 200 KiB), small
/// enough that a wrong file, or a device that never ends, is refused at once.
pub const MAX_INPUT_FILE_BYTES: u64 = 4 << 20;

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

    /// How long a call may take: one that reads or writes a whole document
    /// (`Prepared::document`), or another.
    pub fn timeout_for(&self, document: bool) -> Duration {
        if document { self.document_timeout } else { self.timeout }
    }

    /// Name another API version than the service's default (`$version` of the ingestion API).
    pub fn with_version(mut self, version: &str) -> Result<Self> {
        validate::version(version)?;
        version.clone_into(&mut self.version);
        Ok(self)
    }

    /// Append every exchange to the JSON Lines file at `path` (`record::Recorder`).
    pub fn record_to(mut self, path: &Path) -> Result<Self> {
        self.recorder = Some(std::sync::Arc::new(Recorder::open(path)?));
        Ok(self)
    }

    /// Also trust the certificates of a PEM bundle. Read now, so a bad file fails at once.
    pub fn trust_pem_file(mut self, path: &Path) -> Result<Self> {
        let pem = read_input_file("ca_file", path)?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::invalid("ca_file", format!("{} is not a PEM bundle: {e}", shown(path))))?;
        if certs.is_empty() {
            return Err(Error::invalid("ca_file", format!("{} holds no PEM certificate", shown(path))));
        }
        self.extra_roots.extend(certs);
        Ok(self)
    }
}

/// A path as errors quote it.
fn shown(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

/// The bytes of the file at `path`, given as argument `field`: refused, naming it, when it is not a
/// regular file once symlinks are followed (opening a FIFO waits for a writer, with no way to
/// interrupt it; a device never ends) or holds more than `MAX_INPUT_FILE_BYTES`.
fn read_input_file(field: &'static str, path: &Path) -> Result<Vec<u8>> {
    let failed = |e: std::io::Error| Error::invalid(field, format!("cannot read {}: {e}", shown(path)));
    let regular = |kind: FileType| {
        if kind.is_file() {
            Ok(())
        } else {
            Err(Error::invalid(field, format!("{} is {}, not a regular file", shown(path), file_kind(kind))))
        }
    };
    // Looked at before opening (a FIFO would block the open), and again once open, in case the
    // name was pointed elsewhere meanwhile.
    regular(std::fs::metadata(path).map_err(failed)?.file_type())?;
    let file = File::open(path).map_err(failed)?;
    regular(file.metadata().map_err(failed)?.file_type())?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(failed)?;
    if bytes.len() as u64 > MAX_INPUT_FILE_BYTES {
        return Err(Error::invalid(
            field,
            format!("{} holds more than {} MiB, the most accepted", shown(path), MAX_INPUT_FILE_BYTES >> 20),
        ));
    }
    Ok(bytes)
}

/// What a file that is not a regular one is, for an error message.
fn file_kind(kind: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() { "a directory" } else { "a special file" }
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
        assert_eq!(defaults.timeout_for(quick.document), Duration::from_secs_f64(DEFAULT_TIMEOUT_SECONDS));
        assert_eq!(
            defaults.timeout_for(document.document),
            Duration::from_secs_f64(DEFAULT_DOCUMENT_TIMEOUT_SECONDS)
        );
        let given = Settings::new(&SERVICE, SERVICE.default_base_url, Some(5.0), 3, 0.5, None).unwrap();
        assert_eq!(
            (given.timeout_for(quick.document), given.timeout_for(document.document)),
            (Duration::from_secs(5), Duration::from_secs(5))
        );
        assert!(Settings::new(&SERVICE, SERVICE.default_base_url, Some(0.0), 3, 0.5, None).is_err());
    }

    /// A fresh path in the system's temporary directory, for this test alone.
    fn scratch(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("cloudpartner-{}-{name}", std::process::id()))
    }

    fn refusal(path: &Path) -> String {
        match Settings::new(&SERVICE, SERVICE.default_base_url, None, 3, 0.5, None)
            .unwrap()
            .trust_pem_file(path)
        {
            Err(Error::InvalidArgument { field: "ca_file", reason }) => reason,
            other => panic!("{path:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn a_ca_file_that_is_not_a_regular_file_is_refused_naming_it() {
        let directory = std::env::temp_dir();
        assert!(refusal(&directory).contains("is a directory, not a regular file"));
        #[cfg(unix)]
        {
            let reason = refusal(Path::new("/dev/zero")); // endless: refused before reading
            assert!(reason.contains("\"/dev/zero\" is a device"), "{reason}");
        }
    }

    #[test]
    fn a_ca_file_larger_than_the_limit_is_refused_after_reading_no_more_than_it() {
        let path = scratch("large.pem");
        let file = File::create(&path).unwrap();
        file.set_len(MAX_INPUT_FILE_BYTES + 1).unwrap(); // sparse: no disk used
        let reason = refusal(&path);
        std::fs::remove_file(&path).unwrap();
        assert!(reason.contains("holds more than 4 MiB"), "{reason}");
        assert!(reason.contains("large.pem"), "{reason}");
    }

    /// A FIFO with no writer would block the open forever, deaf to Ctrl-C: it is refused at once.
    #[cfg(unix)]
    #[test]
    fn a_ca_file_that_is_a_fifo_is_refused_without_waiting_for_a_writer() {
        let path = scratch("ca.fifo");
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        if !made.is_ok_and(|status| status.success()) {
            return; // no mkfifo on this system: nothing to test
        }
        let (sender, receiver) = std::sync::mpsc::channel();
        let looked_at = path.clone();
        // On a thread, so that a blocked open fails this test rather than hanging it.
        std::thread::spawn(move || sender.send(refusal(&looked_at)));
        let reason = receiver.recv_timeout(Duration::from_secs(10));
        std::fs::remove_file(&path).unwrap();
        let reason = reason.unwrap();
        assert!(reason.contains("ca.fifo\" is a FIFO (named pipe), not a regular file"), "{reason}");
    }
}
