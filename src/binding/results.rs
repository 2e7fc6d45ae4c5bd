//! Core results out: the dataclasses of `cloudpartner._results` and `cloudpartner._types`, built
//! from the core's values.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyInt, PyList, PyModule, PyTuple};
use serde_json::Value;

use crate::cpp::Accepted;
use crate::cpp::offer::OfferQuery;
use crate::cpp::operation::{Message, Operation};
use crate::cpp::request::{Action, OfferAction};
use crate::error::Result;
use crate::http::Document;

/// The service's documents (`Operation`, `Offer`, ...).
fn types(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static TYPES: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    Ok(TYPES.get_or_try_init(py, || py.import("cloudpartner._types").map(Bound::unbind))?.bind(py))
}

/// What a cancel, publish or go-live returns, apart: those calls need not create the others.
fn results(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static RESULTS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    Ok(RESULTS.get_or_try_init(py, || py.import("cloudpartner._results").map(Bound::unbind))?.bind(py))
}

/// A `CancelResult` (or, for a publish or go-live, an `ActionResult`) dataclass, or the exception.
/// Fields are passed positionally, in the dataclass's field order (a call per result: this is
/// the hot path of a cancel).
pub fn cancel_result(py: Python<'_>, outcome: Result<(OfferAction, Accepted)>) -> PyResult<Py<PyAny>> {
    static CANCEL_RESULT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let (call, accepted) = outcome?;
    let outcome = accepted.outcome;
    if call.action != Action::Cancel {
        let fields = (
            call.publisher,
            call.offer,
            call.action.as_str(),
            outcome.status,
            outcome.operation_location,
            outcome.operation_id,
            outcome.request_id,
            accepted.client_request_id,
        );
        return Ok(results(py)?.getattr("ActionResult")?.call1(fields)?.unbind());
    }
    let class = CANCEL_RESULT
        .get_or_try_init(py, || results(py)?.getattr("CancelResult").map(Bound::unbind))?
        .bind(py);
    let fields = (
        call.publisher,
        call.offer,
        outcome.status,
        outcome.operation_location,
        outcome.operation_id,
        outcome.request_id,
        accepted.client_request_id,
    );
    Ok(class.call1(fields)?.unbind())
}

/// An `OfferStatus` dataclass from the status answer (read as an operation is).
pub fn offer_status<'py>(py: Python<'py>, status: &Operation) -> PyResult<Bound<'py, PyAny>> {
    let as_operation = operation(py, status)?;
    let kwargs = PyDict::new(py);
    for field in ["status", "steps", "messages", "waiting_for_review", "raw"] {
        kwargs.set_item(field, as_operation.getattr(field)?)?;
    }
    types(py)?.getattr("OfferStatus")?.call((), Some(&kwargs))
}

/// A document's JSON as Python values: dicts (in the service's order), lists, str, int (exact
/// at any size), float, bool and None. The core parsed it within `json`'s bounds, so this never
/// meets Python's recursion limit (the nesting is at most `json::MAX_DEPTH`, walked in Rust) nor
/// its limit on integer text (at most `json::MAX_INTEGER_DIGITS` digits, below any setting).
pub fn json_value<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else if n.as_str().contains(['.', 'e', 'E']) {
                // A fraction or exponent: a float, as Python's json reads it (rounded, or an
                // infinity beyond the range).
                n.as_str().parse::<f64>().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            } else {
                py.get_type::<PyInt>().call1((n.as_str(),))?
            }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            PyList::new(py, items.iter().map(|v| json_value(py, v)).collect::<PyResult<Vec<_>>>()?)?
                .into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, json_value(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// An `Offer` dataclass for the offer `query` names, or (with none) the document's JSON.
pub fn document<'py>(
    py: Python<'py>,
    document: &Document,
    query: Option<&OfferQuery>,
) -> PyResult<Bound<'py, PyAny>> {
    let parsed = json_value(py, &document.value)?;
    match query {
        None => Ok(parsed),
        Some(query) => {
            let kwargs = PyDict::new(py);
            kwargs.set_item("publisher", &query.publisher)?;
            kwargs.set_item("offer", &query.offer)?;
            kwargs.set_item("etag", &document.etag)?;
            kwargs.set_item("definition", parsed)?;
            kwargs.set_item("slot", query.slot.map(crate::cpp::offer::Slot::as_str))?;
            kwargs.set_item("version", query.version)?;
            kwargs.set_item("request_id", &document.request_id)?;
            types(py)?.getattr("Offer")?.call((), Some(&kwargs))
        }
    }
}

/// An `Operation` dataclass.
pub fn operation<'py>(py: Python<'py>, op: &Operation) -> PyResult<Bound<'py, PyAny>> {
    let types = types(py)?;
    let step_class = types.getattr("OperationStep")?;
    let steps = op
        .steps
        .iter()
        .map(|s| {
            let kwargs = PyDict::new(py);
            kwargs.set_item("id", &s.id)?;
            kwargs.set_item("description", &s.description)?;
            kwargs.set_item("estimated_time_frame", &s.estimated_time_frame)?;
            kwargs.set_item("messages", messages(py, &s.messages)?)?;
            step_class.call((&s.name, &s.status, s.progress), Some(&kwargs))
        })
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
    kwargs.set_item("messages", messages(py, &op.messages)?)?;
    kwargs.set_item("cancellation_state", &op.cancellation_state)?;
    kwargs.set_item("waiting_for_review", op.waiting_for_review())?;
    kwargs.set_item("raw", json_value(py, &op.raw)?)?;
    types.getattr("Operation")?.call((), Some(&kwargs))
}

/// A tuple of `StepMessage`s.
fn messages<'py>(py: Python<'py>, messages: &[Message]) -> PyResult<Bound<'py, PyTuple>> {
    let class = types(py)?.getattr("StepMessage")?;
    PyTuple::new(
        py,
        messages
            .iter()
            .map(|m| class.call1((&m.level, &m.text, m.timestamp)))
            .collect::<PyResult<Vec<_>>>()?,
    )
}

/// A list of `Operation`s.
pub fn operations<'py>(py: Python<'py>, ops: &[Operation]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, ops.iter().map(|op| operation(py, op)).collect::<PyResult<Vec<_>>>()?)
}

/// `(op,)`: the arguments of an `on_progress` callback.
pub fn operation_args<'py>(py: Python<'py>, op: &Operation) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, [operation(py, op)?])
}

/// One batch item as Python sees it: a `CancelResult`, or the exception instance.
fn batch_item_object(py: Python<'_>, outcome: Result<(OfferAction, Accepted)>) -> PyResult<Bound<'_, PyAny>> {
    match cancel_result(py, outcome) {
        Ok(result) => Ok(result.into_bound(py)),
        Err(err) => Ok(err.into_value(py).into_bound(py).into_any()),
    }
}

/// `(index, outcome)`: the arguments of an `on_result` callback.
pub fn batch_item_args<'py>(
    py: Python<'py>,
    index: usize,
    outcome: &Result<(OfferAction, Accepted)>,
) -> PyResult<Bound<'py, PyTuple>> {
    let index = index.into_pyobject(py)?.into_any();
    PyTuple::new(py, [index, batch_item_object(py, outcome.clone())?])
}

/// The batch's list, in input order.
pub fn batch_results(
    py: Python<'_>,
    results: Vec<Result<(OfferAction, Accepted)>>,
) -> PyResult<Bound<'_, PyList>> {
    let items =
        results.into_iter().map(|outcome| batch_item_object(py, outcome)).collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}
