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
