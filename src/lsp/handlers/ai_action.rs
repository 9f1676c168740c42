//! What the AI code action handlers share: turning a request into the core's
//! [`ActionRequest`], running it with `$/progress` and cancellation, and turning its outcome into
//! a protocol `WorkspaceEdit` (version-guarded) or a shown explanation.
//!
//! A run reports `begin` (the action's title), `report`s as the model's answer streams in ("42
//! pieces received"), and `end` (done, or why not). Cancelling the progress
//! (`window/workDoneProgress/cancel`) or the request (`$/cancelRequest`) drops the run, which
//! closes the model's HTTP connection.
//!
//! Example `data` of a lazily resolved code action:
//! `{"uri": "file:///ws/src/lib.rs", "version": 3, "generation": 17, "range": {...}, "action":
//! "augur.document"}`.
//!
//! Staleness follows the text, not only the client's version number (a client may repeat a
//! version with another text): an offer carries the server's generation of the text it was made
//! for, and an edit is sent only while the document still has the text it was computed from.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::{Error, ErrorCode};
use tower_lsp_server::ls_types::notification::Progress;
use tower_lsp_server::ls_types::request::WorkDoneProgressCreate;
use tower_lsp_server::ls_types::{
    self, MessageType, NumberOrString, ProgressParams, ProgressParamsValue, ShowDocumentParams,
    Uri, WorkDoneProgress, WorkDoneProgressBegin, WorkDoneProgressCreateParams,
    WorkDoneProgressEnd, WorkDoneProgressReport,
};

use crate::actions::{
    ActionContext, ActionError, ActionId, ActionOutcome, ActionProgress, ActionRequest, run_action,
};
use crate::documents::Document;
use crate::edits::{OpenNow, PlanError, WorkspaceEditPlan};
use crate::host::WorkspaceSnapshot;
use crate::lsp::state::ServerState;
use crate::lsp::{from_proto, to_proto};

/// An open document and the selection in it, ready for the core, with the snapshot of the
/// workspace the request works on.
#[derive(Debug, Clone)]
pub struct Target {
    /// The workspace as the request found it.
    pub snapshot: WorkspaceSnapshot,
    /// The document's key in the store.
    pub key: String,
    /// The snapshot the action runs on.
    pub doc: Document,
    /// The core's view of it.
    pub context: ActionContext,
}

impl Target {
    /// Refuses the target when the document is no longer at `expected`, the version an action
    /// was offered or asked for (`None`: any version), or no longer has the text of `generation`,
    /// the one it was offered for (`None`: any text).
    pub fn require_version(
        &self,
        expected: Option<i32>,
        generation: Option<u64>,
    ) -> Result<(), Failure> {
        match expected {
            Some(expected) if expected != self.doc.version => {
                Err(Failure::Stale(PlanError::Stale {
                    path: self.context.path.clone(),
                    expected,
                    current: Some(self.doc.version),
                }))
            }
            _ if generation.is_some_and(|g| g != self.doc.generation) => {
                Err(Failure::Stale(PlanError::Changed {
                    path: self.context.path.clone(),
                    version: self.doc.version,
                }))
            }
            _ => Ok(()),
        }
    }
}

/// Why a run gave no outcome.
#[derive(Debug)]
pub enum Failure {
    /// The user cancelled it.
    Cancelled,
    /// The document changed while the model was working.
    Stale(PlanError),
    /// The action failed; the message is for the user.
    Failed(String),
}

impl From<ActionError> for Failure {
    fn from(error: ActionError) -> Self {
        match error {
            ActionError::Plan(stale @ (PlanError::Stale { .. } | PlanError::Changed { .. })) => {
                Failure::Stale(stale)
            }
            other => Failure::Failed(other.to_string()),
        }
    }
}

impl Failure {
    /// The response error for a request.
    pub fn into_error(self) -> Error {
        match self {
            Failure::Cancelled => Error::request_cancelled(),
            Failure::Stale(stale) => Error {
                code: ErrorCode::ContentModified,
                message: stale.to_string().into(),
                data: None,
            },
            Failure::Failed(message) => request_failed(message),
        }
    }

    /// The message shown to the user.
    pub fn message(&self) -> String {
        match self {
            Failure::Cancelled => "augur: the AI action was cancelled".into(),
            Failure::Stale(stale) => format!("augur: {stale}"),
            Failure::Failed(message) => format!("augur: {message}"),
        }
    }
}

/// A `RequestFailed` (-32803) error: the request was valid but the action failed.
pub fn request_failed(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::ServerError(-32803),
        message: message.into().into(),
        data: None,
    }
}

/// The open document `uri` with `range` selected and the client's diagnostics, in the request's
/// `snapshot` of the workspace. Refuses documents that are not open, not files, or that the exclusion
/// policy keeps from a model (secrets and `index.exclude` patterns never reach one).
pub fn target(
    state: &ServerState,
    snapshot: WorkspaceSnapshot,
    uri: &Uri,
    range: ls_types::Range,
    diagnostics: &[ls_types::Diagnostic],
) -> Result<Target, Failure> {
    let path = from_proto::path(uri)
        .ok_or_else(|| Failure::Failed(format!("AI actions need a file URI, not {uri:?}")))?;
    let key = from_proto::doc_key(uri);
    let doc = snapshot
        .document(&key)
        .ok_or_else(|| Failure::Failed(format!("{} is not open", path.display())))?;
    let encoding = state.encoding();
    let bytes = from_proto::range(&doc.text, range, encoding);
    let diagnostics = diagnostics
        .iter()
        .map(|d| from_proto::diagnostic(&doc.text, d, encoding))
        .collect();
    // The same context the command line builds, under the same exclusion policy.
    let context = snapshot
        .action_context(&key, bytes, diagnostics)
        .map_err(|error| Failure::Failed(format!("no AI action for {error}")))?;
    Ok(Target {
        snapshot,
        key,
        doc,
        context,
    })
}

/// The core's request for running `action` on `target`, from the target's snapshot.
pub fn request(target: &Target, action: ActionId, instruction: Option<String>) -> ActionRequest {
    target
        .snapshot
        .action_request(target.context.clone(), action, instruction)
}

/// Runs an action with progress and cancellation. `token` is the client's own progress token
/// (from a request's `workDoneToken`); without one, a token is created when the client shows
/// server-initiated progress.
pub async fn run(
    state: &Arc<ServerState>,
    client: &Client,
    target: &Target,
    request: ActionRequest,
    token: Option<NumberOrString>,
) -> Result<ActionOutcome, Failure> {
    let llm = target
        .snapshot
        .engine()
        .map(|engine| engine.client().clone())
        .ok_or_else(|| {
            Failure::Failed("no model is configured: add one under [models] in augur.toml".into())
        })?;
    // A token of our own is asked for without waiting: the run starts at once, and its progress
    // is sent once the client has created the token. A client that handles our requests only
    // after it has this request's answer (Helix blocks on `codeAction/resolve`) gets the answer
    // without delay, and its progress never.
    let (token, create) = match token {
        Some(token) => (Some(token), false),
        None if state.caps().work_done_progress => (Some(new_token()), true),
        None => (None, false),
    };
    let cancel = CancellationToken::new();
    let (events, receiver) = mpsc::unbounded_channel();
    let name = token.as_ref().map(token_name);
    if let Some(name) = &name {
        state.register_progress(name, cancel.clone());
    }
    let created = Arc::new(AtomicBool::new(!create));
    let reporter = token.map(|token| {
        let (client, created) = (client.clone(), created.clone());
        tokio::spawn(async move {
            if create && !create_token(&client, token.clone()).await {
                return;
            }
            created.store(true, Ordering::Release);
            report(client, token, receiver).await;
        })
    });
    let progress = ChannelProgress {
        events,
        last_report: std::sync::Mutex::new(None),
    };
    // Ends the progress and forgets the token however the run stops, even when the request's
    // future is dropped by `$/cancelRequest`.
    let guard = RunGuard {
        state: state.clone(),
        name,
        events: progress.events.clone(),
    };
    let outcome = tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Failure::Cancelled),
        result = run_action(&llm, request, &progress) => result.map_err(Failure::from),
    };
    drop(guard);
    // The progress ends before the answer, unless the client has not created the token yet.
    if let Some(reporter) = reporter
        && created.load(Ordering::Acquire)
    {
        let _ = tokio::time::timeout(Duration::from_secs(1), reporter).await;
    }
    outcome
}

/// The protocol edit for a plan computed from `target`, refused when a document it edits is no
/// longer at the version the edits were computed for, or (the target's document) no longer has
/// the text they were computed from, whatever its version number says; or when a path leads out
/// of the workspace folders (checked again on the disk as it is now, right before the edit is
/// sent). The documents are read from a fresh snapshot: the user may have typed while the model
/// worked.
pub fn workspace_edit(
    state: &ServerState,
    plan: &WorkspaceEditPlan,
    target: &Target,
) -> Result<ls_types::WorkspaceEdit, Failure> {
    let now = state.snapshot();
    plan.check_roots(&now.root_paths())
        .map_err(|e| Failure::Failed(e.to_string()))?;
    let open = |path: &Path| -> Option<Document> {
        let uri = to_proto::uri(path)?;
        now.document(&from_proto::doc_key(&uri))
    };
    plan.check_versions(|path| {
        open(path).map(|doc| OpenNow {
            version: doc.version,
            // The text of another document is not known here; its version is checked.
            same_text: path != target.context.path || doc.generation == target.doc.generation,
        })
    })
    .map_err(Failure::Stale)?;
    let caps = state.caps();
    let style = to_proto::EditStyle {
        document_changes: caps.document_changes,
        create_files: caps.create_files,
    };
    to_proto::workspace_edit(plan, style, state.encoding(), |path| match open(path) {
        Some(doc) => Some(doc.text),
        None => {
            let bytes = std::fs::read(path).ok()?;
            Some(ropey::Rope::from_str(std::str::from_utf8(&bytes).ok()?))
        }
    })
    .map_err(|e| Failure::Failed(e.to_string()))
}

/// Shows an explanation: as a markdown file opened with `window/showDocument` when the client
/// supports it, else as a `window/showMessage`. Returns the file shown, if any.
pub async fn show_markdown(
    state: &ServerState,
    target: &Target,
    client: &Client,
    title: &str,
    text: &str,
) -> Option<PathBuf> {
    if state.caps().show_document
        && let Some(path) = write_explanation(&target.snapshot, title, text)
        && let Some(uri) = to_proto::uri(&path)
    {
        let shown = client
            .show_document(ShowDocumentParams {
                uri,
                external: Some(false),
                take_focus: Some(true),
                selection: None,
            })
            .await;
        if matches!(shown, Ok(true)) {
            return Some(path);
        }
    }
    client
        .show_message(MessageType::INFO, format!("{title}\n\n{text}"))
        .await;
    None
}

/// Writes an explanation to `<cache>/explanations/<n>-<title>.md`.
fn write_explanation(snapshot: &WorkspaceSnapshot, title: &str, text: &str) -> Option<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = crate::index::store::cache_dir(&snapshot.config().index).join("explanations");
    std::fs::create_dir_all(&dir).ok()?;
    let slug: String = title
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join("-");
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{}-{n}-{slug}.md", std::process::id()));
    std::fs::write(&path, format!("# {title}\n\n{text}\n")).ok()?;
    Some(path)
}

/// A new progress token for a run.
fn new_token() -> NumberOrString {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NumberOrString::String(format!(
        "augur/action/{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Asks the client to create `token`; whether it did (within 5 s: a client that never answers
/// must not keep the reporter waiting).
async fn create_token(client: &Client, token: NumberOrString) -> bool {
    let created =
        client.send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams { token });
    matches!(
        tokio::time::timeout(Duration::from_secs(5), created).await,
        Ok(Ok(()))
    )
}

fn token_name(token: &NumberOrString) -> String {
    match token {
        NumberOrString::String(s) => s.clone(),
        NumberOrString::Number(n) => n.to_string(),
    }
}

/// Progress events from the run to the task that reports them.
enum Event {
    Begin(String),
    Tokens(usize),
    Retrying(String),
    End(String),
}

/// Turns the core's progress calls into events, at most one token report per 100 ms.
struct ChannelProgress {
    events: mpsc::UnboundedSender<Event>,
    last_report: std::sync::Mutex<Option<Instant>>,
}

impl ActionProgress for ChannelProgress {
    fn begin(&self, title: &str) {
        let _ = self.events.send(Event::Begin(title.to_owned()));
    }

    fn tokens(&self, tokens: usize) {
        let mut last = self.last_report.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|at| at.elapsed() >= Duration::from_millis(100)) {
            *last = Some(Instant::now());
            let _ = self.events.send(Event::Tokens(tokens));
        }
    }

    fn retrying(&self, reason: &str) {
        let _ = self.events.send(Event::Retrying(reason.to_owned()));
    }

    fn end(&self, message: &str) {
        let _ = self.events.send(Event::End(message.to_owned()));
    }
}

/// Ends the progress when a run stops, however it stops.
struct RunGuard {
    state: Arc<ServerState>,
    name: Option<String>,
    events: mpsc::UnboundedSender<Event>,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        // The reporter ignores this when the run already ended.
        let _ = self.events.send(Event::End("cancelled".into()));
        if let Some(name) = &self.name {
            self.state.finish_progress(name);
        }
    }
}

/// Sends `$/progress` for one run: `begin`, `report`s, then one `end`.
async fn report(client: Client, token: NumberOrString, mut events: mpsc::UnboundedReceiver<Event>) {
    let send = |value: WorkDoneProgress| {
        let client = client.clone();
        let token = token.clone();
        async move {
            client
                .send_notification::<Progress>(ProgressParams {
                    token,
                    value: ProgressParamsValue::WorkDone(value),
                })
                .await;
        }
    };
    let mut begun = false;
    while let Some(event) = events.recv().await {
        let value = match event {
            Event::Begin(title) => {
                begun = true;
                WorkDoneProgress::Begin(WorkDoneProgressBegin {
                    title,
                    cancellable: Some(true),
                    message: Some("asking the model".into()),
                    percentage: None,
                })
            }
            Event::Tokens(n) if begun => WorkDoneProgress::Report(WorkDoneProgressReport {
                cancellable: Some(true),
                message: Some(format!("{n} pieces received")),
                percentage: None,
            }),
            Event::Retrying(reason) if begun => WorkDoneProgress::Report(WorkDoneProgressReport {
                cancellable: Some(true),
                message: Some(format!("asking again: {reason}")),
                percentage: None,
            }),
            Event::Tokens(_) | Event::Retrying(_) => continue,
            Event::End(message) => {
                if !begun {
                    send(WorkDoneProgress::Begin(WorkDoneProgressBegin {
                        title: "augur".into(),
                        cancellable: Some(false),
                        message: None,
                        percentage: None,
                    }))
                    .await;
                }
                send(WorkDoneProgress::End(WorkDoneProgressEnd {
                    message: Some(message),
                }))
                .await;
                return;
            }
        };
        send(value).await;
    }
}
