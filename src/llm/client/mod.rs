//! [`LlmClient`]: the one entry point for model requests.
//!
//! Around every backend it adds the cache (with coalescing of identical requests in flight), the
//! per-endpoint gate (rate limits, in-flight cap, priority queue), endpoint choice with circuit
//! breakers, health checks and failover, retries with backoff, timeouts, and metrics.
//!
//! Coalescing: identical cacheable requests in flight share one HTTP call, whole answers through
//! a shared future, streams through a broadcast that keeps every event, so that a caller joining
//! late reads the deltas sent before it came. Each caller keeps its own deadline: a streaming
//! caller past it gets the deadline error, even if events it has not read yet are waiting.
//!
//! Cancellation is by dropping: dropping the future of [`LlmClient::complete`] or the
//! [`CompletionStream`] of [`LlmClient::stream`] drops the HTTP response, which closes the
//! connection (a queued request leaves the queue without an HTTP call). Requests shared by
//! coalescing stop when the last caller drops them.
//!
//! The parts live in submodules: `sharing` (identical requests in flight share one run),
//! `endpoints` (building a model's endpoints and picking one), `probe` (the periodic health
//! probe), `attempts` (attempts, retries and failover), `errors` (what a failed HTTP attempt
//! means) and `stream` (the broadcast behind [`CompletionStream`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), augur::llm::LlmError> {
//! use std::collections::BTreeMap;
//! use augur::llm::{CompletionRequest, LlmClient, LlmDeps, ModelConfig};
//! let models = BTreeMap::from([("default".to_owned(), ModelConfig::default())]);
//! let client = LlmClient::new(&models, LlmDeps::default())?;
//! let answer = client
//!     .complete(CompletionRequest { prompt: "fn main() {".into(), ..CompletionRequest::new("default") })
//!     .await?;
//! println!("{} ({:?})", answer.text, answer.usage);
//! # Ok(()) }
//! ```

mod attempts;
mod endpoints;
mod errors;
mod probe;
mod sharing;
mod stream;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tokio::time::{Instant, timeout_at};
use tokio_util::task::AbortOnDropHandle;

use crate::llm::backend::{Api, Backend};
use crate::llm::breaker::Breaker;
use crate::llm::cache::ResponseCache;
use crate::llm::config::{LlmSettings, ModelConfig};
use crate::llm::error::LlmError;
use crate::llm::limits::Gate;
use crate::llm::metrics::{EndpointMetrics, EndpointStats, LlmMetrics, ModelMetrics};
use crate::llm::redact::{redact_request, restore_completion};
use crate::llm::shared::{SharedLimit, SharedMetrics, SharedTier};
use crate::llm::tokens::TokenCounter;
use crate::llm::types::{Completion, CompletionRequest, StreamEvent};
use crate::llm::usage::{FeatureCounters, FeatureEvent, UsageDelta, UsageLog};

use attempts::{Plan, run};
use probe::Probe;
use sharing::{InFlight, SharedRun};
pub use stream::CompletionStream;
use stream::{Broadcast, StreamDeadline, StreamRun};

/// Where API keys come from. The default reads the process environment at request time; tests
/// inject their own.
pub trait KeySource: Send + Sync {
    /// The value of the variable `name`, if set and not empty.
    fn get(&self, name: &str) -> Option<String>;
}

/// Reads keys from the process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvKeys;

impl KeySource for EnvKeys {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl<F: Fn(&str) -> Option<String> + Send + Sync> KeySource for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// What the client is built with besides the models.
#[derive(Clone, Default)]
pub struct LlmDeps {
    /// Global settings (the cache).
    pub settings: LlmSettings,
    /// An HTTP client to use for every endpoint instead of one built per connect timeout.
    pub http: Option<reqwest::Client>,
    /// Where keys come from; `None` reads the environment.
    pub keys: Option<Arc<dyn KeySource>>,
    /// Where usage is recorded per day and model (`augur usage` reads it); `None`: nowhere.
    pub usage: Option<Arc<UsageLog>>,
    /// Where notices for the user go (the shared tier's outages and recoveries).
    pub notices: Option<tokio::sync::mpsc::UnboundedSender<crate::llm::health::Notice>>,
}

impl std::fmt::Debug for LlmDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmDeps")
            .field("settings", &self.settings)
            .field("http", &self.http.is_some())
            .field("keys", &self.keys.is_some())
            .field("notices", &self.notices.is_some())
            .finish()
    }
}

/// The client. Cheap to clone (all clones share state); share it as `Arc<LlmClient>` or clone it.
#[derive(Clone)]
pub struct LlmClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("models", &self.model_names())
            .finish()
    }
}
struct Inner {
    models: RwLock<Arc<BTreeMap<String, Arc<ModelRuntime>>>>,
    cache: ResponseCache,
    cache_path: Option<PathBuf>,
    /// Whole-answer runs in flight.
    inflight: InFlight<SharedRun>,
    /// Streamed runs in flight.
    stream_inflight: InFlight<Arc<StreamRun>>,
    endpoint_stats: Mutex<HashMap<(String, String), Arc<EndpointStats>>>,
    model_stats: Mutex<BTreeMap<String, ModelMetrics>>,
    http: Option<reqwest::Client>,
    keys: Arc<dyn KeySource>,
    /// The shared tier on Redis, when `[llm.shared]` names one.
    shared: Option<Arc<SharedTier>>,
    /// How long answers stay cached (in Redis too).
    cache_ttl: std::time::Duration,
    features: FeatureCounters,
    usage: Option<Arc<UsageLog>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(path) = &self.cache_path
            && let Err(e) = self.cache.save(path)
        {
            tracing::warn!(code = e.code(), "could not save the LLM cache: {e}");
        }
    }
}

struct ModelRuntime {
    name: String,
    config: ModelConfig,
    api: Api,
    least_in_flight: bool,
    endpoints: Vec<Arc<EndpointRuntime>>,
    next: AtomicUsize,
    counter: TokenCounter,
    /// Everything about the model that shapes answers, for cache keys.
    identity: String,
    /// The task probing the endpoints' health, once started; dropping the model (the client
    /// dropped, or the model reconfigured) stops it.
    health_checks: OnceLock<AbortOnDropHandle<()>>,
}

struct EndpointRuntime {
    index: usize,
    base_url: String,
    display: String,
    backend: Box<dyn Backend>,
    model: String,
    api_key_env: Option<String>,
    http: reqwest::Client,
    gate: Arc<Gate>,
    breaker: Breaker,
    /// Whether the last health check passed (true until one fails).
    healthy: AtomicBool,
    stats: Arc<EndpointStats>,
    /// The limit shared with other processes (`shared = true` and a shared tier).
    shared_limit: Option<SharedLimit>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn config_error(model: &str, message: impl Into<String>) -> LlmError {
    LlmError::Config {
        model: model.to_owned(),
        message: message.into(),
    }
}

impl Inner {
    fn model(&self, name: &str) -> Result<Arc<ModelRuntime>, LlmError> {
        let models = Arc::clone(&self.models.read().unwrap_or_else(|e| e.into_inner()));
        models
            .get(name)
            .cloned()
            .ok_or_else(|| LlmError::UnknownModel { name: name.into() })
    }

    fn model_stat(&self, model: &str, f: impl FnOnce(&mut ModelMetrics)) {
        let mut stats = lock(&self.model_stats);
        let entry = stats
            .entry(model.to_owned())
            .or_insert_with(|| ModelMetrics {
                model: model.to_owned(),
                ..ModelMetrics::default()
            });
        f(entry);
    }

    /// Adds to the usage log, if there is one.
    pub(super) fn record_usage(&self, model: &str, delta: UsageDelta) {
        if let Some(usage) = &self.usage {
            usage.record(model, delta);
        }
    }

    /// Counts a cache hit for the model and for the endpoint that produced the answer (if it is
    /// still one of the model's).
    fn credit_cache_hit(&self, model: &ModelRuntime, hit: &Completion) {
        self.model_stat(&model.name, |m| m.cache_hits += 1);
        self.record_usage(
            &model.name,
            UsageDelta {
                cached: 1,
                ..UsageDelta::default()
            },
        );
        if let Some(endpoint) = model.endpoints.iter().find(|e| e.display == hit.endpoint) {
            endpoint.stats.with(|s| s.cache_hits += 1);
        }
    }

    fn stats_for(&self, model: &str, url: &str) -> Arc<EndpointStats> {
        Arc::clone(
            lock(&self.endpoint_stats)
                .entry((model.to_owned(), url.to_owned()))
                .or_default(),
        )
    }
}

/// Where an endpoint of a model stands, for `augur doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointInfo {
    /// The endpoint URL (without credentials).
    pub url: String,
    /// The backend protocol.
    pub backend: String,
    /// The model name sent to it.
    pub model: String,
    /// The environment variable holding its key, if any.
    pub api_key_env: Option<String>,
    /// Whether a model missing from its model list makes requests fail.
    pub model_must_be_listed: bool,
}

impl LlmClient {
    /// A client for these models. Fails if a model's configuration cannot work.
    pub fn new(
        models: &BTreeMap<String, ModelConfig>,
        deps: LlmDeps,
    ) -> Result<LlmClient, LlmError> {
        // reqwest is built without a default TLS provider; install ring once (a second install
        // by the binary or another client is harmlessly refused).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cache = ResponseCache::new(&deps.settings.cache);
        let cache_path = deps.settings.cache.path.clone().filter(|_| cache.enabled());
        if let Some(path) = &cache_path
            && let Err(e) = cache.load(path)
        {
            tracing::warn!(code = e.code(), "could not load the LLM cache: {e}");
        }
        let keys: Arc<dyn KeySource> = deps.keys.unwrap_or_else(|| Arc::new(EnvKeys));
        let shared_config = &deps.settings.shared;
        let password = shared_config
            .redis_password_env
            .as_deref()
            .and_then(|name| {
                let value = keys.get(name);
                if value.is_none() {
                    tracing::warn!(
                        "`[llm.shared] redis_password_env` names {name}, which is not set; \
                     connecting to Redis without a password"
                    );
                }
                value
            });
        let shared = SharedTier::new(shared_config, password, deps.notices)?;
        let inner = Arc::new(Inner {
            models: RwLock::new(Arc::new(BTreeMap::new())),
            cache,
            cache_path,
            inflight: InFlight::default(),
            stream_inflight: InFlight::default(),
            endpoint_stats: Mutex::new(HashMap::new()),
            model_stats: Mutex::new(BTreeMap::new()),
            http: deps.http,
            keys,
            shared,
            cache_ttl: std::time::Duration::from_millis(deps.settings.cache.ttl_ms),
            features: FeatureCounters::default(),
            usage: deps.usage,
        });
        if let Some(tier) = &inner.shared {
            tier.start();
        }
        let client = LlmClient { inner };
        client.reconfigure(models)?;
        Ok(client)
    }

    /// Replaces the models; takes effect on the next request (running ones finish as they
    /// started). Unchanged models keep their queues, limits and breakers. On error nothing changes.
    pub fn reconfigure(&self, models: &BTreeMap<String, ModelConfig>) -> Result<(), LlmError> {
        let old = Arc::clone(&self.inner.models.read().unwrap_or_else(|e| e.into_inner()));
        let built = self.inner.build_models(models, &old)?;
        for model in built.values() {
            model.start_health_checks(&self.inner.keys);
        }
        *self.inner.models.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(built);
        Ok(())
    }

    /// The configured model names.
    pub fn model_names(&self) -> Vec<String> {
        self.inner
            .models
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// The endpoints of a model.
    pub fn endpoints(&self, model: &str) -> Result<Vec<EndpointInfo>, LlmError> {
        let model = self.inner.model(model)?;
        Ok(model
            .endpoints
            .iter()
            .map(|e| EndpointInfo {
                url: e.display.clone(),
                backend: e.backend.name().into(),
                model: e.model.clone(),
                api_key_env: e.api_key_env.clone(),
                model_must_be_listed: e.backend.model_must_be_listed(),
            })
            .collect())
    }

    /// One completion, returned whole. Secrets in the request are sent as placeholders and put
    /// back into the answer (see [`crate::llm::redact`]).
    pub async fn complete(&self, mut request: CompletionRequest) -> Result<Completion, LlmError> {
        let redactions = redact_request(&mut request);
        let completion = self.complete_redacted(request).await?;
        Ok(restore_completion(redactions.as_deref(), completion))
    }

    async fn complete_redacted(&self, request: CompletionRequest) -> Result<Completion, LlmError> {
        let started = Instant::now();
        let model = self.inner.model(&request.model)?;
        model.start_health_checks(&self.inner.keys);
        let name = model.name.clone();
        self.inner.model_stat(&name, |m| m.requests += 1);
        let deadline = request.deadline.map(|d| started + d);
        let cacheable = request.use_cache && model.config.cache && self.inner.cache.enabled();
        let plan = Arc::new(Plan::new(&model, request));
        let result = if cacheable {
            let key = plan.cache_key(&model);
            if let Some(hit) = self.inner.cache_hit(&model, &key, started) {
                return Ok(hit);
            }
            let shared = self.inner.coalesced(key, &model, plan);
            with_deadline(deadline, started, shared).await
        } else {
            let inner = Arc::clone(&self.inner);
            with_deadline(deadline, started, async move {
                run(&inner, &model, &plan, None, None).await
            })
            .await
        };
        if result.is_err() {
            self.inner.model_stat(&name, |m| m.errors += 1);
        }
        result
    }

    /// One completion, streamed. Errors that need no HTTP call (unknown model) come at once; the
    /// others arrive as the stream's last item. Needs a tokio runtime. Secrets in the request are
    /// sent as placeholders and put back into the answer (see [`crate::llm::redact`]).
    pub fn stream(&self, mut request: CompletionRequest) -> Result<CompletionStream, LlmError> {
        let redactions = redact_request(&mut request);
        Ok(self.stream_redacted(request)?.restoring(redactions))
    }

    fn stream_redacted(
        &self,
        mut request: CompletionRequest,
    ) -> Result<CompletionStream, LlmError> {
        let started = Instant::now();
        let model = self.inner.model(&request.model)?;
        model.start_health_checks(&self.inner.keys);
        self.inner.model_stat(&model.name, |m| m.requests += 1);
        request.stream = true;
        let deadline = request.deadline.map(|d| started + d);
        let cacheable = request.use_cache && model.config.cache && self.inner.cache.enabled();
        let plan = Plan::new(&model, request);
        let key = cacheable.then(|| plan.cache_key(&model));
        if let Some(key) = key
            && let Some(hit) = self.inner.cache_hit(&model, &key, started)
        {
            let events = vec![
                Ok(StreamEvent::Delta(hit.text.clone())),
                Ok(StreamEvent::Done(hit)),
            ];
            let run = Arc::new(StreamRun {
                broadcast: Arc::new(Broadcast::finished(events)),
                _task: None,
            });
            return Ok(CompletionStream::reading(run, None, None));
        }
        let deadline = deadline.map(|at| StreamDeadline {
            sleep: Box::pin(tokio::time::sleep_until(at)),
            started,
        });
        let errors = Some((Arc::downgrade(&self.inner), model.name.clone()));
        let run = match key {
            Some(key) => self.inner.shared_stream(key, &model, plan),
            None => Arc::new(self.inner.start_stream(None, model, plan)),
        };
        Ok(CompletionStream::reading(run, deadline, errors))
    }

    /// The token counter of a model (see [`crate::llm::tokens`]), to count many pieces without
    /// looking the model up each time; `None` for an unknown model.
    pub fn token_counter(&self, model: &str) -> Option<TokenCounter> {
        self.inner.model(model).ok().map(|m| m.counter.clone())
    }

    /// The number of tokens in `text` for a model (see [`crate::llm::tokens`]).
    pub fn count_tokens(&self, model: &str, text: &str) -> Result<usize, LlmError> {
        Ok(self.inner.model(model)?.counter.count(text))
    }

    /// The model names a model's first endpoint serves (for `augur doctor`).
    pub async fn list_models(&self, model: &str) -> Result<Vec<String>, LlmError> {
        let model = self.inner.model(model)?;
        let Some(endpoint) = model.endpoints.first() else {
            return Ok(Vec::new());
        };
        let probe = Probe::new(&model.config, &self.inner.keys);
        endpoint.list_models(&probe).await
    }

    /// A snapshot of the metrics.
    pub fn metrics(&self) -> LlmMetrics {
        let models = Arc::clone(&self.inner.models.read().unwrap_or_else(|e| e.into_inner()));
        let mut endpoints = Vec::new();
        for model in models.values() {
            for e in &model.endpoints {
                let (counters, ttft, total, errors_by_kind) = e.stats.with(|s| {
                    (
                        [
                            s.requests,
                            s.successes,
                            s.errors,
                            s.cancelled,
                            s.retries,
                            s.tokens_in,
                            s.tokens_out,
                            s.cache_hits,
                        ],
                        s.ttft.summary(),
                        s.total.summary(),
                        s.errors_by_kind
                            .iter()
                            .map(|(kind, n)| ((*kind).to_owned(), *n))
                            .collect(),
                    )
                });
                endpoints.push(EndpointMetrics {
                    model: model.name.clone(),
                    endpoint: e.display.clone(),
                    backend: e.backend.name().into(),
                    requests: counters[0],
                    successes: counters[1],
                    errors: counters[2],
                    cancelled: counters[3],
                    errors_by_kind,
                    limiter_waits: e.gate.waits(),
                    retries: counters[4],
                    tokens_in: counters[5],
                    tokens_out: counters[6],
                    cache_hits: counters[7],
                    healthy: e.is_healthy(),
                    in_flight: e.gate.in_flight(),
                    queued: e.gate.queued(),
                    breaker: e.breaker.state(),
                    ttft,
                    total,
                });
            }
        }
        let mut model_metrics = lock(&self.inner.model_stats).clone();
        for name in models.keys() {
            model_metrics
                .entry(name.clone())
                .or_insert_with(|| ModelMetrics {
                    model: name.clone(),
                    ..ModelMetrics::default()
                });
        }
        LlmMetrics {
            endpoints,
            models: model_metrics.into_values().collect(),
            cache: self.inner.cache.stats(),
            shared: self.shared_metrics(),
            features: self.inner.features.snapshot(),
        }
    }

    /// Counts what a feature did (for `augur/metrics`).
    pub fn record_feature(&self, event: FeatureEvent) {
        self.inner.features.record(event);
    }

    /// Counts a suggestion of `model` the user accepted (also in the usage log).
    pub fn record_accepted(&self, model: &str) {
        self.inner.features.record(FeatureEvent::CompletionAccepted);
        self.inner.record_usage(
            model,
            UsageDelta {
                accepted: 1,
                ..UsageDelta::default()
            },
        );
    }

    /// Writes the usage recorded so far to its file now.
    pub fn flush_usage(&self) {
        if let Some(usage) = &self.inner.usage {
            usage.flush();
        }
    }

    /// The shared tier's counters, when there is a shared tier.
    pub fn shared_metrics(&self) -> Option<SharedMetrics> {
        self.inner.shared.as_ref().map(|tier| tier.metrics())
    }

    /// The shared tier, when `[llm.shared]` names a Redis.
    pub fn shared_tier(&self) -> Option<&Arc<SharedTier>> {
        self.inner.shared.as_ref()
    }

    /// Saves the cache to its file now (it is also saved when the last clone is dropped).
    pub fn save_cache(&self) -> Result<(), LlmError> {
        match &self.inner.cache_path {
            Some(path) => self.inner.cache.save(path),
            None => Ok(()),
        }
    }

    /// Empties the cache.
    pub fn clear_cache(&self) {
        self.inner.cache.clear();
    }
}

async fn with_deadline(
    deadline: Option<Instant>,
    started: Instant,
    future: impl std::future::Future<Output = Result<Completion, LlmError>>,
) -> Result<Completion, LlmError> {
    match deadline {
        None => future.await,
        Some(deadline) => match timeout_at(deadline, future).await {
            Ok(result) => result,
            Err(_) => Err(LlmError::DeadlineExceeded {
                after: started.elapsed(),
            }),
        },
    }
}
