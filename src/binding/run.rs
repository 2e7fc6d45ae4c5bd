//! Running core futures for Python: `blocking` for sync callers (GIL released, Ctrl-C honoured),
//! `awaitable` for asyncio (through pyo3-async-runtimes, on our fork-aware runtimes).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread::ThreadId;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, JoinError, Runtime};

#[cfg(unix)]
use super::handoff;
use crate::error::Error;
use crate::runtime;

/// How often a blocked call lets Python run its signal handlers (so Ctrl-C lands promptly).
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// The runtimes are built on first use; the OS can refuse their threads or epoll instance.
#[cold]
fn runtime_error(e: std::io::Error) -> PyErr {
    Error::Transport { reason: format!("could not start the I/O runtime: {e}"), client_request_id: None }
        .into()
}

/// The thread that shuts the interpreter down, set by an `atexit` hook (`mark_exiting`, registered
/// when the module loads). atexit runs after the other non-daemon threads were joined, so any other
/// thread still calling is a daemon thread.
static EXITING: OnceLock<ThreadId> = OnceLock::new();

/// Called by `atexit`: from now on, daemon threads finishing a blocking call never go back to
/// Python (`park_if_exiting`).
#[pyfunction]
pub fn mark_exiting() {
    let _ = EXITING.set(std::thread::current().id());
}

/// A daemon thread whose call ends while the interpreter shuts down must not take the GIL back:
/// Python before 3.14 ends such a thread with `pthread_exit`, whose forced unwind through this
/// call's Rust frames crashed the process (SIGSEGV at exit, seen on 3.9 and 3.13). It waits here
/// instead, for the process to end, as Python 3.14 makes such threads do itself.
fn park_if_exiting() {
    if EXITING.get().is_some_and(|finalizer| *finalizer != std::thread::current().id()) {
        loop {
            std::thread::park();
        }
    }
}

/// Run `future` to completion with the GIL released, on the current-thread runtime (this thread
/// drives the I/O: no hand-offs between threads). On the main thread, the GIL is taken briefly
/// every `SIGNAL_CHECK` for `check_signals`, so a `KeyboardInterrupt` (or any handler's exception)
/// abandons the call and is raised; other threads get no signals and skip the check.
pub fn blocking<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Usage(
            "a blocking cloudpartner call was made from a callback of another one (on_progress, on_result); \
             make it after that call returns, or use the async API",
        )
        .into());
    }
    let may_get_signals = may_get_signals(py)?;
    py.detach(|| {
        let output = runtime::block_on(async {
            let mut future = std::pin::pin!(future);
            if !may_get_signals {
                return Ok(future.await);
            }
            loop {
                tokio::select! {
                    output = &mut future => return Ok(output),
                    // During interpreter shutdown there are no handlers to run: keep waiting.
                    () = tokio::time::sleep(SIGNAL_CHECK) => {
                        Python::try_attach(|py| py.check_signals()).unwrap_or(Ok(()))?;
                    }
                }
            }
        });
        park_if_exiting();
        output
    })
    .map_err(runtime_error)?
}

/// Whether this may be Python's main thread (the only one that runs signal handlers). Until
/// something imports `threading` (which costs a fresh process milliseconds) there are no threads
/// worth telling apart: the answer is yes, and on another thread the check is a no-op anyway.
/// After, Python is asked once per process; the answer is then the Rust thread id it gave.
fn may_get_signals(py: Python<'_>) -> PyResult<bool> {
    static MAIN: Mutex<Option<(u32, std::thread::ThreadId)>> = Mutex::new(None);
    let (pid, me) = (std::process::id(), std::thread::current().id());
    if let Some((owner, main)) = *MAIN.lock().unwrap_or_else(PoisonError::into_inner)
        && owner == pid
    {
        return Ok(main == me);
    }
    let Ok(threading) = py.import("sys")?.getattr("modules")?.get_item("threading") else {
        return Ok(true);
    };
    let on_main = threading.call_method0("current_thread")?.is(&threading.call_method0("main_thread")?);
    if on_main {
        *MAIN.lock().unwrap_or_else(PoisonError::into_inner) = Some((pid, me));
    }
    Ok(on_main)
}

/// The running event loop (and context) an asyncio call belongs to.
pub fn running_loop(py: Python<'_>) -> PyResult<TaskLocals> {
    TaskLocals::with_running_loop(py)?.copy_context(py)
}

/// An asyncio awaitable for `future`, resolved on the loop `locals` names (from `running_loop`):
/// through `handoff` where the loop can watch a socket, else through pyo3-async-runtimes.
/// Cancelling the asyncio future drops the Rust one (closing its connection).
pub fn awaitable<'py, F, T>(py: Python<'py>, locals: TaskLocals, future: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let runtime = runtime::multi_thread().map_err(runtime_error)?;
    #[cfg(unix)]
    {
        let event_loop = locals.event_loop(py);
        if let Some(inbox) = handoff::inbox_of(&event_loop)? {
            return handoff::spawn(&event_loop, inbox, runtime, future);
        }
    }
    #[cfg(not(unix))]
    let _ = runtime;
    pyo3_async_runtimes::generic::future_into_py_with_locals::<CoreRuntime, _, T>(py, locals, future)
}

/// pyo3-async-runtimes' view of `runtime::multi_thread()`. Its own tokio runtime is a process-wide
/// `OnceLock` that a `fork()`ed child could not replace, so we hand it ours.
struct CoreRuntime;

/// A task's failure; `Unavailable` only if the runtime could not be (re)built.
enum TaskError {
    Join(tokio::task::JoinError),
    Unavailable,
}

impl JoinError for TaskError {
    fn is_panic(&self) -> bool {
        matches!(self, Self::Join(e) if e.is_panic())
    }

    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        match self {
            Self::Join(e) => e.try_into_panic().unwrap_or_else(|e| Box::new(e.to_string())),
            Self::Unavailable => Box::new("the I/O runtime is unavailable"),
        }
    }
}

type Task = Pin<Box<dyn Future<Output = Result<(), TaskError>> + Send>>;

impl Runtime for CoreRuntime {
    type JoinError = TaskError;
    type JoinHandle = Task;

    fn spawn<F>(fut: F) -> Task
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // `awaitable` built the runtime for this process just before, so this finds it.
        match runtime::multi_thread() {
            Ok(rt) => {
                let handle = rt.spawn(fut);
                Box::pin(async move { handle.await.map_err(TaskError::Join) })
            }
            Err(_) => Box::pin(async { Err(TaskError::Unavailable) }),
        }
    }

    fn spawn_blocking<F>(f: F) -> Task
    where
        F: FnOnce() + Send + 'static,
    {
        match runtime::multi_thread() {
            Ok(rt) => {
                // pyo3-async-runtimes hands the result to asyncio here, attaching to Python; once
                // the interpreter has shut down (Ctrl-C during asyncio.run) there is no one to
                // tell, and attaching would panic.
                let handle = rt.spawn_blocking(move || {
                    if Python::try_attach(|_| ()).is_some() {
                        f();
                    }
                });
                Box::pin(async move { handle.await.map_err(TaskError::Join) })
            }
            Err(_) => Box::pin(async { Err(TaskError::Unavailable) }),
        }
    }
}

impl ContextExt for CoreRuntime {
    // Our futures never call back into asyncio, so they need no task-local event loop.
    fn scope<F, R>(_locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        Box::pin(fut)
    }

    fn get_task_locals() -> Option<TaskLocals> {
        None
    }
}
