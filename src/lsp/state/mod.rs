//! The server's state: one writer (the `did_*` handlers), many snapshot readers.
//!
//! Every lock here is a plain `std` lock held for a few statements and never across an `.await`
//! (clippy's `await_holding_lock` checks it). Readers take `Arc` or cheap clones and let go.

mod status;
mod trees;

pub use status::IndexPhase;
use trees::TreeEntry;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tower_lsp_server::ls_types::MessageType;

use crate::completion::CompletionEngine;
use crate::config::{self, Config, ConfigError, ConfigLayer};
use crate::documents::{Document, DocumentStore, PositionEncoding};
use crate::index::WorkspaceIndex;
use crate::llm::health::{ModelHealth, Notice};
use crate::llm::{LlmClient, LlmDeps};
use crate::lsp::capabilities::ClientCaps;
use crate::workspace::{RealPaths, WorkspaceRoot, root_paths};

/// Options fixed when the server starts.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Whether the `augur/debug/*` requests (sleep, panic) are served: for tests only.
    #[cfg(feature = "test-support")]
    pub debug_requests: bool,
}

/// What `initialize` settled: fixed for the session.
#[derive(Debug, Clone, Copy, Default)]
pub struct Session {
    /// The negotiated position encoding.
    pub encoding: PositionEncoding,
    /// What the client supports.
    pub caps: ClientCaps,
}

/// The layers of configuration the server merges, and the result.
#[derive(Debug, Default)]
struct ConfigLayers {
    files: Vec<ConfigLayer>,
    init: Option<ConfigLayer>,
    client: Option<ConfigLayer>,
    /// The warnings of the last merge, reported already.
    warned: Vec<ConfigError>,
}

impl ConfigLayers {
    fn all(&self) -> Vec<ConfigLayer> {
        let mut all = self.files.clone();
        all.extend(self.init.clone());
        all.extend(self.client.clone());
        all
    }
}

/// Things kept alive for the server's lifetime.
#[derive(Default)]
struct Kept(Vec<Box<dyn std::any::Any + Send>>);

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} kept", self.0.len())
    }
}

/// The shared state of one server.
#[derive(Debug)]
pub struct ServerState {
    /// Options fixed at start.
    pub options: ServerOptions,
    documents: RwLock<DocumentStore>,
    session: OnceLock<Session>,
    roots: RwLock<Vec<WorkspaceRoot>>,
    layers: Mutex<ConfigLayers>,
    config: watch::Sender<Arc<Config>>,
    shutdown_requested: AtomicBool,
    deferred_messages: Mutex<Vec<(MessageType, String)>>,
    indexes: RwLock<Vec<Arc<WorkspaceIndex>>>,
    progress_cancels: Mutex<HashMap<String, CancellationToken>>,
    reindex_queue: OnceLock<mpsc::UnboundedSender<String>>,
    kept: Mutex<Kept>,
    engine: RwLock<Option<Arc<CompletionEngine>>>,
    completions: Mutex<HashMap<String, (u64, CancellationToken)>>,
    completion_generation: std::sync::atomic::AtomicU64,
    trees: Mutex<HashMap<String, TreeEntry>>,
    /// Documents whose kept tree is being brought up to date on the blocking pool.
    refreshing: Mutex<std::collections::HashSet<String>>,
    model_health: ModelHealth,
    notices: mpsc::UnboundedSender<Notice>,
    notice_queue: Mutex<Option<mpsc::UnboundedReceiver<Notice>>>,
    index_phases: Mutex<HashMap<PathBuf, IndexPhase>>,
    /// Real paths of documents and roots, for checks that run per request.
    real_paths: Arc<RealPaths>,
}

impl ServerState {
    /// A fresh state with the built-in default configuration.
    pub fn new(options: ServerOptions) -> Self {
        let (config, _) = watch::channel(Arc::new(Config::default()));
        let (notices, notice_queue) = mpsc::unbounded_channel();
        Self {
            options,
            documents: RwLock::default(),
            session: OnceLock::new(),
            roots: RwLock::default(),
            layers: Mutex::default(),
            config,
            shutdown_requested: AtomicBool::new(false),
            deferred_messages: Mutex::default(),
            indexes: RwLock::default(),
            progress_cancels: Mutex::default(),
            reindex_queue: OnceLock::new(),
            kept: Mutex::default(),
            engine: RwLock::default(),
            completions: Mutex::default(),
            completion_generation: std::sync::atomic::AtomicU64::new(0),
            trees: Mutex::default(),
            refreshing: Mutex::default(),
            model_health: ModelHealth::new(),
            notices,
            notice_queue: Mutex::new(Some(notice_queue)),
            index_phases: Mutex::default(),
            real_paths: Arc::default(),
        }
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

    /// Read access to the documents, for a few statements.
    pub fn documents(&self) -> RwLockReadGuard<'_, DocumentStore> {
        self.documents.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access to the documents, for the `did_*` handlers only.
    pub fn documents_mut(&self) -> RwLockWriteGuard<'_, DocumentStore> {
        self.documents.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A snapshot of one document.
    pub fn document(&self, uri: &str) -> Option<Document> {
        self.documents().get(uri)
    }

    /// The workspace roots.
    pub fn roots(&self) -> Vec<WorkspaceRoot> {
        self.roots.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the workspace roots.
    pub fn set_roots(&self, roots: Vec<WorkspaceRoot>) {
        *self.roots.write().unwrap_or_else(|e| e.into_inner()) = roots;
    }

    /// The remembered real paths: forget them when files change or a document is opened.
    pub fn real_paths(&self) -> &Arc<RealPaths> {
        &self.real_paths
    }

    /// Whether `path` really lies in a workspace root once symbolic links are followed (from
    /// remembered real paths: cheap enough per keystroke). A document that does not may be
    /// edited by the user, but augur edits nothing in it, does not index it, and gives nothing
    /// of it to other files' prompts.
    pub fn really_inside(&self, path: &Path) -> bool {
        self.real_paths.is_inside(path, &root_paths(&self.roots()))
    }

    /// The current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.config.borrow().clone()
    }

    /// A receiver that sees every new configuration, for subsystems that react to hot reloads.
    pub fn subscribe_config(&self) -> watch::Receiver<Arc<Config>> {
        self.config.subscribe()
    }

    /// Re-reads the configuration files for the current roots and merges every layer. Returns the
    /// errors found; layers with errors are left out.
    pub fn reload_files(&self) -> Vec<ConfigError> {
        let (files, mut errors) = config::file_layers(&root_paths(&self.roots()));
        let mut layers = self.layers.lock().unwrap_or_else(|e| e.into_inner());
        layers.files = files;
        errors.extend(self.publish(&mut layers));
        errors
    }

    /// Sets the `initializationOptions` layer.
    pub fn set_init_layer(&self, layer: ConfigLayer) -> Vec<ConfigError> {
        let mut layers = self.layers.lock().unwrap_or_else(|e| e.into_inner());
        layers.init = Some(layer);
        self.publish(&mut layers)
    }

    /// Sets the client-settings layer. If the new layer has errors it is not kept, so the server
    /// goes on with the last good configuration, and the errors are returned.
    pub fn set_client_layer(&self, layer: ConfigLayer) -> Vec<ConfigError> {
        let mut layers = self.layers.lock().unwrap_or_else(|e| e.into_inner());
        let (_, errors) = config::resolve(std::slice::from_ref(&layer));
        if errors.iter().any(ConfigError::is_error) {
            return errors;
        }
        layers.client = Some(layer);
        self.publish(&mut layers)
    }

    /// Merges the layers, makes the result the configuration (and its `log.level` the log
    /// filter), and returns the problems: every error, and the warnings not returned last time,
    /// so an ignored field is reported once rather than on every reload.
    fn publish(&self, layers: &mut ConfigLayers) -> Vec<ConfigError> {
        let (config, problems) = config::resolve(&layers.all());
        if *self.config.borrow().as_ref() != config {
            match crate::logging::apply_config_level(&config.log.level) {
                crate::logging::LevelChange::Applied => {
                    tracing::info!(filter = %config.log.level, "log filter changed");
                }
                crate::logging::LevelChange::Invalid(error) => {
                    tracing::warn!(%error, "the configured log filter cannot be used");
                }
                _ => {}
            }
            self.config.send_replace(Arc::new(config));
        }
        let (errors, warnings): (Vec<_>, Vec<_>) =
            problems.into_iter().partition(ConfigError::is_error);
        let new_warnings: Vec<ConfigError> = warnings
            .iter()
            .filter(|w| !layers.warned.contains(w))
            .cloned()
            .collect();
        layers.warned = warnings;
        errors.into_iter().chain(new_warnings).collect()
    }

    /// Keeps messages (each with its `window/showMessage` type) to show the user once the client
    /// can take them (after `initialize`).
    pub fn defer_messages(&self, messages: impl IntoIterator<Item = (MessageType, String)>) {
        self.deferred_messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(messages);
    }

    /// The messages kept by [`Self::defer_messages`], emptying the list.
    pub fn take_deferred_messages(&self) -> Vec<(MessageType, String)> {
        std::mem::take(
            &mut *self
                .deferred_messages
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// The workspace indexes, one per root that has been indexed.
    pub fn indexes(&self) -> Vec<Arc<WorkspaceIndex>> {
        self.indexes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Adds (or replaces, for the same root) a workspace index.
    pub fn add_index(&self, index: Arc<WorkspaceIndex>) {
        let mut indexes = self.indexes.write().unwrap_or_else(|e| e.into_inner());
        indexes.retain(|i| i.root() != index.root());
        indexes.push(index);
    }

    /// Drops the indexes of roots that are no longer open.
    pub fn retain_indexes(&self, keep: impl Fn(&Path) -> bool) {
        self.indexes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|i| keep(i.root()));
    }

    /// The index whose root holds `path`, if any (the deepest root wins).
    pub fn index_for(&self, path: &Path) -> Option<Arc<WorkspaceIndex>> {
        let indexes = self.indexes.read().unwrap_or_else(|e| e.into_inner());
        indexes
            .iter()
            .filter(|i| path.starts_with(i.root()))
            .max_by_key(|i| i.root().components().count())
            .cloned()
    }

    /// Remembers how to cancel the work behind a progress token.
    pub fn register_progress(&self, token: &str, cancel: CancellationToken) {
        let mut cancels = self
            .progress_cancels
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cancels.insert(token.to_owned(), cancel);
    }

    /// Forgets a finished progress token.
    pub fn finish_progress(&self, token: &str) {
        self.progress_cancels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }

    /// Cancels the work behind a progress token; returns whether there was any.
    pub fn cancel_progress(&self, token: &str) -> bool {
        let cancels = self
            .progress_cancels
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cancels.get(token).map(CancellationToken::cancel).is_some()
    }

    /// Sets where edited documents are sent for debounced re-indexing; only the first call counts.
    pub fn set_reindex_queue(&self, queue: mpsc::UnboundedSender<String>) {
        let _ = self.reindex_queue.set(queue);
    }

    /// Queues an edited document for re-indexing (does nothing before indexing has started).
    pub fn queue_reindex(&self, uri: &str) {
        if let Some(queue) = self.reindex_queue.get() {
            let _ = queue.send(uri.to_owned());
        }
    }

    /// Keeps something alive as long as the server (a file watcher, say).
    pub fn keep_alive(&self, thing: Box<dyn std::any::Any + Send>) {
        self.kept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .push(thing);
    }

    /// Builds the LLM client and the completion engine from the current configuration (once);
    /// later configurations reach the client through [`Self::reconfigure_models`].
    pub fn start_engine(&self) -> Result<(), String> {
        let config = self.config();
        let deps = LlmDeps {
            settings: config.llm.clone(),
            ..LlmDeps::default()
        };
        let client = LlmClient::new(&config.models, deps).map_err(|e| e.to_string())?;
        let engine = Arc::new(CompletionEngine::new(Arc::new(client)));
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = Some(engine);
        Ok(())
    }

    /// Hands a new model configuration to the LLM client: it takes effect on the next request.
    pub fn reconfigure_models(&self, config: &Config) -> Result<(), String> {
        match self.completion_engine() {
            Some(engine) => {
                engine
                    .client()
                    .reconfigure(&config.models)
                    .map_err(|e| e.to_string())?;
                // Suggestions on screen came from the old models: typing through them would
                // keep showing their text.
                engine.forget_all();
                Ok(())
            }
            None => self.start_engine(),
        }
    }

    /// The completion engine, once models are configured.
    pub fn completion_engine(&self) -> Option<Arc<CompletionEngine>> {
        self.engine
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Starts a completion for a document: cancels the one still running for it (its model call
    /// is dropped) and returns this one's generation and cancellation token.
    pub fn begin_completion(&self, key: &str) -> (u64, CancellationToken) {
        let generation = self.completion_generation.fetch_add(1, Ordering::SeqCst) + 1;
        let token = CancellationToken::new();
        let mut running = self.completions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, older)) = running.insert(key.to_owned(), (generation, token.clone())) {
            older.cancel();
        }
        (generation, token)
    }

    /// Ends a completion (if a newer one has not replaced it already).
    pub fn end_completion(&self, key: &str, generation: u64) {
        let mut running = self.completions.lock().unwrap_or_else(|e| e.into_inner());
        if running.get(key).is_some_and(|(g, _)| *g == generation) {
            running.remove(key);
        }
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
