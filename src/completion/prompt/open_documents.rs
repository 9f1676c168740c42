//! The open documents as a retrieval source: each document's passage index, and the passages
//! of other open documents (of a language related to the current one's) that share the most
//! identifiers with the text before the cursor.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use ropey::Rope;
use rustc_hash::FxHashMap;

use crate::index::WorkspaceIndex;
use crate::syntax::Language;

use super::identifiers::{identifiers, is_telling};
use super::paths::display_path;
use super::window::{line_start, slice, text_of};
use super::{Candidate, ContextSources, PartKind, PromptInput};

/// Lines read of another open document, from its start.
pub(super) const OPEN_DOCUMENT_LINES: usize = 2_000;

/// Lines of a passage of another open document.
pub(super) const PASSAGE_LINES: usize = 20;

/// Lines between the starts of consecutive passages (they overlap by half).
pub(super) const PASSAGE_STEP: usize = PASSAGE_LINES / 2;

/// Another open document, which may give context. Its passages' identifiers are indexed on first
/// use, once: clones share the index, so an owner that keeps a clone per document version (as
/// [`CompletionEngine`](super::CompletionEngine) does) indexes each version once.
#[derive(Debug, Clone)]
pub struct OpenDocument {
    /// Its path.
    pub path: PathBuf,
    /// Its text.
    pub rope: Rope,
    /// A number naming the text, if it has one: another text of the document has another number
    /// (an open document's server-side generation; not the client's version number, which a
    /// client may repeat with another text).
    pub version: Option<u64>,
    pub(super) passages: Arc<OnceLock<PassageIndex>>,
}

impl OpenDocument {
    /// An open document without a version.
    pub fn new(path: PathBuf, rope: Rope) -> OpenDocument {
        OpenDocument {
            path,
            rope,
            version: None,
            passages: Arc::default(),
        }
    }

    /// The same document with a number naming its text (see [`OpenDocument::version`]).
    pub fn with_version(self, version: u64) -> OpenDocument {
        OpenDocument {
            version: Some(version),
            ..self
        }
    }

    /// Whether `other` is the same text (same path, version and length), so its index may be
    /// shared. Documents without a version are never the same.
    pub fn same_text(&self, other: &OpenDocument) -> bool {
        self.version.is_some()
            && self.version == other.version
            && self.path == other.path
            && self.rope.len_bytes() == other.rope.len_bytes()
    }

    /// Shares the passage index of `other`, the same text (see [`same_text`](Self::same_text)).
    pub fn share_index_of(&mut self, other: &OpenDocument) {
        self.passages = Arc::clone(&other.passages);
    }

    pub(super) fn is_indexed(&self) -> bool {
        self.passages.get().is_some()
    }

    pub(super) fn passages(&self) -> &PassageIndex {
        self.passages.get_or_init(|| PassageIndex::new(&self.rope))
    }
}

/// The telling identifiers of the passages of a document's first lines: passages of
/// `PASSAGE_LINES` lines starting every `PASSAGE_STEP` lines, and for each identifier the passages
/// that contain it.
#[derive(Debug, Default)]
pub(super) struct PassageIndex {
    /// The number of passages.
    pub(super) passages: usize,
    /// The lines indexed.
    pub(super) lines: usize,
    /// For each identifier, the passages (ascending numbers) that contain it.
    pub(super) words: FxHashMap<Box<str>, Vec<u32>>,
}

impl PassageIndex {
    pub(super) fn new(rope: &Rope) -> PassageIndex {
        let lines = rope.len_lines().min(OPEN_DOCUMENT_LINES);
        let mut words: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
        for (number, line) in rope.lines().take(lines).enumerate() {
            // Passage `p` holds lines `p * STEP .. p * STEP + LINES`.
            let first = if number >= PASSAGE_LINES {
                (number - PASSAGE_LINES) / PASSAGE_STEP + 1
            } else {
                0
            };
            let last = number / PASSAGE_STEP;
            let text = text_of(line);
            for word in identifiers(&text).filter(|w| is_telling(w)) {
                let passages = match words.get_mut(word) {
                    Some(passages) => passages,
                    None => words.entry(word.into()).or_default(),
                };
                for passage in first..=last {
                    let passage = passage as u32;
                    // Lines come in order, so the numbers do too: skip those already there.
                    if passages.last().is_none_or(|&p| p < passage) {
                        passages.push(passage);
                    }
                }
            }
        }
        PassageIndex {
            passages: lines.div_ceil(PASSAGE_STEP),
            lines,
            words,
        }
    }

    /// The first line of the passage sharing the most of `query` (distinct words), with the
    /// number shared; the first such passage on a tie, `None` when none shares any.
    pub(super) fn best(&self, query: &[&str]) -> Option<(usize, usize)> {
        let mut shared = vec![0usize; self.passages];
        for word in query {
            for &passage in self.words.get(*word).map_or(&[][..], Vec::as_slice) {
                shared[passage as usize] += 1;
            }
        }
        let mut best: Option<(usize, usize)> = None;
        for (passage, &count) in shared.iter().enumerate() {
            if count > 0 && best.is_none_or(|(most, _)| count > most) {
                best = Some((count, passage * PASSAGE_STEP));
            }
        }
        best
    }
}

/// The passage of another open document that shares the most identifiers with the query.
pub(super) struct OpenPassage<'a> {
    pub(super) document: &'a OpenDocument,
    /// Its first line.
    pub(super) start: usize,
}

impl OpenPassage<'_> {
    /// The passage as a candidate (its text is copied only now: most are never used).
    pub(super) fn candidate(&self, indexes: &[Arc<WorkspaceIndex>]) -> Candidate {
        let (path, rope) = (&self.document.path, &self.document.rope);
        let end = (self.start + PASSAGE_LINES).min(self.document.passages().lines);
        let body = slice(rope, line_start(rope, self.start)..line_start(rope, end));
        Candidate {
            kind: PartKind::OpenDocument,
            source: format!("{}:{}", display_path(indexes, path), self.start + 1),
            path: path.clone(),
            body: if body.ends_with('\n') {
                body
            } else {
                body + "\n"
            },
        }
    }
}

/// The passage of each other open document that shares the most identifiers with the query
/// (passages of 20 lines, the first 2,000 lines only), best documents first.
pub(super) fn open_document_passages<'a>(
    input: &PromptInput<'a>,
    current: Option<&Path>,
    query_words: &[&str],
) -> Vec<OpenPassage<'a>> {
    if !input.config.use_open_documents || query_words.is_empty() {
        return Vec::new();
    }
    let sources = ContextSources::of(input, current);
    let shared: Vec<&'a OpenDocument> = input
        .open_documents
        .iter()
        .filter(|d| sources.admits(&d.path, Language::from_path(&d.path)))
        .collect();
    let best_passage = |document: &&'a OpenDocument| {
        let (shared, start) = document.passages().best(query_words)?;
        Some((shared, OpenPassage { document, start }))
    };
    // A document opened since the last request is indexed first (~0.5 us a line): index those in
    // parallel. Once all are indexed, scoring is quicker than handing work to other threads.
    let mut scored: Vec<(usize, OpenPassage<'a>)> = if shared.iter().all(|d| d.is_indexed()) {
        shared.iter().filter_map(best_passage).collect()
    } else {
        shared.par_iter().filter_map(best_passage).collect()
    };
    // A stable sort: documents sharing as many words keep their order.
    scored.sort_by_key(|(shared, _)| std::cmp::Reverse(*shared));
    scored.into_iter().map(|(_, passage)| passage).collect()
}
