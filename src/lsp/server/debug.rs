//! The `augur/debug/*` methods on the [`Server`], compiled only with the `test-support` feature
//! (see `handlers/debug.rs`, which serves them).

use tower_lsp_server::LspServiceBuilder;
use tower_lsp_server::jsonrpc::Result;

use crate::lsp::handlers::debug::{
    DocumentParams, DocumentState, RetainedState, SleepParams, config, document, panic,
    panic_notification, retained, sleep,
};
use crate::lsp::server::Server;

/// Adds the `augur/debug/*` methods to the service being built.
pub fn register(builder: LspServiceBuilder<Server>) -> LspServiceBuilder<Server> {
    builder
        .custom_method("augur/debug/document", Server::debug_document)
        .custom_method("augur/debug/retained", Server::debug_retained)
        .custom_method("augur/debug/sleep", Server::debug_sleep)
        .custom_method("augur/debug/panic", Server::debug_panic)
        .custom_method("augur/debug/config", Server::debug_config)
        .custom_method(
            "augur/debug/panicNotification",
            Server::debug_panic_notification,
        )
}

impl Server {
    /// `augur/debug/document`.
    pub async fn debug_document(&self, params: DocumentParams) -> Result<DocumentState> {
        document(&self.state, params)
    }

    /// `augur/debug/retained`.
    pub async fn debug_retained(&self, params: DocumentParams) -> Result<RetainedState> {
        retained(&self.state, params)
    }

    /// `augur/debug/sleep`.
    pub async fn debug_sleep(&self, params: SleepParams) -> Result<u64> {
        sleep(&self.state, params).await
    }

    /// `augur/debug/panic`.
    pub async fn debug_panic(&self) -> Result<()> {
        panic(&self.state)
    }

    /// `augur/debug/config`.
    pub async fn debug_config(&self) -> Result<serde_json::Value> {
        config(&self.state)
    }

    /// `augur/debug/panicNotification` (a notification).
    pub async fn debug_panic_notification(&self) {
        panic_notification(&self.state);
    }
}
