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

    /// Whether a call may go through now, and whether it is the breaker's
    /// probe: an open breaker past its cool-down turns half-open and lets
    /// this one call through to decide.
    pub fn admit(&mut self, now: Instant) -> Result<Admitted, Refused> {
        match self.state {
            BreakerState::Closed => Ok(Admitted { probe: false }),
            BreakerState::Open => {
                let until = self.opened_until.unwrap_or(now);
                if now >= until {
                    self.state = BreakerState::HalfOpen;
                    self.probing = true;
                    Ok(Admitted { probe: true })
                } else {
                    Err(self.refused(until - now))
                }
            }
            BreakerState::HalfOpen if self.probing => Err(self.refused(Duration::ZERO)),
            BreakerState::HalfOpen => {
                self.probing = true;
                Ok(Admitted { probe: true })
            }
        }
    }

    fn refused(&self, retry_after: Duration) -> Refused {
        Refused {
            failures: self.failures,
            retry_after,
        }
    }

    /// Counts how an admitted call ended: `outcome` is `None` when it never
    /// reached the service (refused by a limit on the way), which counts
    /// neither way but frees the probe. Only the probe's own result moves a
    /// half-open breaker; results of calls let through before it opened
    /// only add to the count. Returns the new state when it changed.
    pub fn record(
        &mut self,
        admitted: Admitted,
        outcome: Option<bool>,
        now: Instant,
        settings: BreakerSettings,
    ) -> Option<BreakerState> {
        let before = self.state;
        if admitted.probe {
            self.probing = false;
        }
        let success = outcome?;
        match (self.state, success) {
            (BreakerState::Closed, true) => self.failures = 0,
            (BreakerState::Closed, false) => {
                self.failures = self.failures.saturating_add(1);
                if self.failures >= settings.failures {
                    self.open(now, settings);
                }
            }
            (BreakerState::HalfOpen, true) if admitted.probe => {
                self.failures = 0;
                self.state = BreakerState::Closed;
                self.opened_until = None;
            }
            (BreakerState::HalfOpen, false) if admitted.probe => {
                self.failures = self.failures.saturating_add(1);
                self.open(now, settings);
            }
            (_, false) => self.failures = self.failures.saturating_add(1),
            (_, true) => {}
        }
        (self.state != before).then_some(self.state)
    }

    fn open(&mut self, now: Instant, settings: BreakerSettings) {
        self.state = BreakerState::Open;
        self.opened_until = Some(now + settings.cooldown);
    }
}

/// A call the breaker let through; the probe decides a half-open breaker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Admitted {
    pub probe: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALL: Admitted = Admitted { probe: false };

    #[test]
    fn opens_after_n_failures_probes_after_the_cooldown_and_closes_on_success() {
        let settings = BreakerSettings {
            failures: 3,
            cooldown: Duration::from_secs(10),
        };
        let mut breaker = Breaker::default();
        let t0 = Instant::now();
        assert_eq!(breaker.record(CALL, Some(false), t0, settings), None);
        assert_eq!(breaker.record(CALL, Some(false), t0, settings), None);
        assert_eq!(
            breaker.record(CALL, Some(false), t0, settings),
            Some(BreakerState::Open)
        );
        let refused = breaker.admit(t0 + Duration::from_secs(4)).unwrap_err();
        assert_eq!(refused.failures, 3);
        assert_eq!(refused.retry_after, Duration::from_secs(6));
        // After the cool-down one probe goes through, a second waits.
        let probe = breaker.admit(t0 + Duration::from_secs(10)).unwrap();
        assert!(probe.probe);
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.admit(t0 + Duration::from_secs(10)).is_err());
        // A late success of a call let through earlier decides nothing.
        assert_eq!(breaker.record(CALL, Some(true), t0, settings), None);
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        // A failed probe opens it again; a good one closes it.
        let t1 = t0 + Duration::from_secs(11);
        assert_eq!(
            breaker.record(probe, Some(false), t1, settings),
            Some(BreakerState::Open)
        );
        let probe = breaker.admit(t1 + Duration::from_secs(10)).unwrap();
        assert_eq!(
            breaker.record(probe, Some(true), t1, settings),
            Some(BreakerState::Closed)
        );
        assert!(breaker.admit(t1).is_ok());
        assert_eq!(breaker.failures(), 0);
    }

    #[test]
    fn a_probe_that_never_reached_the_service_frees_the_next_one() {
        let settings = BreakerSettings {
            failures: 1,
            cooldown: Duration::ZERO,
        };
        let mut breaker = Breaker::default();
        let now = Instant::now();
        breaker.record(CALL, Some(false), now, settings);
        let probe = breaker.admit(now).unwrap();
        assert_eq!(breaker.record(probe, None, now, settings), None);
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.admit(now).unwrap().probe);
    }

    #[test]
    fn a_success_resets_the_count() {
        let settings = BreakerSettings::default();
        let mut breaker = Breaker::default();
        let now = Instant::now();
        for _ in 0..4 {
            breaker.record(CALL, Some(false), now, settings);
        }
        breaker.record(CALL, Some(true), now, settings);
        for _ in 0..4 {
            breaker.record(CALL, Some(false), now, settings);
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
}
