//! Per-token rate limits: at most `requests` in each fixed window of `window_seconds`, counted
//! on this node (a customer's script talks to one bank; a load balancer spreading one token
//! over `n` nodes allows at most `n` times the limit, which is what the limit is for: keeping
//! one runaway script from the bank's hot path). Beyond it: 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;

/// How many requests a token may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window_seconds: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            requests: 600,
            window_seconds: 60,
        }
    }
}

/// Counts by token in the current window.
pub(crate) struct Limiter {
    limit: RateLimit,
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

/// Entries kept before the stale windows are swept.
const SWEEP_AT: usize = 10_000;

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `token` at `now` (unix seconds): `Err(seconds to wait)` when the
    /// window is full.
    pub(crate) fn admit(&self, token: &str, now: i64) -> Result<(), u64> {
        let window = i64::from(self.limit.window_seconds.max(1));
        let start = now - now.rem_euclid(window);
        // A poisoned lock only means another request panicked mid-count: the counts are
        // still counts.
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (s, _)| *s == start);
        }
        let entry = windows.entry(token.to_owned()).or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        if entry.1 >= self.limit.requests {
            let wait = (start + window - now).max(1);
            return Err(u64::try_from(wait).unwrap_or(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_says_how_long_to_wait_and_the_next_window_admits_again() {
        let limiter = Limiter::new(RateLimit {
            requests: 3,
            window_seconds: 60,
        });
        for _ in 0..3 {
            assert_eq!(limiter.admit("t", 120), Ok(()));
        }
        assert_eq!(limiter.admit("t", 150), Err(30));
        assert_eq!(limiter.admit("other", 150), Ok(()), "limits are per token");
        assert_eq!(limiter.admit("t", 180), Ok(()));
    }
}
