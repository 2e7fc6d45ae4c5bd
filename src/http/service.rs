//! What tells the services apart for the engine: where they live, what a token is issued for, how
//! a request names the API version, and where a token is found when none is given. Each service
//! describes itself in its own module (`cpp::SERVICE`, `ingestion::SERVICE`), with its routes,
//! answers and validation.

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
