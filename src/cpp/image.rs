//! The image versions of a VM offer's plans, edited in the offer document `GET .../offers/{offer}`
//! returns: each plan (`definition.plans[]`, or one of its `diskGenerations[]`, matched by
//! `planId`) keeps its versions under `microsoft-azure-corevm.vmImagesPublicAzure`, an object
//! keyed by version (`2024.01.15`), each `{"osVhdUrl", "lunVhdDetails", "label", "mediaName",
//! "publishedDate", "description", "showInGui"}` (azure-img-utils 1.x, devigned/pub).
//!
//! Every edit changes only the one version it names, in place: every other member of the
//! document keeps its value and its place, so the offer goes back as it was read.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::{sas, validate};

/// Where a plan keeps its image versions.
pub const IMAGES_KEY: &str = "microsoft-azure-corevm.vmImagesPublicAzure";

/// A VHD image: the OS disk's SAS URI and the data disks' `(LUN, SAS URI)`, validated.
#[derive(Clone, PartialEq, Eq)]
pub struct VhdImage {
    pub os_vhd_url: String,
    pub data_disks: Vec<(u32, String)>,
}

impl VhdImage {
    pub fn new(os_vhd_url: &str, data_disks: Vec<(u32, String)>) -> Result<Self> {
        validate::sas_uri(os_vhd_url)?;
        validate::data_disks(&data_disks)?;
        Ok(Self { os_vhd_url: os_vhd_url.trim().to_owned(), data_disks })
    }

    /// `lunVhdDetails`: one `{"lun", "uri"}` per data disk.
    fn lun_details(&self) -> Value {
        Value::Array(self.data_disks.iter().map(|(lun, uri)| json!({"lun": lun, "uri": uri})).collect())
    }

    /// Whether `entry` (a version's object) holds this image: the same VHDs, their SAS URIs
    /// compared without their signatures (`sas::same_image_uri`).
    fn is_in(&self, entry: &Map<String, Value>) -> bool {
        let os_same = entry
            .get("osVhdUrl")
            .and_then(Value::as_str)
            .is_some_and(|u| sas::same_image_uri(u, &self.os_vhd_url));
        let disks: &[Value] = entry.get("lunVhdDetails").and_then(Value::as_array).map_or(&[], Vec::as_slice);
        os_same
            && disks.len() == self.data_disks.len()
            && self.data_disks.iter().all(|(lun, uri)| {
                disks.iter().any(|disk| {
                    lun_of(disk) == Some(u64::from(*lun))
                        && disk
                            .get("uri")
                            .and_then(Value::as_str)
                            .is_some_and(|u| sas::same_image_uri(u, uri))
                })
            })
    }
}

/// SAS signatures are secrets: only their redacted form is ever shown.
impl std::fmt::Debug for VhdImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let disks: Vec<(u32, String)> =
            self.data_disks.iter().map(|(lun, d)| (*lun, sas::redact(d))).collect();
        f.debug_struct("VhdImage")
            .field("os_vhd_url", &sas::redact(&self.os_vhd_url))
            .field("data_disks", &disks)
            .finish()
    }
}

/// A disk's `lun`, written as a number or as digits.
fn lun_of(disk: &Value) -> Option<u64> {
    match disk.get("lun")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A version to add to a plan, validated: nothing is sent when this fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    pub plan: String,
    pub version: String,
    pub image: VhdImage,
    /// `label` and `description`; None keeps what an existing version has (a new one gets the
    /// version as its label, and the label as its description).
    pub label: Option<String>,
    pub description: Option<String>,
}

impl NewVersion {
    pub fn new(
        plan: &str,
        version: &str,
        image: VhdImage,
        label: Option<&str>,
        description: Option<&str>,
    ) -> Result<Self> {
        validate::id("plan", plan)?;
        validate::image_version(version)?;
        for (field, text) in [("label", label), ("description", description)] {
            if let Some(text) = text
                && (text.trim().is_empty() || text.chars().any(|c| c.is_control() && c != '\n'))
            {
                return Err(Error::invalid(field, format!("{text:?} is empty or holds control characters")));
            }
        }
        Ok(Self {
            plan: plan.to_owned(),
            version: version.to_owned(),
            image,
            label: label.map(str::to_owned),
            description: description.map(str::to_owned),
        })
    }
}

/// What an edit did to the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The version was not in the plan: it was added.
    Added,
    /// The version was there with another image, or hidden: it now holds this one, shown.
    Updated,
    /// The document already said so; it is unchanged and nothing needs sending.
    Unchanged,
}

/// Add `new` to its plan in `document` (an offer as `GET` returns it), or update the version
/// of that number in place. `published_date` (`MM/DD/YYYY`, as the portal writes it) dates a
/// new version.
pub fn add(document: &mut Value, new: &NewVersion, published_date: &str) -> Result<Edit> {
    let plan = plan_mut(document, &new.plan)?;
    let images = match plan.get(IMAGES_KEY) {
        Some(Value::Object(_)) => plan.get_mut(IMAGES_KEY).and_then(Value::as_object_mut),
        Some(Value::Null) | None => {
            plan.insert(IMAGES_KEY.to_owned(), Value::Object(Map::new()));
            plan.get_mut(IMAGES_KEY).and_then(Value::as_object_mut)
        }
        Some(_) => None,
    }
    .ok_or_else(|| not_an_object(&new.plan))?;
    match images.get_mut(&new.version).and_then(Value::as_object_mut) {
        Some(entry) if new.image.is_in(entry) && is_shown(entry) => Ok(Edit::Unchanged),
        Some(entry) => {
            entry.insert("osVhdUrl".to_owned(), Value::String(new.image.os_vhd_url.clone()));
            entry.insert("lunVhdDetails".to_owned(), new.image.lun_details());
            for (key, given) in [("label", &new.label), ("description", &new.description)] {
                if let Some(text) = given {
                    entry.insert(key.to_owned(), Value::String(text.clone()));
                }
            }
            entry.insert("showInGui".to_owned(), Value::Bool(true));
            Ok(Edit::Updated)
        }
        None => {
            let label = new.label.clone().unwrap_or_else(|| new.version.clone());
            let entry = json!({
                "osVhdUrl": new.image.os_vhd_url,
                "lunVhdDetails": new.image.lun_details(),
                "label": label,
                "mediaName": media_name(&new.image.os_vhd_url, &new.version),
                "publishedDate": published_date,
                "description": new.description.clone().unwrap_or(label),
                "showInGui": true,
            });
            images.insert(new.version.clone(), entry);
            Ok(Edit::Added)
        }
    }
}

/// Hide `version` of `plan` (`showInGui: false`): customers no longer see it, and it stays in
/// the document (the service keeps what was published). Refused, with nothing changed, when it
/// is the last version the plan shows: deprecate the plan or the offer instead, as
/// azure-img-utils also refuses to remove a plan's last version.
pub fn deprecate(document: &mut Value, plan_id: &str, version: &str) -> Result<Edit> {
    validate::id("plan", plan_id)?;
    validate::image_version(version)?;
    let plan = plan_mut(document, plan_id)?;
    let images = plan.get_mut(IMAGES_KEY).and_then(Value::as_object_mut);
    let Some(images) = images.filter(|images| images.contains_key(version)) else {
        let known = plan
            .get(IMAGES_KEY)
            .and_then(Value::as_object)
            .map(|i| i.keys().cloned().collect())
            .unwrap_or_default();
        return Err(not_found(format!("plan {plan_id:?} has no version {version:?}"), "versions", known));
    };
    let shown_others = images
        .iter()
        .filter(|(key, entry)| key.as_str() != version && entry.as_object().is_some_and(is_shown))
        .count();
    let Some(entry) = images.get_mut(version).and_then(Value::as_object_mut) else {
        return Err(Error::invalid(
            "version",
            format!("version {version:?} of plan {plan_id:?} is not a JSON object"),
        ));
    };
    if !is_shown(entry) {
        return Ok(Edit::Unchanged);
    }
    if shown_others == 0 {
        return Err(Error::invalid(
            "version",
            format!(
                "{version:?} is the last version plan {plan_id:?} shows: hiding it would leave the plan with \
                 none. Deprecate the plan or the offer instead"
            ),
        ));
    }
    entry.insert("showInGui".to_owned(), Value::Bool(false));
    Ok(Edit::Updated)
}

/// Whether `document` (an offer read from any slot) has `version` in `plan`, with `image`, shown.
pub fn holds(document: &Value, plan_id: &str, version: &str, image: &VhdImage) -> bool {
    plan(document, plan_id)
        .and_then(|p| p.get(IMAGES_KEY))
        .and_then(|images| images.get(version))
        .and_then(Value::as_object)
        .is_some_and(|entry| image.is_in(entry) && is_shown(entry))
}

/// `showInGui` is not `false` (a version that does not say is shown).
fn is_shown(entry: &Map<String, Value>) -> bool {
    entry.get("showInGui").and_then(Value::as_bool) != Some(false)
}

/// The VHD's blob name without `.vhd`: what azure-img-utils puts in `mediaName` (the image's
/// name); the version when the URI has no file name.
fn media_name(os_vhd_url: &str, version: &str) -> String {
    let path = url::Url::parse(os_vhd_url).ok().map(|u| u.path().to_owned()).unwrap_or_default();
    let file = path.rsplit('/').next().unwrap_or_default();
    let file = percent_encoding::percent_decode_str(file).decode_utf8_lossy();
    let stem = file.strip_suffix(".vhd").or_else(|| file.strip_suffix(".VHD")).unwrap_or(&file);
    if stem.is_empty() { version.to_owned() } else { stem.to_owned() }
}

/// The plans of an offer document: `definition.plans[]` and, inside each, `diskGenerations[]`.
fn plans(document: &Value) -> impl Iterator<Item = &Map<String, Value>> {
    let top = document.pointer("/definition/plans").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    top.iter().filter_map(Value::as_object).flat_map(|plan| {
        let nested = plan.get("diskGenerations").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        std::iter::once(plan).chain(nested.iter().filter_map(Value::as_object))
    })
}

fn plan_id(plan: &Map<String, Value>) -> Option<&str> {
    plan.get("planId").and_then(Value::as_str)
}

fn plan<'a>(document: &'a Value, id: &str) -> Option<&'a Map<String, Value>> {
    plans(document).find(|p| plan_id(p) == Some(id))
}

/// The plan `id` names, to edit; `NotFoundError` listing the plans there are.
fn plan_mut<'a>(document: &'a mut Value, id: &str) -> Result<&'a mut Map<String, Value>> {
    let Some((index, nested)) = position(document, id) else {
        let known = plans(document).filter_map(plan_id).map(str::to_owned).collect();
        return Err(not_found(format!("the offer has no plan {id:?}"), "plans", known));
    };
    let top = document
        .pointer_mut("/definition/plans")
        .and_then(Value::as_array_mut)
        .and_then(|p| p.get_mut(index));
    let found = match nested {
        None => top,
        Some(n) => top.and_then(|p| p.get_mut("diskGenerations")).and_then(|g| g.get_mut(n)),
    };
    found.and_then(Value::as_object_mut).ok_or_else(|| not_an_object(id))
}

/// Where plan `id` is: its index in `definition.plans`, and in that plan's `diskGenerations`.
fn position(document: &Value, id: &str) -> Option<(usize, Option<usize>)> {
    let top = document.pointer("/definition/plans").and_then(Value::as_array)?;
    top.iter().enumerate().find_map(|(index, plan)| {
        let plan = plan.as_object()?;
        if plan_id(plan) == Some(id) {
            return Some((index, None));
        }
        let nested = plan.get("diskGenerations").and_then(Value::as_array)?;
        let at = nested.iter().position(|g| g.as_object().and_then(plan_id) == Some(id))?;
        Some((index, Some(at)))
    })
}

fn not_an_object(plan: &str) -> Error {
    Error::invalid(
        "plan",
        format!(
            "plan {plan:?} holds {IMAGES_KEY} that is not a JSON object: the offer cannot be edited safely"
        ),
    )
}

/// A `NotFoundError` for something the offer read does not hold, naming what it holds.
fn not_found(head: String, what: &str, known: Vec<String>) -> Error {
    let listed = if known.is_empty() {
        format!("it has no {what}")
    } else {
        format!("its {what}: {}", known.join(", "))
    };
    Error::not_found(format!("{head}; {listed}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAS: &str =
        "https://contoso.blob.core.windows.net/vhds/contoso-2024.01.15.vhd?sv=2021-08-06&sr=b&sp=r&sig=FIRST";
    const RESIGNED: &str =
        "https://contoso.blob.core.windows.net/vhds/contoso-2024.01.15.vhd?sp=rl&se=2030-01-01&sig=SECOND";
    const OTHER: &str = "https://contoso.blob.core.windows.net/vhds/contoso-2024.02.01.vhd?sig=OTHER";

    /// An offer as the service returns it: keys it owns, a migrated offer's legacy ids, two
    /// plans (one with a nested generation), a version already shown.
    fn offer() -> Value {
        crate::json::parse(
            br#"{
              "offerTypeId": "microsoft-azure-virtualmachines", "publisherId": "contoso", "status": "published",
              "id": "o", "version": 18446744073709551617,
              "definition": {
                "displayText": "Contoso",
                "offer": {"microsoft-azure-corevm.legacyOfferId": "old", "microsoft-azure-corevm.leadDestination": "None"},
                "plans": [
                  {"planId": "gen1", "microsoft-azure-corevm.skuTitle": "Gen 1",
                   "microsoft-azure-corevm.vmImagesPublicAzure": {
                     "2023.12.01": {"osVhdUrl": "https://contoso.blob.core.windows.net/vhds/old.vhd?sig=OLD",
                                    "lunVhdDetails": [], "label": "old", "mediaName": "old",
                                    "publishedDate": "12/01/2023", "description": "old", "showInGui": true}},
                   "diskGenerations": [{"planId": "gen2"}]},
                  {"planId": "arm64"}
                ]
              },
              "changedTime": "2024-01-01T00:00:00.0000000Z"
            }"#,
        )
        .unwrap()
    }

    fn version(plan: &str, number: &str, sas: &str) -> NewVersion {
        NewVersion::new(plan, number, VhdImage::new(sas, vec![]).unwrap(), None, None).unwrap()
    }

    fn without(document: &Value, plan_pointer: &str, version: &str) -> Value {
        let mut copy = document.clone();
        if let Some(images) = copy.pointer_mut(plan_pointer).and_then(Value::as_object_mut) {
            images.shift_remove(version);
        }
        copy
    }

    #[test]
    fn a_new_version_is_added_with_the_portals_fields_and_nothing_else_changes() {
        let read = offer();
        let mut document = read.clone();
        let edit = add(&mut document, &version("gen1", "2024.01.15", SAS), "01/15/2024").unwrap();
        assert_eq!(edit, Edit::Added);
        let images = "/definition/plans/0/microsoft-azure-corevm.vmImagesPublicAzure";
        assert_eq!(
            document.pointer(&format!("{images}/2024.01.15")).unwrap(),
            &json!({
                "osVhdUrl": SAS, "lunVhdDetails": [], "label": "2024.01.15", "mediaName": "contoso-2024.01.15",
                "publishedDate": "01/15/2024", "description": "2024.01.15", "showInGui": true
            })
        );
        assert_eq!(without(&document, images, "2024.01.15"), read, "everything else as read");
        // Written back, members keep their order and big integers their digits.
        let text = serde_json::to_string(&document).unwrap();
        assert!(
            text.starts_with(r#"{"offerTypeId":"microsoft-azure-virtualmachines","publisherId""#),
            "{text}"
        );
        assert!(text.contains(r#""version":18446744073709551617"#));
        assert!(text.find("2023.12.01") < text.find("2024.01.15"), "the new version goes last");
    }

    #[test]
    fn a_plan_without_versions_and_a_nested_generation_get_their_first() {
        for (plan, pointer) in [
            ("arm64", "/definition/plans/1/microsoft-azure-corevm.vmImagesPublicAzure/1.0.0"),
            (
                "gen2",
                "/definition/plans/0/diskGenerations/0/microsoft-azure-corevm.vmImagesPublicAzure/1.0.0",
            ),
        ] {
            let mut document = offer();
            let image = VhdImage::new(SAS, vec![(0, OTHER.to_owned())]).unwrap();
            let new = NewVersion::new(plan, "1.0.0", image, Some("Contoso 1.0"), Some("The first")).unwrap();
            assert_eq!(add(&mut document, &new, "01/15/2024").unwrap(), Edit::Added);
            let entry = document.pointer(pointer).unwrap();
            assert_eq!(entry["label"], "Contoso 1.0");
            assert_eq!(entry["description"], "The first");
            assert_eq!(entry["lunVhdDetails"], json!([{"lun": 0, "uri": OTHER}]));
        }
    }

    #[test]
    fn the_same_vhd_with_another_signature_is_no_change() {
        let mut document = offer();
        add(&mut document, &version("gen1", "2024.01.15", SAS), "01/15/2024").unwrap();
        let once = document.clone();
        let again = add(&mut document, &version("gen1", "2024.01.15", RESIGNED), "02/01/2024").unwrap();
        assert_eq!(again, Edit::Unchanged);
        assert_eq!(document, once);
        assert!(holds(&document, "gen1", "2024.01.15", &VhdImage::new(RESIGNED, vec![]).unwrap()));
        // A data disk more is another image.
        let with_disk = VhdImage::new(RESIGNED, vec![(0, OTHER.to_owned())]).unwrap();
        assert!(!holds(&document, "gen1", "2024.01.15", &with_disk));
    }

    #[test]
    fn a_version_of_the_same_number_is_updated_in_place_keeping_what_was_not_given() {
        let mut document = offer();
        let edit = add(&mut document, &version("gen1", "2023.12.01", OTHER), "01/15/2024").unwrap();
        assert_eq!(edit, Edit::Updated);
        let entry = document
            .pointer("/definition/plans/0/microsoft-azure-corevm.vmImagesPublicAzure/2023.12.01")
            .unwrap();
        assert_eq!(entry["osVhdUrl"], OTHER);
        assert_eq!(
            (entry["label"].as_str(), entry["publishedDate"].as_str()),
            (Some("old"), Some("12/01/2023"))
        );
        // A hidden version of the same image is shown again: that is a change.
        let mut hidden = offer();
        *hidden
            .pointer_mut(
                "/definition/plans/0/microsoft-azure-corevm.vmImagesPublicAzure/2023.12.01/showInGui",
            )
            .unwrap() = json!(false);
        let same = "https://contoso.blob.core.windows.net/vhds/old.vhd?sig=NEW";
        assert_eq!(add(&mut hidden, &version("gen1", "2023.12.01", same), "x").unwrap(), Edit::Updated);
    }

    #[test]
    fn an_unknown_plan_is_not_found_and_the_error_lists_the_plans() {
        let mut document = offer();
        let err = add(&mut document, &version("gen3", "1.0.0", SAS), "x").unwrap_err();
        let Error::Api(failure) = &err else { panic!("{err:?}") };
        assert_eq!((failure.status, failure.code.as_deref()), (404, Some("notFound")));
        assert_eq!(
            failure.message.as_deref(),
            Some(r#"the offer has no plan "gen3"; its plans: gen1, gen2, arm64"#)
        );
        assert_eq!(document, offer());
        let mut empty = json!({"definition": {}});
        let err = deprecate(&mut empty, "gen1", "1.0.0").unwrap_err().to_string();
        assert!(err.contains("it has no plans"), "{err}");
    }

    #[test]
    fn bad_input_is_refused_naming_the_value_and_never_the_signature() {
        for bad in ["1.0", "v1.0.0", "2024.1.1.1", ""] {
            let err =
                NewVersion::new("gen1", bad, VhdImage::new(SAS, vec![]).unwrap(), None, None).unwrap_err();
            assert!(matches!(&err, Error::InvalidArgument { field: "version", .. }), "{err:?}");
        }
        for bad in [
            "http://contoso.blob.core.windows.net/v/i.vhd?sig=FIRST",
            "https://contoso.blob.core.windows.net/v/i.vhd?sv=1",
        ] {
            let err = VhdImage::new(bad, vec![]).unwrap_err().to_string();
            assert!(!err.contains("FIRST"), "{err}");
        }
        let too_many = (0..17).map(|lun| (lun, OTHER.to_owned())).collect();
        assert!(matches!(
            VhdImage::new(SAS, too_many),
            Err(Error::InvalidArgument { field: "data_disks", .. })
        ));
        let unsigned = vec![(0, "https://h/d.vhd".to_owned())];
        assert!(VhdImage::new(SAS, unsigned).is_err(), "a data disk needs its signature too");
        let image = VhdImage::new(SAS, vec![(0, OTHER.to_owned())]).unwrap();
        let shown = format!("{image:?}");
        assert!(!shown.contains("FIRST") && !shown.contains("OTHER") && shown.contains("sig=***"), "{shown}");
        assert!(NewVersion::new("a/b", "1.0.0", image.clone(), None, None).is_err());
        assert!(NewVersion::new("gen1", "1.0.0", image, Some(" "), None).is_err());
    }

    #[test]
    fn deprecating_hides_a_version_and_a_hidden_one_is_no_change() {
        let mut document = offer();
        add(&mut document, &version("gen1", "2024.01.15", SAS), "x").unwrap();
        let before = document.clone();
        assert_eq!(deprecate(&mut document, "gen1", "2023.12.01").unwrap(), Edit::Updated);
        let images = "/definition/plans/0/microsoft-azure-corevm.vmImagesPublicAzure";
        assert_eq!(document.pointer(&format!("{images}/2023.12.01/showInGui")), Some(&json!(false)));
        let mut expected = before.clone();
        *expected.pointer_mut(&format!("{images}/2023.12.01/showInGui")).unwrap() = json!(false);
        assert_eq!(document, expected, "only showInGui changed");
        assert_eq!(deprecate(&mut document, "gen1", "2023.12.01").unwrap(), Edit::Unchanged);
    }

    #[test]
    fn the_last_shown_version_is_not_deprecated_and_the_error_says_what_to_do() {
        let mut document = offer();
        let err = deprecate(&mut document, "gen1", "2023.12.01").unwrap_err();
        assert!(matches!(&err, Error::InvalidArgument { field: "version", .. }));
        let text = err.to_string();
        assert!(
            text.contains("last version") && text.contains("Deprecate the plan or the offer instead"),
            "{text}"
        );
        assert_eq!(document, offer(), "nothing changed");
        let err = deprecate(&mut document, "gen1", "2099.01.01").unwrap_err().to_string();
        assert!(
            err.contains(r#"plan "gen1" has no version "2099.01.01"; its versions: 2023.12.01"#),
            "{err}"
        );
    }
}
