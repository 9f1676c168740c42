//! Typed errors of the LLM client: each has a stable [`LlmError::code`], says whether retrying
//! can help ([`LlmError::retryable`]) and gives a one-line [`LlmError::hint`] for the user.
//!
//! Errors never contain an API key: they name the environment variable, and URLs are shown without
//! user information (see [`redact_url`]).

use std::time::Duration;

/// The phase of a request a timeout applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Opening the connection.
    Connect,
    /// Waiting for the first token (or the whole answer of a non-streaming request).
    FirstToken,
    /// Waiting for the next chunk of a stream that has started (a stall).
    Stall,
    /// The whole request.
    Total,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::FirstToken => "first token",
            TimeoutPhase::Stall => "stall",
            TimeoutPhase::Total => "total",
        })
    }
}

/// Which limit of a reply was passed (see [`crate::llm::reply::ReplyLimits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyPart {
    /// The generated text.
    Text,
    /// One message: a line or event of a stream, or a whole non-streamed reply.
    Message,
    /// Everything a streamed reply sent.
    Body,
}

impl std::fmt::Display for ReplyPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReplyPart::Text => "text",
            ReplyPart::Message => "message",
            ReplyPart::Body => "body",
        })
    }
}

/// Everything that can go wrong with a model request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The request names a model that is not configured.
    #[error("no model named `{name}` is configured")]
    UnknownModel {
        /// The name asked for.
        name: String,
    },
    /// The model's configuration cannot work (bad backend name, URL, template).
    #[error("invalid configuration of model `{model}`: {message}")]
    Config {
        /// The model name.
        model: String,
        /// What is wrong.
        message: String,
    },
    /// The configured environment variable holding the API key is not set.
    #[error("the API key variable {env} is not set")]
    MissingApiKey {
        /// The variable name.
        env: String,
    },
    /// The server could not be reached.
    #[error("cannot connect to {endpoint}: {message}")]
    Connect {
        /// The endpoint URL (without credentials).
        endpoint: String,
        /// The backend protocol, for the hint.
        backend: String,
        /// What the transport said.
        message: String,
    },
    /// A timeout passed.
    #[error("{phase} timeout after {} ms at {endpoint}", after.as_millis())]
    Timeout {
        /// The endpoint URL.
        endpoint: String,
        /// Which timeout.
        phase: TimeoutPhase,
        /// How long was waited.
        after: Duration,
    },
    /// The server said 429 and retries did not help.
    #[error("rate limited by {endpoint}{}", retry_after.map(|d| format!(" (retry after {} ms)", d.as_millis())).unwrap_or_default())]
    RateLimited {
        /// The endpoint URL.
        endpoint: String,
        /// How long the server asked to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The server refused the credentials (401 or 403).
    #[error("{endpoint} refused the credentials (HTTP {status}): {message}")]
    Unauthorized {
        /// The endpoint URL.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The environment variable the key came from, if any.
        env: Option<String>,
        /// The server's message.
        message: String,
    },
    /// The server rejected the request as malformed (400, 422, or 404 for a missing model).
    #[error("{endpoint} rejected the request (HTTP {status}): {message}")]
    BadRequest {
        /// The endpoint URL.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The server does not offer this API (404 on the path, 501).
    #[error("{endpoint} does not support this API (HTTP {status}): {message}")]
    Unsupported {
        /// The endpoint URL.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The server failed (5xx) and retries did not help.
    #[error("{endpoint} failed (HTTP {status}): {message}")]
    Server {
        /// The endpoint URL.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The reply could not be understood (malformed JSON, wrong content type, missing fields).
    #[error("unexpected reply from {endpoint}: {message}")]
    Protocol {
        /// The endpoint URL.
        endpoint: String,
        /// What was wrong.
        message: String,
    },
    /// The connection broke or the stream ended before the answer was complete.
    #[error("the reply from {endpoint} was cut off: {message}")]
    Interrupted {
        /// The endpoint URL.
        endpoint: String,
        /// What happened.
        message: String,
    },
    /// The reply was larger than its request's `max_tokens` allows: augur stopped reading it and
    /// closed the connection.
    #[error("the reply from {endpoint} passed the limit of {limit} bytes for its {part}")]
    ReplyTooLarge {
        /// The endpoint URL.
        endpoint: String,
        /// Which limit was passed.
        part: ReplyPart,
        /// The limit, in bytes.
        limit: u64,
    },
    /// Every endpoint of the model has an open circuit breaker.
    #[error("all endpoints of model `{model}` are failing; the next try is in {} ms", retry_in.as_millis())]
    CircuitOpen {
        /// The model name.
        model: String,
        /// When the first breaker half-opens.
        retry_in: Duration,
    },
    /// The request's deadline passed (while queued or while running).
    #[error("the request's deadline passed after {} ms", after.as_millis())]
    DeadlineExceeded {
        /// How long the request lived.
        after: Duration,
    },
    /// The request was cancelled.
    #[error("the request was cancelled")]
    Cancelled,
    /// A local input/output error (the cache file).
    #[error("{context}: {message}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        message: String,
    },
}

impl LlmError {
    /// A stable, machine-readable code, e.g. `llm.rate_limited`.
    pub fn code(&self) -> &'static str {
        match self {
            LlmError::UnknownModel { .. } => "llm.unknown_model",
            LlmError::Config { .. } => "llm.config",
            LlmError::MissingApiKey { .. } => "llm.missing_api_key",
            LlmError::Connect { .. } => "llm.connect",
            LlmError::Timeout {
                phase: TimeoutPhase::Connect,
                ..
            } => "llm.timeout.connect",
            LlmError::Timeout {
                phase: TimeoutPhase::FirstToken,
                ..
            } => "llm.timeout.first_token",
            LlmError::Timeout {
                phase: TimeoutPhase::Stall,
                ..
            } => "llm.timeout.stall",
            LlmError::Timeout {
                phase: TimeoutPhase::Total,
                ..
            } => "llm.timeout.total",
            LlmError::RateLimited { .. } => "llm.rate_limited",
            LlmError::Unauthorized { .. } => "llm.unauthorized",
            LlmError::BadRequest { .. } => "llm.bad_request",
            LlmError::Unsupported { .. } => "llm.unsupported",
            LlmError::Server { .. } => "llm.server",
            LlmError::Protocol { .. } => "llm.protocol",
            LlmError::Interrupted { .. } => "llm.interrupted",
            LlmError::ReplyTooLarge { .. } => "llm.reply_too_large",
            LlmError::CircuitOpen { .. } => "llm.circuit_open",
            LlmError::DeadlineExceeded { .. } => "llm.deadline",
            LlmError::Cancelled => "llm.cancelled",
            LlmError::Io { .. } => "llm.io",
        }
    }

    /// Whether trying the same request again (later, or on another endpoint) can succeed.
    pub fn retryable(&self) -> bool {
        match self {
            LlmError::Connect { .. }
            | LlmError::RateLimited { .. }
            | LlmError::Server { .. }
            | LlmError::Interrupted { .. }
            | LlmError::CircuitOpen { .. } => true,
            LlmError::Timeout { phase, .. } => *phase != TimeoutPhase::Total,
            _ => false,
        }
    }

    /// One line telling the user what to do about it.
    pub fn hint(&self) -> String {
        match self {
            LlmError::UnknownModel { name } => {
                format!("add a [models.{name}] table to the configuration, or use a configured model name")
            }
            LlmError::Config { model, .. } => format!("fix the [models.{model}] table"),
            LlmError::MissingApiKey { env } => format!("set {env} in the environment augur starts in"),
            LlmError::Connect {
                endpoint, backend, ..
            } => match backend.as_str() {
                "ollama" => format!("Ollama is not running at {endpoint}: start it with `ollama serve`"),
                "llamacpp" | "openai" if is_loopback_url(endpoint) => format!(
                    "no server is listening at {endpoint}: start it (e.g. `llama-server -m MODEL --port PORT`) or fix `url`"
                ),
                _ => format!("check the network and the `url` of the model ({endpoint})"),
            },
            LlmError::Timeout {
                phase: TimeoutPhase::FirstToken | TimeoutPhase::Stall,
                ..
            } => "the model is slow to answer: use a smaller model or raise `first_token_timeout_ms`".into(),
            LlmError::Timeout { phase, .. } => {
                format!("raise `{}_timeout_ms` or check the server", match phase {
                    TimeoutPhase::Connect => "connect",
                    _ => "total",
                })
            }
            LlmError::RateLimited { .. } => {
                "the provider's rate limit was hit: lower `requests_per_minute`/`tokens_per_minute` or wait".into()
            }
            LlmError::Unauthorized { env: Some(env), .. } => {
                format!("the key in {env} was refused: set {env} to a valid API key")
            }
            LlmError::Unauthorized { env: None, .. } => {
                "the server wants an API key: set `api_key_env` to the variable holding it".into()
            }
            LlmError::BadRequest { .. } => {
                "check the `model` name and the request parameters (max_tokens, stop) of the model".into()
            }
            LlmError::Unsupported { .. } => {
                "this server lacks the API: set `backend`/`api` to one it serves, or a `fim_template`".into()
            }
            LlmError::Server { .. } => "the server is failing: check its logs".into(),
            LlmError::Protocol { .. } => {
                "the server does not speak the configured `backend` protocol: check `backend` and `url`".into()
            }
            LlmError::Interrupted { .. } => "the connection broke: check the server's stability".into(),
            LlmError::ReplyTooLarge { .. } => {
                "the server sent far more than `max_tokens` allows: check that it honours `max_tokens` and that `backend` names its protocol".into()
            }
            LlmError::CircuitOpen { .. } => {
                "all endpoints failed repeatedly; augur will try again after the cool-down".into()
            }
            LlmError::DeadlineExceeded { .. } => {
                "the model was too busy: lower the request rate or raise the deadline".into()
            }
            LlmError::Cancelled => "nothing to do: the editor no longer wanted the answer".into(),
            LlmError::Io { .. } => "check the permissions of the cache file's directory".into(),
        }
    }
}

/// Whether `url`'s host is this machine: `localhost`, an IPv4 loopback address (`127.x.x.x`) or
/// `[::1]`.
pub fn is_loopback_url(url: &str) -> bool {
    let Some(host) = reqwest::Url::parse(url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
    else {
        return false;
    };
    // An IPv6 host comes in brackets.
    let address = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || address
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Returns `url` without user information (`https://user:pass@host/` becomes `https://host/`) and
/// without a query string, so it can appear in errors and logs.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let path = path.split('?').next().unwrap_or(path);
    format!("{scheme}{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::is_loopback_url;

    #[test]
    fn loopback_urls_are_told_from_others() {
        for url in [
            "http://127.0.0.1:8080/v1",
            "http://localhost:11434",
            "http://[::1]:8080/",
            "http://user:pw@127.0.0.2/v1",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "https://api.openai.com/v1",
            "http://127.0.0.1.example.com/",
            "http://10.0.0.1:8080",
            "http://example.com/?next=http://127.0.0.1",
            "http://[2001:db8::1]:80/",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }

    use super::*;

    #[test]
    fn redaction_removes_credentials_and_queries() {
        assert_eq!(
            redact_url("https://user:secret@api.example.com/v1?key=abc"),
            "https://api.example.com/v1"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8090/v1"),
            "http://127.0.0.1:8090/v1"
        );
    }

    #[test]
    fn codes_retryability_and_hints() {
        let err = LlmError::MissingApiKey {
            env: "OPENAI_API_KEY".into(),
        };
        assert_eq!(err.code(), "llm.missing_api_key");
        assert!(!err.retryable());
        assert!(err.hint().contains("set OPENAI_API_KEY"));
        let err = LlmError::Connect {
            endpoint: "http://127.0.0.1:11434".into(),
            backend: "ollama".into(),
            message: "refused".into(),
        };
        assert!(err.retryable());
        assert!(err.hint().contains("ollama serve"));
        let err = LlmError::ReplyTooLarge {
            endpoint: "http://127.0.0.1:8080".into(),
            part: ReplyPart::Text,
            limit: 4096,
        };
        assert_eq!(err.code(), "llm.reply_too_large");
        assert!(
            !err.retryable(),
            "the same request would get the same reply"
        );
        assert_eq!(
            err.to_string(),
            "the reply from http://127.0.0.1:8080 passed the limit of 4096 bytes for its text"
        );
    }
}
