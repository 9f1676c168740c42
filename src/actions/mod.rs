//! AI code actions, without any protocol type: the instant catalogue of actions that apply at a
//! place in a document, and the run of one action (prompt, streamed model call, reply parsing,
//! minimal edits, syntax check with one retry).
//!
//! One file per action: [`fix`], [`document`], [`rewrite`], [`generate_tests`], [`explain`] and
//! [`custom`] (the user's own, from [`ActionsConfig`]).
//!
//! ```
//! use std::path::PathBuf;
//! use augur::actions::{ActionContext, ActionId, ActionsConfig, available_actions};
//! use augur::syntax::Language;
//!
//! let text = "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n";
//! let ctx = ActionContext {
//!     path: PathBuf::from("/ws/src/lib.rs"),
//!     language: Some(Language::Rust),
//!     text: text.into(),
//!     version: Some(1),
//!     range: 36..41, // "a - b" is selected.
//!     diagnostics: Vec::new(),
//! };
//! let ids: Vec<ActionId> = available_actions(&ctx, &ActionsConfig::default())
//!     .into_iter()
//!     .map(|offer| offer.id)
//!     .collect();
//! assert_eq!(
//!     ids,
//!     [ActionId::Document, ActionId::Rewrite, ActionId::GenerateTests, ActionId::Explain]
//! );
//! assert_eq!(ActionId::parse("augur.rewrite"), Some(ActionId::Rewrite));
//! ```

pub mod config;
pub mod custom;
pub mod document;
pub mod explain;
pub mod fix;
pub mod generate_tests;
mod job;
pub mod reply;
pub mod rewrite;
mod run;
pub mod shapes;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::edits::{PlanError, SyntaxRegression, WorkspaceEditPlan};
use crate::index::WorkspaceIndex;
use crate::llm::LlmError;
use crate::syntax::{Language, Symbol, SymbolKind, parse, symbols_around};

pub use config::{ActionsConfig, CustomAction, CustomOutput};
pub use run::run_action;

/// The kind of a code action, as the editor groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Fixes for diagnostics (`quickfix`).
    Quickfix,
    /// Rewrites of code (`refactor.rewrite`).
    RefactorRewrite,
    /// Whole-file or generated additions: docs, tests, explanations (`source`).
    Source,
}

impl ActionKind {
    /// The protocol's name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Quickfix => "quickfix",
            ActionKind::RefactorRewrite => "refactor.rewrite",
            ActionKind::Source => "source",
        }
    }
}

/// Which action. Round-trips through a string (`augur.fix`, `augur.custom.<id>`, ...) so it can
/// travel in a code action's `data` or a command's arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum ActionId {
    /// Fix the diagnostics in range.
    Fix,
    /// Write the doc comment of the symbol at the cursor.
    Document,
    /// Rewrite the selection following the user's instruction.
    Rewrite,
    /// Generate tests for the function at the cursor.
    GenerateTests,
    /// Explain the selection or the symbol at the cursor.
    Explain,
    /// A user-defined action, by its `id`.
    Custom(String),
}

impl ActionId {
    /// The wire name.
    pub fn as_string(&self) -> String {
        match self {
            ActionId::Fix => "augur.fix".into(),
            ActionId::Document => "augur.document".into(),
            ActionId::Rewrite => "augur.rewrite".into(),
            ActionId::GenerateTests => "augur.tests".into(),
            ActionId::Explain => "augur.explain".into(),
            ActionId::Custom(id) => format!("augur.custom.{id}"),
        }
    }

    /// Parses a wire name; unknown names give `None`.
    pub fn parse(name: &str) -> Option<ActionId> {
        Some(match name {
            "augur.fix" => ActionId::Fix,
            "augur.document" => ActionId::Document,
            "augur.rewrite" => ActionId::Rewrite,
            "augur.tests" => ActionId::GenerateTests,
            "augur.explain" => ActionId::Explain,
            other => ActionId::Custom(
                other
                    .strip_prefix("augur.custom.")
                    .filter(|id| !id.is_empty())?
                    .to_owned(),
            ),
        })
    }
}

impl From<ActionId> for String {
    fn from(id: ActionId) -> String {
        id.as_string()
    }
}

impl TryFrom<String> for ActionId {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        ActionId::parse(&name).ok_or_else(|| format!("unknown action `{name}`"))
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EditorSeverity {
    /// An error.
    Error,
    /// A warning.
    Warning,
    /// Information.
    Information,
    /// A hint.
    Hint,
}

/// A diagnostic the editor sent with the code action request, in byte offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorDiagnostic {
    /// The bytes it is about.
    pub range: Range<usize>,
    /// What the tool said.
    pub message: String,
    /// How serious it is, when the tool said.
    pub severity: Option<EditorSeverity>,
    /// The tool's code for it (`E0308`, `F401`, ...).
    pub code: Option<String>,
    /// The tool that reported it (`rustc`, `pyright`, ...).
    pub source: Option<String>,
}

/// Where an action would run: a snapshot of one document and the selection in it.
#[derive(Debug, Clone)]
pub struct ActionContext {
    /// The absolute path of the document.
    pub path: PathBuf,
    /// Its language, when augur knows it.
    pub language: Option<Language>,
    /// Its text at `version`.
    pub text: String,
    /// The version of the open document; `None` for a file read from disk.
    pub version: Option<i32>,
    /// The selection in bytes (empty for a cursor), on character boundaries.
    pub range: Range<usize>,
    /// The diagnostics the editor sent for the range.
    pub diagnostics: Vec<EditorDiagnostic>,
}

impl ActionContext {
    /// The selection, clamped to the text (empty for a cursor or an invalid range).
    pub fn selection(&self) -> Range<usize> {
        let end = self.range.end.min(self.text.len());
        let start = self.range.start.min(end);
        if self.text.is_char_boundary(start) && self.text.is_char_boundary(end) {
            start..end
        } else {
            0..0
        }
    }

    /// Whether text is selected (more than whitespace).
    pub fn has_selection(&self) -> bool {
        let s = self.selection();
        !self.text[s].trim().is_empty()
    }

    /// The selection as the symbol lookup sees it: without the whitespace at its ends. A
    /// selection made linewise (from column 0 of its first line to column 0 of the line after
    /// its last) then ends at the end of its last line, and one that starts at column 0 of an
    /// indented method starts at the method, so both hold the symbol they cover. A cursor, or a
    /// selection of whitespace only, is kept as it is.
    ///
    /// ```
    /// # use std::path::PathBuf;
    /// # use augur::actions::ActionContext;
    /// let text = "class C:\n    def f(self):\n        pass\n\n    def g(self):\n        pass\n";
    /// let ctx = ActionContext {
    ///     path: PathBuf::from("/ws/c.py"),
    ///     language: None,
    ///     text: text.into(),
    ///     version: None,
    ///     range: 9..40, // From column 0 of `    def f` to column 0 of the blank line after it.
    ///     diagnostics: Vec::new(),
    /// };
    /// assert_eq!(&text[ctx.lookup_range()], "def f(self):\n        pass");
    /// ```
    pub fn lookup_range(&self) -> Range<usize> {
        let s = self.selection();
        let selected = &self.text[s.clone()];
        let trimmed = selected.trim_start();
        if trimmed.trim_end().is_empty() {
            return s;
        }
        let start = s.start + (selected.len() - trimmed.len());
        start..start + trimmed.trim_end().len()
    }

    /// The symbols of the top-level definition around the selection (a parse; the catalogue
    /// does it once for every action): what encloses the selection is among them.
    pub fn symbols(&self) -> Vec<Symbol> {
        let Some(language) = self.language else {
            return Vec::new();
        };
        parse(language, &self.text)
            .map(|tree| symbols_around(language, &tree, &self.text, self.lookup_range()))
            .unwrap_or_default()
    }

    /// The innermost symbol whose range holds the selection and whose kind is in `kinds`.
    pub fn enclosing_symbol(&self, kinds: &[SymbolKind]) -> Option<Symbol> {
        self.enclosing_in(&self.symbols(), kinds)
    }

    /// The document's language, or the error saying it is unknown.
    pub fn known_language(&self) -> Result<Language, ActionError> {
        self.language
            .ok_or_else(|| ActionError::UnknownLanguage(self.path.clone()))
    }

    /// The innermost symbol of `kinds` at the selection, or [`ActionError::NotApplicable`] saying
    /// there is no `what` at the cursor.
    pub fn require_symbol(&self, kinds: &[SymbolKind], what: &str) -> Result<Symbol, ActionError> {
        self.enclosing_symbol(kinds)
            .ok_or_else(|| ActionError::NotApplicable(format!("no {what} at the cursor")))
    }

    /// Like [`ActionContext::enclosing_symbol`], among symbols already computed (around
    /// [`ActionContext::lookup_range`]).
    pub fn enclosing_in(&self, symbols: &[Symbol], kinds: &[SymbolKind]) -> Option<Symbol> {
        let s = self.lookup_range();
        symbols
            .iter()
            .filter(|sym| kinds.contains(&sym.kind))
            .filter(|sym| sym.byte_range.start <= s.start && s.end <= sym.byte_range.end)
            .min_by_key(|sym| sym.byte_range.len())
            .cloned()
    }
}

/// Symbols that are functions.
pub(crate) const FUNCTIONS: &[SymbolKind] = &[SymbolKind::Function, SymbolKind::Method];

/// Symbols a doc comment or a rewrite can be about.
pub(crate) const DOCUMENTABLE: &[SymbolKind] = &[
    SymbolKind::Function,
    SymbolKind::Method,
    SymbolKind::Class,
    SymbolKind::Struct,
    SymbolKind::Enum,
    SymbolKind::Interface,
    SymbolKind::Trait,
    SymbolKind::Type,
];

/// An action offered at a place, before anything runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOffer {
    /// Which action.
    pub id: ActionId,
    /// The title shown in the menu.
    pub title: String,
    /// Its kind.
    pub kind: ActionKind,
    /// Whether the editor must ask the user for an instruction before running it (the
    /// `augur.rewrite` command carries it).
    pub needs_instruction: bool,
    /// Whether the action produces edits (`false`: it shows markdown).
    pub edits: bool,
}

impl ActionOffer {
    /// An action that edits code and needs no instruction.
    pub fn edit(id: ActionId, title: String, kind: ActionKind) -> Self {
        Self {
            id,
            title,
            kind,
            needs_instruction: false,
            edits: true,
        }
    }
}

/// Everything one run of an action needs.
#[derive(Clone)]
pub struct ActionRequest {
    /// Which action.
    pub action: ActionId,
    /// The document and the selection.
    pub context: ActionContext,
    /// The user's instruction (rewrite, custom actions with `{instruction}`).
    pub instruction: Option<String>,
    /// The workspace roots: no edit may reach outside them.
    pub roots: Vec<PathBuf>,
    /// The actions' settings.
    pub config: ActionsConfig,
    /// The workspace index, for definitions the code uses.
    pub index: Option<Arc<WorkspaceIndex>>,
}

/// What an action produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionOutcome {
    /// Edits to apply, checked for syntax and for paths inside the workspace.
    Edit {
        /// The title of the action that made them.
        title: String,
        /// The edits.
        plan: WorkspaceEditPlan,
    },
    /// Markdown to show (explanations); nothing is edited.
    Markdown {
        /// A title for the document or message.
        title: String,
        /// The text.
        text: String,
    },
}

/// Why an action failed. Each message is written for the user.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The action does not apply here (no symbol at the cursor, nothing selected, ...).
    #[error("this action does not apply here: {0}")]
    NotApplicable(String),
    /// The action needs an instruction and none was given.
    #[error("this action needs an instruction")]
    MissingInstruction,
    /// The document's language is unknown, so the answer cannot be checked.
    #[error("augur does not know the language of {0}")]
    UnknownLanguage(PathBuf),
    /// The model call failed.
    #[error("the model call failed: {0}")]
    Llm(#[from] LlmError),
    /// The model answered with nothing to use: no code (or, for an explanation, no text).
    #[error("the model's answer held no code or text to use")]
    EmptyReply,
    /// The model's answer holds code, but not in a shape the action can use (a whole function
    /// without the doc comment asked for, changes outside the selection, ...).
    #[error("the model's answer could not be used: {0}")]
    UnusableReply(String),
    /// The model's edit added syntax errors, twice.
    #[error("the model's edit did not parse: {0}")]
    DidNotParse(SyntaxRegression),
    /// The edit would reach outside the workspace.
    #[error("{0}")]
    Plan(#[from] PlanError),
    /// The computed edits were invalid (a bug; reported rather than panicking).
    #[error("internal error: {0}")]
    Internal(String),
    /// A file the action needs could not be read.
    #[error("could not read {path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        message: String,
    },
}

/// Receives progress while an action runs. Methods are called from the action's task; they must
/// not block.
pub trait ActionProgress: Send + Sync {
    /// The action started.
    fn begin(&self, _title: &str) {}
    /// The model has streamed `tokens` pieces so far in this attempt.
    fn tokens(&self, _tokens: usize) {}
    /// The first answer was refused for `reason`; the model is asked again.
    fn retrying(&self, _reason: &str) {}
    /// The action finished (successfully or not) with `message`.
    fn end(&self, _message: &str) {}
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoActionProgress;

impl ActionProgress for NoActionProgress {}

/// The function that decides whether a built-in action is offered.
type OfferFn = fn(&ActionContext, &[Symbol]) -> Option<ActionOffer>;

/// The actions that apply to `ctx`, instantly: nothing here calls a model or reads a file.
pub fn available_actions(ctx: &ActionContext, config: &ActionsConfig) -> Vec<ActionOffer> {
    if !config.enabled {
        return Vec::new();
    }
    available_actions_in(ctx, &ctx.symbols(), config)
}

/// Like [`available_actions`], with the symbols around the selection already known (from a
/// parse tree the caller keeps, say: see [`crate::syntax::symbols_around`]).
pub fn available_actions_in(
    ctx: &ActionContext,
    symbols: &[Symbol],
    config: &ActionsConfig,
) -> Vec<ActionOffer> {
    if !config.enabled {
        return Vec::new();
    }
    let mut offers = Vec::new();
    let builtins: [(&str, OfferFn); 5] = [
        ("fix", fix::offer),
        ("document", document::offer),
        ("rewrite", rewrite::offer),
        ("tests", generate_tests::offer),
        ("explain", explain::offer),
    ];
    for (name, offer) in builtins {
        if config.builtin_enabled(name)
            && let Some(o) = offer(ctx, symbols)
        {
            offers.push(o);
        }
    }
    offers.extend(config.custom.iter().filter_map(|c| custom::offer(ctx, c)));
    offers
}

/// The path shown to the model: relative to the workspace root that holds it.
pub(crate) fn display_path(path: &Path, roots: &[PathBuf]) -> String {
    roots
        .iter()
        .find_map(|r| path.strip_prefix(r).ok())
        .unwrap_or_else(|| Path::new(path.file_name().unwrap_or(path.as_os_str())))
        .to_string_lossy()
        .replace('\\', "/")
}

/// The zero-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Widens a byte range to whole lines: from the start of its first line to just after the line
/// break of its last line.
pub(crate) fn whole_lines(text: &str, range: Range<usize>) -> Range<usize> {
    // Ranges from outside (diagnostics) may be anywhere: round them down to characters first.
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let range = floor(range.start)..floor(range.end);
    let start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let end = range.end.min(text.len()).max(start);
    let end = if end > start && text.as_bytes()[end - 1] == b'\n' {
        end
    } else {
        text[end..].find('\n').map_or(text.len(), |i| end + i + 1)
    };
    start..end
}

/// The diagnostics as prompt lines: `line 3: error[E0308]: mismatched types`.
pub(crate) fn diagnostics_text(text: &str, diagnostics: &[EditorDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let severity = match d.severity {
                Some(EditorSeverity::Error) | None => "error",
                Some(EditorSeverity::Warning) => "warning",
                Some(EditorSeverity::Information) => "info",
                Some(EditorSeverity::Hint) => "hint",
            };
            let code = d
                .code
                .as_deref()
                .map(|c| format!("[{c}]"))
                .unwrap_or_default();
            let source = d
                .source
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            format!(
                "line {}: {severity}{code}: {}{source}",
                line_of(text, d.range.start) + 1,
                d.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Shortens a title part to `max` characters.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() <= max {
        line.to_owned()
    } else {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
