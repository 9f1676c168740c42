//! The protocol session: what `initialize` settled (the position encoding and the client's
//! capabilities), messages kept until the client can show them, the progress tokens the user may
//! cancel, superseded-request cancellation for completions, and whether `shutdown` came.
//!
//! Everything about the workspace itself (documents, kept trees, configuration, folders,
//! indexes, models, the exclusion policy) lives in the core host, [`Workspace`], which every
//! handler reads through one [`WorkspaceSnapshot`](crate::host::WorkspaceSnapshot) per request.
//!
//! Every lock here is a plain `std` lock held for a few statements and never across an `.await`
//! (clippy's `await_holding_lock` checks it).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio_util::sync::CancellationToken;
use tower_lsp_server::ls_types::MessageType;

use crate::dirs::Dirs;
use crate::documents::PositionEncoding;
use crate::host::{Workspace, WorkspaceSnapshot};
use crate::lsp::capabilities::ClientCaps;

/// Options fixed when the server starts.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Whether the `augur/debug/*` requests (sleep, panic) are served: for tests only.
    #[cfg(feature = "test-support")]
    pub debug_requests: bool,
    /// Where the host reads and writes outside the workspace (the command line takes them from
    /// the environment).
    pub dirs: Dirs,
}

/// What `initialize` settled: fixed for the session.
#[derive(Debug, Clone, Copy, Default)]
pub struct Session {
    /// The negotiated position encoding.
    pub encoding: PositionEncoding,
    /// What the client supports.
    pub caps: ClientCaps,
}

/// The protocol state of one server, and the host it drives.
#[derive(Debug)]
pub struct ServerState {
    /// Options fixed at start.
    pub options: ServerOptions,
    /// The core host: the workspace this server serves.
    pub host: Arc<Workspace>,
    session: OnceLock<Session>,
    shutdown_requested: AtomicBool,
    deferred_messages: Mutex<Vec<(MessageType, String)>>,
    progress_cancels: Mutex<HashMap<String, CancellationToken>>,
    completions: Mutex<HashMap<String, (u64, CancellationToken)>>,
    completion_generation: AtomicU64,
}

/// Locks a mutex, going on with the data of a holder that panicked.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl ServerState {
    /// A fresh state over an empty host with the built-in default configuration.
    pub fn new(options: ServerOptions) -> Self {
        Self {
            host: Arc::new(Workspace::with_dirs(options.dirs.clone())),
            options,
            session: OnceLock::new(),
            shutdown_requested: AtomicBool::new(false),
            deferred_messages: Mutex::default(),
            progress_cancels: Mutex::default(),
            completions: Mutex::default(),
            completion_generation: AtomicU64::new(0),
        }
    }

    /// One consistent view of the workspace for a request (see [`Workspace::snapshot`]).
    pub fn snapshot(&self) -> WorkspaceSnapshot {
        self.host.snapshot()
    }

    /// Settles the session; only the first call has an effect.
    pub fn set_session(&self, session: Session) {
        let _ = self.session.set(session);
    }

    /// The session (the defaults before `initialize`).
    pub fn session(&self) -> Session {
        self.session.get().copied().unwrap_or_default()
    }

    /// The negotiated position encoding.
    pub fn encoding(&self) -> PositionEncoding {
        self.session().encoding
    }

    /// The client's capabilities.
    pub fn caps(&self) -> ClientCaps {
        self.session().caps
    }

    /// Keeps messages (each with its `window/showMessage` type) to show the user once the client
    /// can take them (after `initialize`).
    pub fn defer_messages(&self, messages: impl IntoIterator<Item = (MessageType, String)>) {
        lock(&self.deferred_messages).extend(messages);
    }

    /// The messages kept by [`Self::defer_messages`], emptying the list.
    pub fn take_deferred_messages(&self) -> Vec<(MessageType, String)> {
        std::mem::take(&mut *lock(&self.deferred_messages))
    }

    /// Remembers how to cancel the work behind a progress token.
    pub fn register_progress(&self, token: &str, cancel: CancellationToken) {
        lock(&self.progress_cancels).insert(token.to_owned(), cancel);
    }

    /// Forgets a finished progress token.
    pub fn finish_progress(&self, token: &str) {
        lock(&self.progress_cancels).remove(token);
    }

    /// Cancels the work behind a progress token; returns whether there was any.
    pub fn cancel_progress(&self, token: &str) -> bool {
        lock(&self.progress_cancels)
            .get(token)
            .map(CancellationToken::cancel)
            .is_some()
    }

    /// Starts a completion for a document: cancels the one still running for it (its model call
    /// is dropped) and returns this one's generation and cancellation token.
    pub fn begin_completion(&self, key: &str) -> (u64, CancellationToken) {
        let generation = self.completion_generation.fetch_add(1, Ordering::SeqCst) + 1;
        let token = CancellationToken::new();
        let mut running = lock(&self.completions);
        if let Some((_, older)) = running.insert(key.to_owned(), (generation, token.clone())) {
            older.cancel();
        }
        (generation, token)
    }

    /// Ends a completion (if a newer one has not replaced it already).
    pub fn end_completion(&self, key: &str, generation: u64) {
        let mut running = lock(&self.completions);
        if running.get(key).is_some_and(|(g, _)| *g == generation) {
            running.remove(key);
        }
    }

    /// What the server keeps of a document: what the host keeps (see [`Workspace::retained`])
    /// and `completion` while a completion request for it runs. For `augur/debug/retained`.
    #[cfg(feature = "test-support")]
    pub fn retained(&self, key: &str, path: Option<&std::path::Path>) -> Vec<&'static str> {
        let mut held = self.host.retained(key, path);
        if lock(&self.completions).contains_key(key) {
            held.push("completion");
        }
        held
    }

    /// Records that `shutdown` was received.
    pub fn request_shutdown(&self) {
        self.shutdown_requested.store(true, Ordering::SeqCst);
    }

    /// Whether `shutdown` was received: the process exits with 0 after `exit` only then.
    pub fn shutdown_requested(&self) -> bool {
        self.shutdown_requested.load(Ordering::SeqCst)
    }
}
