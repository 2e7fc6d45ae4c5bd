//! The pyo3 binding: converts between Python and the core, and nothing else.
//!
//! `Client` wraps `client::Client`. Python values come in through `args` and become the core's
//! validated types (the core does the validating); results go out through `results` (and, for
//! asyncio, `outcomes`); every error leaves through `exceptions`, the one conversion of the
//! core's `Error`. `credentials` resolves tokens, `callbacks` runs the user's callables, `pylog`
//! forwards the core's log lines to `logging`, and `run` drives futures for sync and async
//! callers (`handoff` delivers asyncio results to the event loop). Imports go one way:
//! `exceptions` and `args` depend on no other binding module.

mod args;
mod callbacks;
mod credentials;
mod exceptions;
#[cfg(unix)]
mod handoff;
mod outcomes;
mod pylog;
mod results;
mod run;

use std::sync::Arc;

use pyo3::prelude::*;

use crate::client;
use crate::offer::{self, OfferQuery, PutOffer};
use crate::request::{Action, ListQuery, OfferAction, OperationLocation, Prepared};
use crate::validate::Token;
use callbacks::{Callback, Failure};
use credentials::{TokenFuture, TokenSource};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Rust half of `cloudpartner.Client` (the Python class holds one and documents it).
#[pyclass(frozen, module = "cloudpartner._core", name = "Client")]
struct PyClient {
    core: Arc<client::Client>,
    token: Arc<TokenSource>,
}

#[pymethods]
impl PyClient {
    #[new]
    #[allow(clippy::too_many_arguments)] // one per Client setting, as Python passes them
    #[pyo3(signature = (token, base_url, timeout, max_retries, backoff, user_agent, ca_file=None, record=None))]
    fn new(
        token: &Bound<'_, PyAny>,
        base_url: &Bound<'_, PyAny>,
        timeout: &Bound<'_, PyAny>,
        max_retries: &Bound<'_, PyAny>,
        backoff: &Bound<'_, PyAny>,
        user_agent: &Bound<'_, PyAny>,
        ca_file: Option<&Bound<'_, PyAny>>,
        record: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut settings = client::Settings::new(
            &args::string(base_url, "base_url")?,
            args::seconds(timeout, "timeout")?,
            args::count(max_retries, "max_retries")?,
            args::seconds(backoff, "backoff")?,
            args::optional_string(user_agent, "user_agent")?.as_deref(),
        )?;
        if let Some(path) = ca_file.filter(|p| !p.is_none()) {
            settings = settings.trust_pem_file(&args::path(path, "ca_file")?)?;
        }
        if let Some(path) = record.filter(|p| !p.is_none()) {
            settings = settings.record_to(&args::path(path, "record")?)?;
        }
        Ok(Self {
            core: Arc::new(client::Client::new(settings)),
            token: Arc::new(TokenSource::from_py(token)?),
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
        let (call, log) = self.prepare(py, Action::Cancel, publisher, offer, emails)?;
        let token = self.token_for_call(py, token)?;
        let core = Arc::clone(&self.core);
        let outcome =
            run::blocking(py, async move { core.submit(&call, &token, &log).await.map(|c| (call, c)) })?;
        results::cancel_result(py, outcome)
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
        let (call, log) = self.prepare(py, Action::Cancel, publisher, offer, emails)?;
        let locals = run::running_loop(py)?;
        let token = self.token_for_async(py, token, &locals)?;
        let core = Arc::clone(&self.core);
        run::awaitable(py, locals, async move {
            let token = token.await?;
            Ok(outcomes::ActionOutcome(core.submit(&call, &token, &log).await.map(|c| (call, c))))
        })
    }

    /// One operation, by location or `CancelResult`.
    fn get_operation(&self, py: Python<'_>, location: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let (location, log) = self.prepare_poll(py, location)?;
        let token = self.token_for_call(py, None)?;
        let core = Arc::clone(&self.core);
        let outcome = run::blocking(py, async move { core.get_operation(&location, &token, &log).await })?;
        let (operation, _) = outcome?;
        Ok(results::operation(py, &operation)?.unbind())
    }

    fn get_operation_async<'py>(
        &self,
        py: Python<'py>,
        location: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (location, log) = self.prepare_poll(py, location)?;
        let locals = run::running_loop(py)?;
        let token = self.token_for_async(py, None, &locals)?;
        let core = Arc::clone(&self.core);
        run::awaitable(py, locals, async move {
            let token = token.await?;
            Ok(outcomes::Outcome::One(core.get_operation(&location, &token, &log).await.map(|(op, _)| op)))
        })
    }

    /// The operations of an offer, optionally only those with `status`.
    #[pyo3(signature = (publisher, offer, status=None))]
    fn list_operations(
        &self,
        py: Python<'_>,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
        status: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (query, log) = self.prepare_list(py, publisher, offer, status)?;
        let token = self.token_for_call(py, None)?;
        let core = Arc::clone(&self.core);
        let outcome = run::blocking(py, async move { core.list_operations(&query, &token, &log).await })?;
        Ok(results::operations(py, &outcome?)?.into_any().unbind())
    }

    #[pyo3(signature = (publisher, offer, status=None))]
    fn list_operations_async<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        status: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (query, log) = self.prepare_list(py, publisher, offer, status)?;
        let locals = run::running_loop(py)?;
        let token = self.token_for_async(py, None, &locals)?;
        let core = Arc::clone(&self.core);
        run::awaitable(py, locals, async move {
            let token = token.await?;
            Ok(outcomes::Outcome::Many(core.list_operations(&query, &token, &log).await))
        })
    }

    /// Poll until the operation ends; `on_progress(op)` runs on this thread at each change.
    #[pyo3(signature = (location, timeout, poll_interval, on_progress=None, until_review=false))]
    fn wait(
        &self,
        py: Python<'_>,
        location: &Bound<'_, PyAny>,
        timeout: &Bound<'_, PyAny>,
        poll_interval: &Bound<'_, PyAny>,
        on_progress: Option<Py<PyAny>>,
        until_review: bool,
    ) -> PyResult<Py<PyAny>> {
        let (location, mut options, log) = self.prepare_wait(py, location, timeout, poll_interval)?;
        options.until_review = until_review;
        // Resolve once now, so a missing token is refused before the first poll.
        self.token_for_call(py, None)?;
        let failure = Failure::default();
        let tokens = callbacks::tokens(Arc::clone(&self.token), failure.clone(), None);
        let progress = Callback::here(on_progress, &failure);
        let core = Arc::clone(&self.core);
        let outcome = run::blocking(py, async move {
            core.wait(&location, &tokens, options, &log, &mut |op| {
                progress.call(&|py| results::operation_args(py, op))
            })
            .await
        })?;
        let operation = outcome.map_err(|e| failure.or_else(e))?;
        Ok(results::operation(py, &operation)?.unbind())
    }

    /// `wait` for asyncio; `on_progress(op)` is scheduled on the running event loop.
    #[pyo3(signature = (location, timeout, poll_interval, on_progress=None, until_review=false))]
    fn wait_async<'py>(
        &self,
        py: Python<'py>,
        location: &Bound<'py, PyAny>,
        timeout: &Bound<'py, PyAny>,
        poll_interval: &Bound<'py, PyAny>,
        on_progress: Option<Py<PyAny>>,
        until_review: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (location, mut options, log) = self.prepare_wait(py, location, timeout, poll_interval)?;
        options.until_review = until_review;
        let locals = run::running_loop(py)?;
        // Fetched once before the first poll (awaited, so an async credential runs on the loop).
        let first = self.token_for_async(py, None, &locals)?;
        let failure = Failure::default();
        let event_loop = locals.event_loop(py).unbind();
        let tokens = callbacks::tokens(Arc::clone(&self.token), failure.clone(), Some(event_loop));
        let progress = Callback::on_loop(py, on_progress, &failure)?;
        let core = Arc::clone(&self.core);
        run::awaitable(py, locals, async move {
            first.await?;
            let outcome = core
                .wait(&location, &tokens, options, &log, &mut |op| {
                    progress.call(&|py| results::operation_args(py, op))
                })
                .await;
            Ok(outcomes::Outcome::Waited(outcome, failure))
        })
    }

    /// Cancel many `(publisher, offer)` pairs, at most `concurrency` at once, GIL released.
    /// Returns a list in input order of `CancelResult`s or the exception of each failed item.
    #[pyo3(signature = (items, emails=None, concurrency=None, on_result=None))]
    fn cancel_many(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyAny>,
        emails: Option<&Bound<'_, PyAny>>,
        concurrency: Option<&Bound<'_, PyAny>>,
        on_result: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (calls, concurrency, log) = self.prepare_batch(py, items, emails, concurrency)?;
        let token = self.token_for_call(py, None)?;
        let failure = Failure::default();
        let report = Callback::here(on_result, &failure);
        let core = Arc::clone(&self.core);
        let outcome = run::blocking(py, async move {
            core.cancel_many(calls, &token, concurrency, &log, &mut |index, outcome| {
                report.call(&|py| results::batch_item_args(py, index, outcome))
            })
            .await
        })?;
        let results = outcome.map_err(|e| failure.or_else(e))?;
        Ok(results::batch_results(py, results)?.into_any().unbind())
    }

    /// `cancel_many` for asyncio; `on_result(index, outcome)` is scheduled on the event loop.
    #[pyo3(signature = (items, emails=None, concurrency=None, on_result=None))]
    fn cancel_many_async<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
        emails: Option<&Bound<'py, PyAny>>,
        concurrency: Option<&Bound<'py, PyAny>>,
        on_result: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (calls, concurrency, log) = self.prepare_batch(py, items, emails, concurrency)?;
        let locals = run::running_loop(py)?;
        let token = self.token_for_async(py, None, &locals)?;
        let failure = Failure::default();
        let report = Callback::on_loop(py, on_result, &failure)?;
        let core = Arc::clone(&self.core);
        run::awaitable(py, locals, async move {
            let token = token.await?;
            let outcome = core
                .cancel_many(calls, &token, concurrency, &log, &mut |index, outcome| {
                    report.call(&|py| results::batch_item_args(py, index, outcome))
                })
                .await;
            Ok(outcomes::Outcome::Batch(outcome, failure))
        })
    }

    /// Start a publish (`action="publish"`) or a go-live (`action="golive"`); blocks, GIL released.
    #[pyo3(signature = (action, publisher, offer, emails=None))]
    fn start(
        &self,
        py: Python<'_>,
        action: &str,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
        emails: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (call, log) = self.prepare(py, starting(action)?, publisher, offer, emails)?;
        let token = self.token_for_call(py, None)?;
        let core = Arc::clone(&self.core);
        let outcome =
            run::blocking(py, async move { core.submit(&call, &token, &log).await.map(|c| (call, c)) })?;
        results::cancel_result(py, outcome)
    }

    #[pyo3(signature = (action, publisher, offer, emails=None))]
    fn start_async<'py>(
        &self,
        py: Python<'py>,
        action: &str,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        emails: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (call, log) = self.prepare(py, starting(action)?, publisher, offer, emails)?;
        let locals = run::running_loop(py)?;
        let token = self.token_for_async(py, None, &locals)?;
        let core = Arc::clone(&self.core);
        run::awaitable(py, locals, async move {
            let token = token.await?;
            Ok(outcomes::ActionOutcome(core.submit(&call, &token, &log).await.map(|c| (call, c))))
        })
    }

    /// An offer's status, messages and steps.
    fn get_offer_status(
        &self,
        py: Python<'_>,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (prepared, log) = self.prepare_status(py, publisher, offer)?;
        let token = self.token_for_call(py, None)?;
        let core = Arc::clone(&self.core);
        let outcome = run::blocking(py, async move { core.offer_status(&prepared, &token, &log).await })?;
        Ok(results::offer_status(py, &outcome?)?.unbind())
    }

    fn get_offer_status_async<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (prepared, log) = self.prepare_status(py, publisher, offer)?;
        let locals = run::running_loop(py)?;
        let token = self.token_for_async(py, None, &locals)?;
        let core = Arc::clone(&self.core);
        run::awaitable(py, locals, async move {
            let token = token.await?;
            Ok(outcomes::Outcome::Status(core.offer_status(&prepared, &token, &log).await))
        })
    }

    /// The publisher's offers, as a list of dicts.
    fn list_offers(&self, py: Python<'_>, publisher: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let (prepared, log) = self.prepare_offers(py, publisher)?;
        let token = self.token_for_call(py, None)?;
        let core = Arc::clone(&self.core);
        let outcome = run::blocking(py, async move { core.list_offers(&prepared, &token, &log).await })?;
        Ok(results::document(py, &outcome?, &results::DocumentKind::List)?.unbind())
    }

    fn list_offers_async<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (prepared, log) = self.prepare_offers(py, publisher)?;
        let locals = run::running_loop(py)?;
        let token = self.token_for_async(py, None, &locals)?;
        let core = Arc::clone(&self.core);
        run::awaitable(py, locals, async move {
            let token = token.await?;
            Ok(outcomes::Outcome::Document(
                core.list_offers(&prepared, &token, &log).await,
                results::DocumentKind::List,
            ))
        })
    }

    /// One offer's definition, from a slot and/or a version; an `Offer` with its ETag.
    #[pyo3(signature = (publisher, offer, slot=None, version=None))]
    fn get_offer(
        &self,
        py: Python<'_>,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
        slot: Option<&Bound<'_, PyAny>>,
        version: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (query, log) = self.prepare_offer(py, publisher, offer, slot, version)?;
        let token = self.token_for_call(py, None)?;
        let core = Arc::clone(&self.core);
        let kind = results::DocumentKind::Offer(query.clone());
        let outcome = run::blocking(py, async move { core.get_offer(&query, &token, &log).await })?;
        Ok(results::document(py, &outcome?, &kind)?.unbind())
    }

    #[pyo3(signature = (publisher, offer, slot=None, version=None))]
    fn get_offer_async<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        slot: Option<&Bound<'py, PyAny>>,
        version: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (query, log) = self.prepare_offer(py, publisher, offer, slot, version)?;
        let locals = run::running_loop(py)?;
        let token = self.token_for_async(py, None, &locals)?;
        let core = Arc::clone(&self.core);
        let kind = results::DocumentKind::Offer(query.clone());
        run::awaitable(py, locals, async move {
            let token = token.await?;
            Ok(outcomes::Outcome::Document(core.get_offer(&query, &token, &log).await, kind))
        })
    }

    /// Create or update an offer under a concurrency rule (`if_match`: `"*"`, an ETag, or an
    /// `Offer` whose ETag is used); returns the stored `Offer` with its new ETag.
    fn put_offer(
        &self,
        py: Python<'_>,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
        definition: &Bound<'_, PyAny>,
        if_match: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (put, kind, log) = self.prepare_put(py, publisher, offer, definition, if_match)?;
        let token = self.token_for_call(py, None)?;
        let core = Arc::clone(&self.core);
        let outcome = run::blocking(py, async move { core.put_offer(&put, &token, &log).await })?;
        Ok(results::document(py, &outcome?, &kind)?.unbind())
    }

    fn put_offer_async<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        definition: &Bound<'py, PyAny>,
        if_match: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (put, kind, log) = self.prepare_put(py, publisher, offer, definition, if_match)?;
        let locals = run::running_loop(py)?;
        let token = self.token_for_async(py, None, &locals)?;
        let core = Arc::clone(&self.core);
        run::awaitable(py, locals, async move {
            let token = token.await?;
            Ok(outcomes::Outcome::Document(core.put_offer(&put, &token, &log).await, kind))
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
        self.core.settings().base_url.as_str().trim_end_matches('/').to_owned()
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
    fn refuse_if_closed(&self) -> PyResult<()> {
        if self.core.is_closed() { Err(crate::error::Error::Closed.into()) } else { Ok(()) }
    }

    /// The token for one call: `given` (a per-call override) or the client's own source.
    fn token_for_call(&self, py: Python<'_>, given: Option<&Bound<'_, PyAny>>) -> PyResult<Token> {
        match given {
            Some(given) if !given.is_none() => TokenSource::from_py(given)?.resolve(py),
            _ => self.token.resolve(py),
        }
    }

    /// `token_for_call` for an asyncio call on the loop `locals` names: an async credential's
    /// coroutine runs on that loop while the returned future waits for it.
    fn token_for_async(
        &self,
        py: Python<'_>,
        given: Option<&Bound<'_, PyAny>>,
        locals: &pyo3_async_runtimes::TaskLocals,
    ) -> PyResult<TokenFuture> {
        let source = match given {
            Some(given) if !given.is_none() => Arc::new(TokenSource::from_py(given)?),
            _ => Arc::clone(&self.token),
        };
        source.resolve_async(py, locals)
    }

    fn location(&self, location: &Bound<'_, PyAny>) -> PyResult<OperationLocation> {
        Ok(OperationLocation::new(&self.core.settings().base_url, &args::location(location)?)?)
    }

    fn prepare_poll(
        &self,
        py: Python<'_>,
        location: &Bound<'_, PyAny>,
    ) -> PyResult<(OperationLocation, pylog::PyLog)> {
        self.refuse_if_closed()?;
        Ok((self.location(location)?, pylog::PyLog::new(py)?))
    }

    fn prepare_list(
        &self,
        py: Python<'_>,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
        status: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(ListQuery, pylog::PyLog)> {
        self.refuse_if_closed()?;
        let status = status.map(|s| args::optional_string(s, "status")).transpose()?.flatten();
        let query = ListQuery::new(
            &args::string(publisher, "publisher")?,
            &args::string(offer, "offer")?,
            status.as_deref(),
        )?;
        Ok((query, pylog::PyLog::new(py)?))
    }

    fn prepare_wait(
        &self,
        py: Python<'_>,
        location: &Bound<'_, PyAny>,
        timeout: &Bound<'_, PyAny>,
        poll_interval: &Bound<'_, PyAny>,
    ) -> PyResult<(OperationLocation, client::WaitOptions, pylog::PyLog)> {
        self.refuse_if_closed()?;
        let location = self.location(location)?;
        let options = client::WaitOptions::new(
            args::seconds(timeout, "timeout")?,
            args::seconds(poll_interval, "poll_interval")?,
        )?;
        Ok((location, options, pylog::PyLog::new(py)?))
    }

    #[allow(clippy::type_complexity)]
    fn prepare_batch(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyAny>,
        emails: Option<&Bound<'_, PyAny>>,
        concurrency: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Vec<crate::error::Result<OfferAction>>, usize, pylog::PyLog)> {
        self.refuse_if_closed()?;
        let emails = args::emails(emails)?;
        // Checked once for the whole batch: a bad address is the caller's, not one item's.
        crate::validate::emails(emails.iter().map(String::as_str))?;
        let concurrency = match concurrency {
            Some(value) if !value.is_none() => args::count(value, "concurrency")? as usize,
            _ => client::DEFAULT_CONCURRENCY,
        };
        let calls = args::batch(items, &emails)?;
        Ok((calls, concurrency, pylog::PyLog::new(py)?))
    }

    fn prepare_status(
        &self,
        py: Python<'_>,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
    ) -> PyResult<(Prepared, pylog::PyLog)> {
        self.refuse_if_closed()?;
        let prepared = offer::status(
            &self.core.settings().base_url,
            &args::string(publisher, "publisher")?,
            &args::string(offer, "offer")?,
        )?;
        Ok((prepared, pylog::PyLog::new(py)?))
    }

    fn prepare_offers(
        &self,
        py: Python<'_>,
        publisher: &Bound<'_, PyAny>,
    ) -> PyResult<(Prepared, pylog::PyLog)> {
        self.refuse_if_closed()?;
        let prepared = offer::list(&self.core.settings().base_url, &args::string(publisher, "publisher")?)?;
        Ok((prepared, pylog::PyLog::new(py)?))
    }

    fn prepare_offer(
        &self,
        py: Python<'_>,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
        slot: Option<&Bound<'_, PyAny>>,
        version: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(OfferQuery, pylog::PyLog)> {
        self.refuse_if_closed()?;
        let slot = match slot.map(|s| args::optional_string(s, "slot")).transpose()?.flatten() {
            Some(text) => Some(offer::Slot::parse(&text)?),
            None => None,
        };
        let version = match version.filter(|v| !v.is_none()) {
            Some(value) => Some(u64::from(args::count(value, "version")?)),
            None => None,
        };
        let query = OfferQuery::new(
            &args::string(publisher, "publisher")?,
            &args::string(offer, "offer")?,
            version,
            slot,
        )?;
        Ok((query, pylog::PyLog::new(py)?))
    }

    #[allow(clippy::type_complexity)]
    fn prepare_put(
        &self,
        py: Python<'_>,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
        definition: &Bound<'_, PyAny>,
        if_match: &Bound<'_, PyAny>,
    ) -> PyResult<(PutOffer, results::DocumentKind, pylog::PyLog)> {
        self.refuse_if_closed()?;
        let (publisher, offer) = (args::string(publisher, "publisher")?, args::string(offer, "offer")?);
        let put = PutOffer::new(
            &publisher,
            &offer,
            args::json_object(definition, "definition")?,
            args::if_match(if_match)?,
        )?;
        let kind = results::DocumentKind::Offer(OfferQuery::new(&publisher, &offer, None, None)?);
        Ok((put, kind, pylog::PyLog::new(py)?))
    }

    /// Validate input and resolve the token, all before anything is sent.
    fn prepare(
        &self,
        py: Python<'_>,
        action: Action,
        publisher: &Bound<'_, PyAny>,
        offer: &Bound<'_, PyAny>,
        emails: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(OfferAction, pylog::PyLog)> {
        self.refuse_if_closed()?;
        let emails = args::emails(emails)?;
        let call = OfferAction::new(
            action,
            &args::string(publisher, "publisher")?,
            &args::string(offer, "offer")?,
            emails.iter().map(String::as_str),
        )?;
        Ok((call, pylog::PyLog::new(py)?))
    }
}

/// The action a `start` call names (`publish` or `golive`).
fn starting(action: &str) -> PyResult<Action> {
    match action {
        "publish" => Ok(Action::Publish),
        "golive" => Ok(Action::GoLive),
        other => Err(args::invalid("action", format!("{other:?} is not publish or golive"))),
    }
}

/// "pending", "succeeded", "failed" or "canceled" for an operation status, in any spelling.
#[pyfunction]
fn status_phase(status: &str) -> &'static str {
    crate::operation::Phase::of(status).as_str()
}

/// True when `url` is a valid base URL on a loopback host (where no real token is needed).
#[pyfunction]
fn is_loopback_url(url: &str) -> bool {
    crate::validate::base_url(url).is_ok_and(|u| crate::validate::is_loopback(&u))
}

/// Whether a failure answer with `status` is transient: retried, and polled through by `wait`.
#[pyfunction]
fn is_transient_status(status: u16) -> bool {
    crate::retry::is_retriable(status)
}

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_BASE_URL", client::DEFAULT_BASE_URL)?;
    m.add("API_VERSION", crate::request::API_VERSION)?;
    m.add("MAX_SUCCESS_BODY_BYTES", crate::transport::MAX_SUCCESS_BODY_BYTES)?;
    m.add("MAX_ERROR_BODY_BYTES", crate::transport::MAX_ERROR_BODY_BYTES)?;
    m.add("DEFAULT_TIMEOUT", client::DEFAULT_TIMEOUT_SECONDS)?;
    m.add("DEFAULT_WAIT_TIMEOUT", client::DEFAULT_WAIT_SECONDS)?;
    m.add("DEFAULT_POLL_INTERVAL", client::DEFAULT_POLL_INTERVAL_SECONDS)?;
    m.add("DEFAULT_MAX_RETRIES", crate::retry::DEFAULT_MAX_RETRIES)?;
    m.add("DEFAULT_BACKOFF", crate::retry::DEFAULT_BACKOFF.as_secs_f64())?;
    m.add("DEFAULT_CONCURRENCY", client::DEFAULT_CONCURRENCY)?;
    m.add("TOKEN_VARIABLE", crate::token::TOKEN_VARIABLE)?;
    m.add("RECORD_VARIABLE", crate::record::RECORD_VARIABLE)?;
    m.add("SCOPE", crate::token::SCOPE)?;
    m.add("RETRIABLE_STATUSES", pyo3::types::PyTuple::new(m.py(), crate::retry::RETRIABLE_STATUSES)?)?;
    m.add_class::<PyClient>()?;
    m.add_function(wrap_pyfunction!(status_phase, m)?)?;
    m.add_function(wrap_pyfunction!(is_loopback_url, m)?)?;
    m.add_function(wrap_pyfunction!(is_transient_status, m)?)?;
    Ok(())
}
