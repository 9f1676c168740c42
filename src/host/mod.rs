//! The core host: one [`Workspace`] that owns the server's state, and the immutable
//! [`WorkspaceSnapshot`]s its readers work on. No protocol types here: the LSP layer and the
//! command line drive the same host.
//!
//! The host owns the open documents and their kept syntax trees, the workspace folders and an
//! index per folder, the LLM client and the completion engine, the validated configuration (its
//! layers merged), and the exclusion [`Policy`]. Changes go in through a few methods: documents
//! opened, edited and closed ([`Workspace::open_document`], [`Workspace::edit_document`],
//! [`Workspace::close_document`]), configuration layers set ([`Workspace::set_client_layer`],
//! ...), folders set or changed ([`Workspace::set_roots`], [`Workspace::change_roots`]), indexes
//! added, and file events ([`Workspace::files_changed`]). Readers take one
//! [`Workspace::snapshot`] for the life of a request: the documents, configuration, folders,
//! indexes, engine and policy of one moment, consistent with each other.
//!
//! The view is a few `Arc`s behind one `std` mutex, held for a few statements and never across an
//! `.await`: a change swaps the `Arc`s it touches (the documents copy on write only when a
//! snapshot still holds the old map; ropes share their nodes), and a snapshot clones them.
//!
//! ```
//! use augur::host::Workspace;
//!
//! let host = Workspace::new();
//! host.open_document("file:///a.py", None, "python", 1, "x = 1\n");
//! let snapshot = host.snapshot();
//! host.close_document("file:///a.py", None);
//! // The snapshot still sees the document as it was.
//! assert_eq!(snapshot.document("file:///a.py").unwrap().text.to_string(), "x = 1\n");
//! assert!(host.snapshot().document("file:///a.py").is_none());
//! ```

mod requests;
mod status;
mod trees;

pub use crate::policy::{Policy, Refusal};
pub use requests::RequestError;
pub use status::IndexPhase;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::sync::{mpsc, watch};

use crate::completion::CompletionEngine;
use crate::config::{self, Config, ConfigError, ConfigLayer};
use crate::dirs::Dirs;
use crate::documents::{Document, DocumentStore, StoreError};
use crate::index::WorkspaceIndex;
use crate::llm::health::{ModelHealth, Notice};
use crate::llm::usage::UsageLog;
use crate::llm::{LlmClient, LlmDeps, LlmError};
use crate::workspace::{RealPaths, WorkspaceRoot, root_paths};
use trees::TreeEntry;

/// The layers of configuration the host merges, and the warnings already reported.
#[derive(Debug, Default)]
struct ConfigLayers {
    files: Vec<ConfigLayer>,
    init: Option<ConfigLayer>,
    client: Option<ConfigLayer>,
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

/// Things kept alive as long as the host (file watchers).
#[derive(Default)]
struct Kept(Vec<Box<dyn std::any::Any + Send>>);

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} kept", self.0.len())
    }
}

/// One consistent view: what a snapshot holds.
#[derive(Debug, Clone)]
struct View {
    documents: Arc<DocumentStore>,
    /// The file of each open document that is one.
    paths: Arc<HashMap<String, PathBuf>>,
    config: Arc<Config>,
    roots: Arc<Vec<WorkspaceRoot>>,
    indexes: Arc<Vec<Arc<WorkspaceIndex>>>,
    engine: Option<Arc<CompletionEngine>>,
    policy: Arc<Policy>,
}

/// The host of one workspace: the single writer of its state.
#[derive(Debug)]
pub struct Workspace {
    view: Mutex<View>,
    layers: Mutex<ConfigLayers>,
    config_changes: watch::Sender<Arc<Config>>,
    trees: Mutex<HashMap<String, TreeEntry>>,
    /// Documents whose kept tree is being brought up to date on the blocking pool.
    refreshing: Mutex<HashSet<String>>,
    /// Real paths of documents and folders, for checks that run per request.
    real_paths: Arc<RealPaths>,
    reindex_queue: OnceLock<mpsc::UnboundedSender<String>>,
    kept: Mutex<Kept>,
    model_health: ModelHealth,
    notices: mpsc::UnboundedSender<Notice>,
    notice_queue: Mutex<Option<mpsc::UnboundedReceiver<Notice>>>,
    index_phases: Mutex<HashMap<PathBuf, IndexPhase>>,
    /// Where the host reads and writes outside the workspace.
    dirs: Dirs,
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

/// Locks a mutex, going on with the data of a holder that panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Workspace {
    /// An empty workspace with the built-in default configuration and no places outside the
    /// workspace (no user file, no usage log: see [`Workspace::with_dirs`]).
    pub fn new() -> Self {
        Self::with_dirs(Dirs::default())
    }

    /// An empty workspace with the built-in default configuration that reads the user file,
    /// keeps its indexes and writes its usage where `dirs` says.
    pub fn with_dirs(dirs: Dirs) -> Self {
        let config = Arc::new(Config::default());
        let (config_changes, _) = watch::channel(config.clone());
        let (notices, notice_queue) = mpsc::unbounded_channel();
        let real_paths = Arc::<RealPaths>::default();
        let policy = Arc::new(Policy::new(
            &config.index,
            Vec::new(),
            Vec::new(),
            real_paths.clone(),
        ));
        Self {
            view: Mutex::new(View {
                documents: Arc::default(),
                paths: Arc::default(),
                config,
                roots: Arc::default(),
                indexes: Arc::default(),
                engine: None,
                policy,
            }),
            layers: Mutex::default(),
            config_changes,
            trees: Mutex::default(),
            refreshing: Mutex::default(),
            real_paths,
            reindex_queue: OnceLock::new(),
            kept: Mutex::default(),
            model_health: ModelHealth::new(),
            notices,
            notice_queue: Mutex::new(Some(notice_queue)),
            index_phases: Mutex::default(),
            dirs,
        }
    }

    /// A host for a command run on `roots`, with `config` as its only layer; the models are
    /// started when any is configured (a command that needs them reports the error).
    pub fn for_command(config: Config, roots: Vec<WorkspaceRoot>) -> Self {
        let host = Self::with_dirs(Dirs::from_env());
        {
            let mut view = lock(&host.view);
            view.config = Arc::new(config);
            view.roots = Arc::new(roots);
            host.refresh_policy(&mut view);
        }
        host
    }

    /// One consistent view for the life of a request.
    pub fn snapshot(&self) -> WorkspaceSnapshot {
        WorkspaceSnapshot {
            view: lock(&self.view).clone(),
        }
    }

    /// Rebuilds the policy from the view's configuration, folders and indexes.
    fn refresh_policy(&self, view: &mut View) {
        view.policy = Arc::new(Policy::new(
            &view.config.index,
            root_paths(&view.roots),
            view.indexes.as_ref().clone(),
            self.real_paths.clone(),
        ));
    }

    // Documents.

    /// Opens (or re-opens, replacing) a document; `path` is its file, if it is one.
    pub fn open_document(
        &self,
        key: &str,
        path: Option<&Path>,
        language_id: &str,
        version: i32,
        text: &str,
    ) {
        self.forget_tree(key);
        // Where the path leads is resolved afresh when the document opens (a few system calls),
        // so that completions find it remembered.
        if let Some(path) = path {
            self.real_paths.forget(path);
            self.real_paths.real(path);
        }
        let mut view = lock(&self.view);
        Arc::make_mut(&mut view.documents).open(key, language_id, version, text);
        let paths = Arc::make_mut(&mut view.paths);
        match path {
            Some(path) => paths.insert(key.to_owned(), path.to_path_buf()),
            None => paths.remove(key),
        };
    }

    /// Changes a document all or nothing: `change` works on a copy that replaces the document,
    /// at `version`, only if it succeeds; `tree_edits` (when asked for) collects the edits for
    /// the kept syntax tree, which follows them. Returns the text's new generation, and queues
    /// the document for re-indexing.
    pub fn edit_document<E>(
        &self,
        key: &str,
        version: i32,
        change: impl FnOnce(&mut Document, Option<&mut Vec<tree_sitter::InputEdit>>) -> Result<(), E>,
    ) -> Result<u64, E>
    where
        E: From<StoreError>,
    {
        let mut tree_edits = self.keeps_tree(key).then(Vec::new);
        let mut generation = 0;
        {
            let mut view = lock(&self.view);
            let documents = &mut view.documents;
            if !documents.contains(key) {
                return Err(StoreError::NotOpen(key.to_owned()).into());
            }
            Arc::make_mut(documents).edit::<E>(key, version, |doc| {
                change(doc, tree_edits.as_mut())?;
                generation = doc.generation;
                Ok(())
            })?;
        }
        if let Some(tree_edits) = tree_edits {
            self.note_edits(key, generation, tree_edits);
        }
        Ok(generation)
    }

    /// Closes a document and forgets what is kept for it; returns whether it was open.
    pub fn close_document(&self, key: &str, path: Option<&Path>) -> bool {
        let engine = lock(&self.view).engine.clone();
        if let Some(engine) = engine {
            engine.forget_document(key, path);
        }
        self.forget_tree(key);
        let mut view = lock(&self.view);
        if !view.documents.contains(key) {
            return false;
        }
        if view.paths.contains_key(key) {
            Arc::make_mut(&mut view.paths).remove(key);
        }
        Arc::make_mut(&mut view.documents).close(key)
    }

    // Configuration.

    /// A receiver that sees every new configuration, for subsystems that react to hot reloads.
    pub fn subscribe_config(&self) -> watch::Receiver<Arc<Config>> {
        self.config_changes.subscribe()
    }

    /// Re-reads the configuration files for the current folders and merges every layer. Returns
    /// the problems found; layers with errors are left out.
    pub fn reload_files(&self) -> Vec<ConfigError> {
        let roots = root_paths(&lock(&self.view).roots);
        let (files, mut errors) = config::file_layers(self.dirs.user_config.as_deref(), &roots);
        let mut layers = lock(&self.layers);
        layers.files = files;
        errors.extend(self.publish(&mut layers));
        errors
    }

    /// Sets the `initializationOptions` layer.
    pub fn set_init_layer(&self, layer: ConfigLayer) -> Vec<ConfigError> {
        let mut layers = lock(&self.layers);
        layers.init = Some(layer);
        self.publish(&mut layers)
    }

    /// Sets the client-settings layer. If the new layer has errors it is not kept, so the host
    /// goes on with the last good configuration, and the errors are returned.
    pub fn set_client_layer(&self, layer: ConfigLayer) -> Vec<ConfigError> {
        let mut layers = lock(&self.layers);
        let (_, errors) = config::resolve(std::slice::from_ref(&layer));
        if errors.iter().any(ConfigError::is_error) {
            return errors;
        }
        layers.client = Some(layer);
        self.publish(&mut layers)
    }

    /// Merges the layers, makes the result the configuration (and its `log.level` the log
    /// filter), and returns the problems: every error, and the warnings not returned last time.
    fn publish(&self, layers: &mut ConfigLayers) -> Vec<ConfigError> {
        let (mut config, problems) = config::resolve(&layers.all());
        if let Some(cache) = &self.dirs.cache {
            config.index.cache_dir = Some(cache.clone());
        }
        let changed = {
            let mut view = lock(&self.view);
            let changed = *view.config != config;
            if changed {
                view.config = Arc::new(config);
                self.refresh_policy(&mut view);
            }
            changed.then(|| view.config.clone())
        };
        if let Some(config) = changed {
            match crate::logging::apply_config_level(&config.log.level) {
                crate::logging::LevelChange::Applied => {
                    tracing::info!(filter = %config.log.level, "log filter changed");
                }
                crate::logging::LevelChange::Invalid(error) => {
                    tracing::warn!(%error, "the configured log filter cannot be used");
                }
                _ => {}
            }
            self.config_changes.send_replace(config);
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

    // Folders and indexes.

    /// Replaces the workspace folders (the indexes of folders no longer open are dropped).
    pub fn set_roots(&self, roots: Vec<WorkspaceRoot>) {
        let mut view = lock(&self.view);
        let kept: Vec<_> = view
            .indexes
            .iter()
            .filter(|index| roots.iter().any(|r| r.path == index.root()))
            .cloned()
            .collect();
        if kept.len() != view.indexes.len() {
            view.indexes = Arc::new(kept);
        }
        view.roots = Arc::new(roots);
        self.real_paths.clear();
        self.refresh_policy(&mut view);
    }

    /// Adds and removes folders; returns the folders added (those not open already).
    pub fn change_roots(
        &self,
        added: Vec<WorkspaceRoot>,
        removed: &[WorkspaceRoot],
    ) -> Vec<WorkspaceRoot> {
        let mut roots = lock(&self.view).roots.as_ref().clone();
        roots.retain(|root| !removed.iter().any(|r| r.path == root.path));
        let mut new_roots = Vec::new();
        for root in added {
            if !roots.iter().any(|r| r.path == root.path) {
                roots.push(root.clone());
                new_roots.push(root);
            }
        }
        self.set_roots(roots);
        new_roots
    }

    /// Adds (or replaces, for the same folder) a workspace index.
    pub fn add_index(&self, index: Arc<WorkspaceIndex>) {
        let mut view = lock(&self.view);
        let mut indexes = view.indexes.as_ref().clone();
        indexes.retain(|i| i.root() != index.root());
        indexes.push(index);
        view.indexes = Arc::new(indexes);
        self.refresh_policy(&mut view);
    }

    /// Opens (or creates) the index of `root` with the current configuration and adds it; the
    /// caller builds it ([`WorkspaceIndex::build`], on a blocking thread), since that takes long
    /// and reports progress its own way. Blocking.
    pub fn open_index(&self, root: &Path) -> Result<Arc<WorkspaceIndex>, crate::index::IndexError> {
        let config = lock(&self.view).config.index.clone();
        let index = Arc::new(WorkspaceIndex::open(root, &config)?);
        self.add_index(index.clone());
        Ok(index)
    }

    /// Files changed on disk (or links were made): real paths are resolved afresh.
    pub fn files_changed(&self) {
        self.real_paths.clear();
    }

    /// The remembered real paths (a watcher forgets them when files change).
    pub fn real_paths(&self) -> &Arc<RealPaths> {
        &self.real_paths
    }

    /// Sets where edited documents are sent for debounced re-indexing; only the first call counts.
    pub fn set_reindex_queue(&self, queue: mpsc::UnboundedSender<String>) {
        let _ = self.reindex_queue.set(queue);
    }

    /// Queues an edited (or closed) document for re-indexing (nothing before indexing started).
    pub fn queue_reindex(&self, key: &str) {
        if let Some(queue) = self.reindex_queue.get() {
            let _ = queue.send(key.to_owned());
        }
    }

    /// Keeps something alive as long as the host (a file watcher, say).
    pub fn keep_alive(&self, thing: Box<dyn std::any::Any + Send>) {
        lock(&self.kept).0.push(thing);
    }

    // Models.

    /// Builds the LLM client and the completion engine from the current configuration; later
    /// configurations reach the client through [`Self::reconfigure_models`].
    pub fn start_engine(&self) -> Result<(), LlmError> {
        let config = lock(&self.view).config.clone();
        let deps = LlmDeps {
            settings: config.llm.clone(),
            notices: Some(self.notices.clone()),
            usage: self
                .dirs
                .usage
                .clone()
                .filter(|_| config.metrics.usage)
                .map(|dir| Arc::new(UsageLog::new(dir))),
            ..LlmDeps::default()
        };
        let client = LlmClient::new(&config.models, deps)?;
        let engine = Arc::new(CompletionEngine::new(Arc::new(client)));
        lock(&self.view).engine = Some(engine);
        Ok(())
    }

    /// Hands a new model configuration to the LLM client: it takes effect on the next request.
    pub fn reconfigure_models(&self, config: &Config) -> Result<(), LlmError> {
        let engine = lock(&self.view).engine.clone();
        match engine {
            Some(engine) => {
                engine.client().reconfigure(&config.models)?;
                // Suggestions on screen came from the old models: typing through them would
                // keep showing their text.
                engine.forget_all();
                Ok(())
            }
            None => self.start_engine(),
        }
    }
}

/// One consistent, immutable view of the workspace, for the life of a request: the documents,
/// configuration, folders, indexes, engine and policy of one moment. Cheap to take and to clone.
#[derive(Debug, Clone)]
pub struct WorkspaceSnapshot {
    view: View,
}

impl WorkspaceSnapshot {
    /// A document as it was when the snapshot was taken.
    pub fn document(&self, key: &str) -> Option<Document> {
        self.view.documents.get(key)
    }

    /// The open documents.
    pub fn documents(&self) -> &DocumentStore {
        &self.view.documents
    }

    /// The file of an open document, when it is one.
    pub fn document_path(&self, key: &str) -> Option<&Path> {
        self.view.paths.get(key).map(PathBuf::as_path)
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.view.config
    }

    /// The workspace folders.
    pub fn roots(&self) -> &[WorkspaceRoot] {
        &self.view.roots
    }

    /// The folders as plain paths.
    pub fn root_paths(&self) -> Vec<PathBuf> {
        root_paths(&self.view.roots)
    }

    /// The workspace indexes, one per folder that has been indexed.
    pub fn indexes(&self) -> &[Arc<WorkspaceIndex>] {
        &self.view.indexes
    }

    /// The index whose folder holds `path`, if any (the deepest folder wins).
    pub fn index_for(&self, path: &Path) -> Option<Arc<WorkspaceIndex>> {
        self.view
            .indexes
            .iter()
            .filter(|i| path.starts_with(i.root()))
            .max_by_key(|i| i.root().components().count())
            .cloned()
    }

    /// The completion engine (and through it the LLM client), once models are configured.
    pub fn engine(&self) -> Option<&Arc<CompletionEngine>> {
        self.view.engine.as_ref()
    }

    /// The exclusion policy every feature asks.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.view.policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigSource;

    #[test]
    fn a_snapshot_keeps_its_view_while_the_host_changes() {
        let host = Workspace::new();
        host.open_document("file:///a.py", None, "python", 1, "a = 1\n");
        let before = host.snapshot();
        host.edit_document::<StoreError>("file:///a.py", 2, |doc, _| {
            doc.apply(&crate::documents::TextEdit::insert(0, "# hi\n"))?;
            Ok(())
        })
        .unwrap();
        let layer = ConfigLayer::from_client_json(
            ConfigSource::ClientSettings,
            serde_json::json!({"completion": {"debounce_ms": 7}}),
        );
        assert!(host.set_client_layer(layer).is_empty());
        host.set_roots(vec![WorkspaceRoot::from_path("/ws/app")]);
        let after = host.snapshot();
        assert_eq!(before.document("file:///a.py").unwrap().version, 1);
        assert_eq!(
            before.document("file:///a.py").unwrap().text.to_string(),
            "a = 1\n"
        );
        assert_ne!(before.config().completion.debounce_ms, 7);
        assert!(before.roots().is_empty());
        assert_eq!(after.document("file:///a.py").unwrap().version, 2);
        assert_eq!(
            after.document("file:///a.py").unwrap().text.to_string(),
            "# hi\na = 1\n"
        );
        assert_eq!(after.config().completion.debounce_ms, 7);
        assert_eq!(after.root_paths(), vec![PathBuf::from("/ws/app")]);
        assert_eq!(after.policy().roots(), [PathBuf::from("/ws/app")]);
    }

    #[test]
    fn a_refused_edit_leaves_the_document_and_reports_a_closed_one() {
        let host = Workspace::new();
        host.open_document("file:///a.py", None, "python", 1, "abc");
        let refused = host.edit_document::<StoreError>("file:///a.py", 2, |doc, _| {
            doc.apply(&crate::documents::TextEdit::insert(1, "x"))?;
            doc.apply(&crate::documents::TextEdit::insert(99, "y"))?;
            Ok(())
        });
        assert!(refused.is_err());
        let doc = host.snapshot().document("file:///a.py").unwrap();
        assert_eq!((doc.version, doc.text.to_string()), (1, "abc".into()));
        assert!(matches!(
            host.edit_document::<StoreError>("file:///b.py", 1, |_, _| Ok(())),
            Err(StoreError::NotOpen(_))
        ));
        assert!(host.close_document("file:///a.py", None));
        assert!(!host.close_document("file:///a.py", None));
    }

    #[test]
    fn changing_folders_reports_only_new_ones() {
        let host = Workspace::new();
        host.set_roots(vec![WorkspaceRoot::from_path("/ws/a")]);
        let added = host.change_roots(
            vec![
                WorkspaceRoot::from_path("/ws/a"),
                WorkspaceRoot::from_path("/ws/b"),
            ],
            &[],
        );
        assert_eq!(added, vec![WorkspaceRoot::from_path("/ws/b")]);
        let added = host.change_roots(Vec::new(), &[WorkspaceRoot::from_path("/ws/a")]);
        assert!(added.is_empty());
        assert_eq!(host.snapshot().root_paths(), vec![PathBuf::from("/ws/b")]);
    }
}
