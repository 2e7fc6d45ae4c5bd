//! Releasing a VM image version on the Cloud Partner Portal API: add it to a plan's draft
//! (`image`), publish, wait for the publisher's review, go live, wait for `succeeded`; and the
//! two edits alone (`add_image_version`, `deprecate_image_version`). Sync and async callers share
//! this one implementation.
//!
//! A release is resumable: it first reads where the offer stands (its status, then its draft,
//! then the slot that says whether a step is done), and does no step twice. Already live: reads
//! only. Waiting for review with the version in preview: only the go-live. A publish or go-live
//! of the version under way: followed, not sent again. It is cancellable: each operation's id
//! is in the `Release` reported as soon as the operation starts, and `cancel` stops it.

use std::ops::ControlFlow;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::client::Client;
use super::image::{self, Edit, NewVersion};
use super::offer::{self, IfMatch, OfferQuery, PutOffer, Slot};
use super::operation::{Operation, Phase, WAITING_FOR_REVIEW};
use super::request::{Action, ListQuery, OfferAction, OperationLocation, offer_url};
use crate::error::{Error, FailureKind, LastState, Result};
use crate::http::poll::{ProgressSink, TokenSupplier, WaitOptions};
use crate::http::{Document, Log};
use crate::release::{Release, StepName, Target};
use crate::validate::{self, Token};

/// A release to make, validated: nothing is sent when building it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRequest {
    pub publisher: String,
    pub offer: String,
    pub version: NewVersion,
    pub emails: Vec<String>,
    pub target: Target,
}

impl ReleaseRequest {
    pub fn new<'a>(
        publisher: &str,
        offer: &str,
        version: NewVersion,
        emails: impl IntoIterator<Item = &'a str>,
        target: Target,
    ) -> Result<Self> {
        validate::id("publisher", publisher)?;
        validate::id("offer", offer)?;
        let emails = validate::emails(emails)?;
        Ok(Self { publisher: publisher.to_owned(), offer: offer.to_owned(), version, emails, target })
    }
}

/// Where the offer stands for the version being released, as the first reads found it.
#[derive(Debug, Clone, PartialEq)]
enum Standing {
    /// The draft lacks the version (or holds another image under its number): `edited` is the
    /// draft with it, to put back under the ETag the draft was read with.
    NotInDraft { edited: Value, etag: Option<String> },
    /// In the draft; no publish of it has started (or the last one failed or was cancelled).
    InDraft,
    /// A publish runs (the operation to follow).
    Publishing(OperationLocation),
    /// Published: the publish waits for the publisher's review, and the preview holds it.
    InReview,
    /// A go-live of it runs.
    GoingLive(OperationLocation),
    /// Live.
    Live,
}

impl Client {
    /// Add `new` to its plan (`image::add`): read the offer with its ETag, edit it, put it back
    /// under `If-Match` without the keys the service refuses back (`offer::for_put`). `None`
    /// when the plan already holds that image (SAS URIs compared without their signatures).
    pub async fn add_image_version(
        &self,
        publisher: &str,
        offer: &str,
        new: &NewVersion,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Option<Document>> {
        let read = self.get_offer(&OfferQuery::new(publisher, offer, None, None)?, token, log).await?;
        self.edit_and_put(publisher, offer, read, |doc| image::add(doc, new, &today()), token, log).await
    }

    /// Hide `version` of `plan` (`image::deprecate`); `None` when it is hidden already. The last
    /// version a plan shows is refused after the read, before anything is written.
    pub async fn deprecate_image_version(
        &self,
        publisher: &str,
        offer: &str,
        plan: &str,
        version: &str,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Option<Document>> {
        validate::id("plan", plan)?;
        validate::image_version(version)?;
        let read = self.get_offer(&OfferQuery::new(publisher, offer, None, None)?, token, log).await?;
        self.edit_and_put(publisher, offer, read, |doc| image::deprecate(doc, plan, version), token, log)
            .await
    }

    /// `edit` the offer `read`, and put it back when it changed.
    async fn edit_and_put(
        &self,
        publisher: &str,
        offer: &str,
        read: Document,
        edit: impl FnOnce(&mut Value) -> Result<Edit>,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Option<Document>> {
        let mut document = read.value;
        if edit(&mut document)? == Edit::Unchanged {
            return Ok(None);
        }
        self.put_edited(publisher, offer, document, read.etag.as_deref(), token, log).await.map(Some)
    }

    /// Put an edited offer back under the ETag it was read with.
    async fn put_edited(
        &self,
        publisher: &str,
        offer: &str,
        mut document: Value,
        etag: Option<&str>,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Document> {
        offer::for_put(&mut document);
        let if_match = match etag {
            Some(etag) => IfMatch::parse(etag)?,
            None => {
                log.warning(&format!(
                    "the offer {publisher}/{offer} was read without an ETag: it is put back with If-Match: *"
                ));
                IfMatch::Any
            }
        };
        self.put_offer(&PutOffer::new(publisher, offer, document, if_match)?, token, log).await
    }

    /// Release `request.version` up to `request.target`, doing only the steps not done yet.
    /// `options.timeout` bounds the whole release; `on_progress` hears the `Release` so far at
    /// each step and each change of the operation it follows (a `Break` stops the release with
    /// `Error::Stopped`, leaving what runs on the service running).
    pub async fn release_image_version(
        &self,
        request: &ReleaseRequest,
        tokens: &TokenSupplier<'_>,
        options: WaitOptions,
        log: &dyn Log,
        on_progress: &mut ProgressSink<'_, Release>,
    ) -> Result<Release> {
        let deadline = Instant::now() + options.timeout;
        let mut release = Release::default();
        // Each state is told once: a poll that changed only a step's percentage changed nothing
        // the release shows.
        let mut told: Option<Release> = None;
        let mut report = |release: &Release| {
            if told.as_ref() == Some(release) {
                return Ok(());
            }
            told = Some(release.clone());
            match on_progress(release) {
                ControlFlow::Continue(()) => Ok(()),
                ControlFlow::Break(()) => Err(Error::Stopped),
            }
        };
        let mut standing = self.standing(request, tokens, log).await?;
        let (publisher, offer) = (&request.publisher, &request.offer);

        // Add.
        match &mut standing {
            Standing::NotInDraft { edited, etag } => {
                release.running(StepName::Add, None, "");
                report(&release)?;
                let token = next_token(tokens)?;
                self.put_edited(publisher, offer, std::mem::take(edited), etag.as_deref(), &token, log)
                    .await?;
                release.done(StepName::Add, None, "");
            }
            _ => release.already_done(StepName::Add),
        }
        report(&release)?;
        if request.target == Target::Draft {
            return Ok(release);
        }

        // Publish, followed until the publisher's review.
        let publishing = match &standing {
            Standing::NotInDraft { .. } | Standing::InDraft => {
                let call = OfferAction::new(
                    Action::Publish,
                    publisher,
                    offer,
                    request.emails.iter().map(String::as_str),
                )?;
                Some(self.start(&call, tokens, log).await?)
            }
            Standing::Publishing(location) => Some(location.clone()),
            Standing::InReview | Standing::GoingLive(_) | Standing::Live => None,
        };
        match publishing {
            Some(location) => {
                let op = self
                    .follow(
                        StepName::Preview,
                        &location,
                        true,
                        &mut release,
                        tokens,
                        deadline,
                        options,
                        log,
                        &mut report,
                    )
                    .await?;
                let status = if op.waiting_for_review() { WAITING_FOR_REVIEW } else { op.status.as_str() };
                release.done(StepName::Preview, Some(&op.id), status);
            }
            None => release.already_done(StepName::Preview),
        }
        report(&release)?;
        if request.target == Target::Preview {
            return Ok(release);
        }

        // Go live, followed until it succeeds.
        let going_live = match &standing {
            Standing::Live => None,
            Standing::GoingLive(location) => Some(location.clone()),
            _ => {
                let call = OfferAction::new(Action::GoLive, publisher, offer, [])?;
                Some(self.start(&call, tokens, log).await?)
            }
        };
        match going_live {
            Some(location) => {
                let op = self
                    .follow(
                        StepName::Live,
                        &location,
                        false,
                        &mut release,
                        tokens,
                        deadline,
                        options,
                        log,
                        &mut report,
                    )
                    .await?;
                release.done(StepName::Live, Some(&op.id), &op.status);
            }
            None => release.already_done(StepName::Live),
        }
        report(&release)?;
        Ok(release)
    }

    /// Where the offer stands for the version: the status, the draft, and (only when the draft
    /// holds the version and the status calls for it) one slot or the running operation.
    async fn standing(
        &self,
        request: &ReleaseRequest,
        tokens: &TokenSupplier<'_>,
        log: &dyn Log,
    ) -> Result<Standing> {
        let (publisher, offer) = (&request.publisher, &request.offer);
        let new = &request.version;
        let status = {
            let prepared = offer::status(self.base(), publisher, offer)?;
            self.offer_status(&prepared, &next_token(tokens)?, log).await?
        };
        let draft = self
            .get_offer(&OfferQuery::new(publisher, offer, None, None)?, &next_token(tokens)?, log)
            .await?;
        let mut edited = draft.value;
        let in_draft = image::add(&mut edited, new, &today())? == Edit::Unchanged;
        let busy = is_busy(&status);
        if !in_draft {
            if busy && request.target != Target::Draft {
                return Err(busy_error(&status, publisher, offer, "it cannot publish the new version"));
            }
            return Ok(Standing::NotInDraft { edited, etag: draft.etag });
        }
        let holds = |slot: Option<Document>| {
            slot.is_some_and(|d| image::holds(&d.value, &new.plan, &new.version, &new.image))
        };
        if status.waiting_for_review() {
            if holds(self.read_slot(publisher, offer, Slot::Preview, tokens, log).await?) {
                return Ok(Standing::InReview);
            }
            return Err(busy_error(&status, publisher, offer, "its preview holds another draft"));
        }
        if busy {
            let location = self.running_operation(publisher, offer, tokens, log).await?;
            if !signed_off(&status) {
                return Ok(Standing::Publishing(location));
            }
            if holds(self.read_slot(publisher, offer, Slot::Preview, tokens, log).await?) {
                return Ok(Standing::GoingLive(location));
            }
            return Err(busy_error(&status, publisher, offer, "another preview goes live"));
        }
        if status.phase() == Phase::Succeeded
            && holds(self.read_slot(publisher, offer, Slot::Production, tokens, log).await?)
        {
            return Ok(Standing::Live);
        }
        Ok(Standing::InDraft)
    }

    /// The offer as `slot` holds it; `None` when the slot was never filled (404).
    async fn read_slot(
        &self,
        publisher: &str,
        offer: &str,
        slot: Slot,
        tokens: &TokenSupplier<'_>,
        log: &dyn Log,
    ) -> Result<Option<Document>> {
        let query = OfferQuery::new(publisher, offer, None, Some(slot))?;
        match self.get_offer(&query, &next_token(tokens)?, log).await {
            Ok(document) => Ok(Some(document)),
            Err(Error::Api(failure)) if failure.status == 404 => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The location of the operation that runs on the offer: the newest `running` one.
    async fn running_operation(
        &self,
        publisher: &str,
        offer: &str,
        tokens: &TokenSupplier<'_>,
        log: &dyn Log,
    ) -> Result<OperationLocation> {
        let query = ListQuery::new(publisher, offer, Some("running"))?;
        let running = self.list_operations(&query, &next_token(tokens)?, log).await?;
        let Some(op) = running.into_iter().find(|op| !op.id.is_empty()) else {
            return Err(Error::Malformed {
                reason: format!(
                    "the offer {publisher}/{offer} says an operation runs, and lists none running"
                ),
                status: 200,
                request_id: None,
                client_request_id: None,
            });
        };
        let url = offer_url(self.base(), publisher, offer, &["operations", &op.id]);
        OperationLocation::new(self.base(), url.as_str())
    }

    /// Send a publish or go-live; the operation it started (the newest running one when the
    /// answer names none).
    async fn start(
        &self,
        call: &OfferAction,
        tokens: &TokenSupplier<'_>,
        log: &dyn Log,
    ) -> Result<OperationLocation> {
        let accepted = self.submit(call, &next_token(tokens)?, log).await?;
        match accepted.outcome.operation_location {
            Some(location) => OperationLocation::new(self.base(), &location),
            None => self.running_operation(&call.publisher, &call.offer, tokens, log).await,
        }
    }

    /// Follow the operation of `step` until it waits for review (`until_review`) or ends, the
    /// release reporting it as running with each change; an operation that failed or was
    /// cancelled is `Error::JobFailed`.
    #[allow(clippy::too_many_arguments)] // the step, its operation, and the release's context
    async fn follow(
        &self,
        step: StepName,
        location: &OperationLocation,
        until_review: bool,
        release: &mut Release,
        tokens: &TokenSupplier<'_>,
        deadline: Instant,
        options: WaitOptions,
        log: &dyn Log,
        report: &mut (dyn FnMut(&Release) -> Result<()> + Send),
    ) -> Result<Operation> {
        let id = super::answer::operation_id(location.url()).unwrap_or_default();
        release.running(step, Some(&id), "");
        report(release)?;
        let timeout = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        let wait = WaitOptions { timeout, poll_interval: options.poll_interval, until_review };
        let op = self
            .wait(location, tokens, wait, log, &mut |op: &Operation| {
                release.running(step, Some(if op.id.is_empty() { &id } else { &op.id }), &op.status);
                match report(release) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(_) => ControlFlow::Break(()),
                }
            })
            .await?;
        if (until_review && op.waiting_for_review()) || op.phase() == Phase::Succeeded {
            return Ok(op);
        }
        Err(failed(op))
    }
}

/// The token for the next request of a release (a credential may refresh it meanwhile).
fn next_token(tokens: &TokenSupplier<'_>) -> Result<Token> {
    tokens().ok_or(Error::Stopped)
}

/// Today (UTC) as the portal writes `publishedDate`: `MM/DD/YYYY`.
fn today() -> String {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    chrono::DateTime::from_timestamp(i64::try_from(seconds).unwrap_or(0), 0)
        .map_or_else(String::new, |now| now.format("%m/%d/%Y").to_string())
}

/// An operation runs on the offer (a publish, a go-live, or one waiting for review).
fn is_busy(status: &Operation) -> bool {
    status.waiting_for_review()
        || matches!(
            status.status.trim().to_ascii_lowercase().as_str(),
            "running" | "inprogress" | "in progress" | "blocked"
        )
}

/// The offer's publish was signed off (its `publisher-signoff` step is complete): what runs is
/// the go-live.
fn signed_off(status: &Operation) -> bool {
    status.steps.iter().any(|step| {
        step.id.as_deref() == Some("publisher-signoff")
            && step.status.as_deref().is_some_and(|s| Phase::of(s) == Phase::Succeeded)
    })
}

/// Another operation stands in the release's way; nothing was sent. Transient: release again
/// once it has ended, or cancel it.
fn busy_error(status: &Operation, publisher: &str, offer: &str, why: &str) -> Error {
    Error::JobFailed {
        kind: FailureKind::Conflict,
        message: format!(
            "an operation is in progress on {publisher}/{offer} (status {}), and {why}: wait until it ends, \
             or cancel it, then release again",
            status.status
        ),
        record: LastState::new(status.clone()),
    }
}

/// A release's operation ended without doing its part: failed, or cancelled.
fn failed(op: Operation) -> Error {
    let certification = op.steps.iter().any(|step| {
        step.status.as_deref().is_some_and(|s| Phase::of(s) == Phase::Failed)
            && [&step.id, &step.name].into_iter().flatten().any(|n| n.to_ascii_lowercase().contains("certif"))
    });
    let first_error = op
        .messages
        .iter()
        .chain(op.steps.iter().flat_map(|s| s.messages.iter()))
        .find(|m| m.level.as_deref().is_some_and(|l| l.eq_ignore_ascii_case("error")))
        .map(|m| m.text.clone());
    let message = first_error.unwrap_or_else(|| format!("operation {} ended {}", op.id, op.status));
    let kind = if certification { FailureKind::Certification } else { FailureKind::Other };
    Error::JobFailed { kind, message, record: LastState::new(op) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(body: &str) -> Operation {
        super::super::operation::parse_one(body.as_bytes(), None).unwrap()
    }

    #[test]
    fn what_counts_as_an_operation_in_the_way() {
        for idle in ["neverPublished", "notStarted", "succeeded", "failed", "canceled", "somethingNew"] {
            assert!(!is_busy(&status(&format!(r#"{{"status": "{idle}"}}"#))), "{idle}");
        }
        for busy in ["running", "InProgress", "waitingForPublisherReview"] {
            assert!(is_busy(&status(&format!(r#"{{"status": "{busy}"}}"#))), "{busy}");
        }
        let review_step = r#"{"status": "running", "steps": [{"id": "publisher-signoff", "status": "waitingForPublisherReview"}]}"#;
        assert!(is_busy(&status(review_step)) && !signed_off(&status(review_step)));
        let going_live = r#"{"status": "running", "steps": [{"id": "publisher-signoff", "status": "Complete"}, {"id": "live", "status": "inProgress"}]}"#;
        assert!(signed_off(&status(going_live)));
    }

    #[test]
    fn a_failed_operation_says_why_and_what_kind() {
        let certification = status(
            r#"{"id": "op", "status": "failed", "steps": [{"id": "displaycertify", "stepName": "Certification",
                "status": "failed", "messages": [{"level": "error", "messageHtml": "<b>VHD</b> failed the tests"}]}]}"#,
        );
        match failed(certification) {
            Error::JobFailed { kind: FailureKind::Certification, message, record } => {
                assert_eq!(message, "VHD failed the tests");
                assert_eq!(record.status(), "failed");
            }
            other => panic!("{other:?}"),
        }
        let cancelled = failed(status(r#"{"id": "op", "status": "canceled"}"#));
        assert!(matches!(&cancelled, Error::JobFailed { kind: FailureKind::Other, .. }));
        assert_eq!(cancelled.to_string(), "the operation failed: operation op ended canceled");
        assert!(!cancelled.is_transient());
        let busy = busy_error(&status(r#"{"status": "running"}"#), "p", "o", "it cannot publish");
        assert!(busy.is_transient() && busy.to_string().contains("in progress on p/o (status running)"));
    }
}
