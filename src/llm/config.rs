//! Configuration of models and their endpoints (`[models.NAME]` tables) and of the client as a
//! whole (`[llm]`: the response cache, and `[llm.shared]`: the shared tier on Redis).
//!
//! ```toml
//! [models.default]
//! backend = "openai"
//! url = "http://127.0.0.1:8090/v1"
//! model = "SmolLM2-135M"
//! requests_per_minute = 60
//! first_token_timeout_ms = 5000
//! # Two servers for one model, tried in turn:
//! endpoints = [{ url = "http://10.0.0.1:8090/v1" }, { url = "http://10.0.0.2:8090/v1" }]
//! health_check_interval_ms = 30000 # probe both every 30 s; requests skip one that fails
//! ```
//!
//! The same shape is accepted as JSON (`{"models": {"default": {"backend": "openai", ...}}}`).
//! Every field has a default, so a table only names what differs.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One named model (`[models.default]`): which backend serves it, how to reach it, and the limits,
/// timeouts and retry policy that apply to each of its endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// The protocol spoken: `openai`, `ollama`, `llamacpp`, `anthropic` or `mistral`.
    pub backend: BackendKind,
    /// The base URL of the API, for example `http://127.0.0.1:8090/v1`.
    #[schemars(extend("x-augur-user-only" = true))]
    pub url: String,
    /// The model name sent to the backend.
    pub model: String,
    /// The environment variable that holds the API key, if the backend needs one. The key itself
    /// is read at request time and is never stored, logged or cached.
    #[schemars(extend("x-augur-user-only" = true))]
    pub api_key_env: Option<String>,
    /// Several endpoints serving this model. When the list is empty, `backend`, `url`, `model` and
    /// `api_key_env` above describe the only endpoint; otherwise those fields are the defaults for
    /// whatever an endpoint leaves out.
    #[schemars(extend("x-augur-user-only" = true))]
    pub endpoints: Vec<EndpointConfig>,
    /// How a request picks among several endpoints: `round_robin` or `least_in_flight`.
    pub strategy: Strategy,
    /// Which API of the backend to use: `auto` (the backend's completion or fill-in-the-middle
    /// API), `completion` (raw text completion), or `chat` (a chat API, the prompt becomes the user
    /// message).
    pub api: Api,
    /// A template that turns a prefix and suffix into one raw prompt for fill-in-the-middle, with
    /// the placeholders `{prefix}` and `{suffix}`, for example
    /// `"<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"`. Used by the `openai`
    /// completion API, Ollama's `/api/generate` (with `raw: true`) and llama.cpp's `/completion`.
    /// Without it, the backend's own suffix support is used (`suffix`, `/infill`, Mistral FIM).
    pub fim_template: Option<String>,
    /// A system prompt for chat APIs (`api = "chat"` and Anthropic).
    pub system_prompt: Option<String>,
    /// The number of tokens to generate when a request does not say.
    pub max_tokens: u32,
    /// The sampling temperature when a request does not say.
    pub temperature: f32,
    /// Requests per minute allowed on each endpoint (0: unlimited). Bursts up to this number are
    /// allowed; afterwards requests are spaced evenly.
    pub requests_per_minute: u32,
    /// Tokens per minute (prompt estimate plus `max_tokens`) allowed on each endpoint (0: unlimited).
    pub tokens_per_minute: u32,
    /// How many requests may go at once before `requests_per_minute` spaces them (0: as many as
    /// `requests_per_minute`).
    pub burst: u32,
    /// Whether `requests_per_minute` and `tokens_per_minute` hold for every augur process
    /// together, through the Redis of `[llm.shared]`, rather than for each process alone.
    /// Processes share a limit when they call the same URL with the same backend model name and
    /// the same API key (compared as a hash; the key never reaches Redis). Without `[llm.shared]`
    /// the limits stay per process.
    pub shared: bool,
    /// At most this many requests in flight on each endpoint; the others wait in the priority queue
    /// (0: unlimited).
    pub max_in_flight: u32,
    /// How long to wait for the TCP (and TLS) connection, in milliseconds.
    pub connect_timeout_ms: u64,
    /// How long to wait for the first token (for a non-streaming request: for the whole answer),
    /// in milliseconds, counted from the moment the request leaves the queue. A stream that has
    /// started may also go no longer than this without a chunk (a stall).
    pub first_token_timeout_ms: u64,
    /// How long one request may take in all, queue, retries and generation included, in
    /// milliseconds.
    pub total_timeout_ms: u64,
    /// How many times a failed attempt is retried (on connection errors, timeouts before the first
    /// token, 429 and 5xx), over the same or another endpoint.
    pub retries: u32,
    /// The first backoff delay in milliseconds; it doubles on each retry, with jitter.
    pub retry_base_delay_ms: u64,
    /// The largest backoff delay in milliseconds.
    pub retry_max_delay_ms: u64,
    /// The longest `Retry-After` the client is willing to wait, in milliseconds; a server asking
    /// for more makes the request fail with a rate-limit error at once.
    pub max_retry_after_ms: u64,
    /// Consecutive failures after which an endpoint's circuit breaker opens.
    pub breaker_failures: u32,
    /// How long an open breaker keeps an endpoint out of rotation before one trial request is let
    /// through, in milliseconds.
    pub breaker_cooldown_ms: u64,
    /// How often each endpoint of a model with several endpoints is probed, in milliseconds (0:
    /// never). The probe is the backend's cheap model-list call (the one `augur doctor` makes),
    /// bounded by `connect_timeout_ms` and `first_token_timeout_ms`. An endpoint whose probe fails
    /// (no connection, a timeout, a 5xx, refused or missing credentials) is skipped by requests
    /// while another endpoint is healthy, until a later probe succeeds. A model with a single
    /// endpoint is never probed: there is nothing else to send its requests to.
    pub health_check_interval_ms: u64,
    /// How tokens are counted: `auto` (a `tiktoken` encoding for OpenAI model names, else the
    /// approximation), `cl100k_base`, `o200k_base`, `p50k_base`, `r50k_base`, `approx` (one token
    /// per four bytes, rounded up: close for English text and code with BPE vocabularies), or the
    /// path of the model's own Hugging Face `tokenizer.json` for exact counts.
    #[schemars(extend("x-augur-user-only" = true))]
    pub tokenizer: String,
    /// Whether answers of this model may be cached.
    pub cache: bool,
}

impl ModelConfig {
    /// Checks what the types cannot: a `fim_template` places both the prefix and the suffix.
    /// `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if let Some(template) = &self.fim_template {
            for placeholder in ["{prefix}", "{suffix}"] {
                if !template.contains(placeholder) {
                    return Err((
                        "fim_template".into(),
                        format!("the template has no `{placeholder}`"),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            backend: BackendKind::OpenAi,
            url: "http://127.0.0.1:8090/v1".into(),
            model: "SmolLM2-135M".into(),
            api_key_env: None,
            endpoints: Vec::new(),
            strategy: Strategy::RoundRobin,
            api: Api::Auto,
            fim_template: None,
            system_prompt: None,
            max_tokens: 128,
            temperature: 0.2,
            requests_per_minute: 0,
            tokens_per_minute: 0,
            burst: 0,
            shared: false,
            max_in_flight: 4,
            connect_timeout_ms: 2_000,
            first_token_timeout_ms: 15_000,
            total_timeout_ms: 60_000,
            retries: 2,
            retry_base_delay_ms: 200,
            retry_max_delay_ms: 5_000,
            max_retry_after_ms: 30_000,
            breaker_failures: 5,
            breaker_cooldown_ms: 30_000,
            health_check_interval_ms: 30_000,
            tokenizer: "auto".into(),
            cache: true,
        }
    }
}

/// One endpoint of a model (`endpoints = [{ url = "..." }]`). Fields left out come from the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EndpointConfig {
    /// The base URL of this endpoint's API.
    pub url: String,
    /// The protocol of this endpoint, if it differs from the model's.
    pub backend: Option<BackendKind>,
    /// The model name on this endpoint, if it differs from the model's.
    pub model: Option<String>,
    /// The environment variable holding this endpoint's key, if it differs from the model's.
    pub api_key_env: Option<String>,
}

/// The protocol a model's endpoint speaks (the `backend` setting).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum BackendKind {
    /// OpenAI-compatible servers (`/v1/completions`, `/v1/chat/completions`).
    #[default]
    #[serde(rename = "openai")]
    OpenAi,
    /// Ollama (`/api/generate`, `/api/chat`).
    #[serde(rename = "ollama")]
    Ollama,
    /// The llama.cpp server (`/completion`, `/infill`).
    #[serde(rename = "llamacpp")]
    LlamaCpp,
    /// Anthropic's Messages API.
    #[serde(rename = "anthropic")]
    Anthropic,
    /// Mistral's fill-in-the-middle API.
    #[serde(rename = "mistral")]
    Mistral,
}

impl BackendKind {
    /// Every backend, in the order the documentation lists them.
    pub const ALL: [BackendKind; 5] = [
        BackendKind::OpenAi,
        BackendKind::Ollama,
        BackendKind::LlamaCpp,
        BackendKind::Anthropic,
        BackendKind::Mistral,
    ];

    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::OpenAi => "openai",
            BackendKind::Ollama => "ollama",
            BackendKind::LlamaCpp => "llamacpp",
            BackendKind::Anthropic => "anthropic",
            BackendKind::Mistral => "mistral",
        }
    }

    /// The backend of a configuration name, if there is one.
    pub fn from_name(name: &str) -> Option<BackendKind> {
        BackendKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a request picks among a model's endpoints (the `strategy` setting).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Each request starts with the next endpoint in turn.
    #[default]
    RoundRobin,
    /// Each request starts with the endpoint with the fewest requests in flight and queued.
    LeastInFlight,
}

/// Which API of a backend a model uses (the `api` setting).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// The backend's completion or fill-in-the-middle API.
    #[default]
    Auto,
    /// Raw text completion.
    Completion,
    /// A chat API: the prompt becomes the user message.
    Chat,
}

impl Api {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Auto => "auto",
            Api::Completion => "completion",
            Api::Chat => "chat",
        }
    }

    /// Parses the `api` setting.
    pub fn parse(text: &str) -> Option<Api> {
        match text {
            "auto" => Some(Api::Auto),
            "completion" => Some(Api::Completion),
            "chat" => Some(Api::Chat),
            _ => None,
        }
    }
}

/// Settings of the client as a whole (`[llm]` in the root configuration).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// The response cache shared by all models.
    pub cache: CacheConfig,
    /// The tier shared by every augur process of a team: answers and rate limits on Redis.
    #[schemars(extend("x-augur-user-only" = true))]
    pub shared: SharedConfig,
}

/// The shared tier (`[llm.shared]`): one Redis holding a second level of the answer cache and the
/// rate limits of models with `shared = true`, for every augur process that names it. Off unless
/// `redis_url` is set.
///
/// ```toml
/// [llm.shared]
/// redis_url = "redis://redis.internal:6379/0"   # or rediss:// for TLS
/// redis_password_env = "AUGUR_REDIS_PASSWORD"
/// namespace = "team-a"
/// ```
///
/// Every Redis call has a deadline; when Redis is down, slow or refuses augur, each process goes
/// on with its own cache and with the shared limits divided by the number of processes last seen
/// sharing them, tells the user once, and reconnects in the background.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SharedConfig {
    /// The Redis URL (`redis://host:port/db` or `rediss://` for TLS); no URL: no shared tier. A
    /// password belongs in `redis_password_env`, not here.
    pub redis_url: Option<String>,
    /// The environment variable holding the Redis password, read when augur starts.
    pub redis_password_env: Option<String>,
    /// A prefix for every key augur writes, so that two teams can share one Redis.
    pub namespace: String,
    /// Whether answers are shared through Redis (the local cache stays the first level).
    pub cache: bool,
    /// The deadline of a cache lookup or store in Redis, in milliseconds. A lookup that takes
    /// longer counts as a miss and turns the shared tier off until Redis answers again.
    pub cache_timeout_ms: u64,
    /// The deadline of one call of the shared rate limiter, in milliseconds; past it the process
    /// falls back to its local share of the limits.
    pub limiter_timeout_ms: u64,
    /// How often augur tries Redis again while the shared tier is off, in milliseconds.
    pub reconnect_interval_ms: u64,
}

impl Default for SharedConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_password_env: None,
            namespace: "augur".into(),
            cache: true,
            cache_timeout_ms: 25,
            limiter_timeout_ms: 250,
            reconnect_interval_ms: 1_000,
        }
    }
}

/// The response cache (`[llm.cache]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Whether answers are cached at all.
    pub enabled: bool,
    /// How many answers are kept; the least recently used leaves first.
    pub capacity: usize,
    /// How long an answer stays valid, in milliseconds.
    pub ttl_ms: u64,
    /// A file where the cache is saved (by `LlmClient::save_cache` and when the client is dropped)
    /// and loaded from at start, so answers survive restarts. No file: memory only.
    #[schemars(extend("x-augur-user-only" = true))]
    pub path: Option<PathBuf>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            capacity: 512,
            ttl_ms: 10 * 60 * 1000,
            path: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_accept_the_documented_shape() {
        let toml_text = r#"
            backend = "ollama"
            url = "http://127.0.0.1:11434"
            model = "qwen2.5-coder"
            requests_per_minute = 30
            endpoints = [{ url = "http://a:1" }, { url = "http://b:2", backend = "openai" }]
        "#;
        let from_toml: ModelConfig = toml::from_str(toml_text).unwrap();
        assert_eq!(from_toml.backend.as_str(), "ollama");
        assert_eq!(from_toml.requests_per_minute, 30);
        assert_eq!(
            from_toml.endpoints[1].backend.map(BackendKind::as_str),
            Some("openai")
        );
        assert_eq!(from_toml.max_tokens, ModelConfig::default().max_tokens);

        let json = serde_json::to_string(&from_toml).unwrap();
        let from_json: ModelConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(from_json, from_toml);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = toml::from_str::<ModelConfig>("bakend = \"openai\"").unwrap_err();
        assert!(err.to_string().contains("bakend"), "{err}");
        assert!(serde_json::from_str::<LlmSettings>(r#"{"cache":{"size":3}}"#).is_err());
    }

    #[test]
    fn every_backend_strategy_and_api_reads_back_by_its_name() {
        for kind in BackendKind::ALL {
            let text = format!("backend = \"{kind}\"");
            let config: ModelConfig = toml::from_str(&text).unwrap();
            assert_eq!(config.backend, kind, "{text}");
            assert_eq!(BackendKind::from_name(kind.as_str()), Some(kind));
        }
        let config: ModelConfig =
            toml::from_str("strategy = \"least_in_flight\"\napi = \"chat\"").unwrap();
        assert_eq!(config.strategy, Strategy::LeastInFlight);
        assert_eq!(config.api, Api::Chat);
        let written = toml::to_string(&config).unwrap();
        assert!(
            written.contains("strategy = \"least_in_flight\""),
            "{written}"
        );
        assert!(written.contains("api = \"chat\""), "{written}");
    }

    #[test]
    fn a_misspelt_backend_strategy_or_api_is_refused_with_the_accepted_values() {
        let err = toml::from_str::<ModelConfig>("backend = \"olama\"").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("unknown variant `olama`"), "{message}");
        for name in ["openai", "ollama", "llamacpp", "anthropic", "mistral"] {
            assert!(message.contains(&format!("`{name}`")), "{message}");
        }
        let err = toml::from_str::<ModelConfig>("strategy = \"round-robin\"").unwrap_err();
        assert!(
            err.to_string()
                .contains("`round_robin` or `least_in_flight`"),
            "{err}"
        );
        let err = toml::from_str::<ModelConfig>("api = \"chats\"").unwrap_err();
        assert!(
            err.to_string().contains("`auto`, `completion`, `chat`"),
            "{err}"
        );
        let err = toml::from_str::<ModelConfig>(
            "endpoints = [{ url = \"http://a:1\", backend = \"x\" }]",
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown variant `x`"), "{err}");
    }
}
