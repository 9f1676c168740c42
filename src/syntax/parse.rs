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
        let tree = parser.parse(text, None);
        if tree.is_none() {
            // A parse that did not finish leaves the parser mid-way; reset it for the next call.
            parser.reset();
        }
        tree
    })
}

/// The number of `ERROR` and `MISSING` nodes under `node`.
pub fn error_count_in(node: Node<'_>) -> usize {
    if !node.has_error() {
        return 0;
    }
    let mut count = 0;
    let mut cursor = node.walk();
    // An iterative walk: deeply nested input must not overflow the stack.
    'walk: loop {
        let current = cursor.node();
        if current.is_error() || current.is_missing() {
            count += 1;
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
    count
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
