//! The pyo3 binding: converts between Python and the core, and nothing else.
//!
//! `Client` wraps `client::Client`; `convert` turns Python arguments into validated core input
//! and core results and errors into Python objects; `credentials` resolves tokens; `pylog`
//! forwards the core's log lines to `logging`; `wait` runs futures for sync and async callers.

mod convert;
mod credentials;
mod pylog;
mod wait;

use std::sync::Arc;

use pyo3::prelude::*;

use crate::client;
use crate::request::Cancel;
use credentials::TokenSource;

/// The Rust half of `cloudpartner.Client` (the Python class holds one and documents it).
#[pyclass(frozen, module = "cloudpartner._core", name = "Client")]
struct PyClient {
    core: Arc<client::Client>,
    token: TokenSource,
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (token, base_url, timeout, max_retries, backoff, user_agent))]
    fn new(
        token: &Bound<'_, PyAny>,
        base_url: &Bound<'_, PyAny>,
        timeout: &Bound<'_, PyAny>,
        max_retries: &Bound<'_, PyAny>,
        backoff: &Bound<'_, PyAny>,
        user_agent: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let py = token.py();
        let settings = client::Settings::new(
            &convert::string(base_url, "base_url")?,
            convert::seconds(timeout, "timeout")?,
            convert::count(max_retries, "max_retries")?,
            convert::seconds(backoff, "backoff")?,
            convert::optional_string(user_agent, "user_agent")?.as_deref(),
        )
        .map_err(|e| convert::error(py, e))?;
        Ok(Self {
            core: Arc::new(client::Client::new(settings)),
            token: TokenSource::from_py(token)?,
        })
    }

    /// Cancel the running operation on an offer; blocks with the GIL released.
    #[pyo3(signature = (publisher, offer, emails=None, token=None))]
    fn cancel(
        &self,
        py: Python<'_>,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
        emails: Option<&Bound<'_, PyAny>>,
        token: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (call, token, log) = self.prepare(py, publisher, offer, emails, token)?;
        let core = Arc::clone(&self.core);
        let outcome = wait::blocking(py, async move {
            core.cancel(&call, &token, &log).await.map(|c| (call, c))
        })?;
        convert::cancel_result(py, outcome)
    }

    /// The same as `cancel`, as an awaitable for asyncio.
    #[pyo3(signature = (publisher, offer, emails=None, token=None))]
    fn cancel_async<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        emails: Option<&Bound<'py, PyAny>>,
        token: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (call, token, log) = self.prepare(py, publisher, offer, emails, token)?;
        let core = Arc::clone(&self.core);
        wait::awaitable(py, async move {
            convert::CancelOutcome(core.cancel(&call, &token, &log).await.map(|c| (call, c)))
        })
    }

    /// Refuse further calls and drop idle connections.
    fn close(&self) {
        self.core.close();
    }

    #[getter]
    fn closed(&self) -> bool {
        self.core.is_closed()
    }

    #[getter]
    fn base_url(&self) -> String {
        self.core
            .settings()
            .base_url
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    }

    #[getter]
    fn timeout(&self) -> f64 {
        self.core.settings().timeout.as_secs_f64()
    }

    #[getter]
    fn max_retries(&self) -> u32 {
        self.core.settings().retry.max_retries
    }
}

impl PyClient {
    /// Validate input and resolve the token, all before anything is sent.
    fn prepare(
        &self,
        py: Python<'_>,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
        emails: Option<&Bound<'_, PyAny>>,
        token: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Cancel, String, pylog::PyLog)> {
        if self.core.is_closed() {
            return Err(convert::error(py, crate::error::Error::Closed));
        }
        let publisher = convert::string(publisher, "publisher")?;
        let offer = convert::string(offer, "offer")?;
        let emails = convert::emails(emails)?;
        let call = Cancel::new(&publisher, &offer, emails.iter().map(String::as_str))
            .map_err(|e| convert::error(py, e))?;
        let token = match token {
            Some(given) if !given.is_none() => TokenSource::from_py(given)?.resolve(py)?,
            _ => self.token.resolve(py)?,
        };
        crate::validate::token(&token).map_err(|e| convert::error(py, e))?;
        Ok((call, token, pylog::PyLog::new(py)?))
    }
}

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_BASE_URL", client::DEFAULT_BASE_URL)?;
    m.add("API_VERSION", crate::request::API_VERSION)?;
    m.add("MAX_BODY_BYTES", crate::transport::MAX_BODY_BYTES)?;
    m.add_class::<PyClient>()?;
    Ok(())
}
