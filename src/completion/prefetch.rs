//! The next suggestion, asked for ahead of the person. When a suggestion was accepted or typed
//! through to its end (seen by content when the document changes: the text at the suggestion's
//! place now holds all of it), the engine asks for the suggestion at its end at once, in the
//! background; the next request at that place and text is answered from there. A change to the
//! document that is anything else cancels it (the HTTP call is dropped, so the model server stops).

use ropey::Rope;
use rustc_hash::FxHashMap;
use tokio::task::JoinHandle;

use super::engine::{EngineRequest, Suggestion};

/// A suggestion the engine showed, kept to see it accepted.
#[derive(Debug)]
struct Shown {
    /// The request it answered (its document text is the text before the suggestion went in).
    request: EngineRequest,
    /// Where it starts, in bytes.
    start: usize,
    /// Its text.
    text: String,
}

/// A next suggestion being asked for in the background.
#[derive(Debug)]
struct Pending {
    rope: Rope,
    cursor: usize,
    task: JoinHandle<Option<Suggestion>>,
}

/// The suggestions shown and the ones asked for ahead, per document key.
#[derive(Debug, Default)]
pub(super) struct Prefetcher {
    shown: FxHashMap<String, Shown>,
    pending: FxHashMap<String, Pending>,
}

/// What to ask for ahead, after a change: the request at the end of an accepted suggestion.
pub(super) type Ahead = EngineRequest;

impl Prefetcher {
    /// Keeps a suggestion shown in document `key` (answering `request`), replacing the last one.
    pub(super) fn shown(&mut self, request: &EngineRequest, start: usize, text: &str) {
        if text.is_empty() {
            self.shown.remove(&request.key);
            return;
        }
        self.shown.insert(
            request.key.clone(),
            Shown {
                request: request.clone(),
                start,
                text: text.to_string(),
            },
        );
    }

    /// The document `key` changed to `rope`: cancels a next suggestion asked for another text,
    /// and returns the request to ask ahead when the change completed the suggestion shown.
    pub(super) fn changed(&mut self, key: &str, rope: &Rope) -> Option<Ahead> {
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
        if !holds || shown.request.rope == *rope {
            return None;
        }
        let shown = self.shown.remove(key)?;
        Some(EngineRequest {
            rope: rope.clone(),
            cursor: end,
            syntax: None,
            trigger: super::engine::Trigger::Automatic,
            ..shown.request
        })
    }

    /// Keeps the background task asking for the next suggestion at `cursor` of `rope`.
    pub(super) fn started(
        &mut self,
        key: &str,
        rope: Rope,
        cursor: usize,
        task: JoinHandle<Option<Suggestion>>,
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
    ) -> Option<JoinHandle<Option<Suggestion>>> {
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
