//! The wire protocols, one module each, behind the [`Backend`] trait.
//!
//! A backend only translates: it turns a [`WireRequest`] into an [`HttpCall`] (path, JSON body,
//! headers) and turns reply bodies or stream events into [`Event`]s. Sending, timeouts, retries and
//! streaming are the client's job, so every protocol gets them alike.
//!
//! ```
//! use augur::llm::backend::{backend_for, Event, WireRequest};
//! let openai = backend_for("openai").unwrap();
//! let body = serde_json::json!({"choices": [{"text": "return a + b;", "finish_reason": "stop"}]});
//! let events = openai.parse_body(&WireRequest::default(), &body).unwrap();
//! assert_eq!(events[0], Event::Text("return a + b;".into()));
//! ```

use serde_json::Value;

use crate::llm::config::BackendKind;
use crate::llm::types::{ExtraContext, FinishReason};

pub mod anthropic;
pub mod llamacpp;
pub mod mistral;
pub mod ollama;
pub mod openai;

pub use crate::llm::config::Api;

/// A request as the backend sees it: parameters resolved, nothing optional left to decide.
#[derive(Debug, Clone, Default)]
pub struct WireRequest<'a> {
    /// The model name sent to the server.
    pub model: &'a str,
    /// The prompt (text before the cursor).
    pub prompt: &'a str,
    /// The text after the cursor.
    pub suffix: Option<&'a str>,
    /// Context from other files.
    pub extra: &'a [ExtraContext],
    /// The most tokens to generate.
    pub max_tokens: u32,
    /// The sampling temperature.
    pub temperature: f32,
    /// Stop sequences.
    pub stop: &'a [String],
    /// Whether to ask for a stream.
    pub stream: bool,
    /// Which API.
    pub api: Api,
    /// The fill-in-the-middle template, if configured.
    pub fim_template: Option<&'a str>,
    /// The system prompt for chat APIs.
    pub system_prompt: Option<&'a str>,
    /// How long generation may go on before the server ends it at a line break, in milliseconds
    /// (sent by backends that support it).
    pub generation_limit_ms: Option<u64>,
    /// The server's prompt-cache slot (sent by backends that have slots).
    pub slot: Option<u32>,
}

impl WireRequest<'_> {
    /// The prompt with the other files' context in front, for backends without a field for it.
    pub fn prompt_with_extra(&self) -> String {
        let mut out = String::new();
        for chunk in self.extra {
            out.push_str(&chunk.filename);
            out.push('\n');
            out.push_str(&chunk.text);
            if !chunk.text.ends_with('\n') {
                out.push('\n');
            }
        }
        out.push_str(self.prompt);
        out
    }

    /// The single raw prompt built from the template, when there is a suffix and a template.
    pub fn templated_prompt(&self) -> Option<String> {
        let template = self.fim_template?;
        let suffix = self.suffix?;
        Some(fill_placeholders(
            template,
            &self.prompt_with_extra(),
            suffix,
        ))
    }

    /// The user message of a chat request: the prompt, or a fill-in-the-middle instruction.
    pub fn chat_user_message(&self) -> String {
        match self.suffix {
            Some(suffix) if !suffix.is_empty() => format!(
                "Fill in the code at <FILL>. Reply with only the text that replaces <FILL>, \
                 without explanations or code fences.\n\n{}<FILL>{}",
                self.prompt_with_extra(),
                suffix
            ),
            _ => self.prompt_with_extra(),
        }
    }
}

/// The HTTP method of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST with a JSON body.
    Post,
}

/// How a URL path relates to the configured base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// Relative to a versioned API root such as `https://api.openai.com/v1` (`/v1` is added to a
    /// base URL without a path).
    Versioned,
    /// Relative to the server root (a trailing `/v1` or `/api` on the base URL is dropped).
    Root,
}

/// One HTTP call to make.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCall {
    /// The method.
    pub method: Method,
    /// The path, e.g. `completions` or `/api/generate`.
    pub path: String,
    /// What the path is relative to.
    pub base: Base,
    /// The JSON body (ignored for GET).
    pub body: Value,
    /// Extra headers (not the key: see [`Backend::auth_headers`]).
    pub headers: Vec<(&'static str, String)>,
}

impl HttpCall {
    /// A POST of `body` to `path` relative to `base`, with no extra headers.
    pub fn post(base: Base, path: &str, body: Value) -> Self {
        Self {
            method: Method::Post,
            path: path.into(),
            base,
            body,
            headers: Vec::new(),
        }
    }

    /// A GET of `path` relative to `base`, with no extra headers.
    pub fn get(base: Base, path: &str) -> Self {
        Self {
            method: Method::Get,
            path: path.into(),
            base,
            body: Value::Null,
            headers: Vec::new(),
        }
    }

    /// The same call with one more header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// How a stream is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-sent events.
    Sse,
    /// One JSON object per line.
    Ndjson,
}

/// Something a reply said.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Generated text.
    Text(String),
    /// Token counts; a field left `None` keeps its earlier value.
    Usage {
        /// Prompt tokens.
        prompt: Option<u32>,
        /// Generated tokens.
        completion: Option<u32>,
    },
    /// Why generation ended.
    Finish(FinishReason),
    /// The answer is complete.
    Done,
}

/// A reply that could not be understood.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// What was wrong.
    pub message: String,
    /// Whether the server reported a transient failure (an `overloaded` event, say).
    pub retryable: bool,
}

impl ParseError {
    /// A permanent parse error.
    pub fn new(message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            retryable: false,
        }
    }
}

/// A wire protocol.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The name used in configuration (`openai`, ...).
    fn name(&self) -> &'static str;

    /// The call for a completion. An error says what cannot be expressed.
    fn build(&self, request: &WireRequest<'_>) -> Result<HttpCall, String>;

    /// The headers carrying an API key.
    fn auth_headers(&self, key: &str) -> Vec<(&'static str, String)> {
        vec![("authorization", format!("Bearer {key}"))]
    }

    /// How streams are framed.
    fn framing(&self) -> Framing {
        Framing::Sse
    }

    /// Parses a whole (non-streaming) reply.
    fn parse_body(&self, request: &WireRequest<'_>, body: &Value)
    -> Result<Vec<Event>, ParseError>;

    /// Parses one stream event (`event` is the SSE event name, empty for NDJSON).
    fn parse_stream(
        &self,
        request: &WireRequest<'_>,
        event: &str,
        data: &str,
    ) -> Result<Vec<Event>, ParseError>;

    /// The call listing the server's models (for `augur doctor`), if the protocol has one.
    fn list_models(&self) -> Option<HttpCall>;

    /// The model names in a reply to [`Backend::list_models`].
    fn parse_models(&self, body: &Value) -> Vec<String> {
        // The OpenAI shape `{"data": [{"id": ...}]}` serves most servers.
        body.get("data")
            .and_then(Value::as_array)
            .map(|models| {
                models
                    .iter()
                    .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether a model missing from the server's list makes requests fail (true for servers that
    /// route by model name; llama.cpp serves its one model whatever the name).
    fn model_must_be_listed(&self) -> bool {
        false
    }
}

/// The backend for a configuration name.
pub fn backend_for(name: &str) -> Option<Box<dyn Backend>> {
    BackendKind::from_name(name).map(backend_of)
}

/// The backend of a configured kind.
pub fn backend_of(kind: BackendKind) -> Box<dyn Backend> {
    match kind {
        BackendKind::OpenAi => Box::new(openai::OpenAi),
        BackendKind::Ollama => Box::new(ollama::Ollama),
        BackendKind::LlamaCpp => Box::new(llamacpp::LlamaCpp),
        BackendKind::Anthropic => Box::new(anthropic::Anthropic),
        BackendKind::Mistral => Box::new(mistral::Mistral),
    }
}

/// The names accepted by [`backend_for`].
pub const BACKENDS: [&str; 5] = ["openai", "ollama", "llamacpp", "anthropic", "mistral"];

/// Joins a base URL and a call's path.
pub fn join_url(base_url: &str, call: &HttpCall) -> String {
    let mut base = base_url.trim_end_matches('/').to_owned();
    match call.base {
        Base::Versioned => {
            let after_scheme = base.split_once("://").map_or(base.as_str(), |(_, r)| r);
            if !after_scheme.contains('/') {
                base.push_str("/v1");
            }
        }
        Base::Root => {
            for tail in ["/v1", "/api"] {
                if let Some(stripped) = base.strip_suffix(tail) {
                    base = stripped.to_owned();
                    break;
                }
            }
        }
    }
    let path = call.path.trim_start_matches('/');
    format!("{base}/{path}")
}

/// The text of a server's error reply: `error.message`, `error`, `message` or `detail`, else the
/// start of the body.
pub fn error_message(body: &str) -> String {
    let from_json = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        let error = v.get("error");
        error
            .and_then(|e| e.get("message"))
            .or(error)
            .or_else(|| v.get("message"))
            .or_else(|| v.get("detail"))
            .map(|m| {
                m.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| m.to_string())
            })
    });
    let text = from_json.unwrap_or_else(|| body.trim().to_owned());
    let mut short: String = text.chars().take(300).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// Reads an unsigned count from a JSON field.
pub(crate) fn count(value: Option<&Value>) -> Option<u32> {
    value
        .and_then(Value::as_u64)
        .map(|n| n.min(u32::MAX as u64) as u32)
}

/// Maps OpenAI-style finish reasons.
pub(crate) fn finish_reason(text: &str) -> FinishReason {
    match text {
        "stop" | "eos" | "end_turn" | "stop_sequence" | "word" => FinishReason::Stop,
        "length" | "max_tokens" | "limit" => FinishReason::Length,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Parses a JSON stream payload.
pub(crate) fn parse_json(data: &str) -> Result<Value, ParseError> {
    serde_json::from_str(data).map_err(|e| {
        let start: String = data.chars().take(80).collect();
        ParseError::new(format!("malformed JSON in stream ({e}): {start}"))
    })
}

/// An `{"error": ...}` object inside a stream or a 200 reply.
pub(crate) fn embedded_error(value: &Value) -> Option<ParseError> {
    let error = value.get("error")?;
    if error.is_null() {
        return None;
    }
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| error.as_str().map(str::to_owned))
        .unwrap_or_else(|| error.to_string());
    let kind = error.get("type").and_then(Value::as_str).unwrap_or("");
    if is_context_full(&message) {
        // Asking again at once fills the context again: say what to change instead.
        return Some(ParseError {
            retryable: false,
            message: format!(
                "the server reported an error: {message} (its context is shared by its slots and \
                 too small for the prompts it holds: start llama-server with --parallel 1, or a \
                 larger --ctx-size)"
            ),
        });
    }
    Some(ParseError {
        retryable: kind.contains("overloaded") || kind.contains("server") || kind.contains("rate"),
        message: format!("the server reported an error: {message}"),
    })
}

/// Whether a model server's error says its context (KV cache) is full: llama.cpp's words when
/// the prompts of its slots do not fit together in the context it was started with.
fn is_context_full(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("context size has been exceeded")
        || message.contains("exceeds the available context size")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(base: Base, path: &str) -> HttpCall {
        HttpCall {
            method: Method::Post,
            path: path.into(),
            base,
            body: Value::Null,
            headers: Vec::new(),
        }
    }

    #[test]
    fn urls_join_tolerantly() {
        let c = call(Base::Versioned, "completions");
        assert_eq!(join_url("http://h:1/v1", &c), "http://h:1/v1/completions");
        assert_eq!(join_url("http://h:1/v1/", &c), "http://h:1/v1/completions");
        assert_eq!(join_url("http://h:1", &c), "http://h:1/v1/completions");
        assert_eq!(
            join_url("https://openrouter.ai/api/v1", &c),
            "https://openrouter.ai/api/v1/completions"
        );
        let r = call(Base::Root, "/api/generate");
        assert_eq!(
            join_url("http://h:11434", &r),
            "http://h:11434/api/generate"
        );
        assert_eq!(
            join_url("http://h:11434/api", &r),
            "http://h:11434/api/generate"
        );
        assert_eq!(
            join_url("http://h:8080/v1", &call(Base::Root, "/infill")),
            "http://h:8080/infill"
        );
    }

    #[test]
    fn a_full_context_is_not_retried_and_names_the_fix() {
        let full = embedded_error(&serde_json::json!({"error": {
            "code": 500,
            "message": "Context size has been exceeded.",
            "type": "server_error"
        }}))
        .unwrap();
        assert!(!full.retryable);
        assert!(full.message.contains("--parallel 1"), "{}", full.message);
        let other = embedded_error(&serde_json::json!({"error": {
            "message": "boom",
            "type": "server_error"
        }}))
        .unwrap();
        assert!(other.retryable);
        assert!(!other.message.contains("--parallel"));
    }

    #[test]
    fn error_messages_are_extracted_and_short() {
        assert_eq!(
            error_message(r#"{"error":{"message":"bad key"}}"#),
            "bad key"
        );
        assert_eq!(
            error_message(r#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(error_message("plain text"), "plain text");
        assert!(error_message(&"x".repeat(1000)).chars().count() <= 301);
    }
}

/// Puts `prefix` and `suffix` in place of `{prefix}` and `{suffix}` in one pass, so code that
/// itself contains those words in braces is left as it is.
fn fill_placeholders(template: &str, prefix: &str, suffix: &str) -> String {
    let mut out = String::with_capacity(template.len() + prefix.len() + suffix.len());
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{prefix}") {
            out.push_str(prefix);
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{suffix}") {
            out.push_str(suffix);
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod placeholder_tests {
    use super::fill_placeholders;

    #[test]
    fn placeholders_are_filled_once() {
        let filled = fill_placeholders(
            "<PRE>{prefix}<SUF>{suffix}<MID>",
            "let s = \"{suffix}\";",
            "{prefix}",
        );
        assert_eq!(filled, "<PRE>let s = \"{suffix}\";<SUF>{prefix}<MID>");
        assert_eq!(fill_placeholders("{ {x} {prefix}", "p", "s"), "{ {x} p");
    }
}
