//! The protocol layer: the only part of augur that knows LSP types.
//!
//! - [`server`]: the `LanguageServer` impl, a few lines per method;
//! - [`handlers`]: one module per feature;
//! - [`from_proto`] and [`to_proto`]: the only places positions are converted;
//! - [`capabilities`]: client capabilities read once, and what the server offers;
//! - [`commands`]: the names of the commands served (a leaf: no import loop through it);
//! - [`state`]: the protocol session (encoding, capabilities, progress, superseded requests)
//!   and the core host it drives, [`crate::host::Workspace`];
//! - [`middleware`]: spans, panic isolation, one answer per request and one `initialize`;
//! - [`transport`]: framing over stdio that survives malformed input;
//! - [`stdio`]: stdin and stdout driven by the reactor when they are pipes or sockets.

pub mod capabilities;
pub mod commands;
pub mod ext;
pub mod from_proto;
pub mod handlers;
pub mod middleware;
pub mod server;
pub mod state;
pub mod stdio;
pub mod to_proto;
pub mod transport;

use std::sync::Arc;

use tower_lsp_server::{ClientSocket, LspService};

use self::middleware::Guarded;
use self::server::Server;
use self::state::{ServerOptions, ServerState};

/// The full service, ready to serve over any transport, plus the socket for messages the server
/// sends to the client and the state (to read after the service has stopped).
pub fn build(
    options: ServerOptions,
) -> (Guarded<LspService<Server>>, ClientSocket, Arc<ServerState>) {
    let state = Arc::new(ServerState::new(options));
    let shared = state.clone();
    let builder = LspService::build(move |client| Server::new(shared, client))
        .custom_method("augur/status", Server::status)
        .custom_method("augur/metrics", Server::metrics)
        .custom_method("textDocument/inlineCompletion", Server::inline_completion)
        .custom_method("augur/search", Server::search)
        .custom_method(
            "window/workDoneProgress/cancel",
            Server::work_done_progress_cancel,
        );
    #[cfg(feature = "test-support")]
    let builder = server::debug::register(builder);
    let (service, socket) = builder.finish();
    (Guarded::new(service), socket, state)
}

/// Serves over stdin/stdout until `exit`. Returns whether `shutdown` came first, which decides
/// the exit code (0 if it did, 1 if not), as the specification says.
pub async fn serve_stdio(options: ServerOptions) -> bool {
    serve(stdio::input(), stdio::output(), options).await
}

/// Serves over `input` and `output` until `exit` or the end of the input; returns whether
/// `shutdown` came first.
pub async fn serve<I, O>(input: I, output: O, options: ServerOptions) -> bool
where
    I: tokio::io::AsyncRead + Unpin,
    O: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (service, socket, state) = build(options);
    transport::serve(input, output, service, socket).await;
    // Index changes waiting for a commit, or for the disk, are written before the process ends.
    for index in state.snapshot().indexes() {
        index.persist();
    }
    state.shutdown_requested()
}
