//! The client for language-model backends (OpenAI-compatible, Ollama, llama.cpp, Anthropic,
//! Mistral FIM): one trait, rate limits, cache, retries, failover and cancellation.
//!
//! Everything goes through [`LlmClient`]:
//!
//! - [`LlmClient::complete`] returns a whole [`Completion`]; [`LlmClient::stream`] returns a
//!   [`CompletionStream`] of [`StreamEvent`]s. Dropping either cancels the HTTP call.
//! - [`LlmClient::reconfigure`] hot-reloads the `[models]` tables; [`LlmClient::metrics`] returns
//!   an [`LlmMetrics`] snapshot; [`LlmClient::count_tokens`] counts with the model's tokenizer.
//! - Errors are [`LlmError`]s with a stable code, a retryable flag and a hint.
//! - [`health::ModelHealth`] keeps each model's state as the user sees it (ok, unreachable,
//!   rate-limited, failing) and says when to tell the user.
//! - Secrets in a request's texts leave as placeholders and come back in the answer
//!   ([`redact`]).
//! - With `[llm.shared]`, a Redis shared by every augur process of a team holds a second level of
//!   the cache and the rate limits of models with `shared = true` ([`shared`]).
//!
//! Time is tokio's clock everywhere (limits, cache expiry, breakers, backoff), so tests pause and
//! advance it with `#[tokio::test(start_paused = true)]`. The HTTP client can be injected through
//! [`LlmDeps::http`] and the source of API keys through [`LlmDeps::keys`].
//!
//! Endpoint health is judged passively and actively: an endpoint whose circuit breaker is open
//! (after `breaker_failures` consecutive failures) is skipped until its cool-down ends, and the
//! endpoints of a model with several are probed every `health_check_interval_ms` with the
//! backend's model-list call (the one `augur doctor` makes); one whose probe fails is skipped while
//! another endpoint is healthy, until a probe succeeds again. `augur doctor` runs the fuller
//! checks (credentials, model present, a test completion).
//!
//! This module knows nothing of the Language Server Protocol.

pub mod backend;
pub mod breaker;
pub mod cache;
pub mod client;
pub mod config;
pub mod error;
pub mod health;
pub mod limits;
pub mod metrics;
pub mod prometheus;
pub mod redact;
pub mod reply;
pub mod shared;
pub mod tokens;
pub mod types;
pub mod usage;

pub use client::{CompletionStream, EndpointInfo, EnvKeys, KeySource, LlmClient, LlmDeps};
pub use config::{
    Api, BackendKind, CacheConfig, EndpointConfig, LlmSettings, ModelConfig, SharedConfig, Strategy,
};
pub use error::{LlmError, ReplyPart, TimeoutPhase, is_loopback_url};
pub use metrics::{EndpointMetrics, LatencySummary, LlmMetrics, ModelMetrics};
pub use types::{
    Completion, CompletionRequest, ExtraContext, FinishReason, Priority, StreamEvent, Usage,
};
