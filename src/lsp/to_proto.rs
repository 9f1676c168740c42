//! Conversions from the core's types to protocol types: the only place positions go out.

use std::ops::Range;

use ropey::Rope;
use tower_lsp_server::ls_types::{self, Position, PositionEncodingKind};

use crate::documents::{PositionEncoding, TextEdit, offset_to_line_col};

/// The wire name of an encoding.
pub fn encoding(encoding: PositionEncoding) -> PositionEncodingKind {
    match encoding {
        PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        PositionEncoding::Utf32 => PositionEncodingKind::UTF32,
    }
}

/// The position of a byte offset.
pub fn position(rope: &Rope, offset: usize, encoding: PositionEncoding) -> Position {
    let lc = offset_to_line_col(rope, offset, encoding);
    Position {
        line: lc.line,
        character: lc.col,
    }
}

/// The range of a byte range.
pub fn range(rope: &Rope, range: Range<usize>, encoding: PositionEncoding) -> ls_types::Range {
    ls_types::Range {
        start: position(rope, range.start, encoding),
        end: position(rope, range.end, encoding),
    }
}

/// A protocol text edit for a core edit against `rope`.
pub fn text_edit(rope: &Rope, edit: &TextEdit, encoding: PositionEncoding) -> ls_types::TextEdit {
    ls_types::TextEdit {
        range: range(rope, edit.range.clone(), encoding),
        new_text: edit.new_text.clone(),
    }
}

/// The protocol kind of a symbol kind.
pub fn symbol_kind(kind: crate::syntax::SymbolKind) -> ls_types::SymbolKind {
    use crate::syntax::SymbolKind as K;
    match kind {
        K::Function => ls_types::SymbolKind::FUNCTION,
        K::Method => ls_types::SymbolKind::METHOD,
        K::Class => ls_types::SymbolKind::CLASS,
        K::Struct => ls_types::SymbolKind::STRUCT,
        K::Enum => ls_types::SymbolKind::ENUM,
        K::Interface | K::Trait => ls_types::SymbolKind::INTERFACE,
        K::Type => ls_types::SymbolKind::CLASS,
        K::Constant => ls_types::SymbolKind::CONSTANT,
        K::Module => ls_types::SymbolKind::MODULE,
    }
}

/// The `file:` URI of a path.
pub fn uri(path: &std::path::Path) -> Option<ls_types::Uri> {
    ls_types::Uri::from_file_path(path)
}

/// Texts of files on disk (or open in the editor), read once per request, for converting byte
/// ranges of index hits into protocol ranges.
#[derive(Default)]
pub struct FileTexts {
    ropes: std::collections::HashMap<std::path::PathBuf, Rope>,
}

impl FileTexts {
    /// The location of `bytes` in the file at `path`, using `open` for a document the editor holds
    /// and the file on disk otherwise. `None` if the file cannot be read.
    pub fn location(
        &mut self,
        path: &std::path::Path,
        bytes: Range<usize>,
        encoding: PositionEncoding,
        open: impl FnOnce(&ls_types::Uri) -> Option<Rope>,
    ) -> Option<ls_types::Location> {
        let uri = uri(path)?;
        if !self.ropes.contains_key(path) {
            let rope = match open(&uri) {
                Some(rope) => rope,
                None => {
                    let bytes = std::fs::read(path).ok()?;
                    Rope::from_str(&String::from_utf8_lossy(&bytes))
                }
            };
            self.ropes.insert(path.to_path_buf(), rope);
        }
        let rope = self.ropes.get(path)?;
        Some(ls_types::Location {
            uri,
            range: range(rope, bytes, encoding),
        })
    }
}

/// The protocol kind of an action kind.
pub fn code_action_kind(kind: crate::actions::ActionKind) -> ls_types::CodeActionKind {
    use crate::actions::ActionKind as K;
    match kind {
        K::Quickfix => ls_types::CodeActionKind::QUICKFIX,
        K::RefactorRewrite => ls_types::CodeActionKind::REFACTOR_REWRITE,
        K::Source => ls_types::CodeActionKind::SOURCE,
    }
}

/// How a client takes workspace edits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EditStyle {
    /// Versioned `documentChanges` (else the plain `changes` map).
    pub document_changes: bool,
    /// `CreateFile` resource operations inside `documentChanges`.
    pub create_files: bool,
}

/// Why a plan cannot be sent as a `WorkspaceEdit`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceEditError {
    /// A path has no `file:` URI.
    #[error("{0} cannot be named by a file URI")]
    NoUri(std::path::PathBuf),
    /// The text the edits apply to is gone.
    #[error("cannot read {0} to place the edits")]
    Unreadable(std::path::PathBuf),
    /// The plan creates a file but the client cannot create files.
    #[error(
        "the action would create {0}, but the editor does not support creating files in an edit"
    )]
    CannotCreate(std::path::PathBuf),
}

/// The protocol's `WorkspaceEdit` for a plan. `text_of` gives the text each edited file's byte
/// ranges refer to (the open document's, or the file on disk). With `document_changes`, edits
/// carry the document version they were computed for and new files come first as `CreateFile`
/// operations; otherwise the `changes` map is used and new files cannot be expressed.
pub fn workspace_edit(
    plan: &crate::edits::WorkspaceEditPlan,
    style: EditStyle,
    encoding: PositionEncoding,
    mut text_of: impl FnMut(&std::path::Path) -> Option<Rope>,
) -> Result<ls_types::WorkspaceEdit, WorkspaceEditError> {
    use ls_types::{
        CreateFile, CreateFileOptions, DocumentChangeOperation, DocumentChanges, OneOf,
        OptionalVersionedTextDocumentIdentifier, ResourceOp, TextDocumentEdit,
    };
    let uri_of = |path: &std::path::Path| {
        uri(path).ok_or_else(|| WorkspaceEditError::NoUri(path.to_owned()))
    };
    let mut files = Vec::new();
    for file in &plan.edits {
        let rope =
            text_of(&file.path).ok_or_else(|| WorkspaceEditError::Unreadable(file.path.clone()))?;
        let edits: Vec<ls_types::TextEdit> = file
            .edits
            .iter()
            .map(|edit| text_edit(&rope, edit, encoding))
            .collect();
        files.push((uri_of(&file.path)?, file.version, edits));
    }
    if !style.document_changes || (!plan.creations.is_empty() && !style.create_files) {
        if let Some(created) = plan.creations.first() {
            return Err(WorkspaceEditError::CannotCreate(created.path.clone()));
        }
        let changes = files
            .into_iter()
            .map(|(uri, _, edits)| (uri, edits))
            .collect();
        return Ok(ls_types::WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        });
    }
    let mut operations = Vec::new();
    for created in &plan.creations {
        let uri = uri_of(&created.path)?;
        operations.push(DocumentChangeOperation::Op(ResourceOp::Create(
            CreateFile {
                uri: uri.clone(),
                options: Some(CreateFileOptions {
                    overwrite: Some(false),
                    ignore_if_exists: Some(true),
                }),
                annotation_id: None,
            },
        )));
        let end = Position {
            line: 0,
            character: 0,
        };
        operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier { uri, version: None },
            edits: vec![OneOf::Left(ls_types::TextEdit {
                range: ls_types::Range { start: end, end },
                new_text: created.text.clone(),
            })],
        }));
    }
    for (uri, version, edits) in files {
        operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier { uri, version },
            edits: edits.into_iter().map(OneOf::Left).collect(),
        }));
    }
    Ok(ls_types::WorkspaceEdit {
        document_changes: Some(DocumentChanges::Operations(operations)),
        ..Default::default()
    })
}
