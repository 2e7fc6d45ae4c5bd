//! The ingestion API's ids, validated before anything is sent: a job's id, a product's durable
//! id (`product/<id>`, or a bare GUID), a product's external id (the offer id the publisher
//! chose, which needs a lookup), and a submission's id (`submission/<product-id>/<n>`).
//!
//! The service owns its id formats (the pages' own sample durable id,
//! `product/12345678-abcd-efgh-1234-12345678901`, is no hex GUID): each kind of id here takes any
//! text that `validate::id` finds safe as one path segment, and the service answers the rest.

use crate::error::{Error, Result};
use crate::validate;

/// True for a GUID in its 8-4-4-4-12 hex form (any case).
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A job's id, as `configure` answered it (`jobId`): a GUID in every source, but the pages
/// promise no format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobId(String);

impl JobId {
    pub fn new(raw: &str) -> Result<Self> {
        let id = raw.trim();
        validate::id("job", id)?;
        Ok(Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A product, as a caller names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    /// The durable id without its `product/` prefix (`product/<id>`, or a bare GUID).
    Durable(String),
    /// The external id (offer id): looked up with `GET product?externalId=`.
    External(String),
}

impl ProductRef {
    /// `product/<id>` is a durable id whatever the id's format; a bare GUID is one too (GUIDs in
    /// lower case, as the service writes them). Other bare text is an external id; text that is
    /// neither (unsafe in a path) is refused as ambiguous.
    pub fn parse(raw: &str) -> Result<Self> {
        let text = raw.trim();
        if let Some(id) = text.strip_prefix("product/") {
            validate::id("product", id)?;
            return Ok(Self::Durable(if is_guid(id) { id.to_ascii_lowercase() } else { id.to_owned() }));
        }
        if is_guid(text) {
            return Ok(Self::Durable(text.to_ascii_lowercase()));
        }
        external_id(text).map_err(|_| {
            Error::invalid(
                "product",
                format!("{raw:?} is neither a product id (product/<id>, or a GUID) nor an offer id"),
            )
        })?;
        Ok(Self::External(text.to_owned()))
    }
}

/// An external id (the offer id): the same alphabet as a CPP offer id.
pub fn external_id(raw: &str) -> Result<&str> {
    validate::id("external_id", raw)?;
    Ok(raw)
}

/// A submission's durable id, `submission/<product-id>/<number>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionId {
    pub product: String,
    pub number: u64,
}

impl SubmissionId {
    pub fn parse(raw: &str) -> Option<Self> {
        let rest = raw.trim().strip_prefix("submission/")?;
        let (product, number) = rest.split_once('/')?;
        if validate::id("submission", product).is_err() || !number.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let product = if is_guid(product) { product.to_ascii_lowercase() } else { product.to_owned() };
        Some(Self { product, number: number.parse().ok()? })
    }

    pub fn durable(&self) -> String {
        format!("submission/{}/{}", self.product, self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "d4261631-c583-4949-a612-5150882632e9";

    #[test]
    fn job_ids_are_any_text_safe_in_a_path_segment() {
        assert_eq!(JobId::new(&format!(" {GUID} ")).unwrap().as_str(), GUID);
        assert_eq!(JobId::new("job:é+1").unwrap().as_str(), "job:é+1");
        for bad in ["", "a/b", "..", "a b", "x?y", "a#b", "a%2F", "a\u{0}", &"a".repeat(257)] {
            assert!(matches!(JobId::new(bad), Err(Error::InvalidArgument { field: "job", .. })), "{bad}");
        }
    }

    #[test]
    fn products_by_durable_id_bare_guid_or_external_id() {
        let durable = ProductRef::Durable(GUID.into());
        assert_eq!(ProductRef::parse(&format!("product/{GUID}")).unwrap(), durable);
        assert_eq!(ProductRef::parse(&GUID.to_uppercase()).unwrap(), durable);
        assert_eq!(ProductRef::parse("contoso-offer").unwrap(), ProductRef::External("contoso-offer".into()));
        // The pages' own sample durable id, which is no hex GUID: the prefix says what it is.
        let sample = "12345678-abcd-efgh-1234-12345678901";
        assert_eq!(
            ProductRef::parse(&format!("product/{sample}")).unwrap(),
            ProductRef::Durable(sample.into())
        );
        assert_eq!(ProductRef::parse("product/nope").unwrap(), ProductRef::Durable("nope".into()));
        for bad in ["product/", "product/a/b", "product/..", "product/a b", "product/a?b", "a/b", "", "x y"] {
            assert!(ProductRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn submission_ids_name_a_product_and_a_number() {
        let id = SubmissionId::parse(&format!("submission/{GUID}/2")).unwrap();
        assert_eq!((id.product.as_str(), id.number), (GUID, 2));
        assert_eq!(id.durable(), format!("submission/{GUID}/2"));
        assert_eq!(SubmissionId::parse("submission/x/1").unwrap().durable(), "submission/x/1");
        for bad in [
            "submission/a b/1",
            "submission/../1",
            &format!("submission/{GUID}/"),
            &format!("submission/{GUID}/a"),
            "plan/x/y",
        ] {
            assert!(SubmissionId::parse(bad).is_none(), "{bad}");
        }
    }
}
