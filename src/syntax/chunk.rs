//! Syntax-aware chunks for retrieval.
//!
//! A chunk is a run of sibling syntax nodes (a function, a class body, a block of top-level items)
//! whose text stays under a size cap. A node larger than the cap is split among its children, so
//! chunks always start and end at node boundaries and never cut a token; a single token larger
//! than the cap (a huge string literal) becomes a chunk of its own.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, Tree};

use super::symbol::{Symbol, inclusive_end_row, slice};

/// How files are cut into chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkOptions {
    /// The size cap of a chunk in bytes (exceeded only by a single token larger than it).
    pub max_bytes: usize,
    /// A chunk smaller than this is merged into the chunk before it when the merged chunk fits
    /// under `max_bytes`.
    pub min_bytes: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self {
            max_bytes: 1536,
            min_bytes: 48,
        }
    }
}

/// A piece of a file for retrieval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// Its bytes in the file.
    pub byte_range: Range<usize>,
    /// Its first line, 0-based.
    pub start_line: usize,
    /// Its last line, 0-based and inclusive.
    pub end_line: usize,
    /// The name of the innermost symbol that contains the whole chunk, if any.
    pub symbol: Option<String>,
}

impl Chunk {
    /// The chunk's text in the file it was cut from (empty if `text` is another file).
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        slice(text, self.byte_range.clone())
    }
}

/// A chunk being grown: bytes and rows.
struct Span {
    bytes: Range<usize>,
    start_row: usize,
    end_row: usize,
    end_column: usize,
    /// The trailing run of comments (likely the doc comment of what follows): where it starts, and
    /// where the span ended before it.
    comment_tail: Option<CommentTail>,
}

#[derive(Clone, Copy)]
struct CommentTail {
    start_byte: usize,
    start_row: usize,
    /// The end (byte, row, column) of the span before the comments; `None` if the span is only
    /// comments.
    before: Option<(usize, usize, usize)>,
}

impl Span {
    fn new(node: Node<'_>) -> Span {
        let start = node.start_position();
        let end = node.end_position();
        let comment_tail = is_comment(node).then_some(CommentTail {
            start_byte: node.start_byte(),
            start_row: start.row,
            before: None,
        });
        Span {
            bytes: node.byte_range(),
            start_row: start.row,
            end_row: end.row,
            end_column: end.column,
            comment_tail,
        }
    }

    fn extend(&mut self, node: Node<'_>) {
        if is_comment(node) {
            if self.comment_tail.is_none() {
                self.comment_tail = Some(CommentTail {
                    start_byte: node.start_byte(),
                    start_row: node.start_position().row,
                    before: Some((self.bytes.end, self.end_row, self.end_column)),
                });
            }
        } else {
            self.comment_tail = None;
        }
        let end = node.end_position();
        self.bytes.end = self.bytes.end.max(node.end_byte());
        self.end_row = end.row;
        self.end_column = end.column;
    }

    /// Splits off the trailing comments as the start of a new span.
    fn split_comment_tail(mut self) -> (Option<Span>, Option<Span>) {
        match self.comment_tail.take() {
            Some(CommentTail {
                start_byte,
                start_row,
                before: Some((end, end_row, end_column)),
            }) => {
                let tail = Span {
                    bytes: start_byte..self.bytes.end,
                    start_row,
                    end_row: self.end_row,
                    end_column: self.end_column,
                    comment_tail: None,
                };
                self.bytes.end = end;
                self.end_row = end_row;
                self.end_column = end_column;
                (Some(self), Some(tail))
            }
            _ => (Some(self), None),
        }
    }
}

fn is_comment(node: Node<'_>) -> bool {
    node.kind().contains("comment")
}

/// Cuts a parsed file into chunks; `symbols` (from the same tree) name the chunks.
pub fn chunks_in(
    tree: &Tree,
    text: &str,
    symbols: &[Symbol],
    options: &ChunkOptions,
) -> Vec<Chunk> {
    let max = options.max_bytes.max(1);
    let root = tree.root_node();
    let mut spans: Vec<Span> = Vec::new();
    let mut current: Option<Span> = None;
    let mut cursor = root.walk();
    // Where the chunks of the oversized nodes being split began, outermost first.
    let mut splitting: Vec<usize> = Vec::new();
    if cursor.goto_first_child() {
        // An iterative walk: deeply nested input must not overflow the stack.
        'walk: loop {
            let node = cursor.node();
            let size = node.end_byte() - node.start_byte();
            if size > max && node.child_count() > 0 && cursor.goto_first_child() {
                // A big item starts a chunk of its own (with the comments right above it),
                // unless the chunk being grown already started inside the item being split
                // (its header joins its first statements).
                let started_before = current.as_ref().is_some_and(|span| {
                    span.bytes.start < node.start_byte()
                        && splitting
                            .last()
                            .is_none_or(|&outer| span.bytes.start < outer)
                });
                if started_before && let Some(span) = current.take() {
                    let (done, tail) = span.split_comment_tail();
                    spans.extend(done);
                    current = tail;
                }
                let begins = current.as_ref().map_or(node.start_byte(), |span| {
                    span.bytes.start.min(node.start_byte())
                });
                splitting.push(begins);
                continue;
            }
            match current.as_mut() {
                Some(span) if node.end_byte().saturating_sub(span.bytes.start) <= max => {
                    span.extend(node);
                }
                _ => {
                    spans.extend(current.take());
                    current = Some(Span::new(node));
                }
            }
            loop {
                if cursor.goto_next_sibling() {
                    continue 'walk;
                }
                if !cursor.goto_parent() || cursor.depth() == 0 {
                    break 'walk;
                }
                splitting.pop();
            }
        }
    } else if root.end_byte() > root.start_byte() {
        current = Some(Span::new(root));
    }
    spans.extend(current);

    // Merge slivers (a lone closing brace) into the chunk before them, but only where the merged
    // chunk stays under the cap; a sliver that does not fit stays a chunk of its own.
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        if slice(text, span.bytes.clone()).trim().is_empty() {
            continue;
        }
        match merged.last_mut() {
            Some(last)
                if span.bytes.len() < options.min_bytes
                    && span.bytes.end - last.bytes.start <= max =>
            {
                last.bytes.end = span.bytes.end;
                last.end_row = span.end_row;
                last.end_column = span.end_column;
            }
            _ => merged.push(span),
        }
    }

    merged
        .into_iter()
        .map(|span| {
            let symbol = symbols
                .iter()
                .filter(|s| {
                    s.byte_range.start <= span.bytes.start && span.bytes.end <= s.byte_range.end
                })
                .min_by_key(|s| s.byte_range.len())
                .map(|s| s.name.clone());
            Chunk {
                start_line: span.start_row,
                end_line: inclusive_end_row(span.start_row, span.end_row, span.end_column),
                byte_range: span.bytes,
                symbol,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{Language, outline};
    use super::*;

    #[test]
    fn big_functions_are_split_at_statements() {
        let body: String = (0..200)
            .map(|i| format!("    let value_{i} = compute({i});\n"))
            .collect();
        let text = format!("fn big() {{\n{body}}}\n\nfn small() {{}}\n");
        let options = ChunkOptions {
            max_bytes: 512,
            min_bytes: 48,
        };
        let out = outline(Language::Rust, &text, &options);
        assert!(out.chunks.len() > 10);
        for chunk in &out.chunks {
            let piece = chunk.text(&text);
            assert!(piece.len() <= 512, "{}", piece.len());
            // Every chunk starts at a token: never in the middle of an identifier.
            let before = text[..chunk.byte_range.start].chars().last();
            assert!(before.is_none_or(|c| !c.is_alphanumeric()), "{piece}");
        }
        assert_eq!(out.chunks[1].symbol.as_deref(), Some("big"));
        let covered: usize = out.chunks.iter().map(|c| c.byte_range.len()).sum();
        assert!(covered > text.len() * 9 / 10);
    }

    /// The text without any whitespace, to compare what chunks cover with the whole text.
    fn squeezed(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn a_sliver_is_merged_only_where_it_fits() {
        // The closing brace of `first` is a sliver after a chunk that fills the cap: merging it
        // back would exceed the cap, so it stays a chunk of its own.
        let body: String = (0..6).map(|i| format!("    let v{i} = {i};\n")).collect();
        let text = format!("fn first() {{\n{body}}}\n");
        // The header is a chunk of its own; the body up to the closing brace fills the cap.
        let max = text.find("\n}").unwrap() - text.find('{').unwrap() + 1;
        let options = ChunkOptions {
            max_bytes: max,
            min_bytes: 48,
        };
        let out = outline(Language::Rust, &text, &options);
        for chunk in &out.chunks {
            assert!(chunk.byte_range.len() <= max, "{:?}", out.chunks);
        }
        let pieces: String = out.chunks.iter().map(|c| c.text(&text)).collect();
        assert_eq!(squeezed(&pieces), squeezed(&text), "{:?}", out.chunks);
    }

    #[test]
    fn only_a_single_token_larger_than_the_cap_exceeds_it() {
        let content = "x".repeat(300);
        let text = format!(
            "fn before() {{ let a = 1; }}\nconst BIG: &str = \"{content}\";\nfn after() {{ let b = 2; }}\n"
        );
        let options = ChunkOptions {
            max_bytes: 100,
            min_bytes: 16,
        };
        let out = outline(Language::Rust, &text, &options);
        let over: Vec<&str> = out
            .chunks
            .iter()
            .map(|c| c.text(&text))
            .filter(|piece| piece.len() > 100)
            .collect();
        assert_eq!(over.len(), 1, "{:?}", out.chunks);
        assert!(over[0].trim_matches('"') == content, "{}", over[0]);
        let pieces: String = out.chunks.iter().map(|c| c.text(&text)).collect();
        assert_eq!(squeezed(&pieces), squeezed(&text), "{:?}", out.chunks);
    }

    #[test]
    fn empty_text_has_no_chunks() {
        assert!(
            outline(Language::Rust, "", &ChunkOptions::default())
                .chunks
                .is_empty()
        );
        assert!(
            outline(Language::Json, "  \n", &ChunkOptions::default())
                .chunks
                .is_empty()
        );
    }
}
