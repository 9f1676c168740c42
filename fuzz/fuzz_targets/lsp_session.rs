//! A whole session: the frames in the input go, after an `initialize` and `initialized`, through
//! the real transport to the real server, on a runtime with a paused clock (timeouts pass at once
//! when nothing else can run).
//!
//! The harness plays the client: it sends `initialize` and waits for its answer, as a client
//! must, then sends `initialized` and the frames, answers every request the server sends
//! (applying an edit, showing a document, creating progress, configuration), and ends the input
//! once the server has been quiet for ten virtual minutes. The session is kept away from the file
//! system and the network: its one workspace folder is an empty folder, `augur-fuzz-workspace` in
//! the temporary folder (the seeds' documents are in it), with indexing off, no configuration
//! files, and a model URL nothing listens on; the harness drops the notifications that change
//! the workspace folders or watch files, and takes roots and settings that name files or hosts
//! out of any further `initialize` and out of settings changes.
//!
//! Nothing may panic (a panic caught by the server's guard aborts the fuzzer all the same), and:
//! - everything the server writes is a well-formed frame holding a JSON-RPC message;
//! - every request up to `exit` is answered exactly once (a message whose id could be read,
//!   even an invalid one, counts as a request), and no answer carries an id that was not sent.

#![no_main]

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use augur::lsp::state::ServerOptions;
use augur::lsp::transport::fuzzing::{decode, frames};
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Notifications that would point the server at real directories: dropped.
const DROPPED: [&str; 2] = [
    "workspace/didChangeWorkspaceFolders",
    "workspace/didChangeWatchedFiles",
];

/// Settings that could name files, directories or hosts: taken out of client settings.
const UNSAFE_SETTINGS: [&str; 4] = ["models", "llm", "index", "log"];

/// How long (in virtual time) the server must stay quiet before the harness ends the input.
const QUIET: Duration = Duration::from_secs(600);

const INITIALIZE_ID: &str = "augur-fuzz-initialize";

/// The workspace folder of every session.
fn workspace() -> std::path::PathBuf {
    std::env::temp_dir().join("augur-fuzz-workspace")
}

fuzz_target!(
    init: {
        let scratch = std::env::temp_dir().join(format!("augur-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(workspace()).expect("the workspace folder can be made");
        // SAFETY: set once, before the harness starts any thread.
        unsafe {
            std::env::set_var("AUGUR_CONFIG", scratch.join("no-config.toml"));
            std::env::set_var("XDG_CACHE_HOME", scratch.join("cache"));
            std::env::set_var("XDG_CONFIG_HOME", scratch.join("config"));
            std::env::set_var("AUGUR_CACHE_DIR", scratch.join("cache"));
        }
    },
    |data: &[u8]| {
        let mut input = frame(&json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
        // Ids by their JSON text (a JSON value is not hashable): how many messages carried each,
        // and how many of those the server must answer (those read before `exit`).
        let mut sent: HashMap<String, usize> = HashMap::new();
        let mut expected: HashMap<String, usize> = HashMap::new();
        sent.insert(json!(INITIALIZE_ID).to_string(), 1);
        expected.insert(json!(INITIALIZE_ID).to_string(), 1);
        let mut exited = false;
        for body in block_on(frames(data)).into_iter().flatten() {
            let Some(body) = sanitized(body) else {
                continue;
            };
            let (id, is_exit) = match decode(&body) {
                // A response from the client is not answered.
                Ok(message) if message.get("method").is_none() => (None, false),
                Ok(message) => (
                    message.get("id").filter(|id| !id.is_null()).cloned(),
                    message["method"] == "exit",
                ),
                Err((id, _)) => (Some(id).filter(|id| !id.is_null()), false),
            };
            if let Some(id) = id {
                *sent.entry(id.to_string()).or_default() += 1;
                if !exited {
                    *expected.entry(id.to_string()).or_default() += 1;
                }
            }
            exited |= is_exit;
            input.extend(framed(&body));
        }

        let root = format!("file://{}", workspace().display());
        let initialize = frame(&json!({"jsonrpc": "2.0", "id": INITIALIZE_ID,
            "method": "initialize", "params": {
                "capabilities": augur::test_support::capabilities(&["utf-16"]),
                "workspaceFolders": [{"uri": root, "name": "fuzz"}],
                "initializationOptions": {
                    "models": {"default": {"url": "http://127.0.0.1:9/v1", "retries": 0}},
                    "index": {"enabled": false}
                }
            }}));
        let output = run(initialize, input);

        let mut answers: HashMap<String, usize> = HashMap::new();
        for written in block_on(frames(&output)) {
            let body = written.expect("the server wrote a malformed frame");
            let message = decode(&body).expect("the server wrote an invalid message");
            if message.get("method").is_some() {
                continue;
            }
            let id = match message.get("id") {
                None | Some(Value::Null) => continue,
                Some(id) => id.to_string(),
            };
            assert!(sent.contains_key(&id), "an answer to id {id}, which was never sent");
            *answers.entry(id).or_default() += 1;
        }
        for (id, count) in &sent {
            let answered = answers.get(id).copied().unwrap_or(0);
            let owed = expected.get(id).copied().unwrap_or(0);
            if *count == 1 {
                assert_eq!(answered, owed, "request {id} was answered {answered} times");
            } else {
                // Requests sharing an id: each is answered at most once.
                assert!(answered <= *count, "{count} requests {id} got {answered} answers");
            }
        }
    }
);

/// Serves `initialize` to a fresh server and, once it is answered, `input`; answers the server's
/// requests; returns what the server wrote.
fn run(initialize: Vec<u8>, input: Vec<u8>) -> Vec<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let written = Arc::new(Mutex::new(Vec::new()));
    let (messages, mut from_server) = mpsc::unbounded_channel();
    let output = ServerOutput {
        written: written.clone(),
        messages,
    };
    runtime.block_on(async move {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let client_task = tokio::spawn(async move {
            // Writes fail once the server stops reading (`exit`).
            if client.write_all(&initialize).await.is_err() {
                return;
            }
            let mut initialized = false;
            loop {
                tokio::select! {
                    message = from_server.recv() => {
                        let Some(message) = message else { return };
                        if message.get("method").is_some() {
                            if message.get("id").is_some()
                                && client.write_all(&framed(&answer(&message))).await.is_err()
                            {
                                return;
                            }
                        } else if !initialized && message["id"] == INITIALIZE_ID {
                            initialized = true;
                            if client.write_all(&input).await.is_err() {
                                return;
                            }
                        }
                    }
                    () = tokio::time::sleep(QUIET) => return,
                }
            }
        });
        let (service, socket, _state) = augur::lsp::build(ServerOptions::default());
        augur::lsp::transport::serve(server, output, service, socket).await;
        client_task.abort();
    });
    drop(runtime);
    std::mem::take(&mut *written.lock().unwrap())
}

/// The client's answer to a request from the server.
fn answer(request: &Value) -> Vec<u8> {
    let result = match request["method"].as_str().unwrap_or("") {
        "workspace/applyEdit" => json!({"applied": true}),
        "window/showDocument" => json!({"success": true}),
        "workspace/configuration" => {
            let items = request["params"]["items"].as_array().map_or(0, Vec::len);
            Value::Array(vec![json!({"completion": {"debounce_ms": 0}}); items])
        }
        _ => Value::Null,
    };
    serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": request["id"], "result": result}))
        .expect("JSON")
}

/// The body to send for a frame of the input, or `None` to leave it out.
fn sanitized(body: Vec<u8>) -> Option<Vec<u8>> {
    let Ok(Value::Object(mut message)) = serde_json::from_slice::<Value>(&body) else {
        return Some(body);
    };
    match message.get("method").and_then(Value::as_str) {
        Some(method) if DROPPED.contains(&method) => None,
        Some("initialize") => {
            if let Some(Value::Object(params)) = message.get_mut("params") {
                for key in [
                    "rootUri",
                    "rootPath",
                    "workspaceFolders",
                    "initializationOptions",
                ] {
                    params.remove(key);
                }
            }
            serde_json::to_vec(&message).ok()
        }
        Some("workspace/didChangeConfiguration") => {
            if let Some(settings) = message
                .get_mut("params")
                .and_then(|p| p.get_mut("settings"))
            {
                safe_settings(settings);
            }
            serde_json::to_vec(&message).ok()
        }
        _ => Some(body),
    }
}

/// Takes out of client settings (wrapped in `"augur"` or not) what could reach outside.
fn safe_settings(settings: &mut Value) {
    if let Value::Object(map) = settings {
        for key in UNSAFE_SETTINGS {
            map.remove(key);
        }
        if let Some(inner) = map.get_mut("augur") {
            safe_settings(inner);
        }
    }
}

fn frame(message: &Value) -> Vec<u8> {
    framed(&serde_json::to_vec(message).expect("JSON"))
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// The server's output: kept in memory, and each message passed to the client task.
struct ServerOutput {
    written: Arc<Mutex<Vec<u8>>>,
    messages: mpsc::UnboundedSender<Value>,
}

impl AsyncWrite for ServerOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.written.lock().unwrap().extend_from_slice(buf);
        // The transport writes one whole frame at a time.
        for body in block_on(frames(buf)).into_iter().flatten() {
            let message = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
            let _ = self.messages.send(message);
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
