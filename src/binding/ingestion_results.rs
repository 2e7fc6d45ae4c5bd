//! Ingestion results out: the types of `cloudpartner.ingestion._jobs` (what a cancel returns,
//! apart) and `cloudpartner.ingestion._types` (products, submissions, plans, technical
//! configurations), built from the core's.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyModule, PyTuple};

use super::results::json_value;

use crate::http::Document;
use crate::ingestion::job::{Job, JobError, Moment};
use crate::ingestion::product::{Product, Submission};
use crate::ingestion::release::Activity;
use crate::ingestion::techconfig::{Image, ImageVersion, Plan, Source, TechnicalConfiguration};

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
    kwargs.set_item("failure", job.failure().map(crate::error::FailureKind::as_str))?;
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

fn plan_ref<'py>(py: Python<'py>, plan: &Plan) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("id", &plan.id)?;
    kwargs.set_item("external_id", &plan.external_id)?;
    kwargs.set_item("alias", &plan.alias)?;
    kwargs.set_item("raw", json_value(py, &plan.raw)?)?;
    types(py)?.getattr("Plan")?.call((), Some(&kwargs))
}

/// A list of `Plan`s.
pub fn plans(py: Python<'_>, plans: Vec<Plan>) -> PyResult<Bound<'_, PyAny>> {
    let items = plans.iter().map(|p| plan_ref(py, p)).collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.into_any())
}

/// A list of `Product`s.
pub fn products(py: Python<'_>, products: Vec<Product>) -> PyResult<Bound<'_, PyAny>> {
    let items = products.iter().map(|p| product_ref(py, p)).collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.into_any())
}

fn vm_image<'py>(class: &Bound<'py, PyAny>, image: &Image) -> PyResult<Bound<'py, PyAny>> {
    // The SAS URI's signature never reaches a repr: the whole URI stays in `raw`.
    let (source_type, uri, resource_id) = match &image.source {
        Source::Sas(uri) => (Some("sasUri"), Some(crate::sas::redact(uri)), None),
        Source::Gallery { resource_id, .. } => (Some("sharedImageGallery"), None, Some(resource_id.as_str())),
        Source::Other => (None, None, None),
    };
    class.call1((&image.image_type, source_type, uri, resource_id))
}

fn image_version<'py>(py: Python<'py>, version: &ImageVersion) -> PyResult<Bound<'py, PyAny>> {
    let image_class = types(py)?.getattr("VmImage")?;
    let images = version.images.iter().map(|i| vm_image(&image_class, i)).collect::<PyResult<Vec<_>>>()?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("number", &version.number)?;
    kwargs.set_item("images", PyTuple::new(py, images)?)?;
    kwargs.set_item("lifecycle_state", &version.lifecycle_state)?;
    kwargs.set_item("deprecation", version.deprecation.as_ref().map(|d| json_value(py, d)).transpose()?)?;
    kwargs.set_item("raw", json_value(py, &version.raw)?)?;
    types(py)?.getattr("ImageVersion")?.call((), Some(&kwargs))
}

/// A `TechnicalConfiguration`.
pub fn technical_configuration(py: Python<'_>, config: TechnicalConfiguration) -> PyResult<Bound<'_, PyAny>> {
    let versions = config.versions.iter().map(|v| image_version(py, v)).collect::<PyResult<Vec<_>>>()?;
    let skus = match &config.skus {
        serde_json::Value::Array(items) => {
            items.iter().map(|s| json_value(py, s)).collect::<PyResult<Vec<_>>>()?
        }
        _ => Vec::new(),
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item("id", &config.id)?;
    kwargs.set_item("product", &config.product)?;
    kwargs.set_item("plan", &config.plan)?;
    kwargs.set_item("image_versions", PyTuple::new(py, versions)?)?;
    kwargs.set_item("skus", PyTuple::new(py, skus)?)?;
    kwargs.set_item("raw", json_value(py, &config.raw)?)?;
    types(py)?.getattr("TechnicalConfiguration")?.call((), Some(&kwargs))
}

/// A `Job`, or None when nothing was sent.
pub fn optional_job(py: Python<'_>, job: Option<Job>) -> PyResult<Bound<'_, PyAny>> {
    match job {
        Some(job) => job_ref(py, &job),
        None => Ok(py.None().into_bound(py)),
    }
}

/// The submissions still running (`wait_until_idle`'s result and progress): a list of `Submission`s.
pub fn activity(py: Python<'_>, activity: Activity) -> PyResult<Bound<'_, PyAny>> {
    submissions(py, activity.running)
}

/// `(running submissions,)`: the arguments of `wait_until_idle`'s `on_progress`.
pub fn activity_args<'py>(py: Python<'py>, activity: &Activity) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, [submissions(py, activity.running.clone())?])
}
