//! The Product Ingestion API's calls, on the shared engine (`http::Engine`).

use std::time::Duration;

use serde_json::Value;

use super::SERVICE;
use super::ids::{JobId, ProductRef};
use super::job::{self, Job};
use super::page::{self, MAX_PAGES};
use super::product::{self, Product, Submission};
use super::request::{Configure, Requests, Target};
use crate::error::{ApiFailure, Error, LastState, Result};
use crate::http::poll::{self, ProgressSink, TokenSupplier, WaitOptions};
use crate::http::retry::Deadline;
use crate::http::{
    Document, Engine, Log, Prepared, Sent, Settings, Shape, header_retry_after, malformed, whole_body,
};
use crate::validate::Token;

/// Seconds between status polls unless told otherwise: the pages ask for at most one a minute.
pub const DEFAULT_POLL_INTERVAL_SECONDS: f64 = 60.0;

/// The engine's settings for the Product Ingestion API.
pub fn settings(
    base_url: &str,
    timeout_seconds: f64,
    max_retries: u32,
    backoff_seconds: f64,
    user_agent: Option<&str>,
) -> Result<Settings> {
    Settings::new(&SERVICE, base_url, Some(timeout_seconds), max_retries, backoff_seconds, user_agent)
}

/// What the service says when a cancel comes too late (the cancel page's 400).
fn says_already_completed(failure: &ApiFailure) -> bool {
    failure.status == 400
        && failure.message.as_deref().is_some_and(|m| m.to_ascii_lowercase().contains("already completed"))
}

/// A Product Ingestion API client: the engine, and the API's calls.
#[derive(Debug)]
pub struct Client {
    engine: Engine,
}

impl Client {
    /// `settings` must be for `SERVICE`.
    pub fn new(settings: Settings) -> Self {
        Self { engine: Engine::new(settings) }
    }

    pub fn settings(&self) -> &Settings {
        self.engine.settings()
    }

    pub fn close(&self) {
        self.engine.close();
    }

    pub fn is_closed(&self) -> bool {
        self.engine.is_closed()
    }

    pub fn requests(&self) -> Requests<'_> {
        let settings = self.engine.settings();
        Requests { base: &settings.base_url, version: &settings.version }
    }

    /// A new call's deadline: every request the call makes is sent within it (`send`), so a
    /// call that makes several (pages, a lookup and then a read) is bounded as a whole.
    pub(super) fn deadline(&self, document: bool) -> Deadline {
        self.engine.deadline(document)
    }

    pub(super) async fn send(
        &self,
        request: &Prepared,
        token: &Token,
        log: &dyn Log,
        call: &Deadline,
    ) -> Result<Sent> {
        self.engine.send_within(request, token, log, call).await
    }

    pub(super) async fn job_answer(
        &self,
        request: &Prepared,
        job: Option<&JobId>,
        token: &Token,
        log: &dyn Log,
        call: &Deadline,
    ) -> Result<(Job, Sent)> {
        let sent = self.send(request, token, log, call).await?;
        let parsed =
            job::parse(whole_body(&sent)?, job.map(JobId::as_str)).map_err(|r| malformed(&sent, r))?;
        Ok((parsed, sent))
    }

    /// A job's state, with the `Retry-After` its answer carried.
    pub async fn get_job(
        &self,
        job: &JobId,
        token: &Token,
        log: &dyn Log,
    ) -> Result<(Job, Option<Duration>)> {
        self.job_state(job, token, log, &self.deadline(false)).await
    }

    async fn job_state(
        &self,
        job: &JobId,
        token: &Token,
        log: &dyn Log,
        call: &Deadline,
    ) -> Result<(Job, Option<Duration>)> {
        let request = self.requests().job_status(job);
        let (state, sent) = self.job_answer(&request, Some(job), token, log, call).await?;
        Ok((state, header_retry_after(&sent.response)))
    }

    /// Cancel a job; the answer is the job as the service left it. A job that had already
    /// completed is refused (`Error::JobCompleted`), with its state read once more when it can be
    /// (within what is left of the call's timeout).
    pub async fn cancel_job(&self, job: &JobId, token: &Token, log: &dyn Log) -> Result<Job> {
        let call = self.deadline(false);
        match self.job_answer(&self.requests().cancel_job(job), Some(job), token, log, &call).await {
            Ok((state, _)) => Ok(state),
            Err(Error::Api(failure)) if says_already_completed(&failure) => {
                let reread = self.job_state(job, token, log, &call).await;
                let state = reread.ok().map(|(state, _)| LastState::new(state));
                Err(Error::JobCompleted { failure, job_id: job.as_str().to_owned(), job: state })
            }
            Err(error) => Err(error),
        }
    }

    /// Poll a job until it completes (`poll::until_done`); `Error::WaitTimeout` carries the
    /// last state seen.
    pub async fn wait_job(
        &self,
        job: &JobId,
        tokens: &TokenSupplier<'_>,
        options: WaitOptions,
        log: &dyn Log,
        on_progress: &mut ProgressSink<'_, Job>,
    ) -> Result<Job> {
        let done = |state: &Job| state.is_terminal();
        let timed_out =
            |last: Option<Job>| Error::WaitTimeout { after: options.timeout, last: last.map(LastState::new) };
        let poll_once = |token: Token| async move { self.get_job(job, &token, log).await };
        poll::until_done(
            &format!("job {}", job.as_str()),
            poll_once,
            &done,
            &timed_out,
            tokens,
            options,
            log,
            on_progress,
        )
        .await
    }

    /// The resources a completed job created or changed (`GET configure/{job}`), as JSON.
    pub async fn job_resources(&self, job: &JobId, token: &Token, log: &dyn Log) -> Result<Document> {
        let request = self.requests().job_resources(job);
        self.document(&request, token, log, &self.deadline(request.document)).await
    }

    /// Start a configure job (edits, a publish). Sent once, never retried after it may have
    /// reached the service.
    pub async fn configure(&self, document: &Configure, token: &Token, log: &dyn Log) -> Result<Job> {
        let request = self.requests().configure(document);
        Ok(self.job_answer(&request, None, token, log, &self.deadline(request.document)).await?.0)
    }

    /// Publish a product to preview, or its preview submission to live (found for the caller).
    /// The lookups and the configure it ends with are one call, with a document's timeout.
    pub async fn publish(
        &self,
        product: &ProductRef,
        target: Target,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Job> {
        let call = self.deadline(true);
        let guid = self.product_guid(product, token, log, &call).await?;
        let preview = match target {
            Target::Live => {
                let submissions = self.submissions(&guid, token, log, &call).await?;
                let found = product::preview_submission(&submissions);
                if found.is_none() {
                    return Err(Error::invalid(
                        "target",
                        format!(
                            "product/{guid} has no preview submission to take live: publish to preview first"
                        ),
                    ));
                }
                found
            }
            Target::Preview | Target::Draft => None,
        };
        let document = self.requests().publish(&guid, target, preview.as_ref())?;
        Ok(self.job_answer(&self.requests().configure(&document), None, token, log, &call).await?.0)
    }

    /// The product whose external id (offer id) is `external_id`; `NotFound` (404) when none is.
    pub async fn find_product(&self, external_id: &str, token: &Token, log: &dyn Log) -> Result<Product> {
        self.lookup(external_id, token, log, &self.deadline(false)).await
    }

    /// `find_product`, as part of `call`.
    async fn lookup(
        &self,
        external_id: &str,
        token: &Token,
        log: &dyn Log,
        call: &Deadline,
    ) -> Result<Product> {
        let request = self.requests().find_product(external_id);
        let items = self.list(request, token, log, call).await?;
        let found = items
            .iter()
            .filter_map(product::product)
            .find(|p| p.external_id.as_deref().is_none_or(|id| id.eq_ignore_ascii_case(external_id)));
        found.ok_or_else(|| {
            Error::Api(Box::new(ApiFailure {
                status: 404,
                code: Some("notFound".to_owned()),
                message: Some(format!("no product has the external id {external_id:?}")),
                ..ApiFailure::default()
            }))
        })
    }

    /// A product by durable id (`GET product/{guid}`) or by external id (a lookup).
    pub async fn get_product(&self, product: &ProductRef, token: &Token, log: &dyn Log) -> Result<Product> {
        let call = self.deadline(false);
        match product {
            ProductRef::External(external_id) => self.lookup(external_id, token, log, &call).await,
            ProductRef::Durable(guid) => {
                let sent = self.send(&self.requests().product(guid), token, log, &call).await?;
                let value = crate::json::parse(whole_body(&sent)?)
                    .map_err(|e| malformed(&sent, format!("the product {e}")))?;
                product::product(&value).ok_or_else(|| malformed(&sent, "the product has no id".to_owned()))
            }
        }
    }

    /// The durable id's GUID of `product`, looking an external id up as part of `call`.
    pub(super) async fn product_guid(
        &self,
        product: &ProductRef,
        token: &Token,
        log: &dyn Log,
        call: &Deadline,
    ) -> Result<String> {
        match product {
            ProductRef::Durable(guid) => Ok(guid.clone()),
            ProductRef::External(external_id) => {
                Ok(self.lookup(external_id, token, log, call).await?.guid().to_owned())
            }
        }
    }

    /// Every product the token's account has, every page followed, within one call's timeout.
    pub async fn list_products(&self, token: &Token, log: &dyn Log) -> Result<Vec<Product>> {
        let items = self.list(self.requests().products(), token, log, &self.deadline(false)).await?;
        Ok(items.iter().filter_map(product::product).collect())
    }

    /// A product's submissions, every page followed, all within one call's timeout.
    pub async fn list_submissions(
        &self,
        product: &ProductRef,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Vec<Submission>> {
        let call = self.deadline(false);
        let guid = self.product_guid(product, token, log, &call).await?;
        self.submissions(&guid, token, log, &call).await
    }

    /// The submissions of the product `guid`, as part of `call`.
    pub(super) async fn submissions(
        &self,
        guid: &str,
        token: &Token,
        log: &dyn Log,
        call: &Deadline,
    ) -> Result<Vec<Submission>> {
        let items = self.list(self.requests().submissions(guid), token, log, call).await?;
        Ok(items.iter().filter_map(product::submission).collect())
    }

    /// A product's whole configuration for `target` (`draft`, `preview` or `live`), as JSON.
    pub async fn resource_tree(
        &self,
        product: &ProductRef,
        target: Target,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Document> {
        let call = self.deadline(true);
        let guid = self.product_guid(product, token, log, &call).await?;
        self.document(&self.requests().resource_tree(&guid, target), token, log, &call).await
    }

    /// Every item of a list, following `@nextLink` or `continuationToken` to the end, every page
    /// within what is left of `call`.
    pub(super) async fn list(
        &self,
        first: Prepared,
        token: &Token,
        log: &dyn Log,
        call: &Deadline,
    ) -> Result<Vec<Value>> {
        let mut request = first;
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let sent = self.send(&request, token, log, call).await?;
            let page = page::parse(whole_body(&sent)?).map_err(|r| malformed(&sent, r))?;
            items.extend(page.items);
            let Some(next) = page.next else {
                return Ok(items);
            };
            let following = page::next_request(&self.settings().base_url, &request.url, &next)?;
            if following.url == request.url {
                return Err(malformed(&sent, "the next page is the page itself".to_owned()));
            }
            request = following;
        }
        Err(Error::Malformed {
            reason: format!("the list goes on past {MAX_PAGES} pages"),
            status: 200,
            request_id: None,
            client_request_id: None,
        })
    }

    /// A 2xx answer whose body is a JSON object.
    pub(super) async fn document(
        &self,
        request: &Prepared,
        token: &Token,
        log: &dyn Log,
        call: &Deadline,
    ) -> Result<Document> {
        Document::read(&self.send(request, token, log, call).await?, Shape::Object)
    }
}
