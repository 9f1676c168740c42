//! The admission gate of one endpoint: requests per minute and tokens per minute (`governor`
//! token buckets, bursts allowed), a maximum number of requests in flight, and a priority queue in
//! front of them.
//!
//! A request calls [`Gate::acquire`] and holds the returned [`Permit`] while its HTTP call runs.
//! Waiters are served highest [`Priority`] first, then in order of arrival. A waiter whose future is
//! dropped (cancelled, or its deadline passed) leaves the queue without consuming anything.
//!
//! Time is tokio's clock (the limiters read it through [`TokioClock`]), so tests pause and advance
//! it and see requests released at exact times.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use augur::llm::limits::{Gate, GateLimits};
//! use augur::llm::Priority;
//! let gate = Gate::new(GateLimits { requests_per_minute: 60, max_in_flight: 2, ..GateLimits::default() });
//! let permit = gate.acquire(Priority::Interactive, 10).await;
//! assert_eq!(gate.in_flight(), 1);
//! drop(permit);
//! assert_eq!(gate.in_flight(), 0);
//! # });
//! ```

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::llm::types::Priority;

/// A `governor` clock that reads tokio's clock, which tests can pause and advance. Its instants
/// are durations since the clock was made.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    base: Instant,
}

impl TokioClock {
    /// A clock starting now.
    pub fn new() -> TokioClock {
        TokioClock {
            base: Instant::now(),
        }
    }

    fn to_instant(self, at: Duration) -> Instant {
        self.base + at
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock::new()
    }
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.base)
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;

/// The limits of one gate; 0 means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GateLimits {
    /// Requests per minute, with bursts of `burst` (or of the same size when `burst` is 0).
    pub requests_per_minute: u32,
    /// Requests that may go at once before `requests_per_minute` spaces them (0: as many as
    /// `requests_per_minute`).
    pub burst: u32,
    /// Tokens per minute, with bursts of the same size.
    pub tokens_per_minute: u32,
    /// Requests in flight at once.
    pub max_in_flight: u32,
}

struct Waiter {
    priority: Priority,
    seq: u64,
    tokens: u32,
    tx: oneshot::Sender<Permit>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> Ordering {
        // The heap pops the greatest: higher priority, then the smaller sequence number.
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

struct GateState {
    queue: BinaryHeap<Waiter>,
    in_flight: u32,
    next_seq: u64,
    /// A request-per-minute cell taken for the head of the queue, which then waited on the token
    /// bucket; whoever is head next uses it.
    rpm_reserved: bool,
    /// When the pending wake-up timer fires, if one is pending.
    timer_at: Option<Instant>,
}

/// The gate of one endpoint. Cheap to share as `Arc<Gate>`.
pub struct Gate {
    limits: GateLimits,
    clock: TokioClock,
    rpm: Option<Limiter>,
    tpm: Option<Limiter>,
    state: Mutex<GateState>,
    /// Requests that could not go at once.
    waits: std::sync::atomic::AtomicU64,
}

/// The right to run one request; dropping it lets the next waiter in.
pub struct Permit {
    gate: Option<Arc<Gate>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.lock().in_flight -= 1;
            gate.pump();
        }
    }
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Permit")
    }
}

impl Gate {
    /// A gate with these limits.
    pub fn new(limits: GateLimits) -> Arc<Gate> {
        let clock = TokioClock::new();
        let limiter = |per_minute: u32, burst: u32| {
            NonZeroU32::new(per_minute).map(|n| {
                let quota = match NonZeroU32::new(burst) {
                    Some(burst) => Quota::per_minute(n).allow_burst(burst),
                    None => Quota::per_minute(n),
                };
                RateLimiter::direct_with_clock(quota, clock)
            })
        };
        Arc::new(Gate {
            limits,
            clock,
            rpm: limiter(limits.requests_per_minute, limits.burst),
            tpm: limiter(limits.tokens_per_minute, 0),
            state: Mutex::new(GateState {
                queue: BinaryHeap::new(),
                in_flight: 0,
                next_seq: 0,
                rpm_reserved: false,
                timer_at: None,
            }),
            waits: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The limits this gate enforces.
    pub fn limits(&self) -> GateLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Requests running now.
    pub fn in_flight(&self) -> u32 {
        self.lock().in_flight
    }

    /// Requests that could not go at once since the gate was made.
    pub fn waits(&self) -> u64 {
        self.waits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Requests waiting (cancelled ones excluded).
    pub fn queued(&self) -> usize {
        self.lock()
            .queue
            .iter()
            .filter(|w| !w.tx.is_closed())
            .count()
    }

    /// Waits for a turn. `tokens` is the estimate charged to the tokens-per-minute bucket (clamped
    /// to the bucket's size). Dropping the future leaves the queue.
    pub async fn acquire(self: &Arc<Self>, priority: Priority, tokens: u32) -> Permit {
        let (tx, rx) = oneshot::channel();
        {
            let mut state = self.lock();
            let seq = state.next_seq;
            state.next_seq += 1;
            state.queue.push(Waiter {
                priority,
                seq,
                tokens,
                tx,
            });
        }
        self.pump();
        let mut rx = rx;
        match rx.try_recv() {
            Ok(permit) => return permit,
            Err(oneshot::error::TryRecvError::Empty) => {
                self.waits
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Err(oneshot::error::TryRecvError::Closed) => return Permit { gate: None },
        }
        match rx.await {
            Ok(permit) => permit,
            // The sender lives in the queue until it is served, so this cannot happen; an
            // unlimited permit is still a safe answer.
            Err(_) => Permit { gate: None },
        }
    }

    /// Lets in as many waiters as the limits allow, and arms a timer for the next one.
    fn pump(self: &Arc<Self>) {
        let mut wake_at = None;
        let mut refused = Vec::new();
        {
            let mut state = self.lock();
            loop {
                while state.queue.peek().is_some_and(|w| w.tx.is_closed()) {
                    state.queue.pop();
                }
                let Some(head) = state.queue.peek() else {
                    break;
                };
                if self.limits.max_in_flight > 0 && state.in_flight >= self.limits.max_in_flight {
                    break;
                }
                let tokens = head.tokens;
                if let Some(rpm) = &self.rpm
                    && !state.rpm_reserved
                {
                    match rpm.check() {
                        Ok(()) => state.rpm_reserved = true,
                        Err(not_until) => {
                            wake_at = Some(self.clock.to_instant(not_until.earliest_possible()));
                            break;
                        }
                    }
                }
                if let Some(tpm) = &self.tpm {
                    let capacity = self.limits.tokens_per_minute;
                    let n = NonZeroU32::new(tokens.clamp(1, capacity)).unwrap_or(NonZeroU32::MIN);
                    match tpm.check_n(n) {
                        Ok(Ok(())) => {}
                        Ok(Err(not_until)) => {
                            wake_at = Some(self.clock.to_instant(not_until.earliest_possible()));
                            break;
                        }
                        // Cannot happen after clamping to the capacity; let the request through.
                        Err(_) => {}
                    }
                }
                state.rpm_reserved = false;
                let Some(waiter) = state.queue.pop() else {
                    break;
                };
                state.in_flight += 1;
                let permit = Permit {
                    gate: Some(Arc::clone(self)),
                };
                if let Err(mut permit) = waiter.tx.send(permit) {
                    // The waiter left just now: undo without re-entering this lock.
                    permit.gate = None;
                    state.in_flight -= 1;
                    refused.push(permit);
                }
            }
            if let Some(at) = wake_at {
                if state.timer_at.is_some_and(|t| t <= at) {
                    wake_at = None;
                } else {
                    state.timer_at = Some(at);
                }
            }
        }
        drop(refused);
        if let Some(at) = wake_at {
            let gate = Arc::downgrade(self);
            tokio::spawn(async move {
                tokio::time::sleep_until(at).await;
                if let Some(gate) = gate.upgrade() {
                    {
                        let mut state = gate.lock();
                        if state.timer_at == Some(at) {
                            state.timer_at = None;
                        }
                    }
                    gate.pump();
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    /// Starts `n` acquirers with the given priorities (in that order of arrival) and records when
    /// and in which order they got in, each holding its permit for `hold`.
    async fn run(
        gate: &Arc<Gate>,
        priorities: &[Priority],
        tokens: u32,
        hold: Duration,
    ) -> Vec<(usize, Duration)> {
        let start = Instant::now();
        let log = Arc::new(StdMutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, &priority) in priorities.iter().enumerate() {
            let gate = Arc::clone(gate);
            let log = Arc::clone(&log);
            tasks.push(tokio::spawn(async move {
                let permit = gate.acquire(priority, tokens).await;
                log.lock().unwrap().push((i, start.elapsed()));
                tokio::time::sleep(hold).await;
                drop(permit);
            }));
            // Let each task enqueue before the next arrives.
            tokio::task::yield_now().await;
        }
        for task in tasks {
            task.await.unwrap();
        }
        Arc::try_unwrap(log).unwrap().into_inner().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn requests_per_minute_release_times_and_priority_order() {
        // 2 per minute: a burst of 2, then one every 30 s.
        let gate = Gate::new(GateLimits {
            requests_per_minute: 2,
            ..GateLimits::default()
        });
        use Priority::*;
        let log = run(
            &gate,
            &[Background, Background, Background, Action, Interactive],
            1,
            Duration::ZERO,
        )
        .await;
        let order: Vec<usize> = log.iter().map(|(i, _)| *i).collect();
        // The first two arrive to a free gate; the rest wait and go by priority.
        assert_eq!(order, vec![0, 1, 4, 3, 2]);
        let secs: Vec<u64> = log.iter().map(|(_, t)| t.as_secs()).collect();
        assert_eq!(secs, vec![0, 0, 30, 60, 90]);
        assert_eq!(
            gate.waits(),
            3,
            "the three that came to a spent limit waited"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_smaller_than_the_rate_spaces_requests_sooner() {
        // 60 per minute with a burst of 2: two at once, then one a second.
        let gate = Gate::new(GateLimits {
            requests_per_minute: 60,
            burst: 2,
            ..GateLimits::default()
        });
        let log = run(&gate, &[Priority::Interactive; 4], 1, Duration::ZERO).await;
        let secs: Vec<u64> = log.iter().map(|(_, t)| t.as_secs()).collect();
        assert_eq!(secs, vec![0, 0, 1, 2]);
    }

    #[tokio::test(start_paused = true)]
    async fn max_in_flight_queues_the_rest() {
        let gate = Gate::new(GateLimits {
            max_in_flight: 1,
            ..GateLimits::default()
        });
        use Priority::*;
        let log = run(
            &gate,
            &[Background, Background, Interactive],
            1,
            Duration::from_secs(1),
        )
        .await;
        let order: Vec<usize> = log.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, vec![0, 2, 1]);
        let secs: Vec<u64> = log.iter().map(|(_, t)| t.as_secs()).collect();
        assert_eq!(secs, vec![0, 1, 2]);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_per_minute_spaces_large_requests() {
        // 600 tokens per minute = 10 per second; each request costs 300 tokens (30 s of refill).
        let gate = Gate::new(GateLimits {
            tokens_per_minute: 600,
            ..GateLimits::default()
        });
        let log = run(&gate, &[Priority::Interactive; 4], 300, Duration::ZERO).await;
        let secs: Vec<u64> = log.iter().map(|(_, t)| t.as_secs()).collect();
        assert_eq!(secs, vec![0, 0, 30, 60]);
        // A request larger than the bucket is clamped to its size rather than refused forever.
        let log = run(&gate, &[Priority::Interactive], 10_000, Duration::ZERO).await;
        assert_eq!(log.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_waiters_leave_without_consuming() {
        let gate = Gate::new(GateLimits {
            requests_per_minute: 1,
            ..GateLimits::default()
        });
        let first = gate.acquire(Priority::Interactive, 1).await;
        drop(first);
        // This waiter would be next at 60 s; it gives up at 10 s.
        let gave_up = tokio::time::timeout(
            Duration::from_secs(10),
            gate.acquire(Priority::Interactive, 1),
        )
        .await;
        assert!(gave_up.is_err());
        assert_eq!(gate.queued(), 0);
        // The next request still gets the 60 s slot the cancelled one did not use.
        let start = Instant::now();
        let _permit = gate.acquire(Priority::Background, 1).await;
        assert_eq!((start.elapsed() + Duration::from_secs(10)).as_secs(), 60);
    }
}
