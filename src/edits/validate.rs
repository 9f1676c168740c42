//! The syntax check of an edit: parse the document with the edits applied and refuse the edits
//! if they add syntax errors (tree-sitter `ERROR` and `MISSING` nodes).
//!
//! A [`SyntaxBaseline`] parses the old text once (an action builds it while the model is
//! thinking); each check then reparses incrementally, reusing the old tree for the unchanged
//! parts, so validating a rewrite in a large file costs a fraction of a full parse.
//!
//! ```
//! use augur::edits::{SyntaxBaseline, TextEdit};
//! use augur::syntax::Language;
//!
//! let old = "def f(x):\n    return x\n";
//! let baseline = SyntaxBaseline::new(Language::Python, old);
//! assert!(baseline.check(old, &[TextEdit::replace(21..22, "x + 1")]).is_ok());
//! let error = baseline.check(old, &[TextEdit::replace(21..22, "x +")]).unwrap_err();
//! assert!(error.to_string().contains("line 2"), "{error}");
//! ```

use std::ops::ControlFlow;

use tree_sitter::{InputEdit, Node, Point, Tree};

use crate::documents::{EditError, TextEdit};
use crate::syntax::{Language, error_count_in, parse, reparse, visit_error_nodes};

use super::apply;
use super::diff::{changed_lines, line_edits, refine};

/// Edits that would add syntax errors to a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {}: {message} ({before} syntax errors before the edit, {after} after)", first_error_line + 1)]
pub struct SyntaxRegression {
    /// Syntax errors in the document before the edits.
    pub before: usize,
    /// Syntax errors with the edits applied.
    pub after: usize,
    /// The zero-based line (in the edited text) of the first error the edits introduced, or of
    /// the first error at all when none lies in the edited region.
    pub first_error_line: usize,
    /// What the parser found there, for the model's second attempt and for the user.
    pub message: String,
}

/// Why a set of edits was refused by [`validate`] or [`SyntaxBaseline::check`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// The edits do not apply to the text.
    #[error("the edits do not apply: {0}")]
    Edit(#[from] EditError),
    /// The edits add syntax errors.
    #[error("{0}")]
    Syntax(#[from] SyntaxRegression),
}

/// The old document's tree and error count, computed once for any number of checks.
#[derive(Debug, Clone)]
pub struct SyntaxBaseline {
    language: Language,
    tree: Option<Tree>,
    errors: usize,
}

impl SyntaxBaseline {
    /// Parses `old_text`, the text every checked edit refers to.
    pub fn new(language: Language, old_text: &str) -> Self {
        let tree = parse(language, old_text);
        let errors = tree.as_ref().map_or(0, |t| error_count_in(t.root_node()));
        Self {
            language,
            tree,
            errors,
        }
    }

    /// The number of syntax errors in the old text.
    pub fn errors(&self) -> usize {
        self.errors
    }

    /// Checks `edits` (ranges into `old_text`, the text given to [`SyntaxBaseline::new`]).
    pub fn check(&self, old_text: &str, edits: &[TextEdit]) -> Result<(), ValidationError> {
        let new_text = apply(old_text, edits)?;
        self.check_applied(old_text, &new_text, edits)
    }

    /// The minimal edits from `old_text` (the text given to [`SyntaxBaseline::new`]) to
    /// `new_text`, as [`minimal_edits`](super::minimal_edits) computes them, once checked.
    ///
    /// The check needs only the new text and roughly where it changed, so it runs on the
    /// whole-line edits of the line diff while the character diff refines them on another
    /// thread: the two costs overlap instead of adding up.
    ///
    /// ```
    /// use augur::edits::{SyntaxBaseline, apply};
    /// use augur::syntax::Language;
    ///
    /// let old = "fn a() -> u8 {\n    1\n}\n";
    /// let baseline = SyntaxBaseline::new(Language::Rust, old);
    /// let edits = baseline.checked_edits(old, "fn a() -> u8 {\n    2\n}\n").unwrap();
    /// assert_eq!(edits.len(), 1);
    /// assert_eq!(apply(old, &edits).unwrap(), "fn a() -> u8 {\n    2\n}\n");
    /// assert!(baseline.checked_edits(old, "fn a() -> u8 {\n    2\n").is_err());
    /// ```
    pub fn checked_edits(
        &self,
        old_text: &str,
        new_text: &str,
    ) -> Result<Vec<TextEdit>, ValidationError> {
        let pieces = changed_lines(old_text, new_text);
        let (edits, checked) = rayon::join(
            || refine(old_text, new_text, &pieces),
            || self.check_applied(old_text, new_text, &line_edits(old_text, new_text, &pieces)),
        );
        checked?;
        Ok(edits)
    }

    /// Checks `edits`, which turn `old_text` into `new_text`.
    fn check_applied(
        &self,
        old_text: &str,
        new_text: &str,
        edits: &[TextEdit],
    ) -> Result<(), ValidationError> {
        let Some(old_tree) = &self.tree else {
            // A grammar that cannot load checks nothing; the edit is not refused for it.
            return Ok(());
        };
        let mut sorted: Vec<&TextEdit> = edits.iter().collect();
        sorted.sort_by_key(|e| (e.range.start, e.range.end));
        let (Some(first), Some(last)) = (sorted.first(), sorted.last()) else {
            return Ok(());
        };
        let first = first.range.start;
        let new_end =
            (last.range.end as isize + new_text.len() as isize - old_text.len() as isize) as usize;
        // One input edit per group of changes on a line, not one spanning them all: the reparse
        // then reuses the unchanged statements between them. The edits are given last first, so
        // that every position before an edit is still a position in the old text.
        let mut edited = old_tree.clone();
        for input in input_edits(old_text, &sorted).iter().rev() {
            edited.edit(input);
        }
        let Some(tree) = reparse(self.language, new_text, &edited) else {
            return Ok(());
        };
        let after = error_count_in(tree.root_node());
        if after <= self.errors {
            // Freeing two trees node by node takes a tenth of the check: another thread does it.
            rayon::spawn(move || drop((tree, edited)));
            return Ok(());
        }
        let (node, line) = first_error(tree.root_node(), first..new_end.max(first))
            .map_or((None, 0), |n| (Some(n), n.start_position().row));
        Err(SyntaxRegression {
            before: self.errors,
            after,
            first_error_line: line,
            message: node.map_or_else(|| "a syntax error".to_owned(), |n| describe(n, new_text)),
        }
        .into())
    }
}

/// Checks that `edits` add no syntax errors to `old_text`: a full parse of the old text plus an
/// incremental one of the new text. Keep a [`SyntaxBaseline`] to check several candidates.
pub fn validate(
    language: Language,
    old_text: &str,
    edits: &[TextEdit],
) -> Result<(), ValidationError> {
    SyntaxBaseline::new(language, old_text).check(old_text, edits)
}

/// The tree-sitter edits for `edits` (sorted, not overlapping, ranges into `old_text`), in
/// order. Edits separated by unchanged text without a line break become one input edit: a
/// token between them would be relexed anyway, and fewer edits walk the tree fewer times.
fn input_edits(old_text: &str, edits: &[&TextEdit]) -> Vec<InputEdit> {
    let mut out = Vec::new();
    let mut cursor = PointCursor::default();
    let mut i = 0;
    while i < edits.len() {
        let start = edits[i].range.start;
        let start_position = cursor.advance(old_text, start);
        let mut new_extent = Extent::default();
        let mut end = start;
        while let Some(edit) = edits.get(i) {
            let gap = &old_text[end..edit.range.start];
            if end != start && gap.contains('\n') {
                break;
            }
            new_extent.push(gap);
            new_extent.push(&edit.new_text);
            end = edit.range.end;
            i += 1;
        }
        let old_end_position = cursor.advance(old_text, end);
        out.push(InputEdit {
            start_byte: start,
            old_end_byte: end,
            new_end_byte: start + new_extent.bytes,
            start_position,
            old_end_position,
            new_end_position: new_extent.end_from(start_position),
        });
    }
    out
}

/// Walks forward through a text, turning increasing byte offsets into rows and byte columns.
#[derive(Default)]
struct PointCursor {
    at: usize,
    row: usize,
    line_start: usize,
}

impl PointCursor {
    /// The point of `offset`, which must not be before the previous one.
    fn advance(&mut self, text: &str, offset: usize) -> Point {
        let offset = offset.min(text.len());
        let passed = &text.as_bytes()[self.at..offset];
        self.row += passed.iter().filter(|&&b| b == b'\n').count();
        if let Some(i) = passed.iter().rposition(|&b| b == b'\n') {
            self.line_start = self.at + i + 1;
        }
        self.at = offset;
        Point::new(self.row, offset - self.line_start)
    }
}

/// The size of inserted text: bytes, line breaks, and bytes after the last line break.
#[derive(Default)]
struct Extent {
    bytes: usize,
    rows: usize,
    last_line: usize,
}

impl Extent {
    /// Grows the extent by `text`, which follows what it measured so far.
    fn push(&mut self, text: &str) {
        self.bytes += text.len();
        let bytes = text.as_bytes();
        match bytes.iter().rposition(|&b| b == b'\n') {
            Some(i) => {
                self.rows += bytes.iter().filter(|&&b| b == b'\n').count();
                self.last_line = bytes.len() - i - 1;
            }
            None => self.last_line += bytes.len(),
        }
    }

    /// Where the text ends when it starts at `start`.
    fn end_from(&self, start: Point) -> Point {
        if self.rows == 0 {
            Point::new(start.row, start.column + self.last_line)
        } else {
            Point::new(start.row + self.rows, self.last_line)
        }
    }
}

/// The first error node, preferring one that overlaps `region` (the edited bytes).
fn first_error(root: Node<'_>, region: std::ops::Range<usize>) -> Option<Node<'_>> {
    let mut first_any = None;
    let mut in_region = None;
    visit_error_nodes(root, |node| {
        if node.start_byte() <= region.end && node.end_byte() >= region.start {
            in_region = Some(node);
            return ControlFlow::Break(());
        }
        first_any.get_or_insert(node);
        ControlFlow::Continue(())
    });
    in_region.or(first_any)
}

/// A short description of an error node: what is missing, or the text that did not parse.
fn describe(node: Node<'_>, text: &str) -> String {
    if node.is_missing() {
        return format!("missing `{}`", node.kind());
    }
    let snippet: String = text
        .get(node.byte_range())
        .unwrap_or("")
        .split('\n')
        .next()
        .unwrap_or("")
        .trim()
        .chars()
        .take(40)
        .collect();
    if snippet.is_empty() {
        "unexpected end of input".to_owned()
    } else {
        format!("unexpected `{snippet}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edits::minimal_edits;

    #[test]
    fn an_unclosed_brace_is_refused_with_its_line() {
        let old = "fn a() {\n    1\n}\n\nfn b() {}\n";
        let new = "fn a() {\n    1\n\n\nfn b() {}\n";
        let edits = minimal_edits(old, new);
        let Err(ValidationError::Syntax(r)) = validate(Language::Rust, old, &edits) else {
            panic!("expected a regression");
        };
        assert_eq!(r.before, 0);
        assert!(r.after > 0);
        assert!(r.first_error_line <= 4, "{r:?}");
    }

    #[test]
    fn existing_errors_do_not_block_unrelated_edits() {
        let old = "fn a() {\n\nfn b() { 1 }\n";
        let new = "fn a() {\n\nfn b() { 2 }\n";
        assert!(validate(Language::Rust, old, &minimal_edits(old, new)).is_ok());
    }

    #[test]
    fn invalid_edits_are_an_error_not_a_panic() {
        assert!(matches!(
            validate(Language::Rust, "fn a() {}", &[TextEdit::replace(5..50, "")]),
            Err(ValidationError::Edit(_))
        ));
    }

    #[test]
    fn incremental_and_full_parses_agree() {
        let old = "def f(x):\n    return x\n\ndef g():\n    pass\n";
        let new = "def f(x):\n    return (x\n\ndef g():\n    pass\n";
        let edits = minimal_edits(old, new);
        let checked = validate(Language::Python, old, &edits).is_err();
        assert_eq!(
            checked,
            crate::syntax::has_new_errors(Language::Python, old, new)
        );
    }

    #[test]
    fn many_edits_on_many_lines_agree_with_a_full_parse() {
        let old = "fn a() {\n    let x = 1;\n    let y = 2;\n}\n\nfn b() -> u8 { 3 }\n";
        for new in [
            "fn a() {\n    let x = 10;\n    let yy = 2;\n}\n\nfn b() -> u8 { 4 }\n",
            "fn a() {\n    let x = (1;\n    let y = 2;\n}\n\nfn b() -> u8 { 4 }\n",
            "fn a() {\n    let x = 1;\n    let y = 2\n}\n\nfn b() -> u8 { 3 \n",
            "fn a() {\n    let é = 1;\n\n    let y = \"中\";\n}\n\nfn b() -> u8 { 3 }\n",
        ] {
            let edits = minimal_edits(old, new);
            assert!(edits.len() > 1, "{edits:?}");
            assert_eq!(
                validate(Language::Rust, old, &edits).is_err(),
                crate::syntax::has_new_errors(Language::Rust, old, new),
                "{new:?}"
            );
        }
    }
}
