//! The Cloud Partner Portal API: its requests (`request`, `offer`), its answers (`answer`,
//! `operation`), the editing of a VM offer's image versions (`image`) and its client (`client`),
//! on the shared engine.

pub mod answer;
pub mod client;
pub mod image;
pub mod offer;
pub mod operation;
pub mod release;
pub mod request;

use crate::http::Service;

pub use crate::http::Document;
pub use client::{Accepted, Client, DEFAULT_POLL_INTERVAL_SECONDS, ResultSink, settings};

/// The Cloud Partner Portal API, as the engine needs to know it.
pub const SERVICE: Service = Service {
    name: "Cloud Partner Portal API",
    default_base_url: "https://cloudpartner.azure.com",
    scope: "https://cloudpartner.azure.com/.default",
    version_parameter: "api-version",
    default_version: "2017-10-31",
    token_variable: "CLOUDPARTNER_TOKEN",
    base_url_variable: "CLOUDPARTNER_BASE_URL",
};
