//! Where a call's bearer token comes from: a string, an azure-identity style credential (cached
//! until five minutes before expiry), or the `CLOUDPARTNER_TOKEN` environment variable.

use std::sync::{Mutex, PoisonError};

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::{args, exceptions};
use crate::error::Error;
use crate::token::{CachedToken, SCOPE, TOKEN_VARIABLE, unix_now};
use crate::validate::Token;

pub enum TokenSource {
    Environment,
    Fixed(Token),
    Credential { credential: Py<PyAny>, cache: Mutex<Option<CachedToken>> },
}

impl TokenSource {
    pub fn from_py(value: &Bound<'_, PyAny>) -> PyResult<Self> {
        if value.is_none() {
            return Ok(Self::Environment);
        }
        if value.is_instance_of::<PyString>() {
            return Ok(Self::Fixed(Token::new(&args::string(value, "token")?)?));
        }
        if value.hasattr("get_token")? {
            return Ok(Self::Credential { credential: value.clone().unbind(), cache: Mutex::new(None) });
        }
        let kind = value.get_type().name().map_or_else(|_| "object".to_owned(), |n| n.to_string());
        Err(args::invalid(
            "token",
            format!("must be a str, a credential with get_token(), or None, not {kind}"),
        ))
    }

    /// The token for one call, checked (`Token::new`). A credential is asked only when the
    /// cached token is within five minutes of expiry; the cache lock is never held while Python
    /// runs.
    pub fn resolve(&self, py: Python<'_>) -> PyResult<Token> {
        let raw = match self {
            Self::Fixed(token) => return Ok(token.clone()),
            Self::Environment => {
                let value = py.import("os")?.getattr("environ")?.call_method1("get", (TOKEN_VARIABLE,))?;
                match value.extract::<Option<String>>()? {
                    Some(token) if !token.trim().is_empty() => token,
                    _ => {
                        return Err(Error::invalid(
                            "token",
                            format!("none given, and {TOKEN_VARIABLE} is not set"),
                        )
                        .into());
                    }
                }
            }
            Self::Credential { credential, cache } => {
                let cached = cache.lock().unwrap_or_else(PoisonError::into_inner).clone();
                match cached.filter(|t| t.is_fresh(unix_now())) {
                    Some(token) => token.token,
                    None => {
                        let fresh = fetch(credential.bind(py))?;
                        *cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(fresh.clone());
                        fresh.token
                    }
                }
            }
        };
        Ok(Token::new(&raw)?)
    }
}

/// `credential.get_token(SCOPE)` -> an object with `.token` and `.expires_on`.
fn fetch(credential: &Bound<'_, PyAny>) -> PyResult<CachedToken> {
    let py = credential.py();
    let failed = |why: String, cause: Option<PyErr>| {
        // KeyboardInterrupt, SystemExit and the like are not the credential's failure: let them go.
        if let Some(cause) = cause.as_ref().filter(|c| !c.is_instance_of::<PyException>(py)) {
            return cause.clone_ref(py);
        }
        let err = exceptions::credential_failure(py, &why);
        err.set_cause(py, cause);
        err
    };
    let answer = credential
        .call_method1("get_token", (SCOPE,))
        .map_err(|e| failed(format!("the credential's get_token({SCOPE:?}) failed"), Some(e)))?;
    if answer.hasattr("__await__")? {
        // Close the coroutine so Python does not warn that it was never awaited.
        let _ = answer.call_method0("close");
        return Err(failed(
            "the credential's get_token() is async; pass a synchronous credential (azure.identity, not azure.identity.aio)".to_owned(),
            None,
        ));
    }
    let token = answer
        .getattr("token")
        .and_then(|t| t.extract::<String>())
        .map_err(|e| failed("the credential's token has no str `.token`".to_owned(), Some(e)))?;
    let expires_on = answer
        .getattr("expires_on")
        .and_then(|t| t.extract::<f64>())
        .map_err(|e| failed("the credential's token has no numeric `.expires_on`".to_owned(), Some(e)))?;
    Ok(CachedToken { token, expires_on })
}
