//! Logging of the real binary: the log goes to stderr and the log file, never to stdout (every
//! byte of stdout is a framed JSON-RPC message), each request is logged in a span with its id and
//! method, and the filter comes from `AUGUR_LOG`, then `--log-level`, then the configuration's
//! `log.level` (which follows hot reloads).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use augur::test_support::capabilities;
use augur::test_support::stdio::{SpawnOptions, StdioClient, frame};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_augur");

/// Splits `bytes` into framed messages, strictly: each frame is exactly a `Content-Length`
/// header, a blank line and that many bytes of JSON. Returns the messages and the bytes of an
/// incomplete last frame, or an error for anything else (such as a stray log line).
fn strict_frames(mut bytes: &[u8]) -> Result<(Vec<Value>, usize), String> {
    let mut messages = Vec::new();
    while !bytes.is_empty() {
        let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
            let prefix = b"Content-Length: ";
            let n = bytes.len().min(prefix.len());
            if bytes[..n] != prefix[..n] {
                return Err(format!(
                    "not a frame header: {:?}",
                    String::from_utf8_lossy(bytes)
                ));
            }
            return Ok((messages, bytes.len()));
        };
        let header = std::str::from_utf8(&bytes[..end]).map_err(|e| e.to_string())?;
        let length: usize = header
            .strip_prefix("Content-Length: ")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("not a frame header: {header:?}"))?;
        let body_start = end + 4;
        if bytes.len() < body_start + length {
            return Ok((messages, bytes.len()));
        }
        let body = &bytes[body_start..body_start + length];
        let message: Value = serde_json::from_slice(body).map_err(|e| {
            format!(
                "a frame that is not JSON ({e}): {:?}",
                String::from_utf8_lossy(body)
            )
        })?;
        messages.push(message);
        bytes = &bytes[body_start + length..];
    }
    Ok((messages, 0))
}

/// Whether `message` is a JSON-RPC 2.0 request, notification or response.
fn is_json_rpc(message: &Value) -> bool {
    let has = |key: &str| message.get(key).is_some();
    message["jsonrpc"] == "2.0"
        && (message["method"].is_string() || (has("id") && (has("result") != has("error"))))
}

/// The server's stdout, collected by a thread as it arrives.
struct RawServer {
    child: std::process::Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl RawServer {
    fn spawn(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("AUGUR_DEBUG_REQUESTS", "1")
            .env("AUGUR_CONFIG", "/nonexistent/augur-test-config.toml")
            .env_remove("AUGUR_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("augur starts");
        let mut out = child.stdout.take().expect("stdout is piped");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let sink = stdout.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Self {
            child,
            stdout,
            reader: Some(reader),
        }
    }

    fn send(&mut self, message: Value) {
        let stdin = self.child.stdin.as_mut().expect("stdin is open");
        stdin
            .write_all(&frame(message.to_string().as_bytes()))
            .unwrap();
        stdin.flush().unwrap();
    }

    /// Waits until the response to request `id` is on stdout.
    fn wait_response(&self, id: i64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let bytes = self.stdout.lock().unwrap().clone();
            let (messages, _) = strict_frames(&bytes).unwrap_or_else(|e| panic!("{e}"));
            if messages.iter().any(|m| m["id"] == id) {
                return;
            }
            assert!(Instant::now() < deadline, "no response to request {id}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the process to end and returns everything it wrote to stdout.
    fn finish(mut self) -> (i32, Vec<u8>) {
        self.child.stdin.take();
        let status = self.child.wait().unwrap();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        let bytes = self.stdout.lock().unwrap().clone();
        (status.code().unwrap_or(-1), bytes)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A whole session: initialize, a status request, a refused change, a panicking notification,
/// shutdown and exit. Returns the exit code, stdout and the log file's text.
fn session(args: &[&str], env: &[(&str, &str)]) -> (i32, Vec<u8>, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("augur.log");
    let log_arg = log.to_str().unwrap();
    let mut all_args = vec!["--log-file", log_arg];
    all_args.extend_from_slice(args);
    let mut server = RawServer::spawn(&all_args, env);
    server.send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"processId": null, "rootUri": null, "capabilities": {}}}));
    server.wait_response(1);
    server.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    server.send(json!({"jsonrpc": "2.0", "id": 2, "method": "augur/status", "params": null}));
    // A change to a document that is not open is refused with a warning in the log.
    server.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": "file:///nowhere.txt", "version": 2},
        "contentChanges": [{"text": "x"}]}}),
    );
    // A panic prints to stderr; none of it may reach stdout.
    server.send(json!({"jsonrpc": "2.0", "method": "augur/debug/panicNotification"}));
    server.wait_response(2);
    server.send(json!({"jsonrpc": "2.0", "id": 3, "method": "shutdown", "params": null}));
    server.wait_response(3);
    server.send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    let (code, stdout) = server.finish();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    (code, stdout, text)
}

#[test]
fn requests_are_logged_in_spans_and_stdout_carries_only_protocol() {
    let (code, stdout, log) = session(&[], &[("AUGUR_LOG", "debug")]);
    assert_eq!(code, 0, "clean exit; log:\n{log}");

    // (a) The request span names the id and the method.
    let done = log
        .lines()
        .find(|l| l.contains("request{id=2 method=augur/status}") && l.contains("done"))
        .unwrap_or_else(|| panic!("no span for request 2 in the log:\n{log}"));
    assert!(done.contains("DEBUG"), "{done}");
    assert!(
        log.lines().any(
            |l| l.contains("notification{method=textDocument/didChange}") && l.contains("WARN")
        ),
        "the refused change is logged inside its notification span:\n{log}"
    );
    assert!(
        log.lines().any(
            |l| l.contains("notification{method=augur/debug/panicNotification}")
                && l.contains("ERROR")
                && l.contains("handler panicked")
        ),
        "the panic is logged:\n{log}"
    );

    // (b) Every byte of stdout is a framed JSON-RPC message, and each request has one answer.
    let (messages, incomplete) = strict_frames(&stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(incomplete, 0, "stdout ends in the middle of a frame");
    for message in &messages {
        assert!(is_json_rpc(message), "not JSON-RPC: {message}");
    }
    let mut ids: Vec<i64> = messages
        .iter()
        .filter(|m| m.get("method").is_none())
        .filter_map(|m| m["id"].as_i64())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 3], "{messages:?}");
}

#[test]
fn augur_log_sets_the_level_and_wins_over_the_command_line() {
    let debug_line = |log: &str| log.lines().any(|l| l.contains(" DEBUG "));
    let (_, _, log) = session(&[], &[("AUGUR_LOG", "debug")]);
    assert!(debug_line(&log), "AUGUR_LOG=debug logs debug lines:\n{log}");

    let (_, _, log) = session(&["--log-level", "debug"], &[("AUGUR_LOG", "info")]);
    assert!(
        log.contains("augur serving over stdio"),
        "info lines are logged:\n{log}"
    );
    assert!(
        !debug_line(&log),
        "AUGUR_LOG=info wins over --log-level debug:\n{log}"
    );

    let (_, _, log) = session(&["--log-level", "debug"], &[]);
    assert!(debug_line(&log), "--log-level debug applies:\n{log}");

    let (_, _, log) = session(&[], &[("AUGUR_LOG", "augur=trace")]);
    assert!(
        log.lines()
            .any(|l| l.contains(" TRACE ") || l.contains(" DEBUG ")),
        "AUGUR_LOG=augur=trace logs below info:\n{log}"
    );
    let (_, _, log) = session(&[], &[("AUGUR_LOG", "warn")]);
    assert!(
        !log.contains(" INFO ") && !debug_line(&log),
        "AUGUR_LOG=warn logs only warnings and errors:\n{log}"
    );
    assert!(log.contains(" WARN "), "{log}");
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The log lines of the `augur/status` request with this id.
fn status_done(log: &str, id: i64) -> bool {
    let span = format!("request{{id={id} method=augur/status}}");
    log.lines().any(|l| l.contains(&span) && l.contains("done"))
}

#[test]
fn the_configured_level_follows_every_layer_and_log_file_elsewhere_is_a_warning() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("augur.toml"),
        "[log]\nlevel = \"debug\"\nfile = \"workspace.log\"\n",
    )
    .unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("augur.log");
    let options = SpawnOptions {
        args: vec!["--log-file".into(), log.display().to_string()],
        // An empty AUGUR_LOG is no filter: the configuration chooses.
        env: vec![("AUGUR_LOG".into(), String::new())],
        ..Default::default()
    };
    let mut client = StdioClient::spawn(Path::new(BIN), options).unwrap();
    client.initialize(
        capabilities(&["utf-16"]),
        json!({"workspaceFolders": [{"uri": uri(root.path()), "name": "w"}]}),
    );
    // `log.file` in a workspace file is not used, and the user is told where to put it.
    let shown = client
        .notification("window/showMessage")
        .expect("a warning about log.file");
    let message = shown["params"]["message"].as_str().unwrap();
    assert_eq!(shown["params"]["type"], 2, "Warning: {message}");
    assert!(
        message.contains("augur.toml") && message.contains("`log.file`"),
        "{message}"
    );
    assert!(
        message.contains("--log-file") && message.contains("user file"),
        "{message}"
    );
    // The workspace file's level applies: this request is logged at debug level.
    let first = client.send_request("augur/status", Value::Null);
    client.response(first).unwrap();
    // A hot reload to `warn` hides the debug lines of later requests.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"augur": {"log": {"level": "warn"}}}}),
    );
    let second = client.send_request("augur/status", Value::Null);
    client.response(second).unwrap();
    // Reloading the same configuration does not warn about `log.file` again.
    client.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [], "removed": []}}),
    );
    // A request sent after the notification is answered after it was handled; a message it
    // showed would have been sent by then (the drain covers the forwarding).
    let third = client.send_request("augur/status", Value::Null);
    client.response(third).unwrap();
    client.drain_for(Duration::from_millis(300));
    let shown_again: Vec<&Value> = client
        .notifications
        .iter()
        .filter(|n| n["method"] == "window/showMessage")
        .collect();
    assert!(shown_again.is_empty(), "shown once: {shown_again:?}");
    assert!(client.shutdown_and_exit().success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains("stdin is read through the reactor"),
        "the start-up debug line comes before the configuration, at info:\n{text}"
    );
    assert!(
        status_done(&text, first),
        "debug from augur.toml applies:\n{text}"
    );
    assert!(
        !status_done(&text, second),
        "warn from the client's settings applies:\n{text}"
    );
    assert!(
        !root.path().join("workspace.log").exists(),
        "the workspace's log file is not created"
    );
}
