//! Products and submissions as the ingestion API lists them.

use serde_json::{Map, Value};

use super::ids::SubmissionId;
use super::job::{Moment, moment};

/// A product (an offer): its durable id, the external id the publisher chose, its type and alias.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// `product/<guid>`.
    pub id: String,
    pub external_id: Option<String>,
    /// e.g. `azureVirtualMachine`, `softwareAsAService`.
    pub product_type: Option<String>,
    pub alias: Option<String>,
    /// The product as sent.
    pub raw: Value,
}

impl Product {
    /// The durable id's GUID.
    pub fn guid(&self) -> &str {
        self.id.strip_prefix("product/").unwrap_or(&self.id)
    }
}

/// A submission: the draft reference, or a preview or live publish and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// `submission/<product-guid>/<n>`.
    pub id: String,
    pub product: Option<String>,
    /// `draft`, `preview` or `live`.
    pub target: Option<String>,
    /// `notStarted`, `running` or `completed`.
    pub status: Option<String>,
    /// `pending`, `succeeded` or `failed`.
    pub result: Option<String>,
    pub created: Option<Moment>,
    /// `generallyAvailable`, `deprecated`, ...
    pub lifecycle_state: Option<String>,
    /// The submission as sent.
    pub raw: Value,
}

impl Submission {
    /// A publish still under way (clients treat any submission not `completed` so).
    pub fn in_progress(&self) -> bool {
        self.status.as_deref().is_some_and(|s| !s.eq_ignore_ascii_case("completed"))
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.iter().find(|(k, _)| k.trim().eq_ignore_ascii_case(key)).and_then(|(_, v)| match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    })
}

fn object<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    map.iter().find(|(k, _)| k.trim().eq_ignore_ascii_case(key)).and_then(|(_, v)| v.as_object())
}

/// A product from one item of a product list (or a product answer); `None` without an id.
pub fn product(value: &Value) -> Option<Product> {
    let map = value.as_object()?;
    Some(Product {
        id: text(map, "id")?,
        external_id: object(map, "identity")
            .and_then(|i| text(i, "externalId"))
            .or_else(|| text(map, "externalId")),
        product_type: text(map, "type"),
        alias: text(map, "alias"),
        raw: value.clone(),
    })
}

/// A submission from one item of a submission list; `None` when the item is not an object.
pub fn submission(value: &Value) -> Option<Submission> {
    let map = value.as_object()?;
    Some(Submission {
        // Kept without an id (empty): a live entry still running is a publish under way, which
        // the caller must see (azure-img-utils' mock lists such entries).
        id: text(map, "id").unwrap_or_default(),
        product: text(map, "product"),
        target: object(map, "target").and_then(|t| text(t, "targetType")),
        status: text(map, "status"),
        result: text(map, "result"),
        created: moment(text(map, "created").as_deref()),
        lifecycle_state: text(map, "lifecycleState"),
        raw: value.clone(),
    })
}

/// The preview submission a go-live publishes: the first one the list names with target
/// `preview`, as cloudpub and azure-img-utils take it (`value[?target.targetType=='preview'] | [0]`).
pub fn preview_submission(submissions: &[Submission]) -> Option<SubmissionId> {
    submissions
        .iter()
        .filter(|s| s.target.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("preview")))
        .find_map(|s| SubmissionId::parse(&s.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GUID: &str = "d4261631-c583-4949-a612-5150882632e9";

    #[test]
    fn products_carry_their_ids_type_and_alias() {
        let item = json!({"$schema": "https://schema.mp.microsoft.com/schema/product/2022-07-01", "id": format!("product/{GUID}"),
            "identity": {"externalId": "contoso-offer"}, "type": "azureVirtualMachine", "alias": "Contoso"});
        let p = product(&item).unwrap();
        assert_eq!((p.guid(), p.external_id.as_deref()), (GUID, Some("contoso-offer")));
        assert_eq!(
            (p.product_type.as_deref(), p.alias.as_deref()),
            (Some("azureVirtualMachine"), Some("Contoso"))
        );
        assert!(product(&json!({"alias": "x"})).is_none());
    }

    #[test]
    fn the_first_preview_submission_listed_is_the_one_to_go_live() {
        let items = [
            json!({"id": format!("submission/{GUID}/0"), "target": {"targetType": "draft"}}),
            json!({"id": format!("submission/{GUID}/2"), "target": {"targetType": "preview"}, "status": "completed", "result": "succeeded"}),
            json!({"id": format!("submission/{GUID}/1"), "target": {"targetType": "live"}, "status": "completed", "lifecycleState": "generallyAvailable", "created": "2022-01-02T03:04:05Z"}),
            json!({"id": format!("submission/{GUID}/3"), "target": {"targetType": "preview"}, "status": "running"}),
        ];
        let subs: Vec<Submission> = items.iter().filter_map(submission).collect();
        assert_eq!(preview_submission(&subs).unwrap().number, 2);
        assert!(subs[3].in_progress() && !subs[1].in_progress());
        assert_eq!(subs[2].lifecycle_state.as_deref(), Some("generallyAvailable"));
        assert!(matches!(subs[2].created, Some(Moment::At(_))));
        assert_eq!(preview_submission(&subs[..1]), None);
    }
}
