//! What an asyncio call resolves to: the core's outcome, carried to the event loop and there
//! converted into its Python result, or raised, once back under the GIL.

use pyo3::prelude::*;

use super::callbacks::Failure;
use super::results::{
    DocumentKind, batch_results, cancel_result, document, offer_status, operation, operations,
};
use crate::client::{Accepted, Document};
use crate::error::Result;
use crate::operation::Operation;
use crate::request::OfferAction;

/// Async results, raised or converted once back under the GIL.
pub enum Outcome {
    One(Result<Operation>),
    Many(Result<Vec<Operation>>),
    Waited(Result<Operation>, Failure),
    Batch(Result<Vec<Result<(OfferAction, Accepted)>>>, Failure),
    Status(Result<Operation>),
    Document(Result<Document>, DocumentKind),
}

impl<'py> IntoPyObject<'py> for Outcome {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Outcome::One(result) => operation(py, &result?),
            Outcome::Many(result) => Ok(operations(py, &result?)?.into_any()),
            // A callback that ran on the loop may have failed after the core's last look.
            Outcome::Waited(result, failure) => match failure.take() {
                Some(err) => Err(err),
                None => operation(py, &result?),
            },
            Outcome::Batch(result, failure) => match failure.take() {
                Some(err) => Err(err),
                None => Ok(batch_results(py, result?)?.into_any()),
            },
            Outcome::Status(result) => offer_status(py, &result?),
            Outcome::Document(result, kind) => document(py, &result?, &kind),
        }
    }
}

/// What an async cancel, publish or go-live resolves to; converted (or raised) once back under the GIL.
pub struct ActionOutcome(pub Result<(OfferAction, Accepted)>);

impl<'py> IntoPyObject<'py> for ActionOutcome {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        cancel_result(py, self.0).map(|r| r.into_bound(py))
    }
}
