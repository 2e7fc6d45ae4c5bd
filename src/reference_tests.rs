//! The reference corpus (`tests/reference/*.json`: the API's documented answers, as the pages
//! print them) read by the core's parsers. pytest serves the same files to the whole client.

use std::path::PathBuf;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use url::Url;

use crate::cpp::operation;
use crate::response::{self, RawResponse};

fn exchanges() -> Vec<(String, Value)> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("reference");
    let mut found: Vec<(String, Value)> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap())
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(found.len(), 16, "the corpus lost or gained a file");
    found
}

fn answer(exchange: &Value) -> RawResponse {
    let response = &exchange["response"];
    let mut headers = HeaderMap::new();
    for (name, value) in response["headers"].as_object().unwrap() {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
        );
    }
    RawResponse {
        status: u16::try_from(response["status"].as_u64().unwrap()).unwrap(),
        headers,
        body: response["body"].as_str().unwrap().as_bytes().to_vec(),
        truncated: false,
        over_limit: None,
    }
}

fn strings(value: &Value) -> Vec<Option<String>> {
    value.as_array().unwrap().iter().map(|v| v.as_str().map(str::to_owned)).collect()
}

#[test]
fn the_core_reads_every_documented_answer_as_documented() {
    let base = Url::parse("https://cloudpartner.azure.com").unwrap();
    for (name, exchange) in exchanges() {
        let raw = answer(&exchange);
        let expect = &exchange["expect"];
        match exchange["call"].as_str().unwrap() {
            "cancel" if expect.get("error").is_some() => {
                let failure = response::api_failure(&raw, "cid", None, "a-token-never-echoed");
                assert_eq!(u64::from(failure.status), expect["status_code"].as_u64().unwrap(), "{name}");
                assert_eq!(failure.code.as_deref(), expect["code"].as_str(), "{name}");
                assert_eq!(failure.message.as_deref(), expect["message"].as_str(), "{name}");
                assert!(!crate::http::retry::is_retriable(failure.status), "{name}");
            }
            "cancel" | "publish" | "go_live" => {
                let outcome = crate::cpp::answer::action_outcome(&raw, &base);
                assert_eq!(u64::from(outcome.status), expect["status_code"].as_u64().unwrap(), "{name}");
                assert_eq!(outcome.operation_id.as_deref(), expect["operation_id"].as_str(), "{name}");
                if let Some(location) = expect["operation_location"].as_str() {
                    assert_eq!(outcome.operation_location.as_deref(), Some(location), "{name}");
                }
                if let Some(path) = expect["operation_path"].as_str() {
                    let resolved = format!("https://cloudpartner.azure.com{path}");
                    assert_eq!(outcome.operation_location.as_deref(), Some(resolved.as_str()), "{name}");
                }
            }
            "list_operations" => {
                let ops = operation::parse_list(&raw.body).unwrap();
                let ids: Vec<Option<String>> = ops.iter().map(|op| Some(op.id.clone())).collect();
                assert_eq!(ids, strings(&expect["ids"]), "{name}");
                let statuses: Vec<Option<String>> = ops.iter().map(|op| Some(op.status.clone())).collect();
                assert_eq!(statuses, strings(&expect["statuses"]), "{name}");
                let version = expect["raw_version"].to_string();
                assert!(
                    ops[0].raw.contains(&format!("\"version\":{version}")),
                    "{name}: big integers stay exact"
                );
            }
            "get_operation" | "get_offer_status" => {
                let op = operation::parse_one(&raw.body, Some("from-the-location")).unwrap();
                assert_eq!(Some(op.status.clone()), expect["status"].as_str().map(str::to_owned), "{name}");
                assert_eq!(
                    op.waiting_for_review(),
                    expect["waiting_for_review"].as_bool().unwrap(),
                    "{name}"
                );
                if let Some(state) = expect.get("cancellation_state") {
                    assert_eq!(op.cancellation_state.as_deref(), state.as_str(), "{name}");
                }
                let ids: Vec<Option<String>> = op.steps.iter().map(|s| s.id.clone()).collect();
                assert_eq!(ids, strings(&expect["step_ids"]), "{name}");
                let statuses: Vec<Option<String>> = op.steps.iter().map(|s| s.status.clone()).collect();
                assert_eq!(statuses, strings(&expect["step_statuses"]), "{name}");
                let messages: Vec<Value> = op
                    .steps
                    .iter()
                    .flat_map(|s| s.messages.iter().map(move |m| serde_json::json!([s.id, m.level, m.text])))
                    .collect();
                assert_eq!(Value::Array(messages), expect["messages"], "{name}");
                assert!(op.steps.iter().flat_map(|s| &s.messages).all(|m| m.timestamp.is_some()), "{name}");
            }
            "list_offers" => {
                assert!(crate::response::is_json(&raw.body, b'['), "{name}");
                let offers: Value = serde_json::from_slice(&raw.body).unwrap();
                let ids: Vec<Option<String>> =
                    offers.as_array().unwrap().iter().map(|o| o["id"].as_str().map(str::to_owned)).collect();
                assert_eq!(ids, strings(&expect["ids"]), "{name}");
            }
            "get_offer" => {
                assert!(crate::response::is_json(&raw.body, b'{'), "{name}");
                let offer: Value = serde_json::from_slice(&raw.body).unwrap();
                assert_eq!(offer["id"], expect["id"], "{name}");
                assert_eq!(offer["version"], expect["version"], "{name}");
            }
            other => panic!("{name}: no check for call {other}"),
        }
    }
}
