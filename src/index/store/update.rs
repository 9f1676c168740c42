//! Incremental updates: reading, hashing and parsing one file (reusing its last parse where it
//! can) and replacing its documents, for edits, file events and renames.

use std::path::Path;

use tantivy::{TantivyDocument, Term};

use crate::index::schema::FileRecord;
use crate::index::walk::{Candidate, SkipReason, is_ignored, mtime_of, read_text, walk};
use crate::syntax::{Language, language_of_text, outline, outline_of_tree, parse, reparse_changed};

use super::{IndexError, MAX_RECENT_TREE_BYTES, RecentTree, UpdateOutcome, WorkspaceIndex, lock};

impl WorkspaceIndex {
    /// Reads, hashes and parses one file for a full indexing.
    pub(super) fn prepare(&self, candidate: &Candidate, known: Option<&FileRecord>) -> Prepared {
        let text = match read_text(&candidate.path, self.config.max_file_bytes) {
            Ok(text) => text,
            Err(reason) => return Prepared::Skipped(reason),
        };
        if crate::secrets::contains_secret(&text) {
            return Prepared::Skipped(SkipReason::SecretContent);
        }
        let record = FileRecord {
            rel: candidate.rel.clone(),
            hash: blake3::hash(text.as_bytes()).to_hex().to_string(),
            mtime: candidate.mtime,
            size: candidate.size,
        };
        if known.is_some_and(|k| k.hash == record.hash) {
            return Prepared::Unchanged(record);
        }
        self.documents(record, candidate.language, &text)
    }

    pub(super) fn documents(&self, record: FileRecord, language: Language, text: &str) -> Prepared {
        // A `.h` header that holds C++ is parsed as C++.
        let language = language_of_text(language, text);
        let outline = outline(language, text, &self.chunk_options);
        self.prepared(record, language, text, &outline)
    }

    /// Like [`documents`](Self::documents), parsing incrementally from the file's last parse
    /// when it is kept, and keeping this one.
    pub(super) fn documents_reusing_tree(
        &self,
        record: FileRecord,
        language: Language,
        text: &str,
    ) -> Prepared {
        let language = language_of_text(language, text);
        let previous = lock(&self.recent_trees).pop(&record.rel);
        if text.len() > MAX_RECENT_TREE_BYTES {
            return self.documents(record, language, text);
        }
        let tree = match previous {
            Some(previous) if previous.language == language => {
                reparse_changed(language, &previous.text, &previous.tree, text)
            }
            _ => parse(language, text),
        };
        let Some(tree) = tree else {
            return self.documents(record, language, text);
        };
        let outline = outline_of_tree(language, &tree, text, &self.chunk_options);
        lock(&self.recent_trees).put(
            record.rel.clone(),
            RecentTree {
                language,
                text: text.to_string(),
                tree,
            },
        );
        self.prepared(record, language, text, &outline)
    }

    pub(super) fn prepared(
        &self,
        record: FileRecord,
        language: Language,
        text: &str,
        outline: &crate::syntax::Outline,
    ) -> Prepared {
        let docs = self.fields.documents(&record, language, text, outline);
        Prepared::Documents {
            record,
            docs,
            symbols: outline.symbols.len(),
            chunks: outline.chunks.len(),
            bytes: text.len() as u64,
            lines: text.lines().count() as u64,
        }
    }

    pub(super) fn path_term(&self, rel: &str) -> Term {
        Term::from_field_text(self.fields.path, rel)
    }

    pub(super) fn delete_docs(&self, rel: &str) {
        if let Some(writer) = lock(&self.writer).writer.as_ref() {
            writer.delete_term(self.path_term(rel));
        }
    }

    pub(super) fn replace_docs(
        &self,
        rel: &str,
        delete_old: bool,
        docs: Vec<TantivyDocument>,
    ) -> Result<(), IndexError> {
        let slot = lock(&self.writer);
        let Some(writer) = slot.writer.as_ref() else {
            return Ok(());
        };
        if delete_old {
            writer.delete_term(self.path_term(rel));
        }
        for doc in docs {
            writer.add_document(doc)?;
        }
        Ok(())
    }

    /// Re-indexes a file from text the editor holds (a debounced `didChange`). `version` is the
    /// document version: an update older than one already applied to this path is ignored, so the
    /// newest wins whatever order updates arrive in. The change is committed with the next batch
    /// (see [`commit_if_due`](Self::commit_if_due)).
    pub fn update_text(
        &self,
        path: &Path,
        text: &str,
        version: Option<i64>,
    ) -> Result<UpdateOutcome, IndexError> {
        let (rel, local) = self
            .resolve(path)
            .ok_or_else(|| IndexError::OutsideRoot(path.to_path_buf()))?;
        self.require_really_inside(path, &local)?;
        let path = local.as_path();
        if let Some(version) = version {
            let mut versions = lock(&self.versions);
            let last = versions.entry(rel.clone()).or_insert(version);
            if version < *last {
                return Ok(UpdateOutcome::Stale);
            }
            *last = version;
        }
        let mtime = std::fs::metadata(path).map(|m| mtime_of(&m)).unwrap_or(0);
        self.update_with(&rel, path, text, mtime)
    }

    pub(super) fn update_with(
        &self,
        rel: &str,
        path: &Path,
        text: &str,
        mtime: u64,
    ) -> Result<UpdateOutcome, IndexError> {
        if self.is_read_only() {
            return Ok(UpdateOutcome::ReadOnly);
        }
        let skip = if self.exclusions.is_excluded(Path::new(rel)) {
            Some(SkipReason::Secret)
        } else if text.len() as u64 > self.config.max_file_bytes {
            Some(SkipReason::TooLarge)
        } else if Language::from_path(path).is_none() {
            Some(SkipReason::Unsupported)
        } else if super::super::admit::holds_secret(text) {
            Some(SkipReason::SecretContent)
        } else {
            None
        };
        if let Some(reason) = skip {
            if lock(&self.files).remove(rel).is_some() {
                self.delete_docs(rel);
                self.note_change()?;
            }
            return Ok(UpdateOutcome::Skipped(reason));
        }
        let Some(language) = Language::from_path(path) else {
            return Ok(UpdateOutcome::Skipped(SkipReason::Unsupported));
        };
        let hash = blake3::hash(text.as_bytes()).to_hex().to_string();
        let known = lock(&self.files).get(rel).cloned();
        if known.as_ref().is_some_and(|k| k.hash == hash) {
            return Ok(UpdateOutcome::Unchanged);
        }
        let record = FileRecord {
            rel: rel.to_string(),
            hash,
            mtime,
            size: text.len() as u64,
        };
        if let Prepared::Documents { record, docs, .. } =
            self.documents_reusing_tree(record, language, text)
        {
            self.replace_docs(rel, known.is_some(), docs)?;
            lock(&self.files).insert(rel.to_string(), record);
            self.note_change()?;
        }
        Ok(UpdateOutcome::Updated)
    }

    /// Re-indexes a file from disk (`didSave`, a watched-file change or creation). A file that is
    /// gone is removed; a directory is walked.
    pub fn update_path(&self, path: &Path) -> Result<UpdateOutcome, IndexError> {
        let (rel, local) = self
            .resolve(path)
            .ok_or_else(|| IndexError::OutsideRoot(path.to_path_buf()))?;
        self.require_really_inside(path, &local)?;
        let path = local.as_path();
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(_) => return self.remove_path(path),
        };
        if metadata.is_dir() {
            let mut outcome = UpdateOutcome::Unchanged;
            let (candidates, _) = walk(path, &self.config, &self.exclusions);
            for candidate in candidates {
                if self.update_path(&candidate.path)? == UpdateOutcome::Updated {
                    outcome = UpdateOutcome::Updated;
                }
            }
            return Ok(outcome);
        }
        if self.exclusions.is_excluded(Path::new(&rel)) {
            return self.update_with(&rel, path, "", 0);
        }
        if !self.contains_file(&rel) && is_ignored(&self.root, path, &self.config) {
            return Ok(UpdateOutcome::Skipped(SkipReason::Ignored));
        }
        match read_text(path, self.config.max_file_bytes) {
            Ok(text) => {
                // The disk is now the newest version: forget editor versions of this path.
                lock(&self.versions).remove(&rel);
                self.update_with(&rel, path, &text, mtime_of(&metadata))
            }
            Err(reason) => {
                if lock(&self.files).remove(&rel).is_some() {
                    self.delete_docs(&rel);
                    self.note_change()?;
                }
                Ok(UpdateOutcome::Skipped(reason))
            }
        }
    }

    /// Removes a file, or every file under a directory, from the index (a deletion, or the old
    /// side of a rename).
    pub fn remove_path(&self, path: &Path) -> Result<UpdateOutcome, IndexError> {
        if self.is_read_only() {
            return Ok(UpdateOutcome::ReadOnly);
        }
        let (rel, _) = self
            .resolve(path)
            .ok_or_else(|| IndexError::OutsideRoot(path.to_path_buf()))?;
        let prefix = format!("{rel}/");
        let removed: Vec<String> = {
            let mut files = lock(&self.files);
            let matching: Vec<String> = files
                .keys()
                .filter(|k| **k == rel || k.starts_with(&prefix))
                .cloned()
                .collect();
            let mut trees = lock(&self.recent_trees);
            for key in &matching {
                files.remove(key);
                trees.pop(key);
            }
            matching
        };
        lock(&self.versions).retain(|k, _| *k != rel && !k.starts_with(&prefix));
        if removed.is_empty() {
            return Ok(UpdateOutcome::Unchanged);
        }
        for key in &removed {
            self.delete_docs(key);
        }
        self.note_change()?;
        Ok(UpdateOutcome::Removed)
    }

    /// A rename: removes `from` and indexes `to` from disk.
    pub fn rename_path(&self, from: &Path, to: &Path) -> Result<UpdateOutcome, IndexError> {
        self.remove_path(from)?;
        self.update_path(to)
    }
}

/// The outcome of reading and parsing one file.
pub(super) enum Prepared {
    Documents {
        record: FileRecord,
        docs: Vec<TantivyDocument>,
        symbols: usize,
        chunks: usize,
        bytes: u64,
        lines: u64,
    },
    Unchanged(FileRecord),
    Skipped(SkipReason),
}
