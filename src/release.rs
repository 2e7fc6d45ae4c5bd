//! What a VM image release did, step by step, on either API: the record both services'
//! `release_image_version` return and report progress with. Service-neutral: each API's
//! orchestration (`ingestion::release`, `cpp`'s) fills it in.
//!
//! The steps, in the order an ingestion release takes them, and what each is on each API:
//!
//! | step       | Product Ingestion API                            | Cloud Partner Portal API                          |
//! |------------|--------------------------------------------------|---------------------------------------------------|
//! | `WaitIdle` | wait until no submission of the product runs     | (not a step)                                      |
//! | `Add`      | `POST configure` with the edited technical configuration, its job followed | `PUT` the offer with the version added |
//! | `Preview`  | publish the draft to preview, its job followed   | `publish`, followed until `waitingForPublisherReview` |
//! | `Live`     | publish the preview to live, its job followed    | `golive`, followed until `succeeded`              |
//!
//! A step the release found already done (the image already in the draft, already in preview,
//! already live) is `AlreadyDone`, with no job; a target below live leaves the later steps out.

use std::fmt;

use crate::error::{Error, Result};

/// How far a release goes, and which state of an offer or product a call means (the ingestion
/// API's `targetType`): the draft, the preview, or live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Draft,
    Preview,
    Live,
}

impl Target {
    /// Every target, lowest first, as `as_str` names them: what the CLI offers.
    pub const ALL: [Self; 3] = [Self::Draft, Self::Preview, Self::Live];

    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "draft" => Ok(Self::Draft),
            "preview" => Ok(Self::Preview),
            "live" => Ok(Self::Live),
            _ => Err(Error::invalid("target", format!("{text:?} is not draft, preview or live"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Preview => "preview",
            Self::Live => "live",
        }
    }
}

/// One step of a release (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepName {
    Add,
    WaitIdle,
    Preview,
    Live,
}

impl StepName {
    /// The step's name as Python and the CLI show it: `add`, `wait-idle`, `preview`, `live`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::WaitIdle => "wait-idle",
            Self::Preview => "preview",
            Self::Live => "live",
        }
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Under way: its job (or operation) has started and is followed; only in a release reported
    /// as progress, or carried by an error that stopped it.
    Running,
    /// Done by this call.
    Done,
    /// Found done already: nothing was sent for it.
    AlreadyDone,
}

impl Outcome {
    /// `running`, `done`, `already-done`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::AlreadyDone => "already-done",
        }
    }
}

/// One step and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: StepName,
    pub outcome: Outcome,
    /// The job (ingestion) or operation (CPP) the step started, known as soon as it started, so
    /// a caller can cancel it; `None` for a step with none (already done, or waiting).
    pub job_id: Option<String>,
    /// The status the step's job or operation last had, as the service sent it (empty when none).
    pub status: String,
}

/// A release so far, or as it ended: its steps in the order they were taken.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Release {
    pub steps: Vec<Step>,
}

impl Release {
    /// A step found already done.
    pub fn already_done(&mut self, name: StepName) {
        self.set(Step { name, outcome: Outcome::AlreadyDone, job_id: None, status: String::new() });
    }

    /// A step under way, with the job or operation it started (if any) and its status.
    pub fn running(&mut self, name: StepName, job_id: Option<&str>, status: &str) {
        self.set(Step {
            name,
            outcome: Outcome::Running,
            job_id: job_id.map(str::to_owned),
            status: status.to_owned(),
        });
    }

    /// A step done now; its job id and status are kept from when it ran, or set here.
    pub fn done(&mut self, name: StepName, job_id: Option<&str>, status: &str) {
        self.set(Step {
            name,
            outcome: Outcome::Done,
            job_id: job_id.map(str::to_owned),
            status: status.to_owned(),
        });
    }

    /// The step named `name`, if taken.
    pub fn step(&self, name: StepName) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }

    /// The step under way, if one is.
    pub fn current(&self) -> Option<&Step> {
        self.steps.iter().rev().find(|s| s.outcome == Outcome::Running)
    }

    /// Whether this call sent anything that changed the product.
    pub fn changed(&self) -> bool {
        self.steps.iter().any(|s| s.outcome != Outcome::AlreadyDone && s.job_id.is_some())
    }

    /// Replaces the step of the same name, or adds it at the end.
    fn set(&mut self, step: Step) {
        match self.steps.iter_mut().find(|s| s.name == step.name) {
            Some(existing) => *existing = step,
            None => self.steps.push(step),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_moves_from_running_to_done_in_place() {
        let mut release = Release::default();
        release.already_done(StepName::Add);
        release.running(StepName::Preview, Some("j1"), "running");
        assert_eq!(release.current().map(|s| s.job_id.as_deref()), Some(Some("j1")));
        assert!(release.changed());
        release.done(StepName::Preview, Some("j1"), "completed");
        assert_eq!(release.steps.len(), 2);
        assert_eq!(release.current(), None);
        assert_eq!(release.step(StepName::Preview).map(|s| s.outcome), Some(Outcome::Done));
        assert_eq!(StepName::WaitIdle.to_string(), "wait-idle");
    }

    #[test]
    fn a_release_of_steps_found_done_changed_nothing() {
        let mut release = Release::default();
        for name in [StepName::Add, StepName::Preview, StepName::Live] {
            release.already_done(name);
        }
        assert!(!release.changed());
        assert_eq!(Outcome::AlreadyDone.as_str(), "already-done");
    }
}
