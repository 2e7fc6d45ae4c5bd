//! Python callables the core calls back while it waits: the token source and `on_progress`.
//! Each attaches with `try_attach`: during interpreter shutdown a callback is skipped (and a
//! token cannot be had) instead of panicking.
//! The core cannot carry a Python exception, so a failing callback leaves it in a `Failure`
//! slot and makes the core stop; the binding then raises that exception itself.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;

use super::convert;
use super::credentials::TokenSource;
use crate::error::Result;
use crate::operation::Operation;

/// The first exception a callback raised, shared between the callbacks and the binding.
#[derive(Clone, Default)]
pub struct Failure(Arc<Mutex<Option<PyErr>>>);

impl Failure {
    fn keep(&self, err: PyErr) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(err);
    }

    pub fn take(&self) -> Option<PyErr> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// A token for each poll (a credential may refresh during a long wait).
pub fn tokens(source: Arc<TokenSource>, failure: Failure) -> impl Fn() -> Option<String> + Send + Sync {
    move || Python::try_attach(|py| source.resolve(py))?.map_err(|e| failure.keep(e)).ok()
}

/// `on_progress` called on the waiting thread; an exception from it stops the wait.
pub fn progress_here(
    callback: Option<Py<PyAny>>,
    failure: Failure,
) -> impl FnMut(&Operation) -> ControlFlow<()> + Send {
    move |op| {
        let Some(callback) = &callback else { return ControlFlow::Continue(()) };
        let called =
            Python::try_attach(|py| callback.bind(py).call1((convert::operation(py, op)?,)).map(drop));
        match called {
            Some(Ok(())) => ControlFlow::Continue(()),
            None => ControlFlow::Break(()),
            Some(Err(e)) => {
                failure.keep(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// `on_progress` scheduled on the caller's event loop (`call_soon_threadsafe`), so it runs where
/// the caller's code runs; its exceptions go to the loop's exception handler.
pub fn progress_on_loop(
    py: Python<'_>,
    callback: Option<Py<PyAny>>,
) -> PyResult<impl FnMut(&Operation) -> ControlFlow<()> + Send + 'static> {
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?.unbind();
    Ok(move |op: &Operation| {
        if let Some(callback) = &callback {
            Python::try_attach(|py| {
                let scheduled = convert::operation(py, op).and_then(|op| {
                    event_loop
                        .bind(py)
                        .call_method1("call_soon_threadsafe", (callback.bind(py), op))
                        .map(drop)
                });
                if let Err(e) = scheduled {
                    e.write_unraisable(py, None);
                }
            });
        }
        ControlFlow::Continue(())
    })
}

/// An async wait's result: the operation, the callback's exception, or the core's error.
pub struct WaitOutcome {
    pub outcome: Result<Operation>,
    pub failure: Failure,
}

impl<'py> IntoPyObject<'py> for WaitOutcome {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.outcome {
            Ok(op) => convert::operation(py, &op),
            Err(e) => Err(self.failure.take().unwrap_or_else(|| convert::error(py, e))),
        }
    }
}
