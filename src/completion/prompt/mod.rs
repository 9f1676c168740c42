//! Prompt building: the text around the cursor sized in tokens of the target model, and context
//! from elsewhere (definitions from the index, similar code, open documents) within its own budget.
//!
//! ```
//! use augur::completion::config::CompletionConfig;
//! use std::sync::Arc;
//!
//! use augur::completion::prompt::{PromptInput, build_prompt};
//! use augur::policy::Policy;
//! use ropey::Rope;
//!
//! let rope = Rope::from_str("fn add(a: i32, b: i32) -> i32 {\n    \n}\n");
//! let config = CompletionConfig::default();
//! let input = PromptInput {
//!     rope: &rope,
//!     cursor: 36,
//!     path: None,
//!     language: None,
//!     config: &config,
//!     indexes: &[],
//!     open_documents: &[],
//!     policy: &Arc::new(Policy::of_indexes(&[])),
//! };
//! let built = build_prompt(&input, &|text: &str| text.len().div_ceil(4));
//! assert_eq!(built.prompt, "fn add(a: i32, b: i32) -> i32 {\n    ");
//! assert_eq!(built.suffix.as_deref(), Some("\n}\n"));
//! ```

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use ropey::Rope;
use rustc_hash::{FxHashMap, FxHashSet};

use super::config::CompletionConfig;
use super::template::{self, PromptFormat};
use crate::index::WorkspaceIndex;
use crate::policy::Policy;
use crate::runtime::Speculative;
use crate::syntax::Language;

mod definitions;
mod identifiers;
mod layout;
mod open_documents;
mod paths;
mod resolve;
mod resolve_js;
mod similar;
#[cfg(test)]
mod tests;
mod window;

use definitions::definition_candidates;
use identifiers::{identifiers_nearest_last, imported_names};
pub use layout::{Layout, LayoutMemory, LayoutSignature};
pub use open_documents::OpenDocument;
use open_documents::open_document_passages;
use paths::display_path;
use similar::similar_candidates;
pub(super) use window::{head, tail};
use window::{line_start, slice, window_anchored};

/// Everything a prompt is built from. The cursor is a byte offset into `rope`; it is clamped to
/// the text and moved back to a character boundary if needed.
#[derive(Debug, Clone, Copy)]
pub struct PromptInput<'a> {
    /// The document.
    pub rope: &'a Rope,
    /// The cursor, in bytes.
    pub cursor: usize,
    /// The document's path, if it has one.
    pub path: Option<&'a Path>,
    /// The document's language, if known.
    pub language: Option<Language>,
    /// Budgets and format.
    pub config: &'a CompletionConfig,
    /// The workspace indexes to retrieve from (one per root).
    pub indexes: &'a [Arc<WorkspaceIndex>],
    /// Other open documents.
    pub open_documents: &'a [OpenDocument],
    /// The exclusion policy: every other file's text enters the prompt only if its
    /// [`Policy::for_context`] allows it.
    pub policy: &'a Arc<Policy>,
}

/// What a part of the prompt is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartKind {
    /// The definition of a name used near the cursor or imported by the file.
    Definition,
    /// Code from another file similar to the lines before the cursor.
    Similar,
    /// A passage of another open document.
    OpenDocument,
    /// The comment naming the current file.
    Header,
    /// The text before the cursor.
    Prefix,
    /// The text after the cursor.
    Suffix,
}

impl PartKind {
    /// A short name for `--explain`.
    pub fn as_str(self) -> &'static str {
        match self {
            PartKind::Definition => "definition",
            PartKind::Similar => "similar",
            PartKind::OpenDocument => "open document",
            PartKind::Header => "header",
            PartKind::Prefix => "prefix",
            PartKind::Suffix => "suffix",
        }
    }
}

/// One part of a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptPart {
    /// What it is.
    pub kind: PartKind,
    /// Where it comes from (a relative path, or the document's name).
    pub source: String,
    /// The text as it appears in the prompt (path comment included).
    pub text: String,
    /// Its size in tokens of the target model.
    pub tokens: usize,
}

/// Tokens used of one budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetUse {
    /// Tokens used.
    pub used: usize,
    /// Tokens allowed.
    pub limit: usize,
}

/// A prompt ready to send, with its parts and budgets recorded for `--explain`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuiltPrompt {
    /// The prompt format's name (`auto`, `qwen`, `chat`, ...).
    pub format: String,
    /// The prompt sent to the LLM client.
    pub prompt: String,
    /// The suffix sent to the LLM client (only with the `auto` format: the client applies the
    /// model's template or the backend's fill-in-the-middle API).
    pub suffix: Option<String>,
    /// Stop sequences of the format.
    pub stop: Vec<String>,
    /// The parts, in prompt order (context, header, prefix, suffix).
    pub parts: Vec<PromptPart>,
    /// The bytes of the document used as prefix (they end at the cursor).
    pub prefix_range: Range<usize>,
    /// The bytes of the document used as suffix (they start at the cursor).
    pub suffix_range: Range<usize>,
    /// The document text of `prefix_range`.
    pub prefix_text: String,
    /// The document text of `suffix_range`.
    pub suffix_text: String,
    /// The prefix budget (its own plus what the suffix left unused).
    pub prefix_budget: BudgetUse,
    /// The suffix budget.
    pub suffix_budget: BudgetUse,
    /// The context budget.
    pub context_budget: BudgetUse,
    /// How long each stage of building it took.
    pub stages: PromptStages,
}

/// How long the stages of building a prompt took, in milliseconds: logged per completion at the
/// debug level and printed with the timings of `augur complete --explain`, to tell which
/// retrieval a slow prompt waited for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PromptStages {
    /// Sizing the prefix and suffix window in tokens.
    pub window_ms: f64,
    /// Looking up definitions of the names near the cursor.
    pub definitions_ms: f64,
    /// Scoring passages of the other open documents.
    pub open_documents_ms: f64,
    /// The similar-code search, wherever it ran (beside the other stages, on rayon's pool, or
    /// here).
    pub similar_ms: f64,
    /// How long this thread waited for the similar-code search after its own stages.
    pub similar_wait_ms: f64,
    /// Fitting the snippets into the budget and assembling the prompt.
    pub assembly_ms: f64,
}

impl PromptStages {
    /// One line for logs and `--explain`.
    pub fn describe(&self) -> String {
        format!(
            "window {:.3} ms, definitions {:.3} ms, open documents {:.3} ms, similar code {:.3} ms \
             (waited {:.3} ms), assembly {:.3} ms",
            self.window_ms,
            self.definitions_ms,
            self.open_documents_ms,
            self.similar_ms,
            self.similar_wait_ms,
            self.assembly_ms
        )
    }
}

impl BuiltPrompt {
    /// The prompt with its parts marked, and the budgets: what `augur complete --explain` prints.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "format: {}", self.format);
        let _ = writeln!(
            out,
            "budget: prefix {}/{} tokens, suffix {}/{} tokens, context {}/{} tokens",
            self.prefix_budget.used,
            self.prefix_budget.limit,
            self.suffix_budget.used,
            self.suffix_budget.limit,
            self.context_budget.used,
            self.context_budget.limit
        );
        for part in &self.parts {
            let _ = writeln!(
                out,
                "----- {} {} ({} tokens) -----",
                part.kind.as_str(),
                part.source,
                part.tokens
            );
            out.push_str(&part.text);
            if !part.text.ends_with('\n') {
                out.push('\n');
            }
        }
        let _ = writeln!(out, "----- end of prompt -----");
        out
    }

    /// The tokens of every part together.
    pub fn total_tokens(&self) -> usize {
        self.parts.iter().map(|p| p.tokens).sum()
    }
}

/// The largest character boundary of `rope` at or before `offset` (clamped to the text).
pub fn clamp_cursor(rope: &Rope, offset: usize) -> usize {
    let offset = offset.min(rope.len_bytes());
    rope.char_to_byte(rope.byte_to_char(offset))
}

/// Bytes before the cursor at most in the retrieval query.
pub(super) const MAX_QUERY_BYTES: usize = 4096;

/// A candidate snippet before the budget is applied.
pub(super) struct Candidate {
    kind: PartKind,
    path: PathBuf,
    source: String,
    body: String,
}

/// Lines of `body` while they fit in `limit` tokens.
pub(super) fn cut_to_tokens(
    body: &str,
    limit: usize,
    count: &dyn Fn(&str) -> usize,
) -> (String, usize) {
    let mut out = String::new();
    let mut used = 0;
    for line in body.split_inclusive('\n') {
        let tokens = count(line);
        if used + tokens > limit {
            break;
        }
        used += tokens;
        out.push_str(line);
    }
    (out, used)
}

/// Which other files may give context to a document: not the document itself, only files of a
/// related language ([`Language::shares_context_with`]; an unknown language on either side does
/// not decide), and only what the policy allows ([`Policy::for_context`], checked last: it costs
/// the most).
#[derive(Debug, Clone, Copy)]
pub(super) struct ContextSources<'a> {
    /// The document's path.
    pub(super) current: Option<&'a Path>,
    /// The document's language.
    pub(super) language: Option<Language>,
    pub(super) policy: &'a Policy,
}

impl<'a> ContextSources<'a> {
    /// The sources of `input`'s document, at `current`.
    pub(super) fn of(input: &PromptInput<'a>, current: Option<&'a Path>) -> ContextSources<'a> {
        ContextSources {
            current,
            language: input.language,
            policy: input.policy,
        }
    }

    /// Whether a file of language `language` may give context, as far as its language tells.
    pub(super) fn related(&self, language: Option<Language>) -> bool {
        match (self.language, language) {
            (Some(current), Some(other)) => current.shares_context_with(other),
            _ => true,
        }
    }

    /// Whether the file at `path`, of language `language`, may give context.
    pub(super) fn admits(&self, path: &Path, language: Option<Language>) -> bool {
        self.current.is_none_or(|c| c != path)
            && self.related(language)
            && self.policy.for_context(path).is_ok()
    }
}

/// A hash of a snippet's text, to leave out a snippet seen already.
pub(super) fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Builds the prompt. `count` counts tokens of the target model (the engine passes the LLM
/// client's counter). Retrieval failures are logged and leave the context out; nothing here fails.
pub fn build_prompt(input: &PromptInput<'_>, count: &dyn Fn(&str) -> usize) -> BuiltPrompt {
    build_prompt_in(input, count, &Layout::default())
}

/// Builds the prompt laid out against the previous prompt of the same document (see [`Layout`]):
/// held context is used as it is, without retrieval; refreshed context keeps the order of the
/// parts found again and puts new ones after them; the prefix starts where the previous one did
/// while that still fits. Everything before the first difference stays byte-identical, so a model
/// server that caches the previous prompt evaluates only what changed.
pub fn build_prompt_in(
    input: &PromptInput<'_>,
    count: &dyn Fn(&str) -> usize,
    layout: &Layout,
) -> BuiltPrompt {
    let config = input.config;
    let retrieve = config.context_tokens > 0 && layout.held.is_none();
    let rope = input.rope;
    let cursor = clamp_cursor(rope, input.cursor);
    let format = PromptFormat::parse(&config.template);
    let current = input.path;
    let query_start = line_start(
        rope,
        rope.byte_to_line(cursor).saturating_sub(config.query_lines),
    );
    // Long lines (generated code, data) would make a large query that says no more.
    let query_start = query_start.max(cursor.saturating_sub(MAX_QUERY_BYTES));
    let query = slice(rope, query_start..cursor);
    // The slowest lookup (similar code) is offered to rayon's pool at once, to run while this
    // thread sizes the window and looks up definitions and open documents.
    let similar = (retrieve && config.max_similar_chunks > 0).then(|| {
        let (indexes, current) = (input.indexes.to_vec(), current.map(Path::to_path_buf));
        let (query, limit) = (query.clone(), config.max_similar_chunks);
        let language = input.language;
        let policy = Arc::clone(input.policy);
        Speculative::spawn(move || {
            let started = Instant::now();
            let sources = ContextSources {
                current: current.as_deref(),
                language,
                policy: &policy,
            };
            let found = similar_candidates(&indexes, &sources, &query, limit);
            (found, ms_since(started))
        })
    });
    let mut stages = PromptStages::default();
    let mut clock = Instant::now();
    let mut lap = || {
        let elapsed = ms_since(clock);
        clock = Instant::now();
        elapsed
    };
    let win = window_anchored(input, cursor, count, layout.prefix_start);
    stages.window_ms = lap();
    let prefix_text = slice(rope, win.prefix.clone());
    let suffix_text = slice(rope, win.suffix.clone());
    let language = input.language;

    // Context: definitions first, then similar code, then open documents, each within the
    // per-snippet and per-file caps, until the context budget is spent.
    let mut candidates = Vec::new();
    let mut passages = Vec::new();
    if retrieve {
        let near_after = head(&suffix_text, 400);
        let query_names = identifiers_nearest_last(&query);
        let mut names = query_names.clone();
        let mut seen_names: FxHashSet<String> = names.iter().cloned().collect();
        for name in identifiers_nearest_last(near_after)
            .into_iter()
            .chain(imported_names(rope))
        {
            if seen_names.insert(name.clone()) {
                names.push(name);
            }
        }
        let query_words: Vec<&str> = query_names.iter().map(String::as_str).collect();
        candidates.extend(definition_candidates(input, current, &names, language));
        stages.definitions_ms = lap();
        passages = open_document_passages(input, current, &query_words);
        stages.open_documents_ms = lap();
        if let Some(job) = similar {
            let (found, took) = job.join();
            candidates.extend(found);
            stages.similar_ms = took;
            stages.similar_wait_ms = lap();
        }
    }
    let mut context_parts: Vec<PromptPart> = Vec::new();
    let mut context_used = 0;
    let mut per_file: FxHashMap<PathBuf, usize> = FxHashMap::default();
    let mut seen_bodies: FxHashSet<u64> = FxHashSet::default();
    let later = passages.iter().map(|p| p.candidate(input.indexes));
    for candidate in candidates.into_iter().chain(later) {
        // Once the budget is spent nothing more fits: skip counting the rest.
        if context_used >= config.context_tokens {
            break;
        }
        let taken = per_file.entry(candidate.path.clone()).or_default();
        if *taken >= config.max_snippets_per_file || !seen_bodies.insert(text_hash(&candidate.body))
        {
            continue;
        }
        let header = template::comment(language, &format!("Path: {}", candidate.source));
        let header_tokens = count(&header);
        let room = config
            .snippet_tokens
            .min(config.context_tokens.saturating_sub(context_used))
            .saturating_sub(header_tokens);
        let (body, body_tokens) = cut_to_tokens(&candidate.body, room, count);
        if body.trim().is_empty() {
            continue;
        }
        *taken += 1;
        context_used += header_tokens + body_tokens;
        context_parts.push(PromptPart {
            kind: candidate.kind,
            source: candidate.source,
            text: header + &body,
            tokens: header_tokens + body_tokens,
        });
    }
    // The most relevant snippet goes last, nearest the code.
    context_parts.reverse();
    if let Some(held) = &layout.held {
        context_parts = held.clone();
        context_used = held.iter().map(|p| p.tokens).sum();
    } else if !layout.previous.is_empty() {
        context_parts = layout::keep_order(&layout.previous, context_parts, config.context_tokens);
        context_used = context_parts.iter().map(|p| p.tokens).sum();
    }
    let context: String = context_parts.iter().map(|p| p.text.as_str()).collect();

    let shown_path = current.map(|p| display_path(input.indexes, p));
    let header = shown_path
        .as_deref()
        .map(|p| template::comment(language, &format!("Path: {p}")))
        .unwrap_or_default();
    let mut parts = context_parts;
    if !header.is_empty() {
        parts.push(PromptPart {
            kind: PartKind::Header,
            source: shown_path.clone().unwrap_or_default(),
            tokens: count(&header),
            text: header.clone(),
        });
    }
    let name = shown_path.clone().unwrap_or_else(|| "document".into());
    parts.push(PromptPart {
        kind: PartKind::Prefix,
        source: name.clone(),
        text: prefix_text.clone(),
        tokens: win.prefix_tokens,
    });
    parts.push(PromptPart {
        kind: PartKind::Suffix,
        source: name,
        text: suffix_text.clone(),
        tokens: win.suffix_tokens,
    });

    let (prompt, suffix) = template::render_prompt(
        &format,
        &template::PromptFields {
            context: &context,
            header: &header,
            prefix: &prefix_text,
            suffix: &suffix_text,
            path: shown_path.as_deref(),
            language: language.map(|l| l.name()),
        },
    );
    BuiltPrompt {
        format: format.name(),
        prompt,
        suffix,
        stop: format.stop(),
        parts,
        prefix_range: win.prefix,
        suffix_range: win.suffix,
        prefix_text,
        suffix_text,
        prefix_budget: BudgetUse {
            used: win.prefix_tokens,
            limit: win.prefix_limit,
        },
        suffix_budget: BudgetUse {
            used: win.suffix_tokens,
            limit: config.suffix_tokens,
        },
        context_budget: BudgetUse {
            used: context_used,
            limit: config.context_tokens,
        },
        stages: PromptStages {
            assembly_ms: lap(),
            ..stages
        },
    }
}

/// Milliseconds since `started`.
pub(super) fn ms_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}
