//! `augur/debug/*` requests, compiled only with the `test-support` feature (which augur's own
//! tests, benches and fuzz targets turn on, and a release build never has) and served only when
//! the server was started with `AUGUR_DEBUG_REQUESTS=1`: they let the test harnesses see a document exactly as the server
//! holds it, see what it keeps of a document (open or closed), see the merged configuration, hold a request open (to test cancellation) and make a
//! request or notification handler panic (to test that the server survives).
//!
//! The methods are registered on the server by `server/debug.rs`.
//!
//! Example: `augur/debug/document {"uri": "file:///a.rs"}` →
//! `{"version": 3, "languageId": "rust", "text": "fn main() {}\n"}`; `augur/debug/config` →
//! the merged configuration, shaped as `augur check-config` prints it; `augur/debug/retained
//! {"uri": "file:///a.rs"}` → `{"held": ["document", "syntaxTree"]}`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};

use crate::lsp::handlers::invalid_params;
use crate::lsp::state::ServerState;

/// Parameters of `augur/debug/document`.
#[derive(Debug, Deserialize)]
pub struct DocumentParams {
    /// The document's URI.
    pub uri: String,
}

/// A document as the server holds it.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DocumentState {
    /// The version of the last change.
    pub version: i32,
    /// The language id.
    pub language_id: String,
    /// The full text.
    pub text: String,
    /// Whether a syntax tree is kept for exactly this text.
    pub tree_is_current: bool,
}

/// What the server keeps of one document (`augur/debug/retained`).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RetainedState {
    /// The structures holding something of the document, by name (see
    /// [`ServerState::retained`]); empty once it is closed and forgotten.
    pub held: Vec<String>,
}

/// Parameters of `augur/debug/sleep`.
#[derive(Debug, Deserialize)]
pub struct SleepParams {
    /// How long to sleep.
    pub ms: u64,
}

fn check_enabled(state: &ServerState) -> Result<()> {
    if state.options.debug_requests {
        Ok(())
    } else {
        Err(Error {
            code: ErrorCode::MethodNotFound,
            message: "augur/debug requests are off; start augur with AUGUR_DEBUG_REQUESTS=1".into(),
            data: None,
        })
    }
}

/// Handles `augur/debug/document`.
pub fn document(state: &ServerState, params: DocumentParams) -> Result<DocumentState> {
    check_enabled(state)?;
    let doc = state
        .snapshot()
        .document(&params.uri)
        .ok_or_else(|| invalid_params(format!("document {} is not open", params.uri)))?;
    Ok(DocumentState {
        version: doc.version,
        language_id: doc.language_id.to_string(),
        text: doc.text.to_string(),
        tree_is_current: state
            .host
            .current_syntax_tree(&params.uri, doc.generation)
            .is_some(),
    })
}

/// Handles `augur/debug/retained`: what the server keeps of a document, open or not.
pub fn retained(state: &ServerState, params: DocumentParams) -> Result<RetainedState> {
    check_enabled(state)?;
    let path = params
        .uri
        .parse::<tower_lsp_server::ls_types::Uri>()
        .ok()
        .and_then(|uri| crate::lsp::from_proto::path(&uri));
    let held = state.retained(&params.uri, path.as_deref());
    Ok(RetainedState {
        held: held.into_iter().map(str::to_owned).collect(),
    })
}

/// Handles `augur/debug/sleep`: answers after `ms` milliseconds, unless cancelled first.
pub async fn sleep(state: &ServerState, params: SleepParams) -> Result<u64> {
    check_enabled(state)?;
    tokio::time::sleep(Duration::from_millis(params.ms.min(60_000))).await;
    Ok(params.ms)
}

/// Handles `augur/debug/panic`.
pub fn panic(state: &ServerState) -> Result<()> {
    check_enabled(state)?;
    panic!("augur/debug/panic was requested");
}

/// Handles `augur/debug/config`: the merged configuration in force.
pub fn config(state: &ServerState) -> Result<serde_json::Value> {
    check_enabled(state)?;
    serde_json::to_value(state.snapshot().config().as_ref()).map_err(|e| Error {
        code: ErrorCode::InternalError,
        message: format!("the configuration cannot be rendered: {e}").into(),
        data: None,
    })
}

/// Handles the notification `augur/debug/panicNotification`: it panics when debug requests are
/// on (there is no response to turn the panic into, so the server must just go on), and is
/// ignored with a warning otherwise.
pub fn panic_notification(state: &ServerState) {
    if check_enabled(state).is_err() {
        tracing::warn!("augur/debug/panicNotification ignored: debug requests are off");
        return;
    }
    panic!("augur/debug/panicNotification was sent");
}
