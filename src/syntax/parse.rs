//! Parsing with a per-thread pool of tree-sitter parsers, and syntax-error counting.
//!
//! ```
//! use augur::syntax::{parse, syntax_error_count, has_new_errors, Language};
//!
//! let tree = parse(Language::Rust, "fn main() {}").unwrap();
//! assert_eq!(tree.root_node().kind(), "source_file");
//! assert_eq!(syntax_error_count(Language::Rust, "fn main() {}"), 0);
//! assert!(has_new_errors(Language::Rust, "fn a() {}", "fn a() {"));
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::ControlFlow;

use tree_sitter::{Node, Parser, Tree};

use super::Language;

thread_local! {
    /// One parser per language per thread: parsers are cheap to keep and costly to set up.
    static PARSERS: RefCell<HashMap<Language, Parser>> = RefCell::new(HashMap::new());
}

/// Parses `text` as `language`.
///
/// Returns `None` only when the grammar cannot be loaded (which a unit test rules out for every
/// built-in grammar); syntax errors yield a tree with `ERROR` and `MISSING` nodes.
pub fn parse(language: Language, text: &str) -> Option<Tree> {
    parse_with_old(language, text, None)
}

/// Parses `text` again after edits: `old` is the previous tree with every edit already applied
/// to it ([`Tree::edit`], see [`input_edit`]), so only the changed regions are parsed anew.
///
/// ```
/// use augur::documents::TextEdit;
/// use augur::syntax::{Language, input_edit, parse, reparse};
///
/// let before = "fn a() {}\nfn b() {}\n";
/// let mut tree = parse(Language::Rust, before).unwrap();
/// let edit = TextEdit::insert(0, "// hi\n");
/// tree.edit(&input_edit(&ropey::Rope::from_str(before), &edit));
/// let after = "// hi\nfn a() {}\nfn b() {}\n";
/// let tree = reparse(Language::Rust, after, &tree).unwrap();
/// assert_eq!(tree.root_node().to_sexp(), parse(Language::Rust, after).unwrap().root_node().to_sexp());
/// ```
pub fn reparse(language: Language, text: &str, old: &Tree) -> Option<Tree> {
    parse_with_old(language, text, Some(old))
}

/// The tree-sitter edit that `edit` makes to `rope` (the text before the edit), for
/// [`Tree::edit`]. Rows are the rope's lines.
pub fn input_edit(rope: &ropey::Rope, edit: &crate::documents::TextEdit) -> tree_sitter::InputEdit {
    let len = rope.len_bytes();
    let point = |byte: usize| {
        let byte = byte.min(len);
        let row = rope.byte_to_line(byte);
        tree_sitter::Point::new(row, byte - rope.line_to_byte(row))
    };
    let start = point(edit.range.start);
    let new_end = match edit.new_text.rfind('\n') {
        Some(last) => tree_sitter::Point::new(
            start.row + edit.new_text.matches('\n').count(),
            edit.new_text.len() - last - 1,
        ),
        None => tree_sitter::Point::new(start.row, start.column + edit.new_text.len()),
    };
    tree_sitter::InputEdit {
        start_byte: edit.range.start,
        old_end_byte: edit.range.end,
        new_end_byte: edit.range.start + edit.new_text.len(),
        start_position: start,
        old_end_position: point(edit.range.end),
        new_end_position: new_end,
    }
}

/// Parses `new` incrementally from `old_tree`, the tree of `old`: the one changed stretch
/// between the texts (their common prefix and suffix left out) is marked as edited, so tree-sitter
/// reuses every subtree outside it. For re-indexing a file that changed a little since its last
/// parse, without the editor's own edits at hand.
///
/// ```
/// use augur::syntax::{Language, parse, reparse_changed};
/// let old = "fn a() {}\nfn b() {}\n";
/// let new = "fn a() {}\nfn bb(x: u8) {}\n";
/// let tree = parse(Language::Rust, old).unwrap();
/// let again = reparse_changed(Language::Rust, old, &tree, new).unwrap();
/// assert_eq!(again.root_node().to_sexp(), parse(Language::Rust, new).unwrap().root_node().to_sexp());
/// ```
pub fn reparse_changed(language: Language, old: &str, old_tree: &Tree, new: &str) -> Option<Tree> {
    let (old_bytes, new_bytes) = (old.as_bytes(), new.as_bytes());
    let prefix = old_bytes
        .iter()
        .zip(new_bytes)
        .take_while(|(a, b)| a == b)
        .count();
    let room = old_bytes.len().min(new_bytes.len()) - prefix;
    let suffix = old_bytes
        .iter()
        .rev()
        .zip(new_bytes.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    let point = |text: &[u8], byte: usize| {
        let row = memchr::memchr_iter(b'\n', &text[..byte]).count();
        let line_start = memchr::memrchr(b'\n', &text[..byte]).map_or(0, |i| i + 1);
        tree_sitter::Point::new(row, byte - line_start)
    };
    let start_position = point(new_bytes, prefix);
    let old_end = old_bytes.len() - suffix;
    let new_end = new_bytes.len() - suffix;
    let mut tree = old_tree.clone();
    tree.edit(&tree_sitter::InputEdit {
        start_byte: prefix,
        old_end_byte: old_end,
        new_end_byte: new_end,
        start_position,
        old_end_position: point(old_bytes, old_end),
        new_end_position: point(new_bytes, new_end),
    });
    reparse(language, new, &tree)
}

fn parse_with_old(language: Language, text: &str, old: Option<&Tree>) -> Option<Tree> {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let parser = match parsers.entry(language) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let mut parser = Parser::new();
                if let Err(error) = parser.set_language(&language.grammar()) {
                    tracing::error!(%language, %error, "cannot load the tree-sitter grammar");
                    return None;
                }
                v.insert(parser)
            }
        };
        let tree = parser.parse(text, old);
        if tree.is_none() {
            // A parse that did not finish leaves the parser mid-way; reset it for the next call.
            parser.reset();
        }
        tree
    })
}

/// The number of `ERROR` and `MISSING` nodes under `node`.
pub fn error_count_in(node: Node<'_>) -> usize {
    let mut count = 0;
    visit_error_nodes(node, |_| {
        count += 1;
        ControlFlow::Continue(())
    });
    count
}

/// Visits the `ERROR` and `MISSING` nodes under `node` in document order, until `visit` breaks.
/// Only subtrees that contain errors are entered, and the walk is iterative: deeply nested input
/// cannot overflow the stack.
pub fn visit_error_nodes<'t>(node: Node<'t>, mut visit: impl FnMut(Node<'t>) -> ControlFlow<()>) {
    if !node.has_error() {
        return;
    }
    let mut cursor = node.walk();
    'walk: loop {
        let current = cursor.node();
        if (current.is_error() || current.is_missing()) && visit(current).is_break() {
            return;
        }
        if current.has_error() && !current.is_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.depth() == 0 {
                break 'walk;
            }
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
}

/// The number of syntax errors (`ERROR` and `MISSING` nodes) in `text` parsed as `language`.
pub fn syntax_error_count(language: Language, text: &str) -> usize {
    parse(language, text)
        .map(|tree| error_count_in(tree.root_node()))
        .unwrap_or(0)
}

/// Whether `after` has more syntax errors than `before`: the check that completions and code
/// actions use to reject an edit that breaks the file.
pub fn has_new_errors(language: Language, before: &str, after: &str) -> bool {
    syntax_error_count(language, after) > syntax_error_count(language, before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_errors() {
        assert_eq!(
            syntax_error_count(Language::Python, "def f():\n    return 1\n"),
            0
        );
        assert!(syntax_error_count(Language::Python, "def f(:\n") > 0);
        assert!(syntax_error_count(Language::Json, "{\"a\": }") > 0);
        assert!(!has_new_errors(
            Language::Go,
            "package a\n",
            "package a\nfunc f() {}\n"
        ));
        assert!(has_new_errors(
            Language::Go,
            "package a\n",
            "package a\nfunc f( {}\n"
        ));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let text = "(".repeat(200_000);
        assert!(syntax_error_count(Language::JavaScript, &text) > 0);
    }
}
