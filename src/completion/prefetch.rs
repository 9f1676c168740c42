//! The next suggestion, asked for ahead of the person. When a suggestion was accepted or typed
//! through to its end (seen by content when the document changes: the text at the suggestion's
//! place now holds all of it), the engine asks for the suggestion at its end at once, in the
//! background; the next request at that place and text is answered from there. A change to the
//! document that is anything else cancels it (the HTTP call is dropped, so the model server stops).

use ropey::Rope;
use rustc_hash::FxHashMap;
use tokio::task::JoinHandle;

/// A suggestion the engine showed, kept to see it accepted.
#[derive(Debug)]
struct Shown<R> {
    /// The request it answered.
    request: R,
    /// The document text of that request (before the suggestion went in).
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
    task: JoinHandle<Option<T>>,
}

/// The suggestions shown (answering requests `R`) and the ones asked for ahead (answered with
/// `T`), per document key.
#[derive(Debug)]
pub(super) struct Prefetcher<R, T> {
    shown: FxHashMap<String, Shown<R>>,
    pending: FxHashMap<String, Pending<T>>,
}

impl<R, T> Default for Prefetcher<R, T> {
    fn default() -> Self {
        Prefetcher {
            shown: FxHashMap::default(),
            pending: FxHashMap::default(),
        }
    }
}

impl<R, T> Prefetcher<R, T> {
    /// Keeps a suggestion `text` shown at byte `start` of `rope` in document `key` (answering
    /// `request`), replacing the last one.
    pub(super) fn shown(&mut self, key: &str, request: R, rope: &Rope, start: usize, text: &str) {
        if text.is_empty() {
            self.shown.remove(key);
            return;
        }
        self.shown.insert(
            key.to_string(),
            Shown {
                request,
                rope: rope.clone(),
                start,
                text: text.to_string(),
            },
        );
    }

    /// The document `key` changed to `rope`: cancels a next suggestion asked for another text,
    /// and, when the change completed the suggestion shown, returns the request it answered and
    /// the cursor at its end (where to ask ahead).
    pub(super) fn changed(&mut self, key: &str, rope: &Rope) -> Option<(R, usize)> {
        if let Some(pending) = self.pending.get(key)
            && pending.rope != *rope
        {
            pending.task.abort();
            self.pending.remove(key);
        }
        let shown = self.shown.get(key)?;
        let end = shown.start + shown.text.len();
        let holds = rope
            .get_byte_slice(shown.start..end)
            .is_some_and(|slice| slice == shown.text.as_str());
        if !holds || shown.rope == *rope {
            return None;
        }
        let shown = self.shown.remove(key)?;
        Some((shown.request, end))
    }

    /// Keeps the background task asking for the next suggestion at `cursor` of `rope`.
    pub(super) fn started(
        &mut self,
        key: &str,
        rope: Rope,
        cursor: usize,
        task: JoinHandle<Option<T>>,
    ) {
        if let Some(old) = self
            .pending
            .insert(key.to_string(), Pending { rope, cursor, task })
        {
            old.task.abort();
        }
    }

    /// The task asking ahead for exactly this text and cursor, taken out. One for another text
    /// or cursor is cancelled.
    pub(super) fn take(
        &mut self,
        key: &str,
        rope: &Rope,
        cursor: usize,
    ) -> Option<JoinHandle<Option<T>>> {
        let pending = self.pending.remove(key)?;
        if pending.cursor == cursor && pending.rope == *rope {
            Some(pending.task)
        } else {
            pending.task.abort();
            None
        }
    }

    /// Forgets a document: its suggestion shown, and cancels a next one being asked for.
    pub(super) fn forget(&mut self, key: &str) {
        self.shown.remove(key);
        if let Some(pending) = self.pending.remove(key) {
            pending.task.abort();
        }
    }

    /// Whether a next suggestion is being asked for (or ready) in document `key`.
    pub(super) fn is_pending(&self, key: &str) -> bool {
        self.pending.contains_key(key)
    }
}
