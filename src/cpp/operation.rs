//! Operation objects: what `GET .../operations/{id}` and `GET .../submissions` return, and what
//! their statuses mean.

use chrono::{DateTime, FixedOffset};

pub use crate::response::timestamp;
use serde_json::{Map, Value};

/// Where an operation stands, from its `status` compared case-insensitively (spellings vary
/// across the API's pages and versions). Anything unknown is `Pending`: never treated as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Succeeded,
    Failed,
    Canceled,
}

impl Phase {
    pub fn of(status: &str) -> Self {
        match status.trim().to_ascii_lowercase().as_str() {
            "complete" | "completed" | "succeeded" | "success" => Self::Succeeded,
            "failed" | "failure" => Self::Failed,
            "canceled" | "cancelled" => Self::Canceled,
            _ => Self::Pending,
        }
    }

    pub fn is_terminal(self) -> bool {
        self != Self::Pending
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }
}

/// A step's status or an operation's status that means "waiting for the publisher to approve
/// the preview" (the `publisher-signoff` step of a publish): the point where a script goes live.
pub const WAITING_FOR_REVIEW: &str = "waitingForPublisherReview";

fn is_waiting_for_review(status: &str) -> bool {
    status.trim().eq_ignore_ascii_case(WAITING_FOR_REVIEW)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// `id`, e.g. `displaycertify` or `publisher-signoff`.
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub progress: Option<f64>,
    /// `estimatedTimeFrame`, as the service words it (`< 15 min`, `~2-3 days`).
    pub estimated_time_frame: Option<String>,
    pub messages: Vec<Message>,
}

/// A message of a step or an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// `information`, `warning` or `error`, as sent.
    pub level: Option<String>,
    /// `messageHtml` with its tags removed and its entities decoded: text for a log or a terminal.
    pub text: String,
    pub timestamp: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub id: String,
    /// As the service spelled it ("" when absent).
    pub status: String,
    pub publisher: Option<String>,
    pub offer: Option<String>,
    pub submission_type: Option<String>,
    pub created: Option<DateTime<FixedOffset>>,
    pub changed: Option<DateTime<FixedOffset>>,
    pub steps: Vec<Step>,
    /// The operation's own `messages`.
    pub messages: Vec<Message>,
    /// `cancellationRequestState` (`canCancel`, and other values after a cancel request).
    pub cancellation_state: Option<String>,
    /// The whole object, numbers exactly as sent.
    pub raw: Value,
}

/// What a wait for an operation last saw, carried by the shared error (`Error::WaitTimeout`).
impl crate::error::Record for Operation {
    const KIND: &'static str = "operation";

    fn status(&self) -> &str {
        &self.status
    }
}

impl Operation {
    pub fn phase(&self) -> Phase {
        Phase::of(&self.status)
    }

    /// Same status and steps: nothing a watcher would call progress happened in between.
    pub fn same_progress(&self, other: &Operation) -> bool {
        self.status == other.status && self.steps == other.steps
    }

    /// The operation, or one of its steps (`publisher-signoff`), waits for the publisher to
    /// approve the preview.
    pub fn waiting_for_review(&self) -> bool {
        is_waiting_for_review(&self.status)
            || self.steps.iter().any(|s| s.status.as_deref().is_some_and(is_waiting_for_review))
    }
}

/// One operation: an object, or (as the "Retrieve operations" page prints it) a list holding
/// one object. `fallback_id` (from the location) stands in for a missing `id`.
pub fn parse_one(body: &[u8], fallback_id: Option<&str>) -> Result<Operation, String> {
    match crate::json::parse(body) {
        Ok(Value::Object(map)) => Ok(from_object(&map, fallback_id)),
        Ok(Value::Array(items)) => match items.as_slice() {
            [Value::Object(map)] => Ok(from_object(map, fallback_id)),
            _ => Err(format!("expected one operation, got a list of {} items", items.len())),
        },
        Ok(other) => Err(format!("expected an operation object, got {}", kind(&other))),
        Err(e) => Err(format!("the operation {e}")),
    }
}

/// A list of operations: a JSON array, or an object wrapping one in `value` / `items`.
pub fn parse_list(body: &[u8]) -> Result<Vec<Operation>, String> {
    let value = crate::json::parse(body).map_err(|e| format!("the operation list {e}"))?;
    let items = match &value {
        Value::Array(items) => items,
        Value::Object(map) => match map.get("value").or_else(|| map.get("items")) {
            Some(Value::Array(items)) => items,
            _ => return Err("expected a list of operations, got an object without one".to_owned()),
        },
        other => return Err(format!("expected a list of operations, got {}", kind(other))),
    };
    items
        .iter()
        .map(|item| match item {
            Value::Object(map) => Ok(from_object(map, None)),
            other => Err(format!("expected operation objects in the list, got {}", kind(other))),
        })
        .collect()
}

fn from_object(map: &Map<String, Value>, fallback_id: Option<&str>) -> Operation {
    let text = |names: &[&str]| {
        names.iter().find_map(|n| match map.get(*n) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(v @ Value::Number(_)) => Some(v.to_string()),
            _ => None,
        })
    };
    let when = |names: &[&str]| text(names).as_deref().and_then(timestamp);
    let steps = objects(map.get("steps")).map(step).collect();
    Operation {
        id: text(&["id"]).or_else(|| fallback_id.map(str::to_owned)).unwrap_or_default(),
        // A single operation says `status`; list items say `submissionState`.
        status: text(&["status", "submissionState"]).unwrap_or_default(),
        publisher: text(&["publisherId", "publisher"]),
        offer: text(&["offerId", "offer"]),
        submission_type: text(&["submissionType"]),
        created: when(&["createdDateTime", "createdTime", "created"]),
        changed: when(&["lastActionDateTime", "changedTime", "lastModifiedDateTime"]),
        steps,
        messages: objects(map.get("messages")).map(message).collect(),
        cancellation_state: text(&["cancellationRequestState"]),
        raw: Value::Object(map.clone()),
    }
}

/// The objects of a JSON list (anything else in it, or a missing list, is skipped).
fn objects(value: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
    value.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object)
}

fn step(map: &Map<String, Value>) -> Step {
    let text = |name: &str| map.get(name).and_then(Value::as_str).map(str::to_owned);
    let progress = match map.get("progressPercentage") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().trim_end_matches('%').parse().ok(),
        _ => None,
    };
    Step {
        id: text("id"),
        name: text("stepName"),
        description: text("description"),
        status: text("status"),
        progress: progress.filter(|p| p.is_finite()),
        estimated_time_frame: text("estimatedTimeFrame"),
        messages: objects(map.get("messages")).map(message).collect(),
    }
}

fn message(map: &Map<String, Value>) -> Message {
    let text = |name: &str| map.get(name).and_then(Value::as_str);
    Message {
        level: text("level").map(str::to_owned),
        text: text("messageHtml").or_else(|| text("message")).map(html_to_text).unwrap_or_default(),
        timestamp: text("timestamp").and_then(timestamp),
    }
}

/// `messageHtml` as plain text: tags dropped (`<br>` and block tags become line breaks), the common entities decoded, runs of spaces folded. Enough for messages such as
/// `No virtual machine image was found for the plan <b>contoso</b>.`; `raw` keeps the HTML.
fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(rest.get(..open).unwrap_or_default());
        let Some(close) = rest.get(open..).and_then(|t| t.find('>')) else {
            // A lone `<` is text ("a < b").
            text.push_str(rest.get(open..).unwrap_or_default());
            rest = "";
            break;
        };
        let tag = rest.get(open + 1..open + close).unwrap_or_default().trim().to_ascii_lowercase();
        let name = tag.trim_start_matches('/').split(|c: char| c.is_whitespace() || c == '/').next();
        if matches!(name, Some("br" | "p" | "div" | "li" | "tr" | "ul" | "ol")) {
            text.push('\n');
        }
        rest = rest.get(open + close + 1..).unwrap_or_default();
    }
    text.push_str(rest);
    let decoded = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    const DOCUMENTED: &str = r#"{
        "id": "56615b67-2185-49fe-80d2-c4ddf77bb2e8", "submissionType": "Publish",
        "createdDateTime": "2018-09-13T18:25:43.4423519Z", "lastActionDateTime": "2018-09-13T18:30:01Z",
        "status": "running", "publisherId": "contoso", "offerId": "contoso-offer",
        "version": 18446744073709551617,
        "steps": [{"stepName": "ValidateAssets", "status": "complete", "progressPercentage": 100, "messages": []},
                  {"stepName": "Certification", "status": "inProgress", "progressPercentage": 45.5}]
    }"#;

    #[test]
    fn documented_operation_object() {
        let op = parse_one(DOCUMENTED.as_bytes(), None).unwrap();
        assert_eq!(op.id, "56615b67-2185-49fe-80d2-c4ddf77bb2e8");
        assert_eq!((op.status.as_str(), op.phase()), ("running", Phase::Pending));
        assert_eq!(op.publisher.as_deref(), Some("contoso"));
        assert_eq!(op.submission_type.as_deref(), Some("Publish"));
        assert_eq!(op.created.unwrap().to_rfc3339(), "2018-09-13T18:25:43.442351900+00:00");
        assert_eq!(op.steps[1].name.as_deref(), Some("Certification"));
        assert_eq!(op.steps[1].status.as_deref(), Some("inProgress"));
        assert_eq!(op.steps[1].progress, Some(45.5));
        assert!(op.steps[0].messages.is_empty());
        assert!(op.raw.to_string().contains("18446744073709551617"), "big integers stay exact: {}", op.raw);
    }

    #[test]
    fn statuses_in_every_spelling() {
        for (status, phase) in [
            ("complete", Phase::Succeeded),
            ("Completed", Phase::Succeeded),
            ("SUCCEEDED", Phase::Succeeded),
            ("failed", Phase::Failed),
            ("canceled", Phase::Canceled),
            ("Cancelled", Phase::Canceled),
            ("running", Phase::Pending),
            ("inProgress", Phase::Pending),
            ("notStarted", Phase::Pending),
            ("not started", Phase::Pending),
            ("waitingForPublisherReview", Phase::Pending),
            ("", Phase::Pending),
            ("something new", Phase::Pending),
        ] {
            assert_eq!(Phase::of(status), phase, "{status}");
        }
    }

    #[test]
    fn lists_and_wrapped_lists() {
        assert_eq!(parse_list(br#"[{"id": "a", "status": "running"}, {"id": "b"}]"#).unwrap().len(), 2);
        assert_eq!(parse_list(br#"{"value": [{"id": "a"}]}"#).unwrap()[0].id, "a");
        assert!(parse_list(br#"{"nope": 1}"#).is_err());
        assert!(parse_list(br#"[1]"#).is_err());
        assert!(parse_list(b"<html>").is_err());
    }

    #[test]
    fn odd_objects_do_not_fail() {
        let op = parse_one(
            br#"{"status": 7, "steps": [1, {"progressPercentage": "40%"}], "createdDateTime": "yesterday"}"#,
            Some("fallback"),
        )
        .unwrap();
        assert_eq!((op.id.as_str(), op.status.as_str(), op.created), ("fallback", "7", None));
        assert_eq!(op.steps.len(), 1);
        assert_eq!(op.steps[0].progress, Some(40.0));
        assert!(parse_one(b"[]", None).is_err());
        assert!(parse_one(br#"[{"id": "a"}, {"id": "b"}]"#, None).is_err());
        assert_eq!(parse_one(br#"[{"id": "a"}]"#, None).unwrap().id, "a");
        assert!(parse_one(b"", None).is_err());
    }

    #[test]
    fn message_html_becomes_text() {
        assert_eq!(html_to_text("No image for the plan <b>contoso</b>."), "No image for the plan contoso.");
        assert_eq!(html_to_text("line one<br/>line  two<p>three</p>"), "line one\nline two\nthree");
        assert_eq!(html_to_text("a &lt; b &amp;&amp; c > d"), "a < b && c > d");
        assert_eq!(html_to_text("a < b"), "a < b");
        assert_eq!(html_to_text(""), "");
    }

    #[test]
    fn waiting_for_review_from_the_operation_or_a_step() {
        let step = br#"{"status": "running", "steps": [{"id": "publisher-signoff", "status": "WaitingForPublisherReview"}]}"#;
        assert!(parse_one(step, None).unwrap().waiting_for_review());
        assert!(parse_one(br#"{"status": "waitingForPublisherReview"}"#, None).unwrap().waiting_for_review());
        assert!(!parse_one(br#"{"status": "running"}"#, None).unwrap().waiting_for_review());
    }

    #[test]
    fn timestamps_with_and_without_offsets() {
        assert!(timestamp("2018-09-13T18:25:43.4423519Z").is_some());
        assert_eq!(timestamp("2018-09-13T18:25:43+02:00").unwrap().offset().local_minus_utc(), 7200);
        assert_eq!(timestamp("2018-09-13T18:25:43.44").unwrap().offset().local_minus_utc(), 0);
        assert_eq!(timestamp("13/09/2018"), None);
        assert_eq!(timestamp("0000-01-01T00:00:00Z"), None); // no Python datetime holds year 0
        assert_eq!(timestamp("9999-12-31T23:00:00-05:00"), None); // year 10000 in UTC
        let leap = timestamp("2016-12-31T23:59:60.5Z").unwrap();
        assert_eq!(leap.nanosecond(), 500_000_000);
    }
}
