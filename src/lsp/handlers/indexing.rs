//! Keeping the workspace index current: the first indexing of each root (with `$/progress` the
//! user can cancel), debounced re-indexing of edited documents (and, once closed, of their files
//! on disk), and re-indexing of saved, created, changed and deleted files.
//!
//! Indexing runs on blocking threads; requests keep being answered meanwhile, and the index is
//! searchable while it fills. Progress is reported only to clients that support work-done
//! progress: `begin` ("Indexing app"), `report`s with a percentage and "1234/5000 files" (at most
//! one per percent), and `end` with the summary. Where each root stands (building with files
//! done and to do, ready, failed) is kept in the state for `augur/status`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::notification::Progress;
use tower_lsp_server::ls_types::request::WorkDoneProgressCreate;
use tower_lsp_server::ls_types::{
    DidChangeWatchedFilesParams, FileChangeType, MessageType, NumberOrString, ProgressParams,
    ProgressParamsValue, Registration, Uri, WorkDoneProgress, WorkDoneProgressBegin,
    WorkDoneProgressCancelParams, WorkDoneProgressCreateParams, WorkDoneProgressEnd,
    WorkDoneProgressReport,
};

use crate::config::WORKSPACE_FILES;
use crate::host::IndexPhase;
use crate::index::{IndexProgress, IndexSummary, WorkspaceIndex};
use crate::lsp::from_proto;
use crate::lsp::handlers::configuration;
use crate::lsp::state::ServerState;
use crate::workspace::WorkspaceRoot;

/// Starts indexing every root and the re-indexing of edited documents. Returns when the first
/// indexing of every root has ended.
pub async fn start(state: Arc<ServerState>, client: Client) {
    let snapshot = state.snapshot();
    if !snapshot.config().index.enabled {
        tracing::info!("workspace indexing is off (index.enabled = false)");
        return;
    }
    let (queue, edited) = mpsc::unbounded_channel();
    state.host.set_reindex_queue(queue);
    tokio::spawn(reindex_edited(state.clone(), edited));
    if state.caps().watched_files_dynamic {
        register_file_watcher(&client).await;
    }
    for root in snapshot.roots().to_vec() {
        index_root(&state, &client, root).await;
    }
}

async fn register_file_watcher(client: &Client) {
    let registration = Registration {
        id: "augur/watched-files".into(),
        method: "workspace/didChangeWatchedFiles".into(),
        register_options: Some(json!({"watchers": [{"globPattern": "**/*"}]})),
    };
    if let Err(error) = client.register_capability(vec![registration]).await {
        tracing::warn!(%error, "the client refused to watch files for us");
    }
}

/// Progress events from the indexing thread to the task that reports them.
enum Event {
    Begin(usize),
    Report { done: usize, total: usize },
    End(IndexSummary),
}

/// A test hook: when this environment variable names a file, the first indexing of each root
/// pauses after its first file until that file exists (at most a minute), so that tests can send
/// requests while indexing runs without racing it. Only in builds with the `test-support` feature.
#[cfg(feature = "test-support")]
pub const HOLD_INDEXING_ENV: &str = "AUGUR_TEST_HOLD_INDEXING";

/// Turns the index's progress callbacks into events, at most one report per percent.
struct ChannelProgress {
    events: mpsc::UnboundedSender<Event>,
    last_percent: AtomicUsize,
    /// The file to wait for after the first file (see [`HOLD_INDEXING_ENV`]).
    #[cfg(feature = "test-support")]
    hold: Option<PathBuf>,
}

impl ChannelProgress {
    fn new(events: mpsc::UnboundedSender<Event>) -> ChannelProgress {
        ChannelProgress {
            events,
            last_percent: AtomicUsize::new(usize::MAX),
            #[cfg(feature = "test-support")]
            hold: std::env::var_os(HOLD_INDEXING_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }

    /// Waits for the hold file of the test hook, if there is one.
    #[cfg(feature = "test-support")]
    fn wait_for_release(&self) {
        let Some(hold) = &self.hold else {
            return;
        };
        tracing::info!(file = %hold.display(), "indexing held until the file exists");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !hold.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl IndexProgress for ChannelProgress {
    fn begin(&self, total: usize) {
        let _ = self.events.send(Event::Begin(total));
    }

    fn file_done(&self, done: usize, total: usize, _path: &std::path::Path) {
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        if self.last_percent.swap(percent, Ordering::Relaxed) != percent || done == total {
            let _ = self.events.send(Event::Report { done, total });
        }
        #[cfg(feature = "test-support")]
        if done == 1 {
            self.wait_for_release();
        }
    }

    fn end(&self, summary: &IndexSummary) {
        let _ = self.events.send(Event::End(summary.clone()));
    }
}

async fn send_progress(client: &Client, token: &NumberOrString, value: WorkDoneProgress) {
    let params = ProgressParams {
        token: token.clone(),
        value: ProgressParamsValue::WorkDone(value),
    };
    client.send_notification::<Progress>(params).await;
}

/// Forwards progress events to the client until the end event, and records the progress of
/// `root` in the state.
async fn report(
    state: Arc<ServerState>,
    root: PathBuf,
    client: Client,
    token: Option<NumberOrString>,
    title: String,
    mut events: mpsc::UnboundedReceiver<Event>,
) {
    while let Some(event) = events.recv().await {
        match event {
            Event::Begin(total) => state.host.set_index_phase(&root, building(0, Some(total))),
            Event::Report { done, total } => state
                .host
                .set_index_phase(&root, building(done, Some(total))),
            Event::End(_) => {}
        }
        let Some(token) = &token else {
            if let Event::End(summary) = event {
                tracing::info!(summary = %summary.describe(), "{title}: done");
            }
            continue;
        };
        let value = match event {
            Event::Begin(total) => WorkDoneProgress::Begin(WorkDoneProgressBegin {
                title: title.clone(),
                cancellable: Some(true),
                message: Some(format!("0/{total} files")),
                percentage: Some(0),
            }),
            Event::Report { done, total } => WorkDoneProgress::Report(WorkDoneProgressReport {
                cancellable: Some(true),
                message: Some(format!("{done}/{total} files")),
                percentage: Some((done * 100).checked_div(total).unwrap_or(100) as u32),
            }),
            Event::End(summary) => {
                tracing::info!(summary = %summary.describe(), "{title}: done");
                let end = WorkDoneProgressEnd {
                    message: Some(summary.describe()),
                };
                send_progress(&client, token, WorkDoneProgress::End(end)).await;
                return;
            }
        };
        send_progress(&client, token, value).await;
    }
}

fn building(done: usize, total: Option<usize>) -> IndexPhase {
    IndexPhase::Building { done, total }
}

/// Opens (or creates) the index of one root, adds it to the state, and brings it up to date.
pub async fn index_root(state: &Arc<ServerState>, client: &Client, root: WorkspaceRoot) {
    state.host.set_index_phase(&root.path, building(0, None));
    let config = state.snapshot().config().index.clone();
    let title = format!("Indexing {}", root.name);
    let token_name = format!("augur/index/{}", root.path.display());
    let token = NumberOrString::String(token_name.clone());
    let use_progress = state.caps().work_done_progress
        && client
            .send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                token: token.clone(),
            })
            .await
            .is_ok();
    let cancel = CancellationToken::new();
    state.register_progress(&token_name, cancel.clone());
    let (events, receiver) = mpsc::unbounded_channel();
    let reporter = tokio::spawn(report(
        state.clone(),
        root.path.clone(),
        client.clone(),
        use_progress.then_some(token),
        title,
        receiver,
    ));
    let path = root.path.clone();
    let opened = tokio::task::spawn_blocking(move || WorkspaceIndex::open(&path, &config)).await;
    match &opened {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => state
            .host
            .set_index_phase(&root.path, IndexPhase::Failed(error.to_string())),
        Err(_) => state
            .host
            .set_index_phase(&root.path, IndexPhase::Failed(STOPPED.into())),
    }
    let index = match opened {
        Ok(Ok(index)) => Arc::new(index),
        Ok(Err(error)) => {
            let message = format!(
                "augur: cannot open the index of {}: {error}",
                root.path.display()
            );
            tracing::error!("{message}");
            client.show_message(MessageType::WARNING, message).await;
            let _ = events.send(Event::End(IndexSummary::default()));
            state.finish_progress(&token_name);
            return;
        }
        Err(join_error) => {
            log_join_error(&join_error, "opening the index");
            state.finish_progress(&token_name);
            return;
        }
    };
    state.host.add_index(index.clone());
    index.spawn_committer(CancellationToken::new());
    if !state.caps().watched_files_dynamic {
        let real_paths = state.host.real_paths().clone();
        match crate::index::watch::watch_then(&index, move || real_paths.clear()) {
            Ok(watcher) => state.host.keep_alive(Box::new(watcher)),
            Err(error) => {
                tracing::warn!(%error, "cannot watch {} for changes", root.path.display())
            }
        }
    }
    let progress = ChannelProgress::new(events);
    let build_cancel = cancel.clone();
    let built = tokio::task::spawn_blocking(move || index.build(&progress, &build_cancel)).await;
    let phase = match &built {
        Ok(Ok(_)) => IndexPhase::Ready,
        Ok(Err(error)) => IndexPhase::Failed(error.to_string()),
        Err(_) => IndexPhase::Failed(STOPPED.into()),
    };
    match built {
        Ok(Ok(summary)) => {
            tracing::debug!(files = summary.files, "indexed {}", root.path.display())
        }
        Ok(Err(error)) => tracing::error!(%error, "indexing {} failed", root.path.display()),
        Err(join_error) => log_join_error(&join_error, "indexing"),
    }
    let _ = reporter.await;
    state.host.set_index_phase(&root.path, phase);
    state.finish_progress(&token_name);
}

/// The failure recorded for a root whose indexing task ended without a result.
const STOPPED: &str = "indexing stopped unexpectedly; see the log";

/// Logs why a blocking task did not finish: a panic is an error, but a task cancelled because the
/// runtime is stopping (`exit` came while it waited for a thread) is only a debug line.
fn log_join_error(join_error: &tokio::task::JoinError, what: &str) {
    if join_error.is_cancelled() {
        tracing::debug!(%join_error, "{what} was cancelled: the server is stopping");
    } else {
        tracing::error!(%join_error, "{what} panicked");
    }
}

/// Handles `window/workDoneProgress/cancel`.
pub fn cancel(state: &ServerState, params: WorkDoneProgressCancelParams) {
    let token = match &params.token {
        NumberOrString::String(s) => s.clone(),
        NumberOrString::Number(n) => n.to_string(),
    };
    if state.cancel_progress(&token) {
        tracing::info!(%token, "work cancelled by the user");
    }
}

/// Re-indexes edited documents once they have been quiet for `index.debounce_ms`. Updates carry
/// the document version, so the newest text wins.
async fn reindex_edited(state: Arc<ServerState>, mut edited: mpsc::UnboundedReceiver<String>) {
    let mut pending: HashSet<String> = HashSet::new();
    loop {
        if pending.is_empty() {
            match edited.recv().await {
                Some(uri) => pending.insert(uri),
                None => return,
            };
        }
        let quiet = Duration::from_millis(state.snapshot().config().index.debounce_ms);
        match tokio::time::timeout(quiet, edited.recv()).await {
            Ok(Some(uri)) => {
                pending.insert(uri);
            }
            Ok(None) => return,
            Err(_) => {
                for uri in pending.drain() {
                    reindex_document(&state, &uri);
                }
            }
        }
    }
}

/// Re-indexes an open document from its text, or a closed one from the disk (closing a document
/// without saving it drops its unsaved text from the index).
fn reindex_document(state: &ServerState, key: &str) {
    let Some(uri) = key.parse::<Uri>().ok() else {
        return;
    };
    let Some(path) = from_proto::path(&uri) else {
        return;
    };
    let snapshot = state.snapshot();
    let Some(doc) = snapshot.document(&from_proto::doc_key(&uri)) else {
        update_file(state, path, false);
        return;
    };
    let Some(index) = snapshot.index_for(&path) else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        let text = doc.text.to_string();
        if let Err(error) = index.update_text(&path, &text, Some(i64::from(doc.version))) {
            tracing::debug!(%error, path = %path.display(), "not re-indexed");
        }
    });
}

fn update_file(state: &ServerState, path: PathBuf, deleted: bool) {
    let Some(index) = state.snapshot().index_for(&path) else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        let outcome = if deleted {
            index.remove_path(&path)
        } else {
            index.update_path(&path)
        };
        if let Err(error) = outcome {
            tracing::debug!(%error, path = %path.display(), "not re-indexed");
        }
    });
}

fn is_config_file(path: &std::path::Path) -> bool {
    path.file_name()
        .is_some_and(|name| WORKSPACE_FILES.iter().any(|f| name == *f))
}

/// Re-indexes a closed document from the disk, through the same debounced queue as its edits so
/// that an edit re-indexed late cannot overwrite the file's text on disk. Does nothing before
/// indexing has started.
pub fn closed(state: &ServerState, uri: &Uri) {
    state.host.queue_reindex(uri.as_str());
}

/// Re-indexes a saved file.
pub fn saved(state: &ServerState, uri: &Uri) {
    if let Some(path) = from_proto::path(uri) {
        update_file(state, path, false);
    }
}

/// Handles `workspace/didChangeWatchedFiles`: files re-indexed or removed, and the configuration
/// re-read when an `augur.toml` changed.
pub async fn watched_files_changed(
    state: &ServerState,
    client: &Client,
    params: DidChangeWatchedFilesParams,
) {
    // A link made or replaced anywhere may move any path: real paths are resolved afresh.
    state.host.files_changed();
    let mut config_changed = false;
    for change in params.changes {
        let Some(path) = from_proto::path(&change.uri) else {
            continue;
        };
        config_changed |= is_config_file(&path);
        update_file(state, path, change.typ == FileChangeType::DELETED);
    }
    if config_changed {
        configuration::reload_files(state, client).await;
    }
}
