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
