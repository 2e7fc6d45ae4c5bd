//! Partner Center's Product Ingestion API (`https://graph.microsoft.com/rp/product-ingestion`),
//! the Cloud Partner Portal API's successor: its ids (`ids`), requests (`request`), answers
//! (`job`, `product`, `page`) and calls (`client`), on the shared engine.

pub mod client;
pub mod ids;
pub mod job;
pub mod page;
pub mod product;
pub mod request;

pub use client::{Client, DEFAULT_POLL_INTERVAL_SECONDS, settings};
