//! The ingestion API's ids, validated before anything is sent: a job's id, a product's durable
//! id (`product/<guid>`, or the bare guid), a product's external id (the offer id the publisher
//! chose, which needs a lookup), and a submission's id (`submission/<product-guid>/<n>`).

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

/// A job's id, as `configure` answered it (`jobId`): a GUID in every source, but any short run
/// of unreserved characters is taken, since the pages promise no format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobId(String);

impl JobId {
    pub fn new(raw: &str) -> Result<Self> {
        let id = raw.trim();
        if id.is_empty()
            || id.len() > 128
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || id.chars().all(|c| c == '.')
        {
            return Err(Error::invalid("job", format!("{raw:?} is not a job id (configure answers a GUID)")));
        }
        Ok(Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A product, as a caller names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    /// The durable id's GUID (`product/<guid>` or the bare GUID).
    Durable(String),
    /// The external id (offer id): looked up with `GET product?externalId=`.
    External(String),
}

impl ProductRef {
    pub fn parse(raw: &str) -> Result<Self> {
        let text = raw.trim();
        if let Some(guid) = text.strip_prefix("product/") {
            if is_guid(guid) {
                return Ok(Self::Durable(guid.to_ascii_lowercase()));
            }
            return Err(Error::invalid(
                "product",
                format!("{raw:?} is not a durable product id (product/<guid>)"),
            ));
        }
        if is_guid(text) {
            return Ok(Self::Durable(text.to_ascii_lowercase()));
        }
        external_id(text).map_err(|_| {
            Error::invalid(
                "product",
                format!("{raw:?} is neither a product id (product/<guid>, or the guid) nor an offer id"),
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

/// A submission's durable id, `submission/<product-guid>/<number>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionId {
    pub product: String,
    pub number: u64,
}

impl SubmissionId {
    pub fn parse(raw: &str) -> Option<Self> {
        let rest = raw.trim().strip_prefix("submission/")?;
        let (product, number) = rest.split_once('/')?;
        if !is_guid(product) || number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some(Self { product: product.to_ascii_lowercase(), number: number.parse().ok()? })
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
    fn job_ids_are_short_unreserved_text() {
        assert_eq!(JobId::new(&format!(" {GUID} ")).unwrap().as_str(), GUID);
        for bad in ["", "a/b", "..", "a b", "x?y", "é", &"a".repeat(129)] {
            assert!(matches!(JobId::new(bad), Err(Error::InvalidArgument { field: "job", .. })), "{bad}");
        }
    }

    #[test]
    fn products_by_durable_id_bare_guid_or_external_id() {
        let durable = ProductRef::Durable(GUID.into());
        assert_eq!(ProductRef::parse(&format!("product/{GUID}")).unwrap(), durable);
        assert_eq!(ProductRef::parse(&GUID.to_uppercase()).unwrap(), durable);
        assert_eq!(ProductRef::parse("contoso-offer").unwrap(), ProductRef::External("contoso-offer".into()));
        for bad in ["product/nope", "a/b", "", "x y"] {
            assert!(ProductRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn submission_ids_name_a_product_and_a_number() {
        let id = SubmissionId::parse(&format!("submission/{GUID}/2")).unwrap();
        assert_eq!((id.product.as_str(), id.number), (GUID, 2));
        assert_eq!(id.durable(), format!("submission/{GUID}/2"));
        for bad in
            ["submission/x/1", &format!("submission/{GUID}/"), &format!("submission/{GUID}/a"), "plan/x/y"]
        {
            assert!(SubmissionId::parse(bad).is_none(), "{bad}");
        }
    }
}
