//! The Cloud Partner Portal API: its requests (`request`, `offer`), its answers (`answer`,
//! `operation`) and its client (`client`), on the shared engine.

pub mod answer;
pub mod client;
pub mod offer;
pub mod operation;
pub mod request;

pub use crate::http::Document;
pub use client::{Accepted, Client, DEFAULT_POLL_INTERVAL_SECONDS, ResultSink, settings};
