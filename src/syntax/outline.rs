//! Symbols and imports of a file, extracted with the per-language queries.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, QueryCursor, StreamingIterator, Tree};

use super::c_view::{merge_view_symbols, preprocessor_view};
use super::chunk::{Chunk, ChunkOptions, chunks_in};
use super::macro_items::{blank_outside, macro_bodies, merge_symbols};
use super::parse::{error_count_in, parse};
use super::symbol::{Symbol, SymbolKind};
use super::symbol::{inclusive_end_row, slice};
use super::{Language, queries};

/// An import (a `use`, `import`, `#include`, `require`, ...) of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// The statement, whitespace collapsed.
    pub text: String,
    /// Its bytes.
    pub byte_range: Range<usize>,
    /// Its first line, 0-based.
    pub line: usize,
}

/// Everything extracted from one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outline {
    /// Symbols in document order (by start, outer before inner).
    pub symbols: Vec<Symbol>,
    /// Imports in document order.
    pub imports: Vec<Import>,
    /// Retrieval chunks in document order.
    pub chunks: Vec<Chunk>,
    /// The number of syntax errors (`ERROR` and `MISSING` nodes).
    pub syntax_errors: usize,
}

/// Parses `text` and extracts its symbols, imports and chunks.
pub fn outline(language: Language, text: &str, options: &ChunkOptions) -> Outline {
    let Some(tree) = parse(language, text) else {
        return Outline::default();
    };
    outline_of_tree(language, &tree, text, options)
}

/// The outline of `text` from its already parsed `tree`.
pub fn outline_of_tree(
    language: Language,
    tree: &Tree,
    text: &str,
    options: &ChunkOptions,
) -> Outline {
    let (symbols, imports) = symbols_in(language, tree, text);
    let chunks = chunks_in(tree, text, &symbols, options);
    Outline {
        symbols,
        imports,
        chunks,
        syntax_errors: error_count_in(tree.root_node()),
    }
}

/// The symbols of a document, straight from tree-sitter (for `textDocument/documentSymbol`).
pub fn document_symbols(language: Language, text: &str) -> Vec<Symbol> {
    parse(language, text)
        .map(|tree| symbols_in(language, &tree, text).0)
        .unwrap_or_default()
}

/// The symbols of the top-level definition (or statement) that holds `range`, from an already
/// parsed `tree`: all that is needed to know what encloses a cursor, without extracting every
/// symbol of a large file. Empty when nothing holds the range.
///
/// ```
/// use augur::syntax::{Language, parse, symbols_around};
/// let text = "def a():\n    pass\n\nclass B:\n    def c(self):\n        return 1\n";
/// let tree = parse(Language::Python, text).unwrap();
/// let cursor = text.find("return").unwrap();
/// let names: Vec<String> = symbols_around(Language::Python, &tree, text, cursor..cursor)
///     .into_iter()
///     .map(|s| s.name)
///     .collect();
/// assert_eq!(names, ["B", "c"]);
/// ```
pub fn symbols_around(
    language: Language,
    tree: &Tree,
    text: &str,
    range: std::ops::Range<usize>,
) -> Vec<Symbol> {
    let root = tree.root_node();
    let Some(mut node) = root.descendant_for_byte_range(range.start, range.end) else {
        return Vec::new();
    };
    if node == root {
        return Vec::new();
    }
    while let Some(parent) = node.parent() {
        if parent == root {
            break;
        }
        node = parent;
    }
    // Decorators and attributes before the definition belong to it in some grammars' queries:
    // start from the previous sibling's end so they are seen.
    let start = node.prev_sibling().map_or(0, |p| p.end_byte());
    symbols_in_range(language, tree, text, Some(start..node.end_byte())).0
}

/// A definition found by the query, before kinds are settled and containers resolved.
struct RawDef<'t> {
    node: Node<'t>,
    name: Node<'t>,
    /// `None` for a container that is not itself a symbol (a Rust `impl` block).
    kind: Option<SymbolKind>,
    pattern: usize,
}

/// The most matches one file may produce; a guard against pathological input.
const MATCH_LIMIT: u32 = 1 << 16;

/// The symbols and imports that the query finds in `tree` alone, without the items hidden in
/// Rust macro invocations or behind C preprocessor conditionals.
#[cfg(test)]
pub(crate) fn symbols_in_plain(
    language: Language,
    tree: &Tree,
    text: &str,
) -> (Vec<Symbol>, Vec<Import>) {
    symbols_in_range(language, tree, text, None)
}

/// Extracts symbols and imports from a parsed file.
pub(crate) fn symbols_in(
    language: Language,
    tree: &Tree,
    text: &str,
) -> (Vec<Symbol>, Vec<Import>) {
    let (symbols, imports) = symbols_in_range(language, tree, text, None);
    match language {
        Language::Rust => (with_macro_items(tree, text, symbols, 0), imports),
        Language::C | Language::Cpp => (with_preprocessor_view(language, text, symbols), imports),
        _ => (symbols, imports),
    }
}

/// `symbols` with the definitions that the file's preprocessor conditionals and export macros
/// hide from tree-sitter added, from a parse of the file's preprocessor view (C and C++).
fn with_preprocessor_view(language: Language, text: &str, symbols: Vec<Symbol>) -> Vec<Symbol> {
    let Some(view) = preprocessor_view(language, text) else {
        return symbols;
    };
    let Some(view_tree) = parse(language, &view) else {
        return symbols;
    };
    // The view has the file's offsets, so its tree is read against the file's own text:
    // signatures and doc comments show what the file says, export macros included.
    let (found, _) = symbols_in_range(language, &view_tree, text, None);
    merge_view_symbols(found, symbols)
}

/// How deep item-level macro invocations are followed into each other.
const MACRO_DEPTH: usize = 4;

/// `symbols` with the items of the file's item-level macro invocations added (Rust).
fn with_macro_items(tree: &Tree, text: &str, symbols: Vec<Symbol>, depth: usize) -> Vec<Symbol> {
    if depth >= MACRO_DEPTH {
        return symbols;
    }
    let bodies = macro_bodies(tree, text);
    if bodies.is_empty() {
        return symbols;
    }
    let blanked = blank_outside(text, &bodies);
    let Some(inner_tree) = parse(Language::Rust, &blanked) else {
        return symbols;
    };
    let (found, _) = symbols_in_range(Language::Rust, &inner_tree, &blanked, None);
    let found = with_macro_items(&inner_tree, &blanked, found, depth + 1);
    merge_symbols(symbols, found, &bodies)
}

/// Like [`symbols_in`], for the matches within `range` only (the whole file with `None`).
fn symbols_in_range(
    language: Language,
    tree: &Tree,
    text: &str,
    range: Option<std::ops::Range<usize>>,
) -> (Vec<Symbol>, Vec<Import>) {
    let Some(query) = queries::query(language) else {
        return (Vec::new(), Vec::new());
    };
    let names = query.capture_names();
    let mut defs: Vec<RawDef<'_>> = Vec::new();
    let mut imports = Vec::new();
    let mut cursor = QueryCursor::new();
    cursor.set_match_limit(MATCH_LIMIT);
    if let Some(range) = range {
        cursor.set_byte_range(range);
    }
    let mut matches = cursor.matches(query, tree.root_node(), text.as_bytes());
    while let Some(m) = matches.next() {
        let mut def: Option<(Node<'_>, Option<SymbolKind>)> = None;
        let mut name = None;
        for capture in m.captures() {
            let capture_name = names[capture.index as usize];
            if capture_name == "name" {
                name = Some(capture.node);
            } else if capture_name == "import" {
                let range = capture.node.byte_range();
                imports.push(Import {
                    text: collapse_whitespace(slice(text, range.clone()), 300),
                    byte_range: range,
                    line: capture.node.start_position().row,
                });
            } else if let Some(kind) = capture_name.strip_prefix("definition.") {
                def = Some((capture.node, SymbolKind::parse(kind)));
            }
        }
        if let (Some((node, kind)), Some(name)) = (def, name) {
            defs.push(RawDef {
                node,
                name,
                kind,
                pattern: m.pattern_index,
            });
        }
    }
    imports.sort_by_key(|i| i.byte_range.start);
    imports.dedup_by_key(|i| i.byte_range.clone());

    // Outer definitions first; among captures of one node by several patterns the first wins.
    defs.sort_by(|a, b| {
        (
            a.node.start_byte(),
            std::cmp::Reverse(a.node.end_byte()),
            a.name.start_byte(),
            a.pattern,
        )
            .cmp(&(
                b.node.start_byte(),
                std::cmp::Reverse(b.node.end_byte()),
                b.name.start_byte(),
                b.pattern,
            ))
    });
    defs.dedup_by(|b, a| {
        a.node.byte_range() == b.node.byte_range() && a.name.byte_range() == b.name.byte_range()
    });

    let mut symbols = Vec::with_capacity(defs.len());
    // A stack of (definition index, symbol index) of the definitions enclosing the current one.
    let mut stack: Vec<(usize, Option<usize>)> = Vec::new();
    let mut def_names: Vec<String> = Vec::with_capacity(defs.len());
    for (i, def) in defs.iter().enumerate() {
        let range = def.node.byte_range();
        while let Some(&(top, _)) = stack.last() {
            let outer = defs[top].node.byte_range();
            if outer.start <= range.start && range.end <= outer.end {
                break;
            }
            stack.pop();
        }
        let mut name = collapse_whitespace(slice(text, def.name.byte_range()), 200);
        if def.kind.is_none() {
            // An `impl Foo<T>` names its members' container `Foo`.
            if let Some(generic) = name.find('<') {
                name.truncate(generic);
            }
        }
        def_names.push(name.clone());
        let enclosing = stack.last().copied();
        let container = enclosing.map(|(d, _)| def_names[d].clone());
        let parent = enclosing.and_then(|(_, s)| s);
        let Some(mut kind) = def.kind else {
            stack.push((i, None));
            continue;
        };
        let in_type =
            enclosing.is_some_and(|(d, _)| defs[d].kind.is_none_or(SymbolKind::holds_methods));
        if kind == SymbolKind::Function && in_type {
            kind = SymbolKind::Method;
        } else if kind == SymbolKind::Method && language == Language::Ruby && !in_type {
            kind = SymbolKind::Function;
        }
        let start = def.node.start_position();
        let end = def.node.end_position();
        let name_start = def.name.start_position();
        symbols.push(Symbol {
            name,
            kind,
            byte_range: range,
            name_range: def.name.byte_range(),
            start_line: start.row,
            end_line: inclusive_end_row(start.row, end.row, end.column),
            start_column: start.column,
            name_line: name_start.row,
            name_column: name_start.column,
            signature: signature(language, def.node, text),
            doc: doc_of(language, def.node, text),
            container,
            parent,
        });
        stack.push((i, Some(symbols.len() - 1)));
    }
    (symbols, imports)
}

/// Collapses runs of whitespace to one space, trims, and caps the length at `max` bytes (on a
/// character boundary).
fn collapse_whitespace(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() >= max {
            break;
        }
    }
    truncate_on_char_boundary(&mut out, max);
    out
}

fn truncate_on_char_boundary(text: &mut String, max: usize) {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
}

/// The signature of a definition: its text up to the body, or its first line.
fn signature(language: Language, node: Node<'_>, text: &str) -> String {
    let start = node.start_byte();
    let end = match node.child_by_field_name("body") {
        Some(body) if body.start_byte() > start => body.start_byte(),
        _ => {
            let whole = slice(text, node.byte_range());
            start + whole.find('\n').unwrap_or(whole.len())
        }
    };
    let mut signature = collapse_whitespace(slice(text, start..end), 300);
    let trailing: &[char] = if language == Language::Python {
        &[' ', '{']
    } else {
        &[' ', '{', ':']
    };
    let trimmed = signature.trim_end_matches(trailing).len();
    signature.truncate(trimmed);
    signature
}

/// Node kinds that wrap a definition (the doc comment precedes the wrapper).
fn wrappers(language: Language) -> &'static [&'static str] {
    match language {
        Language::JavaScript | Language::TypeScript | Language::Tsx => &["export_statement"],
        Language::Python => &["decorated_definition"],
        Language::Cpp => &["template_declaration"],
        _ => &[],
    }
}

/// Node kinds allowed between a doc comment and its definition (attributes, decorators).
const BETWEEN_DOC_AND_ITEM: &[&str] = &[
    "attribute_item",
    "decorator",
    "annotation",
    "marker_annotation",
    "attribute_list",
];

/// The doc comment of a definition: a Python docstring, or the comments right above it.
fn doc_of(language: Language, node: Node<'_>, text: &str) -> Option<String> {
    if language == Language::Python
        && let Some(doc) = python_docstring(node, text)
    {
        return Some(doc);
    }
    let mut item = node;
    while let Some(parent) = item.parent() {
        if wrappers(language).contains(&parent.kind()) {
            item = parent;
        } else {
            break;
        }
    }
    let mut comments = Vec::new();
    let mut next_row = item.start_position().row;
    let mut current = item;
    while let Some(previous) = current.prev_named_sibling() {
        let kind = previous.kind();
        if kind.contains("comment") {
            let starts_line = text
                .get(..previous.start_byte())
                .map(|before| before.rsplit('\n').next().unwrap_or("").trim().is_empty())
                .unwrap_or(false);
            let apart = previous.end_position().row + 1 < next_row
                && !only_directives_between(language, text, previous.end_byte(), current);
            if apart || !starts_line {
                break;
            }
            comments.push(previous);
        } else if !BETWEEN_DOC_AND_ITEM.contains(&kind) {
            break;
        }
        next_row = previous.start_position().row;
        current = previous;
    }
    if comments.is_empty() {
        return None;
    }
    let mut doc = String::new();
    for comment in comments.iter().rev() {
        for line in slice(text, comment.byte_range()).lines() {
            let cleaned = clean_comment_line(line);
            if !doc.is_empty() {
                doc.push('\n');
            }
            doc.push_str(cleaned);
        }
    }
    let mut doc = doc.trim().to_string();
    truncate_on_char_boundary(&mut doc, 2000);
    (!doc.is_empty()).then_some(doc)
}

/// Whether the lines between a comment that ends at `end` and the node `next` are all
/// preprocessor directives (C and C++: `/* Picks. */ #ifdef FAST int pick(...)`, where the
/// preprocessor view parses the definition with the directive blanked).
fn only_directives_between(language: Language, text: &str, end: usize, next: Node<'_>) -> bool {
    if !matches!(language, Language::C | Language::Cpp) {
        return false;
    }
    let between = slice(text, end..next.start_byte());
    let mut lines = between.split('\n');
    // The rest of the comment's line and the start of the node's line are not whole lines.
    lines.next();
    lines.next_back();
    let mut any = false;
    for line in lines {
        if !line.trim_start().starts_with('#') {
            return false;
        }
        any = true;
    }
    any
}

/// A comment line without its markers (`///`, `//`, `/**`, `*/`, `*`, `#`, `--`).
fn clean_comment_line(line: &str) -> &str {
    let mut line = line.trim();
    for suffix in ["*/", "]]"] {
        line = line.strip_suffix(suffix).unwrap_or(line).trim_end();
    }
    for prefix in [
        "///", "//!", "//", "/**", "/*!", "/*", "*", "#", "--[[", "--", ";",
    ] {
        if let Some(rest) = line.strip_prefix(prefix) {
            line = rest;
            break;
        }
    }
    line.strip_prefix(' ').unwrap_or(line).trim_end()
}

/// The docstring of a Python function or class: the string that opens its body.
fn python_docstring(node: Node<'_>, text: &str) -> Option<String> {
    let body = node.child_by_field_name("body")?;
    let first = body.named_child(0)?;
    if first.kind() != "expression_statement" {
        return None;
    }
    let string = first.named_child(0)?;
    if string.kind() != "string" {
        return None;
    }
    let raw = slice(text, string.byte_range());
    let raw = raw.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let inner = ["\"\"\"", "'''", "\"", "'"]
        .iter()
        .find_map(|q| raw.strip_prefix(q).and_then(|r| r.strip_suffix(q)))
        .unwrap_or(raw);
    let lines: Vec<&str> = inner.lines().map(str::trim).collect();
    let mut doc = lines.join("\n").trim().to_string();
    truncate_on_char_boundary(&mut doc, 2000);
    (!doc.is_empty()).then_some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse() {
        for kind in SymbolKind::ALL {
            assert_eq!(SymbolKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(SymbolKind::parse("fn"), Some(SymbolKind::Function));
        assert_eq!(SymbolKind::parse("nope"), None);
    }

    #[test]
    fn rust_methods_get_their_impl_as_container() {
        let text = "struct Foo;\nimpl<T> Foo<T> {\n    /// Makes one.\n    #[inline]\n    pub fn new() -> Self { Foo }\n}\n";
        let symbols = document_symbols(Language::Rust, text);
        let new = symbols.iter().find(|s| s.name == "new").unwrap();
        assert_eq!(new.kind, SymbolKind::Method);
        assert_eq!(new.container.as_deref(), Some("Foo"));
        assert_eq!(new.doc.as_deref(), Some("Makes one."));
        assert_eq!(new.signature, "pub fn new() -> Self");
        assert_eq!((new.start_line, new.end_line), (4, 4));
    }

    #[test]
    fn python_docstrings_and_methods() {
        let text = "class A:\n    \"\"\"An A.\"\"\"\n    def go(self, x):\n        '''Goes.'''\n        return x\n";
        let symbols = document_symbols(Language::Python, text);
        assert_eq!(symbols[0].doc.as_deref(), Some("An A."));
        assert_eq!(symbols[1].kind, SymbolKind::Method);
        assert_eq!(symbols[1].signature, "def go(self, x):");
        assert_eq!(symbols[1].parent, Some(0));
    }

    #[test]
    fn trailing_comments_are_not_docs() {
        let text = "let x = 1; // not a doc\nfunction f() {}\n";
        let symbols = document_symbols(Language::JavaScript, text);
        assert_eq!(symbols[0].doc, None);
    }
}
