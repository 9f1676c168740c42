//! The `LanguageServer` implementation: each method parses (the library does), calls a handler,
//! and returns. No logic lives here.

#[cfg(feature = "test-support")]
pub mod debug;

use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionParams, CodeActionResponse, CompletionParams, CompletionResponse,
    DidChangeConfigurationParams, DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidChangeWorkspaceFoldersParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, DocumentSymbolParams, DocumentSymbolResponse, ExecuteCommandParams,
    InitializeParams, InitializeResult, InitializedParams, InlineCompletionParams,
    InlineCompletionResponse, LSPAny, WorkDoneProgressCancelParams, WorkspaceSymbolParams,
    WorkspaceSymbolResponse,
};
use tower_lsp_server::{Client, LanguageServer};

use crate::lsp::ext::{MetricsReport, SearchHit, SearchParams, Status};
use crate::lsp::handlers::{self, search, status};
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
    pub async fn status(&self) -> Result<Status> {
        Ok(status::status(&self.state))
    }

    /// `augur/metrics`.
    pub async fn metrics(&self) -> Result<MetricsReport> {
        Ok(handlers::metrics::metrics(&self.state))
    }

    /// `textDocument/inlineCompletion` (not yet a method of the library's trait).
    pub async fn inline_completion(
        &self,
        params: InlineCompletionParams,
    ) -> Result<Option<InlineCompletionResponse>> {
        handlers::inline_completion::inline_completion(&self.state, params).await
    }

    /// `augur/search`.
    pub async fn search(&self, params: SearchParams) -> Result<Vec<SearchHit>> {
        search::search(&self.state, params).await
    }

    /// `window/workDoneProgress/cancel` (a notification the library does not route itself).
    pub async fn work_done_progress_cancel(&self, params: WorkDoneProgressCancelParams) {
        handlers::indexing::cancel(&self.state, params);
    }
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        handlers::lifecycle::initialize(&self.state, params)
    }

    async fn initialized(&self, _: InitializedParams) {
        tokio::spawn(handlers::configuration::follow_models(
            &self.state,
            self.client.clone(),
        ));
        handlers::lifecycle::initialized(&self.state, &self.client).await;
        handlers::model_health::start(&self.state, self.client.clone());
        handlers::metrics::start(&self.state);
        tokio::spawn(handlers::indexing::start(
            self.state.clone(),
            self.client.clone(),
        ));
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

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        handlers::completion::completion(&self.state, params).await
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        handlers::indexing::watched_files_changed(&self.state, &self.client, params).await;
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        handlers::symbols::workspace_symbol(&self.state, params).await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        handlers::symbols::document_symbol(&self.state, params)
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        handlers::code_action::code_action(&self.state, params).await
    }

    async fn code_action_resolve(&self, params: CodeAction) -> Result<CodeAction> {
        handlers::code_action_resolve::resolve(&self.state, &self.client, params).await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        handlers::execute_command::execute_command(&self.state, &self.client, params).await
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        handlers::workspace_folders::did_change(&self.state, &self.client, params).await;
    }
}
