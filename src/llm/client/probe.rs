//! Endpoint health: the periodic probe of a model's endpoints by their model-list call, and what
//! its outcome says about an endpoint.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::{Instant, timeout_at};
use tokio_util::task::AbortOnDropHandle;

use super::errors::{status_failure, transport_error, wire_failure};
use super::{EndpointRuntime, KeySource, ModelRuntime};
use crate::llm::backend::join_url;
use crate::llm::config::ModelConfig;
use crate::llm::error::{LlmError, TimeoutPhase};
use crate::llm::reply::{MODEL_LIST_BYTES, read_whole};

impl ModelRuntime {
    /// Starts probing the endpoints' health if the model is configured for it and it has not
    /// started yet. Needs a tokio runtime; without one it does nothing (the next request, which
    /// runs on a runtime, starts it).
    pub(super) fn start_health_checks(&self, keys: &Arc<dyn KeySource>) {
        let interval = Duration::from_millis(self.config.health_check_interval_ms);
        if interval.is_zero() || self.endpoints.len() < 2 || self.health_checks.get().is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.health_checks.get_or_init(|| {
            let probe = Probe::new(&self.config, keys);
            let endpoints = self.endpoints.clone();
            AbortOnDropHandle::new(runtime.spawn(health_checks(endpoints, probe, interval)))
        });
    }
}

/// How an endpoint is asked for its model list.
pub(super) struct Probe {
    keys: Arc<dyn KeySource>,
    /// The bound of the whole call.
    timeout: Duration,
    /// The configured connect timeout, for its error.
    connect_timeout: Duration,
}

impl Probe {
    /// The probe of a model's endpoints: bounded by its first-token timeout, with keys from `keys`.
    pub(super) fn new(config: &ModelConfig, keys: &Arc<dyn KeySource>) -> Probe {
        Probe {
            keys: Arc::clone(keys),
            timeout: Duration::from_millis(config.first_token_timeout_ms),
            connect_timeout: Duration::from_millis(config.connect_timeout_ms),
        }
    }
}

/// Probes every endpoint at once, then again every `interval`, until aborted.
async fn health_checks(endpoints: Vec<Arc<EndpointRuntime>>, probe: Probe, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        futures::future::join_all(endpoints.iter().map(|endpoint| async {
            let result = endpoint.list_models(&probe).await;
            endpoint.record_health(result.as_ref().err());
        }))
        .await;
    }
}

impl EndpointRuntime {
    pub(super) fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Records the outcome of a health check. Errors that show the endpoint cannot serve requests
    /// make it unhealthy; an answer it could give (even a 404 from a server without a model list)
    /// shows it alive.
    fn record_health(&self, error: Option<&LlmError>) {
        let failure = error.filter(|e| {
            matches!(
                e,
                LlmError::Connect { .. }
                    | LlmError::Timeout { .. }
                    | LlmError::Server { .. }
                    | LlmError::Interrupted { .. }
                    | LlmError::Unauthorized { .. }
                    | LlmError::MissingApiKey { .. }
            )
        });
        let healthy = failure.is_none();
        let was = self.healthy.swap(healthy, Ordering::Relaxed);
        match failure {
            Some(error) if was => tracing::warn!(
                code = error.code(),
                endpoint = %self.display,
                "LLM endpoint failed its health check; requests go elsewhere: {error}"
            ),
            None if !was => tracing::info!(
                endpoint = %self.display,
                "LLM endpoint passed its health check again"
            ),
            _ => {}
        }
    }

    /// The model names the endpoint serves, by the backend's model-list call (an empty list for a
    /// backend without one).
    pub(super) async fn list_models(&self, probe: &Probe) -> Result<Vec<String>, LlmError> {
        let Some(call) = self.backend.list_models() else {
            return Ok(Vec::new());
        };
        let mut builder = self.http.get(join_url(&self.base_url, &call));
        for (name, value) in &call.headers {
            builder = builder.header(*name, value);
        }
        if let Some(env) = &self.api_key_env {
            let key = probe
                .keys
                .get(env)
                .ok_or_else(|| LlmError::MissingApiKey { env: env.clone() })?;
            for (name, value) in self.backend.auth_headers(&key) {
                builder = builder.header(name, value);
            }
        }
        let deadline = Instant::now() + probe.timeout;
        let response = match timeout_at(deadline, builder.send()).await {
            Err(_) => {
                return Err(LlmError::Timeout {
                    endpoint: self.display.clone(),
                    phase: TimeoutPhase::FirstToken,
                    after: probe.timeout,
                });
            }
            Ok(Err(e)) => return Err(transport_error(self, e, probe.connect_timeout)),
            Ok(Ok(response)) => response,
        };
        if !response.status().is_success() {
            return Err(status_failure(self, response, deadline).await.error);
        }
        let body = match timeout_at(deadline, read_whole(response, MODEL_LIST_BYTES)).await {
            Ok(Ok(body)) => serde_json::from_slice::<serde_json::Value>(&body).ok(),
            Ok(Err(error)) => return Err(wire_failure(self, error).error),
            Err(_) => None,
        };
        let Some(body) = body else {
            return Err(LlmError::Protocol {
                endpoint: self.display.clone(),
                message: "the model list is not JSON".into(),
            });
        };
        Ok(self.backend.parse_models(&body))
    }
}
