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

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures::future::{BoxFuture, Shared, WeakShared};
use futures::{FutureExt, Stream, StreamExt};
use tokio::time::{Instant, timeout_at};
use tokio_util::task::AbortOnDropHandle;

use crate::llm::backend::{
    Api, Backend, Event, Framing, Method, ParseError, WireRequest, backend_for, error_message,
    join_url,
};
use crate::llm::breaker::Breaker;
use crate::llm::cache::{CacheKey, ResponseCache};
use crate::llm::config::{LlmSettings, ModelConfig};
use crate::llm::error::{LlmError, ReplyPart, TimeoutPhase, redact_url};
use crate::llm::limits::{Gate, GateLimits};
use crate::llm::metrics::{EndpointMetrics, EndpointStats, LlmMetrics, ModelMetrics};
use crate::llm::redact::{RestoringStream, redact_request, restore_completion};
use crate::llm::reply::{
    ERROR_BODY_BYTES, MODEL_LIST_BYTES, ReplyLimits, WireError, WireSource, read_prefix, read_whole,
};
use crate::llm::tokens::TokenCounter;
use crate::llm::types::{Completion, CompletionRequest, FinishReason, StreamEvent, Usage};

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
}

impl std::fmt::Debug for LlmDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmDeps")
            .field("settings", &self.settings)
            .field("http", &self.http.is_some())
            .field("keys", &self.keys.is_some())
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

type RunFuture = BoxFuture<'static, Result<Completion, LlmError>>;
type SharedRun = Shared<RunFuture>;

/// A run that identical requests share, and the weak handle the in-flight table keeps of it (so
/// that the table does not keep a run alive that every caller dropped).
trait SharedHandle: Sized {
    type Weak;

    /// A weak handle on the run, if it can still be shared.
    fn downgrade(&self) -> Option<Self::Weak>;

    /// The run, if a caller still holds it.
    fn upgrade(weak: &Self::Weak) -> Option<Self>;

    /// Whether a caller still holds the run.
    fn is_alive(weak: &Self::Weak) -> bool {
        Self::upgrade(weak).is_some()
    }
}

impl SharedHandle for SharedRun {
    type Weak = WeakShared<RunFuture>;

    fn downgrade(&self) -> Option<Self::Weak> {
        Shared::downgrade(self)
    }

    fn upgrade(weak: &Self::Weak) -> Option<Self> {
        weak.upgrade()
    }
}

impl SharedHandle for Arc<StreamRun> {
    type Weak = std::sync::Weak<StreamRun>;

    fn downgrade(&self) -> Option<Self::Weak> {
        Some(Arc::downgrade(self))
    }

    fn upgrade(weak: &Self::Weak) -> Option<Self> {
        weak.upgrade()
    }

    fn is_alive(weak: &Self::Weak) -> bool {
        weak.strong_count() > 0
    }
}

/// The runs in flight, by cache key, each with its id, so that identical requests share one run
/// and a run that ends removes its own entry (not that of a newer run with the same key).
struct InFlight<S: SharedHandle> {
    runs: Mutex<HashMap<CacheKey, (u64, S::Weak)>>,
    next_id: AtomicU64,
}

impl<S: SharedHandle> Default for InFlight<S> {
    fn default() -> Self {
        InFlight {
            runs: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        }
    }
}

/// Whether [`InFlight::join_or_start`] joined a run in flight or started one.
enum Sharing<S> {
    Joined(S),
    Started(S),
}

impl<S: SharedHandle> InFlight<S> {
    /// The run in flight for `key`, or a new one that `start` makes from its id, entered in the
    /// table. `start` runs under the table's lock, so that identical requests never start two
    /// runs; a run that removes itself when it ends waits for its entry to be made.
    fn join_or_start(&self, key: CacheKey, start: impl FnOnce(u64) -> S) -> Sharing<S> {
        let mut runs = lock(&self.runs);
        if let Some(existing) = runs.get(&key).and_then(|(_, weak)| S::upgrade(weak)) {
            return Sharing::Joined(existing);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let run = start(id);
        if runs.len() >= 1024 {
            // Entries of runs every caller dropped before they ended are dead; sweep them.
            runs.retain(|_, (_, weak)| S::is_alive(weak));
        }
        if let Some(weak) = run.downgrade() {
            runs.insert(key, (id, weak));
        }
        Sharing::Started(run)
    }

    /// Removes the entry of the run `id` for `key`, if it is still there.
    fn remove(&self, key: &CacheKey, id: u64) {
        let mut runs = lock(&self.runs);
        if runs.get(key).is_some_and(|(entry, _)| *entry == id) {
            runs.remove(key);
        }
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
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A request with its parameters resolved against the model.
struct Plan {
    request: CompletionRequest,
    max_tokens: u32,
    temperature: f32,
    tokens_estimate: u32,
}

impl Plan {
    fn new(model: &ModelRuntime, request: CompletionRequest) -> Plan {
        let max_tokens = request.max_tokens.unwrap_or(model.config.max_tokens).max(1);
        let temperature = request.temperature.unwrap_or(model.config.temperature);
        let prompt_tokens = model.counter.count(&request.prompt)
            + request
                .suffix
                .as_deref()
                .map_or(0, |s| model.counter.count(s))
            + request
                .extra
                .iter()
                .map(|c| model.counter.count(&c.text))
                .sum::<usize>();
        let tokens_estimate =
            (prompt_tokens as u64 + max_tokens as u64).min(u32::MAX as u64) as u32;
        Plan {
            request,
            max_tokens,
            temperature,
            tokens_estimate,
        }
    }

    fn wire<'a>(
        &'a self,
        model: &'a ModelRuntime,
        endpoint: &'a EndpointRuntime,
    ) -> WireRequest<'a> {
        WireRequest {
            model: &endpoint.model,
            prompt: &self.request.prompt,
            suffix: self.request.suffix.as_deref(),
            extra: &self.request.extra,
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            stop: &self.request.stop,
            stream: self.request.stream,
            api: model.api,
            fim_template: model.config.fim_template.as_deref(),
            system_prompt: model.config.system_prompt.as_deref(),
        }
    }

    fn cache_key(&self, model: &ModelRuntime) -> CacheKey {
        let extra: Vec<u8> = self
            .request
            .extra
            .iter()
            .flat_map(|c| {
                let mut part = Vec::with_capacity(c.filename.len() + c.text.len() + 16);
                part.extend_from_slice(&(c.filename.len() as u64).to_le_bytes());
                part.extend_from_slice(c.filename.as_bytes());
                part.extend_from_slice(&(c.text.len() as u64).to_le_bytes());
                part.extend_from_slice(c.text.as_bytes());
                part
            })
            .collect();
        let stop = self.request.stop.join("\u{0}");
        let suffix_flag = [self.request.suffix.is_some() as u8];
        CacheKey::of(&[
            model.identity.as_bytes(),
            &self.max_tokens.to_le_bytes(),
            &self.temperature.to_bits().to_le_bytes(),
            stop.as_bytes(),
            &suffix_flag,
            self.request.suffix.as_deref().unwrap_or("").as_bytes(),
            &extra,
            self.request.prompt.as_bytes(),
        ])
    }
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

    /// Counts a cache hit for the model and for the endpoint that produced the answer (if it is
    /// still one of the model's).
    fn credit_cache_hit(&self, model: &ModelRuntime, hit: &Completion) {
        self.model_stat(&model.name, |m| m.cache_hits += 1);
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

    fn build_model(
        &self,
        name: &str,
        config: &ModelConfig,
        clients: &mut HashMap<u64, reqwest::Client>,
    ) -> Result<ModelRuntime, LlmError> {
        let api = Api::parse(&config.api).ok_or_else(|| {
            config_error(
                name,
                format!(
                    "`api` must be auto, completion or chat, not `{}`",
                    config.api
                ),
            )
        })?;
        let least_in_flight = match config.strategy.as_str() {
            "round_robin" => false,
            "least_in_flight" => true,
            other => {
                return Err(config_error(
                    name,
                    format!("`strategy` must be round_robin or least_in_flight, not `{other}`"),
                ));
            }
        };
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
        let specs: Vec<(String, String, String, Option<String>)> = if config.endpoints.is_empty() {
            vec![(
                config.url.clone(),
                config.backend.clone(),
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
                        e.backend.clone().unwrap_or_else(|| config.backend.clone()),
                        e.model.clone().unwrap_or_else(|| config.model.clone()),
                        e.api_key_env.clone().or_else(|| config.api_key_env.clone()),
                    )
                })
                .collect()
        };
        let limits = GateLimits {
            requests_per_minute: config.requests_per_minute,
            tokens_per_minute: config.tokens_per_minute,
            max_in_flight: config.max_in_flight,
        };
        let mut endpoints = Vec::new();
        let mut identity = format!(
            "{:?}|{:?}|{:?}|",
            config.api, config.fim_template, config.system_prompt
        );
        for (index, (url, backend_name, model, api_key_env)) in specs.into_iter().enumerate() {
            let backend = backend_for(&backend_name).ok_or_else(|| {
                config_error(
                    name,
                    format!(
                        "`backend` must be one of openai, ollama, llamacpp, anthropic, mistral, not `{backend_name}`"
                    ),
                )
            })?;
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

    fn build_models(
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

    /// Joins the identical run in flight in `table` (counted as coalesced for the model) or starts
    /// one with `start`.
    fn share<S: SharedHandle>(
        &self,
        table: &InFlight<S>,
        key: CacheKey,
        model: &ModelRuntime,
        start: impl FnOnce(u64) -> S,
    ) -> S {
        match table.join_or_start(key, start) {
            Sharing::Joined(run) => {
                self.model_stat(&model.name, |m| m.coalesced += 1);
                run
            }
            Sharing::Started(run) => run,
        }
    }

    /// The whole-answer run of an identical request in flight, or a new one.
    fn coalesced(
        self: &Arc<Self>,
        key: CacheKey,
        model: &Arc<ModelRuntime>,
        plan: Arc<Plan>,
    ) -> SharedRun {
        self.share(&self.inflight, key, model, |id| {
            let inner = Arc::clone(self);
            let model = Arc::clone(model);
            async move {
                let result = run(&inner, &model, &plan, Some(key), None).await;
                inner.inflight.remove(&key, id);
                result
            }
            .boxed()
            .shared()
        })
    }

    /// The streamed run of an identical request in flight, joined from its start, or a new one.
    fn shared_stream(
        self: &Arc<Self>,
        key: CacheKey,
        model: &Arc<ModelRuntime>,
        plan: Plan,
    ) -> Arc<StreamRun> {
        self.share(&self.stream_inflight, key, model, |id| {
            Arc::new(self.start_stream(Some((key, id)), Arc::clone(model), plan))
        })
    }

    /// Starts a streamed run on a task of its own. A shared run (with its key and id in the
    /// in-flight table) leaves the table when it ends.
    fn start_stream(
        self: &Arc<Self>,
        shared: Option<(CacheKey, u64)>,
        model: Arc<ModelRuntime>,
        plan: Plan,
    ) -> StreamRun {
        let broadcast = Arc::new(Broadcast::default());
        let inner = Arc::clone(self);
        let finish = FinishOnDrop(Arc::clone(&broadcast));
        let task = tokio::spawn(async move {
            let broadcast = Arc::clone(&finish.0);
            let key = shared.map(|(key, _)| key);
            let result = run(&inner, &model, &plan, key, Some(&broadcast)).await;
            broadcast.push(result.map(StreamEvent::Done));
            if let Some((key, id)) = shared {
                inner.stream_inflight.remove(&key, id);
            }
            drop(finish);
        });
        StreamRun {
            broadcast,
            _task: Some(AbortOnDropHandle::new(task)),
        }
    }

    /// The cached answer for `key`, if there is one, as served: the hit counted, marked cached,
    /// with no attempts and the time since `started`.
    fn cache_hit(
        &self,
        model: &ModelRuntime,
        key: &CacheKey,
        started: Instant,
    ) -> Option<Completion> {
        let mut hit = self.cache.get(key)?;
        self.credit_cache_hit(model, &hit);
        hit.cached = true;
        hit.attempts = 0;
        hit.elapsed = started.elapsed();
        Some(hit)
    }
}

impl ModelRuntime {
    /// Picks an endpoint whose breaker lets a request through, preferring those not in `avoid`.
    fn pick(&self, avoid: &[usize]) -> Result<(Arc<EndpointRuntime>, Trial), Duration> {
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
    fn has_other(&self, avoid: &[usize]) -> bool {
        let any_healthy = self.endpoints.iter().any(|e| e.is_healthy());
        self.endpoints.iter().any(|e| {
            !avoid.contains(&e.index)
                && (e.is_healthy() || !any_healthy)
                && e.breaker.state() != crate::llm::breaker::BreakerState::Open
        })
    }

    /// Starts probing the endpoints' health if the model is configured for it and it has not
    /// started yet. Needs a tokio runtime; without one it does nothing (the next request, which
    /// runs on a runtime, starts it).
    fn start_health_checks(&self, keys: &Arc<dyn KeySource>) {
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
struct Probe {
    keys: Arc<dyn KeySource>,
    /// The bound of the whole call.
    timeout: Duration,
    /// The configured connect timeout, for its error.
    connect_timeout: Duration,
}

impl Probe {
    /// The probe of a model's endpoints: bounded by its first-token timeout, with keys from `keys`.
    fn new(config: &ModelConfig, keys: &Arc<dyn KeySource>) -> Probe {
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
    fn is_healthy(&self) -> bool {
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
    async fn list_models(&self, probe: &Probe) -> Result<Vec<String>, LlmError> {
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

/// A breaker slot taken for one attempt; dropping it unsettled (cancellation) gives it back.
struct Trial {
    endpoint: Arc<EndpointRuntime>,
    settled: bool,
}

impl Trial {
    fn success(mut self) {
        self.settled = true;
        self.endpoint.breaker.record_success();
    }

    fn failure(mut self) {
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

/// A failed attempt.
struct Failure {
    error: LlmError,
    /// Whether the failure says the endpoint is unhealthy (counts for its breaker).
    health: bool,
    /// What the server asked to wait.
    retry_after: Option<Duration>,
}

impl Failure {
    fn unhealthy(error: LlmError) -> Failure {
        Failure {
            error,
            health: true,
            retry_after: None,
        }
    }

    fn request(error: LlmError) -> Failure {
        Failure {
            error,
            health: false,
            retry_after: None,
        }
    }
}

/// Where a streamed run's text goes as it arrives.
type Sink = Broadcast;

/// Runs a request: attempts with retries and failover under the model's total timeout; caches a
/// success.
async fn run(
    inner: &Arc<Inner>,
    model: &Arc<ModelRuntime>,
    plan: &Plan,
    key: Option<CacheKey>,
    sink: Option<&Sink>,
) -> Result<Completion, LlmError> {
    let started = Instant::now();
    let total = Duration::from_millis(model.config.total_timeout_ms);
    let outcome = match tokio::time::timeout(total, attempts(inner, model, plan, sink)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(LlmError::Timeout {
            endpoint: format!("model `{}`", model.name),
            phase: TimeoutPhase::Total,
            after: total,
        }),
    };
    match outcome {
        Ok(mut completion) => {
            completion.elapsed = started.elapsed();
            if let Some(usage) = completion.usage {
                inner.model_stat(&model.name, |m| {
                    m.tokens_in += usage.prompt_tokens as u64;
                    m.tokens_out += usage.completion_tokens as u64;
                });
            }
            if let Some(key) = key {
                inner.cache.insert(key, &completion);
            }
            Ok(completion)
        }
        Err(error) => Err(error),
    }
}

async fn attempts(
    inner: &Arc<Inner>,
    model: &Arc<ModelRuntime>,
    plan: &Plan,
    sink: Option<&Sink>,
) -> Result<Completion, LlmError> {
    let config = &model.config;
    let mut backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(config.retry_base_delay_ms))
        .with_max_delay(Duration::from_millis(
            config.retry_max_delay_ms.max(config.retry_base_delay_ms),
        ))
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(config.retries as usize)
        .build();
    let max_retry_after = Duration::from_millis(config.max_retry_after_ms);
    let mut failed: Vec<usize> = Vec::new();
    let mut last_error: Option<LlmError> = None;
    let mut delivered = false;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let (endpoint, trial) = match model.pick(&failed) {
            Ok(picked) => picked,
            Err(retry_in) => {
                return Err(last_error.unwrap_or(LlmError::CircuitOpen {
                    model: model.name.clone(),
                    retry_in,
                }));
            }
        };
        let permit = endpoint
            .gate
            .acquire(plan.request.priority, plan.tokens_estimate)
            .await;
        if attempt > 1 {
            endpoint.stats.with(|s| s.retries += 1);
        }
        let outcome = attempt_once(inner, model, &endpoint, plan, sink, &mut delivered).await;
        drop(permit);
        let failure = match outcome {
            Ok(mut completion) => {
                trial.success();
                completion.attempts = attempt;
                return Ok(completion);
            }
            Err(failure) => failure,
        };
        if failure.health {
            trial.failure();
        } else {
            drop(trial);
        }
        tracing::debug!(
            code = failure.error.code(),
            endpoint = %endpoint.display,
            attempt,
            "LLM attempt failed: {}",
            failure.error
        );
        if delivered || !failure.error.retryable() {
            return Err(failure.error);
        }
        let Some(backoff_delay) = backoff.next() else {
            return Err(failure.error);
        };
        if !failed.contains(&endpoint.index) {
            failed.push(endpoint.index);
        }
        let delay = if model.has_other(&failed) {
            // Fail over at once: another endpoint may answer now.
            Duration::ZERO
        } else if let Some(wait) = failure.retry_after {
            if wait > max_retry_after {
                return Err(failure.error);
            }
            wait
        } else {
            backoff_delay
        };
        if model.endpoints.len() > 1 && failed.len() == model.endpoints.len() {
            // Every endpoint failed once; go round again.
            failed.clear();
        }
        last_error = Some(failure.error);
        tokio::time::sleep(delay).await;
    }
}

async fn attempt_once(
    inner: &Inner,
    model: &ModelRuntime,
    endpoint: &EndpointRuntime,
    plan: &Plan,
    sink: Option<&Sink>,
    delivered: &mut bool,
) -> Result<Completion, Failure> {
    let started = Instant::now();
    endpoint.stats.with(|s| s.requests += 1);
    let result = attempt_inner(inner, model, endpoint, plan, sink, delivered, started).await;
    endpoint.stats.with(|s| match &result {
        Ok(completion) => {
            s.successes += 1;
            if let Some(usage) = completion.usage {
                s.tokens_in += usage.prompt_tokens as u64;
                s.tokens_out += usage.completion_tokens as u64;
            }
            if let Some(ttft) = completion.time_to_first_token {
                s.ttft.record(ttft);
            }
            s.total.record(started.elapsed());
        }
        Err(_) => s.errors += 1,
    });
    result
}

/// Collects events into a completion, forwarding text to a stream's sink.
struct Collector<'a> {
    text: String,
    /// The most text the reply may hold, in bytes.
    text_limit: u64,
    /// The endpoint, for errors.
    endpoint: &'a EndpointRuntime,
    prompt_tokens: Option<u32>,
    completion_tokens: Option<u32>,
    finish: FinishReason,
    done: bool,
    started: Instant,
    first_token: Option<Duration>,
    sink: Option<&'a Sink>,
}

impl Collector<'_> {
    async fn apply(&mut self, events: Vec<Event>, delivered: &mut bool) -> Result<(), Failure> {
        for event in events {
            match event {
                Event::Text(text) => {
                    if text.is_empty() {
                        continue;
                    }
                    if (self.text.len() + text.len()) as u64 > self.text_limit {
                        return Err(too_large(self.endpoint, ReplyPart::Text, self.text_limit));
                    }
                    if self.first_token.is_none() {
                        self.first_token = Some(self.started.elapsed());
                    }
                    self.text.push_str(&text);
                    if let Some(sink) = self.sink {
                        sink.push(Ok(StreamEvent::Delta(text)));
                        *delivered = true;
                    }
                }
                Event::Usage { prompt, completion } => {
                    self.prompt_tokens = prompt.or(self.prompt_tokens);
                    self.completion_tokens = completion.or(self.completion_tokens);
                }
                Event::Finish(reason) => self.finish = reason,
                Event::Done => self.done = true,
            }
        }
        Ok(())
    }

    fn finish(self, endpoint: &EndpointRuntime) -> Completion {
        let usage = match (self.prompt_tokens, self.completion_tokens) {
            (None, None) => None,
            (prompt, completion) => Some(Usage {
                prompt_tokens: prompt.unwrap_or(0),
                completion_tokens: completion.unwrap_or(0),
            }),
        };
        Completion {
            text: self.text,
            usage,
            finish_reason: self.finish,
            endpoint: endpoint.display.clone(),
            cached: false,
            attempts: 1,
            time_to_first_token: self.first_token,
            elapsed: self.started.elapsed(),
        }
    }
}

/// A reply that passed one of its limits (see [`ReplyLimits`]).
fn too_large(endpoint: &EndpointRuntime, part: ReplyPart, limit: u64) -> Failure {
    Failure::unhealthy(LlmError::ReplyTooLarge {
        endpoint: endpoint.display.clone(),
        part,
        limit,
    })
}

/// A body that could not be read whole.
fn wire_failure(endpoint: &EndpointRuntime, error: WireError) -> Failure {
    match error {
        WireError::Transport(message) => Failure::unhealthy(LlmError::Interrupted {
            endpoint: endpoint.display.clone(),
            message,
        }),
        WireError::Framing(message) => parse_failure(endpoint, ParseError::new(message)),
        WireError::TooLarge(part, limit) => too_large(endpoint, part, limit),
    }
}

fn parse_failure(endpoint: &EndpointRuntime, error: ParseError) -> Failure {
    if error.retryable {
        Failure::unhealthy(LlmError::Interrupted {
            endpoint: endpoint.display.clone(),
            message: error.message,
        })
    } else {
        Failure::unhealthy(LlmError::Protocol {
            endpoint: endpoint.display.clone(),
            message: error.message,
        })
    }
}

fn transport_error(
    endpoint: &EndpointRuntime,
    error: reqwest::Error,
    connect_timeout: Duration,
) -> LlmError {
    let is_connect = error.is_connect();
    let is_timeout = error.is_timeout();
    // The URL may carry credentials; describe the error without it, with its causes.
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if is_connect && is_timeout {
        LlmError::Timeout {
            endpoint: endpoint.display.clone(),
            phase: TimeoutPhase::Connect,
            after: connect_timeout,
        }
    } else if is_connect {
        LlmError::Connect {
            endpoint: endpoint.display.clone(),
            backend: endpoint.backend.name().into(),
            message,
        }
    } else {
        LlmError::Interrupted {
            endpoint: endpoint.display.clone(),
            message,
        }
    }
}

/// Reads `retry-after-ms` (milliseconds) or `retry-after` (seconds, or an HTTP date such as
/// `Sun, 06 Nov 1994 08:49:37 GMT`).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let number = |name: &str| {
        text(name)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    number("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms.min(86_400_000.0) / 1000.0))
        .or_else(|| number("retry-after").map(|s| Duration::from_secs_f64(s.min(86_400.0))))
        .or_else(|| {
            let at = parse_http_date(text("retry-after")?)?;
            Some(
                at.duration_since(std::time::SystemTime::now())
                    .unwrap_or(Duration::ZERO),
            )
        })
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP servers send.
fn parse_http_date(text: &str) -> Option<std::time::SystemTime> {
    let mut parts = text.split_whitespace();
    let _weekday = parts.next()?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60
    {
        return None;
    }
    // Days since 1970-01-01 of a civil date (the proleptic Gregorian calendar).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = u64::try_from(days).ok()? * 86_400 + hour * 3600 + minute * 60 + second;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(seconds))
}

async fn status_failure(
    endpoint: &EndpointRuntime,
    response: reqwest::Response,
    deadline: Instant,
) -> Failure {
    let status = response.status().as_u16();
    let wait = retry_after(response.headers());
    let body_deadline = deadline.min(Instant::now() + Duration::from_secs(2));
    // Only the start of the body is read: the message is cut short anyway.
    let body = timeout_at(body_deadline, read_prefix(response, ERROR_BODY_BYTES))
        .await
        .unwrap_or_default();
    let message = error_message(&String::from_utf8_lossy(&body));
    let display = endpoint.display.clone();
    match status {
        401 | 403 => Failure::request(LlmError::Unauthorized {
            endpoint: display,
            status,
            env: endpoint.api_key_env.clone(),
            message,
        }),
        429 => Failure {
            error: LlmError::RateLimited {
                endpoint: display,
                retry_after: wait,
            },
            health: false,
            retry_after: wait,
        },
        404 if message.to_lowercase().contains("model") => Failure::request(LlmError::BadRequest {
            endpoint: display,
            status,
            message,
        }),
        404 | 405 | 501 => Failure::request(LlmError::Unsupported {
            endpoint: display,
            status,
            message,
        }),
        408 | 425 | 500..=599 => Failure {
            error: LlmError::Server {
                endpoint: display,
                status,
                message,
            },
            health: true,
            retry_after: wait,
        },
        _ => Failure::request(LlmError::BadRequest {
            endpoint: display,
            status,
            message,
        }),
    }
}

async fn attempt_inner(
    inner: &Inner,
    model: &ModelRuntime,
    endpoint: &EndpointRuntime,
    plan: &Plan,
    sink: Option<&Sink>,
    delivered: &mut bool,
    started: Instant,
) -> Result<Completion, Failure> {
    let wire = plan.wire(model, endpoint);
    let call = endpoint
        .backend
        .build(&wire)
        .map_err(|message| Failure::request(config_error(&model.name, message)))?;
    let url = join_url(&endpoint.base_url, &call);
    let (mut builder, request_bytes) = match call.method {
        Method::Post => {
            let body = serde_json::to_vec(&call.body)
                .map_err(|e| Failure::request(config_error(&model.name, e.to_string())))?;
            let length = body.len();
            let builder = endpoint
                .http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
            (builder, length)
        }
        Method::Get => (endpoint.http.get(&url), 0),
    };
    let limits = ReplyLimits::new(plan.max_tokens, request_bytes);
    for (name, value) in &call.headers {
        builder = builder.header(*name, value);
    }
    if let Some(env) = &endpoint.api_key_env {
        let key = inner
            .keys
            .get(env)
            .ok_or_else(|| Failure::request(LlmError::MissingApiKey { env: env.clone() }))?;
        for (name, value) in endpoint.backend.auth_headers(&key) {
            builder = builder.header(name, value);
        }
    }
    if wire.stream {
        builder = builder.header(
            reqwest::header::ACCEPT,
            "text/event-stream, application/x-ndjson, application/json",
        );
    }
    let first_token_timeout = Duration::from_millis(model.config.first_token_timeout_ms);
    let first_deadline = started + first_token_timeout;
    let timeout = |phase| {
        Failure::unhealthy(LlmError::Timeout {
            endpoint: endpoint.display.clone(),
            phase,
            after: first_token_timeout,
        })
    };
    let connect_timeout = Duration::from_millis(model.config.connect_timeout_ms);
    let response = match timeout_at(first_deadline, builder.send()).await {
        Err(_) => return Err(timeout(TimeoutPhase::FirstToken)),
        Ok(Err(e)) => {
            return Err(Failure::unhealthy(transport_error(
                endpoint,
                e,
                connect_timeout,
            )));
        }
        Ok(Ok(response)) => response,
    };
    if !response.status().is_success() {
        return Err(status_failure(endpoint, response, first_deadline).await);
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_sse = content_type.starts_with("text/event-stream");
    let is_ndjson = content_type.contains("ndjson");
    let is_json = content_type.contains("json") && !is_ndjson;
    let framing = if is_sse {
        Some(Framing::Sse)
    } else if is_ndjson {
        Some(Framing::Ndjson)
    } else if is_json {
        // The whole reply as one JSON body (a server may ignore `stream: true`).
        None
    } else if content_type.is_empty() {
        wire.stream.then(|| endpoint.backend.framing())
    } else {
        let protocol = LlmError::Protocol {
            endpoint: endpoint.display.clone(),
            message: format!(
                "expected {} but the server sent content type `{content_type}`",
                if wire.stream { "a stream" } else { "JSON" }
            ),
        };
        return Err(Failure::unhealthy(protocol));
    };
    let mut collector = Collector {
        text: String::new(),
        text_limit: limits.text,
        endpoint,
        prompt_tokens: None,
        completion_tokens: None,
        finish: FinishReason::Unknown,
        done: false,
        started,
        first_token: None,
        sink,
    };
    let Some(framing) = framing else {
        let body = match timeout_at(first_deadline, read_whole(response, limits.message)).await {
            Err(_) => return Err(timeout(TimeoutPhase::FirstToken)),
            Ok(Err(error)) => return Err(wire_failure(endpoint, error)),
            Ok(Ok(body)) => body,
        };
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            let start: String = String::from_utf8_lossy(&body).chars().take(80).collect();
            parse_failure(
                endpoint,
                ParseError::new(format!("malformed JSON ({e}): {start}")),
            )
        })?;
        let events = endpoint
            .backend
            .parse_body(&wire, &value)
            .map_err(|e| parse_failure(endpoint, e))?;
        collector.apply(events, delivered).await?;
        if collector.first_token.is_none() {
            collector.first_token = Some(started.elapsed());
        }
        return Ok(collector.finish(endpoint));
    };
    let mut source = WireSource::new(response, framing, &limits);
    loop {
        let (limit, phase) = match collector.first_token {
            None => (first_deadline, TimeoutPhase::FirstToken),
            Some(_) => (Instant::now() + first_token_timeout, TimeoutPhase::Stall),
        };
        let item = match timeout_at(limit, source.next()).await {
            Err(_) => return Err(timeout(phase)),
            Ok(item) => item,
        };
        match item {
            None => break,
            Some(Err(error)) => return Err(wire_failure(endpoint, error)),
            Some(Ok((event, data))) => {
                let events = endpoint
                    .backend
                    .parse_stream(&wire, &event, &data)
                    .map_err(|e| parse_failure(endpoint, e))?;
                collector.apply(events, delivered).await?;
                if collector.done {
                    break;
                }
            }
        }
    }
    if !collector.done && collector.finish == FinishReason::Unknown {
        return Err(Failure::unhealthy(LlmError::Interrupted {
            endpoint: endpoint.display.clone(),
            message: "the stream ended before the answer was complete".into(),
        }));
    }
    Ok(collector.finish(endpoint))
}

/// The events of one streamed run, all kept, so that a caller joining late still reads them from
/// the start. An answer is at most a few thousand tokens, so keeping it costs little.
#[derive(Default)]
struct Broadcast {
    state: Mutex<BroadcastState>,
}

#[derive(Default)]
struct BroadcastState {
    events: Vec<Result<StreamEvent, LlmError>>,
    /// No event will follow.
    finished: bool,
    /// The readers waiting for the next event, by reader id.
    waiting: HashMap<u64, Waker>,
    next_reader: u64,
}

impl Broadcast {
    /// A finished broadcast of these events (a cached answer).
    fn finished(events: Vec<Result<StreamEvent, LlmError>>) -> Broadcast {
        Broadcast {
            state: Mutex::new(BroadcastState {
                events,
                finished: true,
                ..BroadcastState::default()
            }),
        }
    }

    fn push(&self, event: Result<StreamEvent, LlmError>) {
        self.update(|state| state.events.push(event));
    }

    fn finish(&self) {
        self.update(|state| state.finished = true);
    }

    /// Changes the state, then wakes the readers waiting for it (once the lock is released).
    fn update(&self, change: impl FnOnce(&mut BroadcastState)) {
        let waiting = {
            let mut state = lock(&self.state);
            change(&mut state);
            std::mem::take(&mut state.waiting)
        };
        waiting.into_values().for_each(Waker::wake);
    }

    fn new_reader(&self) -> u64 {
        let mut state = lock(&self.state);
        state.next_reader += 1;
        state.next_reader
    }
}

/// Marks a broadcast finished when its task ends, however it ends.
struct FinishOnDrop(Arc<Broadcast>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// One streamed run and the task behind it, shared by the callers reading it: when the last of
/// them lets go, the task is aborted and its connection closed.
struct StreamRun {
    broadcast: Arc<Broadcast>,
    _task: Option<AbortOnDropHandle<()>>,
}

/// A caller's deadline on a stream.
struct StreamDeadline {
    sleep: Pin<Box<tokio::time::Sleep>>,
    started: Instant,
}

/// A streamed answer: [`StreamEvent::Delta`]s, then one [`StreamEvent::Done`], or an error.
/// Dropping it cancels the request and closes its connection, unless other callers share it (an
/// identical request in flight), in which case the run goes on for them.
pub struct CompletionStream {
    run: Option<Arc<StreamRun>>,
    reader: u64,
    next: usize,
    deadline: Option<StreamDeadline>,
    /// Where to count an error this caller receives: the client (not kept alive by the stream)
    /// and the model name.
    errors: Option<(std::sync::Weak<Inner>, String)>,
    /// Puts back the secrets the request's placeholders stand for.
    restore: Option<Box<RestoringStream>>,
}

impl std::fmt::Debug for CompletionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompletionStream")
    }
}

impl CompletionStream {
    fn reading(
        run: Arc<StreamRun>,
        deadline: Option<StreamDeadline>,
        errors: Option<(std::sync::Weak<Inner>, String)>,
    ) -> CompletionStream {
        CompletionStream {
            reader: run.broadcast.new_reader(),
            run: Some(run),
            next: 0,
            deadline,
            errors,
            restore: None,
        }
    }

    /// Puts the values of `redactions` back into the answer.
    fn restoring(mut self, redactions: Option<Arc<crate::secrets::Redactions>>) -> Self {
        self.restore = redactions.map(|r| Box::new(RestoringStream::new(r)));
        self
    }

    /// Stops reading: the run goes on only if another caller still reads it.
    fn release(&mut self) {
        if let Some(run) = self.run.take() {
            lock(&run.broadcast.state).waiting.remove(&self.reader);
        }
    }

    fn count_error(&self) {
        if let Some((inner, model)) = &self.errors
            && let Some(inner) = inner.upgrade()
        {
            inner.model_stat(model, |m| m.errors += 1);
        }
    }

    /// Whether the caller's deadline has passed.
    fn past_deadline(&self) -> bool {
        self.deadline
            .as_ref()
            .is_some_and(|deadline| Instant::now() >= deadline.sleep.deadline())
    }

    /// Ends this caller's reading with the deadline error, counted.
    fn deadline_exceeded(&mut self) -> LlmError {
        let after = self
            .deadline
            .as_ref()
            .map_or(Duration::ZERO, |deadline| deadline.started.elapsed());
        self.count_error();
        self.release();
        LlmError::DeadlineExceeded { after }
    }
}

impl Drop for CompletionStream {
    fn drop(&mut self) {
        self.release();
    }
}

impl Stream for CompletionStream {
    type Item = Result<StreamEvent, LlmError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let Some(restore) = this.restore.as_mut() else {
                return this.poll_run(cx);
            };
            if let Some(queued) = restore.take_queued() {
                return Poll::Ready(Some(queued));
            }
            let item = match this.poll_run(cx) {
                Poll::Ready(Some(item)) => item,
                other => return other,
            };
            if let Some(restore) = this.restore.as_mut()
                && let Some(item) = restore.map(item)
            {
                return Poll::Ready(Some(item));
            }
        }
    }
}

impl CompletionStream {
    /// The next item of the run, as the model sent it.
    fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<StreamEvent, LlmError>>> {
        let this = self;
        if this.run.is_none() {
            return Poll::Ready(None);
        }
        // A caller past its deadline gets the deadline error even if events wait for it: a reader
        // that fell behind must not read on (and perhaps read the answer) after its deadline.
        if this.past_deadline() {
            return Poll::Ready(Some(Err(this.deadline_exceeded())));
        }
        let Some(run) = &this.run else {
            return Poll::Ready(None);
        };
        {
            let mut state = lock(&run.broadcast.state);
            if let Some(event) = state.events.get(this.next).cloned() {
                drop(state);
                this.next += 1;
                // An error or the answer is the last event.
                match &event {
                    Err(_) => {
                        this.count_error();
                        this.release();
                    }
                    Ok(StreamEvent::Done(_)) => this.release(),
                    Ok(StreamEvent::Delta(_)) => {}
                }
                return Poll::Ready(Some(event));
            }
            if state.finished {
                drop(state);
                this.release();
                return Poll::Ready(None);
            }
            state.waiting.insert(this.reader, cx.waker().clone());
        }
        if let Some(deadline) = &mut this.deadline
            && deadline.sleep.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Some(Err(this.deadline_exceeded())));
        }
        Poll::Pending
    }
}

impl CompletionStream {
    /// Reads the stream to its end and returns the whole answer.
    pub async fn collect_completion(mut self) -> Result<Completion, LlmError> {
        while let Some(item) = self.next().await {
            if let StreamEvent::Done(completion) = item? {
                return Ok(completion);
            }
        }
        Err(LlmError::Cancelled)
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
        let inner = Arc::new(Inner {
            models: RwLock::new(Arc::new(BTreeMap::new())),
            cache,
            cache_path,
            inflight: InFlight::default(),
            stream_inflight: InFlight::default(),
            endpoint_stats: Mutex::new(HashMap::new()),
            model_stats: Mutex::new(BTreeMap::new()),
            http: deps.http,
            keys: deps.keys.unwrap_or_else(|| Arc::new(EnvKeys)),
        });
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
                let (counters, ttft, total) = e.stats.with(|s| {
                    (
                        [
                            s.requests,
                            s.successes,
                            s.errors,
                            s.retries,
                            s.tokens_in,
                            s.tokens_out,
                            s.cache_hits,
                        ],
                        s.ttft.summary(),
                        s.total.summary(),
                    )
                });
                endpoints.push(EndpointMetrics {
                    model: model.name.clone(),
                    endpoint: e.display.clone(),
                    backend: e.backend.name().into(),
                    requests: counters[0],
                    successes: counters[1],
                    errors: counters[2],
                    retries: counters[3],
                    tokens_in: counters[4],
                    tokens_out: counters[5],
                    cache_hits: counters[6],
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
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn http_dates_parse() {
        let at = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            784_111_777
        );
        let leap = parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT").unwrap();
        assert_eq!(
            leap.duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_709_164_800
        );
        assert!(parse_http_date("yesterday").is_none());
        assert!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT").is_none());
    }

    #[test]
    fn retry_after_forms() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        let mut headers = HeaderMap::new();
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(
            retry_after(&headers),
            Some(Duration::ZERO),
            "a past date means now"
        );
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }
}
