//! A job as the ingestion API answers it (a `configure-status` object): what `configure`,
//! a status poll and a cancel return. Read leniently: `jobId` and `jobID`, any key case, the
//! `0001-01-01…` end sentinel, a timestamp that does not parse (kept as its text), and the
//! errors of the work, which come inside a 200 rather than as an HTTP error.

use chrono::{DateTime, Datelike, FixedOffset};
use serde_json::{Map, Value};

use crate::error::{Error, FailureKind, LastState};
use crate::http::poll::Progress;
use crate::response::timestamp;

/// A job's time: parsed, or the text the service sent when it does not parse.
#[derive(Debug, Clone, PartialEq)]
pub enum Moment {
    At(DateTime<FixedOffset>),
    Text(String),
}

/// One error of a job's work (or a detail of one).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobError {
    pub code: Option<String>,
    pub message: Option<String>,
    pub resource_id: Option<String>,
    pub details: Vec<JobError>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Job {
    pub id: String,
    /// `notStarted`, `running` or `completed`, as sent.
    pub status: String,
    /// `pending`, `succeeded`, `failed` or `cancelled`, as sent (empty when absent).
    pub result: String,
    pub started: Option<Moment>,
    /// `None` until the job ended (the service sends `0001-01-01T00:00:00` meanwhile).
    pub ended: Option<Moment>,
    pub errors: Vec<JobError>,
    pub resource_uri: Option<String>,
    /// The whole answer.
    pub raw: Value,
}

/// What a wait for a job last saw, or a job read after a refused cancel, carried by the shared
/// error (`Error::WaitTimeout`, `Error::JobCompleted`).
impl crate::error::Record for Job {
    const KIND: &'static str = "job";

    fn status(&self) -> &str {
        &self.status
    }
}

/// Where a job stands, from its status and result: only `jobStatus: completed` ends a job (a
/// running job's sample carries a real `jobEnd`, and a completed one the sentinel), and its
/// result says how; a result alone counts only when the answer has no status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Succeeded,
    Failed,
    Cancelled,
    /// Completed, with a result this client does not know.
    Completed,
}

impl Phase {
    pub fn of(status: &str, result: &str) -> Self {
        let by_result = match result.trim().to_ascii_lowercase().as_str() {
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            "cancelled" | "canceled" => Some(Self::Cancelled),
            _ => None,
        };
        match (status.trim().eq_ignore_ascii_case("completed"), by_result) {
            (true, Some(phase)) => phase,
            (true, None) => Self::Completed,
            (false, Some(phase)) if status.trim().is_empty() => phase,
            (false, _) => Self::Pending,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Completed => "completed",
        }
    }
}

impl Job {
    pub fn phase(&self) -> Phase {
        Phase::of(&self.status, &self.result)
    }

    /// Nothing more will happen to it.
    pub fn is_terminal(&self) -> bool {
        self.phase() != Phase::Pending
    }

    pub fn succeeded(&self) -> bool {
        self.phase() == Phase::Succeeded
    }

    pub fn failed(&self) -> bool {
        self.phase() == Phase::Failed
    }

    pub fn cancelled(&self) -> bool {
        self.phase() == Phase::Cancelled
    }

    /// What kind of failure a failed job holds (`failure_kind`); `None` unless it failed.
    pub fn failure(&self) -> Option<FailureKind> {
        self.failed().then(|| failure_kind(&self.errors).0)
    }

    /// The error a release or a wait raises for a job that did not succeed: `Error::JobFailed`
    /// with its kind and the service's one line (a cancelled job is a failure of its own kind,
    /// `Other`); `None` for a job that succeeded.
    pub fn into_error(self) -> Option<Error> {
        if self.succeeded() {
            return None;
        }
        let (kind, message) = if self.cancelled() {
            (FailureKind::Other, format!("job {} was cancelled", self.id))
        } else {
            let (kind, message) = failure_kind(&self.errors);
            let result = if self.result.is_empty() { "no result" } else { &self.result };
            (kind, message.unwrap_or_else(|| format!("job {} ended with {result}", self.id)))
        };
        Some(Error::JobFailed { kind, message, record: LastState::new(self) })
    }
}

/// The one classification of a failed job's errors, nested `details` included: a certification
/// failure (an `invalidState` error whose message, or one of its details', mentions
/// certification) is final and comes first; a conflict with another submission ("An In Progress
/// submission ... already exists", code `internalServerError`; "... not the latest submission",
/// code `conflict`; any `conflict` code) is transient; anything else is `Other`. With the kind,
/// the message of the error that decided it (or of the first error).
pub fn failure_kind(errors: &[JobError]) -> (FailureKind, Option<String>) {
    let all = flatten(errors);
    let certification = all.iter().find(|e| is_code(e, "invalidState") && mentions_certification(e));
    if let Some(error) = certification {
        return (FailureKind::Certification, deepest_message(error, mentions_certification_text));
    }
    if let Some(error) = all.iter().find(|e| says_conflict(e)) {
        return (FailureKind::Conflict, error.message.clone());
    }
    (FailureKind::Other, all.iter().find_map(|e| e.message.clone()))
}

/// Every error and detail, depth first.
fn flatten(errors: &[JobError]) -> Vec<&JobError> {
    errors.iter().flat_map(|e| std::iter::once(e).chain(flatten(&e.details))).collect()
}

fn is_code(error: &JobError, code: &str) -> bool {
    error.code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(code))
}

fn mentions_certification_text(text: &str) -> bool {
    text.to_ascii_lowercase().contains("certif")
}

fn mentions_certification(error: &JobError) -> bool {
    flatten(std::slice::from_ref(error))
        .iter()
        .any(|e| e.message.as_deref().is_some_and(mentions_certification_text))
}

/// The message that says `wanted` deepest under `error` (the first detail's line first), else
/// `error`'s own: the service nests its most specific line ("Operation failed" > "Certification"
/// > "Issues found during Certification.", cloudpub acf8491).
fn deepest_message(error: &JobError, wanted: fn(&str) -> bool) -> Option<String> {
    error
        .details
        .iter()
        .find_map(|detail| deepest_message(detail, wanted))
        .or_else(|| error.message.clone().filter(|m| wanted(m)))
}

fn says_conflict(error: &JobError) -> bool {
    let message = error.message.as_deref().unwrap_or_default().to_ascii_lowercase();
    (message.contains("in progress submission") && message.contains("already exists"))
        || message.contains("not the latest submission")
        || is_code(error, "conflict")
}

impl Progress for Job {
    fn same_progress(&self, other: &Self) -> bool {
        self.status == other.status && self.result == other.result
    }
}

/// The value of `key` in any letter case (`jobId`, `jobID`, `JobId`).
fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.trim().eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match field(map, key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A time as sent: `None` for the year-1 "not yet" sentinel (or nothing), the parsed time, or
/// the text itself when it does not parse (the cancel page's `2022-03-01-T13:32:43.123456Z`).
pub fn moment(value: Option<&str>) -> Option<Moment> {
    let text = value?.trim();
    if text.is_empty() || text.starts_with("0001-01-01") {
        return None;
    }
    match timestamp(text) {
        Some(at) if at.year() > 1 => Some(Moment::At(at)),
        Some(_) => None,
        None => Some(Moment::Text(text.to_owned())),
    }
}

/// The errors of a job, or the `details` of one: objects (any key case), or bare strings.
pub fn errors(value: Option<&Value>) -> Vec<JobError> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            // Read as any error answer is (`error_body`): one line, without a .NET type prefix
            // or a stack trace.
            Value::Object(map) => Some(JobError {
                code: text(map, "code").map(|c| crate::error_body::excerpt(&c)),
                message: text(map, "message").map(|m| crate::error_body::message(&m)),
                resource_id: text(map, "resourceId"),
                details: errors(field(map, "details")),
            }),
            Value::String(s) if !s.trim().is_empty() => {
                Some(JobError { message: Some(crate::error_body::message(s)), ..JobError::default() })
            }
            _ => None,
        })
        .collect()
}

/// A job from its answer. `fallback_id` (the id the caller asked about) stands in when the
/// answer names none. Fails only when the answer is not a JSON object.
pub fn parse(body: &[u8], fallback_id: Option<&str>) -> Result<Job, String> {
    let value = crate::json::parse(body).map_err(|e| format!("the job {e}"))?;
    let Value::Object(map) = &value else {
        return Err("the job is not a JSON object".to_owned());
    };
    let id = text(map, "jobId").or_else(|| fallback_id.map(str::to_owned)).unwrap_or_default();
    let job = Job {
        id,
        status: text(map, "jobStatus").unwrap_or_default(),
        result: text(map, "jobResult").unwrap_or_default(),
        started: moment(text(map, "jobStart").as_deref()),
        ended: moment(text(map, "jobEnd").as_deref()),
        errors: errors(field(map, "errors")),
        resource_uri: text(map, "resourceUri"),
        raw: Value::Null,
    };
    Ok(Job { raw: value, ..job })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_SAMPLE: &str = r#"{"$schema": "https://product-ingestion.azureedge.net/schema/configure-status/2022-03-01-preview2",
        "jobID": "d4261631-c583-4949-a612-5150882632e9", "jobStatus": "notStarted", "jobResult": "pending",
        "jobStart": "2022-03-01T13:32:43.123456Z", "jobEnd": "0001-01-01T00:00:00", "errors": []}"#;

    #[test]
    fn the_page_sample_is_a_pending_job_not_yet_ended() {
        let job = parse(PAGE_SAMPLE.as_bytes(), None).unwrap();
        assert_eq!(job.id, "d4261631-c583-4949-a612-5150882632e9");
        assert_eq!((job.status.as_str(), job.result.as_str()), ("notStarted", "pending"));
        assert!(
            matches!(job.started, Some(Moment::At(at)) if at.to_rfc3339() == "2022-03-01T13:32:43.123456+00:00")
        );
        assert_eq!(job.ended, None);
        assert!(!job.is_terminal() && job.errors.is_empty());
    }

    #[test]
    fn a_malformed_time_is_kept_as_text_and_both_sentinels_mean_not_ended() {
        let body = r#"{"jobId": "j", "jobStatus": "completed", "jobResult": "cancelled", "jobStart": "2022-03-01-T13:32:43.123456Z", "jobEnd": "0001-01-01"}"#;
        let job = parse(body.as_bytes(), None).unwrap();
        assert_eq!(job.started, Some(Moment::Text("2022-03-01-T13:32:43.123456Z".into())));
        assert_eq!(job.ended, None);
        assert!(job.is_terminal() && job.cancelled() && !job.failed());
    }

    #[test]
    fn errors_inside_a_job_with_details_in_any_case() {
        let body = r#"{"JobId": "j", "jobStatus": "completed", "jobResult": "failed", "resourceUri": "https://x/y",
            "errors": [{"code": "conflict", "message": "A submission is in progress", "resourceId": "submission/g/1",
                        "details": [{"Code": "invalidState", "Message": "m"}, "plain"]}, 7]}"#;
        let job = parse(body.as_bytes(), Some("fallback")).unwrap();
        assert_eq!(job.id, "j");
        assert!(job.failed() && job.is_terminal());
        assert_eq!(job.resource_uri.as_deref(), Some("https://x/y"));
        assert_eq!(job.errors.len(), 1);
        let error = &job.errors[0];
        assert_eq!(error.code.as_deref(), Some("conflict"));
        assert_eq!(error.resource_id.as_deref(), Some("submission/g/1"));
        assert_eq!(error.details[0].code.as_deref(), Some("invalidState"));
        assert_eq!(error.details[1].message.as_deref(), Some("plain"));
    }

    #[test]
    fn only_a_completed_status_ends_a_job_and_its_result_says_how() {
        assert_eq!(Phase::of("running", "succeeded"), Phase::Pending);
        assert_eq!(Phase::of("notStarted", "pending"), Phase::Pending);
        assert_eq!(Phase::of("Completed", "Canceled"), Phase::Cancelled);
        assert_eq!(Phase::of("completed", "pending"), Phase::Completed);
        assert_eq!(Phase::of("", "failed"), Phase::Failed);
        assert_eq!(Phase::of("", ""), Phase::Pending);
    }

    #[test]
    fn a_job_error_reads_as_one_line_like_any_error_answer() {
        let body = r#"{"jobId": "j", "jobStatus": "completed", "jobResult": "failed",
            "errors": [{"code": "internalServerError", "message": "Microsoft.Ingestion.Api.Common.Exceptions.Http409Exception: An In Progress submission 2 already exists.\r\n   at A.B()"}]}"#;
        let job = parse(body.as_bytes(), None).unwrap();
        assert_eq!(job.errors[0].message.as_deref(), Some("An In Progress submission 2 already exists."));
    }

    #[test]
    fn the_asked_id_stands_in_and_non_objects_are_refused() {
        assert_eq!(parse(br#"{"jobStatus": "running"}"#, Some("asked")).unwrap().id, "asked");
        assert!(parse(b"[1]", None).is_err());
        assert!(parse(b"not json", None).is_err());
    }

    fn failed(errors: &str) -> Job {
        parse(
            format!(
                r#"{{"jobId": "j", "jobStatus": "completed", "jobResult": "failed", "errors": {errors}}}"#
            )
            .as_bytes(),
            None,
        )
        .unwrap()
    }

    #[test]
    fn a_second_publish_and_a_stale_go_live_are_conflicts() {
        let in_progress = failed(
            r#"[{"code": "internalServerError", "message": "An In Progress submission 1234567890 already exists.", "details": [{"code": "invalidResource", "message": "Failure for resource"}]}]"#,
        );
        assert_eq!(in_progress.failure(), Some(FailureKind::Conflict));
        let stale = failed(
            r#"[{"code": "Conflict", "message": "The submission cannot be pushed to live as its not the latest submission."}]"#,
        );
        assert_eq!(
            failure_kind(&stale.errors),
            (
                FailureKind::Conflict,
                Some("The submission cannot be pushed to live as its not the latest submission.".into())
            )
        );
        let nested = failed(
            r#"[{"code": "badRequest", "message": "x", "details": [{"code": "conflict", "message": "locked"}]}]"#,
        );
        assert_eq!(nested.failure(), Some(FailureKind::Conflict));
        let error = in_progress.into_error().unwrap();
        assert!(error.is_transient());
        assert_eq!(error.to_string(), "conflict: An In Progress submission 1234567890 already exists.");
    }

    #[test]
    fn a_certification_failure_is_final_even_nested() {
        let top = failed(r#"[{"code": "invalidState", "message": "The image failed certification."}]"#);
        assert_eq!(top.failure(), Some(FailureKind::Certification));
        let nested = failed(
            r#"[{"code": "badRequest", "message": "Validation failed", "details": [{"code": "invalidState", "message": "Submission failed", "details": [{"code": "x", "message": "Certification: the VHD is not generalized"}]}]}]"#,
        );
        assert_eq!(
            failure_kind(&nested.errors),
            (FailureKind::Certification, Some("Certification: the VHD is not generalized".into()))
        );
        let service = failed(
            r#"[{"resourceId": "submission/p/2", "code": "internalServerError", "message": "Operation failed", "details": [{"code": "invalidState", "message": "Certification", "details": [{"code": "invalidState", "message": "Issues found during Certification.", "details": []}]}]}]"#,
        );
        assert_eq!(
            failure_kind(&service.errors),
            (FailureKind::Certification, Some("Issues found during Certification.".into()))
        );
        let error = nested.into_error().unwrap();
        assert!(!error.is_transient());
        assert!(matches!(error, Error::JobFailed { kind: FailureKind::Certification, .. }));
    }

    #[test]
    fn other_failures_and_non_failures() {
        let bad = failed(
            r#"[{"code": "badRequest", "message": "Cannot delete image '9.0.20230404' of type 'X64Gen1' as it is already published."}]"#,
        );
        assert_eq!(bad.failure(), Some(FailureKind::Other));
        assert!(
            failed(r#"[{"code": "invalidState", "message": "not published"}]"#).failure()
                == Some(FailureKind::Other)
        );
        assert_eq!(
            failed("[]").into_error().map(|e| e.to_string()),
            Some("the job failed: job j ended with failed".into())
        );
        let ok =
            parse(br#"{"jobId": "j", "jobStatus": "completed", "jobResult": "succeeded"}"#, None).unwrap();
        assert_eq!(ok.failure(), None);
        assert!(ok.into_error().is_none());
        let cancelled =
            parse(br#"{"jobId": "j", "jobStatus": "completed", "jobResult": "cancelled"}"#, None).unwrap();
        assert_eq!(cancelled.failure(), None);
        assert_eq!(
            cancelled.into_error().map(|e| e.to_string()),
            Some("the job failed: job j was cancelled".into())
        );
    }
}
