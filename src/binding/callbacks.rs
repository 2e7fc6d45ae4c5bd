//! Python callables the core calls back while it works: the token source, `on_progress` and
//! `on_result`. Each attaches with `try_attach`: during interpreter shutdown a callback is
//! skipped (and a token cannot be had) instead of panicking.
//!
//! The core cannot carry a Python exception, so a failing callback leaves it in a `Failure`
//! slot and makes the core stop; the binding then raises that exception itself. A callback run
//! on an asyncio loop fails later than the core called it: an asyncio call waits for `raised`
//! beside its work and stops it then (the token supplier checks the slot too).
//!
//! One rule for an `async def` callback (or any callback whose answer is awaitable), whichever
//! API: an asyncio call awaits it on its loop, under the same rules as a plain callback, and
//! returns only once every one it started has finished (`LoopCallbacks`); a blocking call cannot
//! await it and refuses it, before anything is sent when it is an async function. The callbacks
//! of one call run one at a time, in the order the core called them, as a blocking call's do: one
//! that arrives while an awaited one runs waits for it, and is dropped if it raised.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyTuple};
use pyo3_async_runtimes::TaskLocals;
use tokio::sync::Notify;

use super::args;
use super::credentials::{TokenSource, is_awaitable};
use crate::validate::Token;

/// The first exception a callback raised, shared between the callbacks and the binding.
#[derive(Clone, Default)]
pub struct Failure(Arc<FailureSlot>);

#[derive(Default)]
struct FailureSlot {
    first: Mutex<Option<PyErr>>,
    kept: Notify,
}

impl Failure {
    fn keep(&self, err: PyErr) {
        self.0.first.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(err);
        self.0.kept.notify_one();
    }

    fn is_set(&self) -> bool {
        self.0.first.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    pub fn take(&self) -> Option<PyErr> {
        self.0.first.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Ready once a callback has raised (a permit kept by `keep` wakes a later waiter too).
    pub async fn raised(&self) {
        while !self.is_set() {
            self.0.kept.notified().await;
        }
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

/// The parameter a callback came in, and the asyncio method that can await an async one: what
/// a refusal names.
#[derive(Clone, Copy)]
pub struct Parameter {
    pub name: &'static str,
    pub async_method: &'static str,
}

impl Parameter {
    /// Refuses what cannot be called, before anything is sent.
    fn check_callable(self, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        if callback.is_callable() {
            return Ok(());
        }
        Err(args::invalid(self.name, format!("must be callable, not {}", args::type_name(callback))))
    }

    /// The refusal of an awaitable callback by a blocking call; `what` says how it was told.
    fn cannot_await(self, what: &str) -> PyErr {
        args::invalid(
            self.name,
            format!(
                "{what}, which a blocking call cannot await: use `await client.{}(...)`, \
                 or pass a plain function",
                self.async_method
            ),
        )
    }
}

/// A user callback, called either on the waiting thread (sync calls) or scheduled on the
/// caller's asyncio loop with `call_soon_threadsafe` (async calls: it runs where the caller's
/// code runs, in the caller's `contextvars` context). Either way an exception from it stops the call and is what the call raises.
pub enum Callback {
    None,
    Here { callback: Py<PyAny>, parameter: Parameter, failure: Failure },
    OnLoop { guarded: Py<Guarded>, unfinished: Arc<Unfinished>, failure: Failure },
}

impl Callback {
    /// For a blocking call. An async function is refused here, before anything is sent: this
    /// thread has no loop to await it on.
    pub fn here(
        py: Python<'_>,
        callback: Option<Py<PyAny>>,
        parameter: Parameter,
        failure: &Failure,
    ) -> PyResult<Self> {
        let Some(callback) = callback else { return Ok(Self::None) };
        parameter.check_callable(callback.bind(py))?;
        let inspect = py.import("inspect")?;
        if inspect.call_method1("iscoroutinefunction", (&callback,))?.is_truthy()? {
            return Err(parameter.cannot_await("it is an async function"));
        }
        Ok(Self::Here { callback, parameter, failure: failure.clone() })
    }

    /// For an asyncio call: run on the loop `on_loop` belongs to, an awaitable answer awaited there.
    pub fn on_loop(
        py: Python<'_>,
        callback: Option<Py<PyAny>>,
        parameter: Parameter,
        failure: &Failure,
        on_loop: &LoopCallbacks,
    ) -> PyResult<Self> {
        let Some(callback) = callback else { return Ok(Self::None) };
        parameter.check_callable(callback.bind(py))?;
        let unfinished = Arc::clone(&on_loop.0);
        let guarded =
            Py::new(py, Guarded { callback, failure: failure.clone(), unfinished: Arc::clone(&unfinished) })?;
        Ok(Self::OnLoop { guarded, unfinished, failure: failure.clone() })
    }

    /// Call it with the arguments `args` builds; `Break` when it raised (on the loop: when a
    /// callback has raised by now).
    pub fn call(&self, args: Arguments<'_>) -> ControlFlow<()> {
        match self {
            Self::None => ControlFlow::Continue(()),
            Self::Here { callback, parameter, failure } => {
                let called = Python::try_attach(|py| {
                    let answer = callback.bind(py).call1(args(py)?)?;
                    if is_awaitable(&answer)? {
                        // Closed, so that Python does not warn that it was never awaited.
                        let _ = answer.call_method0("close");
                        return Err(parameter.cannot_await("it returned an awaitable (a coroutine)"));
                    }
                    Ok(())
                });
                match called {
                    Some(Ok(())) => ControlFlow::Continue(()),
                    Some(Err(e)) => {
                        failure.keep(e);
                        ControlFlow::Break(())
                    }
                    None => ControlFlow::Break(()),
                }
            }
            Self::OnLoop { guarded, unfinished, failure } => {
                if failure.is_set() {
                    return ControlFlow::Break(());
                }
                Python::try_attach(|py| {
                    unfinished.scheduled();
                    let scheduled = args(py).and_then(|args| {
                        let mut all = vec![guarded.bind(py).clone().into_any()];
                        all.extend(args.iter());
                        let context = [("context", unfinished.context.bind(py))].into_py_dict(py)?;
                        unfinished
                            .event_loop
                            .bind(py)
                            .call_method("call_soon_threadsafe", PyTuple::new(py, all)?, Some(&context))
                            .map(drop)
                    });
                    if let Err(e) = scheduled {
                        unfinished.done();
                        failure.keep(e);
                    }
                });
                if failure.is_set() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            }
        }
    }
}

/// Runs a callback on the event loop and keeps its exception for the call to raise. An
/// awaitable answer becomes a task on the loop, held in `unfinished` until its end (`Settled`).
#[pyclass(frozen)]
pub struct Guarded {
    callback: Py<PyAny>,
    failure: Failure,
    unfinished: Arc<Unfinished>,
}

#[pymethods]
impl Guarded {
    #[pyo3(signature = (*args))]
    fn __call__(slf: &Bound<'_, Self>, args: &Bound<'_, PyTuple>) {
        let this = slf.get();
        // After an exception, or once the call is over (cancelled), the callback is not run.
        if this.failure.is_set() || this.unfinished.is_abandoned() {
            this.unfinished.done();
            return;
        }
        // One at a time: while an awaited callback runs, this one waits its turn (`Settled`).
        if this.unfinished.queue_behind_running(slf, args) {
            return;
        }
        Self::run(slf, args);
    }
}

impl Guarded {
    /// Run the callback now; an awaitable answer runs on as a task, which `Settled` ends.
    fn run(slf: &Bound<'_, Self>, args: &Bound<'_, PyTuple>) {
        let this = slf.get();
        match this.callback.bind(slf.py()).call1(args).and_then(|answer| Self::start(slf, answer)) {
            Ok(true) => {} // a task runs: `Settled` ends it
            Ok(false) => this.unfinished.done(),
            Err(e) => {
                this.failure.keep(e);
                this.unfinished.done();
            }
        }
    }

    /// Start the callback's answer as a task on this loop when it is awaitable; true if so.
    fn start(slf: &Bound<'_, Self>, answer: Bound<'_, PyAny>) -> PyResult<bool> {
        if !is_awaitable(&answer)? {
            return Ok(false);
        }
        let this = slf.get();
        let py = answer.py();
        let task = py.import("asyncio")?.call_method1("ensure_future", (answer,))?;
        let settled = Settled { failure: this.failure.clone(), unfinished: Arc::clone(&this.unfinished) };
        if let Err(e) = task.call_method1("add_done_callback", (settled,)) {
            let _ = task.call_method0("cancel");
            return Err(e);
        }
        this.unfinished.hold(task.unbind());
        Ok(true)
    }
}

/// A callback's task ended: its exception is kept (a cancelled one has none to give).
#[pyclass(frozen)]
struct Settled {
    failure: Failure,
    unfinished: Arc<Unfinished>,
}

#[pymethods]
impl Settled {
    fn __call__(&self, task: &Bound<'_, PyAny>) {
        let raised = match task.call_method0("cancelled").and_then(|c| c.is_truthy()) {
            Ok(true) => None,
            Ok(false) => match task.call_method0("exception") {
                Ok(exception) if exception.is_none() => None,
                Ok(exception) => Some(PyErr::from_value(exception)),
                Err(e) => Some(e),
            },
            Err(e) => Some(e),
        };
        if let Some(e) = raised {
            self.failure.keep(e);
        }
        let released = self.unfinished.release(task);
        drop(released); // after the lock: the last reference may run Python
        // The callbacks that waited for this one, in turn, until one runs on as a task; after
        // an exception, or once the call is over, they are dropped.
        while let Some((guarded, args)) = self.unfinished.next_waiting() {
            let (guarded, args) = (guarded.bind(task.py()), args.bind(task.py()));
            if self.failure.is_set() || self.unfinished.is_abandoned() {
                self.unfinished.done();
            } else {
                Guarded::run(guarded, args);
                if self.unfinished.is_running() {
                    break;
                }
            }
        }
    }
}

/// The callbacks an asyncio call has handed its loop that have not finished: scheduled and not
/// yet run, or run and still running as a task (held here: a loop keeps only weak references to
/// its tasks). The call returns once none is left (`finished`). Dropped before that (the call was
/// cancelled), it cancels the tasks still running, and the callbacks not yet run do nothing.
pub struct LoopCallbacks(Arc<Unfinished>);

pub struct Unfinished {
    event_loop: Py<PyAny>,
    /// The caller's context (`contextvars`), which each callback runs in.
    context: Py<PyAny>,
    state: Mutex<Counted>,
    none_left: Notify,
}

#[derive(Default)]
struct Counted {
    count: usize,
    running: Vec<Py<PyAny>>,
    /// Callbacks (and their arguments) that arrived while one ran as a task, in order.
    waiting: VecDeque<(Py<Guarded>, Py<PyTuple>)>,
    abandoned: bool,
}

impl LoopCallbacks {
    /// For the call `locals` (its loop and a copy of its context) belong to.
    pub fn new(py: Python<'_>, locals: &TaskLocals) -> Self {
        Self(Arc::new(Unfinished {
            event_loop: locals.event_loop(py).unbind(),
            context: locals.context(py).unbind(),
            state: Mutex::default(),
            none_left: Notify::new(),
        }))
    }

    /// Ready once every callback scheduled so far has finished, tasks included.
    pub async fn finished(&self) {
        while self.0.lock().count > 0 {
            self.0.none_left.notified().await;
        }
    }
}

impl Drop for LoopCallbacks {
    fn drop(&mut self) {
        let running = {
            let mut state = self.0.lock();
            state.abandoned = true;
            std::mem::take(&mut state.running)
        };
        if running.is_empty() {
            return;
        }
        // A task is cancelled on its loop's thread; a closed loop has nothing left to cancel.
        Python::try_attach(|py| {
            for task in running {
                if let Ok(cancel) = task.bind(py).getattr("cancel") {
                    let _ = self.0.event_loop.bind(py).call_method1("call_soon_threadsafe", (cancel,));
                }
            }
        });
    }
}

impl Unfinished {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counted> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn scheduled(&self) {
        self.lock().count += 1;
    }

    fn done(&self) {
        let mut state = self.lock();
        state.count = state.count.saturating_sub(1);
        if state.count == 0 {
            self.none_left.notify_one();
        }
    }

    fn is_abandoned(&self) -> bool {
        self.lock().abandoned
    }

    fn hold(&self, task: Py<PyAny>) {
        self.lock().running.push(task);
    }

    fn is_running(&self) -> bool {
        !self.lock().running.is_empty()
    }

    /// Queue the call when a callback runs as a task (or others wait already); true if queued.
    fn queue_behind_running(&self, guarded: &Bound<'_, Guarded>, args: &Bound<'_, PyTuple>) -> bool {
        let mut state = self.lock();
        if state.running.is_empty() && state.waiting.is_empty() {
            return false;
        }
        state.waiting.push_back((guarded.clone().unbind(), args.clone().unbind()));
        true
    }

    /// The next callback waiting its turn, once no task runs.
    fn next_waiting(&self) -> Option<(Py<Guarded>, Py<PyTuple>)> {
        let mut state = self.lock();
        if !state.running.is_empty() {
            return None;
        }
        state.waiting.pop_front()
    }

    /// The task ended: it no longer counts; returned to be dropped outside the lock.
    fn release(&self, task: &Bound<'_, PyAny>) -> Option<Py<PyAny>> {
        let released = {
            let mut state = self.lock();
            let at = state.running.iter().position(|held| held.is(task));
            at.map(|at| state.running.swap_remove(at))
        };
        self.done();
        released
    }
}
