//! The one error type of the core, and its one classification of failures (`is_transient`).
//! The binding turns each variant into one Python exception (`binding/exceptions.rs`); nothing
//! here knows about Python.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Everything a call can fail with.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Bad input, refused before anything was sent. `reason` names the value (never a token).
    InvalidArgument { field: &'static str, reason: String },
    /// The service answered, and the answer was not a success.
    Api(Box<ApiFailure>),
    /// No usable answer: connect, TLS, reset, malformed HTTP.
    Transport { reason: String, client_request_id: Option<String> },
    /// The call did not finish within its timeout (`after`), its attempts and the waits between
    /// them together; `last` says what the last of its `attempts` met.
    Timeout { after: Duration, attempts: u32, last: String, client_request_id: Option<String> },
    /// The client was closed before the call.
    Closed,
    /// The call cannot be served as made (a blocking call from inside a callback of another).
    Usage(&'static str),
    /// A success answer whose body is not what the call returns (not JSON, wrong shape).
    Malformed { reason: String, status: u16, request_id: Option<String>, client_request_id: Option<String> },
    /// A success answer longer than the read limit (`transport::MAX_SUCCESS_BODY_BYTES`): it
    /// was not read whole, so it is not parsed.
    TooLarge { limit: usize, status: u16, request_id: Option<String>, client_request_id: Option<String> },
    /// A wait ran out of time before the operation or job ended; `last` is the last state seen.
    WaitTimeout { after: Duration, last: Option<LastState> },
    /// A caller-supplied callback (progress, token) failed; the binding holds its exception.
    Stopped,
    /// An ingestion job's cancel came after the job had completed (the service's 400); `job` is
    /// its state, read once more, when that read succeeded.
    JobCompleted { failure: Box<ApiFailure>, job_id: String, job: Option<LastState> },
    /// A job (or operation) a release or a wait followed ended in failure; `kind` says which
    /// kind (`FailureKind`), `message` is the service's one line, and `record` the job as it ended.
    JobFailed { kind: FailureKind, message: String, record: LastState },
}

/// What kind of failure a failed job holds, as its errors say (each service classifies its own
/// errors in one place: `ingestion::job::failure_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Another submission is in progress, or this one is no longer the latest: transient, the
    /// same request may succeed once the other one ends.
    Conflict,
    /// The image failed certification: final.
    Certification,
    /// Any other failure.
    Other,
}

impl FailureKind {
    /// `conflict`, `certification`, `other`: Python's `Job.failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conflict => "conflict",
            Self::Certification => "certification",
            Self::Other => "other",
        }
    }
}

/// A service's record of the thing a call follows (a CPP operation, an ingestion job). Each
/// service implements it for its own type, so this shared error carries one without naming it.
pub trait Record: fmt::Debug + PartialEq + Send + Sync + 'static {
    /// What the record is, for messages: "operation", "job".
    const KIND: &'static str;
    /// The status the service last gave.
    fn status(&self) -> &str;
}

/// A `Record` of any service: what a wait last saw, or a job read after a refusal. The binding
/// gets the service's own type back with `get`.
#[derive(Debug, Clone)]
pub struct LastState(Arc<dyn Erased>);

impl LastState {
    pub fn new(record: impl Record) -> Self {
        Self(Arc::new(record))
    }

    /// The record, when it is a `T`.
    pub fn get<T: Record>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref()
    }

    pub fn kind(&self) -> &'static str {
        self.0.kind()
    }

    pub fn status(&self) -> &str {
        self.0.status()
    }
}

impl PartialEq for LastState {
    fn eq(&self, other: &Self) -> bool {
        self.0.equals(other.0.as_ref())
    }
}

/// `Record` with its type erased (a `Record` has an associated const and `PartialEq`, so it
/// cannot be a trait object itself).
trait Erased: fmt::Debug + Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn kind(&self) -> &'static str;
    fn status(&self) -> &str;
    fn equals(&self, other: &dyn Erased) -> bool;
}

impl<T: Record> Erased for T {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn kind(&self) -> &'static str {
        T::KIND
    }

    fn status(&self) -> &str {
        Record::status(self)
    }

    fn equals(&self, other: &dyn Erased) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
}

/// A non-success answer, with everything the caller may want to log or branch on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiFailure {
    pub status: u16,
    /// `error.code` of an `{"error": {"code", "message"}}` body.
    pub code: Option<String>,
    /// `error.message` of such a body, or a short excerpt of a plain-text body.
    pub message: Option<String>,
    /// The raw body text (lossy UTF-8), at most what was read.
    pub body: String,
    /// The service's request id header, when present.
    pub request_id: Option<String>,
    /// The `x-ms-client-request-id` we sent.
    pub client_request_id: Option<String>,
    /// `Retry-After`, in seconds, when the answer carried one.
    pub retry_after: Option<f64>,
    /// `Location` of a redirect that was not followed.
    pub location: Option<String>,
    /// True when the body was longer than the read cap and was cut.
    pub body_truncated: bool,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&api_text(&ApiText {
            status: self.status,
            code: self.code.as_deref(),
            message: self.message.as_deref(),
            body_is_empty: self.body.trim().is_empty(),
            location: self.location.as_deref(),
            retry_after: self.retry_after,
            request_id: self.request_id.as_deref(),
            client_request_id: self.client_request_id.as_deref(),
        }))
    }
}

/// What an API failure's one line is made of.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiText<'a> {
    pub status: u16,
    pub code: Option<&'a str>,
    pub message: Option<&'a str>,
    pub body_is_empty: bool,
    pub location: Option<&'a str>,
    pub retry_after: Option<f64>,
    pub request_id: Option<&'a str>,
    pub client_request_id: Option<&'a str>,
}

/// The one line an API failure reads as, wherever it is shown (`str()` of Python's `ApiError`
/// calls this too): `404 Not Found: <message> (code <code>; request id <id>)`. Every part is
/// folded to one line.
pub fn api_text(t: &ApiText<'_>) -> String {
    let one_line = |text: &str| crate::error_body::excerpt(text);
    let mut head = match reqwest::StatusCode::from_u16(t.status).ok().and_then(|s| s.canonical_reason()) {
        Some(phrase) => format!("{} {phrase}", t.status),
        None => format!("HTTP {}", t.status),
    };
    match t.message.map(one_line).filter(|m| !m.is_empty()) {
        Some(message) => head.push_str(&format!(": {message}")),
        None if (300..400).contains(&t.status) => head.push_str(&format!(
            ": redirect to {} was not followed",
            t.location.map_or_else(|| "an unnamed location".to_owned(), one_line)
        )),
        None if t.body_is_empty => head.push_str(": the service sent no details"),
        None => {}
    }
    let mut details = Vec::new();
    if let Some(code) = t.code.map(one_line).filter(|c| !c.is_empty()) {
        details.push(format!("code {code}"));
    }
    if let Some(seconds) = t.retry_after {
        details.push(format!("retry after {seconds} s"));
    }
    match (t.request_id, t.client_request_id) {
        (Some(id), _) => details.push(format!("request id {}", one_line(id))),
        (None, Some(id)) => details.push(format!("client request id {}", one_line(id))),
        (None, None) => {}
    }
    if details.is_empty() { head } else { format!("{head} ({})", details.join("; ")) }
}

impl Error {
    #[cold]
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument { field, reason: reason.into() }
    }

    /// A 404 made here, not sent by the service: what was looked for (a plan, a version) is not
    /// in the document the service sent; `message` says what is there instead.
    #[cold]
    pub fn not_found(message: String) -> Self {
        Error::Api(Box::new(ApiFailure {
            status: 404,
            code: Some("notFound".to_owned()),
            message: Some(message),
            ..ApiFailure::default()
        }))
    }

    /// Worth trying again later: the service or the path to it failed, not the request itself.
    /// The retry loop retries these statuses, `wait` polls through these failures, and Python's
    /// `is_transient` and the CLI's exit codes say what this says.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Api(failure) => crate::http::retry::is_retriable(failure.status),
            Error::Transport { .. } | Error::Timeout { .. } | Error::Malformed { .. } => true,
            Error::InvalidArgument { .. }
            | Error::Closed
            | Error::Usage(_)
            | Error::TooLarge { .. }
            | Error::WaitTimeout { .. }
            | Error::Stopped
            | Error::JobCompleted { .. } => false,
            Error::JobFailed { kind, .. } => *kind == FailureKind::Conflict,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument { field, reason } => write!(f, "invalid {field}: {reason}"),
            Error::Api(failure) => failure.fmt(f),
            Error::Transport { reason, .. } => f.write_str(reason),
            Error::Timeout { after, attempts: 1, last, .. } => {
                write!(f, "timed out after {} s: 1 attempt: {last}", after.as_secs_f64())
            }
            Error::Timeout { after, attempts, last, .. } => {
                write!(f, "timed out after {} s: {attempts} attempts; the last: {last}", after.as_secs_f64())
            }
            Error::Closed => f.write_str("the client is closed"),
            Error::Usage(what) => f.write_str(what),
            Error::Malformed { reason, status, .. } => write!(f, "unreadable HTTP {status} answer: {reason}"),
            Error::TooLarge { limit, status, .. } => write!(
                f,
                "the HTTP {status} answer is larger than the {} MiB an answer may have; it was not read",
                limit >> 20
            ),
            Error::WaitTimeout { after, last } => {
                let what = last.as_ref().map_or("operation", LastState::kind);
                write!(f, "the {what} did not finish within {} s", after.as_secs_f64())?;
                match last.as_ref().map(LastState::status) {
                    Some(status) if !status.is_empty() => write!(f, " (last status: {status})"),
                    _ => Ok(()),
                }
            }
            Error::Stopped => f.write_str("stopped by a callback"),
            Error::JobCompleted { failure, .. } => failure.fmt(f),
            // Said by kind: a conflict need not be a failed job (a CPP release refuses to start
            // while another operation runs), and a certification failure is named as such.
            Error::JobFailed { kind, message, record } => {
                match kind {
                    FailureKind::Conflict => f.write_str("conflict")?,
                    FailureKind::Certification => f.write_str("certification failed")?,
                    FailureKind::Other => write!(f, "the {} failed", record.kind())?,
                }
                if message.is_empty() { Ok(()) } else { write!(f, ": {message}") }
            }
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
