//! A VM image version's release on the Product Ingestion API, steps 1 to 8 of cloudpub's
//! sequence: add the version to the plan's draft if it is missing, wait until no submission of
//! the product runs, publish to preview, then to live, following each job.
//!
//! Resumable: it first reads where the product stands (the live, preview and draft trees, after
//! waiting for whatever still runs), and each step whose result is already there is
//! `AlreadyDone`, with nothing sent for it; a release already live is reads only. Cancellable:
//! each job's id is reported (`on_progress`, `Release::current`) as soon as `configure` answers.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use super::client::Client;
use super::ids::{JobId, ProductRef};
use super::job::Job;
use super::product::{self, Submission};
use super::request::Target;
use super::techconfig::NewImage;
use crate::error::{Error, LastState, Record, Result};
use crate::http::Log;
use crate::http::poll::{self, Progress, ProgressSink, TokenSupplier, WaitOptions};
use crate::release::{Outcome, Release, StepName};
use crate::validate::Token;

/// The submissions of a product that are still running: what `wait_until_idle` polls.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Activity {
    pub running: Vec<Submission>,
}

impl Progress for Activity {
    fn same_progress(&self, other: &Self) -> bool {
        let key =
            |a: &Activity| a.running.iter().map(|s| (s.id.clone(), s.status.clone())).collect::<Vec<_>>();
        key(self) == key(other)
    }
}

impl Record for Activity {
    const KIND: &'static str = "submission";

    fn status(&self) -> &str {
        if self.running.is_empty() { "idle" } else { "running" }
    }
}

/// What to release: the plan, the version and its image, and how far.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseSpec {
    pub plan: String,
    pub version: String,
    pub image: NewImage,
    pub target: Target,
}

/// The levels a release goes through, lowest first, with the step that reaches each.
const LEVELS: [(Target, StepName); 3] =
    [(Target::Draft, StepName::Add), (Target::Preview, StepName::Preview), (Target::Live, StepName::Live)];

fn rank(target: Target) -> usize {
    LEVELS.iter().position(|(t, _)| *t == target).unwrap_or(0)
}

/// A wait's options with what is left of the release's own deadline.
fn within(options: WaitOptions, deadline: Instant, last: Option<LastState>) -> Result<WaitOptions> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Error::WaitTimeout { after: options.timeout, last });
    }
    Ok(WaitOptions { timeout: left, ..options })
}

impl Client {
    /// Poll the product's submissions until none runs; `on_progress` hears the running ones at
    /// each change.
    pub async fn wait_until_idle(
        &self,
        product: &ProductRef,
        tokens: &TokenSupplier<'_>,
        options: WaitOptions,
        log: &dyn Log,
        on_progress: &mut ProgressSink<'_, Activity>,
    ) -> Result<Activity> {
        let token = tokens().ok_or(Error::Stopped)?;
        let guid = self.product_guid(product, &token, log, &self.deadline(false)).await?;
        self.until_idle(&guid, tokens, options, log, on_progress).await
    }

    async fn until_idle(
        &self,
        guid: &str,
        tokens: &TokenSupplier<'_>,
        options: WaitOptions,
        log: &dyn Log,
        on_progress: &mut ProgressSink<'_, Activity>,
    ) -> Result<Activity> {
        let poll_once = |token: Token| async move {
            let all = self.submissions(guid, &token, log, &self.deadline(false)).await?;
            let running: Vec<Submission> = all.into_iter().filter(Submission::in_progress).collect();
            Ok((Activity { running }, None::<Duration>))
        };
        let timed_out = |last: Option<Activity>| Error::WaitTimeout {
            after: options.timeout,
            last: last.map(LastState::new),
        };
        poll::until_done(
            &format!("the submissions of product/{guid}"),
            poll_once,
            &|a: &Activity| a.running.is_empty(),
            &timed_out,
            tokens,
            options,
            log,
            on_progress,
        )
        .await
    }

    /// Release `spec.version` of `spec.plan` up to `spec.target` (module docs); `on_progress`
    /// hears the release so far at each step and job change. A job that fails raises
    /// `Error::JobFailed`; `options.timeout` bounds the whole release.
    pub async fn release_image_version(
        &self,
        product: &ProductRef,
        spec: &ReleaseSpec,
        tokens: &TokenSupplier<'_>,
        options: WaitOptions,
        log: &dyn Log,
        on_progress: &mut ProgressSink<'_, Release>,
    ) -> Result<Release> {
        let deadline = Instant::now() + options.timeout;
        let token = || tokens().ok_or(Error::Stopped);
        let mut release = Release::default();
        let call = self.deadline(true);
        let guid = self.product_guid(product, &token()?, log, &call).await?;

        // A plan that does not exist is refused (a 404 listing those that do) before anything waits.
        let draft = self.tree(&guid, Target::Draft, &token()?, log, &call).await?.unwrap_or_default();
        Self::plan_configuration(&draft, &spec.plan, &guid)?;

        // Where the product stands, after what still runs has ended.
        let mut reached = self.reached(&guid, spec, Some(&draft), &token()?, log).await?;
        if reached.is_none_or(|r| r < rank(spec.target)) {
            let mut waited = false;
            let mut hear = |activity: &Activity| {
                if activity.running.is_empty() {
                    return ControlFlow::Continue(());
                }
                waited = true;
                release.running(StepName::WaitIdle, None, &format!("{} running", activity.running.len()));
                on_progress(&release)
            };
            self.until_idle(&guid, tokens, within(options, deadline, None)?, log, &mut hear).await?;
            if waited {
                release.done(StepName::WaitIdle, None, "idle");
                report(on_progress, &release)?;
                reached = self.reached(&guid, spec, None, &token()?, log).await?;
            } else {
                release.already_done(StepName::WaitIdle);
            }
        }
        for (level, step) in LEVELS.iter().take(rank(spec.target) + 1) {
            if reached.is_some_and(|r| rank(*level) <= r) {
                release.already_done(*step);
                continue;
            }
            let Some(started) = self.start_step(&guid, spec, *level, &token()?, log).await? else {
                release.already_done(*step);
                continue;
            };
            release.running(*step, Some(&started.id), &started.status);
            report(on_progress, &release)?;
            let id = JobId::new(&started.id)?;
            let ended = {
                let mut hear = |job: &Job| {
                    // The first poll often repeats what `configure` answered: told once.
                    if release
                        .step(*step)
                        .is_some_and(|s| s.status == job.status && s.outcome == Outcome::Running)
                    {
                        return ControlFlow::Continue(());
                    }
                    release.running(*step, Some(&job.id), &job.status);
                    on_progress(&release)
                };
                let wait = within(options, deadline, Some(LastState::new(started.clone())))?;
                self.wait_job(&id, tokens, wait, log, &mut hear).await?
            };
            let status = ended.status.clone();
            if let Some(failure) = ended.into_error() {
                return Err(failure);
            }
            release.done(*step, Some(id.as_str()), &status);
            report(on_progress, &release)?;
        }
        Ok(release)
    }

    /// The highest level (`rank`) whose tree already holds the image, looking from the target
    /// down; `None` when not even the draft holds it. `draft` is the draft tree when just read.
    async fn reached(
        &self,
        guid: &str,
        spec: &ReleaseSpec,
        draft: Option<&serde_json::Value>,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Option<usize>> {
        for (level, _) in LEVELS.iter().take(rank(spec.target) + 1).rev() {
            let tree = match (level, draft) {
                (Target::Draft, Some(tree)) => Some(tree.clone()),
                _ => self.tree(guid, *level, token, log, &self.deadline(true)).await?,
            };
            let Some(tree) = tree else { continue };
            let holds = Self::plan_configuration(&tree, &spec.plan, guid)
                .is_ok_and(|(_, config)| config.has_image(&spec.version, &spec.image));
            if holds {
                return Ok(Some(rank(*level)));
            }
        }
        Ok(None)
    }

    /// Start the step that takes the release to `level`: the configure job it started, or
    /// `None` when the draft holds the image after all (added by someone else meanwhile).
    async fn start_step(
        &self,
        guid: &str,
        spec: &ReleaseSpec,
        level: Target,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Option<Job>> {
        let call = self.deadline(true);
        match level {
            Target::Draft => {
                let tree = self.tree(guid, Target::Draft, token, log, &call).await?.unwrap_or_default();
                let (_, config) = Self::plan_configuration(&tree, &spec.plan, guid)?;
                match config.with_image(&spec.version, &spec.image)? {
                    Some(edited) => self.send_configuration(edited, token, log, &call).await.map(Some),
                    None => Ok(None),
                }
            }
            Target::Preview | Target::Live => {
                let preview = match level {
                    Target::Live => {
                        let submissions = self.submissions(guid, token, log, &call).await?;
                        let found = product::preview_submission(&submissions);
                        if found.is_none() {
                            return Err(Error::invalid(
                                "target",
                                format!("product/{guid} has no preview submission to take live"),
                            ));
                        }
                        found
                    }
                    _ => None,
                };
                let document = self.requests().publish(guid, level, preview.as_ref())?;
                let (job, _) =
                    self.job_answer(&self.requests().configure(&document), None, token, log, &call).await?;
                Ok(Some(job))
            }
        }
    }
}

/// Tell `on_progress` the release so far; `Break` stops the release.
fn report(on_progress: &mut ProgressSink<'_, Release>, release: &Release) -> Result<()> {
    match on_progress(release) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(Error::Stopped),
    }
}
