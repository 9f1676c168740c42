//! Prompt building: the text around the cursor sized in tokens of the target model, and context
//! from elsewhere (definitions from the index, similar code, open documents) within its own budget.
//!
//! ```
//! use augur::completion::config::CompletionConfig;
//! use augur::completion::prompt::{PromptInput, build_prompt};
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
//! };
//! let built = build_prompt(&input, &|text: &str| text.len().div_ceil(4));
//! assert_eq!(built.prompt, "fn add(a: i32, b: i32) -> i32 {\n    ");
//! assert_eq!(built.suffix.as_deref(), Some("\n}\n"));
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rayon::prelude::*;
use ropey::{Rope, RopeSlice};
use rustc_hash::{FxHashMap, FxHashSet};

use super::config::CompletionConfig;
use super::template::{self, CHAT_INSTRUCTION, CURSOR_MARK, PromptFormat};
use crate::index::tokenizer::name_key;
use crate::index::{Exclusions, Hit, IndexConfig, WorkspaceIndex};
use crate::runtime::Speculative;
use crate::syntax::{Language, SymbolKind};

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
}

/// Lines read of another open document, from its start.
const OPEN_DOCUMENT_LINES: usize = 2_000;

/// Lines of a passage of another open document.
const PASSAGE_LINES: usize = 20;

/// Lines between the starts of consecutive passages (they overlap by half).
const PASSAGE_STEP: usize = PASSAGE_LINES / 2;

/// Another open document, which may give context. Its passages' identifiers are indexed on first
/// use, once: clones share the index, so an owner that keeps a clone per document version (as
/// [`CompletionEngine`](super::CompletionEngine) does) indexes each version once.
#[derive(Debug, Clone)]
pub struct OpenDocument {
    /// Its path.
    pub path: PathBuf,
    /// Its text.
    pub rope: Rope,
    /// A number naming the text, if it has one: another text of the document has another number
    /// (an open document's server-side generation; not the client's version number, which a
    /// client may repeat with another text).
    pub version: Option<u64>,
    passages: Arc<OnceLock<PassageIndex>>,
}

impl OpenDocument {
    /// An open document without a version.
    pub fn new(path: PathBuf, rope: Rope) -> OpenDocument {
        OpenDocument {
            path,
            rope,
            version: None,
            passages: Arc::default(),
        }
    }

    /// The same document with a number naming its text (see [`OpenDocument::version`]).
    pub fn with_version(self, version: u64) -> OpenDocument {
        OpenDocument {
            version: Some(version),
            ..self
        }
    }

    /// Whether `other` is the same text (same path, version and length), so its index may be
    /// shared. Documents without a version are never the same.
    pub fn same_text(&self, other: &OpenDocument) -> bool {
        self.version.is_some()
            && self.version == other.version
            && self.path == other.path
            && self.rope.len_bytes() == other.rope.len_bytes()
    }

    /// Shares the passage index of `other`, the same text (see [`same_text`](Self::same_text)).
    pub fn share_index_of(&mut self, other: &OpenDocument) {
        self.passages = Arc::clone(&other.passages);
    }

    fn is_indexed(&self) -> bool {
        self.passages.get().is_some()
    }

    fn passages(&self) -> &PassageIndex {
        self.passages.get_or_init(|| PassageIndex::new(&self.rope))
    }
}

/// The telling identifiers of the passages of a document's first lines: passages of
/// `PASSAGE_LINES` lines starting every `PASSAGE_STEP` lines, and for each identifier the passages
/// that contain it.
#[derive(Debug, Default)]
struct PassageIndex {
    /// The number of passages.
    passages: usize,
    /// The lines indexed.
    lines: usize,
    /// For each identifier, the passages (ascending numbers) that contain it.
    words: FxHashMap<Box<str>, Vec<u32>>,
}

impl PassageIndex {
    fn new(rope: &Rope) -> PassageIndex {
        let lines = rope.len_lines().min(OPEN_DOCUMENT_LINES);
        let mut words: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
        for (number, line) in rope.lines().take(lines).enumerate() {
            // Passage `p` holds lines `p * STEP .. p * STEP + LINES`.
            let first = if number >= PASSAGE_LINES {
                (number - PASSAGE_LINES) / PASSAGE_STEP + 1
            } else {
                0
            };
            let last = number / PASSAGE_STEP;
            let text = text_of(line);
            for word in identifiers(&text).filter(|w| is_telling(w)) {
                let passages = match words.get_mut(word) {
                    Some(passages) => passages,
                    None => words.entry(word.into()).or_default(),
                };
                for passage in first..=last {
                    let passage = passage as u32;
                    // Lines come in order, so the numbers do too: skip those already there.
                    if passages.last().is_none_or(|&p| p < passage) {
                        passages.push(passage);
                    }
                }
            }
        }
        PassageIndex {
            passages: lines.div_ceil(PASSAGE_STEP),
            lines,
            words,
        }
    }

    /// The first line of the passage sharing the most of `query` (distinct words), with the
    /// number shared; the first such passage on a tie, `None` when none shares any.
    fn best(&self, query: &[&str]) -> Option<(usize, usize)> {
        let mut shared = vec![0usize; self.passages];
        for word in query {
            for &passage in self.words.get(*word).map_or(&[][..], Vec::as_slice) {
                shared[passage as usize] += 1;
            }
        }
        let mut best: Option<(usize, usize)> = None;
        for (passage, &count) in shared.iter().enumerate() {
            if count > 0 && best.is_none_or(|(most, _)| count > most) {
                best = Some((count, passage * PASSAGE_STEP));
            }
        }
        best
    }
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

/// The built-in secret patterns (`.env*`, `*.pem`, ...), for files outside every index.
fn default_exclusions() -> &'static Exclusions {
    static DEFAULT: OnceLock<Exclusions> = OnceLock::new();
    DEFAULT.get_or_init(|| Exclusions::new(&IndexConfig::default()))
}

/// Whether a file must never enter a prompt: the index whose root holds it says so (its secret
/// patterns and configured `exclude` globs), or, outside every root, the built-in secret patterns.
pub fn is_excluded(indexes: &[Arc<WorkspaceIndex>], path: &Path) -> bool {
    let mut inside_any = false;
    for index in indexes {
        if path.starts_with(index.root()) {
            inside_any = true;
            if index.is_excluded(path) {
                return true;
            }
        }
    }
    if !inside_any && indexes.iter().any(|index| index.is_excluded(path)) {
        return true;
    }
    default_exclusions().is_excluded(path)
}

/// Whether another open document may give context: not excluded, and, inside a workspace root,
/// either in that root's index or not left out by its ignore files (a new file not indexed yet).
fn may_share(indexes: &[Arc<WorkspaceIndex>], path: &Path) -> bool {
    if is_excluded(indexes, path) {
        return false;
    }
    for index in indexes {
        if let Some(rel) = crate::index::walk::relative_path(index.root(), path) {
            return index.contains_file(&rel)
                || !crate::index::walk::is_ignored(index.root(), path, &index.config);
        }
    }
    true
}

/// The path shown to the model: relative to the index root that holds it, else the file name.
fn display_path(indexes: &[Arc<WorkspaceIndex>], path: &Path) -> String {
    for index in indexes {
        if let Ok(rel) = path.strip_prefix(index.root()) {
            return rel.to_string_lossy().replace('\\', "/");
        }
    }
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// The text of `range`, cut back to character boundaries.
fn slice(rope: &Rope, range: Range<usize>) -> String {
    piece(rope, range).into_owned()
}

/// The text of `range`, cut back to character boundaries; borrowed when it is contiguous.
fn piece(rope: &Rope, range: Range<usize>) -> Cow<'_, str> {
    let start = clamp_cursor(rope, range.start);
    let end = clamp_cursor(rope, range.end).max(start);
    text_of(rope.byte_slice(start..end))
}

/// The text of a rope slice; borrowed when it is contiguous.
fn text_of(slice: RopeSlice<'_>) -> Cow<'_, str> {
    match slice.as_str() {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(slice.to_string()),
    }
}

/// The byte where line `line` starts (the end of the text past the last line).
fn line_start(rope: &Rope, line: usize) -> usize {
    if line >= rope.len_lines() {
        rope.len_bytes()
    } else {
        rope.line_to_byte(line)
    }
}

/// The last `max_bytes` bytes of `text`, cut at a character boundary.
pub(super) fn tail(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut start = text.len() - max_bytes;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// The first `max_bytes` bytes of `text`, cut at a character boundary.
pub(super) fn head(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The end of each line of `text` (after its line break: LF, CR or CRLF, as the rope counts
/// lines); a last line without a break ends at the end of the text.
fn line_ends(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut ends = Vec::new();
    let mut at = 0;
    while let Some(found) = memchr::memchr2(b'\n', b'\r', &bytes[at..]) {
        let mut end = at + found + 1;
        if bytes[end - 1] == b'\r' && bytes.get(end) == Some(&b'\n') {
            end += 1;
        }
        ends.push(end);
        at = end;
    }
    if at < bytes.len() {
        ends.push(bytes.len());
    }
    ends
}

/// Takes lines while they fit in `room` tokens: the tokens and bytes taken, and whether a line
/// did not fit.
fn take_lines<'a>(
    lines: impl Iterator<Item = Cow<'a, str>>,
    room: usize,
    count: &dyn Fn(&str) -> usize,
) -> (usize, usize, bool) {
    let (mut tokens, mut bytes) = (0, 0);
    for line in lines {
        let needed = count(&line);
        if tokens + needed > room {
            return (tokens, bytes, true);
        }
        tokens += needed;
        bytes += line.len();
    }
    (tokens, bytes, false)
}

/// How many bytes of whole lines are copied at once to be measured, per token of budget: more
/// than a token ever takes in code, so that the rope is rarely walked line by line.
const BYTES_PER_TOKEN_READ: usize = 8;

/// The whole lines after `from` (a line start) that fit in `room` tokens: their tokens and bytes.
fn lines_after(
    rope: &Rope,
    from: usize,
    room: usize,
    count: &dyn Fn(&str) -> usize,
) -> (usize, usize) {
    // Copy a stretch of whole lines and split it here: quicker than the rope's line iterator.
    let want = from.saturating_add(room.saturating_mul(BYTES_PER_TOKEN_READ));
    let until = if want >= rope.len_bytes() {
        rope.len_bytes()
    } else {
        line_start(rope, rope.byte_to_line(want)).max(from)
    };
    let stretch = piece(rope, from..until);
    let mut at = 0;
    let lines = line_ends(&stretch).into_iter().map(|end| {
        let line = Cow::Borrowed(&stretch[at..end]);
        at = end;
        line
    });
    let (tokens, bytes, full) = take_lines(lines, room, count);
    if full || until >= rope.len_bytes() {
        return (tokens, bytes);
    }
    // Lines longer than the stretch allowed for: go on line by line.
    let lines = rope
        .lines_at(rope.byte_to_line(until))
        .map(text_of)
        .take_while(|line| !line.is_empty());
    let (more_tokens, more_bytes, _) = take_lines(lines, room - tokens, count);
    (tokens + more_tokens, bytes + more_bytes)
}

/// The whole lines before `to` (a line start) that fit in `room` tokens, nearest first: their
/// tokens and bytes.
fn lines_before(
    rope: &Rope,
    to: usize,
    room: usize,
    count: &dyn Fn(&str) -> usize,
) -> (usize, usize) {
    let want = to.saturating_sub(room.saturating_mul(BYTES_PER_TOKEN_READ));
    let from = line_start(rope, rope.byte_to_line(want)).min(to);
    let stretch = piece(rope, from..to);
    let ends = line_ends(&stretch);
    let starts = std::iter::once(0).chain(ends.iter().copied());
    let bounds: Vec<(usize, usize)> = starts.zip(ends.iter().copied()).collect();
    let lines = bounds
        .into_iter()
        .rev()
        .map(|(start, end)| Cow::Borrowed(&stretch[start..end]));
    let (tokens, bytes, full) = take_lines(lines, room, count);
    if full || from == 0 {
        return (tokens, bytes);
    }
    let mut earlier = rope.lines_at(rope.byte_to_line(from));
    let lines = std::iter::from_fn(|| earlier.prev()).map(text_of);
    let (more_tokens, more_bytes, _) = take_lines(lines, room - tokens, count);
    (tokens + more_tokens, bytes + more_bytes)
}

/// The document's part of the prompt: byte ranges before and after the cursor, and their tokens.
struct Window {
    prefix: Range<usize>,
    suffix: Range<usize>,
    prefix_tokens: usize,
    suffix_tokens: usize,
    prefix_limit: usize,
}

/// The document window around the cursor: the suffix first (its unused budget goes to the
/// prefix), then the prefix, each grown line by line while the next line fits.
fn window(input: &PromptInput<'_>, cursor: usize, count: &dyn Fn(&str) -> usize) -> Window {
    let rope = input.rope;
    let config = input.config;
    let line = rope.byte_to_line(cursor);
    // The rest of the cursor's line always goes in (cut to about its budget in bytes).
    let next_line_start = line_start(rope, line + 1);
    let rest = piece(rope, cursor..next_line_start);
    let rest = head(&rest, config.suffix_tokens.saturating_mul(4));
    let mut suffix_end = cursor + rest.len();
    let mut suffix_tokens = count(rest);
    if suffix_end == next_line_start && suffix_end < rope.len_bytes() {
        let room = config.suffix_tokens.saturating_sub(suffix_tokens);
        let (tokens, bytes) = lines_after(rope, next_line_start, room, count);
        suffix_tokens += tokens;
        suffix_end += bytes;
    }
    let prefix_limit = config.prefix_tokens + config.suffix_tokens.saturating_sub(suffix_tokens);
    let this_line_start = line_start(rope, line);
    let before = piece(rope, this_line_start..cursor);
    let before = tail(&before, prefix_limit.saturating_mul(4));
    let mut prefix_start = cursor - before.len();
    let mut prefix_tokens = count(before);
    if prefix_start == this_line_start && prefix_start > 0 {
        let room = prefix_limit.saturating_sub(prefix_tokens);
        let (tokens, bytes) = lines_before(rope, this_line_start, room, count);
        prefix_tokens += tokens;
        prefix_start -= bytes;
    }
    Window {
        prefix: prefix_start..cursor,
        suffix: cursor..suffix_end,
        prefix_tokens,
        suffix_tokens,
        prefix_limit,
    }
}

/// Keywords and very common names of the supported languages, lowercase and sorted (searched by
/// bisection): they say little about what the code near the cursor is about.
const KEYWORDS: &[&str] = &[
    "and",
    "any",
    "append",
    "as",
    "async",
    "await",
    "bool",
    "box",
    "break",
    "case",
    "catch",
    "char",
    "class",
    "const",
    "continue",
    "crate",
    "def",
    "default",
    "defer",
    "del",
    "do",
    "double",
    "elif",
    "else",
    "end",
    "enum",
    "err",
    "except",
    "export",
    "extends",
    "extern",
    "f32",
    "f64",
    "false",
    "final",
    "finally",
    "float",
    "fn",
    "for",
    "from",
    "func",
    "function",
    "global",
    "i32",
    "i64",
    "if",
    "impl",
    "implements",
    "import",
    "in",
    "include",
    "int",
    "interface",
    "is",
    "isize",
    "lambda",
    "len",
    "let",
    "local",
    "long",
    "loop",
    "match",
    "mod",
    "module",
    "mut",
    "new",
    "nil",
    "none",
    "not",
    "null",
    "ok",
    "option",
    "or",
    "package",
    "pass",
    "print",
    "println",
    "private",
    "protected",
    "pub",
    "public",
    "raise",
    "range",
    "ref",
    "require",
    "result",
    "return",
    "self",
    "some",
    "static",
    "std",
    "str",
    "string",
    "struct",
    "super",
    "switch",
    "then",
    "this",
    "throw",
    "trait",
    "true",
    "try",
    "type",
    "u32",
    "u64",
    "u8",
    "undefined",
    "unsafe",
    "use",
    "usize",
    "var",
    "vec",
    "void",
    "where",
    "while",
    "with",
    "yield",
];

/// The length of the longest keyword, in bytes.
const LONGEST_KEYWORD: usize = 10;

/// Whether `word` (ASCII) is a keyword, in any case.
fn is_keyword(word: &str) -> bool {
    if word.len() > LONGEST_KEYWORD {
        return false;
    }
    let mut buffer = [0u8; LONGEST_KEYWORD];
    let lower = &mut buffer[..word.len()];
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    KEYWORDS
        .binary_search_by(|keyword| keyword.as_bytes().cmp(lower))
        .is_ok()
}

/// The identifiers of `text` in order: ASCII letters, digits and `_`, not starting with a digit.
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if is_word(bytes[i]) {
                let start = i;
                while i < bytes.len() && is_word(bytes[i]) {
                    i += 1;
                }
                if !bytes[start].is_ascii_digit() {
                    return Some(&text[start..i]);
                }
            } else {
                i += 1;
            }
        }
        None
    })
}

/// Whether an identifier says something about the code: not a keyword, not a very short name.
fn is_telling(word: &str) -> bool {
    word.len() >= 3 && !is_keyword(word)
}

/// Identifiers of `text`, last first (nearest the cursor), without duplicates, keywords or very
/// short names.
fn identifiers_nearest_last(text: &str) -> Vec<String> {
    let found: Vec<&str> = identifiers(text).filter(|w| is_telling(w)).collect();
    let mut seen = FxHashSet::default();
    found
        .into_iter()
        .rev()
        .filter(|w| seen.insert(*w))
        .map(str::to_string)
        .collect()
}

/// Identifiers named by the import statements among the first lines of the document.
fn imported_names(rope: &Rope) -> Vec<String> {
    let head = piece(rope, 0..line_start(rope, IMPORT_LINES));
    let mut text = String::new();
    let mut at = 0;
    for end in line_ends(&head) {
        let trimmed = head[at..end].trim();
        at = end;
        let is_import = ["use ", "import ", "from ", "#include", "require", "using "]
            .iter()
            .any(|start| trimmed.starts_with(start))
            || trimmed.contains("require(");
        if is_import {
            text.push_str(trimmed);
            text.push('\n');
        }
    }
    identifiers_nearest_last(&text)
}

/// Bytes before the cursor at most in the retrieval query.
const MAX_QUERY_BYTES: usize = 4096;

/// Lines at the top of a document searched for imports.
const IMPORT_LINES: usize = 200;

/// A candidate snippet before the budget is applied.
struct Candidate {
    kind: PartKind,
    path: PathBuf,
    source: String,
    body: String,
}

/// Lines of `body` while they fit in `limit` tokens.
fn cut_to_tokens(body: &str, limit: usize, count: &dyn Fn(&str) -> usize) -> (String, usize) {
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

/// The source text of a definition the index found (from the open document if it is one, else
/// through the index, which reads the file once) when it is at most `max_bytes` long.
fn definition_text(
    input: &PromptInput<'_>,
    index: &WorkspaceIndex,
    hit: &Hit,
    max_bytes: usize,
) -> Option<String> {
    let range = hit.byte_range.clone();
    if range.is_empty() || range.len() > max_bytes {
        return None;
    }
    if let Some(doc) = input.open_documents.iter().find(|d| d.path == hit.path) {
        return (range.end <= doc.rope.len_bytes()).then(|| slice(&doc.rope, range));
    }
    index
        .source_text(hit, max_bytes)
        .map(|text| text.to_string())
}

fn definition_candidates(
    input: &PromptInput<'_>,
    current: Option<&Path>,
    names: &[String],
    comment_language: Option<Language>,
) -> Vec<Candidate> {
    let config = input.config;
    if names.is_empty() || config.max_definitions == 0 {
        return Vec::new();
    }
    let refs: Vec<&str> = names.iter().take(16).map(String::as_str).collect();
    // Each name's rank: the names nearest the cursor come first.
    let mut ranks: FxHashMap<String, usize> = FxHashMap::default();
    for (rank, name) in refs.iter().enumerate() {
        ranks.entry(name_key(name)).or_insert(rank);
    }
    let mut found: Vec<(usize, &WorkspaceIndex, Hit)> = Vec::new();
    for index in input.indexes {
        // The current file's definitions are left out by the query; a couple more than needed
        // make up for excluded files.
        let hits = match index.definitions_outside(&refs, current, config.max_definitions + 2) {
            Ok(hits) => hits,
            Err(error) => {
                tracing::debug!(%error, "definitions lookup failed; going on without");
                continue;
            }
        };
        for hit in hits {
            if current.is_some_and(|c| c == hit.path) || is_excluded(input.indexes, &hit.path) {
                continue;
            }
            let rank = ranks
                .get(&name_key(&hit.name))
                .copied()
                .unwrap_or(usize::MAX);
            found.push((rank, index, hit));
        }
    }
    // A stable sort: definitions of one name keep the index's order (best first).
    found.sort_by_key(|(rank, _, _)| *rank);
    // Only the definitions kept are given their text (which may mean reading a file).
    let mut out = Vec::new();
    for (_, index, hit) in found {
        if out.len() == config.max_definitions {
            break;
        }
        let mut body = String::new();
        if let Some(doc) = hit.doc.as_deref().filter(|d| !d.trim().is_empty()) {
            body.push_str(&template::comment(comment_language, doc.trim_end()));
        }
        // Small types and constants come whole (a struct's fields matter to the code that uses
        // it); functions and larger items by their signature.
        let whole = match hit.kind {
            Some(
                SymbolKind::Struct
                | SymbolKind::Enum
                | SymbolKind::Interface
                | SymbolKind::Type
                | SymbolKind::Constant,
            ) => definition_text(input, index, &hit, config.snippet_tokens.saturating_mul(3)),
            _ => None,
        };
        let signature = whole
            .or(hit.signature.clone())
            .unwrap_or(hit.snippet.clone());
        if signature.trim().is_empty() {
            continue;
        }
        body.push_str(signature.trim_end());
        body.push('\n');
        out.push(Candidate {
            kind: PartKind::Definition,
            source: hit.rel_path,
            path: hit.path,
            body,
        });
    }
    out
}

/// Chunks of the indexes similar to `query`, outside `current` and the excluded files.
fn similar_candidates(
    indexes: &[Arc<WorkspaceIndex>],
    current: Option<&Path>,
    query: &str,
    limit: usize,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    if limit == 0 {
        return out;
    }
    for index in indexes {
        let hits = match index.similar_chunks(query, current, limit) {
            Ok(hits) => hits,
            Err(error) => {
                tracing::debug!(%error, "similar-chunk lookup failed; going on without");
                continue;
            }
        };
        for hit in hits {
            if current.is_some_and(|c| c == hit.path) || is_excluded(indexes, &hit.path) {
                continue;
            }
            let Some(text) = hit.text.clone().filter(|t| !t.trim().is_empty()) else {
                continue;
            };
            out.push(Candidate {
                kind: PartKind::Similar,
                source: format!("{}:{}", hit.rel_path, hit.start_line + 1),
                path: hit.path,
                body: if text.ends_with('\n') {
                    text
                } else {
                    text + "\n"
                },
            });
        }
    }
    out
}

/// The passage of another open document that shares the most identifiers with the query.
struct OpenPassage<'a> {
    document: &'a OpenDocument,
    /// Its first line.
    start: usize,
}

impl OpenPassage<'_> {
    /// The passage as a candidate (its text is copied only now: most are never used).
    fn candidate(&self, indexes: &[Arc<WorkspaceIndex>]) -> Candidate {
        let (path, rope) = (&self.document.path, &self.document.rope);
        let end = (self.start + PASSAGE_LINES).min(self.document.passages().lines);
        let body = slice(rope, line_start(rope, self.start)..line_start(rope, end));
        Candidate {
            kind: PartKind::OpenDocument,
            source: format!("{}:{}", display_path(indexes, path), self.start + 1),
            path: path.clone(),
            body: if body.ends_with('\n') {
                body
            } else {
                body + "\n"
            },
        }
    }
}

/// The passage of each other open document that shares the most identifiers with the query
/// (passages of 20 lines, the first 2,000 lines only), best documents first.
fn open_document_passages<'a>(
    input: &PromptInput<'a>,
    current: Option<&Path>,
    query_words: &[&str],
) -> Vec<OpenPassage<'a>> {
    if !input.config.use_open_documents || query_words.is_empty() {
        return Vec::new();
    }
    let shared: Vec<&'a OpenDocument> = input
        .open_documents
        .iter()
        .filter(|d| current.is_none_or(|c| c != d.path) && may_share(input.indexes, &d.path))
        .collect();
    let best_passage = |document: &&'a OpenDocument| {
        let (shared, start) = document.passages().best(query_words)?;
        Some((shared, OpenPassage { document, start }))
    };
    // A document opened since the last request is indexed first (~0.5 us a line): index those in
    // parallel. Once all are indexed, scoring is quicker than handing work to other threads.
    let mut scored: Vec<(usize, OpenPassage<'a>)> = if shared.iter().all(|d| d.is_indexed()) {
        shared.iter().filter_map(best_passage).collect()
    } else {
        shared.par_iter().filter_map(best_passage).collect()
    };
    // A stable sort: documents sharing as many words keep their order.
    scored.sort_by_key(|(shared, _)| std::cmp::Reverse(*shared));
    scored.into_iter().map(|(_, passage)| passage).collect()
}

/// A hash of a snippet's text, to leave out a snippet seen already.
fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Builds the prompt. `count` counts tokens of the target model (the engine passes the LLM
/// client's counter). Retrieval failures are logged and leave the context out; nothing here fails.
pub fn build_prompt(input: &PromptInput<'_>, count: &dyn Fn(&str) -> usize) -> BuiltPrompt {
    let config = input.config;
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
    let similar = (config.context_tokens > 0 && config.max_similar_chunks > 0).then(|| {
        let (indexes, current) = (input.indexes.to_vec(), current.map(Path::to_path_buf));
        let (query, limit) = (query.clone(), config.max_similar_chunks);
        Speculative::spawn(move || {
            let started = Instant::now();
            let found = similar_candidates(&indexes, current.as_deref(), &query, limit);
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
    let win = window(input, cursor, count);
    stages.window_ms = lap();
    let prefix_text = slice(rope, win.prefix.clone());
    let suffix_text = slice(rope, win.suffix.clone());
    let language = input.language;

    // Context: definitions first, then similar code, then open documents, each within the
    // per-snippet and per-file caps, until the context budget is spent.
    let mut candidates = Vec::new();
    let mut passages = Vec::new();
    if config.context_tokens > 0 {
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

    let language_name = language.map(|l| l.name()).unwrap_or("text");
    let full_prefix = format!("{context}{header}{prefix_text}");
    let (prompt, suffix) = match &format {
        PromptFormat::Auto => (full_prefix, Some(suffix_text.clone())),
        PromptFormat::PrefixOnly => (full_prefix, None),
        PromptFormat::Fim(t) => (
            template::render(
                t.text,
                &[("prefix", &full_prefix), ("suffix", &suffix_text)],
            ),
            None,
        ),
        PromptFormat::Custom(text) => {
            let has_context = text.contains("{context}");
            let prefix_field = if has_context {
                format!("{header}{prefix_text}")
            } else {
                full_prefix
            };
            (
                template::render(
                    text,
                    &[
                        ("prefix", &prefix_field),
                        ("suffix", &suffix_text),
                        ("context", &context),
                        ("path", shown_path.as_deref().unwrap_or("")),
                        ("language", language_name),
                    ],
                ),
                None,
            )
        }
        PromptFormat::Chat => {
            let mut message = String::from(CHAT_INSTRUCTION);
            message.push_str("\n\n");
            if !context.is_empty() {
                message.push_str("Context from other files:\n");
                message.push_str(&context);
                message.push('\n');
            }
            let _ = writeln!(
                message,
                "File: {} ({language_name})",
                shown_path.as_deref().unwrap_or("untitled")
            );
            message.push_str(&prefix_text);
            message.push_str(CURSOR_MARK);
            message.push_str(&suffix_text);
            (message, None)
        }
    };
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
fn ms_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn approx(text: &str) -> usize {
        text.len().div_ceil(4)
    }

    /// The window as the rope's line iterator gives it, line by line: the reference for the
    /// quicker stretch-copying one.
    fn window_by_rope_lines(
        rope: &Rope,
        cursor: usize,
        config: &CompletionConfig,
        count: &dyn Fn(&str) -> usize,
    ) -> (Range<usize>, Range<usize>, usize, usize) {
        let line = rope.byte_to_line(cursor);
        let next_line_start = line_start(rope, line + 1);
        let rest = piece(rope, cursor..next_line_start);
        let rest = head(&rest, config.suffix_tokens * 4);
        let mut suffix_end = cursor + rest.len();
        let mut suffix_tokens = count(rest);
        if suffix_end == next_line_start {
            for text in rope.lines_at(line + 1) {
                if suffix_end >= rope.len_bytes() {
                    break;
                }
                let tokens = count(&text_of(text));
                if suffix_tokens + tokens > config.suffix_tokens {
                    break;
                }
                suffix_tokens += tokens;
                suffix_end += text.len_bytes();
            }
        }
        let limit = config.prefix_tokens + config.suffix_tokens.saturating_sub(suffix_tokens);
        let this_line_start = line_start(rope, line);
        let before = piece(rope, this_line_start..cursor);
        let before = tail(&before, limit * 4);
        let mut prefix_start = cursor - before.len();
        let mut prefix_tokens = count(before);
        if prefix_start == this_line_start {
            let mut lines = rope.lines_at(line);
            while let Some(text) = lines.prev() {
                let tokens = count(&text_of(text));
                if prefix_tokens + tokens > limit {
                    break;
                }
                prefix_tokens += tokens;
                prefix_start -= text.len_bytes();
            }
        }
        (
            prefix_start..cursor,
            cursor..suffix_end,
            prefix_tokens,
            suffix_tokens,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 400,
            rng_seed: proptest::test_runner::RngSeed::Fixed(7),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Lines of every length with LF, CR and CRLF breaks, small budgets, and counters from
        /// one token per byte to one per 32 bytes (so that a line may outgrow the copied stretch).
        #[test]
        fn the_window_matches_the_rope_line_by_line(
            lines in proptest::collection::vec(("[a-z é]{0,60}", 0..4u8), 0..60),
            at in 0.0..1.0f64,
            prefix_tokens in 0..200usize,
            suffix_tokens in 0..80usize,
            per_token in prop::sample::select(vec![1usize, 4, 16, 32]),
        ) {
            let text: String = lines
                .iter()
                .map(|(line, br)| format!("{line}{}", ["\n", "\r", "\r\n", ""][*br as usize]))
                .collect();
            let rope = Rope::from_str(&text);
            let cursor = clamp_cursor(&rope, (text.len() as f64 * at) as usize);
            let config = CompletionConfig { prefix_tokens, suffix_tokens, ..CompletionConfig::default() };
            let count = move |t: &str| t.len().div_ceil(per_token);
            let input = PromptInput {
                rope: &rope,
                cursor,
                path: None,
                language: None,
                config: &config,
                indexes: &[],
                open_documents: &[],
            };
            let got = window(&input, cursor, &count);
            let want = window_by_rope_lines(&rope, cursor, &config, &count);
            prop_assert_eq!(
                (got.prefix, got.suffix, got.prefix_tokens, got.suffix_tokens),
                want
            );
        }
    }

    #[test]
    fn line_ends_follow_the_rope_s_line_breaks() {
        assert_eq!(line_ends("a\nb\r\nc\rd"), vec![2, 5, 7, 8]);
        assert_eq!(line_ends("\r\n\n"), vec![2, 3]);
        assert!(line_ends("").is_empty());
        assert_eq!(
            imported_names(&Rope::from_str("use foo::Bar;\rimport baz\r\nx = 1\n")),
            vec!["baz".to_string(), "Bar".to_string(), "foo".to_string()]
        );
    }

    fn built(text: &str, cursor: usize, config: &CompletionConfig) -> BuiltPrompt {
        let rope = Rope::from_str(text);
        build_prompt(
            &PromptInput {
                rope: &rope,
                cursor,
                path: None,
                language: Some(Language::Rust),
                config,
                indexes: &[],
                open_documents: &[],
            },
            &approx,
        )
    }

    #[test]
    fn prefix_and_suffix_join_to_the_window_and_respect_budgets() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!("let value_{i} = {i};\n"));
        }
        let cursor = text.len() / 2;
        let config = CompletionConfig {
            prefix_tokens: 50,
            suffix_tokens: 20,
            ..CompletionConfig::default()
        };
        let b = built(&text, cursor, &config);
        // The suffix's unused budget goes to the prefix.
        assert_eq!(b.prefix_budget.limit, 50 + 20 - b.suffix_budget.used);
        assert!(b.prefix_budget.used <= b.prefix_budget.limit);
        assert!(
            b.prefix_budget.used + 8 > b.prefix_budget.limit,
            "{:?}",
            b.prefix_budget
        );
        assert!(b.suffix_budget.used <= 20, "{:?}", b.suffix_budget);
        assert_eq!(b.prefix_range.end, b.suffix_range.start);
        assert_eq!(&text[b.prefix_range.clone()], b.prefix_text);
        assert_eq!(&text[b.suffix_range.clone()], b.suffix_text);
        // Whole lines, except the cursor's own.
        assert!(b.prefix_range.start == 0 || text[..b.prefix_range.start].ends_with('\n'));
    }

    #[test]
    fn out_of_range_cursors_are_clamped() {
        let b = built("é", 1, &CompletionConfig::default());
        assert_eq!(b.prefix_text, "");
        let b = built("ab", 99, &CompletionConfig::default());
        assert_eq!(b.prefix_text, "ab");
        assert_eq!(b.suffix_text, "");
    }

    #[test]
    fn keywords_are_sorted_lowercase_and_matched_in_any_case() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(
            KEYWORDS
                .iter()
                .all(|k| *k == k.to_ascii_lowercase() && k.len() <= LONGEST_KEYWORD)
        );
        assert!(is_keyword("Self") && is_keyword("IMPLEMENTS") && is_keyword("str"));
        assert!(!is_keyword("implementsx") && !is_keyword("rect"));
    }

    /// The best passage by scanning every passage's text, as prompt building once did.
    fn best_by_scanning(rope: &Rope, query: &[&str]) -> Option<(usize, usize)> {
        let lines = rope.len_lines().min(OPEN_DOCUMENT_LINES);
        let mut best: Option<(usize, usize)> = None;
        let mut start = 0;
        while start < lines {
            let end = (start + PASSAGE_LINES).min(lines);
            let text = slice(rope, line_start(rope, start)..line_start(rope, end));
            let words: FxHashSet<String> = identifiers_nearest_last(&text).into_iter().collect();
            let shared = query.iter().filter(|q| words.contains(**q)).count();
            if shared > 0 && best.is_none_or(|(b, _)| shared > b) {
                best = Some((shared, start));
            }
            start += PASSAGE_STEP;
        }
        best
    }

    #[test]
    fn the_passage_index_finds_the_passage_a_scan_finds() {
        let names = ["alpha", "beta_x", "Gamma", "delta9", "self", "eps"];
        let mut text = String::new();
        let mut seed = 7u64;
        for line in 0..2_300 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = names[(seed >> 33) as usize % names.len()];
            let b = names[(seed >> 45) as usize % names.len()];
            match seed >> 60 {
                0..=5 => text.push_str(&format!("let {a} = {b}({line});\n")),
                6..=9 => text.push('\n'),
                10..=12 => text.push_str(&format!("    {a}.{a}_{line} 9{b}\r\n")),
                _ => text.push_str("}\n"),
            }
        }
        let rope = Rope::from_str(&text);
        let index = PassageIndex::new(&rope);
        let queries: [&[&str]; 5] = [
            &["alpha"],
            &["Gamma", "beta_x"],
            &["delta9", "alpha", "beta_x", "Gamma"],
            &["alpha_17", "alpha_1200", "eps"],
            &["nothing"],
        ];
        for query in queries {
            assert_eq!(
                index.best(query),
                best_by_scanning(&rope, query),
                "{query:?}"
            );
        }
        let short = Rope::from_str("fn one() {}\nlet two_words = 2;");
        let index = PassageIndex::new(&short);
        assert_eq!(index.best(&["two_words"]), Some((1, 0)));
        assert_eq!(PassageIndex::new(&Rope::new()).best(&["x"]), None);
    }

    #[test]
    fn identifiers_are_nearest_first_without_keywords() {
        assert_eq!(
            identifiers_nearest_last("let area = rect.width * rect.height; fn x"),
            vec!["height", "rect", "width", "area"]
        );
    }
}
