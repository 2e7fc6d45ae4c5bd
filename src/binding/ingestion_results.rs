//! Ingestion results out: the types of `cloudpartner.ingestion._jobs` (what a cancel returns,
//! apart) and `cloudpartner.ingestion._types`, built from the core's.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyModule, PyTuple};

use super::results::json_value;

use crate::http::Document;
use crate::ingestion::job::{Job, JobError, Moment};
use crate::ingestion::product::{Product, Submission};

fn types(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static TYPES: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    Ok(TYPES.get_or_try_init(py, || py.import("cloudpartner.ingestion._types").map(Bound::unbind))?.bind(py))
}

fn jobs(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static JOBS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    Ok(JOBS.get_or_try_init(py, || py.import("cloudpartner.ingestion._jobs").map(Bound::unbind))?.bind(py))
}

/// A `datetime`, or the text the service sent when it does not parse.
fn moment<'py>(py: Python<'py>, moment: Option<&Moment>) -> PyResult<Bound<'py, PyAny>> {
    match moment {
        None => Ok(py.None().into_bound(py)),
        Some(Moment::At(at)) => Ok(at.into_pyobject(py)?.into_any()),
        Some(Moment::Text(text)) => Ok(text.into_pyobject(py)?.into_any()),
    }
}

fn job_errors<'py>(py: Python<'py>, errors: &[JobError]) -> PyResult<Bound<'py, PyTuple>> {
    let class = jobs(py)?.getattr("JobError")?;
    let items = errors
        .iter()
        .map(|e| class.call1((&e.code, &e.message, &e.resource_id, job_errors(py, &e.details)?)))
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, items)
}

/// A `Job`.
pub fn job(py: Python<'_>, job: Job) -> PyResult<Bound<'_, PyAny>> {
    job_ref(py, &job)
}

pub fn job_ref<'py>(py: Python<'py>, job: &Job) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("id", &job.id)?;
    kwargs.set_item("status", &job.status)?;
    kwargs.set_item("result", &job.result)?;
    kwargs.set_item("started", moment(py, job.started.as_ref())?)?;
    kwargs.set_item("ended", moment(py, job.ended.as_ref())?)?;
    kwargs.set_item("errors", job_errors(py, &job.errors)?)?;
    kwargs.set_item("resource_uri", &job.resource_uri)?;
    kwargs.set_item("raw", json_value(py, &job.raw)?)?;
    jobs(py)?.getattr("Job")?.call((), Some(&kwargs))
}

/// `(job,)`: the arguments of an `on_progress` callback.
pub fn job_args<'py>(py: Python<'py>, state: &Job) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, [job_ref(py, state)?])
}

fn product_ref<'py>(py: Python<'py>, product: &Product) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("id", &product.id)?;
    kwargs.set_item("external_id", &product.external_id)?;
    kwargs.set_item("type", &product.product_type)?;
    kwargs.set_item("alias", &product.alias)?;
    kwargs.set_item("raw", json_value(py, &product.raw)?)?;
    types(py)?.getattr("Product")?.call((), Some(&kwargs))
}

/// A `Product`.
pub fn product(py: Python<'_>, product: Product) -> PyResult<Bound<'_, PyAny>> {
    product_ref(py, &product)
}

/// A list of `Submission`s.
pub fn submissions(py: Python<'_>, submissions: Vec<Submission>) -> PyResult<Bound<'_, PyAny>> {
    let class = types(py)?.getattr("Submission")?;
    let items = submissions
        .iter()
        .map(|s| {
            let kwargs = PyDict::new(py);
            kwargs.set_item("id", &s.id)?;
            kwargs.set_item("product", &s.product)?;
            kwargs.set_item("target", &s.target)?;
            kwargs.set_item("status", &s.status)?;
            kwargs.set_item("result", &s.result)?;
            kwargs.set_item("created", moment(py, s.created.as_ref())?)?;
            kwargs.set_item("lifecycle_state", &s.lifecycle_state)?;
            kwargs.set_item("raw", json_value(py, &s.raw)?)?;
            class.call((), Some(&kwargs))
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.into_any())
}

/// A JSON document as a dict (the resource tree, a job's resources).
pub fn document(py: Python<'_>, document: Document) -> PyResult<Bound<'_, PyAny>> {
    json_value(py, &document.value)
}
