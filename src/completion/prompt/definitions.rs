//! Definitions as a retrieval source: the index's definitions of the names near the cursor.

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use crate::completion::template::{self};
use crate::index::tokenizer::name_key;
use crate::index::{Hit, WorkspaceIndex};
use crate::syntax::{Language, SymbolKind};

use super::resolve::{callee_files, open_call, receiver_type};
use super::window::slice;
use super::{Candidate, ContextSources, PartKind, PromptInput};

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
    let sources = ContextSources::of(input, current);
    // The definitions the open call's qualifier and the file's imports lead to come first.
    let mut out = Vec::new();
    let mut taken: Vec<(std::path::PathBuf, usize)> = Vec::new();
    for (index, hit) in resolved_definitions(input, current) {
        if out.len() == config.max_definitions {
            break;
        }
        if input.policy.for_context(&hit.path).is_err() {
            continue;
        }
        taken.push((hit.path.clone(), hit.byte_range.start));
        if let Some(candidate) = candidate_of(input, index, hit, comment_language) {
            out.push(candidate);
        }
    }
    // The open call's callee has the next claim: its definitions are looked up on their own, so
    // that rarer names near the cursor do not crowd out a callee defined in several places.
    if out.is_empty()
        && let Some(callee) = open_callee(input)
    {
        for index in input.indexes {
            // More than needed, ordered by score, then path and position, then cut: definitions
            // that tie are not left to the order the index happened to store them in.
            let Ok(mut hits) =
                index.definitions_outside(&[callee.as_str()], current, CALLEE_HITS * 4)
            else {
                continue;
            };
            hits.sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then_with(|| a.rel_path.cmp(&b.rel_path))
                    .then(a.byte_range.start.cmp(&b.byte_range.start))
            });
            hits.truncate(CALLEE_HITS);
            for hit in hits {
                if out.len() == config.max_definitions || !sources.admits(&hit.path, hit.language) {
                    continue;
                }
                taken.push((hit.path.clone(), hit.byte_range.start));
                if let Some(candidate) = candidate_of(input, index, hit, comment_language) {
                    out.push(candidate);
                }
            }
        }
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
            if !sources.admits(&hit.path, hit.language) {
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
    // Ties go to the better score, then to the path and position, so the order never depends
    // on how the index laid its documents out.
    found.sort_by(|(ra, _, a), (rb, _, b)| {
        ra.cmp(rb)
            .then(b.score.total_cmp(&a.score))
            .then_with(|| a.rel_path.cmp(&b.rel_path))
            .then(a.byte_range.start.cmp(&b.byte_range.start))
    });
    // Only the definitions kept are given their text (which may mean reading a file).
    for (_, index, hit) in found {
        if out.len() == config.max_definitions {
            break;
        }
        if taken.contains(&(hit.path.clone(), hit.byte_range.start)) {
            continue;
        }
        if let Some(candidate) = candidate_of(input, index, hit, comment_language) {
            out.push(candidate);
        }
    }
    out
}

/// A definition as a context snippet: its doc comment, then its signature (small types and
/// constants whole).
fn candidate_of(
    input: &PromptInput<'_>,
    index: &WorkspaceIndex,
    hit: Hit,
    comment_language: Option<Language>,
) -> Option<Candidate> {
    let config = input.config;
    let mut body = String::new();
    if let Some(doc) = hit.doc.as_deref().filter(|d| !d.trim().is_empty()) {
        body.push_str(&template::comment(comment_language, &doc_summary(doc)));
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
        return None;
    }
    body.push_str(signature.trim_end());
    body.push('\n');
    Some(Candidate {
        kind: PartKind::Definition,
        source: hit.rel_path,
        path: hit.path,
        body,
    })
}

/// Lines of a doc comment shown at most.
const DOC_LINES: usize = 4;

/// Bytes of a doc comment shown at most.
const DOC_BYTES: usize = 320;

/// The start of a doc comment: its first paragraph, at most a few lines, so that the
/// definitions the cursor needs share the context budget instead of one long doc taking it.
pub(super) fn doc_summary(doc: &str) -> String {
    let mut out = String::new();
    for line in doc.trim().lines().take(DOC_LINES) {
        if line.trim().is_empty() {
            break;
        }
        if out.len() + line.len() > DOC_BYTES {
            if out.is_empty() {
                let mut cut = DOC_BYTES.min(line.len());
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                out.push_str(&line[..cut]);
            }
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

/// Definitions of the open call's callee taken at most when its qualifier resolves to nothing.
const CALLEE_HITS: usize = 2;

/// The name of the callee of the call the cursor is in, if any.
fn open_callee(input: &PromptInput<'_>) -> Option<String> {
    let cursor = super::clamp_cursor(input.rope, input.cursor);
    let before = slice(
        input.rope,
        super::clamp_cursor(input.rope, cursor.saturating_sub(2048))..cursor,
    );
    open_call(&before).map(|call| call.name)
}

/// Bytes at the top of the document read for its imports and `use` declarations.
const IMPORT_BYTES: usize = 16 * 1024;

/// The definitions of the callee of the call the cursor is in, from the files its qualifier and
/// the file's imports resolve to (a type's own functions first when the qualifier is a type).
fn resolved_definitions<'a>(
    input: &PromptInput<'a>,
    current: Option<&Path>,
) -> Vec<(&'a WorkspaceIndex, Hit)> {
    let (Some(current), Some(language)) = (current, input.language) else {
        return Vec::new();
    };
    let cursor = super::clamp_cursor(input.rope, input.cursor);
    let before = slice(
        input.rope,
        super::clamp_cursor(input.rope, cursor.saturating_sub(2048))..cursor,
    );
    let Some(call) = open_call(&before) else {
        return Vec::new();
    };
    let head = slice(input.rope, 0..super::clamp_cursor(input.rope, IMPORT_BYTES));
    let roots: Vec<&Path> = input.indexes.iter().map(|i| i.root()).collect();
    let mut files = callee_files(&call, current, &head, language, &roots);
    let mut ty = call
        .qualifier
        .last()
        .filter(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
        .cloned();
    if files.is_empty() {
        // A method of a receiver whose type is written nearby: the files that define the type.
        let text = format!("{head}\n{before}");
        let Some(receiver) = receiver_type(&call, &text) else {
            return Vec::new();
        };
        for index in input.indexes {
            if let Ok(hits) = index.definitions_outside(&[receiver.as_str()], None, 4) {
                for hit in hits {
                    if hit.name == receiver && !files.contains(&hit.path) {
                        files.push(hit.path);
                    }
                }
            }
        }
        ty = Some(receiver);
    }
    if files.is_empty() {
        return Vec::new();
    }
    let file_refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    // A callee imported under another name is defined under the name it is exported as.
    let name = match language {
        Language::JavaScript | Language::TypeScript | Language::Tsx => {
            super::resolve_js::js_imported_name(&call, &head)
        }
        _ => None,
    }
    .unwrap_or_else(|| call.name.clone());
    let mut out = Vec::new();
    for index in input.indexes {
        match index.definitions_in_files(&name, &file_refs, 8) {
            Ok(hits) => out.extend(hits.into_iter().map(|h| (&**index, h))),
            Err(error) => tracing::debug!(%error, "resolved definitions lookup failed"),
        }
    }
    if let Some(ty) = ty {
        // A stable sort: the type's own definitions first, the files' order kept otherwise.
        out.sort_by_key(|(_, h)| h.container.as_deref() != Some(ty.as_str()));
    }
    out.truncate(2);
    out
}
