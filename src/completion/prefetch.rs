//! The next suggestion, asked for ahead of the person, at two moments:
//! - a suggestion was accepted or typed through to its end (seen by content when the document
//!   changes: the text at the suggestion's place now holds all of it): the engine asks for the
//!   suggestion at its end, and the next request at that place and text is answered from there;
//! - the person typed text that the suggestion at hand does not continue
//!   (`completion.ask_while_typing`): the engine asks at the new cursor at once, before the editor
//!   asks. While the person types on at that place, the request keeps running as long as the
//!   model has written something and it agrees with what was typed (one that has written
//!   nothing yet is asked again at the new cursor); a request from the editor there waits for it
//!   and is answered by type-through when it agrees to the end.
//!
//! Any other change cancels a request asked ahead (the HTTP call is dropped, so the model server
//! stops).

use std::sync::{Arc, Mutex};

use ropey::Rope;
use rustc_hash::FxHashMap;
use tokio::task::JoinHandle;

/// The most bytes one change may insert to count as typing (a paste is not followed by more of
/// the same at its end).
pub(super) const MAX_TYPED: usize = 256;

/// A suggestion the engine showed, kept to see it accepted.
#[derive(Debug)]
struct Shown {
    /// The document text of its request (before the suggestion went in).
    rope: Rope,
    /// Where it starts, in bytes.
    start: usize,
    /// Its text.
    text: String,
}

/// A next suggestion being asked for in the background (its answer a `T`).
#[derive(Debug)]
struct Pending<T> {
    rope: Rope,
    cursor: usize,
    /// What was typed at `cursor` since it was asked for.
    typed: String,
    /// The model's text so far.
    progress: Arc<Mutex<String>>,
    task: JoinHandle<Option<T>>,
}

impl<T> Pending<T> {
    /// Whether the model has written something, and it agrees with `typed` followed by `more`:
    /// each is a beginning of the other. (One that has written nothing yet is better asked
    /// again at the new cursor, where its answer need not continue the typed text.)
    fn agrees(&self, more: &str) -> bool {
        let progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        let typed = self.typed.as_bytes().iter().chain(more.as_bytes());
        !progress.is_empty() && progress.as_bytes().iter().zip(typed).all(|(a, b)| a == b)
    }
}

/// A request asked ahead, taken by a request of the editor.
#[derive(Debug)]
pub(super) enum Taken<T> {
    /// Asked at exactly the editor's text and cursor: its answer is the answer.
    Here(JoinHandle<Option<T>>),
    /// Asked before the text typed since at its cursor, which its answer may continue.
    Before(JoinHandle<Option<T>>),
}

/// The suggestions shown and the last request (`R`) per document key, and the next suggestions
/// asked for ahead (answered with `T`).
#[derive(Debug)]
pub(super) struct Prefetcher<R, T> {
    shown: FxHashMap<String, Shown>,
    last: FxHashMap<String, R>,
    pending: FxHashMap<String, Pending<T>>,
}

impl<R, T> Default for Prefetcher<R, T> {
    fn default() -> Self {
        Prefetcher {
            shown: FxHashMap::default(),
            last: FxHashMap::default(),
            pending: FxHashMap::default(),
        }
    }
}

impl<R: Clone, T> Prefetcher<R, T> {
    /// Keeps a suggestion `text` shown at byte `start` of `rope` in document `key`, answering
    /// `request` (which requests asked ahead there copy), replacing the last one.
    pub(super) fn shown(&mut self, key: &str, request: R, rope: &Rope, start: usize, text: &str) {
        self.last.insert(key.to_string(), request);
        if text.is_empty() {
            self.shown.remove(key);
            return;
        }
        self.shown.insert(
            key.to_string(),
            Shown {
                rope: rope.clone(),
                start,
                text: text.to_string(),
            },
        );
    }

    /// The last request answered in document `key`.
    pub(super) fn last(&self, key: &str) -> Option<R> {
        self.last.get(key).cloned()
    }

    /// The document `key` changed to `rope`, by inserting `typed` at its byte offset when that is
    /// all the change did. Cancels a next suggestion asked for another text (keeping one the
    /// typing may still continue), and, when the change completed the suggestion shown, returns
    /// the request it answered and the cursor at its end (where to ask ahead).
    pub(super) fn changed(
        &mut self,
        key: &str,
        rope: &Rope,
        typed: Option<(usize, &str)>,
    ) -> Option<(R, usize)> {
        if let Some(pending) = self.pending.get_mut(key) {
            match typed {
                Some((at, text))
                    if at == pending.cursor + pending.typed.len() && pending.agrees(text) =>
                {
                    pending.typed.push_str(text);
                }
                _ if pending.rope != *rope => {
                    pending.task.abort();
                    self.pending.remove(key);
                }
                _ => {}
            }
        }
        let shown = self.shown.get(key)?;
        let end = shown.start + shown.text.len();
        let holds = rope
            .get_byte_slice(shown.start..end)
            .is_some_and(|slice| slice == shown.text.as_str());
        if !holds || shown.rope == *rope {
            return None;
        }
        self.shown.remove(key);
        Some((self.last.get(key)?.clone(), end))
    }

    /// Keeps the background task asking for the next suggestion at `cursor` of `rope`, writing
    /// the model's text so far to `progress`.
    pub(super) fn started(
        &mut self,
        key: &str,
        rope: Rope,
        cursor: usize,
        progress: Arc<Mutex<String>>,
        task: JoinHandle<Option<T>>,
    ) {
        let pending = Pending {
            rope,
            cursor,
            typed: String::new(),
            progress,
            task,
        };
        if let Some(old) = self.pending.insert(key.to_string(), pending) {
            old.task.abort();
        }
    }

    /// The task asking ahead for this text and cursor, or for the text before what was typed
    /// since at its cursor while the model's text so far agrees with it, taken out. One for
    /// another text or cursor is cancelled.
    pub(super) fn take(&mut self, key: &str, rope: &Rope, cursor: usize) -> Option<Taken<T>> {
        let pending = self.pending.remove(key)?;
        let typed_end = pending.cursor + pending.typed.len();
        if pending.typed.is_empty() && pending.cursor == cursor && pending.rope == *rope {
            return Some(Taken::Here(pending.task));
        }
        let before = !pending.typed.is_empty()
            && typed_end == cursor
            && rope.len_bytes() == pending.rope.len_bytes() + pending.typed.len()
            && rope
                .get_byte_slice(pending.cursor..cursor)
                .is_some_and(|slice| slice == pending.typed.as_str())
            && pending.agrees("");
        if before {
            return Some(Taken::Before(pending.task));
        }
        pending.task.abort();
        None
    }

    /// Forgets a document: its suggestion shown and last request, and cancels a next one being
    /// asked for.
    pub(super) fn forget(&mut self, key: &str) {
        self.shown.remove(key);
        self.last.remove(key);
        if let Some(pending) = self.pending.remove(key) {
            pending.task.abort();
        }
    }

    /// Forgets every document's suggestion shown and last request, and cancels every request
    /// asked ahead (the models changed: their answers would come from the old ones).
    pub(super) fn forget_all(&mut self) {
        self.shown.clear();
        self.last.clear();
        for (_, pending) in self.pending.drain() {
            pending.task.abort();
        }
    }

    /// Whether a next suggestion is being asked for (or ready) in document `key`.
    pub(super) fn is_pending(&self, key: &str) -> bool {
        self.pending.contains_key(key)
    }
}
