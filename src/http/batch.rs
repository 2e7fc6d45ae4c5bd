//! Many calls with a bound on how many are in flight, each outcome kept in input order.

use std::future::Future;
use std::ops::ControlFlow;

use crate::error::{Error, Result};

/// The most calls a batch may keep in flight.
pub const MAX_CONCURRENCY: usize = 1024;
/// How many calls a batch keeps in flight unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Told each finished item of a batch (its input index); `Break` stops the batch.
pub type ResultSink<'a, T> = dyn FnMut(usize, &Result<T>) -> ControlFlow<()> + Send + 'a;

/// Run `call` on every item with at most `concurrency` in flight. An item that is already an
/// error (refused input) stays one; a failed item does not stop the others; `on_result` hears
/// each outcome as it finishes and may stop the batch (`Error::Stopped`).
pub async fn bounded<I, T, C, F>(
    items: Vec<Result<I>>,
    concurrency: usize,
    call: C,
    on_result: &mut ResultSink<'_, T>,
) -> Result<Vec<Result<T>>>
where
    C: Fn(I) -> F,
    F: Future<Output = Result<T>>,
    T: Clone,
{
    use futures_util::stream::{self, StreamExt};

    if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
        return Err(Error::invalid(
            "concurrency",
            format!("{concurrency} is not from 1 to {MAX_CONCURRENCY}"),
        ));
    }
    let call = &call;
    let mut slots: Vec<Option<Result<T>>> = vec![None; items.len()];
    let mut finished = stream::iter(items.into_iter().enumerate())
        .map(|(index, item)| async move {
            let outcome = match item {
                Ok(item) => call(item).await,
                Err(refused) => Err(refused),
            };
            (index, outcome)
        })
        .buffer_unordered(concurrency);
    while let Some((index, outcome)) = finished.next().await {
        if on_result(index, &outcome).is_break() {
            return Err(Error::Stopped);
        }
        if let Some(slot) = slots.get_mut(index) {
            *slot = Some(outcome);
        }
    }
    // Every index was filled by the loop above; `Closed` only stands in for the impossible.
    Ok(slots.into_iter().map(|slot| slot.unwrap_or(Err(Error::Closed))).collect())
}
