//! The core of the `cloudpartner` Python package: clients for the Cloud Partner Portal API and
//! for its successor, Partner Center's Product Ingestion API, over one HTTP engine.
//!
//! Everything but `binding` is plain Rust, tested by `cargo test` without Python. `http` is the
//! service-neutral engine (transport, retry policy, TLS, recording, polling, batches); `cpp` and
//! `ingestion` hold each API's requests, answers and calls; `validate` refuses bad input, `sas`
//! compares and masks image SAS URIs, `release` records a VM image release's steps,
//! `json` parses and bounds every JSON document, `response` reads any answer's error, `error` is
//! the one error type, and `runtime` holds the fork-aware tokio runtime. `binding` (feature
//! `python`) only converts between Python and these.

pub mod cpp;
pub mod error;
pub mod error_body;
pub mod http;
pub mod ingestion;
pub mod json;
pub mod redact;
pub mod release;
pub mod response;
pub mod runtime;
pub mod sas;
pub mod token;
pub mod validate;

#[cfg(feature = "python")]
mod binding;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod reference_tests;
#[cfg(test)]
mod test_server;
