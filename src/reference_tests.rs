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
                    ops[0].raw.to_string().contains(&format!("\"version\":{version}")),
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
                let offers = crate::json::parse(&raw.body).unwrap();
                assert!(offers.is_array(), "{name}");
                let ids: Vec<Option<String>> =
                    offers.as_array().unwrap().iter().map(|o| o["id"].as_str().map(str::to_owned)).collect();
                assert_eq!(ids, strings(&expect["ids"]), "{name}");
            }
            "get_offer" => {
                let offer = crate::json::parse(&raw.body).unwrap();
                assert!(offer.is_object(), "{name}");
                assert_eq!(offer["id"], expect["id"], "{name}");
                assert_eq!(offer["version"], expect["version"], "{name}");
            }
            other => panic!("{name}: no check for call {other}"),
        }
    }
}

// -- the Product Ingestion API's corpus (`tests/reference/ingestion/*.json`) -------------------

mod ingestion {
    use std::path::PathBuf;

    use chrono::DateTime;
    use serde_json::Value;

    use super::answer;
    use crate::ingestion::job::{self, JobError, Moment};
    use crate::ingestion::{page, product};
    use crate::response;

    fn exchanges() -> Vec<(String, Value)> {
        let folder =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("reference").join("ingestion");
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
        assert_eq!(found.len(), 32, "the ingestion corpus lost or gained a file");
        found
    }

    fn moment(expected: &Value) -> Option<Moment> {
        expected.as_str().map(|text| Moment::At(DateTime::parse_from_rfc3339(text).unwrap()))
    }

    fn errors(list: &[JobError]) -> Value {
        Value::Array(
            list.iter()
                .map(|e| {
                    serde_json::json!({"code": e.code, "message": e.message, "resource_id": e.resource_id,
                        "details": errors(&e.details)})
                })
                .collect(),
        )
    }

    fn check_job(name: &str, body: &[u8], expect: &Value) {
        let parsed = job::parse(body, Some("the-asked-id")).unwrap();
        assert_eq!(Some(parsed.id.as_str()), expect["id"].as_str(), "{name}");
        assert_eq!(Some(parsed.status.as_str()), expect["status"].as_str(), "{name}");
        assert_eq!(Some(parsed.result.as_str()), expect["result"].as_str(), "{name}");
        let started = match expect["started_raw"].as_str() {
            Some(raw) => Some(Moment::Text(raw.to_owned())),
            None => moment(&expect["started"]),
        };
        assert_eq!(parsed.started, started, "{name}");
        assert_eq!(parsed.ended, moment(&expect["ended"]), "{name}: the 0001-01-01 sentinels are None");
        assert_eq!(errors(&parsed.errors), expect["errors"], "{name}");
        assert_eq!(parsed.resource_uri.as_deref(), expect["resource_uri"].as_str(), "{name}");
        if let Some(terminal) = expect["terminal"].as_bool() {
            assert_eq!(parsed.is_terminal(), terminal, "{name}");
        }
        assert_eq!(parsed.failed(), !parsed.errors.is_empty(), "{name}");
    }

    fn check_failure(name: &str, exchange: &Value, expect: &Value) {
        let raw = answer(exchange);
        let failure = response::api_failure(&raw, "cid", None, "a-token-never-echoed");
        assert_eq!(u64::from(failure.status), expect["status_code"].as_u64().unwrap(), "{name}");
        assert_eq!(failure.code.as_deref(), expect["code"].as_str(), "{name}");
        let body = exchange["response"]["body"].as_str().unwrap();
        if expect["message"].is_null() && !body.trim().is_empty() {
            // A JSON body that is no envelope: no message to the corpus, its compact text to the
            // core (tolerated; the Python test says the same).
            let compact = serde_json::from_str::<Value>(body).unwrap().to_string();
            assert!(failure.message.is_none() || failure.message == Some(compact), "{name}");
        } else {
            assert_eq!(failure.message.as_deref(), expect["message"].as_str(), "{name}");
        }
        assert_eq!(
            crate::http::retry::is_retriable(failure.status),
            failure.status >= 500,
            "{name}: 5xx are transient, 4xx are not"
        );
    }

    fn host_free(schema: &str) -> &str {
        let schema = schema.trim();
        schema.split_once("/schema/").map_or(schema, |(_, rest)| rest)
    }

    #[test]
    fn the_core_reads_every_ingestion_answer_as_documented() {
        for (name, exchange) in exchanges() {
            let expect = &exchange["expect"];
            let body = exchange["response"]["body"].as_str().unwrap().as_bytes();
            if expect.get("error").is_some() {
                check_failure(&name, &exchange, expect);
                continue;
            }
            match exchange["call"].as_str().unwrap() {
                "cancel_job" | "get_job" | "configure" | "publish_preview" | "publish_live" => {
                    check_job(&name, body, expect);
                }
                "find_product" => {
                    let page = page::parse(body).unwrap();
                    let found: Vec<product::Product> =
                        page.items.iter().filter_map(product::product).collect();
                    let ids: Vec<Value> = found.iter().map(|p| Value::from(p.id.clone())).collect();
                    assert_eq!(Value::Array(ids), expect["ids"], "{name}");
                    let external: Vec<Value> = found.iter().map(|p| p.external_id.clone().into()).collect();
                    assert_eq!(Value::Array(external), expect["external_ids"], "{name}");
                    let next = match page.next {
                        Some(page::Next::Link(link)) => Some(link),
                        _ => None,
                    };
                    assert_eq!(next.as_deref(), expect["next_link"].as_str(), "{name}");
                    if let Some(guid) = expect["product_guid"].as_str() {
                        assert_eq!(found[0].guid(), guid, "{name}");
                    }
                }
                "get_product" => {
                    let value: Value = serde_json::from_slice(body).unwrap();
                    let found = product::product(&value).unwrap();
                    assert_eq!(Some(found.id.as_str()), expect["id"].as_str(), "{name}");
                    assert_eq!(found.external_id.as_deref(), expect["external_id"].as_str(), "{name}");
                    assert_eq!(found.product_type.as_deref(), expect["type"].as_str(), "{name}");
                }
                "list_submissions" => {
                    let page = page::parse(body).unwrap();
                    assert_eq!(page.next, None, "{name}");
                    let subs: Vec<product::Submission> =
                        page.items.iter().filter_map(product::submission).collect();
                    let field = |f: fn(&product::Submission) -> Option<String>| {
                        Value::Array(subs.iter().map(|s| f(s).into()).collect())
                    };
                    assert_eq!(field(|s| s.target.clone()), expect["targets"], "{name}");
                    assert_eq!(field(|s| s.status.clone()), expect["statuses"], "{name}");
                    assert_eq!(field(|s| s.result.clone()), expect["results"], "{name}");
                    let preview = product::preview_submission(&subs).map(|id| id.durable());
                    let first_preview =
                        subs.iter().find(|s| s.target.as_deref() == Some("preview")).map(|s| s.id.clone());
                    assert_eq!(first_preview.as_deref(), expect["preview_submission_id"].as_str(), "{name}");
                    if let Some(id) = &preview {
                        assert_eq!(Some(id.as_str()), expect["preview_submission_id"].as_str(), "{name}");
                    }
                    let live: Vec<Value> = subs
                        .iter()
                        .filter(|s| s.target.as_deref() == Some("live"))
                        .map(|s| if s.id.is_empty() { Value::Null } else { s.id.clone().into() })
                        .collect();
                    assert_eq!(Value::Array(live), expect["live_submission_ids"], "{name}");
                    assert_eq!(
                        subs.iter().any(product::Submission::in_progress),
                        expect["in_progress"].as_bool().unwrap(),
                        "{name}"
                    );
                }
                "get_resource_tree" => {
                    let tree = crate::json::parse(body).unwrap();
                    assert!(tree.is_object(), "{name}");
                    assert_eq!(tree["root"], expect["root"], "{name}");
                    assert_eq!(tree["target"]["targetType"], expect["target"], "{name}");
                    let resources = tree["resources"].as_array().unwrap();
                    let ids: Vec<Value> = resources.iter().map(|r| r["id"].clone()).collect();
                    assert_eq!(Value::Array(ids), expect["resource_ids"], "{name}");
                    let types: Vec<Value> = resources
                        .iter()
                        .map(|r| host_free(r["$schema"].as_str().unwrap()).split('/').next().unwrap().into())
                        .collect();
                    assert_eq!(Value::Array(types), expect["resource_types"], "{name}");
                }
                "get_job_resources" => {
                    let detail = crate::json::parse(body).unwrap();
                    assert!(detail.is_object(), "{name}");
                    assert_eq!(detail["$schema"], expect["schema"], "{name}");
                    let resources = detail["resources"].as_array().unwrap();
                    let ids: Vec<Value> = resources.iter().map(|r| r["id"].clone()).collect();
                    assert_eq!(Value::Array(ids), expect["resource_ids"], "{name}");
                    let schemas: Vec<Value> = resources.iter().map(|r| r["$schema"].clone()).collect();
                    assert_eq!(Value::Array(schemas), expect["resource_schemas"], "{name}");
                }
                other => panic!("{name}: no check for call {other}"),
            }
        }
    }
}
