//! Conversions from protocol types to the core's: the only place positions come in.
//!
//! Positions are converted with the encoding negotiated at `initialize`; see
//! [`crate::documents::line_col_to_offset`] for the clamping rules.

use std::ops::Range;
use std::path::PathBuf;

use ropey::Rope;
use tower_lsp_server::ls_types::{Position, TextDocumentContentChangeEvent, Uri, WorkspaceFolder};

use crate::documents::{LineCol, PositionEncoding, TextEdit, line_col_to_offset};
use crate::workspace::WorkspaceRoot;

/// A byte offset for a position, clamped to the document.
pub fn offset(rope: &Rope, pos: Position, encoding: PositionEncoding) -> usize {
    line_col_to_offset(
        rope,
        LineCol {
            line: pos.line,
            col: pos.character,
        },
        encoding,
    )
}

/// A byte range for a range. The range may come out reversed if the client sent it so; the
/// document's edit check refuses such ranges.
pub fn range(
    rope: &Rope,
    range: tower_lsp_server::ls_types::Range,
    encoding: PositionEncoding,
) -> Range<usize> {
    offset(rope, range.start, encoding)..offset(rope, range.end, encoding)
}

/// Why a content change could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// The change starts on a line the document does not have.
    #[error("the change starts at line {line}, but the document has {lines} lines")]
    LineOutOfRange {
        /// The line the change names.
        line: u32,
        /// The number of lines in the document.
        lines: usize,
    },
}

/// The edit a `didChange` content change makes to `rope`.
///
/// A column past the end of its line is clamped, as the specification says. A range that starts
/// beyond the last line is refused: the client's copy of the document no longer matches ours, and
/// guessing where the text goes would corrupt it.
pub fn content_change(
    rope: &Rope,
    change: &TextDocumentContentChangeEvent,
    encoding: PositionEncoding,
) -> Result<TextEdit, ChangeError> {
    match change.range {
        None => Ok(TextEdit::replace(0..rope.len_bytes(), change.text.clone())),
        Some(r) => {
            let lines = rope.len_lines();
            if r.start.line as usize >= lines {
                return Err(ChangeError::LineOutOfRange {
                    line: r.start.line,
                    lines,
                });
            }
            Ok(TextEdit::replace(
                range(rope, r, encoding),
                change.text.clone(),
            ))
        }
    }
}

/// The key under which an open document is stored.
pub fn doc_key(uri: &Uri) -> String {
    uri.as_str().to_owned()
}

/// A local path for a `file:` URI.
pub fn path(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

/// A workspace root for a workspace folder with a `file:` URI.
pub fn workspace_root(folder: &WorkspaceFolder) -> Option<WorkspaceRoot> {
    let path = path(&folder.uri)?;
    let mut root = WorkspaceRoot::from_path(path);
    if !folder.name.is_empty() {
        root.name = folder.name.clone();
    }
    Some(root)
}

/// A diagnostic the client sent with a code action request, in byte offsets of `rope`.
pub fn diagnostic(
    rope: &Rope,
    diagnostic: &tower_lsp_server::ls_types::Diagnostic,
    encoding: PositionEncoding,
) -> crate::actions::EditorDiagnostic {
    use crate::actions::EditorSeverity;
    use tower_lsp_server::ls_types::{DiagnosticSeverity, NumberOrString};
    let severity = diagnostic.severity.and_then(|s| match s {
        DiagnosticSeverity::ERROR => Some(EditorSeverity::Error),
        DiagnosticSeverity::WARNING => Some(EditorSeverity::Warning),
        DiagnosticSeverity::INFORMATION => Some(EditorSeverity::Information),
        DiagnosticSeverity::HINT => Some(EditorSeverity::Hint),
        _ => None,
    });
    let range = range(rope, diagnostic.range, encoding);
    crate::actions::EditorDiagnostic {
        // A reversed range from the client becomes an empty one at its start.
        range: range.start.min(range.end)..range.end.max(range.start),
        message: diagnostic.message.clone(),
        severity,
        code: diagnostic.code.as_ref().map(|code| match code {
            NumberOrString::Number(n) => n.to_string(),
            NumberOrString::String(s) => s.clone(),
        }),
        source: diagnostic.source.clone(),
    }
}
