//! `cloudpartner._core.IngestionClient`: the Rust half of `cloudpartner.ingestion.Client`. Each
//! method validates its arguments into the core's types and hands one future to `call`; the
//! `asynchronous` flag picks a blocking call or an awaitable (the Python class has both names).

use std::sync::Arc;

use pyo3::prelude::*;

use super::call::{self, call};
use super::callbacks::Parameter;
use super::credentials::TokenSource;
use super::ingestion_results as results;
use super::{args, pylog, release_results, settings_from_py};
use crate::ingestion::SERVICE as INGESTION;
use crate::ingestion::ids::{JobId, ProductRef, external_id};
use crate::ingestion::images::Deprecation;
use crate::ingestion::release::ReleaseSpec;
use crate::ingestion::request::{Configure, Target};
use crate::ingestion::techconfig::{NewImage, plan_name};
use crate::ingestion::{self, Client};

#[pyclass(frozen, module = "cloudpartner._core", name = "IngestionClient")]
pub struct PyIngestionClient {
    core: Arc<Client>,
    token: Arc<TokenSource>,
}

#[pymethods]
impl PyIngestionClient {
    #[new]
    #[allow(clippy::too_many_arguments)] // one per Client setting, as Python passes them
    #[pyo3(signature = (token, base_url, version, timeout, max_retries, backoff, user_agent, ca_file=None, record=None))]
    fn new(
        token: &Bound<'_, PyAny>,
        base_url: &Bound<'_, PyAny>,
        version: &Bound<'_, PyAny>,
        timeout: &Bound<'_, PyAny>,
        max_retries: &Bound<'_, PyAny>,
        backoff: &Bound<'_, PyAny>,
        user_agent: &Bound<'_, PyAny>,
        ca_file: Option<&Bound<'_, PyAny>>,
        record: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut settings = settings_from_py(
            &INGESTION,
            base_url,
            timeout,
            max_retries,
            backoff,
            user_agent,
            ca_file,
            record,
        )?;
        if let Some(version) = args::optional_string(version, "version")? {
            settings = settings.with_version(&version)?;
        }
        Ok(Self {
            core: Arc::new(Client::new(settings)),
            token: Arc::new(TokenSource::from_py(token, &INGESTION)?),
        })
    }

    /// Cancel a job: the job as the service left it.
    fn cancel_job<'py>(
        &self,
        py: Python<'py>,
        job: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, job, log) = (self.core()?, self.job(job)?, pylog::PyLog::new(py)?);
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.cancel_job(&job, &token, &log).await },
            results::job,
        )
    }

    /// A job's state.
    fn get_job<'py>(
        &self,
        py: Python<'py>,
        job: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, job, log) = (self.core()?, self.job(job)?, pylog::PyLog::new(py)?);
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.get_job(&job, &token, &log).await.map(|(state, _)| state) },
            results::job,
        )
    }

    /// Poll a job until it completes; `on_progress(job)` hears each change.
    #[pyo3(signature = (job, timeout, poll_interval, on_progress, asynchronous))]
    fn wait_job<'py>(
        &self,
        py: Python<'py>,
        job: &Bound<'py, PyAny>,
        timeout: &Bound<'py, PyAny>,
        poll_interval: &Bound<'py, PyAny>,
        on_progress: Option<Py<PyAny>>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, job, log) = (self.core()?, self.job(job)?, pylog::PyLog::new(py)?);
        let options = args::wait_options(timeout, poll_interval)?;
        call::watched(
            py,
            asynchronous,
            &self.token,
            on_progress,
            Parameter { name: "on_progress", async_method: "wait_job_async" },
            move |watch, _first| async move {
                let tokens = || watch.token();
                core.wait_job(&job, &tokens, options, &log, &mut |state| {
                    watch.report(&|py| results::job_args(py, state))
                })
                .await
            },
            results::job,
        )
    }

    /// The resources a completed job created or changed, as a dict.
    fn get_job_resources<'py>(
        &self,
        py: Python<'py>,
        job: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, job, log) = (self.core()?, self.job(job)?, pylog::PyLog::new(py)?);
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.job_resources(&job, &token, &log).await },
            results::document,
        )
    }

    /// Start a configure job with `resources` (a list of resource dicts, or a whole document).
    fn configure<'py>(
        &self,
        py: Python<'py>,
        resources: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let document = Configure::new(&args::json_value(resources, "resources")?, &core.requests())?;
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.configure(&document, &token, &log).await },
            results::job,
        )
    }

    /// Publish a product to `target` (`preview`, or `live` from its preview submission).
    fn publish<'py>(
        &self,
        py: Python<'py>,
        product: &Bound<'py, PyAny>,
        target: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, product, log) = (self.core()?, self.product(product)?, pylog::PyLog::new(py)?);
        let target = Target::parse(&args::string(target, "target")?)?;
        if target == Target::Draft {
            return Err(crate::error::Error::invalid(
                "target",
                "a publish goes to preview or live, not to draft",
            )
            .into());
        }
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.publish(&product, target, &token, &log).await },
            results::job,
        )
    }

    /// The product whose external id (offer id) is `external_id`.
    fn find_product<'py>(
        &self,
        py: Python<'py>,
        external: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let external = external_id(&args::string(external, "external_id")?)?.to_owned();
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.find_product(&external, &token, &log).await },
            results::product,
        )
    }

    /// A product by durable id, bare guid or external id.
    fn get_product<'py>(
        &self,
        py: Python<'py>,
        product: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, product, log) = (self.core()?, self.product(product)?, pylog::PyLog::new(py)?);
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.get_product(&product, &token, &log).await },
            results::product,
        )
    }

    /// A product's submissions, every page followed.
    fn list_submissions<'py>(
        &self,
        py: Python<'py>,
        product: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, product, log) = (self.core()?, self.product(product)?, pylog::PyLog::new(py)?);
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.list_submissions(&product, &token, &log).await },
            results::submissions,
        )
    }

    /// A product's whole configuration for `target`, as a dict.
    fn get_resource_tree<'py>(
        &self,
        py: Python<'py>,
        product: &Bound<'py, PyAny>,
        target: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, product, log) = (self.core()?, self.product(product)?, pylog::PyLog::new(py)?);
        let target = Target::parse(&args::string(target, "target")?)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.resource_tree(&product, target, &token, &log).await },
            results::document,
        )
    }

    /// Every product, every page followed.
    fn list_products<'py>(&self, py: Python<'py>, asynchronous: bool) -> PyResult<Bound<'py, PyAny>> {
        let (core, log) = (self.core()?, pylog::PyLog::new(py)?);
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.list_products(&token, &log).await },
            results::products,
        )
    }

    /// A product's plans.
    fn list_plans<'py>(
        &self,
        py: Python<'py>,
        product: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, product, log) = (self.core()?, self.product(product)?, pylog::PyLog::new(py)?);
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.list_plans(&product, &token, &log).await },
            results::plans,
        )
    }

    /// A plan's technical configuration in `target`'s tree.
    fn get_technical_configuration<'py>(
        &self,
        py: Python<'py>,
        product: &Bound<'py, PyAny>,
        plan: &Bound<'py, PyAny>,
        target: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, product, log) = (self.core()?, self.product(product)?, pylog::PyLog::new(py)?);
        let plan = plan_name(&args::string(plan, "plan")?)?;
        let target = Target::parse(&args::string(target, "target")?)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move { core.technical_configuration(&product, &plan, target, &token, &log).await },
            results::technical_configuration,
        )
    }

    /// Add (or update) an image version in a plan's draft: the configure job, or None.
    #[pyo3(signature = (product, plan, version, sas_uri, gallery_image, image_types, data_disks, asynchronous))]
    #[allow(clippy::too_many_arguments)] // the call's arguments, as Python passes them
    fn add_image_version<'py>(
        &self,
        py: Python<'py>,
        product: &Bound<'py, PyAny>,
        plan: &Bound<'py, PyAny>,
        version: &Bound<'py, PyAny>,
        sas_uri: &Bound<'py, PyAny>,
        gallery_image: &Bound<'py, PyAny>,
        image_types: &Bound<'py, PyAny>,
        data_disks: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, product) = (self.core()?, self.product(product)?);
        let (plan, version) = (plan_name(&args::string(plan, "plan")?)?, image_version(version)?);
        let image = new_image(
            sas_uri,
            gallery_image,
            &args::image_types(image_types)?,
            &args::data_disks(data_disks)?,
        )?;
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move {
                core.add_image_version(&product, &plan, &version, &image, &token, &log).await
            },
            results::optional_job,
        )
    }

    /// Deprecate an image version of a plan's draft: the configure job.
    #[pyo3(signature = (product, plan, version, date, reason, alternative, asynchronous))]
    #[allow(clippy::too_many_arguments)] // the call's arguments, as Python passes them
    fn deprecate_image_version<'py>(
        &self,
        py: Python<'py>,
        product: &Bound<'py, PyAny>,
        plan: &Bound<'py, PyAny>,
        version: &Bound<'py, PyAny>,
        date: &Bound<'py, PyAny>,
        reason: &Bound<'py, PyAny>,
        alternative: &Bound<'py, PyAny>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, product) = (self.core()?, self.product(product)?);
        let (plan, version) = (plan_name(&args::string(plan, "plan")?)?, image_version(version)?);
        let deprecation = Deprecation {
            date: args::string(date, "date")?,
            reason: args::string(reason, "reason")?,
            alternative: if alternative.is_none() {
                None
            } else {
                Some(args::json_object(alternative, "alternative")?)
            },
        };
        let log = pylog::PyLog::new(py)?;
        call(
            py,
            asynchronous,
            &self.token,
            move |token| async move {
                core.deprecate_image_version(&product, &plan, &version, &deprecation, &token, &log).await
            },
            results::job,
        )
    }

    /// Wait until no submission of the product runs; `on_progress(running)` hears each change.
    #[pyo3(signature = (product, timeout, poll_interval, on_progress, asynchronous))]
    fn wait_until_idle<'py>(
        &self,
        py: Python<'py>,
        product: &Bound<'py, PyAny>,
        timeout: &Bound<'py, PyAny>,
        poll_interval: &Bound<'py, PyAny>,
        on_progress: Option<Py<PyAny>>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, product, log) = (self.core()?, self.product(product)?, pylog::PyLog::new(py)?);
        let options = args::wait_options(timeout, poll_interval)?;
        call::watched(
            py,
            asynchronous,
            &self.token,
            on_progress,
            Parameter { name: "on_progress", async_method: "wait_until_idle_async" },
            move |watch, _first| async move {
                let tokens = || watch.token();
                core.wait_until_idle(&product, &tokens, options, &log, &mut |state| {
                    watch.report(&|py| results::activity_args(py, state))
                })
                .await
            },
            results::activity,
        )
    }

    /// Release an image version up to `target`; `on_progress(release)` hears each step and job change.
    #[pyo3(signature = (product, plan, version, sas_uri, gallery_image, image_types, data_disks, target, timeout, poll_interval, on_progress, asynchronous))]
    #[allow(clippy::too_many_arguments)] // the call's arguments, as Python passes them
    fn release_image_version<'py>(
        &self,
        py: Python<'py>,
        product: &Bound<'py, PyAny>,
        plan: &Bound<'py, PyAny>,
        version: &Bound<'py, PyAny>,
        sas_uri: &Bound<'py, PyAny>,
        gallery_image: &Bound<'py, PyAny>,
        image_types: &Bound<'py, PyAny>,
        data_disks: &Bound<'py, PyAny>,
        target: &Bound<'py, PyAny>,
        timeout: &Bound<'py, PyAny>,
        poll_interval: &Bound<'py, PyAny>,
        on_progress: Option<Py<PyAny>>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (core, product) = (self.core()?, self.product(product)?);
        let spec = ReleaseSpec {
            plan: plan_name(&args::string(plan, "plan")?)?,
            version: image_version(version)?,
            image: new_image(
                sas_uri,
                gallery_image,
                &args::image_types(image_types)?,
                &args::data_disks(data_disks)?,
            )?,
            target: Target::parse(&args::string(target, "target")?)?,
        };
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
                core.release_image_version(&product, &spec, &tokens, options, &log, &mut |so_far| {
                    watch.report(&|py| release_results::release_args(py, so_far))
                })
                .await
            },
            |py, release| release_results::release(py, &release),
        )
    }

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
    fn version(&self) -> String {
        self.core.settings().version.clone()
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

impl PyIngestionClient {
    /// The core, refusing a closed client before anything is validated or sent.
    fn core(&self) -> PyResult<Arc<Client>> {
        if self.core.is_closed() {
            return Err(crate::error::Error::Closed.into());
        }
        Ok(Arc::clone(&self.core))
    }

    fn job(&self, job: &Bound<'_, PyAny>) -> PyResult<JobId> {
        Ok(JobId::new(&args::id_of(job, "job")?)?)
    }

    fn product(&self, product: &Bound<'_, PyAny>) -> PyResult<ProductRef> {
        Ok(ProductRef::parse(&args::id_of(product, "product")?)?)
    }
}

/// A VM image version number, checked (`validate::image_version`).
fn image_version(version: &Bound<'_, PyAny>) -> PyResult<String> {
    let version = args::string(version, "version")?;
    crate::validate::image_version(&version)?;
    Ok(version)
}

/// The image a release or an add names, checked (`NewImage::new`).
fn new_image(
    sas_uri: &Bound<'_, PyAny>,
    gallery_image: &Bound<'_, PyAny>,
    image_types: &[String],
    data_disks: &[(u32, String)],
) -> PyResult<NewImage> {
    let sas_uri = args::optional_string(sas_uri, "sas_uri")?;
    let gallery_image = args::optional_string(gallery_image, "gallery_image")?;
    Ok(NewImage::new(sas_uri.as_deref(), gallery_image.as_deref(), image_types, data_disks)?)
}

/// The ingestion API's constants, for the Python layer (one place for each default).
pub fn add_constants(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("INGESTION_BASE_URL", INGESTION.default_base_url)?;
    m.add("INGESTION_VERSION", INGESTION.default_version)?;
    m.add("INGESTION_SCOPE", INGESTION.scope)?;
    m.add("INGESTION_TOKEN_VARIABLE", INGESTION.token_variable)?;
    m.add("INGESTION_BASE_URL_VARIABLE", INGESTION.base_url_variable)?;
    m.add("INGESTION_POLL_INTERVAL", ingestion::DEFAULT_POLL_INTERVAL_SECONDS)?;
    m.add("SUBMISSION_SCHEMA", crate::ingestion::request::SUBMISSION_SCHEMA)?;
    Ok(())
}
