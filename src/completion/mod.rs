//! AI completions: the prompt around the cursor with context from the workspace, the model call
//! (streamed, stopped as soon as the suggestion is complete), post-processing, type-through and
//! the adaptive debounce. No LSP types: byte offsets into ropes, as everywhere in the core.
//!
//! - [`config`]: `[completion]` settings;
//! - [`template`]: fill-in-the-middle templates (table-driven), chat format, comments;
//! - [`prompt`]: the prefix/suffix window sized in tokens, retrieval, [`BuiltPrompt`];
//! - [`postprocess`]: suffix overlap, block end, indentation, fences; incremental;
//! - [`engine`]: [`CompletionEngine::complete`], used by the LSP handlers and the CLI;
//! - [`generation`]: how many tokens, and how long, a suggestion may generate;
//! - [`typethrough`]: [`TypeThrough`] and [`AdaptiveDebounce`];
//! - [`turn`]: one generation at a time at the model server;
//!
//! How the LSP layer uses it, per request: convert the position to a byte offset; for an
//! automatic trigger, answer from [`CompletionEngine::type_through`] if it has something, else
//! sleep [`CompletionEngine::debounce_delay`]; then await [`CompletionEngine::complete`] with a
//! snapshot of the document. Dropping that future (cancel, or a newer request for the same
//! document) stops everything, the HTTP call included. Convert `Suggestion::range` back with the
//! document version the request was for, and drop the answer if the version has changed. After
//! every change to a document, call [`CompletionEngine::document_edited`] (with the bytes a
//! keystroke inserted, when it only inserted) or [`CompletionEngine::document_changed`]: once a
//! suggestion was accepted or typed through, or typing left it, it asks ahead for the next one
//! (`prefetch`).
//!
//! ```
//! use augur::completion::postprocess::{PostContext, process};
//! let context = PostContext::new("let total = ", ";\n", false);
//! assert_eq!(process(&context, "price * count;\nlet y = 1;", true).0, "price * count");
//! ```

pub mod config;
pub mod engine;
pub mod generation;
pub mod postprocess;
mod prefetch;
pub mod prompt;
pub mod template;
pub mod turn;
pub mod typethrough;

pub use config::{AskWhileTyping, CompletionConfig, CompletionMode, MultilinePolicy};
pub use engine::{
    CompletionEngine, CompletionError, EngineRequest, Suggestion, SuggestionSource, Timings,
    Trigger,
};
pub use prompt::{BudgetUse, BuiltPrompt, OpenDocument, PartKind, PromptPart, PromptStages};
pub use typethrough::{AdaptiveDebounce, TypeThrough};
