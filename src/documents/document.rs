//! One open document: its text as a rope, its version and its language.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ropey::Rope;

/// A replacement of the bytes in `range` by `new_text`: the core's one edit type.
///
/// Ranges are byte offsets into the text the edit applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextEdit {
    /// The bytes replaced.
    pub range: Range<usize>,
    /// The text put in their place.
    pub new_text: String,
}

impl TextEdit {
    /// An edit that inserts `text` at `offset`.
    pub fn insert(offset: usize, text: impl Into<String>) -> Self {
        Self {
            range: offset..offset,
            new_text: text.into(),
        }
    }

    /// An edit that replaces `range` with `text`.
    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Self {
        Self {
            range,
            new_text: text.into(),
        }
    }

    /// When this edit of `old` only inserts text (what typing does), the bytes it inserts, as a
    /// range of the text after the edit. A replacement of the whole text (a client without
    /// incremental sync) counts when the new text is the old one with one run of text inserted.
    pub fn insertion(&self, old: &Rope) -> Option<Range<usize>> {
        if self.new_text.is_empty() {
            return None;
        }
        if self.range.is_empty() {
            return Some(self.range.start..self.range.start + self.new_text.len());
        }
        if self.range != (0..old.len_bytes()) || self.new_text.len() <= old.len_bytes() {
            return None;
        }
        let new = self.new_text.as_bytes();
        let mut prefix = common_prefix(old, new);
        // Bytes in common may end inside a character the two texts only begin alike.
        while !self.new_text.is_char_boundary(prefix) {
            prefix -= 1;
        }
        let after = prefix + (new.len() - old.len_bytes());
        // What follows the insertion is the rest of the old text, unchanged.
        (self.new_text.is_char_boundary(after)
            && old.byte_slice(prefix..) == self.new_text[after..])
            .then_some(prefix..after)
    }
}

/// How many bytes `rope` and `bytes` have in common at their start.
fn common_prefix(rope: &Rope, bytes: &[u8]) -> usize {
    let mut at = 0;
    for chunk in rope.chunks() {
        let chunk = chunk.as_bytes();
        let rest = &bytes[at.min(bytes.len())..];
        let same = chunk.iter().zip(rest).take_while(|(a, b)| a == b).count();
        at += same;
        if same < chunk.len() {
            break;
        }
    }
    at
}

/// Why an edit could not be applied. The document is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The range ends before it starts.
    #[error("edit range {start}..{end} ends before it starts")]
    Reversed {
        /// The start offset.
        start: usize,
        /// The end offset.
        end: usize,
    },
    /// The range reaches past the end of the document.
    #[error("edit range {start}..{end} is outside the document of {len} bytes")]
    OutOfBounds {
        /// The start offset.
        start: usize,
        /// The end offset.
        end: usize,
        /// The document length in bytes.
        len: usize,
    },
    /// Two edits of one batch touch the same bytes.
    #[error("edits at {first}.. and {second}.. overlap")]
    Overlapping {
        /// The start of the first edit.
        first: usize,
        /// The start of the second edit.
        second: usize,
    },
    /// An end of the range falls inside a multi-byte character.
    #[error("edit range {start}..{end} splits a character")]
    NotCharBoundary {
        /// The start offset.
        start: usize,
        /// The end offset.
        end: usize,
    },
}

/// An open document. Cloning is cheap (the rope shares its nodes), so request handlers take
/// clones as snapshots and never hold the store's lock while they work.
#[derive(Debug, Clone)]
pub struct Document {
    /// The full text.
    pub text: Rope,
    /// The version the client gave with the last change.
    pub version: i32,
    /// The client's language id (`rust`, `python`, ...).
    pub language_id: Arc<str>,
    /// The server's name for this text: a new number (never given twice in the process) when the
    /// document is made and on every edit applied. Whatever derives from the text (a suggestion,
    /// a syntax tree, an action's edit) is keyed on it rather than on `version`, which a client
    /// may repeat with another text.
    pub generation: u64,
}

/// A number no document text has had before in this process.
fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Document {
    /// A document with the given text, version and language id.
    pub fn new(text: &str, version: i32, language_id: &str) -> Self {
        Self {
            text: Rope::from_str(text),
            version,
            language_id: language_id.into(),
            generation: next_generation(),
        }
    }

    /// Checks that `edit` can be applied to the current text.
    pub fn check(&self, edit: &TextEdit) -> Result<(), EditError> {
        let Range { start, end } = edit.range;
        let len = self.text.len_bytes();
        if start > end {
            return Err(EditError::Reversed { start, end });
        }
        if end > len {
            return Err(EditError::OutOfBounds { start, end, len });
        }
        let on_boundary = |offset: usize| {
            offset == len || self.text.char_to_byte(self.text.byte_to_char(offset)) == offset
        };
        if !on_boundary(start) || !on_boundary(end) {
            return Err(EditError::NotCharBoundary { start, end });
        }
        Ok(())
    }

    /// Applies one edit, or leaves the text untouched and says why not. An applied edit gives the
    /// text a new [`generation`](Self::generation).
    ///
    /// The cost is O(log n + edit size), except for an edit that replaces the whole text, which
    /// builds a new rope.
    pub fn apply(&mut self, edit: &TextEdit) -> Result<(), EditError> {
        self.check(edit)?;
        self.generation = next_generation();
        let Range { start, end } = edit.range;
        if start == 0 && end == self.text.len_bytes() {
            self.text = Rope::from_str(&edit.new_text);
            return Ok(());
        }
        let start_char = self.text.byte_to_char(start);
        if end > start {
            let end_char = self.text.byte_to_char(end);
            self.text.remove(start_char..end_char);
        }
        if !edit.new_text.is_empty() {
            self.text.insert(start_char, &edit.new_text);
        }
        Ok(())
    }

    /// Applies edits whose ranges all refer to the current text (as a code action's edits do):
    /// all of them or, if any is invalid or two overlap, none.
    pub fn apply_all(&mut self, edits: &[TextEdit]) -> Result<(), EditError> {
        let mut sorted: Vec<&TextEdit> = edits.iter().collect();
        sorted.sort_by_key(|e| (e.range.start, e.range.end));
        for pair in sorted.windows(2) {
            if pair[0].range.end > pair[1].range.start {
                let (first, second) = (pair[0].range.start, pair[1].range.start);
                return Err(EditError::Overlapping { first, second });
            }
        }
        for edit in &sorted {
            self.check(edit)?;
        }
        // Applying from the back keeps earlier offsets valid.
        for edit in sorted.into_iter().rev() {
            self.apply(edit)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insertion_is_found_in_an_edit_and_in_a_whole_new_text() {
        let old = Rope::from_str("let x = è;\n");
        let cases = [
            (TextEdit::insert(4, "yz"), Some(4..6)),
            (TextEdit::replace(4..5, "y"), None),
            (TextEdit::insert(4, ""), None),
            (TextEdit::replace(0..12, "let xy = è;\n"), Some(5..6)),
            // Typing `é` before `è`: the two begin with the same byte.
            (TextEdit::replace(0..12, "let x = éè;\n"), Some(8..10)),
            // A character typed after the same one: either place is the same text.
            (TextEdit::replace(0..12, "let xx = è;\n"), Some(5..6)),
            (TextEdit::replace(0..12, "let x = è;\nz"), Some(12..13)),
            (TextEdit::replace(0..12, "zlet x = è;\n"), Some(0..1)),
            // Something else changed too, or nothing was added.
            (TextEdit::replace(0..12, "let y = è;\nz"), None),
            (TextEdit::replace(0..12, "let x = è;\n"), None),
            (TextEdit::replace(0..12, "let x"), None),
        ];
        for (edit, expected) in cases {
            assert_eq!(edit.insertion(&old), expected, "{edit:?}");
        }
    }

    #[test]
    fn insert_delete_replace() {
        let mut doc = Document::new("hello world", 1, "plaintext");
        doc.apply(&TextEdit::replace(0..5, "goodbye")).unwrap();
        doc.apply(&TextEdit::insert(doc.text.len_bytes(), "!"))
            .unwrap();
        doc.apply(&TextEdit::replace(7..8, "")).unwrap();
        assert_eq!(doc.text.to_string(), "goodbyeworld!");
    }

    #[test]
    fn invalid_edits_leave_the_text_alone() {
        let mut doc = Document::new("a😀b", 1, "plaintext");
        assert!(matches!(
            doc.apply(&TextEdit {
                range: std::ops::Range { start: 3, end: 1 },
                new_text: "x".into()
            }),
            Err(EditError::Reversed { .. })
        ));
        assert!(matches!(
            doc.apply(&TextEdit::insert(99, "x")),
            Err(EditError::OutOfBounds { .. })
        ));
        assert!(matches!(
            doc.apply(&TextEdit::insert(2, "x")),
            Err(EditError::NotCharBoundary { .. })
        ));
        assert_eq!(doc.text.to_string(), "a😀b");
    }

    #[test]
    fn every_applied_edit_gives_a_new_generation() {
        let mut doc = Document::new("abc", 1, "plaintext");
        let other = Document::new("abc", 1, "plaintext");
        assert_ne!(
            doc.generation, other.generation,
            "each document text has its own"
        );
        let snapshot = doc.clone();
        assert_eq!(snapshot.generation, doc.generation, "a snapshot keeps it");
        // The same length, the same version: still another text, another generation.
        doc.apply(&TextEdit::replace(0..1, "x")).unwrap();
        assert_ne!(doc.generation, snapshot.generation);
        let after = doc.generation;
        assert!(doc.apply(&TextEdit::insert(99, "y")).is_err());
        assert_eq!(doc.generation, after, "a refused edit changes nothing");
    }

    #[test]
    fn apply_all_is_all_or_nothing() {
        let mut doc = Document::new("one two three", 1, "plaintext");
        let ok = [TextEdit::replace(0..3, "1"), TextEdit::replace(8..13, "3")];
        doc.apply_all(&ok).unwrap();
        assert_eq!(doc.text.to_string(), "1 two 3");
        let overlapping = [TextEdit::replace(0..3, "x"), TextEdit::replace(2..4, "y")];
        assert!(matches!(
            doc.apply_all(&overlapping),
            Err(EditError::Overlapping { .. })
        ));
        let one_bad = [TextEdit::replace(0..1, "x"), TextEdit::insert(99, "y")];
        assert!(doc.apply_all(&one_bad).is_err());
        assert_eq!(doc.text.to_string(), "1 two 3");
    }
}
