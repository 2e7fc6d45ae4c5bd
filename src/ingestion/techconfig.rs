//! A VM plan's technical configuration (`virtual-machine-plan-technical-configuration`, or
//! `core-virtual-machine-...` for core VM offers): read from a resource tree, and edited to add,
//! update or deprecate one image version.
//!
//! The edits keep the resource as read: every other version goes back as the very JSON value that
//! was read (deprecated and scheduled ones included: leaving one out reads as "undo the
//! deprecation", and the service refuses it), the `skus` too (their ids lock once live), and the
//! members keep their order. Only what the service refuses is dropped: a `null` `vmProperties`
//! flag. New JSON written here never holds a `null`.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::sas;

/// The resource kind (a `$schema`'s next-to-last path segment) of a VM technical configuration.
const TECH_CONFIG_KIND: &str = "virtual-machine-plan-technical-configuration";

/// The deprecation reasons the schema allows.
pub const DEPRECATION_REASONS: [&str; 3] = ["criticalSecurityIssue", "endOfSupport", "other"];

/// A plan of a product.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// `plan/<product-guid>/<plan-guid>`.
    pub id: String,
    /// The plan id the publisher chose (`identity.externalId`).
    pub external_id: Option<String>,
    pub alias: Option<String>,
    pub raw: Value,
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// `sasUri`: the OS disk's URI (with its signature: never shown, see `sas::redact`).
    Sas(String),
    /// `sharedImageGallery`: the gallery image version's resource id.
    Gallery { resource_id: String, tenant_id: Option<String> },
    /// A source this client does not know, kept as read.
    Other,
}

/// One image of a version: its type and source.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub image_type: String,
    pub source: Source,
}

/// One entry of `vmImageVersions`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageVersion {
    pub number: String,
    pub images: Vec<Image>,
    pub lifecycle_state: Option<String>,
    /// `deprecationSchedule`, as read.
    pub deprecation: Option<Value>,
    pub raw: Value,
}

/// A plan's technical configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct TechnicalConfiguration {
    pub id: String,
    pub product: Option<String>,
    pub plan: String,
    pub versions: Vec<ImageVersion>,
    /// `skus`, as read.
    pub skus: Value,
    /// The whole resource, `$schema` included.
    pub raw: Value,
}

/// The image a release adds: the source and the image types it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct NewImage {
    pub source: NewSource,
    pub image_types: Vec<String>,
    /// `(lunNumber, uri)` of data disks (SAS sources only).
    pub data_disks: Vec<(u32, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NewSource {
    Sas(String),
    Gallery { resource_id: String, tenant_id: Option<String> },
}

impl NewImage {
    /// The image a caller asked for, checked before anything is sent: exactly one of a SAS URI
    /// (`validate::sas_uri`) and a gallery image version id (`validate::gallery_image_id`), one
    /// to two known image types without repeats, at most 16 data disks (SAS sources only).
    pub fn new(
        sas_uri: Option<&str>,
        gallery_image: Option<&str>,
        image_types: &[String],
        data_disks: &[(u32, String)],
    ) -> Result<Self> {
        let source = match (sas_uri, gallery_image) {
            (Some(uri), None) => {
                crate::validate::sas_uri(uri)?;
                NewSource::Sas(uri.trim().to_owned())
            }
            (None, Some(id)) => {
                crate::validate::gallery_image_id(id)?;
                NewSource::Gallery { resource_id: id.to_owned(), tenant_id: None }
            }
            (Some(_), Some(_)) => {
                return Err(Error::invalid("sas_uri", "give a SAS URI or a gallery image, not both"));
            }
            (None, None) => return Err(Error::invalid("sas_uri", "give a SAS URI or a gallery image")),
        };
        if image_types.is_empty() || image_types.len() > 2 {
            return Err(Error::invalid(
                "image_types",
                format!("{} given; a version has one or two image types", image_types.len()),
            ));
        }
        for (at, image_type) in image_types.iter().enumerate() {
            crate::validate::image_type(image_type)?;
            if image_types.iter().take(at).any(|t| t == image_type) {
                return Err(Error::invalid("image_types", format!("{image_type:?} is given twice")));
            }
        }
        if !data_disks.is_empty() && !matches!(source, NewSource::Sas(_)) {
            return Err(Error::invalid("data_disks", "data disks go with a SAS URI, not a gallery image"));
        }
        crate::validate::data_disks(data_disks)?;
        Ok(Self { source, image_types: image_types.to_vec(), data_disks: data_disks.to_vec() })
    }
}

/// A plan as a caller names it (its external id or durable id): text without control
/// characters, at most 256 characters.
pub fn plan_name(text: &str) -> Result<String> {
    let plan = text.trim();
    if plan.is_empty() || plan.len() > 256 || plan.chars().any(char::is_control) {
        return Err(Error::invalid("plan", format!("{text:?} is not a plan id")));
    }
    Ok(plan.to_owned())
}

/// The kind a `$schema` URI names: its next-to-last path segment (`.../schema/plan/2022-03-01-preview2`).
pub fn schema_kind(resource: &Value) -> Option<&str> {
    let uri = resource.get("$schema")?.as_str()?;
    let mut segments = uri.trim_end_matches('/').rsplit('/');
    segments.next()?;
    segments.next()
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// The resources of a resource tree (`resources`), in the order the service sent them.
fn resources(tree: &Value) -> &[Value] {
    tree.get("resources").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The plans of a resource tree, in the order sent.
pub fn plans(tree: &Value) -> Vec<Plan> {
    resources(tree)
        .iter()
        .filter(|r| schema_kind(r) == Some("plan"))
        .filter_map(|r| {
            Some(Plan {
                id: text(r, "id")?.to_owned(),
                external_id: r.get("identity").and_then(|i| text(i, "externalId")).map(str::to_owned),
                alias: text(r, "alias").map(str::to_owned),
                raw: r.clone(),
            })
        })
        .collect()
}

/// The plan `wanted` names: its external id, its durable id (`plan/<product>/<plan>`), or the
/// durable id's last GUID. Otherwise a 404 `NotFound` that lists the plans there are.
pub fn find_plan(plans: &[Plan], wanted: &str, product: &str) -> Result<Plan> {
    let matches = |p: &&Plan| {
        p.external_id.as_deref() == Some(wanted)
            || p.id.eq_ignore_ascii_case(wanted)
            || p.id.rsplit('/').next().is_some_and(|guid| guid.eq_ignore_ascii_case(wanted))
    };
    if let Some(plan) = plans.iter().find(matches) {
        return Ok(plan.clone());
    }
    let listed: Vec<String> = plans
        .iter()
        .map(|p| match &p.external_id {
            Some(external) => format!("{external} ({})", p.id),
            None => p.id.clone(),
        })
        .collect();
    let there = if listed.is_empty() {
        "it has no plan".to_owned()
    } else {
        format!("its plans: {}", listed.join(", "))
    };
    Err(not_found(format!("{product} has no plan {wanted:?}; {there}")))
}

/// A 404 made here: what was looked for is not in what the service sent.
pub fn not_found(message: String) -> Error {
    Error::not_found(message)
}

/// The technical configuration of `plan` (its durable id) in a resource tree, if there is one.
pub fn find(tree: &Value, plan: &str) -> Option<TechnicalConfiguration> {
    resources(tree)
        .iter()
        .filter(|r| schema_kind(r).is_some_and(|k| k.ends_with(TECH_CONFIG_KIND)))
        .find(|r| text(r, "plan").is_some_and(|p| p.eq_ignore_ascii_case(plan)))
        .map(parse)
}

/// A technical configuration resource, read.
pub fn parse(resource: &Value) -> TechnicalConfiguration {
    TechnicalConfiguration {
        id: text(resource, "id").unwrap_or_default().to_owned(),
        product: text(resource, "product").map(str::to_owned),
        plan: text(resource, "plan").unwrap_or_default().to_owned(),
        versions: versions(resource).iter().map(image_version).collect(),
        skus: resource.get("skus").cloned().unwrap_or(Value::Array(Vec::new())),
        raw: resource.clone(),
    }
}

fn versions(resource: &Value) -> &[Value] {
    resource.get("vmImageVersions").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn image_version(raw: &Value) -> ImageVersion {
    let images = raw.get("vmImages").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    ImageVersion {
        number: text(raw, "versionNumber").unwrap_or_default().to_owned(),
        images: images.iter().map(image).collect(),
        lifecycle_state: text(raw, "lifecycleState").map(str::to_owned),
        deprecation: raw.get("deprecationSchedule").filter(|d| !d.is_null()).cloned(),
        raw: raw.clone(),
    }
}

fn image(raw: &Value) -> Image {
    let source = raw.get("source").unwrap_or(&Value::Null);
    let kind = text(source, "sourceType").unwrap_or_default();
    let source = if kind.eq_ignore_ascii_case("sasUri") {
        source.get("osDisk").and_then(|d| text(d, "uri")).map_or(Source::Other, |u| Source::Sas(u.to_owned()))
    } else if kind.eq_ignore_ascii_case("sharedImageGallery") {
        let shared = source.get("sharedImage").unwrap_or(&Value::Null);
        text(shared, "resourceId").map_or(Source::Other, |id| Source::Gallery {
            resource_id: id.to_owned(),
            tenant_id: text(shared, "tenantId").map(str::to_owned),
        })
    } else {
        Source::Other
    };
    Image { image_type: text(raw, "imageType").unwrap_or_default().to_owned(), source }
}

impl NewSource {
    fn same_as(&self, source: &Source) -> bool {
        match (self, source) {
            (NewSource::Sas(new), Source::Sas(old)) => sas::same_image_uri(new, old),
            (NewSource::Gallery { resource_id: new, .. }, Source::Gallery { resource_id: old, .. }) => {
                new.eq_ignore_ascii_case(old)
            }
            _ => false,
        }
    }

    fn to_json(&self, data_disks: &[(u32, String)]) -> Value {
        match self {
            NewSource::Sas(uri) => {
                let disks: Vec<Value> =
                    data_disks.iter().map(|(lun, uri)| json!({"lunNumber": lun, "uri": uri})).collect();
                json!({"sourceType": "sasUri", "osDisk": {"uri": uri}, "dataDisks": disks})
            }
            NewSource::Gallery { resource_id, tenant_id } => {
                let mut shared = Map::new();
                if let Some(tenant) = tenant_id {
                    shared.insert("tenantId".into(), Value::String(tenant.clone()));
                }
                shared.insert("resourceId".into(), Value::String(resource_id.clone()));
                json!({"sourceType": "sharedImageGallery", "sharedImage": shared})
            }
        }
    }
}

impl TechnicalConfiguration {
    /// The version numbered `number`, if there is one.
    pub fn version(&self, number: &str) -> Option<&ImageVersion> {
        self.versions.iter().find(|v| v.number == number)
    }

    /// Whether version `number` already holds `image`: each of its image types from the same
    /// source (a SAS compared without its signature).
    pub fn has_image(&self, number: &str, image: &NewImage) -> bool {
        self.version(number).is_some_and(|version| {
            image.image_types.iter().all(|wanted| {
                version
                    .images
                    .iter()
                    .any(|i| i.image_type.eq_ignore_ascii_case(wanted) && image.source.same_as(&i.source))
            })
        })
    }

    /// The resource with version `number` holding `image`: added at the end, or, when a version
    /// has that number, its images of those types replaced in place (its other members kept).
    /// `None` when it already holds that image.
    pub fn with_image(&self, number: &str, image: &NewImage) -> Result<Option<Value>> {
        if self.has_image(number, image) {
            return Ok(None);
        }
        let new_images: Vec<Value> = image
            .image_types
            .iter()
            .map(|t| json!({"imageType": t, "source": image.source.to_json(&image.data_disks)}))
            .collect();
        self.edited(|versions| {
            match versions.iter_mut().find(|v| text(v, "versionNumber") == Some(number)) {
                Some(Value::Object(version)) => {
                    let mut kept: Vec<Value> = match version.get("vmImages") {
                        Some(Value::Array(images)) => images
                            .iter()
                            .filter(|i| {
                                let t = text(i, "imageType").unwrap_or_default();
                                !image.image_types.iter().any(|w| w.eq_ignore_ascii_case(t))
                            })
                            .cloned()
                            .collect(),
                        _ => Vec::new(),
                    };
                    kept.extend(new_images.iter().cloned());
                    version.insert("vmImages".into(), Value::Array(kept));
                }
                _ => versions.push(json!({
                    "versionNumber": number,
                    "vmImages": new_images,
                    "lifecycleState": "generallyAvailable",
                })),
            }
            Ok(())
        })
        .map(Some)
    }

    /// The resource with version `number` deprecated on `date` (`YYYY-MM-DD`) for `reason`
    /// (`DEPRECATION_REASONS`), with an optional `alternative` (sent as given). A version not
    /// there is a 404 that lists the versions there are.
    pub fn with_deprecation(
        &self,
        number: &str,
        date: &str,
        reason: &str,
        alternative: Option<&Value>,
    ) -> Result<Value> {
        check_date(date)?;
        if !DEPRECATION_REASONS.contains(&reason) {
            return Err(Error::invalid(
                "reason",
                format!(
                    "{reason:?} is not a deprecation reason; expected one of {}",
                    DEPRECATION_REASONS.join(", ")
                ),
            ));
        }
        if self.version(number).is_none() {
            let there: Vec<&str> = self.versions.iter().map(|v| v.number.as_str()).collect();
            return Err(not_found(format!(
                "the plan {} has no image version {number:?}; its versions: {}",
                self.plan,
                if there.is_empty() { "none".to_owned() } else { there.join(", ") }
            )));
        }
        let mut schedule = Map::new();
        schedule.insert("date".into(), Value::String(date.to_owned()));
        schedule.insert("reason".into(), Value::String(reason.to_owned()));
        if let Some(alternative) = alternative.filter(|a| !a.is_null()) {
            schedule.insert("alternative".into(), alternative.clone());
        }
        self.edited(|versions| {
            if let Some(Value::Object(version)) =
                versions.iter_mut().find(|v| text(v, "versionNumber") == Some(number))
            {
                version.insert("lifecycleState".into(), Value::String("deprecated".into()));
                version.insert("deprecationSchedule".into(), Value::Object(schedule));
            }
            Ok(())
        })
    }

    /// The resource as read, with `edit` applied to its `vmImageVersions` and the `null` flags of
    /// `vmProperties` left out (the service's schema refuses them).
    fn edited(&self, edit: impl FnOnce(&mut Vec<Value>) -> Result<()>) -> Result<Value> {
        let Value::Object(mut resource) = self.raw.clone() else {
            return Err(Error::invalid("plan", "the technical configuration read is not a JSON object"));
        };
        let mut versions = match resource.get("vmImageVersions") {
            Some(Value::Array(list)) => list.clone(),
            _ => Vec::new(),
        };
        edit(&mut versions)?;
        resource.insert("vmImageVersions".into(), Value::Array(versions));
        if let Some(Value::Object(properties)) = resource.get_mut("vmProperties") {
            properties.retain(|_, v| !v.is_null());
        }
        Ok(Value::Object(resource))
    }
}

/// A deprecation date: `YYYY-MM-DD`.
fn check_date(date: &str) -> Result<()> {
    let ok = date.len() == 10
        && date.char_indices().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() })
        && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok();
    if !ok {
        return Err(Error::invalid("date", format!("{date:?} is not a date like 2026-12-31")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "https://schema.mp.microsoft.com/schema/virtual-machine-plan-technical-configuration/2022-03-01-preview5";
    const PLAN: &str = "plan/p-guid/plan-guid";

    fn config() -> Value {
        json!({
            "$schema": SCHEMA,
            "product": "product/p-guid",
            "plan": PLAN,
            "id": "virtual-machine-plan-technical-configuration/p-guid/plan-guid",
            "vmProperties": {"supportsExtensions": true, "supportsBackup": null},
            "skus": [{"imageType": "x64Gen2", "skuId": "gen2"}, {"skuId": "gen1", "imageType": "x64Gen1"}],
            "vmImageVersions": [
                {"versionNumber": "1.0.0", "lifecycleState": "deprecated",
                 "deprecationSchedule": {"date": "2024-01-01", "reason": "other", "alternative": {"versionNumber": "1.1.0"}},
                 "vmImages": [{"imageType": "x64Gen2", "source": {"sourceType": "sasUri", "osDisk": {"uri": "https://a/c/old.vhd?sig=OLD"}, "dataDisks": []}}]},
                {"vmImages": [{"imageType": "x64Gen2", "source": {"sharedImage": {"resourceId": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.1.0"}, "sourceType": "sharedImageGallery"}}],
                 "versionNumber": "1.1.0", "lifecycleState": "generallyAvailable", "unknownField": [1, {"z": 2, "a": 1}]}
            ]
        })
    }

    fn tree() -> Value {
        json!({"resources": [
            {"$schema": "https://schema.mp.microsoft.com/schema/plan/2022-03-01-preview2", "id": "plan/p-guid/other", "identity": {"externalId": "other-plan"}},
            config(),
            {"$schema": "https://schema.mp.microsoft.com/schema/plan/2022-03-01-preview2", "id": PLAN, "identity": {"externalId": "gen2"}, "alias": "Gen 2"},
        ]})
    }

    fn sas(uri: &str) -> NewImage {
        NewImage {
            source: NewSource::Sas(uri.to_owned()),
            image_types: vec!["x64Gen2".into()],
            data_disks: vec![],
        }
    }

    #[test]
    fn bad_images_are_refused_naming_the_value() {
        let types = vec!["x64Gen2".to_owned()];
        let sas_uri = "https://a.blob.core.windows.net/c/i.vhd?sig=SECRET";
        assert!(NewImage::new(Some(sas_uri), None, &types, &[]).is_ok());
        let gallery = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0";
        for (sas, gallery, types, field) in [
            (Some(sas_uri), Some(gallery), types.clone(), "sas_uri"),
            (None, None, types.clone(), "sas_uri"),
            (Some("http://a/c?sig=SECRET"), None, types.clone(), "sas_uri"),
            (None, Some("/subscriptions/s"), types.clone(), "gallery_image"),
            (Some(sas_uri), None, vec!["x64Gen3".to_owned()], "image_types"),
            (Some(sas_uri), None, vec![], "image_types"),
            (Some(sas_uri), None, vec!["x64Gen2".to_owned(), "x64Gen2".to_owned()], "image_types"),
        ] {
            let err = NewImage::new(sas, gallery, &types, &[]).unwrap_err();
            assert!(matches!(&err, Error::InvalidArgument { field: f, .. } if *f == field), "{err}");
            assert!(!err.to_string().contains("SECRET"), "{err}");
        }
        assert!(plan_name(" gen2 ").is_ok() && plan_name("").is_err() && plan_name("a\nb").is_err());
    }

    #[test]
    fn plans_are_found_by_external_or_durable_id_in_any_order() {
        let plans = plans(&tree());
        assert_eq!(plans.len(), 2);
        assert_eq!(find_plan(&plans, "gen2", "product/p").unwrap().id, PLAN);
        assert_eq!(find_plan(&plans, PLAN, "product/p").unwrap().alias.as_deref(), Some("Gen 2"));
        assert_eq!(find_plan(&plans, "plan-guid", "product/p").unwrap().id, PLAN);
        let err = find_plan(&plans, "gen3", "product/p").unwrap_err().to_string();
        assert!(err.starts_with("404 Not Found: product/p has no plan \"gen3\"; its plans: other-plan (plan/p-guid/other), gen2 (plan/p-guid/plan-guid)"), "{err}");
    }

    #[test]
    fn the_configuration_is_read_with_its_versions_and_sources() {
        let config = find(&tree(), PLAN).unwrap();
        assert_eq!(config.versions.len(), 2);
        assert_eq!(config.versions[0].lifecycle_state.as_deref(), Some("deprecated"));
        assert!(config.versions[0].deprecation.is_some());
        assert!(
            matches!(&config.versions[1].images[0].source, Source::Gallery { resource_id, .. } if resource_id.ends_with("/1.1.0"))
        );
        assert_eq!(config.skus, config.raw["skus"]);
        assert!(find(&tree(), "plan/p-guid/other").is_none());
    }

    #[test]
    fn a_new_version_is_added_and_everything_else_is_sent_back_as_read() {
        let config = parse(&config());
        let edited = config.with_image("2.0.0", &sas("https://a/c/new.vhd?sv=1&sig=NEW")).unwrap().unwrap();
        let versions = edited["vmImageVersions"].as_array().unwrap();
        assert_eq!(versions.len(), 3);
        // Byte-equal, member order included.
        for (sent, read) in versions.iter().zip(config.raw["vmImageVersions"].as_array().unwrap()) {
            assert_eq!(serde_json::to_string(sent).unwrap(), serde_json::to_string(read).unwrap());
        }
        assert_eq!(
            serde_json::to_string(&edited["skus"]).unwrap(),
            serde_json::to_string(&config.raw["skus"]).unwrap()
        );
        assert_eq!(
            versions[2],
            json!({"versionNumber": "2.0.0", "vmImages": [{"imageType": "x64Gen2", "source": {"sourceType": "sasUri", "osDisk": {"uri": "https://a/c/new.vhd?sv=1&sig=NEW"}, "dataDisks": []}}], "lifecycleState": "generallyAvailable"})
        );
        assert_eq!(edited["vmProperties"], json!({"supportsExtensions": true}));
        let keys: Vec<&String> = edited.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["$schema", "product", "plan", "id", "vmProperties", "skus", "vmImageVersions"]);
    }

    #[test]
    fn the_same_image_with_another_signature_is_no_change() {
        let config = parse(&config());
        assert_eq!(
            config.with_image("1.0.0", &sas("https://a/c/old.vhd?sig=REGENERATED&se=2030")).unwrap(),
            None
        );
        let gallery = NewImage {
            source: NewSource::Gallery {
                resource_id: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.1.0".into(),
                tenant_id: None,
            },
            image_types: vec!["x64Gen2".into()],
            data_disks: vec![],
        };
        assert_eq!(config.with_image("1.1.0", &gallery).unwrap(), None);
    }

    #[test]
    fn a_version_of_the_same_number_is_updated_in_place() {
        let config = parse(&config());
        let edited = config.with_image("1.1.0", &sas("https://a/c/fixed.vhd?sig=X")).unwrap().unwrap();
        let versions = edited["vmImageVersions"].as_array().unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0], config.raw["vmImageVersions"][0]);
        assert_eq!(versions[1]["vmImages"][0]["source"]["osDisk"]["uri"], "https://a/c/fixed.vhd?sig=X");
        assert_eq!(versions[1]["unknownField"], json!([1, {"z": 2, "a": 1}]));
        assert_eq!(versions[1]["vmImages"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_deprecation_sets_the_schedule_and_keeps_the_rest() {
        let config = parse(&config());
        let edited = config.with_deprecation("1.1.0", "2026-12-31", "endOfSupport", None).unwrap();
        assert_eq!(edited["vmImageVersions"][0], config.raw["vmImageVersions"][0]);
        assert_eq!(edited["vmImageVersions"][1]["lifecycleState"], "deprecated");
        assert_eq!(
            edited["vmImageVersions"][1]["deprecationSchedule"],
            json!({"date": "2026-12-31", "reason": "endOfSupport"})
        );
        assert!(config.with_deprecation("1.1.0", "2026-13-01", "other", None).is_err());
        assert!(config.with_deprecation("1.1.0", "2026-12-31", "null", None).is_err());
        let err = config.with_deprecation("9.9.9", "2026-12-31", "other", None).unwrap_err().to_string();
        assert!(err.contains("its versions: 1.0.0, 1.1.0"), "{err}");
    }
}
