//! Drives the service in-process through its tower `Service` interface: no process, no pipes,
//! the same code paths behind the transport.
//!
//! Server-to-client requests are answered `null` (or with the given settings for
//! `workspace/configuration`) by a background task and recorded with the notifications.

use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tower::{Service, ServiceExt};
use tower_lsp_server::LspService;
use tower_lsp_server::jsonrpc::{Request, Response};

use crate::dirs::Dirs;
use crate::lsp::middleware::Guarded;
use crate::lsp::server::Server;
use crate::lsp::state::{ServerOptions, ServerState};

/// An in-process server and what it sent to the client.
pub struct InProcess {
    service: Guarded<LspService<Server>>,
    /// The server's shared state, for direct inspection.
    pub state: Arc<ServerState>,
    /// Notifications and requests the server sent to the client, in order.
    pub outgoing: Arc<Mutex<Vec<Value>>>,
    next_id: i64,
}

impl InProcess {
    /// A new server with debug requests on; `settings` answers `workspace/configuration`.
    /// Must be called inside a tokio runtime.
    pub fn new(settings: Value) -> Self {
        let (service, socket, state) = crate::lsp::build(ServerOptions {
            debug_requests: true,
            dirs: Dirs::default(),
        });
        let outgoing = Arc::new(Mutex::new(Vec::new()));
        let seen = outgoing.clone();
        tokio::spawn(async move {
            let (mut requests, mut responses) = socket.split();
            while let Some(request) = requests.next().await {
                let value = serde_json::to_value(&request).unwrap_or(Value::Null);
                seen.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(value.clone());
                if let Some(id) = request.id().cloned() {
                    let reply = if request.method() == "workspace/configuration" {
                        let items = value["params"]["items"].as_array().map_or(0, Vec::len);
                        Value::Array(vec![settings.clone(); items])
                    } else {
                        Value::Null
                    };
                    if responses.send(Response::from_ok(id, reply)).await.is_err() {
                        break;
                    }
                }
            }
        });
        Self {
            service,
            state,
            outgoing,
            next_id: 0,
        }
    }

    async fn call(&mut self, request: Request) -> Option<Value> {
        let service = self.service.ready().await.ok()?;
        let response = service.call(request).await.ok()??;
        serde_json::to_value(response).ok()
    }

    /// Sends a request: `Ok(result)` or `Err(error object)`.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let request = Request::build(method.to_owned())
            .id(self.next_id)
            .params(params)
            .finish();
        let response = self
            .call(request)
            .await
            .ok_or_else(|| json!({"message": "no response"}))?;
        match response.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(response.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// Sends a notification and waits until its handler has finished.
    pub async fn notify(&mut self, method: &str, params: Value) {
        let request = Request::build(method.to_owned()).params(params).finish();
        self.call(request).await;
    }

    /// `initialize` then `initialized`.
    pub async fn initialize(&mut self, capabilities: Value, extra: Value) -> Value {
        let mut params = json!({"capabilities": capabilities});
        if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
            params.extend(extra.clone());
        }
        let result = self
            .request("initialize", params)
            .await
            .expect("initialize succeeds");
        self.notify("initialized", json!({})).await;
        result
    }

    /// `textDocument/didOpen`.
    pub async fn open(&mut self, uri: &str, language_id: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language_id, "version": version, "text": text}}),
        )
        .await;
    }

    /// `textDocument/didChange` with `changes` (the `contentChanges` array).
    pub async fn change(&mut self, uri: &str, version: i32, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
        )
        .await;
    }

    /// The document as the server holds it (`augur/debug/document`).
    pub async fn document(&mut self, uri: &str) -> Result<Value, Value> {
        self.request("augur/debug/document", json!({"uri": uri}))
            .await
    }

    /// Waits (up to five seconds) until at least `count` messages with `method` were sent, and
    /// returns them.
    pub async fn wait_sent(&self, method: &str, count: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let sent = self.sent(method);
            if sent.len() >= count || tokio::time::Instant::now() > deadline {
                return sent;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// The notifications with `method` sent so far.
    pub fn sent(&self, method: &str) -> Vec<Value> {
        let outgoing = self.outgoing.lock().unwrap_or_else(|e| e.into_inner());
        outgoing
            .iter()
            .filter(|m| m["method"] == method)
            .cloned()
            .collect()
    }
}
