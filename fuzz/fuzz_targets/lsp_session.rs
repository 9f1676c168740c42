//! A whole session: the frames in the input go, after an `initialize` and `initialized`, through
//! the real transport to the real server, on a runtime with a paused clock (timeouts and the
//! transport's drain pass at once when nothing else can run).
//!
//! The session is kept away from the file system and the network: no workspace roots, no
//! configuration files, a model URL nothing listens on; the harness drops the notifications that
//! change the workspace folders or watch files, and takes roots and settings out of any further
//! `initialize` and out of settings changes. Server-to-client requests are never answered.
//!
//! Nothing may panic (a panic caught by the server's guard aborts the fuzzer all the same), and:
//! - everything the server writes is a well-formed frame holding a JSON-RPC message;
//! - no request is answered twice, and no answer carries an id that was never sent.

#![no_main]

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use augur::lsp::state::ServerOptions;
use augur::lsp::transport::fuzzing::{decode, frames};
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tokio::io::AsyncWrite;

/// Notifications that would point the server at real directories: dropped.
const DROPPED: [&str; 2] = [
    "workspace/didChangeWorkspaceFolders",
    "workspace/didChangeWatchedFiles",
];

/// Settings that could name files, directories or hosts: taken out of client settings.
const UNSAFE_SETTINGS: [&str; 4] = ["models", "llm", "index", "log"];

fuzz_target!(
    init: {
        let scratch = std::env::temp_dir().join(format!("augur-fuzz-{}", std::process::id()));
        // SAFETY: set once, before the harness starts any thread.
        unsafe {
            std::env::set_var("AUGUR_CONFIG", scratch.join("no-config.toml"));
            std::env::set_var("XDG_CACHE_HOME", scratch.join("cache"));
            std::env::set_var("XDG_CONFIG_HOME", scratch.join("config"));
        }
    },
    |data: &[u8]| {
        let mut input = frame(&json!({"jsonrpc": "2.0", "id": "augur-fuzz-initialize",
            "method": "initialize", "params": {
                "capabilities": {"general": {"positionEncodings": ["utf-16"]}},
                "initializationOptions": {
                    "models": {"default": {"url": "http://127.0.0.1:9/v1", "retries": 0}},
                    "index": {"enabled": false}
                }
            }}));
        input.extend(frame(&json!({"jsonrpc": "2.0", "method": "initialized", "params": {}})));
        // Ids by their JSON text (a JSON value is not hashable).
        let mut sent: HashMap<String, usize> = HashMap::new();
        sent.insert(json!("augur-fuzz-initialize").to_string(), 1);
        for body in block_on(frames(data)).into_iter().flatten() {
            let Some(body) = sanitized(body) else {
                continue;
            };
            if let Ok(Value::Object(message)) = serde_json::from_slice::<Value>(&body)
                && let Some(id) = message.get("id")
            {
                *sent.entry(id.to_string()).or_default() += 1;
            }
            input.extend(framed(&body));
        }

        let output = run(input);

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
            assert!(sent.contains_key(&id), "an answer to id {id} that was never sent");
            *answers.entry(id).or_default() += 1;
        }
        for (id, count) in answers {
            if sent[&id] == 1 {
                assert_eq!(count, 1, "request {id} was answered {count} times");
            }
        }
    }
);

/// Serves `input` to a fresh server and returns what it wrote.
fn run(input: Vec<u8>) -> Vec<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let output = SharedOutput::default();
    let written = output.0.clone();
    runtime.block_on(async move {
        let (service, socket, _state) = augur::lsp::build(ServerOptions::default());
        augur::lsp::transport::serve(&input[..], output, service, socket).await;
    });
    drop(runtime);
    std::mem::take(&mut *written.lock().unwrap())
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

/// The server's output, kept in memory.
#[derive(Default, Clone)]
struct SharedOutput(Arc<Mutex<Vec<u8>>>);

impl AsyncWrite for SharedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
