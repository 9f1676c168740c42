//! The edit planner: an old text and the text a model gave back, to the edits of a code action.
//!
//! The input is `<language>\n<old text>\n%%\n<new text>`; the first line names a language
//! (`rust`, `python`, ...) for the syntax check, or anything else for none. Nothing may panic, and
//! the edits of `edits::minimal_edits`:
//! - applied to the old text (as a string and as a rope) give exactly the new text;
//! - are sorted, neither overlap nor touch, and change something each;
//! - start and end on character boundaries, never between the `\r` and `\n` of a line break, and
//!   those offsets survive a round trip through line/column in UTF-8, UTF-16 and UTF-32;
//! - are the edits the syntax-checked planner (`SyntaxBaseline::checked_edits`) returns when it
//!   accepts them.

#![no_main]

use augur::documents::{Document, PositionEncoding, line_col_to_offset, offset_to_line_col};
use augur::edits::{SyntaxBaseline, apply, minimal_edits};
use augur::syntax::Language;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (language, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let (old, new) = rest.split_once("\n%%\n").unwrap_or((rest, ""));

    let edits = minimal_edits(old, new);
    assert_eq!(apply(old, &edits).as_deref(), Ok(new), "{edits:?}");
    if old == new {
        assert!(edits.is_empty(), "edits between equal texts: {edits:?}");
    }
    for pair in edits.windows(2) {
        assert!(
            pair[0].range.end < pair[1].range.start,
            "unsorted or touching: {edits:?}"
        );
    }
    let rope = ropey::Rope::from_str(old);
    let bytes = old.as_bytes();
    for edit in &edits {
        assert!(
            edit.range.start <= edit.range.end,
            "a reversed edit: {edit:?}"
        );
        assert!(
            !(edit.range.is_empty() && edit.new_text.is_empty()),
            "an edit that changes nothing: {edit:?}"
        );
        for offset in [edit.range.start, edit.range.end] {
            assert!(old.is_char_boundary(offset), "inside a character: {edit:?}");
            assert!(
                !(offset > 0
                    && offset < bytes.len()
                    && bytes[offset - 1] == b'\r'
                    && bytes[offset] == b'\n'),
                "between \\r and \\n: {edit:?}"
            );
            for encoding in [
                PositionEncoding::Utf8,
                PositionEncoding::Utf16,
                PositionEncoding::Utf32,
            ] {
                let position = offset_to_line_col(&rope, offset, encoding);
                assert_eq!(
                    line_col_to_offset(&rope, position, encoding),
                    offset,
                    "offset {offset} at {position:?} ({encoding:?})"
                );
            }
        }
    }
    let mut doc = Document::new(old, 1, "plaintext");
    assert_eq!(doc.apply_all(&edits), Ok(()));
    assert_eq!(doc.text.to_string(), new);

    if let Some(language) = Language::from_name(language.trim()) {
        let baseline = SyntaxBaseline::new(language, old);
        if let Ok(checked) = baseline.checked_edits(old, new) {
            assert_eq!(checked, edits, "the checked planner gave other edits");
        }
    }
});
