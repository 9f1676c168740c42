//! Requests and answers of the LLM client, independent of any backend.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How urgent a request is. The queue of an endpoint lets higher priorities go first; among equal
/// priorities, the order of arrival holds.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Priority {
    /// Background work (indexing summaries, prefetch).
    Background,
    /// Code actions asked for by the user.
    Action,
    /// Inline completions while the user types.
    #[default]
    Interactive,
}

/// A piece of context from another file, sent as llama.cpp's `input_extra` or prepended to the
/// prompt by the other backends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExtraContext {
    /// The file name shown to the model.
    pub filename: String,
    /// The text.
    pub text: String,
}

/// One completion request.
///
/// ```
/// use augur::llm::{CompletionRequest, Priority};
/// let request = CompletionRequest {
///     prompt: "fn add(a: i32, b: i32) -> i32 {\n".into(),
///     max_tokens: Some(16),
///     temperature: Some(0.0),
///     ..CompletionRequest::new("default")
/// };
/// assert_eq!(request.priority, Priority::Interactive);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionRequest {
    /// The configured model name (a key of `[models]`).
    pub model: String,
    /// The text before the cursor (or the whole prompt).
    pub prompt: String,
    /// The text after the cursor, for fill-in-the-middle.
    pub suffix: Option<String>,
    /// Context from other files.
    pub extra: Vec<ExtraContext>,
    /// The most tokens to generate; `None` uses the model's `max_tokens`.
    pub max_tokens: Option<u32>,
    /// The sampling temperature; `None` uses the model's `temperature`.
    pub temperature: Option<f32>,
    /// Generation stops before any of these strings.
    pub stop: Vec<String>,
    /// How urgent the request is.
    pub priority: Priority,
    /// Whether the backend is asked to stream its answer (`complete` still returns it whole; a
    /// streaming wire format lets the first-token timeout and failover work before the answer ends).
    pub stream: bool,
    /// The request fails with [`crate::llm::LlmError::DeadlineExceeded`] if it has not finished
    /// this long after it was made (a queued request leaves the queue without an HTTP call).
    pub deadline: Option<Duration>,
    /// Whether the answer may come from, and go to, the cache.
    pub use_cache: bool,
    /// How long generation may go on (after the first token) before the server ends it at the
    /// next line break, for backends that can (llama.cpp's `t_max_predict_ms`).
    pub generation_limit: Option<Duration>,
    /// The server-side prompt-cache slot to use, for backends that keep one cache per slot
    /// (llama.cpp's `id_slot`): requests that continue one another (one document) share a slot.
    pub slot: Option<u32>,
}

impl CompletionRequest {
    /// A request to `model` with an empty prompt and every other field at its default.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            prompt: String::new(),
            suffix: None,
            extra: Vec::new(),
            max_tokens: None,
            temperature: None,
            stop: Vec::new(),
            priority: Priority::Interactive,
            stream: false,
            deadline: None,
            use_cache: true,
            generation_limit: None,
            slot: None,
        }
    }
}

/// Token counts reported by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
}

/// Why generation ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FinishReason {
    /// The model ended its answer or hit a stop sequence.
    Stop,
    /// `max_tokens` was reached.
    Length,
    /// Something else the server said.
    Other(String),
    /// The server did not say.
    #[default]
    Unknown,
}

/// A finished answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The generated text.
    pub text: String,
    /// Token counts, when the server gave them.
    pub usage: Option<Usage>,
    /// Why generation ended.
    pub finish_reason: FinishReason,
    /// The endpoint that answered (URL without credentials); for a cache hit, the one that
    /// answered originally.
    pub endpoint: String,
    /// Whether the answer came from the cache.
    pub cached: bool,
    /// How many attempts were made (1 without retries, 0 for a cache hit).
    pub attempts: u32,
    /// Time to the first token, if measured.
    pub time_to_first_token: Option<Duration>,
    /// Time for the whole request.
    pub elapsed: Duration,
}

/// One item of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// More text.
    Delta(String),
    /// The end: the whole answer with usage. Always the last item of a successful stream.
    Done(Completion),
}
