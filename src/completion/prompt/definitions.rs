//! Definitions as a retrieval source: the index's definitions of the names near the cursor.

use std::path::Path;

use rustc_hash::FxHashMap;

use crate::completion::template::{self};
use crate::index::tokenizer::name_key;
use crate::index::{Hit, WorkspaceIndex};
use crate::syntax::{Language, SymbolKind};

use super::paths::is_excluded;
use super::window::slice;
use super::{Candidate, PartKind, PromptInput};

/// The source text of a definition the index found (from the open document if it is one, else
/// through the index, which reads the file once) when it is at most `max_bytes` long.
pub(super) fn definition_text(
    input: &PromptInput<'_>,
    index: &WorkspaceIndex,
    hit: &Hit,
    max_bytes: usize,
) -> Option<String> {
    let range = hit.byte_range.clone();
    if range.is_empty() || range.len() > max_bytes {
        return None;
    }
    if let Some(doc) = input.open_documents.iter().find(|d| d.path == hit.path) {
        return (range.end <= doc.rope.len_bytes()).then(|| slice(&doc.rope, range));
    }
    index
        .source_text(hit, max_bytes)
        .map(|text| text.to_string())
}

pub(super) fn definition_candidates(
    input: &PromptInput<'_>,
    current: Option<&Path>,
    names: &[String],
    comment_language: Option<Language>,
) -> Vec<Candidate> {
    let config = input.config;
    if names.is_empty() || config.max_definitions == 0 {
        return Vec::new();
    }
    let refs: Vec<&str> = names.iter().take(16).map(String::as_str).collect();
    // Each name's rank: the names nearest the cursor come first.
    let mut ranks: FxHashMap<String, usize> = FxHashMap::default();
    for (rank, name) in refs.iter().enumerate() {
        ranks.entry(name_key(name)).or_insert(rank);
    }
    let mut found: Vec<(usize, &WorkspaceIndex, Hit)> = Vec::new();
    for index in input.indexes {
        // The current file's definitions are left out by the query; a couple more than needed
        // make up for excluded files.
        let hits = match index.definitions_outside(&refs, current, config.max_definitions + 2) {
            Ok(hits) => hits,
            Err(error) => {
                tracing::debug!(%error, "definitions lookup failed; going on without");
                continue;
            }
        };
        for hit in hits {
            if current.is_some_and(|c| c == hit.path) || is_excluded(input.indexes, &hit.path) {
                continue;
            }
            let rank = ranks
                .get(&name_key(&hit.name))
                .copied()
                .unwrap_or(usize::MAX);
            found.push((rank, index, hit));
        }
    }
    // A stable sort: definitions of one name keep the index's order (best first).
    found.sort_by_key(|(rank, _, _)| *rank);
    // Only the definitions kept are given their text (which may mean reading a file).
    let mut out = Vec::new();
    for (_, index, hit) in found {
        if out.len() == config.max_definitions {
            break;
        }
        let mut body = String::new();
        if let Some(doc) = hit.doc.as_deref().filter(|d| !d.trim().is_empty()) {
            body.push_str(&template::comment(comment_language, doc.trim_end()));
        }
        // Small types and constants come whole (a struct's fields matter to the code that uses
        // it); functions and larger items by their signature.
        let whole = match hit.kind {
            Some(
                SymbolKind::Struct
                | SymbolKind::Enum
                | SymbolKind::Interface
                | SymbolKind::Type
                | SymbolKind::Constant,
            ) => definition_text(input, index, &hit, config.snippet_tokens.saturating_mul(3)),
            _ => None,
        };
        let signature = whole
            .or(hit.signature.clone())
            .unwrap_or(hit.snippet.clone());
        if signature.trim().is_empty() {
            continue;
        }
        body.push_str(signature.trim_end());
        body.push('\n');
        out.push(Candidate {
            kind: PartKind::Definition,
            source: hit.rel_path,
            path: hit.path,
            body,
        });
    }
    out
}
