//! Endpoint choice: building a model's endpoints from its configuration, and picking the
//! endpoint for an attempt (round robin or least in flight, healthy ones and closed breakers
//! first), with the breaker slot the attempt holds.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::{EndpointRuntime, Inner, ModelRuntime, config_error};
use crate::llm::backend::backend_of;
use crate::llm::breaker::Breaker;
use crate::llm::config::{BackendKind, ModelConfig, Strategy};
use crate::llm::error::{LlmError, redact_url};
use crate::llm::limits::{Gate, GateLimits};
use crate::llm::shared::{self, SharedLimit};
use crate::llm::tokens::TokenCounter;

impl Inner {
    pub(super) fn build_model(
        &self,
        name: &str,
        config: &ModelConfig,
        clients: &mut HashMap<u64, reqwest::Client>,
    ) -> Result<ModelRuntime, LlmError> {
        let api = config.api;
        let least_in_flight = config.strategy == Strategy::LeastInFlight;
        let counter = TokenCounter::from_config(&config.tokenizer, &config.model)
            .map_err(|problem| config_error(name, problem))?;
        if let Some(template) = &config.fim_template
            && !(template.contains("{prefix}") && template.contains("{suffix}"))
        {
            return Err(config_error(
                name,
                "`fim_template` must contain {prefix} and {suffix}",
            ));
        }
        let specs: Vec<(String, BackendKind, String, Option<String>)> =
            if config.endpoints.is_empty() {
                vec![(
                    config.url.clone(),
                    config.backend,
                    config.model.clone(),
                    config.api_key_env.clone(),
                )]
            } else {
                config
                    .endpoints
                    .iter()
                    .map(|e| {
                        (
                            e.url.clone(),
                            e.backend.unwrap_or(config.backend),
                            e.model.clone().unwrap_or_else(|| config.model.clone()),
                            e.api_key_env.clone().or_else(|| config.api_key_env.clone()),
                        )
                    })
                    .collect()
            };
        // Limits shared through Redis are enforced there; the local gate then keeps only the
        // in-flight cap and the priority queue.
        let shared_tier = self.shared.as_ref().filter(|_| config.shared);
        let limits = match shared_tier {
            Some(_) => GateLimits {
                max_in_flight: config.max_in_flight,
                ..GateLimits::default()
            },
            None => GateLimits {
                requests_per_minute: config.requests_per_minute,
                tokens_per_minute: config.tokens_per_minute,
                burst: config.burst,
                max_in_flight: config.max_in_flight,
            },
        };
        let shared_limits = shared::limiter::Limits {
            requests_per_minute: config.requests_per_minute,
            burst: if config.burst == 0 {
                config.requests_per_minute
            } else {
                config.burst
            },
            tokens_per_minute: config.tokens_per_minute,
        };
        let any_limit = config.requests_per_minute > 0 || config.tokens_per_minute > 0;
        let mut endpoints = Vec::new();
        let mut identity = format!(
            "{:?}|{:?}|{:?}|",
            config.api.as_str(),
            config.fim_template,
            config.system_prompt
        );
        for (index, (url, backend_name, model, api_key_env)) in specs.into_iter().enumerate() {
            let backend = backend_of(backend_name);
            let parsed = reqwest::Url::parse(&url).map_err(|e| {
                config_error(
                    name,
                    format!("`url` {} is not a URL: {e}", redact_url(&url)),
                )
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(config_error(
                    name,
                    format!("`url` {} must be http or https", redact_url(&url)),
                ));
            }
            let http = match &self.http {
                Some(http) => http.clone(),
                None => match clients.get(&config.connect_timeout_ms) {
                    Some(http) => http.clone(),
                    None => {
                        let http = reqwest::Client::builder()
                            .connect_timeout(Duration::from_millis(
                                config.connect_timeout_ms.max(1),
                            ))
                            .tcp_nodelay(true)
                            .build()
                            .map_err(|e| {
                                config_error(name, format!("cannot build the HTTP client: {e}"))
                            })?;
                        clients.insert(config.connect_timeout_ms, http.clone());
                        http
                    }
                },
            };
            let display = redact_url(&url);
            let shared_limit = shared_tier
                .filter(|_| any_limit)
                .map(|tier| SharedLimit::new(Arc::clone(tier), shared_limits, &url, &model));
            identity.push_str(&format!("{backend_name}|{url}|{model}\n"));
            endpoints.push(Arc::new(EndpointRuntime {
                index,
                stats: self.stats_for(name, &display),
                base_url: url,
                display,
                backend,
                model,
                api_key_env,
                http,
                gate: Gate::new(limits),
                breaker: Breaker::new(
                    config.breaker_failures,
                    Duration::from_millis(config.breaker_cooldown_ms),
                ),
                healthy: AtomicBool::new(true),
                shared_limit,
            }));
        }
        Ok(ModelRuntime {
            name: name.to_owned(),
            config: config.clone(),
            api,
            least_in_flight,
            endpoints,
            next: AtomicUsize::new(0),
            counter,
            identity,
            health_checks: OnceLock::new(),
        })
    }

    pub(super) fn build_models(
        &self,
        models: &BTreeMap<String, ModelConfig>,
        old: &BTreeMap<String, Arc<ModelRuntime>>,
    ) -> Result<BTreeMap<String, Arc<ModelRuntime>>, LlmError> {
        let mut clients = HashMap::new();
        let mut built = BTreeMap::new();
        for (name, config) in models {
            let runtime = match old.get(name) {
                // An unchanged model keeps its queues, limiters and breakers.
                Some(existing) if existing.config == *config => Arc::clone(existing),
                _ => Arc::new(self.build_model(name, config, &mut clients)?),
            };
            built.insert(name.clone(), runtime);
        }
        Ok(built)
    }
}

impl ModelRuntime {
    /// Picks an endpoint whose breaker lets a request through, preferring those not in `avoid`.
    pub(super) fn pick(&self, avoid: &[usize]) -> Result<(Arc<EndpointRuntime>, Trial), Duration> {
        let n = self.endpoints.len();
        let mut order: Vec<usize> = if self.least_in_flight {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&i| {
                let gate = &self.endpoints[i].gate;
                (gate.in_flight() as usize + gate.queued(), i)
            });
            order
        } else {
            let start = self.next.fetch_add(1, Ordering::Relaxed);
            (0..n).map(|i| (start + i) % n).collect()
        };
        // Endpoints whose health check failed go last (they are used only when no healthy one can
        // take the request), and among the others those that failed this request.
        order.sort_by_key(|&i| (!self.endpoints[i].is_healthy(), avoid.contains(&i)));
        let mut retry_in = Duration::MAX;
        for i in order {
            let endpoint = &self.endpoints[i];
            if endpoint.breaker.try_acquire() {
                return Ok((
                    Arc::clone(endpoint),
                    Trial {
                        endpoint: Arc::clone(endpoint),
                        settled: false,
                    },
                ));
            }
            retry_in = retry_in.min(endpoint.breaker.retry_in());
        }
        Err(retry_in)
    }

    /// Whether an endpoint not in `avoid` is available now (a healthy one, unless none is).
    pub(super) fn has_other(&self, avoid: &[usize]) -> bool {
        let any_healthy = self.endpoints.iter().any(|e| e.is_healthy());
        self.endpoints.iter().any(|e| {
            !avoid.contains(&e.index)
                && (e.is_healthy() || !any_healthy)
                && e.breaker.state() != crate::llm::breaker::BreakerState::Open
        })
    }
}

/// A breaker slot taken for one attempt; dropping it unsettled (cancellation) gives it back.
pub(super) struct Trial {
    endpoint: Arc<EndpointRuntime>,
    settled: bool,
}

impl Trial {
    pub(super) fn success(mut self) {
        self.settled = true;
        self.endpoint.breaker.record_success();
    }

    pub(super) fn failure(mut self) {
        self.settled = true;
        self.endpoint.breaker.record_failure();
    }
}

impl Drop for Trial {
    fn drop(&mut self) {
        if !self.settled {
            self.endpoint.breaker.release_trial();
        }
    }
}
