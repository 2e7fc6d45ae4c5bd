//! Following something the service runs (a CPP operation, an ingestion job) until it is done:
//! one loop for both, told how to poll once and when the thing is done.

use std::future::Future;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use super::Log;
use crate::error::{Error, Result};
use crate::validate::{self, Token};

/// Seconds a wait waits in all unless told otherwise (a CPP cancel takes one to three minutes).
pub const DEFAULT_WAIT_SECONDS: f64 = 600.0;

/// Gives the token for each poll of a long wait (a credential's token may be refreshed meanwhile);
/// `None` when the token source failed (the binding keeps the reason).
pub type TokenSupplier<'a> = dyn Fn() -> Option<Token> + Send + Sync + 'a;

/// Told each new state while waiting; `Break` stops the wait with `Error::Stopped`.
pub type ProgressSink<'a, T> = dyn FnMut(&T) -> ControlFlow<()> + Send + 'a;

/// What a wait reports to its progress callback: a state, compared with the last one.
pub trait Progress {
    /// The same status and progress as `other`: nothing new to tell.
    fn same_progress(&self, other: &Self) -> bool;
}

/// How a wait polls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitOptions {
    pub timeout: Duration,
    pub poll_interval: Duration,
    /// Also stop when a CPP operation waits for the publisher's review (`publisher-signoff`):
    /// a publish has done its part, and going live is next.
    pub until_review: bool,
}

impl WaitOptions {
    pub fn new(timeout_seconds: f64, poll_interval_seconds: f64) -> Result<Self> {
        Ok(Self {
            timeout: validate::timeout("timeout", timeout_seconds)?,
            poll_interval: validate::timeout("poll_interval", poll_interval_seconds)?,
            until_review: false,
        })
    }
}

/// Poll with `poll_once` until `done` says so (the state is returned), `options.timeout` passes
/// (`timed_out(last state seen)`), or a poll fails for good. Transient failures (5xx, 429,
/// transport, unreadable answers) are polled through; a `Retry-After` (of an answer or of a
/// refusal) stretches the delay before the next poll; `on_progress` hears every change, the
/// first state included. Each poll is a call, bounded by the client's timeout (`Engine::send`)
/// and cut to what is left of the wait's own.
#[allow(clippy::too_many_arguments)] // the loop's inputs, each with one job
pub async fn until_done<T, P, F>(
    what: &str,
    poll_once: P,
    done: &(dyn Fn(&T) -> bool + Sync),
    timed_out: &(dyn Fn(Option<T>) -> Error + Sync),
    tokens: &TokenSupplier<'_>,
    options: WaitOptions,
    log: &dyn Log,
    on_progress: &mut ProgressSink<'_, T>,
) -> Result<T>
where
    T: Progress,
    P: Fn(Token) -> F,
    F: Future<Output = Result<(T, Option<Duration>)>>,
{
    let deadline = Instant::now() + options.timeout;
    let mut last: Option<T> = None;
    loop {
        let token = tokens().ok_or(Error::Stopped)?;
        let mut delay = options.poll_interval;
        // A poll with its retries and their waits may not outlast the wait itself.
        let remaining = deadline.saturating_duration_since(Instant::now());
        let Ok(polled) = tokio::time::timeout(remaining, poll_once(token)).await else {
            return Err(timed_out(last));
        };
        match polled {
            Ok((state, retry_after)) => {
                let changed = last.as_ref().is_none_or(|l| !l.same_progress(&state));
                if changed && on_progress(&state).is_break() {
                    return Err(Error::Stopped);
                }
                if done(&state) {
                    return Ok(state);
                }
                delay = delay.max(retry_after.unwrap_or_default());
                last = Some(state);
            }
            Err(error) if error.is_transient() => {
                if log.debug_enabled() {
                    log.debug(&format!("polling {what} failed, polling on: {error}"));
                }
                // A throttled or failing poll's Retry-After is honoured too (however long: the
                // wait's own deadline bounds it).
                if let Error::Api(failure) = &error {
                    let asked = failure.retry_after.map_or(Duration::ZERO, Duration::from_secs_f64);
                    delay = delay.max(asked);
                }
            }
            Err(error) => return Err(error),
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(timed_out(last));
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
    }
}
