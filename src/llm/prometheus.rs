//! The Prometheus endpoint (`[metrics] listen = "127.0.0.1:9464"`, off by default): `/metrics`
//! in the Prometheus text format, served by `metrics-exporter-prometheus`'s own HTTP listener.
//!
//! The exporter's recorder is kept local (never installed as the process's global recorder), and
//! a task copies a snapshot of [`LlmMetrics`] into it every [`REFRESH`]: counters as absolute
//! values, and latency percentiles and states as gauges. A scrape therefore shows figures at
//! most that old. Nothing is written to stdout.

use std::net::SocketAddr;
use std::time::Duration;

use metrics::{Label, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use serde::{Deserialize, Serialize};
use tokio_util::task::AbortOnDropHandle;

use crate::llm::metrics::{LatencySummary, LlmMetrics};

/// How often the exported figures are brought up to date.
pub const REFRESH: Duration = Duration::from_millis(500);

/// Usage and metrics (`[metrics]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Where to serve Prometheus metrics (`/metrics`), for example `127.0.0.1:9464`; no address:
    /// no endpoint. Use a loopback address unless other machines must scrape it. When the port is
    /// taken (another editor window got it first), augur says so once and runs without it.
    #[schemars(extend("x-augur-user-only" = true))]
    pub listen: Option<String>,
    /// Whether requests, tokens and accepted completions are recorded per day and model in
    /// augur's data directory (`AUGUR_DATA_DIR`, else the user data directory), for `augur usage`.
    pub usage: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: None,
            usage: true,
        }
    }
}

/// A running endpoint; dropping it stops the refreshing (the listener ends with the runtime).
pub struct Exporter {
    address: SocketAddr,
    _refresh: AbortOnDropHandle<()>,
    _serve: AbortOnDropHandle<()>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("address", &self.address)
            .finish()
    }
}

impl Exporter {
    /// Serves `/metrics` at `listen`, with figures from `source` (`None` when there is nothing to
    /// show yet). Needs a tokio runtime. Fails with a sentence for the user when the address
    /// cannot be read or bound.
    pub fn start(
        listen: &str,
        source: impl Fn() -> Option<LlmMetrics> + Send + 'static,
    ) -> Result<Exporter, String> {
        let address: SocketAddr = listen.trim().parse().map_err(|e| {
            format!("`metrics.listen` = {listen:?} is not an address like 127.0.0.1:9464: {e}")
        })?;
        let (recorder, serve) = PrometheusBuilder::new()
            .with_http_listener(address)
            .build()
            .map_err(|e| format!("cannot serve Prometheus metrics on {address}: {e}"))?;
        let serve = tokio::spawn(async move {
            if let Err(e) = serve.await {
                tracing::warn!("the Prometheus endpoint stopped: {e:?}");
            }
        });
        let refresh = tokio::spawn(async move {
            loop {
                if let Some(metrics) = source() {
                    export(&recorder, &metrics);
                }
                tokio::time::sleep(REFRESH).await;
            }
        });
        tracing::info!("serving Prometheus metrics on http://{address}/metrics");
        Ok(Exporter {
            address,
            _refresh: AbortOnDropHandle::new(refresh),
            _serve: AbortOnDropHandle::new(serve),
        })
    }

    /// The address served.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

fn labels(pairs: &[(&'static str, &str)]) -> Vec<Label> {
    pairs
        .iter()
        .map(|(k, v)| Label::new(*k, v.to_string()))
        .collect()
}

/// Copies a snapshot into the recorder.
fn export(recorder: &PrometheusRecorder, m: &LlmMetrics) {
    metrics::with_local_recorder(recorder as &dyn Recorder, || {
        for model in &m.models {
            let l = labels(&[("model", &model.model)]);
            metrics::counter!("augur_model_requests_total", l.clone()).absolute(model.requests);
            metrics::counter!("augur_model_cache_hits_total", l.clone()).absolute(model.cache_hits);
            metrics::counter!("augur_model_coalesced_total", l.clone()).absolute(model.coalesced);
            metrics::counter!("augur_model_errors_total", l.clone()).absolute(model.errors);
            metrics::counter!("augur_model_tokens_in_total", l.clone()).absolute(model.tokens_in);
            metrics::counter!("augur_model_tokens_out_total", l).absolute(model.tokens_out);
        }
        for e in &m.endpoints {
            let l = labels(&[("model", &e.model), ("endpoint", &e.endpoint)]);
            metrics::counter!("augur_endpoint_attempts_total", l.clone()).absolute(e.requests);
            metrics::counter!("augur_endpoint_successes_total", l.clone()).absolute(e.successes);
            metrics::counter!("augur_endpoint_errors_total", l.clone()).absolute(e.errors);
            metrics::counter!("augur_endpoint_cancelled_total", l.clone()).absolute(e.cancelled);
            metrics::counter!("augur_endpoint_limiter_waits_total", l.clone())
                .absolute(e.limiter_waits);
            for (kind, n) in &e.errors_by_kind {
                let kl = labels(&[
                    ("model", &e.model),
                    ("endpoint", &e.endpoint),
                    ("kind", kind),
                ]);
                metrics::counter!("augur_endpoint_errors_by_kind_total", kl).absolute(*n);
            }
            metrics::counter!("augur_endpoint_retries_total", l.clone()).absolute(e.retries);
            metrics::gauge!("augur_endpoint_in_flight", l.clone()).set(e.in_flight as f64);
            metrics::gauge!("augur_endpoint_queued", l.clone()).set(e.queued as f64);
            metrics::gauge!("augur_endpoint_healthy", l.clone()).set(e.healthy as u8 as f64);
            let open = matches!(e.breaker, crate::llm::breaker::BreakerState::Open);
            metrics::gauge!("augur_endpoint_breaker_open", l).set(open as u8 as f64);
            quantiles("augur_endpoint_ttft_ms", &e.model, &e.endpoint, &e.ttft);
            quantiles("augur_endpoint_latency_ms", &e.model, &e.endpoint, &e.total);
        }
        metrics::counter!("augur_cache_hits_total").absolute(m.cache.hits);
        metrics::counter!("augur_cache_misses_total").absolute(m.cache.misses);
        metrics::gauge!("augur_cache_entries").set(m.cache.entries as f64);
        if let Some(s) = &m.shared {
            metrics::gauge!("augur_shared_up").set((s.state == "up") as u8 as f64);
            metrics::counter!("augur_shared_cache_hits_total").absolute(s.cache_hits);
            metrics::counter!("augur_shared_cache_misses_total").absolute(s.cache_misses);
            metrics::counter!("augur_shared_limiter_calls_total").absolute(s.limiter_calls);
            metrics::counter!("augur_shared_limiter_waits_total").absolute(s.limiter_waits);
            metrics::counter!("augur_shared_local_admissions_total")
                .absolute(s.fallback_admissions);
            metrics::counter!("augur_shared_outages_total").absolute(s.outages);
            metrics::gauge!("augur_shared_processes").set(s.processes_seen as f64);
        }
        let f = &m.features;
        metrics::counter!("augur_completions_requested_total").absolute(f.completions_requested);
        metrics::counter!("augur_completions_shown_total").absolute(f.completions_shown);
        metrics::counter!("augur_completions_accepted_total").absolute(f.completions_accepted);
        metrics::counter!("augur_actions_run_total").absolute(f.actions_run);
        metrics::counter!("augur_actions_applied_total").absolute(f.actions_applied);
    });
}

fn quantiles(name: &'static str, model: &str, endpoint: &str, summary: &LatencySummary) {
    for (quantile, value) in [
        ("0.5", summary.p50),
        ("0.95", summary.p95),
        ("0.99", summary.p99),
    ] {
        if let Some(value) = value {
            let l = labels(&[
                ("model", model),
                ("endpoint", endpoint),
                ("quantile", quantile),
            ]);
            metrics::gauge!(name, l).set(value.as_secs_f64() * 1000.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_the_figures_and_refuses_a_taken_port() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = taken.local_addr().unwrap().to_string();
        let refused = Exporter::start(&address, || None).unwrap_err();
        assert!(refused.contains(&address), "{refused}");
        assert!(
            Exporter::start("localhost:x", || None)
                .unwrap_err()
                .contains("metrics.listen")
        );
        drop(taken);

        let mut metrics = LlmMetrics::default();
        metrics.features.completions_accepted = 3;
        let exporter = Exporter::start("127.0.0.1:0", move || Some(metrics.clone()));
        // Port 0 binds a free port the exporter does not report; a real address is tested in
        // tests/lsp_metrics.rs. Here it is enough that binding succeeded.
        assert!(exporter.is_ok());
    }
}
