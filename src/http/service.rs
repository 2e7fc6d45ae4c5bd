//! What tells the two services apart for the engine: where they live, what a token is issued
//! for, how a request names the API version, and where a token is found when none is given.
//! Everything else about a service (its routes, answers and validation) lives in its own module.

/// One service the engine can talk to.
#[derive(Debug, PartialEq, Eq)]
pub struct Service {
    /// How messages name the service.
    pub name: &'static str,
    /// The service root unless told otherwise (`https://`, may carry a path).
    pub default_base_url: &'static str,
    /// The scope a credential is asked for (the resource, `/.default`).
    pub scope: &'static str,
    /// The query parameter every request carries the API version in.
    pub version_parameter: &'static str,
    /// The version sent unless told otherwise.
    pub default_version: &'static str,
    /// The environment variable read when no token is given.
    pub token_variable: &'static str,
    /// The environment variable read when no base URL is given.
    pub base_url_variable: &'static str,
}

/// The Cloud Partner Portal API (`cpp`).
pub const CPP: Service = Service {
    name: "Cloud Partner Portal API",
    default_base_url: "https://cloudpartner.azure.com",
    scope: "https://cloudpartner.azure.com/.default",
    version_parameter: "api-version",
    default_version: "2017-10-31",
    token_variable: "CLOUDPARTNER_TOKEN",
    base_url_variable: "CLOUDPARTNER_BASE_URL",
};

/// Partner Center's Product Ingestion API (`ingestion`): a Microsoft Graph resource, so its
/// tokens are Graph tokens (a Cloud Partner Portal token is refused there, and the reverse).
pub const INGESTION: Service = Service {
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
    use super::*;

    #[test]
    fn each_service_has_its_own_scope_variable_and_version_parameter() {
        assert_eq!(CPP.scope, format!("{}/.default", CPP.default_base_url));
        assert!(INGESTION.default_base_url.starts_with("https://graph.microsoft.com/"));
        assert_ne!(CPP.scope, INGESTION.scope);
        assert_ne!(CPP.token_variable, INGESTION.token_variable);
        assert_ne!(CPP.version_parameter, INGESTION.version_parameter);
    }
}
