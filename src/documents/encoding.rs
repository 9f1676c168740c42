//! Position encodings and the conversion between byte offsets and line/column positions.
//!
//! The core works in byte offsets. Editors speak in `(line, column)` pairs whose column counts
//! UTF-8 bytes, UTF-16 code units or Unicode scalar values (UTF-32), as negotiated once at start-up.
//! These functions are the only place such columns are computed; the LSP layer calls them from
//! `from_proto` and `to_proto` and nowhere else.
//!
//! Lines end at `\n`, `\r\n` or a lone `\r`, as the LSP specification says (the rope is built with
//! exactly those line breaks). Every conversion is O(log n) in the document size plus nothing
//! proportional to the line length, so it stays cheap on a 10 MB document or a minified line.
//!
//! ```
//! use augur::documents::{LineCol, PositionEncoding, line_col_to_offset, offset_to_line_col};
//! let rope = ropey::Rope::from_str("a😀b\r\nc");
//! // "b" is at UTF-16 column 3 (the emoji is two code units) and at byte 5.
//! let at_b = LineCol { line: 0, col: 3 };
//! assert_eq!(line_col_to_offset(&rope, at_b, PositionEncoding::Utf16), 5);
//! assert_eq!(offset_to_line_col(&rope, 5, PositionEncoding::Utf32), LineCol { line: 0, col: 2 });
//! // A column past the end of a line is clamped to the line's end, before its line break.
//! assert_eq!(line_col_to_offset(&rope, LineCol { line: 0, col: 99 }, PositionEncoding::Utf8), 6);
//! ```

use ropey::Rope;

/// How a column counts the characters before it on its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PositionEncoding {
    /// Columns count UTF-8 bytes.
    Utf8,
    /// Columns count UTF-16 code units: the protocol's default.
    #[default]
    Utf16,
    /// Columns count Unicode scalar values.
    Utf32,
}

impl PositionEncoding {
    /// The name used on the wire (`"utf-8"`, `"utf-16"`, `"utf-32"`).
    pub fn as_str(self) -> &'static str {
        match self {
            PositionEncoding::Utf8 => "utf-8",
            PositionEncoding::Utf16 => "utf-16",
            PositionEncoding::Utf32 => "utf-32",
        }
    }

    /// Parses a wire name; unknown names give `None`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "utf-8" => Some(PositionEncoding::Utf8),
            "utf-16" => Some(PositionEncoding::Utf16),
            "utf-32" => Some(PositionEncoding::Utf32),
            _ => None,
        }
    }

    /// Picks the encoding to use from those a client offers, preferring UTF-8 (no conversion at
    /// all), then UTF-32, and falling back to UTF-16, which every client must support.
    pub fn negotiate<'a>(offered: impl IntoIterator<Item = &'a str>) -> Self {
        let offered: Vec<PositionEncoding> = offered.into_iter().filter_map(Self::parse).collect();
        [PositionEncoding::Utf8, PositionEncoding::Utf32]
            .into_iter()
            .find(|enc| offered.contains(enc))
            .unwrap_or(PositionEncoding::Utf16)
    }
}

/// A zero-based line and a column in some [`PositionEncoding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LineCol {
    /// The zero-based line number.
    pub line: u32,
    /// The zero-based column, counted in the document's position encoding.
    pub col: u32,
}

/// The byte offset where line `line` starts, and where its content ends (before the line break).
/// Lines past the end of the document give the end of the document for both.
fn line_bounds(rope: &Rope, line: usize) -> (usize, usize) {
    if line >= rope.len_lines() {
        let end = rope.len_bytes();
        return (end, end);
    }
    let start = rope.line_to_byte(line);
    let next = rope.line_to_byte(line + 1);
    let mut end = next;
    if end > start && rope.byte(end - 1) == b'\n' {
        end -= 1;
    }
    if end > start && rope.byte(end - 1) == b'\r' {
        end -= 1;
    }
    (start, end)
}

/// Rounds a byte offset down to the start of the character it falls in.
fn floor_char_boundary(rope: &Rope, offset: usize) -> usize {
    rope.char_to_byte(rope.byte_to_char(offset))
}

/// Converts a line/column position to a byte offset.
///
/// Out-of-range positions are clamped as the LSP specification says: a column past the end of its
/// line means the end of the line (before the line break), and a line past the last line means the
/// end of the document. A column that falls inside a character (the middle of a UTF-8 sequence or of
/// a UTF-16 surrogate pair) is rounded down to the start of that character.
pub fn line_col_to_offset(rope: &Rope, pos: LineCol, encoding: PositionEncoding) -> usize {
    let line = pos.line as usize;
    if line >= rope.len_lines() {
        return rope.len_bytes();
    }
    let (start, end) = line_bounds(rope, line);
    let col = pos.col as usize;
    match encoding {
        PositionEncoding::Utf8 => floor_char_boundary(rope, (start + col).min(end)),
        PositionEncoding::Utf32 => {
            let start_char = rope.byte_to_char(start);
            let end_char = rope.byte_to_char(end);
            rope.char_to_byte((start_char + col).min(end_char))
        }
        PositionEncoding::Utf16 => {
            let start_cu = rope.char_to_utf16_cu(rope.byte_to_char(start));
            let end_cu = rope.char_to_utf16_cu(rope.byte_to_char(end));
            let target_cu = (start_cu + col).min(end_cu);
            // `utf16_cu_to_char` rounds a position inside a surrogate pair down to its character.
            rope.char_to_byte(rope.utf16_cu_to_char(target_cu))
        }
    }
}

/// Converts a byte offset to a line/column position.
///
/// An offset past the end of the document is clamped to the end; an offset inside a character is
/// rounded down to the start of that character.
pub fn offset_to_line_col(rope: &Rope, offset: usize, encoding: PositionEncoding) -> LineCol {
    let offset = floor_char_boundary(rope, offset.min(rope.len_bytes()));
    let line = rope.byte_to_line(offset);
    let start = rope.line_to_byte(line);
    let col = match encoding {
        PositionEncoding::Utf8 => offset - start,
        PositionEncoding::Utf32 => rope.byte_to_char(offset) - rope.byte_to_char(start),
        PositionEncoding::Utf16 => {
            rope.char_to_utf16_cu(rope.byte_to_char(offset))
                - rope.char_to_utf16_cu(rope.byte_to_char(start))
        }
    };
    LineCol {
        line: line as u32,
        col: col as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rope(s: &str) -> Rope {
        Rope::from_str(s)
    }

    #[test]
    fn negotiation_prefers_utf8_then_utf32_else_utf16() {
        assert_eq!(
            PositionEncoding::negotiate(["utf-16", "utf-8"]),
            PositionEncoding::Utf8
        );
        assert_eq!(
            PositionEncoding::negotiate(["utf-32", "utf-16"]),
            PositionEncoding::Utf32
        );
        assert_eq!(
            PositionEncoding::negotiate(["utf-16"]),
            PositionEncoding::Utf16
        );
        assert_eq!(
            PositionEncoding::negotiate(["latin-1"]),
            PositionEncoding::Utf16
        );
        assert_eq!(PositionEncoding::negotiate([]), PositionEncoding::Utf16);
    }

    #[test]
    fn lone_cr_crlf_and_lf_all_end_lines() {
        let r = rope("a\rb\r\nc\nd");
        for (line, byte) in [(0, 0), (1, 2), (2, 5), (3, 7)] {
            assert_eq!(
                line_col_to_offset(&r, LineCol { line, col: 0 }, PositionEncoding::Utf8),
                byte
            );
        }
        // The end of line 1 is before its "\r\n".
        assert_eq!(
            line_col_to_offset(&r, LineCol { line: 1, col: 50 }, PositionEncoding::Utf16),
            3
        );
        assert_eq!(
            offset_to_line_col(&r, 8, PositionEncoding::Utf16),
            LineCol { line: 3, col: 1 }
        );
    }

    #[test]
    fn unicode_line_separators_are_not_line_breaks() {
        // U+2028 and U+0085 are not line breaks in the protocol.
        let r = rope("a\u{2028}b\u{85}c\nd");
        assert_eq!(
            line_col_to_offset(&r, LineCol { line: 1, col: 0 }, PositionEncoding::Utf8),
            9
        );
        assert_eq!(
            offset_to_line_col(&r, 8, PositionEncoding::Utf32),
            LineCol { line: 0, col: 5 }
        );
    }

    #[test]
    fn astral_characters_count_per_encoding() {
        let r = rope("x😀y");
        let y = 5;
        assert_eq!(offset_to_line_col(&r, y, PositionEncoding::Utf8).col, 5);
        assert_eq!(offset_to_line_col(&r, y, PositionEncoding::Utf16).col, 3);
        assert_eq!(offset_to_line_col(&r, y, PositionEncoding::Utf32).col, 2);
        // A UTF-16 column inside the surrogate pair rounds down to the emoji's start.
        assert_eq!(
            line_col_to_offset(&r, LineCol { line: 0, col: 2 }, PositionEncoding::Utf16),
            1
        );
        // A UTF-8 column inside the emoji rounds down too.
        assert_eq!(
            line_col_to_offset(&r, LineCol { line: 0, col: 3 }, PositionEncoding::Utf8),
            1
        );
    }

    #[test]
    fn positions_past_the_end_clamp() {
        let r = rope("ab\ncd");
        let end = LineCol { line: 9, col: 9 };
        assert_eq!(line_col_to_offset(&r, end, PositionEncoding::Utf16), 5);
        assert_eq!(
            offset_to_line_col(&r, 99, PositionEncoding::Utf8),
            LineCol { line: 1, col: 2 }
        );
        // The line after a final newline exists and is empty.
        let r = rope("ab\n");
        assert_eq!(
            line_col_to_offset(&r, LineCol { line: 1, col: 4 }, PositionEncoding::Utf8),
            3
        );
    }
}
