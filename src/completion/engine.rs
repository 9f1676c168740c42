//! The completion engine: prompt, model, post-processing, in byte offsets and without LSP types.
//! The LSP handlers and `augur complete` both call [`CompletionEngine::complete`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use augur::completion::{CompletionConfig, CompletionEngine, EngineRequest, Trigger};
//! use augur::llm::{LlmClient, LlmDeps};
//! # async fn run(client: LlmClient) -> Result<(), augur::completion::CompletionError> {
//! let engine = CompletionEngine::new(Arc::new(client));
//! let request = EngineRequest::new("file:///a.rs", ropey::Rope::from_str("fn main() {\n    \n}\n"), 16, Arc::new(CompletionConfig::default()));
//! let suggestion = engine.complete(request).await?;
//! println!("{} in {:.1} ms", suggestion.text, suggestion.timings.total_ms);
//! # Ok(()) }
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use ropey::Rope;
use rustc_hash::{FxHashMap, FxHashSet};

use super::config::{AskWhileTyping, CompletionConfig, MultilinePolicy};
use super::generation::generation_size;
use super::postprocess::{
    PostContext, PostProcessor, adds_syntax_errors, auto_multiline_at, auto_multiline_in_tree,
    replaced_rest,
};
use super::prefetch::{MAX_TYPED, Prefetcher, Taken};
use super::prompt::{
    BuiltPrompt, LayoutMemory, LayoutSignature, OpenDocument, PromptInput, build_prompt_in,
    clamp_cursor,
};
use super::template::PromptFormat;
use super::turn::ServerTurns;
use super::typethrough::{AdaptiveDebounce, TypeThrough};
use crate::index::WorkspaceIndex;
use crate::llm::{CompletionRequest, LlmClient, LlmError, Priority, StreamEvent, is_loopback_url};
use crate::policy::Policy;
use crate::runtime::{Speculative, run_blocking, run_short};
use crate::syntax::Language;

/// What started a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Trigger {
    /// The user typed (debounced).
    #[default]
    Automatic,
    /// The user asked explicitly (not debounced).
    Invoked,
}

/// One completion request: a snapshot of the document and everything needed around it.
#[derive(Debug, Clone)]
pub struct EngineRequest {
    /// The document's key (its URI): type-through state is kept per key.
    pub key: String,
    /// The document text.
    pub rope: Rope,
    /// The cursor in bytes (clamped to the text and to a character boundary).
    pub cursor: usize,
    /// The document's path, if it is a file.
    pub path: Option<PathBuf>,
    /// The LSP language id (`rust`, `python`, ...); the path's extension is used without it.
    pub language_id: Option<String>,
    /// The completion settings.
    pub config: Arc<CompletionConfig>,
    /// The workspace indexes (one per root) to retrieve context from.
    pub indexes: Vec<Arc<WorkspaceIndex>>,
    /// The exclusion policy the document and every file of its context are checked against
    /// (the host's; [`Policy::of_indexes`] for a request built without one).
    pub policy: Arc<Policy>,
    /// Other open documents (with their versions, so that their indexes are kept between
    /// requests).
    pub open_documents: Vec<OpenDocument>,
    /// What started the request.
    pub trigger: Trigger,
    /// The document's syntax tree for exactly this text, when the caller keeps one: the
    /// multi-line decision reads it instead of parsing the lines around the cursor.
    pub syntax: Option<tree_sitter::Tree>,
}

/// The policy of a request without folders: the built-in exclusions. Built once: its patterns
/// are compiled, which costs more than a whole completion, and every request starts from
/// [`EngineRequest::new`].
static BUILT_IN_POLICY: std::sync::LazyLock<Arc<Policy>> =
    std::sync::LazyLock::new(|| Arc::new(Policy::of_indexes(&[])));

impl EngineRequest {
    /// A request with no path, language, index or other documents, under the built-in
    /// exclusions (secret patterns).
    pub fn new(
        key: impl Into<String>,
        rope: Rope,
        cursor: usize,
        config: Arc<CompletionConfig>,
    ) -> EngineRequest {
        EngineRequest {
            key: key.into(),
            rope,
            cursor,
            path: None,
            language_id: None,
            config,
            indexes: Vec::new(),
            policy: Arc::clone(&BUILT_IN_POLICY),
            open_documents: Vec::new(),
            trigger: Trigger::Automatic,
            syntax: None,
        }
    }
}

/// Where a suggestion came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionSource {
    /// The model, over the network.
    Model,
    /// The LLM client's response cache.
    Cache,
    /// The suggestion already on screen, which the user is typing through.
    TypeThrough,
    /// The model, asked ahead in the background once the previous suggestion was accepted.
    Prefetch,
}

/// How long the parts of a request took, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Building the prompt (retrieval included).
    pub prompt_build_ms: f64,
    /// From sending the request to the first streamed text (queue, connection and prompt
    /// processing of the backend), if any text came.
    pub ttft_ms: Option<f64>,
    /// The whole request.
    pub total_ms: f64,
}

/// A suggestion: the text to insert and the bytes it replaces.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// The text (empty when there is nothing worth showing; see `note`).
    pub text: String,
    /// The bytes of the document it replaces: the empty range at the cursor, or the cursor to
    /// the end of the rest of its line when a one-line suggestion contains that rest (closing
    /// brackets, say).
    pub range: Range<usize>,
    /// The prompt (empty for a type-through answer).
    pub prompt: BuiltPrompt,
    /// Timings.
    pub timings: Timings,
    /// Where it came from.
    pub source: SuggestionSource,
    /// The model's text before post-processing.
    pub raw: String,
    /// Whether the stream was stopped before the model finished (the suggestion was complete).
    pub stopped_early: bool,
    /// Why the text is empty, when it is.
    pub note: Option<String>,
}

impl Suggestion {
    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// Why a completion failed.
#[derive(Debug, thiserror::Error)]
pub enum CompletionError {
    /// The document matches a secret or `exclude` pattern: it is never sent to a model.
    #[error("{0} is excluded from AI features (a secret or `index.exclude` pattern)")]
    Excluded(PathBuf),
    /// The model call failed.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// A bug: a worker thread failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CompletionError {
    /// A stable code for logs and messages.
    pub fn code(&self) -> &'static str {
        match self {
            CompletionError::Excluded(_) => "excluded",
            CompletionError::Llm(error) => error.code(),
            CompletionError::Internal(_) => "internal",
        }
    }
}

/// Builds prompts, calls the model, post-processes; keeps the type-through state and the latency
/// record of the debounce. Share it in an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct CompletionEngine {
    client: Arc<LlmClient>,
    type_through: Mutex<TypeThrough>,
    debounce: Mutex<AdaptiveDebounce>,
    open_documents: Mutex<FxHashMap<PathBuf, OpenDocument>>,
    /// The layout of each document's last prompt, so that the next one keeps its front.
    layouts: Arc<Mutex<LayoutMemory>>,
    /// The suggestions shown and the next ones asked for ahead.
    prefetch: Mutex<Prefetcher<EngineRequest, Suggestion>>,
    /// The model server's slot of each document (with `completion.server_slots`).
    slots: Mutex<SlotTable>,
    /// One stream at a time at the model server per document.
    turns: ServerTurns,
}

/// Which server slot each document keeps to: a document keeps its slot while it is used; a new
/// document takes a free slot, else the one used longest ago.
#[derive(Debug, Default)]
struct SlotTable {
    /// Per document key: its slot and when it was last used (a counter).
    held: FxHashMap<String, (u32, u64)>,
    clock: u64,
}

impl SlotTable {
    /// The slot of document `key` among `slots` (`None` with no slots).
    fn slot_of(&mut self, key: &str, slots: u32) -> Option<u32> {
        if slots == 0 {
            return None;
        }
        self.clock += 1;
        let now = self.clock;
        self.held.retain(|_, (slot, _)| *slot < slots);
        if let Some((slot, used)) = self.held.get_mut(key) {
            *used = now;
            return Some(*slot);
        }
        let taken: FxHashSet<u32> = self.held.values().map(|(slot, _)| *slot).collect();
        let slot = match (0..slots).find(|slot| !taken.contains(slot)) {
            Some(free) => free,
            None => {
                let (oldest, (slot, _)) = self
                    .held
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(key, held)| (key.clone(), *held))?;
                self.held.remove(&oldest);
                slot
            }
        };
        self.held.insert(key.to_string(), (slot, now));
        Some(slot)
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

impl CompletionEngine {
    /// An engine over an LLM client.
    pub fn new(client: Arc<LlmClient>) -> CompletionEngine {
        CompletionEngine {
            client,
            type_through: Mutex::new(TypeThrough::default()),
            debounce: Mutex::new(AdaptiveDebounce::from_config(&CompletionConfig::default())),
            open_documents: Mutex::default(),
            layouts: Arc::default(),
            prefetch: Mutex::default(),
            slots: Mutex::default(),
            turns: ServerTurns::default(),
        }
    }

    /// Gives the other open documents of a request the passage indexes built for the same
    /// versions by earlier requests, and keeps theirs for later ones. Documents neither in the
    /// request nor the request's own are forgotten (closed).
    fn reuse_document_indexes(&self, request: &mut EngineRequest) {
        let mut kept = self
            .open_documents
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut open: FxHashSet<&Path> = request
            .open_documents
            .iter()
            .map(|d| d.path.as_path())
            .collect();
        open.extend(request.path.as_deref());
        kept.retain(|path, _| open.contains(path.as_path()));
        for doc in &mut request.open_documents {
            if doc.version.is_none() {
                continue;
            }
            match kept.get(&doc.path) {
                Some(old) if old.same_text(doc) => doc.share_index_of(old),
                _ => {
                    kept.insert(doc.path.clone(), doc.clone());
                }
            }
        }
    }

    /// The LLM client.
    pub fn client(&self) -> &Arc<LlmClient> {
        &self.client
    }

    /// How long to wait before sending a request with this trigger (zero for invoked ones).
    pub fn debounce_delay(&self, trigger: Trigger, config: &CompletionConfig) -> Duration {
        if trigger == Trigger::Invoked {
            return Duration::ZERO;
        }
        let mut debounce = self.debounce.lock().unwrap_or_else(|e| e.into_inner());
        debounce.configure(config);
        debounce.delay()
    }

    /// [`CompletionEngine::debounce_delay`] for a request in document `key`: zero while a next
    /// suggestion is asked for ahead there (the answer is on its way; waiting only delays it).
    pub fn debounce_delay_at(
        &self,
        key: &str,
        trigger: Trigger,
        config: &CompletionConfig,
    ) -> Duration {
        if self.prefetch_pending(key) {
            return Duration::ZERO;
        }
        self.debounce_delay(trigger, config)
    }

    /// The rest of the suggestion on screen in `key`, if the user is typing through it: answer
    /// with this before debouncing.
    pub fn type_through(
        &self,
        key: &str,
        rope: &Rope,
        cursor: usize,
    ) -> Option<(String, Range<usize>)> {
        self.type_through
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .lookup_range(key, rope, cursor)
    }

    /// Forgets the suggestion shown in a document (closed, or the suggestion dismissed).
    pub fn forget(&self, key: &str) {
        self.type_through
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget(key);
    }

    /// What the engine keeps of a document (by its key and path), by name: `typeThrough` (the
    /// suggestion on screen) and `openDocumentIndex` (its text and passage index, kept for the
    /// prompts of other documents). For `augur/debug/retained`.
    #[cfg(feature = "test-support")]
    pub fn retained(&self, key: &str, path: Option<&Path>) -> Vec<&'static str> {
        let mut held = Vec::new();
        if self
            .type_through
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remembers(key)
        {
            held.push("typeThrough");
        }
        if path.is_some_and(|path| {
            self.open_documents
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains_key(path)
        }) {
            held.push("openDocumentIndex");
        }
        held
    }

    /// Forgets a closed document: its suggestion on screen, and its text and passage index kept
    /// for other documents' prompts (`path`, the document's path if it has one).
    pub fn forget_document(&self, key: &str, path: Option<&Path>) {
        self.forget(key);
        self.layouts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget(key);
        self.prefetch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget(key);
        if let Some(path) = path {
            self.open_documents
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(path);
        }
    }

    /// Forgets every suggestion on screen and cancels those asked for ahead, so that the next
    /// request asks the model (after the models were reconfigured, say).
    pub fn forget_all(&self) {
        self.type_through
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget_all();
        self.layouts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget_all();
        self.prefetch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget_all();
    }

    /// Tells the engine that document `key` changed to `rope` (call it after every change: the
    /// debounce learns the rhythm of typing from the changes). When
    /// the change completed the suggestion last shown there (accepted, or typed through to its
    /// end: the text at its place now holds all of it), the suggestion at its end is asked for at
    /// once in the background, and [`CompletionEngine::complete`] at that place answers from it.
    /// Any other change cancels a suggestion being asked for ahead. Needs a tokio runtime.
    pub fn document_changed(self: &Arc<Self>, key: &str, rope: &Rope) {
        self.changed(key, rope, None, None);
    }

    /// [`CompletionEngine::document_changed`] for a change that only inserted the bytes
    /// `inserted` of `rope` (typing), when it is known. With `completion.ask_while_typing`, typed
    /// text that the suggestion at hand does not continue has the engine ask at the new cursor
    /// (after `debounce_min_ms`), once a request was answered in the document; while the person
    /// types on there, that request keeps running as long as the model's text so far agrees with
    /// what was typed, and a request of the editor waits for it. `request_at` builds the request
    /// at a cursor of this text from the current settings, documents and indexes (`None`: no
    /// request may be made, the document being excluded, say).
    pub fn document_edited(
        self: &Arc<Self>,
        key: &str,
        rope: &Rope,
        inserted: Option<Range<usize>>,
        request_at: impl Fn(usize) -> Option<EngineRequest>,
    ) {
        self.changed(key, rope, inserted, Some(&request_at));
    }

    /// [`CompletionEngine::document_edited`]; without `request_at`, requests ahead copy the last
    /// request answered in the document.
    fn changed(
        self: &Arc<Self>,
        key: &str,
        rope: &Rope,
        inserted: Option<Range<usize>>,
        request_at: Option<&dyn Fn(usize) -> Option<EngineRequest>>,
    ) {
        let request_at = |cursor, last| match request_at {
            Some(build) => build(cursor),
            None => Some(last),
        };
        self.debounce
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .changed(tokio::time::Instant::now());
        let typed = inserted
            .filter(|range| range.len() <= MAX_TYPED)
            .and_then(|range| Some((range.clone(), rope.get_byte_slice(range)?.to_string())));
        let (ahead, last) = {
            let mut prefetch = self.prefetch.lock().unwrap_or_else(|e| e.into_inner());
            let ahead = prefetch.changed(
                key,
                rope,
                typed.as_ref().map(|(r, t)| (r.start, t.as_str())),
            );
            let last = (ahead.is_none() && typed.is_some() && !prefetch.is_pending(key))
                .then(|| prefetch.last(key))
                .flatten();
            (ahead, last)
        };
        // Asked while typing, the request waits the shortest debounce first: keystrokes that
        // come at once (pasted, or a burst) replace it before it reaches the model.
        let (request, cursor, wait) = match (ahead, last, typed) {
            (Some((shown, cursor)), _, _) => {
                let Some(request) = request_at(cursor, shown) else {
                    return;
                };
                (request, cursor, Duration::ZERO)
            }
            (None, Some(last), Some((range, _)))
                if self.type_through(key, rope, range.end).is_none() =>
            {
                let Some(request) = request_at(range.end, last) else {
                    return;
                };
                if !self.asks_while_typing(&request.config) {
                    return;
                }
                let wait = Duration::from_millis(request.config.debounce_min_ms);
                (request, range.end, wait)
            }
            _ => return,
        };
        let request = EngineRequest {
            rope: rope.clone(),
            cursor,
            syntax: None,
            trigger: Trigger::Automatic,
            ..request
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let rope = request.rope.clone();
        let engine = Arc::clone(self);
        let progress = Arc::new(Mutex::new(String::new()));
        let written = Arc::clone(&progress);
        let task = runtime.spawn(async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            engine
                .complete_ahead(request, false, Some(written))
                .await
                .ok()
        });
        tracing::debug!(key, cursor, "asking ahead for the next suggestion");
        self.prefetch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .started(key, rope, cursor, progress, task);
    }

    /// Whether `completion.ask_while_typing` lets the engine ask for the model of `config`.
    fn asks_while_typing(&self, config: &CompletionConfig) -> bool {
        match config.ask_while_typing {
            AskWhileTyping::Never => false,
            AskWhileTyping::Always => true,
            AskWhileTyping::Local => self
                .client
                .endpoints(&config.model)
                .is_ok_and(|endpoints| endpoints.iter().all(|e| is_loopback_url(&e.url))),
        }
    }

    /// Whether a next suggestion is being asked for ahead (or is ready) in document `key`.
    pub fn prefetch_pending(&self, key: &str) -> bool {
        self.prefetch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_pending(key)
    }

    /// Completes at the cursor. Dropping the future cancels the work, the HTTP call included.
    pub async fn complete(&self, request: EngineRequest) -> Result<Suggestion, CompletionError> {
        self.complete_ahead(request, true, None).await
    }

    /// [`CompletionEngine::complete`]; with `from_ahead`, answered by the suggestion asked for
    /// ahead at this place, if there is one (not for the request ahead itself, which writes the
    /// model's text so far to `progress`).
    async fn complete_ahead(
        &self,
        mut request: EngineRequest,
        from_ahead: bool,
        progress: Option<Arc<Mutex<String>>>,
    ) -> Result<Suggestion, CompletionError> {
        let started = Instant::now();
        let cursor = clamp_cursor(&request.rope, request.cursor);
        if let Some(path) = &request.path
            && request.policy.for_prompt(path).is_err()
        {
            return Err(CompletionError::Excluded(path.clone()));
        }
        let ahead = from_ahead
            .then(|| {
                self.prefetch
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take(&request.key, &request.rope, cursor)
            })
            .flatten();
        match ahead {
            Some(Taken::Here(task)) => {
                // Dropping this future while it waits cancels the task too.
                let mut task = AbortOnDrop(task);
                if let Ok(Some(mut suggestion)) = (&mut task.0).await {
                    suggestion.source = SuggestionSource::Prefetch;
                    suggestion.timings.total_ms = ms(started.elapsed());
                    return Ok(suggestion);
                }
            }
            // Asked before the text typed since: its answer is remembered for type-through,
            // which answers below when it continues that text.
            Some(Taken::Before(task)) => {
                let mut task = AbortOnDrop(task);
                let _ = (&mut task.0).await;
            }
            None => {}
        }
        if let Some((rest, range)) = self.type_through(&request.key, &request.rope, cursor) {
            let total_ms = ms(started.elapsed());
            tracing::debug!(total_ms, "completion answered by type-through");
            return Ok(Suggestion {
                text: rest,
                range,
                prompt: BuiltPrompt::default(),
                timings: Timings {
                    prompt_build_ms: 0.0,
                    ttft_ms: None,
                    total_ms,
                },
                source: SuggestionSource::TypeThrough,
                raw: String::new(),
                stopped_early: false,
                note: None,
            });
        }
        let model = request.config.model.clone();
        self.reuse_document_indexes(&mut request);
        // An unknown model fails here, before any work.
        self.client.count_tokens(&model, "")?;
        let language = request
            .language_id
            .as_deref()
            .and_then(Language::from_lsp_id)
            .or_else(|| request.path.as_deref().and_then(Language::from_path));
        // Retrieval and parsing run on this thread, as short work (see `run_short`). The
        // multi-line decision is a lookup in the document's tree when the caller has one;
        // otherwise it parses the lines around the cursor, offered to rayon's pool to run beside
        // the prompt (if no pool thread has started it by the time the prompt is built, it runs
        // here).
        let client = Arc::clone(&self.client);
        let layouts = Arc::clone(&self.layouts);
        let (request, prompt, multiline) = run_short(move || {
            let config = &request.config;
            // Without the document's tree, the decision parses the lines around the cursor.
            let parse = (request.syntax.is_none() && config.multiline == MultilinePolicy::Auto)
                .then(|| {
                    let rope = request.rope.clone();
                    Speculative::spawn(move || auto_multiline_at(language, &rope, cursor))
                });
            let counter = client.token_counter(&config.model);
            let count = |text: &str| {
                counter
                    .as_ref()
                    .map_or_else(|| text.len().div_ceil(4), |c| c.count(text))
            };
            let signature =
                LayoutSignature::at(&request.rope, cursor, config, request.path.as_deref());
            let layout = layouts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .plan(&request.key, &signature);
            let prompt = build_prompt_in(
                &PromptInput {
                    rope: &request.rope,
                    cursor,
                    path: request.path.as_deref(),
                    language,
                    config,
                    indexes: &request.indexes,
                    open_documents: &request.open_documents,
                    policy: &request.policy,
                },
                &count,
                &layout,
            );
            layouts.lock().unwrap_or_else(|e| e.into_inner()).remember(
                &request.key,
                signature,
                &prompt,
            );
            let multiline = match parse {
                Some(job) => job.join(),
                // With the tree at hand the decision is a lookup.
                None => match (config.multiline, &request.syntax) {
                    (MultilinePolicy::Auto, Some(tree)) => {
                        auto_multiline_in_tree(&request.rope, tree, cursor)
                    }
                    (policy, _) => policy == MultilinePolicy::Always,
                },
            };
            (request, prompt, multiline)
        })
        .await
        .map_err(|e| CompletionError::Internal(format!("prompt building failed: {e}")))?;
        let rope = &request.rope;
        let config = &request.config;
        let model = model.as_str();
        let mut context = PostContext::new(&prompt.prefix_text, &prompt.suffix_text, multiline);
        context.chat = PromptFormat::parse(&config.template) == PromptFormat::Chat;
        let prompt_build_ms = ms(started.elapsed());

        // The server's turn: the document's last stream closed early may still hold it for a
        // token.
        let mut turn = self.turns.take(&request.key).await;
        let sent = Instant::now();
        let (max_tokens, generation_limit) =
            generation_size(config, multiline, context.line_prefix());
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .slot_of(&request.key, config.server_slots);
        let stream = self.client.stream(CompletionRequest {
            prompt: prompt.prompt.clone(),
            suffix: prompt.suffix.clone(),
            max_tokens: Some(max_tokens),
            generation_limit: Some(generation_limit),
            slot,
            temperature: Some(config.temperature),
            stop: prompt.stop.clone(),
            priority: Priority::Interactive,
            deadline: Some(Duration::from_millis(config.timeout_ms)),
            use_cache: true,
            ..CompletionRequest::new(model)
        });
        let mut stream = match stream {
            Ok(stream) => stream,
            Err(error) => {
                // Refused before anything was sent: the server was not asked.
                turn.finished();
                return Err(error.into());
            }
        };
        let mut post = PostProcessor::new(context.clone());
        let mut ttft = None;
        let mut source = SuggestionSource::Model;
        let mut stopped_early = false;
        let mut last_delta = None;
        while let Some(item) = stream.next().await {
            match item? {
                StreamEvent::Delta(delta) => {
                    let now = Instant::now();
                    if let Some(previous) = last_delta.replace(now) {
                        turn.token_gap(now - previous);
                    }
                    let first = *ttft.get_or_insert_with(|| sent.elapsed());
                    if let Some(progress) = &progress {
                        progress
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push_str(&delta);
                    }
                    if post.push(&delta) {
                        stopped_early = true;
                        // A cache hit has its end queued already: look without waiting.
                        if let Some(Some(Ok(StreamEvent::Done(done)))) =
                            stream.next().now_or_never()
                            && done.cached
                        {
                            source = SuggestionSource::Cache;
                            stopped_early = false;
                            turn.finished();
                        }
                        break;
                    }
                    // Generation past its time limit ends at a line break, for every backend as
                    // llama.cpp's `t_max_predict_ms` ends it: the finished lines are the answer.
                    if sent.elapsed().saturating_sub(first) > generation_limit
                        && post.raw().contains('\n')
                    {
                        post.keep_finished_lines();
                        stopped_early = true;
                        break;
                    }
                }
                StreamEvent::Done(completion) => {
                    if completion.cached {
                        source = SuggestionSource::Cache;
                    }
                    turn.finished();
                    break;
                }
            }
        }
        // Dropping the stream closes the connection: the backend stops generating (at its next
        // token, which the turn waits for).
        drop(stream);
        drop(turn);
        let model_time = sent.elapsed();
        let mut text = post.finish();
        let mut note = text
            .is_empty()
            .then(|| "the model suggested nothing useful".to_string());
        if multiline && config.reject_syntax_errors && text.contains('\n') && {
            let (before, after, suggestion) = (
                prompt.prefix_text.clone(),
                prompt.suffix_text.clone(),
                text.clone(),
            );
            run_blocking(move || adds_syntax_errors(language, &before, &suggestion, &after))
                .await
                .unwrap_or(false)
        } {
            text.clear();
            note = Some("dropped: the suggestion adds syntax errors".into());
        }
        if source == SuggestionSource::Model {
            self.debounce
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(model_time);
        }
        // A one-line suggestion that contains the rest of the line (closing brackets) replaces it.
        let replaced = replaced_rest(&context, &text);
        // Kept with the text the prompt used from the document, so that the suggestion is not
        // served once that text changed (even with every offset in place).
        let window = prompt.prefix_range.start..prompt.suffix_range.end;
        self.type_through
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remember_replacing(&request.key, rope, cursor, window, &text, replaced);
        self.prefetch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .shown(&request.key, request.clone(), &request.rope, cursor, &text);
        let timings = Timings {
            prompt_build_ms,
            ttft_ms: ttft.map(ms),
            total_ms: ms(started.elapsed()),
        };
        tracing::debug!(
            prompt_build_ms = timings.prompt_build_ms,
            ttft_ms = timings.ttft_ms,
            total_ms = timings.total_ms,
            prompt_tokens = prompt.total_tokens(),
            window_ms = prompt.stages.window_ms,
            definitions_ms = prompt.stages.definitions_ms,
            open_documents_ms = prompt.stages.open_documents_ms,
            similar_ms = prompt.stages.similar_ms,
            similar_wait_ms = prompt.stages.similar_wait_ms,
            assembly_ms = prompt.stages.assembly_ms,
            stopped_early,
            ?source,
            shown_chars = text.len(),
            note = note.as_deref().unwrap_or(""),
            "completion"
        );
        // The user's code, so only at the trace level.
        tracing::trace!(raw = post.raw(), shown = %text, "completion text");
        Ok(Suggestion {
            raw: post.raw().to_string(),
            text,
            range: cursor..cursor + replaced,
            prompt,
            timings,
            source,
            stopped_early,
            note,
        })
    }
}

/// A task aborted when dropped: a request that waits for a suggestion asked ahead takes the
/// task with it when it is cancelled.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_slot_and_a_new_one_takes_the_oldest() {
        let mut slots = SlotTable::default();
        assert_eq!(slots.slot_of("a", 0), None);
        assert_eq!(slots.slot_of("a", 2), Some(0));
        assert_eq!(slots.slot_of("b", 2), Some(1));
        assert_eq!(slots.slot_of("a", 2), Some(0));
        // "b" was used longest ago: "c" takes its slot.
        assert_eq!(slots.slot_of("c", 2), Some(1));
        assert_eq!(slots.slot_of("a", 2), Some(0));
        // Fewer slots: a slot beyond them is never used.
        assert_eq!(slots.slot_of("c", 1), Some(0));
    }
}
