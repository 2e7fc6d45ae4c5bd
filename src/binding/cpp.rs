//! `cloudpartner._core.Client`: the Rust half of `cloudpartner.Client` (the Cloud Partner
//! Portal API). Each method validates its arguments into the core's types and hands one future
//! to `call`; the `asynchronous` flag picks a blocking call or an awaitable.

use std::sync::Arc;

use pyo3::prelude::*;

use super::call::{self, call};
use super::callbacks::Parameter;
use super::credentials::TokenSource;
use super::{args, pylog, release_results, results, settings_from_py};
use crate::cpp::SERVICE as CPP;
use crate::cpp::image::{NewVersion, VhdImage};
use crate::cpp::offer::{self, OfferQuery, PutOffer};
use crate::cpp::release::ReleaseRequest;
use crate::cpp::request::{Action, ListQuery, OfferAction, OperationLocation};
use crate::cpp::{self, Client};
use crate::http::batch::DEFAULT_CONCURRENCY;
use crate::release::Target;

#[pyclass(frozen, module = "cloudpartner._core", name = "Client")]
pub struct PyClient {
    core: Arc<Client>,
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
        let settings =
            settings_from_py(&CPP, base_url, timeout, max_retries, backoff, user_agent, ca_file, record)?;
        Ok(Self {
            core: Arc::new(Client::new(settings)),
            token: Arc::new(TokenSource::from_py(token, &CPP)?),
        })
    }

    /// Cancel (`action="cancel"`), publish (`"publish"`) or go live (`"golive"`); `token`
    /// overrides the client's own for this call.
    #[pyo3(signature = (action, publisher, offer, emails, token, asynchronous))]
    #[allow(clippy::too_many_arguments)] // as Python passes them
    fn submit<'py>(
        &self,
        py: Python<'py>,
        action: &str,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        emails: Option<&Bound<'py, PyAny>>,
        token: Option<&Bound<'py, PyAny>>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let emails = args::emails(emails)?;
        let call_ = OfferAction::new(
            action_named(action)?,
            &args::string(publisher, "publisher")?,
            &args::string(offer, "offer")?,
            emails.iter().map(String::as_str),
        )?;
        let tokens = self.tokens(token)?;
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &tokens,
            move |token| async move { core.submit(&call_, &token, &log).await.map(|done| (call_, done)) },
            |py, outcome| Ok(results::cancel_result(py, Ok(outcome))?.into_bound(py)),
        )
    }

    /// One operation, by location or `CancelResult`.
    fn get_operation<'py>(
        &self,
        py: Python<'py>,
        location: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, location, log) = (self.core()?, self.location(location)?, pylog::PyLog::new(py)?);
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.get_operation(&location, &token, &log).await.map(|(op, _)| op) },
            |py, op| results::operation(py, &op),
        )
    }

    /// The operations of an offer, optionally only those with `status`.
    #[pyo3(signature = (publisher, offer, status, asynchronous))]
    fn list_operations<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        status: Option<&Bound<'py, PyAny>>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let status = status.map(|s| args::optional_string(s, "status")).transpose()?.flatten();
        let query = ListQuery::new(
            &args::string(publisher, "publisher")?,
            &args::string(offer, "offer")?,
            status.as_deref(),
        )?;
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.list_operations(&query, &token, &log).await },
            |py, ops| Ok(results::operations(py, &ops)?.into_any()),
        )
    }

    /// Poll until the operation ends; `on_progress(op)` hears each change (on this thread, or
    /// on the event loop for asyncio).
    #[pyo3(signature = (location, timeout, poll_interval, on_progress, until_review, asynchronous))]
    #[allow(clippy::too_many_arguments)] // as Python passes them
    fn wait<'py>(
        &self,
        py: Python<'py>,
        location: &Bound<'py, PyAny>,
        timeout: &Bound<'py, PyAny>,
        poll_interval: &Bound<'py, PyAny>,
        on_progress: Option<Py<PyAny>>,
        until_review: bool,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, location, log) = (self.core()?, self.location(location)?, pylog::PyLog::new(py)?);
        let mut options = args::wait_options(timeout, poll_interval)?;
        options.until_review = until_review;
        call::watched(
            py,
            asynchronous,
            &self.token,
            on_progress,
            Parameter { name: "on_progress", async_method: "wait_async" },
            move |watch, _first| async move {
                let tokens = || watch.token();
                core.wait(&location, &tokens, options, &log, &mut |op| {
                    watch.report(&|py| results::operation_args(py, op))
                })
                .await
            },
            |py, op| results::operation(py, &op),
        )
    }

    /// Cancel many `(publisher, offer)` pairs, at most `concurrency` at once. Returns a list in
    /// input order of `CancelResult`s or the exception of each failed item.
    #[pyo3(signature = (items, emails, concurrency, on_result, asynchronous))]
    fn cancel_many<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
        emails: Option<&Bound<'py, PyAny>>,
        concurrency: Option<&Bound<'py, PyAny>>,
        on_result: Option<Py<PyAny>>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let emails = args::emails(emails)?;
        // Checked once for the whole batch: a bad address is the caller's, not one item's.
        crate::validate::emails(emails.iter().map(String::as_str))?;
        let concurrency = match concurrency {
            Some(value) if !value.is_none() => args::count(value, "concurrency")? as usize,
            _ => DEFAULT_CONCURRENCY,
        };
        let calls = args::batch(items, &emails)?;
        let log = pylog::PyLog::new(py)?;
        call::watched(
            py,
            asynchronous,
            &self.token,
            on_result,
            Parameter { name: "on_result", async_method: "cancel_many_async" },
            move |watch, first| async move {
                core.cancel_many(calls, &first, concurrency, &log, &mut |index, outcome| {
                    watch.report(&|py| results::batch_item_args(py, index, outcome))
                })
                .await
            },
            |py, all| Ok(results::batch_results(py, all)?.into_any()),
        )
    }

    /// An offer's status, messages and steps.
    fn get_offer_status<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let prepared = offer::status(
            &core.settings().base_url,
            &args::string(publisher, "publisher")?,
            &args::string(offer, "offer")?,
        )?;
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.offer_status(&prepared, &token, &log).await },
            |py, status| results::offer_status(py, &status),
        )
    }

    /// The publisher's offers (only those of `offer_type`, when given), as a list of dicts.
    #[pyo3(signature = (publisher, offer_type, asynchronous))]
    fn list_offers<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer_type: Option<&Bound<'py, PyAny>>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let offer_type = offer_type.map(|t| args::optional_string(t, "offer_type")).transpose()?.flatten();
        let prepared = offer::list(
            &core.settings().base_url,
            &args::string(publisher, "publisher")?,
            offer_type.as_deref(),
        )?;
        self.json_list(py, core, prepared, asynchronous)
    }

    /// The publishers the token may act for, as a list of dicts.
    fn list_publishers<'py>(&self, py: Python<'py>, asynchronous: bool) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let prepared = offer::publishers(&core.settings().base_url);
        self.json_list(py, core, prepared, asynchronous)
    }

    /// One offer's definition, from a slot and/or a version; an `Offer` with its ETag.
    #[pyo3(signature = (publisher, offer, slot, version, asynchronous))]
    fn get_offer<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        slot: Option<&Bound<'py, PyAny>>,
        version: Option<&Bound<'py, PyAny>>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
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
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move {
                core.get_offer(&query, &token, &log).await.map(|document| (query, document))
            },
            |py, (query, document)| results::document(py, &document, Some(&query)),
        )
    }

    /// Create or update an offer under a concurrency rule (`if_match`: `"*"`, an ETag, or an
    /// `Offer` whose ETag is used); returns the stored `Offer` with its new ETag.
    fn put_offer<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        definition: &Bound<'py, PyAny>,
        if_match: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let (publisher, offer) = (args::string(publisher, "publisher")?, args::string(offer, "offer")?);
        let put = PutOffer::new(
            &publisher,
            &offer,
            args::json_object(definition, "definition")?,
            args::if_match(if_match)?,
        )?;
        let query = OfferQuery::new(&publisher, &offer, None, None)?;
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.put_offer(&put, &token, &log).await.map(|document| (query, document)) },
            |py, (query, document)| results::document(py, &document, Some(&query)),
        )
    }

    /// Add (or update) an image version of a plan: the stored `Offer`, or None when the plan
    /// already holds that image.
    #[pyo3(signature = (publisher, offer, plan, version, os_vhd_url, label, description, data_disks, asynchronous))]
    #[allow(clippy::too_many_arguments)] // as Python passes them
    fn add_image_version<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        plan: &Bound<'py, PyAny>,
        version: &Bound<'py, PyAny>,
        os_vhd_url: &Bound<'py, PyAny>,
        label: &Bound<'py, PyAny>,
        description: &Bound<'py, PyAny>,
        data_disks: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let query = offer_query(publisher, offer)?;
        let new = new_version(plan, version, os_vhd_url, label, description, data_disks)?;
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move {
                let stored =
                    core.add_image_version(&query.publisher, &query.offer, &new, &token, &log).await?;
                Ok((query, stored))
            },
            stored_offer,
        )
    }

    /// Hide an image version of a plan (`showInGui: false`): the stored `Offer`, or None when it
    /// was hidden already.
    #[pyo3(signature = (publisher, offer, plan, version, asynchronous))]
    #[allow(clippy::too_many_arguments)] // as Python passes them
    fn deprecate_image_version<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        plan: &Bound<'py, PyAny>,
        version: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let query = offer_query(publisher, offer)?;
        let (plan, version) = (args::string(plan, "plan")?, args::string(version, "version")?);
        crate::validate::id("plan", &plan)?;
        crate::validate::image_version(&version)?;
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move {
                let stored = core
                    .deprecate_image_version(&query.publisher, &query.offer, &plan, &version, &token, &log)
                    .await?;
                Ok((query, stored))
            },
            stored_offer,
        )
    }

    /// Release an image version up to `target`, doing only the steps not done yet; the
    /// `Release`. `on_progress(release)` hears the release so far at each step and each change
    /// of the operation it follows.
    #[pyo3(signature = (
        publisher, offer, plan, version, os_vhd_url, label, description, data_disks, emails, target,
        timeout, poll_interval, on_progress, asynchronous
    ))]
    #[allow(clippy::too_many_arguments)] // as Python passes them
    fn release_image_version<'py>(
        &self,
        py: Python<'py>,
        publisher: &Bound<'py, PyAny>,
        offer: &Bound<'py, PyAny>,
        plan: &Bound<'py, PyAny>,
        version: &Bound<'py, PyAny>,
        os_vhd_url: &Bound<'py, PyAny>,
        label: &Bound<'py, PyAny>,
        description: &Bound<'py, PyAny>,
        data_disks: &Bound<'py, PyAny>,
        emails: Option<&Bound<'py, PyAny>>,
        target: &Bound<'py, PyAny>,
        timeout: &Bound<'py, PyAny>,
        poll_interval: &Bound<'py, PyAny>,
        on_progress: Option<Py<PyAny>>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let emails = args::emails(emails)?;
        let request = ReleaseRequest::new(
            &args::string(publisher, "publisher")?,
            &args::string(offer, "offer")?,
            new_version(plan, version, os_vhd_url, label, description, data_disks)?,
            emails.iter().map(String::as_str),
            Target::parse(&args::string(target, "target")?)?,
        )?;
        let options = args::wait_options(timeout, poll_interval)?;
        let log = pylog::PyLog::new(py)?;
        call::watched(
            py,
            asynchronous,
            &self.token,
            on_progress,
            Parameter { name: "on_progress", async_method: "release_image_version_async" },
            move |watch, _first| async move {
                let tokens = || watch.token();
                core.release_image_version(&request, &tokens, options, &log, &mut |so_far| {
                    watch.report(&|py| release_results::release_args(py, so_far))
                })
                .await
            },
            |py, release| release_results::release(py, &release),
        )
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
    /// The core, refusing a closed client before anything is validated or sent.
    fn core(&self) -> PyResult<Arc<Client>> {
        if self.core.is_closed() {
            return Err(crate::error::Error::Closed.into());
        }
        Ok(Arc::clone(&self.core))
    }

    /// The token source of one call: `given` (a per-call override) or the client's own.
    fn tokens(&self, given: Option<&Bound<'_, PyAny>>) -> PyResult<Arc<TokenSource>> {
        match given {
            Some(given) if !given.is_none() => Ok(Arc::new(TokenSource::from_py(given, &CPP)?)),
            _ => Ok(Arc::clone(&self.token)),
        }
    }

    fn json_list<'py>(
        &self,
        py: Python<'py>,
        core: Arc<Client>,
        prepared: crate::http::Prepared,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.json_list(&prepared, &token, &log).await },
            |py, document| results::document(py, &document, None),
        )
    }

    fn location(&self, location: &Bound<'_, PyAny>) -> PyResult<OperationLocation> {
        Ok(OperationLocation::new(&self.core.settings().base_url, &args::location(location)?)?)
    }
}

/// The offer a call edits, validated.
fn offer_query(publisher: &Bound<'_, PyAny>, offer: &Bound<'_, PyAny>) -> PyResult<OfferQuery> {
    Ok(OfferQuery::new(&args::string(publisher, "publisher")?, &args::string(offer, "offer")?, None, None)?)
}

/// The image version an add or a release names, validated.
fn new_version(
    plan: &Bound<'_, PyAny>,
    version: &Bound<'_, PyAny>,
    os_vhd_url: &Bound<'_, PyAny>,
    label: &Bound<'_, PyAny>,
    description: &Bound<'_, PyAny>,
    data_disks: &Bound<'_, PyAny>,
) -> PyResult<NewVersion> {
    let image = VhdImage::new(&args::string(os_vhd_url, "os_vhd_url")?, args::data_disks(data_disks)?)?;
    Ok(NewVersion::new(
        &args::string(plan, "plan")?,
        &args::string(version, "version")?,
        image,
        args::optional_string(label, "label")?.as_deref(),
        args::optional_string(description, "description")?.as_deref(),
    )?)
}

/// The `Offer` an edit stored, or None when it changed nothing.
fn stored_offer<'py>(
    py: Python<'py>,
    (query, stored): (OfferQuery, Option<crate::http::Document>),
) -> PyResult<Bound<'py, PyAny>> {
    match stored {
        Some(document) => results::document(py, &document, Some(&query)),
        None => Ok(py.None().into_bound(py)),
    }
}

/// The action a `submit` call names.
fn action_named(action: &str) -> PyResult<Action> {
    match action {
        "cancel" => Ok(Action::Cancel),
        "publish" => Ok(Action::Publish),
        "golive" => Ok(Action::GoLive),
        other => Err(args::invalid("action", format!("{other:?} is not cancel, publish or golive"))),
    }
}

/// The CPP API's constants, for the Python layer (one place for each default).
pub fn add_constants(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DEFAULT_BASE_URL", CPP.default_base_url)?;
    m.add("BASE_URL_VARIABLE", CPP.base_url_variable)?;
    m.add("API_VERSION", crate::cpp::request::API_VERSION)?;
    m.add("DEFAULT_POLL_INTERVAL", cpp::DEFAULT_POLL_INTERVAL_SECONDS)?;
    m.add("TOKEN_VARIABLE", CPP.token_variable)?;
    m.add("SCOPE", CPP.scope)?;
    m.add("READ_ONLY_OFFER_KEYS", pyo3::types::PyTuple::new(m.py(), offer::READ_ONLY_OFFER_KEYS)?)?;
    Ok(())
}
