//! The core of the `cloudpartner` Python package: a Cloud Partner Portal API client.
//!
//! Everything but `binding` is plain Rust, tested by `cargo test` without Python: `validate`
//! refuses bad input, `request` builds what goes on the wire, `transport` sends one attempt,
//! `retry` decides about the next, `response` reads answers, `client` ties them together, and
//! `runtime` holds the fork-aware tokio runtime. `binding` (feature `python`) only converts
//! between Python and these types.

pub mod client;
pub mod error;
pub mod offer;
pub mod operation;
pub mod record;
pub mod request;
pub mod response;
pub mod retry;
pub mod runtime;
pub mod tls;
pub mod token;
pub mod transport;
pub mod validate;

#[cfg(feature = "python")]
mod binding;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod reference_tests;
#[cfg(test)]
mod test_server;
