//! Where tokens come from and when a token from a credential must be fetched again.

/// The environment variable read when no token is given.
pub const TOKEN_VARIABLE: &str = "CLOUDPARTNER_TOKEN";

/// The scope a credential is asked for: the service's resource, `/.default`.
pub const SCOPE: &str = concat!(crate::client::service!(), "/.default");

/// Refresh this long before the token's `expires_on`, so a token never expires mid-call.
pub const REFRESH_MARGIN_SECONDS: f64 = 300.0;

/// A token fetched from a credential, with its expiry (seconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct CachedToken {
    pub token: String,
    pub expires_on: f64,
}

impl CachedToken {
    /// Still good at `now` (Unix seconds) with the refresh margin to spare.
    pub fn is_fresh(&self, now: f64) -> bool {
        now + REFRESH_MARGIN_SECONDS < self.expires_on
    }
}

/// Seconds since the Unix epoch, as credentials express `expires_on`.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_five_minutes_before_expiry() {
        let token = CachedToken { token: "t".into(), expires_on: 10_000.0 };
        assert!(token.is_fresh(10_000.0 - 301.0));
        assert!(!token.is_fresh(10_000.0 - 300.0));
        assert!(!token.is_fresh(20_000.0));
        assert!(unix_now() > 1.7e9);
        assert_eq!(SCOPE, "https://cloudpartner.azure.com/.default");
    }
}
