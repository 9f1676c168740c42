//! What augur measured, for the user: the `augur/metrics` request and the `augur.metrics` command
//! (the same report; the command also shows it as a message), the `augur.accepted` command that
//! inline and list completion items carry (the editor runs it when the user accepts one), and
//! the Prometheus endpoint of `[metrics] listen`, started once the client is ready.
//!
//! Example reply of `augur/metrics` (abridged):
//!
//! ```json
//! {"llm": {"models": [{"model": "default", "requests": 12, "cache_hits": 3, ...}],
//!          "endpoints": [{"model": "default", "endpoint": "http://127.0.0.1:8090/v1",
//!                         "ttft": {"count": 9, "p50": 112.5, "p95": 240.1, "p99": 240.1}, ...}],
//!          "cache": {"hits": 3, "misses": 9, ...}, "shared": null,
//!          "features": {"completionsRequested": 14, "completionsShown": 12,
//!                       "completionsAccepted": 4, "actionsRun": 1, "actionsApplied": 1}},
//!  "indexes": [{"root": "/src/app", "state": "ready", "files": 480}]}
//! ```

use std::sync::Arc;

use serde_json::{Value, json};
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{Command, MessageType};

use crate::host::WorkspaceSnapshot;
use crate::llm::health::{Notice, NoticeLevel};
use crate::llm::prometheus::Exporter;
use crate::llm::usage::FeatureEvent;
use crate::lsp::commands::ACCEPTED_COMMAND;
use crate::lsp::ext::{AcceptedArgs, MetricsReport};
use crate::lsp::handlers::status;
use crate::lsp::state::ServerState;

/// Handles `augur/metrics`.
pub fn metrics(state: &ServerState) -> MetricsReport {
    let snapshot = state.snapshot();
    MetricsReport {
        llm: snapshot
            .engine()
            .map(|engine| engine.client().metrics())
            .unwrap_or_default(),
        indexes: status::status(state).indexes,
    }
}

/// Handles the `augur.metrics` command: the report, also shown to the user as text.
pub async fn metrics_command(state: &ServerState, client: &Client) -> Value {
    let report = metrics(state);
    client
        .show_message(MessageType::INFO, format!("augur metrics\n{}", report.llm))
        .await;
    serde_json::to_value(&report).unwrap_or(Value::Null)
}

/// Handles the `augur.accepted` command.
pub fn accepted(state: &ServerState, argument: Value) -> Value {
    let model = serde_json::from_value::<AcceptedArgs>(argument)
        .map(|a| a.model)
        .unwrap_or_else(|_| state.snapshot().config().completion.model.clone());
    if let Some(engine) = state.snapshot().engine() {
        engine.client().record_accepted(&model);
    }
    json!({"status": "counted"})
}

/// The command an accepted completion item runs.
pub fn accepted_command(snapshot: &WorkspaceSnapshot) -> Command {
    Command {
        title: "augur: suggestion accepted".into(),
        command: ACCEPTED_COMMAND.into(),
        arguments: Some(vec![json!({"model": snapshot.config().completion.model})]),
    }
}

/// Counts what a feature did.
pub fn record(snapshot: &WorkspaceSnapshot, event: FeatureEvent) {
    if let Some(engine) = snapshot.engine() {
        engine.client().record_feature(event);
    }
}

/// Starts the Prometheus endpoint when `[metrics] listen` names an address; when it cannot
/// (the port is taken by another window, or the address is wrong) the user is told once and
/// augur goes on without it.
pub fn start(state: &Arc<ServerState>) {
    let snapshot = state.snapshot();
    let Some(listen) = snapshot.config().metrics.listen.clone() else {
        return;
    };
    let weak = Arc::downgrade(state);
    let source = move || {
        let state = weak.upgrade()?;
        let snapshot = state.snapshot();
        snapshot.engine().map(|engine| engine.client().metrics())
    };
    match Exporter::start(&listen, source) {
        Ok(exporter) => state.host.keep_alive(Box::new(exporter)),
        Err(message) => {
            tracing::warn!("{message}");
            state.host.tell(Notice {
                level: NoticeLevel::Warning,
                text: format!("augur: {message}; running without the Prometheus endpoint"),
            });
        }
    }
}

/// Writes the usage recorded so far (at `shutdown`: the process may end without dropping it).
pub fn flush(state: &ServerState) {
    if let Some(engine) = state.snapshot().engine() {
        engine.client().flush_usage();
    }
}
