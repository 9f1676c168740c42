//! A prompt whose front stays the same while a person types. A model server such as llama.cpp
//! keeps the previous prompt's evaluated tokens and evaluates only what follows the first byte
//! that differs; a prompt whose context changes on a keystroke makes it read everything again.
//!
//! [`LayoutMemory`] keeps, per document, the context of the last prompt and where its prefix
//! started. The next prompt holds that context as it is (no retrieval at all) until it really
//! changes: an identifier near the cursor is complete that the held context was not retrieved
//! for, or the cursor moved to another scope. Then retrieval runs again, and the parts found
//! again keep their order ahead of the new ones (see `keep_order`), so the prompt changes as late
//! as it can.
//!
//! ```
//! use augur::completion::config::CompletionConfig;
//! use augur::completion::prompt::{LayoutMemory, LayoutSignature};
//! use ropey::Rope;
//!
//! let config = CompletionConfig::default();
//! let before = Rope::from_str("def total(items):\n    return sum(item.pri");
//! let after = Rope::from_str("def total(items):\n    return sum(item.pric");
//! // Typing on inside a name changes neither the scope nor the finished names.
//! let a = LayoutSignature::at(&before, before.len_bytes(), &config, None);
//! let b = LayoutSignature::at(&after, after.len_bytes(), &config, None);
//! assert_eq!(a, b);
//! let memory = LayoutMemory::default();
//! assert!(memory.plan("file:///a.py", &a).held.is_none());
//! ```

use std::path::{Path, PathBuf};

use ropey::Rope;
use rustc_hash::{FxHashMap, FxHashSet};

use super::identifiers::identifiers_nearest_last;
use super::window::{line_start, slice};
use super::{BuiltPrompt, MAX_QUERY_BYTES, PartKind, PromptPart, clamp_cursor};
use crate::completion::config::CompletionConfig;

/// How to lay out a prompt against the previous one of the same document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// Context parts to use as they are, in this order, without retrieval.
    pub held: Option<Vec<PromptPart>>,
    /// The context parts of the previous prompt: retrieval keeps those it finds again in this
    /// order, ahead of new ones.
    pub previous: Vec<PromptPart>,
    /// Where the previous prompt's prefix started: the prefix starts there while that fits.
    pub prefix_start: Option<usize>,
}

/// What the context of a prompt depends on, read from the document around the cursor: the scope
/// of the cursor and the names finished near it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutSignature {
    /// The line that opens the cursor's scope (the nearest line above with less indentation),
    /// with its line number; `None` at the top level.
    scope: Option<(usize, String)>,
    /// The identifiers near the cursor that are finished (not the one being typed).
    names: FxHashSet<String>,
    /// The settings the prompt is built with (budgets, format).
    config: CompletionConfig,
    /// The document's path.
    path: Option<PathBuf>,
}

impl LayoutSignature {
    /// The signature at `cursor` (a byte offset) of `rope`.
    pub fn at(
        rope: &Rope,
        cursor: usize,
        config: &CompletionConfig,
        path: Option<&Path>,
    ) -> LayoutSignature {
        let cursor = clamp_cursor(rope, cursor);
        let line = rope.byte_to_line(cursor);
        let query_start = line_start(rope, line.saturating_sub(config.query_lines))
            .max(cursor.saturating_sub(MAX_QUERY_BYTES));
        let query = slice(rope, query_start..cursor);
        // The name being typed is not finished: it grows with every keystroke.
        let finished = query.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
        LayoutSignature {
            scope: scope_of(rope, cursor),
            names: identifiers_nearest_last(finished).into_iter().collect(),
            config: config.clone(),
            path: path.map(Path::to_path_buf),
        }
    }
}

/// The nearest line above the cursor's line with less indentation than the text before the
/// cursor (its number and text): the header of the cursor's block. `None` at the top level.
fn scope_of(rope: &Rope, cursor: usize) -> Option<(usize, String)> {
    let line = rope.byte_to_line(cursor);
    let before = slice(rope, line_start(rope, line)..cursor);
    let indent = indentation(&before).unwrap_or(before.len());
    if indent == 0 {
        return None;
    }
    // A bounded look upwards: a block header further away than this is treated as the top level.
    (line.saturating_sub(SCOPE_LINES)..line)
        .rev()
        .find_map(|at| {
            let text = rope.line(at).to_string();
            let width = indentation(&text)?;
            (width < indent).then(|| (at, text.trim_end().to_string()))
        })
}

/// Lines above the cursor searched for the header of its scope.
const SCOPE_LINES: usize = 200;

/// The indentation width of a line (tabs count as one), or `None` for a blank line.
fn indentation(line: &str) -> Option<usize> {
    let body = line.trim_start_matches([' ', '\t']);
    (!body.trim().is_empty()).then(|| line.len() - body.len())
}

/// The retrieved parts of a refreshed prompt in an order that changes the prompt late: the parts
/// the previous prompt had stay in its order, then the new ones follow in their own order. When a
/// new part does not fit in `budget` tokens, previous parts that retrieval did not find again make
/// room, the last one first (the later a part, the less of the prompt its removal changes).
pub(super) fn keep_order(
    previous: &[PromptPart],
    found: Vec<PromptPart>,
    budget: usize,
) -> Vec<PromptPart> {
    let mut ordered: Vec<(PromptPart, bool)> = previous
        .iter()
        .map(|part| (part.clone(), found.contains(part)))
        .collect();
    let mut used: usize = ordered.iter().map(|(part, _)| part.tokens).sum();
    for part in found {
        if previous.contains(&part) {
            continue;
        }
        while used + part.tokens > budget {
            let Some(at) = ordered.iter().rposition(|(_, again)| !again) else {
                break;
            };
            used -= ordered.remove(at).0.tokens;
        }
        if used + part.tokens <= budget {
            used += part.tokens;
            ordered.push((part, true));
        }
    }
    ordered.into_iter().map(|(part, _)| part).collect()
}

/// What is kept of one document's last prompt.
#[derive(Debug, Clone)]
struct Held {
    signature: LayoutSignature,
    context: Vec<PromptPart>,
    prefix_start: usize,
}

/// The layout of the last prompt of each document, by document key.
#[derive(Debug, Default)]
pub struct LayoutMemory {
    documents: FxHashMap<String, Held>,
}

/// Documents whose layout is kept at most; beyond that the memory starts again.
const MAX_DOCUMENTS: usize = 256;

impl LayoutMemory {
    /// How to lay out the next prompt of document `key`, whose signature at the cursor is
    /// `signature`: hold the context when the scope, settings and path are the same and every
    /// finished name was seen by the held context's retrieval; otherwise retrieve again, keeping
    /// the previous order.
    pub fn plan(&self, key: &str, signature: &LayoutSignature) -> Layout {
        let Some(held) = self.documents.get(key) else {
            return Layout::default();
        };
        let same_setting =
            held.signature.config == signature.config && held.signature.path == signature.path;
        if !same_setting {
            return Layout::default();
        }
        let unchanged = held.signature.scope == signature.scope
            && signature.names.is_subset(&held.signature.names);
        Layout {
            held: unchanged.then(|| held.context.clone()),
            previous: if unchanged {
                Vec::new()
            } else {
                held.context.clone()
            },
            prefix_start: Some(held.prefix_start),
        }
    }

    /// Keeps the layout of a prompt built for document `key` at `signature`. Held context keeps
    /// the names it was retrieved for (and those seen since in the same scope).
    pub fn remember(&mut self, key: &str, mut signature: LayoutSignature, built: &BuiltPrompt) {
        let context: Vec<PromptPart> = built
            .parts
            .iter()
            .filter(|part| {
                matches!(
                    part.kind,
                    PartKind::Definition | PartKind::Similar | PartKind::OpenDocument
                )
            })
            .cloned()
            .collect();
        if let Some(old) = self.documents.get(key)
            && old.signature.scope == signature.scope
            && old.signature.config == signature.config
            && old.context == context
        {
            signature.names.extend(old.signature.names.iter().cloned());
        }
        if self.documents.len() >= MAX_DOCUMENTS && !self.documents.contains_key(key) {
            self.documents.clear();
        }
        self.documents.insert(
            key.to_string(),
            Held {
                signature,
                context,
                prefix_start: built.prefix_range.start,
            },
        );
    }

    /// Forgets a document (closed).
    pub fn forget(&mut self, key: &str) {
        self.documents.remove(key);
    }

    /// Forgets every document (the settings or the workspace changed).
    pub fn forget_all(&mut self) {
        self.documents.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(source: &str) -> PromptPart {
        PromptPart {
            kind: PartKind::Definition,
            source: source.into(),
            text: format!("// {source}\n"),
            tokens: 3,
        }
    }

    #[test]
    fn parts_found_again_keep_their_order_ahead_of_new_ones() {
        let previous = [part("a"), part("b"), part("c")];
        let sources = |parts: Vec<PromptPart>| -> Vec<String> {
            parts.into_iter().map(|p| p.source).collect()
        };
        // With room, "b" (not found again) stays where it was: the prompt changes only at its end.
        let found = vec![part("d"), part("c"), part("a")];
        assert_eq!(
            sources(keep_order(&previous, found, 12)),
            ["a", "b", "c", "d"]
        );
        // Without, "b" makes room.
        let found = vec![part("d"), part("c"), part("a")];
        assert_eq!(sources(keep_order(&previous, found, 9)), ["a", "c", "d"]);
    }

    #[test]
    fn the_scope_is_the_nearest_header_with_less_indentation() {
        let rope = Rope::from_str("class A:\n    def f(self):\n        x = 1\n        y\n");
        let at = rope.len_bytes() - 1;
        assert_eq!(scope_of(&rope, at), Some((1, "    def f(self):".into())));
        let rope = Rope::from_str("x = 1\ny");
        assert_eq!(scope_of(&rope, rope.len_bytes()), None);
    }
}
