//! Model health as the user sees it: for each model, whether its requests are answered (`ok`),
//! cannot reach it (`unreachable`), are refused by its rate limit (`rate_limited`) or fail
//! otherwise (`failing`: 5xx, refused credentials, a missing model, replies that cannot be read,
//! timeouts), with the last error, its cause (the error's stable code) and since when.
//!
//! [`ModelHealth::record_failure`] and [`ModelHealth::record_success`] return a [`Notice`] when
//! the user should be told: the first failure of each cause since the model last answered (with
//! the reason and the fix), and the recovery after a failure the user was told about. Repeats of
//! a cause are silent, so a failing model does not send a message per keystroke. Cancelled
//! requests say nothing about a model and are not recorded; neither is an open circuit breaker
//! (it repeats the failures that opened it).
//!
//! Time is tokio's clock, as everywhere in the LLM client, anchored once to the wall clock: tests
//! on a paused clock get exact timestamps. `since` is in milliseconds since the Unix epoch.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use augur::llm::LlmError;
//! use augur::llm::health::{HealthState, ModelHealth};
//! let health = ModelHealth::new();
//! let refused = LlmError::Connect {
//!     endpoint: "http://127.0.0.1:8090/v1".into(),
//!     backend: "openai".into(),
//!     message: "tcp connect error: Connection refused (os error 111)".into(),
//! };
//! assert!(health.record_failure("default", &refused).is_some(), "told once");
//! assert!(health.record_failure("default", &refused).is_none(), "not twice");
//! assert_eq!(health.status("default").state, HealthState::Unreachable);
//! assert!(health.record_success("default").is_some(), "told it answers again");
//! # });
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::llm::error::{LlmError, TimeoutPhase};

/// The longest error text kept (a server's message can be long).
const MAX_ERROR_CHARS: usize = 300;

/// The state of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// No request has ended yet.
    Unknown,
    /// The last request was answered.
    Ok,
    /// The server cannot be reached (connection refused, connect timeout).
    Unreachable,
    /// The server refuses requests for its rate limit.
    RateLimited,
    /// The server fails otherwise: 5xx, refused credentials, a missing model, replies that cannot
    /// be read, no answer in time.
    Failing,
}

/// How urgent a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    /// Good news (the model answers again).
    Info,
    /// Something that may pass (unreachable, rate-limited, 5xx, slow).
    Warning,
    /// Something the configuration must fix (credentials, model name, protocol).
    Error,
}

/// A message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// How urgent.
    pub level: NoticeLevel,
    /// The text: the reason and the fix.
    pub text: String,
}

/// The health of one model, as `augur/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelStatus {
    /// The state.
    pub state: HealthState,
    /// When the model entered this state, in milliseconds since the Unix epoch (`None` while
    /// unknown).
    pub since: Option<u64>,
    /// The last error's stable code (`llm.connect`, `llm.server`, ...), while not ok.
    pub cause: Option<String>,
    /// The last error, while not ok.
    pub error: Option<String>,
    /// What to do about it, while not ok.
    pub fix: Option<String>,
}

/// The last failure of a model.
#[derive(Debug, Clone)]
struct LastError {
    cause: &'static str,
    error: String,
    fix: String,
}

#[derive(Debug)]
struct Entry {
    state: HealthState,
    since: Instant,
    last: Option<LastError>,
    /// The causes the user was told about since the model last answered.
    told: BTreeSet<&'static str>,
}

/// The health of every model. Share it; every method takes `&self`.
#[derive(Debug)]
pub struct ModelHealth {
    /// The wall-clock time at `origin`.
    wall_origin: SystemTime,
    origin: Instant,
    models: Mutex<BTreeMap<String, Entry>>,
}

impl Default for ModelHealth {
    fn default() -> Self {
        ModelHealth::new()
    }
}

/// What a failure says about a model.
enum Verdict {
    /// Nothing (a cancellation, a local cache file error).
    Nothing,
    /// Nothing new: the circuit breaker repeats the failures that opened it.
    Repeat,
    /// The model is in this state.
    State(HealthState),
}

fn verdict(error: &LlmError) -> Verdict {
    match error {
        LlmError::Cancelled | LlmError::Io { .. } => Verdict::Nothing,
        LlmError::CircuitOpen { .. } => Verdict::Repeat,
        LlmError::Connect { .. }
        | LlmError::Timeout {
            phase: TimeoutPhase::Connect,
            ..
        } => Verdict::State(HealthState::Unreachable),
        LlmError::RateLimited { .. } => Verdict::State(HealthState::RateLimited),
        _ => Verdict::State(HealthState::Failing),
    }
}

impl ModelHealth {
    /// A tracker whose timestamps follow tokio's clock from the wall-clock time now.
    pub fn new() -> ModelHealth {
        ModelHealth::with_wall_origin(SystemTime::now())
    }

    /// A tracker whose timestamps count from `wall_origin` at tokio's time now (for tests).
    pub fn with_wall_origin(wall_origin: SystemTime) -> ModelHealth {
        ModelHealth {
            wall_origin,
            origin: Instant::now(),
            models: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.models.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn unix_ms(&self, at: Instant) -> u64 {
        let wall = self.wall_origin + at.saturating_duration_since(self.origin);
        wall.duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis() as u64
    }

    /// Records that `model` answered. Returns the notice that it answers again when the user was
    /// told about a failure.
    pub fn record_success(&self, model: &str) -> Option<Notice> {
        let mut models = self.lock();
        let entry = models.entry(model.to_owned()).or_insert_with(|| Entry {
            state: HealthState::Unknown,
            since: Instant::now(),
            last: None,
            told: BTreeSet::new(),
        });
        if entry.state != HealthState::Ok {
            entry.state = HealthState::Ok;
            entry.since = Instant::now();
            entry.last = None;
        }
        if entry.told.is_empty() {
            return None;
        }
        entry.told.clear();
        Some(Notice {
            level: NoticeLevel::Info,
            text: format!("augur: the model `{model}` answers again"),
        })
    }

    /// Records that a request to `model` failed with `error`. Returns the notice for the user
    /// when this cause is new since the model last answered.
    pub fn record_failure(&self, model: &str, error: &LlmError) -> Option<Notice> {
        let state = match verdict(error) {
            Verdict::Nothing => return None,
            Verdict::State(state) => state,
            // An open breaker in a model not known to fail (its failures came from elsewhere)
            // is news.
            Verdict::Repeat => match self.status(model).state {
                HealthState::Unknown | HealthState::Ok => HealthState::Failing,
                _ => return None,
            },
        };
        let cause = error.code();
        let mut models = self.lock();
        let entry = models.entry(model.to_owned()).or_insert_with(|| Entry {
            state,
            since: Instant::now(),
            last: None,
            told: BTreeSet::new(),
        });
        if entry.state != state {
            entry.state = state;
            entry.since = Instant::now();
        }
        let fix = fix(model, error);
        entry.last = Some(LastError {
            cause,
            error: truncate(&error.to_string(), MAX_ERROR_CHARS),
            fix: fix.clone(),
        });
        if !entry.told.insert(cause) {
            return None;
        }
        Some(Notice {
            level: level(error),
            text: format!(
                "augur: the model `{model}`{} {} ({}). {fix}",
                endpoint(error)
                    .map(|e| format!(" at {e}"))
                    .unwrap_or_default(),
                what(state, error),
                reason(error),
            ),
        })
    }

    /// The health of `model` (`unknown` before any request ended).
    pub fn status(&self, model: &str) -> ModelStatus {
        let models = self.lock();
        let Some(entry) = models.get(model) else {
            return ModelStatus {
                state: HealthState::Unknown,
                since: None,
                cause: None,
                error: None,
                fix: None,
            };
        };
        let last = entry.last.as_ref();
        ModelStatus {
            state: entry.state,
            since: Some(self.unix_ms(entry.since)),
            cause: last.map(|l| l.cause.to_owned()),
            error: last.map(|l| l.error.clone()),
            fix: last.map(|l| l.fix.clone()),
        }
    }
}

/// The endpoint an error names, when it is a URL.
fn endpoint(error: &LlmError) -> Option<&str> {
    let endpoint = match error {
        LlmError::Connect { endpoint, .. }
        | LlmError::Timeout { endpoint, .. }
        | LlmError::RateLimited { endpoint, .. }
        | LlmError::Unauthorized { endpoint, .. }
        | LlmError::BadRequest { endpoint, .. }
        | LlmError::Unsupported { endpoint, .. }
        | LlmError::Server { endpoint, .. }
        | LlmError::Protocol { endpoint, .. }
        | LlmError::Interrupted { endpoint, .. } => endpoint,
        _ => return None,
    };
    endpoint.contains("://").then_some(endpoint.as_str())
}

/// What is wrong, after "the model `m` at URL".
fn what(state: HealthState, error: &LlmError) -> &'static str {
    match (state, error) {
        (HealthState::Unreachable, _) => "is unreachable",
        (HealthState::RateLimited, _) => "is rate-limited",
        (_, LlmError::Unauthorized { .. }) => "refused the credentials",
        (_, LlmError::MissingApiKey { .. }) => "has no API key",
        (_, LlmError::BadRequest { status: 404, .. }) => "lacks the configured model",
        (_, LlmError::Timeout { .. } | LlmError::DeadlineExceeded { .. }) => {
            "is too slow to answer"
        }
        (_, LlmError::Protocol { .. }) => "gave a reply augur cannot read",
        _ => "is failing",
    }
}

/// The reason in a few words, without the endpoint (the message names it already).
fn reason(error: &LlmError) -> String {
    let http = |status: &u16, message: &str| {
        let message = truncate(message, MAX_ERROR_CHARS / 2);
        if message.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {message}")
        }
    };
    match error {
        // The transport's chain of causes ends with the one that matters ("Connection refused").
        LlmError::Connect { message, .. } => {
            truncate(message.rsplit(": ").next().unwrap_or(message), 120)
        }
        LlmError::Timeout { phase, after, .. } => {
            format!("{phase} timeout after {} ms", after.as_millis())
        }
        LlmError::RateLimited { retry_after, .. } => match retry_after {
            Some(wait) => format!("HTTP 429, retry after {} ms", wait.as_millis()),
            None => "HTTP 429".into(),
        },
        LlmError::Unauthorized {
            status, message, ..
        }
        | LlmError::BadRequest {
            status, message, ..
        }
        | LlmError::Unsupported {
            status, message, ..
        }
        | LlmError::Server {
            status, message, ..
        } => http(status, message),
        other => truncate(&other.to_string(), MAX_ERROR_CHARS),
    }
}

/// How urgent the first notice of this failure is: what passes is a warning, what the
/// configuration must fix is an error.
fn level(error: &LlmError) -> NoticeLevel {
    match error {
        LlmError::Unauthorized { .. }
        | LlmError::MissingApiKey { .. }
        | LlmError::BadRequest { .. }
        | LlmError::Unsupported { .. }
        | LlmError::Protocol { .. }
        | LlmError::UnknownModel { .. }
        | LlmError::Config { .. } => NoticeLevel::Error,
        _ => NoticeLevel::Warning,
    }
}

/// What the user can do, naming the configuration fields of `model`.
fn fix(model: &str, error: &LlmError) -> String {
    const DOCTOR: &str = "run `augur doctor` to check";
    let table = format!("models.{model}");
    match error {
        LlmError::Connect { .. }
        | LlmError::Timeout {
            phase: TimeoutPhase::Connect,
            ..
        } => format!("Start the model server or set {table}.url; {DOCTOR}."),
        LlmError::RateLimited { .. } => format!(
            "Wait a moment, or lower {table}.requests_per_minute and {table}.tokens_per_minute."
        ),
        LlmError::Unauthorized { env: Some(env), .. } => format!(
            "Set the environment variable {env} (named by {table}.api_key_env) to a valid key; {DOCTOR}."
        ),
        LlmError::Unauthorized { env: None, .. } => format!(
            "Set {table}.api_key_env to the environment variable that holds the key; {DOCTOR}."
        ),
        LlmError::MissingApiKey { env } => format!(
            "Set the environment variable {env} (named by {table}.api_key_env) where augur starts; {DOCTOR}."
        ),
        LlmError::BadRequest { status: 404, .. } => {
            format!("Set {table}.model to a model the server has; `augur doctor` lists them.")
        }
        LlmError::BadRequest { .. } => {
            format!("Check {table}.model and the request parameters (max_tokens, stop); {DOCTOR}.")
        }
        LlmError::Server { .. } | LlmError::Interrupted { .. } => {
            format!("Check the model server's logs; {DOCTOR}.")
        }
        LlmError::Timeout { .. } | LlmError::DeadlineExceeded { .. } => format!(
            "Use a smaller or less busy model, or raise {table}.first_token_timeout_ms and completion.timeout_ms."
        ),
        LlmError::UnknownModel { name } => {
            format!("Add a [models.{name}] table, or name a configured model in completion.model.")
        }
        other => {
            let hint = other.hint();
            let mut chars = hint.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
            format!("{}{}; {DOCTOR}.", first.unwrap_or_default(), chars.as_str())
        }
    }
}

/// `text` cut to at most `max` characters (with an ellipsis when cut).
fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> LlmError {
        LlmError::Connect {
            endpoint: "http://127.0.0.1:8090/v1".into(),
            backend: "openai".into(),
            message: "error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)".into(),
        }
    }

    fn server(status: u16) -> LlmError {
        LlmError::Server {
            endpoint: "http://127.0.0.1:8090/v1".into(),
            status,
            message: "the model crashed".into(),
        }
    }

    /// A tracker whose clock starts at 1,700,000,000,000 ms after the epoch.
    fn tracker() -> ModelHealth {
        ModelHealth::with_wall_origin(UNIX_EPOCH + Duration::from_millis(1_700_000_000_000))
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_then_unreachable_since_the_first_failure() {
        let health = tracker();
        let status = health.status("default");
        assert_eq!(status.state, HealthState::Unknown);
        assert_eq!(status.since, None);
        tokio::time::advance(Duration::from_secs(5)).await;
        let notice = health.record_failure("default", &refused()).unwrap();
        assert_eq!(notice.level, NoticeLevel::Warning);
        assert_eq!(
            notice.text,
            "augur: the model `default` at http://127.0.0.1:8090/v1 is unreachable (Connection \
             refused (os error 111)). Start the model server or set models.default.url; run \
             `augur doctor` to check."
        );
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(health.record_failure("default", &refused()), None);
        let status = health.status("default");
        assert_eq!(status.state, HealthState::Unreachable);
        assert_eq!(
            status.since,
            Some(1_700_000_005_000),
            "since the first failure"
        );
        assert_eq!(status.cause.as_deref(), Some("llm.connect"));
        assert!(
            status
                .error
                .unwrap()
                .starts_with("cannot connect to http://127.0.0.1:8090/v1")
        );
        assert!(status.fix.unwrap().contains("models.default.url"));
        assert_eq!(health.status("other").state, HealthState::Unknown);
    }

    #[tokio::test(start_paused = true)]
    async fn each_cause_is_told_once_until_the_model_answers() {
        let health = tracker();
        assert!(health.record_failure("default", &server(500)).is_some());
        assert!(
            health.record_failure("default", &server(503)).is_none(),
            "same cause"
        );
        let unauthorized = LlmError::Unauthorized {
            endpoint: "https://api.example.com/v1".into(),
            status: 401,
            env: Some("OPENAI_API_KEY".into()),
            message: "invalid key".into(),
        };
        let notice = health.record_failure("default", &unauthorized).unwrap();
        assert_eq!(notice.level, NoticeLevel::Error);
        assert!(
            notice
                .text
                .contains("refused the credentials (HTTP 401: invalid key)")
        );
        assert!(
            notice
                .text
                .contains("OPENAI_API_KEY (named by models.default.api_key_env)")
        );
        // Back to the first cause: told already.
        assert!(health.record_failure("default", &server(500)).is_none());
        tokio::time::advance(Duration::from_secs(2)).await;
        let notice = health.record_success("default").unwrap();
        assert_eq!(notice.level, NoticeLevel::Info);
        assert_eq!(notice.text, "augur: the model `default` answers again");
        let status = health.status("default");
        assert_eq!(status.state, HealthState::Ok);
        assert_eq!(status.since, Some(1_700_000_002_000));
        assert_eq!((status.cause, status.error, status.fix), (None, None, None));
        assert!(health.record_success("default").is_none(), "said once");
        // After the recovery, the same cause is news again.
        assert!(health.record_failure("default", &server(500)).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn cancellations_and_open_breakers_say_nothing_new() {
        let health = tracker();
        assert!(
            health
                .record_failure("default", &LlmError::Cancelled)
                .is_none()
        );
        assert_eq!(health.status("default").state, HealthState::Unknown);
        assert!(
            health.record_success("default").is_none(),
            "nothing was wrong"
        );
        assert_eq!(health.status("default").state, HealthState::Ok);
        health.record_failure("default", &refused());
        let open = LlmError::CircuitOpen {
            model: "default".into(),
            retry_in: Duration::from_secs(30),
        };
        assert!(health.record_failure("default", &open).is_none());
        let status = health.status("default");
        assert_eq!(status.state, HealthState::Unreachable, "kept");
        assert_eq!(status.cause.as_deref(), Some("llm.connect"), "kept");
        // An open breaker in a model not known to fail is news.
        assert!(health.record_failure("fresh", &open).is_some());
        assert_eq!(health.status("fresh").state, HealthState::Failing);
    }

    #[test]
    fn states_levels_and_fixes_by_cause() {
        let url = "http://127.0.0.1:8090/v1".to_string();
        let cases: Vec<(LlmError, HealthState, NoticeLevel, &str)> = vec![
            (
                LlmError::Timeout {
                    endpoint: url.clone(),
                    phase: TimeoutPhase::Connect,
                    after: Duration::from_secs(2),
                },
                HealthState::Unreachable,
                NoticeLevel::Warning,
                "models.default.url",
            ),
            (
                LlmError::RateLimited {
                    endpoint: url.clone(),
                    retry_after: Some(Duration::from_secs(1)),
                },
                HealthState::RateLimited,
                NoticeLevel::Warning,
                "models.default.requests_per_minute",
            ),
            (
                LlmError::BadRequest {
                    endpoint: url.clone(),
                    status: 404,
                    message: "model 'x' not found".into(),
                },
                HealthState::Failing,
                NoticeLevel::Error,
                "Set models.default.model",
            ),
            (
                LlmError::MissingApiKey {
                    env: "OPENAI_API_KEY".into(),
                },
                HealthState::Failing,
                NoticeLevel::Error,
                "OPENAI_API_KEY (named by models.default.api_key_env)",
            ),
            (
                LlmError::Timeout {
                    endpoint: url.clone(),
                    phase: TimeoutPhase::FirstToken,
                    after: Duration::from_secs(15),
                },
                HealthState::Failing,
                NoticeLevel::Warning,
                "models.default.first_token_timeout_ms",
            ),
            (
                LlmError::DeadlineExceeded {
                    after: Duration::from_secs(15),
                },
                HealthState::Failing,
                NoticeLevel::Warning,
                "completion.timeout_ms",
            ),
            (
                LlmError::Protocol {
                    endpoint: url.clone(),
                    message: "not JSON".into(),
                },
                HealthState::Failing,
                NoticeLevel::Error,
                "check `backend` and `url`",
            ),
            (
                server(500),
                HealthState::Failing,
                NoticeLevel::Warning,
                "logs",
            ),
        ];
        for (error, state, level, fix_part) in cases {
            let health = ModelHealth::new();
            let notice = health.record_failure("default", &error).unwrap();
            assert_eq!(health.status("default").state, state, "{error}");
            assert_eq!(notice.level, level, "{error}");
            assert!(
                notice.text.contains(fix_part),
                "{fix_part:?} in {}",
                notice.text
            );
            assert!(
                notice.text.starts_with("augur: the model `default`"),
                "{}",
                notice.text
            );
        }
    }

    #[test]
    fn long_server_messages_are_cut() {
        let health = ModelHealth::new();
        let error = LlmError::Server {
            endpoint: "http://127.0.0.1:8090/v1".into(),
            status: 500,
            message: "x".repeat(10_000),
        };
        let notice = health.record_failure("default", &error).unwrap();
        assert!(notice.text.len() < 600, "{}", notice.text.len());
        assert!(health.status("default").error.unwrap().chars().count() <= MAX_ERROR_CHARS + 1);
    }
}
