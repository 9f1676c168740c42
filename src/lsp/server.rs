//! The `LanguageServer` implementation: each method parses (the library does), calls a handler,
//! and returns. No logic lives here.

use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    DidChangeConfigurationParams, DidChangeTextDocumentParams, DidChangeWorkspaceFoldersParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    InitializeParams, InitializeResult, InitializedParams,
};
use tower_lsp_server::{Client, LanguageServer};

use crate::lsp::handlers::{self, debug, status};
use crate::lsp::state::ServerState;

/// The server: shared state plus a handle to talk to the client.
#[derive(Debug, Clone)]
pub struct Server {
    pub(crate) state: Arc<ServerState>,
    pub(crate) client: Client,
}

impl Server {
    /// A server over `state` talking to `client`.
    pub fn new(state: Arc<ServerState>, client: Client) -> Self {
        Self { state, client }
    }

    /// `augur/status`.
    pub async fn status(&self) -> Result<status::Status> {
        Ok(status::status(&self.state))
    }

    /// `augur/debug/document`.
    pub async fn debug_document(
        &self,
        params: debug::DocumentParams,
    ) -> Result<debug::DocumentState> {
        debug::document(&self.state, params)
    }

    /// `augur/debug/sleep`.
    pub async fn debug_sleep(&self, params: debug::SleepParams) -> Result<u64> {
        debug::sleep(&self.state, params).await
    }

    /// `augur/debug/panic`.
    pub async fn debug_panic(&self) -> Result<()> {
        debug::panic(&self.state)
    }
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        handlers::lifecycle::initialize(&self.state, params)
    }

    async fn initialized(&self, _: InitializedParams) {
        handlers::lifecycle::initialized(&self.state, &self.client).await;
    }

    async fn shutdown(&self) -> Result<()> {
        handlers::lifecycle::shutdown(&self.state)
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        handlers::text_sync::did_open(&self.state, params);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        handlers::text_sync::did_change(&self.state, params);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        handlers::text_sync::did_close(&self.state, params);
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        handlers::text_sync::did_save(&self.state, params);
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        handlers::configuration::did_change(&self.state, &self.client, params).await;
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        handlers::workspace_folders::did_change(&self.state, &self.client, params).await;
    }
}
