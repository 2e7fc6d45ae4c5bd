//! The pyo3 binding: converts between Python and the core, and nothing else.
//!
//! `cpp::PyClient` wraps the Cloud Partner Portal client and `ingestion::PyIngestionClient` the
//! Product Ingestion client. Every call of both goes through `call` (token, blocking or asyncio,
//! conversion). Python values come in through `args` and become the core's validated types (the
//! core does the validating); results go out through `results`, `ingestion_results` and `release_results`; every
//! error leaves through `exceptions`, the one conversion of the core's `Error`. `credentials`
//! resolves tokens, `callbacks` runs the user's callables, `pylog` forwards the core's log lines
//! to `logging`, and `run` drives futures for sync and async callers (`handoff` delivers asyncio
//! results to the event loop). Imports go one way: `exceptions` and `args` depend on no other
//! binding module.

mod args;
mod call;
mod callbacks;
mod cpp;
mod credentials;
mod exceptions;
#[cfg(unix)]
mod handoff;
mod ingestion;
mod ingestion_results;
mod pylog;
mod release_results;
mod results;
mod run;

use pyo3::prelude::*;

// No `#[global_allocator]`: the extension shares the interpreter's system allocator. mimalloc
// (v3, bundled by the `mimalloc` crate) crashed processes whose threads come and go, on the
// first allocation of a new thread; a few microseconds per call never pay for that.
use crate::http::{self, Service, Settings};

/// One service's settings from what Python passed (the Python classes fill in the defaults).
#[allow(clippy::too_many_arguments)] // one per Client setting, as Python passes them
fn settings_from_py(
    service: &'static Service,
    base_url: &Bound<'_, PyAny>,
    timeout: &Bound<'_, PyAny>,
    max_retries: &Bound<'_, PyAny>,
    backoff: &Bound<'_, PyAny>,
    user_agent: &Bound<'_, PyAny>,
    ca_file: Option<&Bound<'_, PyAny>>,
    record: Option<&Bound<'_, PyAny>>,
) -> PyResult<Settings> {
    let mut settings = Settings::new(
        service,
        &args::string(base_url, "base_url")?,
        if timeout.is_none() { None } else { Some(args::seconds(timeout, "timeout")?) },
        args::count(max_retries, "max_retries")?,
        args::seconds(backoff, "backoff")?,
        args::optional_string(user_agent, "user_agent")?.as_deref(),
    )?;
    if let Some(path) = ca_file.filter(|p| !p.is_none()) {
        settings = settings.trust_pem_file(&args::path(path, "ca_file")?)?;
    }
    if let Some(path) = record.filter(|p| !p.is_none()) {
        settings = settings.record_to(&args::path(path, "record")?)?;
    }
    Ok(settings)
}

/// "pending", "succeeded", "failed" or "canceled" for an operation status, in any spelling.
#[pyfunction]
fn status_phase(status: &str) -> &'static str {
    crate::cpp::operation::Phase::of(status).as_str()
}

/// "pending", "succeeded", "failed", "cancelled" or "completed" for a job's status and result.
#[pyfunction]
fn job_phase(status: &str, result: &str) -> &'static str {
    crate::ingestion::job::Phase::of(status, result).as_str()
}

/// The one line an API failure reads as (`ApiError.__str__`; the core renders it, once).
#[pyfunction]
#[pyo3(signature = (status, code, message, body_is_empty, location, retry_after, request_id, client_request_id))]
#[allow(clippy::too_many_arguments)] // the failure's fields, as Python holds them
fn api_error_text(
    status: u16,
    code: Option<&str>,
    message: Option<&str>,
    body_is_empty: bool,
    location: Option<&str>,
    retry_after: Option<f64>,
    request_id: Option<&str>,
    client_request_id: Option<&str>,
) -> String {
    crate::error::api_text(&crate::error::ApiText {
        status,
        code,
        message,
        body_is_empty,
        location,
        retry_after,
        request_id,
        client_request_id,
    })
}

/// True when `url` is a valid base URL on a loopback host (where no real token is needed).
#[pyfunction]
fn is_loopback_url(url: &str) -> bool {
    crate::validate::base_url(url).is_ok_and(|u| crate::validate::is_loopback(&u))
}

/// Whether a failure answer with `status` is transient: retried, and polled through by `wait`.
#[pyfunction]
fn is_transient_status(status: u16) -> bool {
    http::retry::is_retriable(status)
}

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_SUCCESS_BODY_BYTES", http::transport::MAX_SUCCESS_BODY_BYTES)?;
    m.add("MAX_ERROR_BODY_BYTES", http::transport::MAX_ERROR_BODY_BYTES)?;
    m.add("DEFAULT_TIMEOUT", http::DEFAULT_TIMEOUT_SECONDS)?;
    m.add("DEFAULT_DOCUMENT_TIMEOUT", http::DEFAULT_DOCUMENT_TIMEOUT_SECONDS)?;
    m.add("DEFAULT_WAIT_TIMEOUT", http::poll::DEFAULT_WAIT_SECONDS)?;
    m.add("DEFAULT_MAX_RETRIES", http::retry::DEFAULT_MAX_RETRIES)?;
    m.add("DEFAULT_BACKOFF", http::retry::DEFAULT_BACKOFF.as_secs_f64())?;
    m.add("DEFAULT_CONCURRENCY", http::batch::DEFAULT_CONCURRENCY)?;
    m.add("RECORD_VARIABLE", http::record::RECORD_VARIABLE)?;
    let targets = crate::release::Target::ALL.map(crate::release::Target::as_str);
    m.add("RELEASE_TARGETS", pyo3::types::PyTuple::new(m.py(), targets)?)?;
    m.add("IMAGE_TYPES", pyo3::types::PyTuple::new(m.py(), crate::validate::IMAGE_TYPES)?)?;
    m.add("MAX_INPUT_FILE_BYTES", http::MAX_INPUT_FILE_BYTES)?;
    m.add("MAX_JSON_DEPTH", crate::json::MAX_DEPTH)?;
    m.add("MAX_JSON_INTEGER_DIGITS", crate::json::MAX_INTEGER_DIGITS)?;
    m.add("RETRIABLE_STATUSES", pyo3::types::PyTuple::new(m.py(), http::retry::RETRIABLE_STATUSES)?)?;
    cpp::add_constants(m)?;
    ingestion::add_constants(m)?;
    m.add_class::<cpp::PyClient>()?;
    m.add_class::<ingestion::PyIngestionClient>()?;
    m.add_function(wrap_pyfunction!(status_phase, m)?)?;
    m.add_function(wrap_pyfunction!(job_phase, m)?)?;
    m.add_function(wrap_pyfunction!(is_loopback_url, m)?)?;
    m.add_function(wrap_pyfunction!(api_error_text, m)?)?;
    m.add_function(wrap_pyfunction!(is_transient_status, m)?)?;
    // Daemon threads finishing a blocking call at interpreter exit wait instead of re-entering it.
    m.py().import("atexit")?.call_method1("register", (wrap_pyfunction!(run::mark_exiting, m)?,))?;
    Ok(())
}
