//! What goes on the ingestion API's wire: each call's method, URL and body, from validated ids.
//!
//! Paths are built by segments under the configured base, which carries a path of its own
//! (`…/rp/product-ingestion`): nothing is resolved relative to it, so that prefix is never lost.
//! Every request names the API version as `$version=<date>`, spelled with a literal `$`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};
use url::Url;

use super::ids::{JobId, SubmissionId};
use crate::error::{Error, Result};
use crate::http::Prepared;

/// Query values keep RFC 3986's unreserved characters; everything else is escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// `name=value&…`, each value escaped, names as given: `$version` keeps its literal `$`.
pub(crate) fn query_text<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut text = String::new();
    for (name, value) in pairs {
        if !text.is_empty() {
            text.push('&');
        }
        text.push_str(name);
        text.push('=');
        text.extend(utf8_percent_encode(value, QUERY_VALUE));
    }
    text
}

/// Where the configure schema lives: `{SCHEMA_ROOT}/configure/{$version}`. The old
/// `product-ingestion.azureedge.net` host stopped serving schemas in March 2024, and the service
/// has refused a configure naming it since ("could not be accessed", partnercenter-cli-extension
/// issue 235).
const SCHEMA_ROOT: &str = "https://schema.mp.microsoft.com/schema";

/// The submission resource's schema, pinned as every client pins it: later submission schemas
/// (2022-03-01-preview7) require `sources`, which a publish of the whole product does not send
/// (cloudpub commit 956d629 quotes the refusal).
pub const SUBMISSION_SCHEMA: &str = "https://schema.mp.microsoft.com/schema/submission/2022-03-01-preview2";

pub use crate::release::Target;

/// Builds the ingestion API's requests for one base URL and `$version`.
#[derive(Debug, Clone, Copy)]
pub struct Requests<'a> {
    pub base: &'a Url,
    pub version: &'a str,
}

impl Requests<'_> {
    /// `{base}/{segments...}?$version=...&{query...}`.
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        let pairs = [("$version", self.version)].into_iter().chain(query.iter().copied());
        url.set_query(Some(&query_text(pairs)));
        url
    }

    /// `POST configure` with a configure document. Never sent twice: a second one would start
    /// a second job.
    pub fn configure(&self, document: &Configure) -> Prepared {
        Prepared::post(self.url(&["configure"], &[]), document.body.clone(), false).of_document()
    }

    /// `GET configure/{job}/status`: the job's state.
    pub fn job_status(&self, job: &JobId) -> Prepared {
        Prepared::get(self.url(&["configure", job.as_str(), "status"], &[]))
    }

    /// `GET configure/{job}`: the resources the job created or changed.
    pub fn job_resources(&self, job: &JobId) -> Prepared {
        Prepared::get(self.url(&["configure", job.as_str()], &[])).of_document()
    }

    /// `POST configure/{job}/cancel`, no body. Idempotent: a second cancel of the same job stops
    /// nothing more (it is refused as completed, which the caller is told).
    pub fn cancel_job(&self, job: &JobId) -> Prepared {
        let mut prepared =
            Prepared::post(self.url(&["configure", job.as_str(), "cancel"], &[]), Vec::new(), true);
        prepared.body = None;
        prepared
    }

    /// `GET product?externalId=...`.
    pub fn find_product(&self, external_id: &str) -> Prepared {
        Prepared::get(self.url(&["product"], &[("externalId", external_id)]))
    }

    /// `GET product/{guid}`.
    pub fn products(&self) -> Prepared {
        Prepared::get(self.url(&["product"], &[]))
    }

    pub fn product(&self, guid: &str) -> Prepared {
        Prepared::get(self.url(&["product", guid], &[]))
    }

    /// `GET submission/{guid}`: the product's draft, preview and live submissions.
    pub fn submissions(&self, guid: &str) -> Prepared {
        Prepared::get(self.url(&["submission", guid], &[]))
    }

    /// `GET resource-tree/product/{guid}?targetType=...`: the product's whole configuration.
    pub fn resource_tree(&self, guid: &str, target: Target) -> Prepared {
        Prepared::get(self.url(&["resource-tree", "product", guid], &[("targetType", target.as_str())]))
            .of_document()
    }

    /// The configure document that publishes `product` to `target`: to preview, a submission of
    /// the draft; to live, the preview submission `preview` (the API has no partial go-live).
    pub fn publish(&self, guid: &str, target: Target, preview: Option<&SubmissionId>) -> Result<Configure> {
        let mut submission = Map::new();
        submission.insert("$schema".into(), Value::String(SUBMISSION_SCHEMA.to_owned()));
        match (target, preview) {
            (Target::Preview, _) => {}
            (Target::Live, Some(preview)) => {
                submission.insert("id".into(), Value::String(preview.durable()));
            }
            (Target::Live, None) => {
                return Err(Error::invalid("target", "live needs the preview submission's id"));
            }
            (Target::Draft, _) => {
                return Err(Error::invalid("target", "a publish goes to preview or live, not to draft"));
            }
        }
        submission.insert("product".into(), Value::String(format!("product/{guid}")));
        submission.insert("target".into(), json!({"targetType": target.as_str()}));
        Configure::new(&Value::Array(vec![Value::Object(submission)]), self)
    }

    fn schema(&self, kind: &str) -> String {
        format!("{SCHEMA_ROOT}/{kind}/{}", self.version)
    }
}

/// A checked configure document: `{"$schema": <configure schema>, "resources": [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Configure {
    pub body: Vec<u8>,
}

impl Configure {
    /// From a list of resources, or a whole configure document (whose `$schema` is kept, or
    /// added when it has none). Each resource must be an object; the list must not be empty;
    /// the whole within the bounds every document keeps (`json::check`), as an offer's is.
    pub fn new(resources: &Value, requests: &Requests<'_>) -> Result<Self> {
        crate::json::check(resources).map_err(|fault| Error::invalid("resources", fault.to_string()))?;
        let mut document = match resources {
            Value::Array(_) => Map::new(),
            Value::Object(map) if map.contains_key("resources") => map.clone(),
            _ => {
                return Err(Error::invalid(
                    "resources",
                    "must be a list of resource objects, or a configure document with \"resources\"",
                ));
            }
        };
        let list = match resources {
            Value::Array(list) => list.clone(),
            _ => match document.get("resources") {
                Some(Value::Array(list)) => list.clone(),
                _ => return Err(Error::invalid("resources", "\"resources\" must be a list")),
            },
        };
        if list.is_empty() {
            return Err(Error::invalid(
                "resources",
                "is empty: a configure call needs at least one resource",
            ));
        }
        if let Some((index, _)) = list.iter().enumerate().find(|(_, r)| !r.is_object()) {
            return Err(Error::invalid("resources", format!("item {index} is not an object")));
        }
        if !document.contains_key("$schema") {
            document.insert("$schema".into(), Value::String(requests.schema("configure")));
        }
        document.insert("resources".into(), Value::Array(list));
        let body = serde_json::to_vec(&Value::Object(document))
            .map_err(|e| Error::invalid("resources", format!("cannot be sent as JSON: {e}")))?;
        Ok(Self { body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "d4261631-c583-4949-a612-5150882632e9";

    fn base() -> Url {
        crate::validate::base_url("https://graph.microsoft.com/rp/product-ingestion").unwrap()
    }

    fn requests(base: &Url) -> Requests<'_> {
        Requests { base, version: "2022-07-01" }
    }

    #[test]
    fn paths_keep_the_base_prefix_and_name_the_version_with_a_literal_dollar() {
        let base = base();
        let job = JobId::new(GUID).unwrap();
        let r = requests(&base);
        assert_eq!(
            r.job_status(&job).url.as_str(),
            format!(
                "https://graph.microsoft.com/rp/product-ingestion/configure/{GUID}/status?$version=2022-07-01"
            )
        );
        let cancel = r.cancel_job(&job);
        assert_eq!(cancel.method, reqwest::Method::POST);
        assert!(cancel.idempotent && cancel.body.is_none());
        assert!(
            cancel
                .url
                .as_str()
                .ends_with(&format!("/rp/product-ingestion/configure/{GUID}/cancel?$version=2022-07-01"))
        );
        let mounted = crate::validate::base_url("http://127.0.0.1:8080/mount/rp/product-ingestion/").unwrap();
        assert_eq!(
            requests(&mounted).product(GUID).url.as_str(),
            format!("http://127.0.0.1:8080/mount/rp/product-ingestion/product/{GUID}?$version=2022-07-01")
        );
    }

    #[test]
    fn query_values_are_escaped() {
        let base = base();
        let r = requests(&base);
        assert!(
            r.find_product("contoso-offer")
                .url
                .as_str()
                .ends_with("/product?$version=2022-07-01&externalId=contoso-offer")
        );
        assert!(r.url(&["x"], &[("t", "a b&c")]).as_str().ends_with("?$version=2022-07-01&t=a%20b%26c"));
        assert!(
            r.resource_tree(GUID, Target::Draft)
                .url
                .as_str()
                .ends_with(&format!("resource-tree/product/{GUID}?$version=2022-07-01&targetType=draft"))
        );
    }

    #[test]
    fn configure_wraps_a_list_and_keeps_a_whole_document() {
        let base = base();
        let r = requests(&base);
        let body: Value =
            serde_json::from_slice(&Configure::new(&json!([{"a": 1}]), &r).unwrap().body).unwrap();
        assert_eq!(body["$schema"], "https://schema.mp.microsoft.com/schema/configure/2022-07-01");
        assert_eq!(body["resources"], json!([{"a": 1}]));
        let whole = json!({"$schema": "https://product-ingestion.azureedge.net/schema/configure/2022-03-01-preview2", "resources": [{"b": 2}]});
        let body: Value = serde_json::from_slice(&Configure::new(&whole, &r).unwrap().body).unwrap();
        assert_eq!(body, whole);
        for bad in [json!([]), json!([1]), json!({"x": 1}), json!("s"), json!({"resources": 3})] {
            assert!(
                matches!(Configure::new(&bad, &r), Err(Error::InvalidArgument { field: "resources", .. })),
                "{bad}"
            );
        }
        assert!(!r.configure(&Configure::new(&json!([{}]), &r).unwrap()).idempotent);
        let mut deep = json!(1);
        for _ in 0..crate::json::MAX_DEPTH {
            deep = json!([deep]);
        }
        let err = Configure::new(&json!([{"a": deep}]), &r).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "invalid resources: has a list or object nested deeper than 100 levels at $[0].a"
            ),
            "{err}"
        );
    }

    #[test]
    fn publish_documents_for_preview_and_live() {
        let base = base();
        let r = requests(&base);
        let preview: Value =
            serde_json::from_slice(&r.publish(GUID, Target::Preview, None).unwrap().body).unwrap();
        assert_eq!(
            preview["resources"][0],
            json!({"$schema": SUBMISSION_SCHEMA, "product": format!("product/{GUID}"), "target": {"targetType": "preview"}})
        );
        let id = SubmissionId::parse(&format!("submission/{GUID}/3")).unwrap();
        let live: Value =
            serde_json::from_slice(&r.publish(GUID, Target::Live, Some(&id)).unwrap().body).unwrap();
        assert_eq!(live["resources"][0]["id"], format!("submission/{GUID}/3"));
        assert_eq!(live["resources"][0]["target"]["targetType"], "live");
        assert!(r.publish(GUID, Target::Live, None).is_err());
        assert!(r.publish(GUID, Target::Draft, None).is_err());
        assert!(Target::parse("LIVE").is_ok() && Target::parse("prod").is_err());
    }
}
