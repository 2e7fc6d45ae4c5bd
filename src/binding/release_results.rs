//! A release out: `cloudpartner._release.Release`, built from the core's (`release::Release`),
//! for both APIs' `release_image_version` and their progress callbacks.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyModule, PyTuple};

use crate::release::{Release, Step};

fn module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    Ok(MODULE.get_or_try_init(py, || py.import("cloudpartner._release").map(Bound::unbind))?.bind(py))
}

fn step<'py>(class: &Bound<'py, PyAny>, step: &Step) -> PyResult<Bound<'py, PyAny>> {
    class.call1((step.name.as_str(), step.outcome.as_str(), step.job_id.as_deref(), step.status.as_str()))
}

/// A `Release`.
pub fn release<'py>(py: Python<'py>, release: &Release) -> PyResult<Bound<'py, PyAny>> {
    let module = module(py)?;
    let class = module.getattr("ReleaseStep")?;
    let steps = release.steps.iter().map(|s| step(&class, s)).collect::<PyResult<Vec<_>>>()?;
    module.getattr("Release")?.call1((PyTuple::new(py, steps)?,))
}

/// `(release,)`: the arguments of a release's `on_progress` callback.
pub fn release_args<'py>(py: Python<'py>, so_far: &Release) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, [release(py, so_far)?])
}
