//! Python arguments in, Python results and exceptions out.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyModule, PyString, PyTuple};

use crate::client::Cancelled;
use crate::error::{Error, Result};
use crate::operation::Operation;
use crate::request::Cancel;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
static TYPES: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn module<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyModule>>,
    name: &str,
) -> PyResult<&'py Bound<'py, PyModule>> {
    Ok(cell.get_or_try_init(py, || py.import(name).map(Bound::unbind))?.bind(py))
}

/// The Python name of a value's type, for messages.
fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map_or_else(|_| "object".to_owned(), |n| n.to_string())
}

/// `InvalidArgumentError` for `field`.
pub fn invalid(py: Python<'_>, field: &'static str, reason: String) -> PyErr {
    error(py, Error::invalid(field, reason))
}

pub fn string(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<String> {
    match value.cast::<PyString>() {
        Ok(s) => text(s, field),
        Err(_) => Err(invalid(value.py(), field, format!("must be a str, not {}", type_name(value)))),
    }
}

/// A `str` as Rust text; one that is not valid Unicode (a lone surrogate) is refused by field.
fn text(value: &Bound<'_, PyString>, field: &'static str) -> PyResult<String> {
    value
        .to_cow()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| invalid(value.py(), field, "contains a lone surrogate (not valid Unicode)".to_owned()))
}

pub fn optional_string(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<Option<String>> {
    if value.is_none() { Ok(None) } else { string(value, field).map(Some) }
}

/// A filesystem path: a str or an `os.PathLike`.
pub fn path(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<std::path::PathBuf> {
    value.extract::<std::path::PathBuf>().map_err(|_| {
        invalid(value.py(), field, format!("must be a path (str or os.PathLike), not {}", type_name(value)))
    })
}

/// A number of seconds: an int or float (a bool is refused: `True` seconds is a bug).
pub fn seconds(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<f64> {
    if value.is_instance_of::<PyBool>()
        || !(value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>())
    {
        return Err(invalid(
            value.py(),
            field,
            format!("must be a number of seconds, not {}", type_name(value)),
        ));
    }
    value
        .extract::<f64>()
        .map_err(|_| invalid(value.py(), field, format!("{value} is too large a number of seconds")))
}

/// A count: a non-negative int.
pub fn count(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<u32> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(invalid(value.py(), field, format!("must be an int, not {}", type_name(value))));
    }
    value
        .extract::<u32>()
        .map_err(|_| invalid(value.py(), field, format!("{value} is not a count from 0 up")))
}

/// `None`, one comma-separated string, or any iterable of strings.
pub fn emails(value: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    let py = value.py();
    if let Ok(one) = value.cast::<PyString>() {
        return Ok(vec![text(one, "emails")?]);
    }
    if value.is_instance_of::<PyBytes>() {
        return Err(invalid(py, "emails", "must be a str or an iterable of str, not bytes".to_owned()));
    }
    let items = value.try_iter().map_err(|_| {
        invalid(py, "emails", format!("must be a str or an iterable of str, not {}", type_name(value)))
    })?;
    let mut out = Vec::new();
    for (index, item) in items.enumerate() {
        let item = item?;
        match item.cast::<PyString>() {
            Ok(s) => out.push(text(s, "emails")?),
            Err(_) => {
                return Err(invalid(
                    py,
                    "emails",
                    format!("item {index} is a {}, not a str", type_name(&item)),
                ));
            }
        }
    }
    Ok(out)
}

/// The core's error as the matching exception of `cloudpartner._errors`.
#[cold]
pub fn error(py: Python<'_>, err: Error) -> PyErr {
    build_error(py, &err).unwrap_or_else(|import_failure| {
        // Only reachable if the package is broken; still say what failed.
        PyRuntimeError::new_err(format!("{err} (and cloudpartner._errors failed: {import_failure})"))
    })
}

fn build_error(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let errors = module(py, &ERRORS, "cloudpartner._errors")?;
    let kwargs = PyDict::new(py);
    let (class, args) = match err {
        Error::InvalidArgument { field, .. } => {
            kwargs.set_item("field", field)?;
            ("InvalidArgumentError", (err.to_string(),).into_pyobject(py)?)
        }
        Error::Api(failure) => {
            kwargs.set_item("code", &failure.code)?;
            kwargs.set_item("message", &failure.message)?;
            kwargs.set_item("body", &failure.body)?;
            kwargs.set_item("request_id", &failure.request_id)?;
            kwargs.set_item("client_request_id", &failure.client_request_id)?;
            kwargs.set_item("retry_after", failure.retry_after)?;
            kwargs.set_item("location", &failure.location)?;
            kwargs.set_item("body_truncated", failure.body_truncated)?;
            (failure.exception_name(), (failure.status,).into_pyobject(py)?)
        }
        Error::Transport { reason, client_request_id } => {
            kwargs.set_item("client_request_id", client_request_id)?;
            ("TransportError", (reason,).into_pyobject(py)?)
        }
        Error::Timeout { after, client_request_id } => {
            kwargs.set_item("client_request_id", client_request_id)?;
            kwargs.set_item("timeout", after.as_secs_f64())?;
            ("RequestTimeoutError", (err.to_string(),).into_pyobject(py)?)
        }
        Error::Closed => ("ClientClosedError", (err.to_string(),).into_pyobject(py)?),
        Error::Malformed { status, request_id, client_request_id, .. } => {
            kwargs.set_item("status_code", status)?;
            kwargs.set_item("request_id", request_id)?;
            kwargs.set_item("client_request_id", client_request_id)?;
            ("MalformedResponseError", (err.to_string(),).into_pyobject(py)?)
        }
        Error::TooLarge { limit, status, request_id, client_request_id } => {
            kwargs.set_item("status_code", status)?;
            kwargs.set_item("request_id", request_id)?;
            kwargs.set_item("client_request_id", client_request_id)?;
            kwargs.set_item("limit", limit)?;
            ("ResponseTooLargeError", (err.to_string(),).into_pyobject(py)?)
        }
        Error::WaitTimeout { after, last } => {
            kwargs.set_item("timeout", after.as_secs_f64())?;
            let last = last.as_deref().map(|op| operation(py, op)).transpose()?;
            kwargs.set_item("operation", last)?;
            ("WaitTimeoutError", (err.to_string(),).into_pyobject(py)?)
        }
        // The binding raises the callback's own exception instead; this is only a fallback.
        Error::Stopped => ("CloudPartnerError", (err.to_string(),).into_pyobject(py)?),
    };
    let instance = errors.getattr(class)?.call(args, Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}

/// A `CancelResult` dataclass, or the exception. Fields are passed positionally, in the
/// dataclass's field order (a call per result: this is the hot path).
pub fn cancel_result(py: Python<'_>, outcome: Result<(Cancel, Cancelled)>) -> PyResult<Py<PyAny>> {
    static CANCEL_RESULT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let (call, cancelled) = outcome.map_err(|e| error(py, e))?;
    let class = CANCEL_RESULT
        .get_or_try_init(py, || {
            module(py, &TYPES, "cloudpartner._types")?.getattr("CancelResult").map(Bound::unbind)
        })?
        .bind(py);
    let outcome = cancelled.outcome;
    let fields = (
        call.publisher,
        call.offer,
        outcome.status,
        outcome.operation_location,
        outcome.operation_id,
        outcome.request_id,
        cancelled.client_request_id,
    );
    Ok(class.call1(fields)?.unbind())
}

/// An `Operation` dataclass (`raw` parsed by Python's json, so big integers stay exact).
pub fn operation<'py>(py: Python<'py>, op: &Operation) -> PyResult<Bound<'py, PyAny>> {
    let types = module(py, &TYPES, "cloudpartner._types")?;
    let step_class = types.getattr("OperationStep")?;
    let steps = op
        .steps
        .iter()
        .map(|s| step_class.call1((&s.name, &s.status, s.progress)))
        .collect::<PyResult<Vec<_>>>()?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("id", &op.id)?;
    kwargs.set_item("status", &op.status)?;
    kwargs.set_item("publisher", &op.publisher)?;
    kwargs.set_item("offer", &op.offer)?;
    kwargs.set_item("submission_type", &op.submission_type)?;
    kwargs.set_item("created", op.created)?;
    kwargs.set_item("changed", op.changed)?;
    kwargs.set_item("steps", PyTuple::new(py, steps)?)?;
    kwargs.set_item("raw", json_loads(py)?.call1((&op.raw,))?)?;
    types.getattr("Operation")?.call((), Some(&kwargs))
}

fn json_loads<'py>(py: Python<'py>) -> PyResult<&'py Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(LOADS.get_or_try_init(py, || py.import("json")?.getattr("loads").map(Bound::unbind))?.bind(py))
}

/// A location string, or a `CancelResult` (anything with `operation_location`).
pub fn location(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_instance_of::<PyString>() {
        return string(value, "location");
    }
    if value.hasattr("operation_location")? {
        let location = value.getattr("operation_location")?;
        if location.is_none() {
            return Err(invalid(
                value.py(),
                "location",
                "the cancel answer names no operation to follow (it completed, or the service sent no location)"
                    .to_owned(),
            ));
        }
        return string(&location, "location");
    }
    Err(invalid(
        value.py(),
        "location",
        format!("must be a location str or a CancelResult, not {}", type_name(value)),
    ))
}

/// `(op,)`: the arguments of an `on_progress` callback.
pub fn operation_args<'py>(py: Python<'py>, op: &Operation) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, [operation(py, op)?])
}

/// A batch's items: each a `(publisher, offer)` pair, validated on its own so that one bad item
/// becomes that item's `InvalidArgumentError` instead of failing the batch.
pub fn batch(items: &Bound<'_, PyAny>, emails: &[String]) -> PyResult<Vec<Result<Cancel>>> {
    let py = items.py();
    if items.is_instance_of::<PyString>() || items.is_instance_of::<PyBytes>() {
        return Err(invalid(
            py,
            "items",
            "must be an iterable of (publisher, offer) pairs, not a string".to_owned(),
        ));
    }
    let iterator = items.try_iter().map_err(|_| {
        invalid(
            py,
            "items",
            format!("must be an iterable of (publisher, offer) pairs, not {}", type_name(items)),
        )
    })?;
    let mut calls = Vec::new();
    for item in iterator {
        calls.push(batch_item(&item?, emails));
    }
    Ok(calls)
}

fn batch_item(item: &Bound<'_, PyAny>, emails: &[String]) -> Result<Cancel> {
    let not_a_pair = || {
        Error::invalid(
            "items",
            format!("each item must be a (publisher, offer) pair, not {}", type_name(item)),
        )
    };
    if item.is_instance_of::<PyString>() {
        return Err(not_a_pair());
    }
    let (publisher, offer) =
        item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>().map_err(|_| not_a_pair())?;
    let text = |value: &Bound<'_, PyAny>, field: &'static str| match value.cast::<PyString>() {
        Ok(s) => s
            .to_cow()
            .map(std::borrow::Cow::into_owned)
            .map_err(|_| Error::invalid(field, "is not valid text")),
        Err(_) => Err(Error::invalid(field, format!("must be a str, not {}", type_name(value)))),
    };
    Cancel::new(&text(&publisher, "publisher")?, &text(&offer, "offer")?, emails.iter().map(String::as_str))
}

/// One batch item as Python sees it: a `CancelResult`, or the exception instance.
fn batch_item_object(py: Python<'_>, outcome: Result<(Cancel, Cancelled)>) -> PyResult<Bound<'_, PyAny>> {
    match cancel_result(py, outcome) {
        Ok(result) => Ok(result.into_bound(py)),
        Err(err) => Ok(err.into_value(py).into_bound(py).into_any()),
    }
}

/// `(index, outcome)`: the arguments of an `on_result` callback.
pub fn batch_item_args<'py>(
    py: Python<'py>,
    index: usize,
    outcome: &Result<(Cancel, Cancelled)>,
) -> PyResult<Bound<'py, PyTuple>> {
    let index = index.into_pyobject(py)?.into_any();
    PyTuple::new(py, [index, batch_item_object(py, outcome.clone())?])
}

/// The batch's list, in input order.
pub fn batch_results(
    py: Python<'_>,
    results: Vec<Result<(Cancel, Cancelled)>>,
) -> PyResult<Bound<'_, PyList>> {
    let items =
        results.into_iter().map(|outcome| batch_item_object(py, outcome)).collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// Async results, raised or converted once back under the GIL.
pub enum Outcome {
    One(Result<Operation>),
    Many(Result<Vec<Operation>>),
    Waited(Result<Operation>, super::callbacks::Failure),
    Batch(Result<Vec<Result<(Cancel, Cancelled)>>>, super::callbacks::Failure),
}

impl<'py> IntoPyObject<'py> for Outcome {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Outcome::One(result) => operation(py, &result.map_err(|e| error(py, e))?),
            Outcome::Many(result) => {
                let ops = result.map_err(|e| error(py, e))?;
                let items = ops.iter().map(|op| operation(py, op)).collect::<PyResult<Vec<_>>>()?;
                Ok(PyList::new(py, items)?.into_any())
            }
            // A callback that ran on the loop may have failed after the core's last look.
            Outcome::Waited(result, failure) => match failure.take() {
                Some(err) => Err(err),
                None => operation(py, &result.map_err(|e| error(py, e))?),
            },
            Outcome::Batch(result, failure) => match failure.take() {
                Some(err) => Err(err),
                None => Ok(batch_results(py, result.map_err(|e| error(py, e))?)?.into_any()),
            },
        }
    }
}

/// What an async cancel resolves to; converted (or raised) once back under the GIL.
pub struct CancelOutcome(pub Result<(Cancel, Cancelled)>);

impl<'py> IntoPyObject<'py> for CancelOutcome {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        cancel_result(py, self.0).map(|r| r.into_bound(py))
    }
}

/// `CredentialError`: a token source failed (the cause is chained by the caller).
#[cold]
pub fn credential_error(py: Python<'_>, message: String) -> PyErr {
    let built = module(py, &ERRORS, "cloudpartner._errors")
        .and_then(|errors| errors.getattr("CredentialError"))
        .and_then(|class| class.call1((message.as_str(),)));
    match built {
        Ok(instance) => PyErr::from_value(instance),
        Err(import_failure) => {
            PyRuntimeError::new_err(format!("{message} (and cloudpartner._errors failed: {import_failure})"))
        }
    }
}
