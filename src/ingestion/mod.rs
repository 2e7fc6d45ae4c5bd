//! Partner Center's Product Ingestion API (`https://graph.microsoft.com/rp/product-ingestion`),
//! the Cloud Partner Portal API's successor: its ids (`ids`), requests (`request`), answers
//! (`job`, `product`, `page`, `techconfig`) and calls (`client`; `images` for a plan's image
//! versions, `release` for a whole release), on the shared engine.

pub mod client;
pub mod ids;
pub mod images;
pub mod job;
pub mod page;
pub mod product;
pub mod release;
pub mod request;
pub mod techconfig;

use crate::http::Service;

pub use client::{Client, DEFAULT_POLL_INTERVAL_SECONDS, settings};

/// The Product Ingestion API, as the engine needs to know it: a Microsoft Graph resource, so its
/// tokens are Graph tokens (a Cloud Partner Portal token is refused there, and the reverse).
pub const SERVICE: Service = Service {
    name: "Product Ingestion API",
    default_base_url: "https://graph.microsoft.com/rp/product-ingestion",
    scope: "https://graph.microsoft.com/.default",
    version_parameter: "$version",
    default_version: "2022-07-01",
    token_variable: "CLOUDPARTNER_INGESTION_TOKEN",
    base_url_variable: "CLOUDPARTNER_INGESTION_BASE_URL",
};

#[cfg(test)]
mod tests {
    use super::SERVICE;

    #[test]
    fn its_tokens_scope_variables_and_version_parameter_are_its_own() {
        let cpp = &crate::cpp::SERVICE;
        assert_eq!(cpp.scope, format!("{}/.default", cpp.default_base_url));
        assert!(SERVICE.default_base_url.starts_with("https://graph.microsoft.com/"));
        assert_ne!(cpp.scope, SERVICE.scope);
        assert_ne!(cpp.token_variable, SERVICE.token_variable);
        assert_ne!(cpp.version_parameter, SERVICE.version_parameter);
    }
}
