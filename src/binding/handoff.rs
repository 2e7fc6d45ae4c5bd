//! Handing what core futures produce to asyncio: the runtime's threads never take the GIL, and one
//! wake-up of the event loop delivers every result that finished meanwhile.
//!
//! pyo3-async-runtimes delivers each result on its own: a hop to a blocking-pool thread, which
//! waits for the GIL (held by the loop most of the time) to call `call_soon_threadsafe`, which
//! wakes the loop once per result. Here a finished future puts its output in its loop's `Inbox`
//! (a lock and a `Vec` push); only the first into an empty inbox writes a byte to a socket the
//! loop watches (`add_reader`). The loop then runs `Drain`, on its own thread with the GIL it
//! already holds: it reads the bytes, takes everything in the inbox and resolves those futures.
//!
//! Loops without `add_reader` (Windows' proactor loop; this module is Unix only) keep
//! pyo3-async-runtimes' way.

use std::cell::RefCell;
use std::future::Future;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use futures_util::FutureExt;
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyNotImplementedError, PyOSError};
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::PyWeakrefReference;

/// A future's output, made a Python object on the loop's thread.
type Output = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// Results waiting for their loop.
pub struct Inbox {
    finished: Mutex<Vec<(Py<PyAny>, Output)>>,
    /// Written (a byte) when the inbox stops being empty; the loop reads the other end.
    wake: UnixStream,
}

impl Inbox {
    fn deliver(&self, future: Py<PyAny>, output: Output) {
        let was_empty = {
            let mut finished = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
            finished.push((future, output));
            finished.len() == 1
        };
        if was_empty {
            // Non-blocking. A full socket means a wake-up is pending anyway; a closed one, a
            // closed loop, which no longer resolves anything.
            let _ = (&self.wake).write(&[1]);
        }
    }
}

/// The loop's reader callback: resolves the futures in the inbox.
#[pyclass(frozen)]
struct Drain {
    inbox: Arc<Inbox>,
    woken: UnixStream,
}

#[pymethods]
impl Drain {
    /// Resolves every future in the inbox, even when one fails (a signal handler's
    /// `KeyboardInterrupt` raised inside `set_result`, say); the first failure is then raised, for
    /// asyncio to report or pass on.
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        // Bytes first, then the inbox: a result delivered after the take writes a new byte.
        let mut bytes = [0u8; 256];
        while matches!((&self.woken).read(&mut bytes), Ok(n) if n > 0) {}
        let finished =
            std::mem::take(&mut *self.inbox.finished.lock().unwrap_or_else(PoisonError::into_inner));
        let mut first_failure = None;
        for (future, output) in finished {
            if let Err(failure) = resolve(future.bind(py), output) {
                first_failure.get_or_insert(failure);
            }
        }
        first_failure.map_or(Ok(()), Err)
    }
}

/// `future.set_result(...)` or `set_exception(...)`, unless it was cancelled meanwhile. If that
/// raises, the future gets the exception instead, so that its awaiter does not wait forever.
fn resolve(future: &Bound<'_, PyAny>, output: Output) -> PyResult<()> {
    let py = future.py();
    let is_done = |f: &Bound<'_, PyAny>| f.call_method0(pyo3::intern!(py, "done"))?.extract::<bool>();
    if is_done(future)? {
        return Ok(());
    }
    let resolved = match output(py) {
        Ok(value) => future.call_method1(pyo3::intern!(py, "set_result"), (value,)),
        Err(error) => future.call_method1(pyo3::intern!(py, "set_exception"), (error.into_value(py),)),
    };
    let Err(failure) = resolved else { return Ok(()) };
    if !is_done(future).unwrap_or(true) {
        let _ =
            future.call_method1(pyo3::intern!(py, "set_exception"), (failure.clone_ref(py).into_value(py),));
    }
    Err(failure)
}

/// Aborts the Rust future when its asyncio future is cancelled (a done callback).
#[pyclass(frozen)]
struct AbortOnCancel(tokio::task::AbortHandle);

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0(pyo3::intern!(future.py(), "cancelled"))?.extract()? {
            self.0.abort(); // dropping the Rust future closes its connection
        }
        Ok(())
    }
}

/// One loop, as this thread knows it.
struct Known {
    event_loop: Py<PyWeakrefReference>,
    pid: u32,
    registration: Registration,
}

#[derive(Clone)]
enum Registration {
    /// The loop has no `add_reader`: pyo3-async-runtimes' path.
    NoReader,
    /// Weak: the loop's reader callback (`Drain`) and the calls in flight keep the inbox, and a
    /// closed loop drops its reader, so nothing here keeps a closed loop's results alive.
    Reader(Weak<Inbox>),
}

thread_local! {
    /// The loops this thread has run calls on (nearly always one): a loop runs on one thread.
    /// Entries go when their loop is gone or closed.
    static KNOWN: RefCell<Vec<Known>> = const { RefCell::new(Vec::new()) };
}

/// The inbox of `event_loop`, registered with it on first use; None if it has no `add_reader`.
pub fn inbox_of(event_loop: &Bound<'_, PyAny>) -> PyResult<Option<Arc<Inbox>>> {
    let py = event_loop.py();
    let pid = std::process::id();
    let is_this =
        |k: &Known| k.pid == pid && k.event_loop.bind(py).upgrade().is_some_and(|l| l.is(event_loop));
    match KNOWN.with_borrow(|known| known.iter().find(|k| is_this(k)).map(|k| k.registration.clone())) {
        Some(Registration::NoReader) => return Ok(None),
        Some(Registration::Reader(inbox)) => {
            if let Some(inbox) = inbox.upgrade() {
                return Ok(Some(inbox));
            } // else its reader went with a close: registered again below
        }
        None => {}
    }
    // A loop that takes no weak reference could not be told from a later one at its address:
    // it gets pyo3-async-runtimes' path. (asyncio's and uvloop's loops take them.)
    let Ok(reference) = PyWeakrefReference::new(event_loop) else {
        return Ok(None);
    };
    let inbox = register(py, event_loop)?;
    // Taken out while Python runs (`is_closed`), so that nothing it calls finds the list borrowed.
    let mut known = KNOWN.take();
    known.retain(|k| {
        k.pid == pid && !is_this(k) && k.event_loop.bind(py).upgrade().is_some_and(|l| !is_closed(&l))
    });
    let registration =
        inbox.as_ref().map_or(Registration::NoReader, |inbox| Registration::Reader(Arc::downgrade(inbox)));
    known.push(Known { event_loop: reference.unbind(), pid, registration });
    KNOWN.set(known);
    Ok(inbox)
}

fn is_closed(event_loop: &Bound<'_, PyAny>) -> bool {
    event_loop
        .call_method0(pyo3::intern!(event_loop.py(), "is_closed"))
        .and_then(|c| c.extract())
        .unwrap_or(true)
}

fn register(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Option<Arc<Inbox>>> {
    let (wake, woken) = UnixStream::pair()?;
    wake.set_nonblocking(true)?;
    woken.set_nonblocking(true)?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&woken);
    let inbox = Arc::new(Inbox { finished: Mutex::new(Vec::new()), wake });
    let drain = Drain { inbox: inbox.clone(), woken };
    match event_loop.call_method1(pyo3::intern!(py, "add_reader"), (fd, drain)) {
        Ok(_) => Ok(Some(inbox)),
        // No add_reader (Windows' proactor loop), or it cannot watch one more descriptor.
        Err(e) if e.is_instance_of::<PyNotImplementedError>(py) || e.is_instance_of::<PyOSError>(py) => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// An asyncio future on `event_loop` (whose inbox `inbox_of` gave) for `future`, which runs on
/// `runtime`. Cancelling the asyncio future drops the Rust one.
pub fn spawn<'py, F, T>(
    event_loop: &Bound<'py, PyAny>,
    inbox: Arc<Inbox>,
    runtime: &tokio::runtime::Runtime,
    future: F,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let py = event_loop.py();
    let asyncio_future = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
    let handle = asyncio_future.clone().unbind();
    let task = runtime.spawn(async move {
        // A panic must still resolve the asyncio future, or its awaiter would wait forever.
        let output: Output = match std::panic::AssertUnwindSafe(future).catch_unwind().await {
            Ok(result) => Box::new(move |py| result.and_then(|value| value.into_py_any(py))),
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                Box::new(move |_| Err(PanicException::new_err(message)))
            }
        };
        inbox.deliver(handle, output);
    });
    let abort = AbortOnCancel(task.abort_handle());
    if let Err(error) = asyncio_future.call_method1(pyo3::intern!(py, "add_done_callback"), (abort,)) {
        task.abort(); // nobody could await it, nor cancel it
        return Err(error);
    }
    Ok(asyncio_future)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text =
        panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    format!("a cloudpartner call panicked: {}", text.unwrap_or("(no message)"))
}
