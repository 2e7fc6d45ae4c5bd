//! Where a call's bearer token comes from: a string, an azure-identity style credential (sync or
//! `azure.identity.aio`; cached until its `refresh_on`, else five minutes before expiry), or the
//! service's environment variable (`CLOUDPARTNER_TOKEN`, `CLOUDPARTNER_INGESTION_TOKEN`). A
//! credential is asked for the service's own scope (`http::Service`).
//!
//! A credential is asked with `get_token_info(scope)` when it has it (azure-core 1.31+, whose
//! `AccessTokenInfo` carries `refresh_on`), else `get_token(scope)`. An async credential's
//! coroutine runs on the caller's event loop: awaited by asyncio calls, and waited for from the
//! I/O runtime when a long `wait_async` needs a fresh token. A blocking call cannot run a
//! coroutine, so it refuses an async credential and says which API to use instead.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyString;
use pyo3_async_runtimes::TaskLocals;

use super::{args, exceptions};
use crate::error::Error;
use crate::http::Service;
use crate::token::{CachedToken, unix_now};
use crate::validate::Token;

/// How long a poll of `wait_async` waits for an async credential's coroutine on the event loop.
const LOOP_FETCH_LIMIT: Duration = Duration::from_secs(120);
const SYNC_CALL_WITH_ASYNC_CREDENTIAL: &str = "the credential is async (its get_token is a coroutine, as in \
    azure.identity.aio), and a blocking call cannot await it: use the *_async methods \
    (await client.cancel_async(...)), or the synchronous credential from azure.identity";

/// A token on its way: ready now, or an async credential's coroutine running on the event loop.
pub type TokenFuture = Pin<Box<dyn Future<Output = PyResult<Token>> + Send>>;

pub enum TokenSource {
    Environment(&'static Service),
    Fixed(Token),
    Credential { credential: Py<PyAny>, cache: Mutex<Option<CachedToken>>, scope: &'static str },
}

impl TokenSource {
    /// A token source for `service`, from what Python passed.
    pub fn from_py(value: &Bound<'_, PyAny>, service: &'static Service) -> PyResult<Self> {
        if value.is_none() {
            return Ok(Self::Environment(service));
        }
        if value.is_instance_of::<PyString>() {
            return Ok(Self::Fixed(Token::new(&args::string(value, "token")?)?));
        }
        if value.hasattr("get_token")? || value.hasattr("get_token_info")? {
            return Ok(Self::Credential {
                credential: value.clone().unbind(),
                cache: Mutex::new(None),
                scope: service.scope,
            });
        }
        let kind = value.get_type().name().map_or_else(|_| "object".to_owned(), |n| n.to_string());
        Err(args::invalid(
            "token",
            format!("must be a str, a credential with get_token(), or None, not {kind}"),
        ))
    }

    /// The token for a blocking call, checked (`Token::new`). A credential is asked only when the
    /// cached token is due for refresh; the cache lock is never held while Python runs. An async
    /// credential is refused (its coroutine is never created) with the fix in the message.
    pub fn resolve(&self, py: Python<'_>) -> PyResult<Token> {
        match self.ready(py)? {
            Ok(token) => Ok(token),
            Err(credential) => {
                if is_async(credential.bind(py))? {
                    return Err(failed(py, SYNC_CALL_WITH_ASYNC_CREDENTIAL, None));
                }
                let answer = ask(credential.bind(py), self.scope())?;
                if is_awaitable(&answer)? {
                    // Close the coroutine so Python does not warn that it was never awaited.
                    let _ = answer.call_method0("close");
                    return Err(failed(py, SYNC_CALL_WITH_ASYNC_CREDENTIAL, None));
                }
                self.keep(py, &answer)
            }
        }
    }

    /// The token for an asyncio call, on the loop `locals` names: a cached or fixed token at once;
    /// an async credential's coroutine is scheduled on that loop and awaited by the returned future
    /// (the loop stays free meanwhile); a sync credential is asked here and now.
    pub fn resolve_async(self: &Arc<Self>, py: Python<'_>, locals: &TaskLocals) -> PyResult<TokenFuture> {
        let credential = match self.ready(py)? {
            Ok(token) => return Ok(Box::pin(std::future::ready(Ok(token)))),
            Err(credential) => credential,
        };
        let answer = ask(credential.bind(py), self.scope())?;
        if !is_awaitable(&answer)? {
            let token = self.keep(py, &answer);
            return Ok(Box::pin(std::future::ready(token)));
        }
        let pending = pyo3_async_runtimes::into_future_with_locals(locals, answer)?;
        let source = Arc::clone(self);
        Ok(Box::pin(async move {
            let answer = pending.await;
            Python::attach(|py| match answer {
                Ok(answer) => source.keep(py, answer.bind(py)),
                Err(e) => Err(failed(
                    py,
                    &format!("the credential's get_token({:?}) failed", source.scope()),
                    Some(e),
                )),
            })
        }))
    }

    /// For a poll during `wait_async`, away from the event loop: as `resolve`, but an async
    /// credential's coroutine is run on `event_loop` and waited for (at most `LOOP_FETCH_LIMIT`).
    pub fn resolve_from_worker(&self, py: Python<'_>, event_loop: Option<&Py<PyAny>>) -> PyResult<Token> {
        let (credential, event_loop) = match (self.ready(py)?, event_loop) {
            (Ok(token), _) => return Ok(token),
            (Err(_), None) => return self.resolve(py),
            (Err(credential), Some(event_loop)) => (credential, event_loop),
        };
        let answer = ask(credential.bind(py), self.scope())?;
        if !is_awaitable(&answer)? {
            return self.keep(py, &answer);
        }
        let asyncio = py.import("asyncio")?;
        let done = asyncio.call_method1("run_coroutine_threadsafe", (answer, event_loop.bind(py)))?;
        // `result()` waits with the GIL released; the I/O worker is told it is blocked.
        let wait = || done.call_method1("result", (LOOP_FETCH_LIMIT.as_secs_f64(),));
        let answer = match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(wait),
            _ => wait(),
        };
        match answer {
            Ok(answer) => self.keep(py, &answer),
            Err(e) => {
                let _ = done.call_method0("cancel");
                Err(failed(py, &format!("the credential's get_token({:?}) failed", self.scope()), Some(e)))
            }
        }
    }

    /// The scope a credential is asked for (empty for the other sources, which ask nobody).
    fn scope(&self) -> &'static str {
        match self {
            Self::Credential { scope, .. } => scope,
            Self::Environment(service) => service.scope,
            Self::Fixed(_) => "",
        }
    }

    /// A token without asking a credential (`Ok`), or the credential to ask (`Err`).
    fn ready(&self, py: Python<'_>) -> PyResult<Result<Token, Py<PyAny>>> {
        match self {
            Self::Fixed(token) => Ok(Ok(token.clone())),
            Self::Environment(service) => {
                let variable = service.token_variable;
                let value = py.import("os")?.getattr("environ")?.call_method1("get", (variable,))?;
                match value.extract::<Option<String>>()? {
                    Some(token) if !token.trim().is_empty() => Ok(Ok(Token::new(&token)?)),
                    _ => {
                        Err(Error::invalid("token", format!("none given, and {variable} is not set")).into())
                    }
                }
            }
            Self::Credential { credential, cache, .. } => {
                let cached = cache.lock().unwrap_or_else(PoisonError::into_inner).clone();
                match cached.filter(|t| t.is_fresh(unix_now())) {
                    Some(fresh) => Ok(Ok(Token::new(&fresh.token)?)),
                    None => Ok(Err(credential.clone_ref(py))),
                }
            }
        }
    }

    /// Read a credential's answer, refuse an expired or malformed token, and cache it.
    fn keep(&self, py: Python<'_>, answer: &Bound<'_, PyAny>) -> PyResult<Token> {
        let fresh = parse(answer)?;
        let now = unix_now();
        if fresh.is_expired(now) {
            let ago = now - fresh.expires_on;
            let why = format!(
                "the credential returned a token that expired {ago:.0} s ago (expires_on {:.0}); \
                 check the credential (az login) and this machine's clock",
                fresh.expires_on
            );
            return Err(failed(py, &why, None));
        }
        let token = Token::new(&fresh.token)?;
        if let Self::Credential { cache, .. } = self {
            *cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(fresh);
        }
        Ok(token)
    }
}

/// `CredentialError(why)` caused by `cause`; KeyboardInterrupt, SystemExit, CancelledError and the
/// like are not the credential's failure and pass through as they are.
fn failed(py: Python<'_>, why: &str, cause: Option<PyErr>) -> PyErr {
    if let Some(cause) = cause.as_ref().filter(|c| !c.is_instance_of::<PyException>(py)) {
        return cause.clone_ref(py);
    }
    let err = exceptions::credential_failure(py, why);
    err.set_cause(py, cause);
    err
}

/// Whether the credential's token method is a coroutine function (azure.identity.aio).
fn is_async(credential: &Bound<'_, PyAny>) -> PyResult<bool> {
    let method = credential.getattr(method_name(credential)?)?;
    credential.py().import("inspect")?.call_method1("iscoroutinefunction", (method,))?.is_truthy()
}

/// Whether a credential's or a callback's answer is to be awaited (a coroutine, a future).
pub fn is_awaitable(answer: &Bound<'_, PyAny>) -> PyResult<bool> {
    answer.hasattr("__await__")
}

/// `get_token_info` when the credential has it (it carries `refresh_on`), else `get_token`.
fn method_name(credential: &Bound<'_, PyAny>) -> PyResult<&'static str> {
    Ok(if credential.hasattr("get_token_info")? { "get_token_info" } else { "get_token" })
}

/// `credential.get_token_info(scope)` or `credential.get_token(scope)`: an answer or a coroutine.
fn ask<'py>(credential: &Bound<'py, PyAny>, scope: &str) -> PyResult<Bound<'py, PyAny>> {
    let py = credential.py();
    let name = method_name(credential)?;
    credential
        .call_method1(name, (scope,))
        .map_err(|e| failed(py, &format!("the credential's {name}({scope:?}) failed"), Some(e)))
}

/// An `AccessToken` / `AccessTokenInfo`: `.token`, `.expires_on` and, optionally, `.refresh_on`.
fn parse(answer: &Bound<'_, PyAny>) -> PyResult<CachedToken> {
    let py = answer.py();
    let token = answer
        .getattr("token")
        .and_then(|t| t.extract::<String>())
        .map_err(|e| failed(py, "the credential's token has no str `.token`", Some(e)))?;
    let expires_on = answer
        .getattr("expires_on")
        .and_then(|t| t.extract::<f64>())
        .map_err(|e| failed(py, "the credential's token has no numeric `.expires_on`", Some(e)))?;
    let refresh_on =
        match answer.getattr_opt("refresh_on")? {
            Some(value) if !value.is_none() => Some(value.extract::<f64>().map_err(|e| {
                failed(py, "the credential's token has a non-numeric `.refresh_on`", Some(e))
            })?),
            _ => None,
        };
    Ok(CachedToken { token, expires_on, refresh_on })
}
