//! Usage and latency metrics: per endpoint (requests, errors, retries, tokens, cache hits, health,
//! time to first token and total latency percentiles) and per model (requests, cache hits, tokens),
//! exposed as plain structs.
//!
//! Latency percentiles are computed over the most recent [`WINDOW`] samples of each endpoint.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::llm::breaker::BreakerState;
use crate::llm::cache::CacheStats;
use crate::llm::shared::SharedMetrics;
use crate::llm::usage::FeatureMetrics;

/// How many recent samples the percentiles are computed over.
pub const WINDOW: usize = 1024;

/// A window of recent latencies.
#[derive(Debug, Default)]
pub(crate) struct Histogram {
    samples: VecDeque<Duration>,
}

impl Histogram {
    pub(crate) fn record(&mut self, value: Duration) {
        if self.samples.len() == WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back(value);
    }

    pub(crate) fn summary(&self) -> LatencySummary {
        let mut sorted: Vec<Duration> = self.samples.iter().copied().collect();
        sorted.sort_unstable();
        // The nearest-rank percentile: the smallest sample with at least p% of samples at or below.
        let pick = |p: f64| {
            if sorted.is_empty() {
                return None;
            }
            let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
            sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
        };
        LatencySummary {
            count: sorted.len(),
            p50: pick(50.0),
            p95: pick(95.0),
            p99: pick(99.0),
        }
    }
}

/// Percentiles of a latency, serialised in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LatencySummary {
    /// Samples in the window.
    pub count: usize,
    /// The median, in milliseconds.
    #[serde(serialize_with = "as_ms")]
    #[schemars(with = "Option<f64>")]
    pub p50: Option<Duration>,
    /// The 95th percentile, in milliseconds.
    #[serde(serialize_with = "as_ms")]
    #[schemars(with = "Option<f64>")]
    pub p95: Option<Duration>,
    /// The 99th percentile, in milliseconds.
    #[serde(serialize_with = "as_ms")]
    #[schemars(with = "Option<f64>")]
    pub p99: Option<Duration>,
}

fn as_ms<S: serde::Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(d) => s.serialize_some(&(d.as_secs_f64() * 1000.0)),
        None => s.serialize_none(),
    }
}

/// Counters of one endpoint, kept across reconfigurations while its model and URL stay.
#[derive(Debug, Default)]
pub(crate) struct EndpointCounters {
    pub(crate) requests: u64,
    pub(crate) successes: u64,
    pub(crate) errors: u64,
    pub(crate) cancelled: u64,
    pub(crate) errors_by_kind: BTreeMap<&'static str, u64>,
    pub(crate) retries: u64,
    pub(crate) tokens_in: u64,
    pub(crate) tokens_out: u64,
    pub(crate) cache_hits: u64,
    pub(crate) ttft: Histogram,
    pub(crate) total: Histogram,
}

/// Shared, locked counters of one endpoint.
#[derive(Debug, Default)]
pub(crate) struct EndpointStats(pub(crate) Mutex<EndpointCounters>);

impl EndpointStats {
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut EndpointCounters) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Counters of one model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ModelMetrics {
    /// The configured model name.
    pub model: String,
    /// Requests made to this model (cache hits included).
    pub requests: u64,
    /// Requests answered from the cache.
    pub cache_hits: u64,
    /// Requests that shared another identical request's call.
    pub coalesced: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Prompt tokens reported by servers.
    pub tokens_in: u64,
    /// Generated tokens reported by servers.
    pub tokens_out: u64,
}

/// Metrics of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct EndpointMetrics {
    /// The configured model name.
    pub model: String,
    /// The endpoint URL (without credentials).
    pub endpoint: String,
    /// The backend protocol.
    pub backend: String,
    /// HTTP attempts made.
    pub requests: u64,
    /// Attempts that succeeded.
    pub successes: u64,
    /// Attempts that failed.
    pub errors: u64,
    /// Attempts dropped before they ended (a stream stopped early, a cancelled request).
    pub cancelled: u64,
    /// Failed attempts by the error's stable code (`llm.connect`, `llm.server`, ...).
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Requests that had to wait in this endpoint's queue (its limits or its in-flight cap).
    pub limiter_waits: u64,
    /// Attempts that were retries of an earlier one.
    pub retries: u64,
    /// Prompt tokens reported by the server.
    pub tokens_in: u64,
    /// Generated tokens reported by the server.
    pub tokens_out: u64,
    /// Requests answered from the cache with an answer this endpoint produced.
    pub cache_hits: u64,
    /// Whether the last health check passed (true when the endpoint is not probed).
    pub healthy: bool,
    /// Requests running now.
    pub in_flight: u32,
    /// Requests waiting in the queue now.
    pub queued: usize,
    /// The circuit breaker.
    pub breaker: BreakerState,
    /// Time to the first token.
    pub ttft: LatencySummary,
    /// Time for the whole attempt.
    pub total: LatencySummary,
}

/// Everything the client measures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LlmMetrics {
    /// Per endpoint, ordered by model then URL.
    pub endpoints: Vec<EndpointMetrics>,
    /// Per model, ordered by name.
    pub models: Vec<ModelMetrics>,
    /// The response cache.
    pub cache: CacheStats,
    /// The shared tier on Redis, when one is configured.
    pub shared: Option<SharedMetrics>,
    /// What the features did (completions requested, shown, accepted; code actions).
    pub features: FeatureMetrics,
}

fn ms(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
        .unwrap_or_else(|| "-".into())
}

impl fmt::Display for LlmMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.models {
            writeln!(
                f,
                "model {}: {} requests, {} cache hits, {} coalesced, {} errors, {} tokens in, {} out",
                m.model, m.requests, m.cache_hits, m.coalesced, m.errors, m.tokens_in, m.tokens_out
            )?;
        }
        for e in &self.endpoints {
            writeln!(
                f,
                "  {} {} [{}]: {} attempts ({} ok, {} errors, {} cancelled, {} retries), {} cache hits, {} in flight, {} queued, breaker {:?}, {}",
                e.model,
                e.endpoint,
                e.backend,
                e.requests,
                e.successes,
                e.errors,
                e.cancelled,
                e.retries,
                e.cache_hits,
                e.in_flight,
                e.queued,
                e.breaker,
                if e.healthy { "healthy" } else { "unhealthy" }
            )?;
            writeln!(
                f,
                "    ttft ms p50/p95/p99 {}/{}/{}, total ms p50/p95/p99 {}/{}/{}",
                ms(e.ttft.p50),
                ms(e.ttft.p95),
                ms(e.ttft.p99),
                ms(e.total.p50),
                ms(e.total.p95),
                ms(e.total.p99)
            )?;
        }
        let features = &self.features;
        writeln!(
            f,
            "completions: {} requested, {} shown, {} accepted; code actions: {} run, {} applied",
            features.completions_requested,
            features.completions_shown,
            features.completions_accepted,
            features.actions_run,
            features.actions_applied
        )?;
        writeln!(
            f,
            "cache: {} entries, {} hits, {} misses, {} evictions, {} expired",
            self.cache.entries,
            self.cache.hits,
            self.cache.misses,
            self.cache.evictions,
            self.cache.expirations
        )?;
        if let Some(shared) = &self.shared {
            writeln!(
                f,
                "shared tier {} ({}{}): {} hits, {} misses, {} stored; limiter {} calls, {} waits, {} local admissions, {} outages, {} processes seen",
                shared.redis,
                shared.state,
                shared
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default(),
                shared.cache_hits,
                shared.cache_misses,
                shared.cache_stores,
                shared.limiter_calls,
                shared.limiter_waits,
                shared.fallback_admissions,
                shared.outages,
                shared.processes_seen
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut h = Histogram::default();
        assert_eq!(h.summary().p50, None);
        for ms in 1..=100 {
            h.record(Duration::from_millis(ms));
        }
        let s = h.summary();
        assert_eq!(s.count, 100);
        assert_eq!(s.p50, Some(Duration::from_millis(50)));
        assert_eq!(s.p95, Some(Duration::from_millis(95)));
        assert_eq!(s.p99, Some(Duration::from_millis(99)));
    }

    #[test]
    fn window_keeps_recent_samples() {
        let mut h = Histogram::default();
        for _ in 0..WINDOW {
            h.record(Duration::from_secs(10));
        }
        for _ in 0..WINDOW {
            h.record(Duration::from_millis(1));
        }
        assert_eq!(h.summary().p99, Some(Duration::from_millis(1)));
    }
}
