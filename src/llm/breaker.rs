//! A circuit breaker per endpoint: it opens after a number of consecutive failures, keeps the
//! endpoint out of rotation for a cool-down, then lets one trial request through (half-open); the
//! trial's success closes it, its failure opens it again.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use std::time::Duration;
//! use augur::llm::breaker::{Breaker, BreakerState};
//! let breaker = Breaker::new(2, Duration::from_secs(30));
//! breaker.record_failure();
//! breaker.record_failure();
//! assert_eq!(breaker.state(), BreakerState::Open);
//! assert!(!breaker.try_acquire());
//! # });
//! ```

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

/// The state of a breaker, as shown in metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum BreakerState {
    /// Requests flow.
    Closed,
    /// The endpoint is skipped until the cool-down ends.
    Open,
    /// One trial request is allowed.
    HalfOpen,
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_running: bool },
}

/// The breaker of one endpoint.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

impl Breaker {
    /// A closed breaker that opens after `threshold` consecutive failures (0: never) and stays
    /// open for `cooldown`.
    pub fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            threshold,
            cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current state (an open breaker whose cool-down has ended shows as half-open).
    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if until > Instant::now() => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// How long until the breaker lets a request through; zero if it does now.
    pub fn retry_in(&self) -> Duration {
        match *self.lock() {
            State::Open { until } => until.saturating_duration_since(Instant::now()),
            State::HalfOpen {
                trial_running: true,
            } => self.cooldown,
            _ => Duration::ZERO,
        }
    }

    /// Asks to send a request: always yes when closed; when the cool-down has ended, yes for one
    /// trial request at a time.
    pub fn try_acquire(&self) -> bool {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => true,
            State::Open { until } if until > Instant::now() => false,
            State::Open { .. }
            | State::HalfOpen {
                trial_running: false,
            } => {
                *state = State::HalfOpen {
                    trial_running: true,
                };
                true
            }
            State::HalfOpen {
                trial_running: true,
            } => false,
        }
    }

    /// Records a success: the breaker closes.
    pub fn record_success(&self) {
        *self.lock() = State::Closed { failures: 0 };
    }

    /// Records a failure that says something about the endpoint's health.
    pub fn record_failure(&self) {
        let mut state = self.lock();
        let open = State::Open {
            until: Instant::now() + self.cooldown,
        };
        *state = match *state {
            State::Closed { failures } => {
                let failures = failures + 1;
                if self.threshold > 0 && failures >= self.threshold {
                    open
                } else {
                    State::Closed { failures }
                }
            }
            State::HalfOpen { .. } => open,
            State::Open { until } => State::Open { until },
        };
    }

    /// Gives back a trial slot whose request ended without saying anything about the endpoint
    /// (cancelled, or refused for a reason of its own such as a 400).
    pub fn release_trial(&self) {
        let mut state = self.lock();
        if let State::HalfOpen {
            trial_running: true,
        } = *state
        {
            *state = State::HalfOpen {
                trial_running: false,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_half_opens_and_closes() {
        let breaker = Breaker::new(3, Duration::from_secs(10));
        breaker.record_failure();
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(!breaker.try_acquire());
        assert_eq!(breaker.retry_in(), Duration::from_secs(10));

        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.try_acquire(), "one trial goes through");
        assert!(!breaker.try_acquire(), "only one");
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Open);

        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(breaker.try_acquire());
        breaker.record_success();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert!(breaker.try_acquire() && breaker.try_acquire());
    }

    #[tokio::test(start_paused = true)]
    async fn success_resets_the_failure_count() {
        let breaker = Breaker::new(2, Duration::from_secs(1));
        breaker.record_failure();
        breaker.record_success();
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
}
