//! Items hidden in Rust item-level macro invocations. Large crates wrap whole groups of items in
//! macros (`cfg_rt! { pub fn spawn(...) { ... } }`); tree-sitter sees only a token tree there,
//! so these items would be in neither the outline nor the index. The bodies of such invocations
//! (at item level, in braces) are parsed again as Rust items, in a copy of the file where every
//! byte outside the bodies is blanked (newlines kept), so that the items' byte offsets, lines and
//! columns are those of the file itself.

use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::symbol::{Symbol, SymbolKind};

/// Node kinds whose children are items.
const ITEM_LISTS: &[&str] = &["source_file", "declaration_list"];

/// An item-level macro body: the bytes inside its braces, and the `impl` or trait it sits in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MacroBody {
    /// The bytes between the braces.
    pub inner: Range<usize>,
    /// The name of the enclosing `impl` block's type or trait, if the invocation is in one.
    pub container: Option<String>,
}

/// The bodies of the item-level macro invocations with a braced token tree in `tree` (not inside
/// other macro invocations: those are found when the outer body is parsed).
pub(crate) fn macro_bodies(tree: &Tree, text: &str) -> Vec<MacroBody> {
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "macro_invocation" if ITEM_LISTS.contains(&node.kind()) => {
                    if let Some(body) = braced_body(child, text) {
                        out.push(MacroBody {
                            inner: body,
                            container: container_of(node, text),
                        });
                    }
                }
                // Items that hold items: modules and `impl` and trait blocks.
                "mod_item" | "impl_item" | "trait_item" => {
                    if let Some(body) = child.child_by_field_name("body") {
                        stack.push(body);
                    }
                }
                _ => {}
            }
        }
    }
    out.sort_by_key(|b| b.inner.start);
    out
}

/// The bytes inside the braces of a macro invocation's token tree (`name! { ... }`).
fn braced_body(invocation: Node<'_>, text: &str) -> Option<Range<usize>> {
    let mut cursor = invocation.walk();
    let tree = invocation
        .named_children(&mut cursor)
        .find(|c| c.kind() == "token_tree")?;
    let range = tree.byte_range();
    let bytes = text.as_bytes();
    (range.len() >= 2
        && bytes.get(range.start) == Some(&b'{')
        && bytes.get(range.end - 1) == Some(&b'}'))
    .then(|| range.start + 1..range.end - 1)
}

/// The type or trait an `impl` or trait block names, for a declaration list in one.
fn container_of(list: Node<'_>, text: &str) -> Option<String> {
    if list.kind() != "declaration_list" {
        return None;
    }
    let owner = list.parent()?;
    let name = match owner.kind() {
        "impl_item" => owner.child_by_field_name("type")?,
        "trait_item" => owner.child_by_field_name("name")?,
        _ => return None,
    };
    let mut name = text.get(name.byte_range())?.to_string();
    if let Some(generic) = name.find('<') {
        name.truncate(generic);
    }
    Some(name)
}

/// `text` with every byte outside `bodies` blanked to a space (line breaks kept): the same length,
/// lines and columns, with only the bodies' items left to parse.
pub(crate) fn blank_outside(text: &str, bodies: &[MacroBody]) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    let blank = |out: &mut Vec<u8>, range: Range<usize>| {
        out.extend(
            text.as_bytes()[range]
                .iter()
                .map(|&b| if b == b'\n' { b'\n' } else { b' ' }),
        );
    };
    for body in bodies {
        if body.inner.start < at || body.inner.end > text.len() {
            continue;
        }
        blank(&mut out, at..body.inner.start);
        out.extend_from_slice(&text.as_bytes()[body.inner.clone()]);
        at = body.inner.end;
    }
    blank(&mut out, at..text.len());
    // Bodies start and end next to ASCII braces, so only whole characters were copied.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Merges the symbols found in macro bodies into the file's own, in document order (by start,
/// outer before inner), with `parent` indices renumbered. A body's top-level symbols take the
/// `impl` or trait the invocation sits in as their container (functions there become methods).
pub(crate) fn merge_symbols(
    own: Vec<Symbol>,
    mut found: Vec<Symbol>,
    bodies: &[MacroBody],
) -> Vec<Symbol> {
    for symbol in &mut found {
        if symbol.container.is_some() {
            continue;
        }
        let body = bodies.iter().find(|b| {
            b.inner.start <= symbol.byte_range.start && symbol.byte_range.end <= b.inner.end
        });
        if let Some(container) = body.and_then(|b| b.container.clone()) {
            symbol.container = Some(container);
            if symbol.kind == SymbolKind::Function {
                symbol.kind = SymbolKind::Method;
            }
        }
    }
    let own_len = own.len();
    let mut all: Vec<(usize, Symbol)> = own.into_iter().chain(found).enumerate().collect();
    all.sort_by(|(i, a), (j, b)| {
        (a.byte_range.start, std::cmp::Reverse(a.byte_range.end), *i).cmp(&(
            b.byte_range.start,
            std::cmp::Reverse(b.byte_range.end),
            *j,
        ))
    });
    let mut new_index = vec![0; all.len()];
    for (position, (old, _)) in all.iter().enumerate() {
        new_index[*old] = position;
    }
    all.into_iter()
        .map(|(old, mut symbol)| {
            // A found symbol's parent is an index into the found list.
            let offset = if old < own_len { 0 } else { own_len };
            symbol.parent = symbol.parent.map(|p| new_index[p + offset]);
            symbol
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::outline::document_symbols;
    use super::super::{ChunkOptions, Language, outline};
    use super::*;

    const TEXT: &str = "\
macro_rules! cfg_rt { ($($item:item)*) => { $($item)* } }

cfg_rt! {
    /// Spawns a task.
    pub fn spawn_task(id: u64) -> Handle {
        Handle(id)
    }

    cfg_coop! {
        pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> { Poll::Pending }
    }
}

pub struct Handle(u64);

impl Handle {
    cfg_rt! {
        pub fn block_on(&self) -> u64 { self.0 }
    }
}
";

    #[test]
    fn items_inside_item_level_macros_are_symbols_with_their_own_offsets() {
        let symbols = document_symbols(Language::Rust, TEXT);
        let spawn = symbols.iter().find(|s| s.name == "spawn_task").unwrap();
        assert_eq!(spawn.kind, SymbolKind::Function);
        assert_eq!(spawn.signature, "pub fn spawn_task(id: u64) -> Handle");
        assert_eq!(spawn.doc.as_deref(), Some("Spawns a task."));
        assert_eq!(&TEXT[spawn.name_range.clone()], "spawn_task");
        assert_eq!(spawn.start_line, 4);
        assert_eq!(spawn.start_column, 4);
        // Nested invocations are parsed too.
        let poll = symbols.iter().find(|s| s.name == "poll_proceed").unwrap();
        assert_eq!(&TEXT[poll.name_range.clone()], "poll_proceed");
        assert_eq!(poll.start_line, 9);
        // In an impl block, a function is a method of the impl's type.
        let block_on = symbols.iter().find(|s| s.name == "block_on").unwrap();
        assert_eq!(block_on.kind, SymbolKind::Method);
        assert_eq!(block_on.container.as_deref(), Some("Handle"));
        // Document order holds, and parents point at enclosing symbols.
        assert!(
            symbols
                .windows(2)
                .all(|w| w[0].byte_range.start <= w[1].byte_range.start)
        );
        for s in &symbols {
            if let Some(p) = s.parent {
                let outer = &symbols[p].byte_range;
                assert!(outer.start <= s.byte_range.start && s.byte_range.end <= outer.end);
            }
        }
    }

    #[test]
    fn the_index_gets_them_through_the_outline() {
        let outline = outline(Language::Rust, TEXT, &ChunkOptions::default());
        let names: Vec<&str> = outline.symbols.iter().map(|s| s.name.as_str()).collect();
        assert!(names.contains(&"spawn_task"), "{names:?}");
        assert!(names.contains(&"poll_proceed"), "{names:?}");
    }

    #[test]
    fn blanking_keeps_lengths_lines_and_characters() {
        let text = "é! { fn a() {} }\nx";
        let bodies = [MacroBody {
            inner: 5..15,
            container: None,
        }];
        let blanked = blank_outside(text, &bodies);
        assert_eq!(blanked.len(), text.len());
        assert_eq!(&blanked[5..15], &text[5..15]);
        assert!(blanked.ends_with("\n "));
    }
}
