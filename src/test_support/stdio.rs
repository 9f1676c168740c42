//! A JSON-RPC client that talks to augur in framed messages, as an editor does: to the real
//! binary over stdio ([`StdioClient::spawn`]), or to the same server run inside the test process
//! on a runtime of its own over in-memory pipes ([`StdioClient::in_process`]: no process to start,
//! and no environment: its places come from [`Dirs`]). Tests of the transport itself, of the
//! process (exit codes, stderr, signals) or of environment variables spawn; the rest run in
//! process.
//!
//! Server-to-client requests are answered automatically (`workspace/configuration` with the
//! settings given in [`SpawnOptions`], everything else with `null`) and recorded, as are
//! notifications, so tests can assert on `window/showMessage`, `$/progress` and the like.
//! Set `AUGUR_TEST_STDERR=1` to see the server's log.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use crate::dirs::Dirs;
use crate::lsp::state::ServerOptions;

/// How to start the server.
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    /// Extra arguments after the binary.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// The working directory.
    pub cwd: Option<PathBuf>,
    /// What to answer `workspace/configuration` with (one value per item).
    pub settings: Value,
}

/// Writes one message with its `Content-Length` header.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Reads one framed message; `None` at end of stream.
pub fn read_frame(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

/// The server a client talks to.
enum Peer {
    /// The binary, in a child process.
    Process(Child),
    /// The server on a runtime of this process; the task answers whether `shutdown` came first.
    InProcess {
        runtime: Option<tokio::runtime::Runtime>,
        server: Option<tokio::task::JoinHandle<bool>>,
        status: Option<ExitStatus>,
    },
}

/// Writes into the in-process server's input pipe without blocking (a runtime task copies).
struct PipeWriter(tokio::sync::mpsc::UnboundedSender<Vec<u8>>);

impl Write for PipeWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .send(bytes.to_vec())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An exit status with `code`, as a process that exited would have.
fn exit_status(code: i32) -> ExitStatus {
    #[cfg(unix)]
    {
        std::os::unix::process::ExitStatusExt::from_raw(code << 8)
    }
    #[cfg(windows)]
    {
        std::os::windows::process::ExitStatusExt::from_raw(code as u32)
    }
}

/// Reads one framed message from an async reader: its body, or `None` at the end.
async fn read_frame_async(reader: &mut (impl tokio::io::AsyncBufRead + Unpin)) -> Option<Vec<u8>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).await.ok()?;
    Some(body)
}

/// Forwards each message read from `stdout` to `tx`, parsed.
fn forward(tx: &Sender<Value>, body: &[u8]) -> bool {
    let value =
        serde_json::from_slice(body).unwrap_or_else(|e| json!({"unparseable": e.to_string()}));
    tx.send(value).is_ok()
}

/// A running server and the client's side of the conversation.
pub struct StdioClient {
    peer: Peer,
    stdin: Option<Box<dyn Write + Send>>,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications received and not yet taken, in order.
    pub notifications: VecDeque<Value>,
    /// Requests the server sent to the client, in order.
    pub server_requests: Vec<Value>,
    responses: Vec<Value>,
    settings: Value,
    /// How long to wait for any one answer.
    pub timeout: Duration,
    /// What `workspace/applyEdit` is answered with (`applied`).
    pub apply_edits: bool,
    /// Methods of server requests left unanswered (as by an editor busy waiting for an answer of
    /// its own) until [`answer_held`](Self::answer_held).
    pub hold: Vec<String>,
    held: Vec<Value>,
}

impl StdioClient {
    /// Spawns `binary` with `AUGUR_DEBUG_REQUESTS=1` and an empty user configuration.
    pub fn spawn(binary: &Path, options: SpawnOptions) -> std::io::Result<Self> {
        let mut command = Command::new(binary);
        command
            .args(&options.args)
            .env("AUGUR_DEBUG_REQUESTS", "1")
            .env("AUGUR_CONFIG", "/nonexistent/augur-test-config.toml")
            .env("AUGUR_LOG", "augur=debug")
            // Usage records of test servers stay out of the user's data directory.
            .env(
                "AUGUR_DATA_DIR",
                std::env::temp_dir().join("augur-test-data"),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("AUGUR_TEST_STDERR").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        for (key, value) in &options.env {
            command.env(key, value);
        }
        if let Some(cwd) = &options.cwd {
            command.current_dir(cwd);
        }
        let mut child = command.spawn()?;
        let stdin = child
            .stdin
            .take()
            .map(|stdin| Box::new(stdin) as Box<dyn Write + Send>);
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(body) = read_frame(&mut reader) {
                if !forward(&tx, &body) {
                    break;
                }
            }
        });
        Ok(Self::with_peer(
            Peer::Process(child),
            stdin,
            incoming,
            options,
        ))
    }

    /// The server run inside this process, on a runtime of its own (two workers), over
    /// in-memory pipes carrying the same framed messages, with debug requests on and its places
    /// from `dirs` (`options.args`, `env` and `cwd` do not apply).
    pub fn in_process(dirs: Dirs, options: SpawnOptions) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("augur-in-process")
            .enable_all()
            .build()?;
        let (client_end, server_end) = tokio::io::duplex(1 << 16);
        let (server_input, server_output) = tokio::io::split(server_end);
        let (client_input, mut client_output) = tokio::io::split(client_end);
        let server = runtime.spawn(crate::lsp::serve(
            server_input,
            server_output,
            ServerOptions {
                debug_requests: true,
                dirs,
            },
        ));
        let (to_server, mut outgoing) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        runtime.spawn(async move {
            while let Some(bytes) = outgoing.recv().await {
                if client_output.write_all(&bytes).await.is_err() {
                    break;
                }
            }
            // The client closed its side: the server reads the end of its input.
            let _ = client_output.shutdown().await;
        });
        let (tx, incoming) = channel();
        runtime.spawn(async move {
            let mut reader = tokio::io::BufReader::new(client_input);
            while let Some(body) = read_frame_async(&mut reader).await {
                if !forward(&tx, &body) {
                    break;
                }
            }
        });
        let peer = Peer::InProcess {
            runtime: Some(runtime),
            server: Some(server),
            status: None,
        };
        let stdin = Some(Box::new(PipeWriter(to_server)) as Box<dyn Write + Send>);
        Ok(Self::with_peer(peer, stdin, incoming, options))
    }

    fn with_peer(
        peer: Peer,
        stdin: Option<Box<dyn Write + Send>>,
        incoming: Receiver<Value>,
        options: SpawnOptions,
    ) -> Self {
        Self {
            peer,
            stdin,
            incoming,
            next_id: 0,
            notifications: VecDeque::new(),
            server_requests: Vec::new(),
            responses: Vec::new(),
            settings: options.settings,
            timeout: Duration::from_secs(30),
            apply_edits: true,
            hold: Vec::new(),
            held: Vec::new(),
        }
    }

    /// Whether the server runs in this process.
    pub fn is_in_process(&self) -> bool {
        matches!(self.peer, Peer::InProcess { .. })
    }

    /// Writes raw bytes to the server's stdin.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = stdin.write_all(bytes).and_then(|_| stdin.flush());
        }
    }

    /// Sends one message.
    pub fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).expect("a JSON value serializes");
        self.send_raw(&frame(&body));
    }

    /// Sends a request and returns its id without waiting.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its answer: `Ok(result)` or `Err(error object)`.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.send_request(method, params);
        self.response(id)
    }

    /// Waits for the answer to request `id`.
    pub fn response(&mut self, id: i64) -> Result<Value, Value> {
        let response = self.wait_for(|c| c.take_response(&json!(id)));
        let response = response.unwrap_or_else(|| panic!("no answer to request {id}"));
        match response.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(response.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// Waits for a response with the given id (any JSON value, `null` included).
    pub fn raw_response(&mut self, id: Value) -> Option<Value> {
        self.wait_for(|c| c.take_response(&id))
    }

    /// How many responses with this id have arrived and not been taken yet.
    pub fn count_responses(&self, id: &Value) -> usize {
        self.responses
            .iter()
            .filter(|r| r.get("id") == Some(id))
            .count()
    }

    /// Takes every message until the server closes its stdout (or the timeout ends): once the
    /// process has exited, everything it wrote is then at hand for [`Self::count_responses`].
    pub fn read_to_end(&mut self) {
        let deadline = Instant::now() + self.timeout;
        while let Ok(message) = self
            .incoming
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.dispatch(message);
        }
    }

    fn take_response(&mut self, id: &Value) -> Option<Value> {
        let at = self
            .responses
            .iter()
            .position(|r| r.get("id") == Some(id))?;
        Some(self.responses.remove(at))
    }

    /// Waits for the next notification with `method` and takes it.
    pub fn notification(&mut self, method: &str) -> Option<Value> {
        self.wait_for(|c| {
            let at = c.notifications.iter().position(|n| n["method"] == method)?;
            c.notifications.remove(at)
        })
    }

    /// Waits until `take` finds what it looks for, pumping incoming messages, or the timeout ends.
    pub fn wait_for<T>(&mut self, mut take: impl FnMut(&mut Self) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(found) = take(self) {
                return Some(found);
            }
            // Look again at least every 50 ms: `take` may poll the server with requests.
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .incoming
                .recv_timeout(left.min(Duration::from_millis(50)))
            {
                Ok(message) => self.dispatch(message),
                Err(RecvTimeoutError::Timeout) if !left.is_zero() => {}
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return take(self);
                }
            }
        }
    }

    /// Takes whatever arrives within `duration`.
    pub fn drain_for(&mut self, duration: Duration) {
        let deadline = Instant::now() + duration;
        while let Ok(message) = self
            .incoming
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.dispatch(message);
        }
    }

    fn dispatch(&mut self, message: Value) {
        let has_id = message.get("id").is_some();
        let has_method = message.get("method").is_some();
        match (has_id, has_method) {
            (true, true) if self.hold.iter().any(|m| message["method"] == m.as_str()) => {
                self.held.push(message.clone());
                self.server_requests.push(message);
            }
            (true, true) => {
                let reply = match message["method"].as_str() {
                    Some("workspace/configuration") => {
                        let items = message["params"]["items"].as_array().map_or(0, Vec::len);
                        Value::Array(vec![self.settings.clone(); items])
                    }
                    // An editor applies the edit, shows the document, and the user picks the
                    // first choice offered.
                    Some("workspace/applyEdit") => json!({"applied": self.apply_edits}),
                    Some("window/showDocument") => json!({"success": true}),
                    Some("window/showMessageRequest") => message["params"]["actions"]
                        .get(0)
                        .cloned()
                        .unwrap_or(Value::Null),
                    _ => Value::Null,
                };
                let id = message["id"].clone();
                self.server_requests.push(message);
                self.send(&json!({"jsonrpc": "2.0", "id": id, "result": reply}));
            }
            (false, true) => self.notifications.push_back(message),
            _ => self.responses.push(message),
        }
    }

    /// Answers the held server requests of `method` with `result`.
    pub fn answer_held(&mut self, method: &str, result: Value) {
        let (now, later): (Vec<Value>, Vec<Value>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|r| r["method"] == method);
        self.held = later;
        for request in now {
            self.send(&json!({"jsonrpc": "2.0", "id": request["id"], "result": result}));
        }
    }

    /// `initialize` with the given capabilities and extra params, then `initialized`.
    pub fn initialize(&mut self, capabilities: Value, extra: Value) -> Value {
        let mut params = json!({"processId": null, "rootUri": null, "capabilities": capabilities});
        if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
            params.extend(extra.clone());
        }
        let result = self
            .request("initialize", params)
            .expect("initialize succeeds");
        self.notify("initialized", json!({}));
        result
    }

    /// `textDocument/didOpen`.
    pub fn open(&mut self, uri: &str, language_id: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language_id, "version": version, "text": text}}),
        );
    }

    /// The document as the server holds it (`augur/debug/document`).
    pub fn document(&mut self, uri: &str) -> Result<Value, Value> {
        self.request("augur/debug/document", json!({"uri": uri}))
    }

    /// Closes stdin (the end of the conversation) and waits for the process to exit.
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// `shutdown` then `exit`; returns the exit status.
    pub fn shutdown_and_exit(mut self) -> ExitStatus {
        let _ = self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.wait()
    }

    /// Waits for the server to end (killing it after the timeout). In process, the status is
    /// the one the binary would exit with: 0 when `shutdown` came before the end, else 1.
    pub fn wait(&mut self) -> ExitStatus {
        let timeout = self.timeout;
        match &mut self.peer {
            Peer::Process(child) => {
                let deadline = Instant::now() + timeout;
                loop {
                    if let Ok(Some(status)) = child.try_wait() {
                        return status;
                    }
                    if Instant::now() > deadline {
                        let _ = child.kill();
                        return child.wait().expect("the child can be waited for");
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            Peer::InProcess {
                runtime,
                server,
                status,
            } => {
                if let (Some(runtime), Some(task)) = (runtime.as_ref(), server.take()) {
                    // On a thread of its own: the caller may be inside a runtime.
                    let ended = std::thread::scope(|scope| {
                        scope
                            .spawn(|| {
                                runtime
                                    .block_on(async { tokio::time::timeout(timeout, task).await })
                            })
                            .join()
                    });
                    *status = Some(exit_status(match ended {
                        Ok(Ok(Ok(true))) => 0,
                        _ => 1,
                    }));
                }
                status.unwrap_or_else(|| exit_status(1))
            }
        }
    }
}

impl Drop for StdioClient {
    fn drop(&mut self) {
        match &mut self.peer {
            Peer::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Peer::InProcess { runtime, .. } => {
                // The server's input ends; its runtime stops without waiting for blocking work.
                self.stdin.take();
                if let Some(runtime) = runtime.take() {
                    runtime.shutdown_background();
                }
            }
        }
    }
}
