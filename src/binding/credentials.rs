//! Where a call's bearer token comes from: a string, an azure-identity style credential (cached
//! until five minutes before expiry), or the `CLOUDPARTNER_TOKEN` environment variable.

use std::sync::{Mutex, PoisonError};

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::convert;
use crate::error::Error;
use crate::token::{CachedToken, unix_now};
use crate::validate;

/// The scope a credential is asked for.
pub const SCOPE: &str = "https://cloudpartner.azure.com/.default";
const TOKEN_VARIABLE: &str = "CLOUDPARTNER_TOKEN";

pub enum TokenSource {
    Environment,
    Fixed(String),
    Credential { credential: Py<PyAny>, cache: Mutex<Option<CachedToken>> },
}

impl TokenSource {
    pub fn from_py(value: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = value.py();
        if value.is_none() {
            return Ok(Self::Environment);
        }
        if value.is_instance_of::<PyString>() {
            let text = convert::string(value, "token")?;
            let token = validate::token(&text).map_err(|e| convert::error(py, e))?;
            return Ok(Self::Fixed(token.to_owned()));
        }
        if value.hasattr("get_token")? {
            return Ok(Self::Credential { credential: value.clone().unbind(), cache: Mutex::new(None) });
        }
        let kind = value.get_type().name().map_or_else(|_| "object".to_owned(), |n| n.to_string());
        Err(convert::invalid(
            py,
            "token",
            format!("must be a str, a credential with get_token(), or None, not {kind}"),
        ))
    }

    /// The token for one call. A credential is asked only when the cached token is within five
    /// minutes of expiry; the cache lock is never held while Python runs.
    pub fn resolve(&self, py: Python<'_>) -> PyResult<String> {
        match self {
            Self::Fixed(token) => Ok(token.clone()),
            Self::Environment => {
                let value = py.import("os")?.getattr("environ")?.call_method1("get", (TOKEN_VARIABLE,))?;
                match value.extract::<Option<String>>()? {
                    Some(token) if !token.trim().is_empty() => Ok(token),
                    _ => Err(convert::error(
                        py,
                        Error::invalid("token", format!("none given, and {TOKEN_VARIABLE} is not set")),
                    )),
                }
            }
            Self::Credential { credential, cache } => {
                let cached = cache.lock().unwrap_or_else(PoisonError::into_inner).clone();
                if let Some(token) = cached.filter(|t| t.is_fresh(unix_now())) {
                    return Ok(token.token);
                }
                let fresh = fetch(credential.bind(py))?;
                *cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(fresh.clone());
                Ok(fresh.token)
            }
        }
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
        let err = convert::credential_error(py, why);
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
