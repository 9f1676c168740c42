//! The shared shape of an action's run: what an action asks of the model ([`Job`]), what is done
//! with the answer ([`Output`], [`Placement`]) and the result it makes ([`CandidateChange`]). Each action
//! file prepares a [`Job`]; `run` carries it out.

use std::ops::Range;
use std::path::PathBuf;

use crate::syntax::Symbol;

/// What one action asks of the model and what it does with the answer.
pub(crate) struct Job {
    /// The title shown in progress and in the outcome.
    pub title: String,
    /// What the model must do.
    pub task: String,
    /// Extra prompt sections (diagnostics, an existing test file, ...).
    pub sections: Vec<String>,
    /// The label of the code shown to the model, and the code.
    pub subject: Option<(String, String)>,
    /// How the answer must be formatted.
    pub answer: String,
    /// What is done with the answer.
    pub output: Output,
}

/// What is done with the model's answer.
pub(crate) enum Output {
    /// The code replaces `range` of the document (whole lines, or the exact selection).
    Replace {
        /// The bytes replaced.
        range: Range<usize>,
        /// The function or class replaced, whose header is kept when the answer is its body.
        symbol: Option<String>,
    },
    /// The answer is the doc comment of `symbol`.
    DocComment {
        /// The symbol documented.
        symbol: Symbol,
    },
    /// The answer holds tests, placed as the language's convention says.
    Tests {
        /// Where they go.
        place: Placement,
        /// The name of the function under test (a reply may repeat it).
        under_test: String,
    },
    /// The answer is markdown.
    Markdown,
}

/// A candidate result: the new text of each file it changes or creates.
pub(crate) enum CandidateChange {
    /// The document gets this new text.
    Document(String),
    /// Another file, existing with `old` text (if any), gets `new` text.
    OtherFile {
        /// The file.
        path: std::path::PathBuf,
        /// Its current text, or `None` when it is created.
        old: Option<String>,
        /// Its new text.
        new: String,
    },
}

/// Where generated tests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Inside the same file's test module, before its closing brace (Rust, existing module).
    IntoModule {
        /// The byte offset of the line holding the module's closing brace.
        at: usize,
        /// The indentation of the module's items.
        indent: String,
    },
    /// A new test module appended to the same file (Rust).
    AppendModule,
    /// Another file, existing (its text) or to be created.
    File {
        /// The test file.
        path: PathBuf,
        /// Its text, when it exists.
        existing: Option<String>,
    },
}
