//! When to try again, how long to wait first, and whether the call's deadline leaves time for it.

use std::time::{Duration, Instant, SystemTime};

/// Statuses worth another attempt: the service or something in front of it was busy or broken.
/// 4xx other than 408/429 are never retried: they would only repeat the failure.
pub const RETRIABLE_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// Whether an answer with `status` is worth another attempt (the one place that decides).
pub fn is_retriable(status: u16) -> bool {
    RETRIABLE_STATUSES.contains(&status)
}

/// A `Retry-After` longer than this is not waited for: the call fails at once and the caller
/// sees `retry_after` on the exception.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Retries after the first attempt unless told otherwise.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// The first backoff's ceiling unless told otherwise.
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    /// The first backoff's upper bound; it doubles each retry (full jitter picks below it).
    pub backoff: Duration,
    pub backoff_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: DEFAULT_MAX_RETRIES,
            backoff: DEFAULT_BACKOFF,
            backoff_cap: Duration::from_secs(30),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    RetryAfter(Duration),
    GiveUp,
    /// A retry was due after this wait, but the wait would not end before the call's deadline:
    /// the call ends now, with the last attempt's failure.
    OutOfTime(Duration),
}

/// The most a call may take, counted from its start: its attempts, the waits between them, and
/// the reading of each answer all come out of one `timeout`. Each attempt gets what is left. A
/// call that makes several requests (a list's pages, an external-id lookup and then a read) makes
/// one at its start and sends each request within it (`Engine::send_within`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    started: Instant,
    timeout: Duration,
}

impl Deadline {
    pub fn new(started: Instant, timeout: Duration) -> Self {
        Self { started, timeout }
    }

    /// The whole call's timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What is left at `now` (zero once the deadline passed): the time the next attempt gets.
    pub fn left(&self, now: Instant) -> Duration {
        self.timeout.saturating_sub(now.saturating_duration_since(self.started))
    }

    /// The deadline of one request of the call, made at `now` with at most `limit` of its own: the
    /// call's, or `limit` from `now` when that comes sooner. (A call's quick lookup keeps its own
    /// default timeout inside a call that ends in a longer document read.) The start is the call's,
    /// so a timeout reports the time the whole call took.
    pub fn at_most(&self, limit: Duration, now: Instant) -> Self {
        let own_end = now.saturating_duration_since(self.started).saturating_add(limit);
        Self { started: self.started, timeout: self.timeout.min(own_end) }
    }

    /// `verdict`, unless it waits past the deadline: a wait that would not end before it ends the
    /// call now (`OutOfTime`), as a `Retry-After` over `MAX_RETRY_AFTER` does.
    pub fn admit(&self, verdict: Verdict, now: Instant) -> Verdict {
        match verdict {
            Verdict::RetryAfter(wait) if wait >= self.left(now) => Verdict::OutOfTime(wait),
            other => other,
        }
    }
}

impl RetryPolicy {
    /// After an answer with `status`; `retries_done` counts the retries already made.
    pub fn after_status(&self, status: u16, retries_done: u32, retry_after: Option<Duration>) -> Verdict {
        if !is_retriable(status) || retries_done >= self.max_retries {
            return Verdict::GiveUp;
        }
        match retry_after {
            Some(wait) if wait > MAX_RETRY_AFTER => Verdict::GiveUp,
            Some(wait) => Verdict::RetryAfter(wait),
            None => Verdict::RetryAfter(self.backoff(retries_done)),
        }
    }

    /// After a connection could not be made (nothing reached the service, so retrying is safe).
    pub fn after_connect_failure(&self, retries_done: u32) -> Verdict {
        if retries_done >= self.max_retries {
            Verdict::GiveUp
        } else {
            Verdict::RetryAfter(self.backoff(retries_done))
        }
    }

    /// Exponential backoff with full jitter: uniform in [0, min(cap, backoff * 2^n)].
    pub fn backoff(&self, retries_done: u32) -> Duration {
        let ceiling = self.backoff.saturating_mul(1u32.checked_shl(retries_done.min(20)).unwrap_or(u32::MAX));
        ceiling.min(self.backoff_cap).mul_f64(fastrand::f64())
    }
}

/// `Retry-After` as delay-seconds (integer or decimal) or an HTTP date, relative to `now`.
/// A date in the past means "now"; anything unreadable is `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(1e9)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_statuses_are_retried() {
        let policy = RetryPolicy::default();
        for status in RETRIABLE_STATUSES {
            assert!(matches!(policy.after_status(status, 0, None), Verdict::RetryAfter(_)), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 422, 301, 501] {
            assert_eq!(policy.after_status(status, 0, None), Verdict::GiveUp, "{status}");
        }
    }

    #[test]
    fn retries_stop_at_the_limit() {
        let policy = RetryPolicy { max_retries: 2, ..RetryPolicy::default() };
        assert!(matches!(policy.after_status(503, 1, None), Verdict::RetryAfter(_)));
        assert_eq!(policy.after_status(503, 2, None), Verdict::GiveUp);
        assert_eq!(policy.after_connect_failure(2), Verdict::GiveUp);
        let none = RetryPolicy { max_retries: 0, ..RetryPolicy::default() };
        assert_eq!(none.after_status(503, 0, None), Verdict::GiveUp);
    }

    #[test]
    fn retry_after_is_honoured_up_to_sixty_seconds() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.after_status(429, 0, Some(Duration::from_secs(3))),
            Verdict::RetryAfter(Duration::from_secs(3))
        );
        assert_eq!(
            policy.after_status(429, 0, Some(Duration::from_secs(60))),
            Verdict::RetryAfter(MAX_RETRY_AFTER)
        );
        assert_eq!(policy.after_status(429, 0, Some(Duration::from_secs(3600))), Verdict::GiveUp);
    }

    #[test]
    fn backoff_is_jittered_below_a_doubling_capped_ceiling() {
        let policy = RetryPolicy {
            max_retries: 50,
            backoff: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(1),
        };
        for n in 0..40 {
            let ceiling = Duration::from_millis(100 * 2u64.pow(n.min(10))).min(Duration::from_secs(1));
            for _ in 0..50 {
                assert!(policy.backoff(n) <= ceiling);
            }
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| policy.backoff(3)).collect();
        assert!(spread.len() > 10, "full jitter should spread the delays");
    }

    #[test]
    fn each_attempt_gets_what_is_left_of_the_call() {
        let start = Instant::now();
        let deadline = Deadline::new(start, Duration::from_millis(1000));
        assert_eq!(deadline.left(start), Duration::from_millis(1000));
        assert_eq!(deadline.left(start + Duration::from_millis(690)), Duration::from_millis(310));
        assert_eq!(deadline.left(start + Duration::from_millis(1000)), Duration::ZERO);
        assert_eq!(deadline.left(start + Duration::from_secs(5)), Duration::ZERO);
        // A clock read before the start (another thread's `now`) leaves the whole timeout.
        assert_eq!(deadline.left(start.checked_sub(Duration::from_millis(5)).unwrap()), deadline.timeout());
    }

    #[test]
    fn each_request_of_a_call_gets_what_is_left_of_the_call_and_no_more_than_its_own() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let call = Deadline::new(start, Duration::from_millis(1000));
        // The second page, asked for 700 ms in, gets the 300 ms left, not a whole timeout.
        let second = call.at_most(Duration::from_millis(1000), at(700));
        assert_eq!(second.left(at(700)), Duration::from_millis(300));
        assert_eq!(second.timeout(), call.timeout(), "a timeout names the call's");
        assert_eq!(second.left(at(1000)), Duration::ZERO);
        // A request whose own limit ends first keeps it, counted from when it is sent.
        let quick = call.at_most(Duration::from_millis(100), at(200));
        assert_eq!(quick.left(at(200)), Duration::from_millis(100));
        assert_eq!(quick.timeout(), Duration::from_millis(300));
        assert_eq!(quick.left(at(300)), Duration::ZERO);
        // Past the call's deadline nothing is left, whatever the request's own limit.
        assert_eq!(call.at_most(Duration::from_secs(60), at(1500)).left(at(1500)), Duration::ZERO);
        // The same limit at the call's start is the call's deadline itself.
        assert_eq!(call.at_most(call.timeout(), start), call);
    }

    #[test]
    fn a_wait_that_would_pass_the_deadline_ends_the_call() {
        let start = Instant::now();
        let deadline = Deadline::new(start, Duration::from_millis(500));
        let at = |ms| start + Duration::from_millis(ms);
        let wait = |ms| Verdict::RetryAfter(Duration::from_millis(ms));
        assert_eq!(deadline.admit(wait(100), at(0)), wait(100));
        assert_eq!(deadline.admit(wait(100), at(399)), wait(100));
        // Ending exactly at the deadline leaves the next attempt nothing: not worth sending.
        assert_eq!(deadline.admit(wait(100), at(400)), Verdict::OutOfTime(Duration::from_millis(100)));
        assert_eq!(deadline.admit(wait(0), at(500)), Verdict::OutOfTime(Duration::ZERO));
        assert_eq!(deadline.admit(wait(2000), at(0)), Verdict::OutOfTime(Duration::from_secs(2)));
        assert_eq!(deadline.admit(Verdict::GiveUp, at(0)), Verdict::GiveUp);
    }

    #[test]
    fn a_retry_after_or_backoff_is_admitted_against_the_same_deadline() {
        // The policy decides whether a retry is due and how long to wait first; the deadline
        // decides whether that wait fits, whatever set it.
        let policy =
            RetryPolicy { max_retries: 3, backoff: Duration::from_secs(60), ..RetryPolicy::default() };
        let start = Instant::now();
        let deadline = Deadline::new(start, Duration::from_millis(500));
        let retry_after = policy.after_status(503, 0, Some(Duration::from_millis(200)));
        assert_eq!(deadline.admit(retry_after, start), Verdict::RetryAfter(Duration::from_millis(200)));
        let late = start + Duration::from_millis(350);
        assert_eq!(deadline.admit(retry_after, late), Verdict::OutOfTime(Duration::from_millis(200)));
        let seconds_asked = policy.after_status(429, 0, Some(Duration::from_secs(2)));
        assert!(matches!(deadline.admit(seconds_asked, start), Verdict::OutOfTime(_)));
        let zero_backoff = RetryPolicy { backoff: Duration::ZERO, ..policy.clone() };
        assert_eq!(
            deadline.admit(zero_backoff.after_connect_failure(0), start),
            Verdict::RetryAfter(Duration::ZERO)
        );
        // Out of retries is giving up, whatever time is left.
        assert_eq!(deadline.admit(policy.after_connect_failure(3), start), Verdict::GiveUp);
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0.5 ", now), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("Sun Nov  6 08:49:40 1994", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        for bad in ["", "-1", "soon", "NaN", "inf"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }
}
