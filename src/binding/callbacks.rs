//! Python callables the core calls back while it works: the token source, `on_progress` and
//! `on_result`. Each attaches with `try_attach`: during interpreter shutdown a callback is
//! skipped (and a token cannot be had) instead of panicking.
//!
//! The core cannot carry a Python exception, so a failing callback leaves it in a `Failure`
//! slot and makes the core stop; the binding then raises that exception itself. A callback run
//! on an asyncio loop fails later than the core called it: the core stops at its next callback
//! or, while waiting, at its next poll (the token supplier checks the slot).

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::credentials::TokenSource;
use crate::validate::Token;

/// The first exception a callback raised, shared between the callbacks and the binding.
#[derive(Clone, Default)]
pub struct Failure(Arc<Mutex<Option<PyErr>>>);

impl Failure {
    fn keep(&self, err: PyErr) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(err);
    }

    fn is_set(&self) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    pub fn take(&self) -> Option<PyErr> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// A token for each poll (a credential may refresh during a long wait). With `event_loop` (an
/// asyncio wait), an async credential's coroutine runs on that loop.
pub fn tokens(
    source: Arc<TokenSource>,
    failure: Failure,
    event_loop: Option<Py<PyAny>>,
) -> impl Fn() -> Option<Token> + Send + Sync {
    move || {
        if failure.is_set() {
            return None;
        }
        Python::try_attach(|py| source.resolve_from_worker(py, event_loop.as_ref()))?
            .map_err(|e| failure.keep(e))
            .ok()
    }
}

/// Builds a callback's arguments under the GIL.
pub type Arguments<'a> = &'a dyn Fn(Python<'_>) -> PyResult<Bound<'_, PyTuple>>;

/// A user callback, called either on the waiting thread (sync calls) or scheduled on the
/// caller's asyncio loop with `call_soon_threadsafe` (async calls: it runs where the caller's
/// code runs). Either way an exception from it stops the call and is what the call raises.
pub enum Callback {
    None,
    Here { callback: Py<PyAny>, failure: Failure },
    OnLoop { guarded: Py<Guarded>, event_loop: Py<PyAny>, failure: Failure },
}

/// Runs a callback on the event loop and keeps its exception for the call to raise.
#[pyclass(frozen)]
pub struct Guarded {
    callback: Py<PyAny>,
    failure: Failure,
}

#[pymethods]
impl Guarded {
    #[pyo3(signature = (*args))]
    fn __call__(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) {
        if let Err(e) = self.callback.bind(py).call1(args) {
            self.failure.keep(e);
        }
    }
}

impl Callback {
    pub fn here(callback: Option<Py<PyAny>>, failure: &Failure) -> Self {
        callback.map_or(Self::None, |callback| Self::Here { callback, failure: failure.clone() })
    }

    pub fn on_loop(py: Python<'_>, callback: Option<Py<PyAny>>, failure: &Failure) -> PyResult<Self> {
        let Some(callback) = callback else { return Ok(Self::None) };
        let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?.unbind();
        let guarded = Py::new(py, Guarded { callback, failure: failure.clone() })?;
        Ok(Self::OnLoop { guarded, event_loop, failure: failure.clone() })
    }

    /// Call it with the arguments `args` builds; `Break` when a sync callback raised.
    pub fn call(&self, args: Arguments<'_>) -> ControlFlow<()> {
        match self {
            Self::None => ControlFlow::Continue(()),
            Self::Here { callback, failure } => {
                match Python::try_attach(|py| callback.bind(py).call1(args(py)?).map(drop)) {
                    Some(Ok(())) => ControlFlow::Continue(()),
                    Some(Err(e)) => {
                        failure.keep(e);
                        ControlFlow::Break(())
                    }
                    None => ControlFlow::Break(()),
                }
            }
            Self::OnLoop { guarded, event_loop, failure } => {
                if failure.is_set() {
                    return ControlFlow::Break(());
                }
                Python::try_attach(|py| {
                    let scheduled = args(py).and_then(|args| {
                        let mut all = vec![guarded.bind(py).clone().into_any()];
                        all.extend(args.iter());
                        event_loop
                            .bind(py)
                            .call_method1("call_soon_threadsafe", PyTuple::new(py, all)?)
                            .map(drop)
                    });
                    if let Err(e) = scheduled {
                        e.write_unraisable(py, None);
                    }
                });
                ControlFlow::Continue(())
            }
        }
    }
}
