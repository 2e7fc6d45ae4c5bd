//! When a token from a credential must be fetched again. (Each service's scope and token
//! variable are in its descriptor, `http::Service`.)

/// Refresh this long before the token's `expires_on`, so a token never expires mid-call.
pub const REFRESH_MARGIN_SECONDS: f64 = 300.0;

/// A token fetched from a credential, with its expiry and, when the credential gave one (azure-core's
/// `AccessTokenInfo.refresh_on`), the moment it wants to be asked again (seconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct CachedToken {
    pub token: String,
    pub expires_on: f64,
    pub refresh_on: Option<f64>,
}

impl CachedToken {
    /// Still good at `now` (Unix seconds): before `refresh_on` when given, and in any case more than
    /// the refresh margin before `expires_on` (azure-core's `BearerTokenCredentialPolicy` rule).
    pub fn is_fresh(&self, now: f64) -> bool {
        let refresh_due = self.refresh_on.is_some_and(|at| at <= now);
        !refresh_due && now + REFRESH_MARGIN_SECONDS < self.expires_on
    }

    /// Already expired at `now`: sending it would only earn a 401.
    pub fn is_expired(&self, now: f64) -> bool {
        self.expires_on <= now
    }
}

/// Seconds since the Unix epoch, as credentials express `expires_on`.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_on: f64, refresh_on: Option<f64>) -> CachedToken {
        CachedToken { token: "t".into(), expires_on, refresh_on }
    }

    #[test]
    fn refreshes_at_refresh_on_when_given() {
        let token = token(10_000.0, Some(5_000.0));
        assert!(token.is_fresh(4_999.0));
        assert!(!token.is_fresh(5_000.0));
        assert!(!token.is_fresh(6_000.0));
    }

    #[test]
    fn a_late_refresh_on_does_not_outlive_the_margin() {
        let token = token(10_000.0, Some(9_990.0));
        assert!(token.is_fresh(9_000.0));
        assert!(!token.is_fresh(9_800.0));
    }

    #[test]
    fn expired_means_at_or_past_expires_on() {
        let token = token(10_000.0, None);
        assert!(!token.is_expired(9_999.0));
        assert!(token.is_expired(10_000.0));
    }

    #[test]
    fn refreshes_five_minutes_before_expiry() {
        let token = token(10_000.0, None);
        assert!(token.is_fresh(10_000.0 - 301.0));
        assert!(!token.is_fresh(10_000.0 - 300.0));
        assert!(!token.is_fresh(20_000.0));
        assert!(unix_now() > 1.7e9);
    }
}
