//! Every exception the binding raises, and the one conversion from the core's `Error` into them.
//!
//! The classes live in `cloudpartner._errors`, where users read them. Each has one typed accessor
//! here that imports it on first use and keeps it; nothing else in the binding names a class.
//! Each exception carries the core's own verdict on whether trying again may help
//! (`is_transient`): the one the retry loop and `wait` act on.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

use crate::cpp::operation::Operation;
use crate::error::{ApiFailure, Error, FailureKind, LastState};
use crate::ingestion::job::Job;

/// One accessor per class of `cloudpartner._errors` that the binding raises.
macro_rules! classes {
    ($($accessor:ident => $class:literal),* $(,)?) => {$(
        fn $accessor(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
            static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
            CLASS.import(py, "cloudpartner._errors", $class)
        }
    )*};
}

classes! {
    cloud_partner_error => "CloudPartnerError",
    invalid_argument_error => "InvalidArgumentError",
    credential_error => "CredentialError",
    client_closed_error => "ClientClosedError",
    nested_call_error => "NestedCallError",
    transport_error => "TransportError",
    request_timeout_error => "RequestTimeoutError",
    malformed_response_error => "MalformedResponseError",
    response_too_large_error => "ResponseTooLargeError",
    wait_timeout_error => "WaitTimeoutError",
    api_error => "ApiError",
    bad_request_error => "BadRequestError",
    authentication_error => "AuthenticationError",
    forbidden_error => "ForbiddenError",
    not_found_error => "NotFoundError",
    conflict_error => "ConflictError",
    precondition_failed_error => "PreconditionFailedError",
    throttled_error => "ThrottledError",
    server_error => "ServerError",
    job_already_completed_error => "JobAlreadyCompletedError",
    job_failed_error => "JobFailedError",
    submission_conflict_error => "SubmissionConflictError",
    certification_failed_error => "CertificationFailedError",
}

impl From<Error> for PyErr {
    /// The core's error as its exception. Only a broken package (its `_errors` module failing to
    /// import) makes this the import's error instead.
    #[cold]
    fn from(err: Error) -> PyErr {
        Python::attach(|py| exception(py, &err).unwrap_or_else(|broken| broken))
    }
}

fn exception(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let kwargs = PyDict::new(py);
    let message = || PyTuple::new(py, [err.to_string()]);
    let (class, args) = match err {
        Error::InvalidArgument { field, .. } => {
            kwargs.set_item("field", field)?;
            (invalid_argument_error(py)?, message()?)
        }
        Error::Api(failure) => {
            api_fields(&kwargs, failure)?;
            (api_class(py, failure.status)?, PyTuple::new(py, [failure.status])?)
        }
        Error::JobCompleted { failure, job_id, job } => {
            api_fields(&kwargs, failure)?;
            kwargs.set_item("job_id", job_id)?;
            kwargs.set_item(
                "job",
                job.as_ref()
                    .and_then(LastState::get::<Job>)
                    .map(|j| super::ingestion_results::job_ref(py, j))
                    .transpose()?,
            )?;
            (job_already_completed_error(py)?, PyTuple::new(py, [failure.status])?)
        }
        Error::Transport { client_request_id, .. } => {
            kwargs.set_item("client_request_id", client_request_id)?;
            (transport_error(py)?, message()?)
        }
        Error::Timeout { after, client_request_id, .. } => {
            kwargs.set_item("client_request_id", client_request_id)?;
            kwargs.set_item("timeout", after.as_secs_f64())?;
            (request_timeout_error(py)?, message()?)
        }
        Error::Closed => (client_closed_error(py)?, message()?),
        Error::Usage(_) => (nested_call_error(py)?, message()?),
        Error::Malformed { status, request_id, client_request_id, .. } => {
            kwargs.set_item("status_code", status)?;
            kwargs.set_item("request_id", request_id)?;
            kwargs.set_item("client_request_id", client_request_id)?;
            (malformed_response_error(py)?, message()?)
        }
        Error::TooLarge { limit, status, request_id, client_request_id } => {
            kwargs.set_item("status_code", status)?;
            kwargs.set_item("request_id", request_id)?;
            kwargs.set_item("client_request_id", client_request_id)?;
            kwargs.set_item("limit", limit)?;
            (response_too_large_error(py)?, message()?)
        }
        Error::WaitTimeout { after, last } => {
            kwargs.set_item("timeout", after.as_secs_f64())?;
            if let Some(op) = last.as_ref().and_then(LastState::get::<Operation>) {
                kwargs.set_item("operation", super::results::operation(py, op)?)?;
            }
            if let Some(job) = last.as_ref().and_then(LastState::get::<Job>) {
                kwargs.set_item("job", super::ingestion_results::job_ref(py, job)?)?;
            }
            (wait_timeout_error(py)?, message()?)
        }
        Error::JobFailed { kind, message: service_message, record } => {
            kwargs.set_item("message", service_message)?;
            if let Some(op) = record.get::<Operation>() {
                kwargs.set_item("job", super::results::operation(py, op)?)?;
            }
            if let Some(job) = record.get::<Job>() {
                kwargs.set_item("job", super::ingestion_results::job_ref(py, job)?)?;
            }
            let class = match kind {
                FailureKind::Conflict => submission_conflict_error(py)?,
                FailureKind::Certification => certification_failed_error(py)?,
                FailureKind::Other => job_failed_error(py)?,
            };
            (class, message()?)
        }
        // A callback's own exception is raised instead (`callbacks::Failure`); this is a fallback.
        Error::Stopped => (cloud_partner_error(py)?, message()?),
    };
    let instance = class.call(args, Some(&kwargs))?;
    instance.setattr("is_transient", err.is_transient())?;
    Ok(PyErr::from_value(instance))
}

/// The fields every `ApiError` carries.
fn api_fields(kwargs: &Bound<'_, PyDict>, failure: &ApiFailure) -> PyResult<()> {
    kwargs.set_item("code", &failure.code)?;
    kwargs.set_item("message", &failure.message)?;
    kwargs.set_item("body", &failure.body)?;
    kwargs.set_item("request_id", &failure.request_id)?;
    kwargs.set_item("client_request_id", &failure.client_request_id)?;
    kwargs.set_item("retry_after", failure.retry_after)?;
    kwargs.set_item("location", &failure.location)?;
    kwargs.set_item("body_truncated", failure.body_truncated)
}

/// The class for a failure status: the statuses the API documents have their own.
fn api_class(py: Python<'_>, status: u16) -> PyResult<&Bound<'_, PyType>> {
    match status {
        400 => bad_request_error(py),
        401 => authentication_error(py),
        403 => forbidden_error(py),
        404 => not_found_error(py),
        409 => conflict_error(py),
        412 => precondition_failed_error(py),
        429 => throttled_error(py),
        500..=599 => server_error(py),
        _ => api_error(py),
    }
}

/// `CredentialError(message)`: a token source failed (the caller chains the cause).
#[cold]
pub fn credential_failure(py: Python<'_>, message: &str) -> PyErr {
    match credential_error(py).and_then(|class| class.call1((message,))) {
        Ok(instance) => PyErr::from_value(instance),
        Err(broken) => broken,
    }
}
