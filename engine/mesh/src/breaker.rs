//! A circuit breaker per service, shared by all its callers: open after N
//! consecutive failures (5xx, timeouts, 429), half-open after a cool-down
//! (one probe call goes through), closed again on a success.

use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }
}

/// When a breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failures that open it.
    pub failures: u32,
    /// How long it stays open before a probe goes through.
    pub cooldown: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            failures: 5,
            cooldown: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Breaker {
    state: BreakerState,
    /// Consecutive failures so far.
    failures: u32,
    opened_until: Option<Instant>,
    /// A half-open breaker lets one probe through at a time.
    probing: bool,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            state: BreakerState::Closed,
            failures: 0,
            opened_until: None,
            probing: false,
        }
    }
}

/// Why a call was not let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub failures: u32,
    /// When the next probe may go through.
    pub retry_after: Duration,
}

impl Breaker {
    pub fn state(&self) -> BreakerState {
        self.state
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether a call may go through now; an open breaker past its cool-down
    /// turns half-open and lets this call through as its probe.
    pub fn admit(&mut self, now: Instant) -> Result<(), Refused> {
        match self.state {
            BreakerState::Closed => Ok(()),
            BreakerState::Open => {
                let until = self.opened_until.unwrap_or(now);
                if now >= until {
                    self.state = BreakerState::HalfOpen;
                    self.probing = true;
                    Ok(())
                } else {
                    Err(self.refused(until - now))
                }
            }
            BreakerState::HalfOpen if self.probing => Err(self.refused(Duration::ZERO)),
            BreakerState::HalfOpen => {
                self.probing = true;
                Ok(())
            }
        }
    }

    fn refused(&self, retry_after: Duration) -> Refused {
        Refused {
            failures: self.failures,
            retry_after,
        }
    }

    /// Counts a call's outcome; returns the new state when it changed.
    pub fn record(
        &mut self,
        success: bool,
        now: Instant,
        settings: BreakerSettings,
    ) -> Option<BreakerState> {
        let before = self.state;
        self.probing = false;
        if success {
            self.failures = 0;
            self.state = BreakerState::Closed;
            self.opened_until = None;
        } else {
            self.failures = self.failures.saturating_add(1);
            if self.state == BreakerState::HalfOpen || self.failures >= settings.failures {
                self.state = BreakerState::Open;
                self.opened_until = Some(now + settings.cooldown);
            }
        }
        (self.state != before).then_some(self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_n_failures_probes_after_the_cooldown_and_closes_on_success() {
        let settings = BreakerSettings {
            failures: 3,
            cooldown: Duration::from_secs(10),
        };
        let mut breaker = Breaker::default();
        let t0 = Instant::now();
        assert_eq!(breaker.record(false, t0, settings), None);
        assert_eq!(breaker.record(false, t0, settings), None);
        assert_eq!(
            breaker.record(false, t0, settings),
            Some(BreakerState::Open)
        );
        let refused = breaker.admit(t0 + Duration::from_secs(4)).unwrap_err();
        assert_eq!(refused.failures, 3);
        assert_eq!(refused.retry_after, Duration::from_secs(6));
        // After the cool-down one probe goes through, a second waits.
        assert!(breaker.admit(t0 + Duration::from_secs(10)).is_ok());
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.admit(t0 + Duration::from_secs(10)).is_err());
        // A failed probe opens it again; a good one closes it.
        let t1 = t0 + Duration::from_secs(11);
        assert_eq!(
            breaker.record(false, t1, settings),
            Some(BreakerState::Open)
        );
        assert!(breaker.admit(t1 + Duration::from_secs(10)).is_ok());
        assert_eq!(
            breaker.record(true, t1, settings),
            Some(BreakerState::Closed)
        );
        assert!(breaker.admit(t1).is_ok());
        assert_eq!(breaker.failures(), 0);
    }

    #[test]
    fn a_success_resets_the_count() {
        let settings = BreakerSettings::default();
        let mut breaker = Breaker::default();
        let now = Instant::now();
        for _ in 0..4 {
            breaker.record(false, now, settings);
        }
        breaker.record(true, now, settings);
        for _ in 0..4 {
            breaker.record(false, now, settings);
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
}
