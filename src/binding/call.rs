//! The one path every call of both services' classes takes: the token resolved (before
//! anything is sent), the core's future run blocking with the GIL released or handed to asyncio,
//! and its value converted (or its error raised) under the GIL. A call is then one method: its
//! validation, its future, and its conversion.

use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;

use pyo3::prelude::*;

use super::callbacks::{self, Callback, Failure, LoopCallbacks, Parameter};
use super::credentials::TokenSource;
use super::run;
use crate::error::{Error, Result};
use crate::validate::Token;

/// Makes the Python value of a core result.
pub type Convert<T> = for<'py> fn(Python<'py>, T) -> PyResult<Bound<'py, PyAny>>;

/// A core result on its way to Python: converted, or raised, once under the GIL. A callback's
/// exception (`failure`) wins over the core's own outcome: it is why the core stopped.
pub struct Delivery<T> {
    value: Result<T>,
    convert: Convert<T>,
    failure: Option<Failure>,
}

impl<'py, T> IntoPyObject<'py> for Delivery<T> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(err) = self.failure.as_ref().and_then(Failure::take) {
            return Err(err);
        }
        (self.convert)(py, self.value?)
    }
}

/// Run `work` with the token `tokens` gives: blocking (the result) or, when `asynchronous`, as
/// an awaitable on the running event loop (an async credential is awaited there).
pub fn call<'py, T, F, Fut>(
    py: Python<'py>,
    asynchronous: bool,
    tokens: &Arc<TokenSource>,
    work: F,
    convert: Convert<T>,
) -> PyResult<Bound<'py, PyAny>>
where
    T: Send + 'static,
    F: FnOnce(Token) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    if !asynchronous {
        let token = tokens.resolve(py)?;
        let value = run::blocking(py, work(token))?;
        return Delivery { value, convert, failure: None }.into_pyobject(py);
    }
    let locals = run::running_loop(py)?;
    let token = tokens.resolve_async(py, &locals)?;
    run::awaitable(py, locals, async move {
        let token = token.await?;
        Ok(Delivery { value: work(token).await, convert, failure: None })
    })
}

/// What a long call (a wait, a batch) reports through: a token for each poll, and the user's
/// callback, run on the calling thread or on the event loop.
pub struct Watch {
    tokens: Box<dyn Fn() -> Option<Token> + Send + Sync>,
    callback: Callback,
}

impl Watch {
    /// The token for the next poll; `None` when the source failed (the failure is kept).
    pub fn token(&self) -> Option<Token> {
        (self.tokens)()
    }

    /// Call the callback with the arguments `args` builds; `Break` when it raised.
    pub fn report(&self, args: callbacks::Arguments<'_>) -> ControlFlow<()> {
        self.callback.call(args)
    }
}

/// Like `call`, for work that reports as it goes (`Watch`): the callback is checked and the
/// token resolved once before anything is sent (a missing token is refused at once), then the
/// token again for each poll. A callback that raises stops the work, and its exception is what
/// the call raises. An asyncio call awaits on its loop what its callback returns that is
/// awaitable, stops as soon as one raises, and returns only once every callback it started has
/// finished; cancelled, it cancels those still running.
pub fn watched<'py, T, F, Fut>(
    py: Python<'py>,
    asynchronous: bool,
    tokens: &Arc<TokenSource>,
    callback: Option<Py<PyAny>>,
    parameter: Parameter,
    work: F,
    convert: Convert<T>,
) -> PyResult<Bound<'py, PyAny>>
where
    T: Send + 'static,
    F: FnOnce(Watch, Token) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    let failure = Failure::default();
    if !asynchronous {
        let callback = Callback::here(py, callback, parameter, &failure)?;
        let first = tokens.resolve(py)?;
        let watch = Watch {
            tokens: Box::new(callbacks::tokens(Arc::clone(tokens), failure.clone(), None)),
            callback,
        };
        let value = run::blocking(py, work(watch, first))?;
        return Delivery { value, convert, failure: Some(failure) }.into_pyobject(py);
    }
    let locals = run::running_loop(py)?;
    let event_loop = locals.event_loop(py).unbind();
    let on_loop = LoopCallbacks::new(py, &locals);
    let callback = Callback::on_loop(py, callback, parameter, &failure, &on_loop)?;
    let first = tokens.resolve_async(py, &locals)?;
    let watch = Watch {
        tokens: Box::new(callbacks::tokens(Arc::clone(tokens), failure.clone(), Some(event_loop))),
        callback,
    };
    run::awaitable(py, locals, async move {
        let first = first.await?;
        let value = tokio::select! {
            value = work(watch, first) => value,
            () = failure.raised() => Err(Error::Stopped),
        };
        on_loop.finished().await;
        Ok(Delivery { value, convert, failure: Some(failure) })
    })
}
