//! Completion latency of the real `augur` binary over stdio, against a 0 ms fake
//! OpenAI-compatible backend, on a workspace of real code (a ~1M-line subset of
//! `~/.cargo/registry/src`, copied to a temporary directory) indexed first, so that cross-file
//! retrieval (definitions, similar chunks, open documents) is on for every prompt.
//!
//! Run with `cargo bench --bench completion_latency`. It prints a table:
//! 1. `textDocument/inlineCompletion` latency (request written → response read, invoked trigger,
//!    so no debounce) p50/p95/p99 over 500 requests at varied positions in 10 open files, and
//!    the fake backend's own round trip (a reused HTTP client, a prompt of augur's size, the
//!    streamed body read to the end);
//! 2. the type-through path: after a suggestion, a `didChange` typing its next character, then an
//!    automatic request answered from the suggestion on screen (the fake's call count is checked);
//! 3. 20 requests sent at once on 20 documents: how many are answered and the time for all;
//! 4. the peak RSS (`VmHWM`) of the augur process.
//!
//! No timed assertions: it prints figures. Environment:
//! - `AUGUR_BENCH_BIN`: the augur binary to measure instead of this build's (to compare builds);
//! - `AUGUR_BENCH_BIN_B`: a second binary, measured in the same run: parts 1 and 2 ask both the
//!   same things, alternating which goes first, and rows `1B`/`2B` give its figures. Both see the
//!   same moments of a noisy machine, which run-to-run comparisons do not (each builds its own
//!   index; part 3 and the RSS are the first binary's);
//! - `AUGUR_BENCH_LINES` (default 1000000): lines of Rust in the workspace subset;
//! - `AUGUR_BENCH_CARGO_SRC`: the registry source directory to take crates from;
//! - `AUGUR_BENCH_REQUESTS` (default 500): requests of part 1;
//! - `AUGUR_BENCH_OPEN` (default 10): documents open in parts 1 and 2;
//! - `AUGUR_BENCH_COMPLETION`: JSON merged into the `completion` settings, to isolate a cost
//!   (`{"use_open_documents": false}`, `{"context_tokens": 0}`);
//! - `AUGUR_BENCH_LOG=PATH`: run augur at `augur=debug` with its log in PATH, and summarise the
//!   per-request timings it logs (`prompt_build_ms`, `ttft_ms`, `total_ms`). Off by default
//!   (augur's default `info` level), so the headline figures carry no debug logging.

#[path = "../tests/llm_support/mod.rs"]
mod llm_support;
#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::{cargo_src, rust_files, rust_subset};

use augur::test_support::capabilities;
use augur::test_support::stdio::{SpawnOptions, StdioClient};
use llm_support::{Fake, openai_stream};
use serde_json::{Value, json};

/// The binary under test: this build's, or `AUGUR_BENCH_BIN` (to compare two builds).
fn bin() -> String {
    std::env::var("AUGUR_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_augur").to_owned())
}

/// The fake model's reply to every completion request, streamed in three events.
const REPLY: [&str; 3] = ["compute_", "total(alpha, ", "beta)"];

// ---------------------------------------------------------------------------------------------
// The 0 ms fake backend.

/// A minimal OpenAI-compatible server on 127.0.0.1: every request is answered at once with the
/// same streamed completion (`REPLY` as three SSE events, a final event, `[DONE]`). Unlike the
/// tests' scriptable fake (`tests/llm_support`), it sets `TCP_NODELAY` on accepted connections:
/// without it, the second small SSE write waits for the client's delayed ACK (Nagle), which adds
/// ~40 ms to most round trips and would swamp what this bench measures.
struct OwnFake {
    url: String,
    calls: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OwnFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OwnFake {
    async fn start() -> OwnFake {
        use axum::serve::ListenerExt;
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let chunks: Vec<String> = llm_support::openai_sse(&REPLY);
        let app = axum::Router::new().fallback(move || {
            let counter = Arc::clone(&counter);
            let chunks = chunks.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let stream = futures::stream::iter(
                    chunks
                        .into_iter()
                        .map(|c| Ok::<_, std::io::Error>(axum::body::Bytes::from(c))),
                );
                axum::response::Response::builder()
                    .status(200)
                    .header("content-type", "text/event-stream")
                    .body(axum::body::Body::from_stream(stream))
                    .unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        OwnFake {
            url: format!("http://{addr}"),
            calls,
            task,
        }
    }
}

/// Either fake: ours (default) or the tests' (`AUGUR_BENCH_FAKE=tests`, to see its Nagle stalls).
enum Backend {
    Own(OwnFake),
    Tests(Fake),
}

impl Backend {
    fn url(&self) -> &str {
        match self {
            Backend::Own(f) => &f.url,
            Backend::Tests(f) => &f.url,
        }
    }

    fn calls(&self) -> usize {
        match self {
            Backend::Own(f) => f.calls.load(Ordering::SeqCst),
            Backend::Tests(f) => f.calls(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers: random numbers, percentiles, /proc.

/// xorshift64*: deterministic positions without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Nearest-rank percentile of sorted samples, in ms.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

struct Stats {
    n: usize,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let n = samples.len();
    let mean = samples.iter().map(Duration::as_secs_f64).sum::<f64>() * 1000.0 / n.max(1) as f64;
    Stats {
        n,
        p50: pct(&samples, 50.0),
        p95: pct(&samples, 95.0),
        p99: pct(&samples, 99.0),
        max: samples
            .last()
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
        mean,
    }
}

fn row(label: &str, s: &Stats, target: &str) {
    println!(
        "| {label:<44} | {:>5} | {:>8.3} | {:>8.3} | {:>8.3} | {:>8.3} | {:>8.3} | {target:<14} |",
        s.n, s.p50, s.p95, s.p99, s.max, s.mean
    );
}

fn header() {
    println!(
        "| {:<44} | {:>5} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:<14} |",
        "measure (ms)", "n", "p50", "p95", "p99", "max", "mean", "target"
    );
    println!(
        "|{}|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(46),
        "-".repeat(7),
        "-".repeat(10),
        "-".repeat(10),
        "-".repeat(10),
        "-".repeat(10),
        "-".repeat(10),
        "-".repeat(16)
    );
}

/// The pids of this process's children (all threads), from `/proc/self/task/*/children`.
fn child_pids() -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
                out.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A `kB` field of `/proc/<pid>/status`, in MB.
fn status_mb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The workspace: whole crates of the cargo registry, copied (no symlinks), up to ~N lines of Rust.

/// All files and lines under `dir` (any kind).
fn all_files(dir: &Path) -> (usize, u64, u64) {
    let (mut files, mut lines, mut bytes) = (0, 0, 0);
    for entry in ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
        .flatten()
    {
        if entry.file_type().is_some_and(|t| t.is_file())
            && let Ok(text) = std::fs::read(entry.path())
        {
            files += 1;
            bytes += text.len() as u64;
            lines += text.iter().filter(|&&b| b == b'\n').count() as u64;
        }
    }
    (files, lines, bytes)
}

// ---------------------------------------------------------------------------------------------
// Documents and positions.

/// An open document: its URI, its lines, its version.
#[derive(Clone)]
struct Doc {
    uri: String,
    text: String,
    lines: Vec<String>,
    version: i32,
}

impl Doc {
    fn load(path: &Path) -> Option<Doc> {
        let text = std::fs::read_to_string(path).ok()?;
        let lines = text.lines().map(str::to_owned).collect();
        Some(Doc {
            uri: format!("file://{}", path.display()),
            text,
            lines,
            version: 1,
        })
    }

    /// A varied cursor: a random non-blank line, a random column between the end of its
    /// indentation and its end (in UTF-16 code units, the encoding the client offers).
    fn position(&self, rng: &mut Rng) -> (u32, u32) {
        for _ in 0..100 {
            let line = rng.below(self.lines.len());
            let text = &self.lines[line];
            if text.trim().is_empty() {
                continue;
            }
            let indent: usize = text
                .chars()
                .take_while(|c| c.is_whitespace())
                .map(char::len_utf16)
                .sum();
            let len: usize = text.chars().map(char::len_utf16).sum();
            // Half the time the end of the line, else anywhere after the indentation.
            let column = if rng.below(2) == 0 {
                len
            } else {
                indent + rng.below(len - indent + 1)
            };
            // Do not split a surrogate pair.
            let mut units = 0;
            for c in text.chars() {
                if units + c.len_utf16() > column {
                    break;
                }
                units += c.len_utf16();
            }
            return (line as u32, units as u32);
        }
        (0, 0)
    }

    /// End of a random non-blank line (for type-through rounds).
    fn line_end(&self, rng: &mut Rng) -> (u32, u32) {
        for _ in 0..100 {
            let line = rng.below(self.lines.len());
            let text = &self.lines[line];
            if text.trim().len() > 3 {
                return (
                    line as u32,
                    text.chars().map(char::len_utf16).sum::<usize>() as u32,
                );
            }
        }
        (0, 0)
    }
}

fn inline_params(uri: &str, line: u32, character: u32, invoked: bool) -> Value {
    json!({
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": if invoked { 1 } else { 2 }}
    })
}

fn first_item(result: &Value) -> Option<String> {
    let items = match result {
        Value::Array(items) => items,
        Value::Object(list) => list.get("items")?.as_array()?,
        _ => return None,
    };
    items.first()?["insertText"].as_str().map(str::to_owned)
}

fn change(client: &mut StdioClient, doc: &mut Doc, line: u32, from: u32, to: u32, text: &str) {
    doc.version += 1;
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": doc.uri, "version": doc.version}, "contentChanges": [
            {"range": {"start": {"line": line, "character": from}, "end": {"line": line, "character": to}}, "text": text}
        ]}),
    );
}

/// The type-through keystrokes of part 2, and what went wrong.
#[derive(Default)]
struct Through {
    /// Each keystroke's request, written → answered.
    times: Vec<Duration>,
    /// Keystrokes answered with anything but the rest of the suggestion.
    wrong: usize,
    /// Rounds that had a suggestion to type through.
    rounds: usize,
    /// Model calls while typing (none expected).
    model_calls: usize,
    /// Keystrokes over 1 ms: (round, key, ms).
    slow: Vec<(usize, usize, f64)>,
}

impl Through {
    /// One round: a suggestion at the end of a line, then its characters typed one at a time,
    /// each a `didChange` and an automatic request; the typing is undone at the end.
    fn round(
        &mut self,
        client: &mut StdioClient,
        fake: &Backend,
        doc: &mut Doc,
        (line, col): (u32, u32),
        round: usize,
    ) {
        let uri = doc.uri.clone();
        let Ok(first) = client.request(
            "textDocument/inlineCompletion",
            inline_params(&uri, line, col, true),
        ) else {
            return;
        };
        let Some(text) = first_item(&first) else {
            return;
        };
        self.rounds += 1;
        let calls = fake.calls();
        let chars: Vec<char> = text.chars().collect();
        let mut typed = 0u32;
        for k in 1..chars.len().min(20) {
            let c = chars[k - 1];
            change(client, doc, line, col + typed, col + typed, &c.to_string());
            typed += c.len_utf16() as u32;
            let (elapsed, result) = timed(client, inline_params(&uri, line, col + typed, false));
            self.times.push(elapsed);
            if elapsed > Duration::from_millis(1) {
                self.slow.push((round, k, elapsed.as_secs_f64() * 1000.0));
            }
            let rest: String = chars[k..].iter().collect();
            if result.ok().as_ref().and_then(first_item).as_deref() != Some(rest.as_str()) {
                self.wrong += 1;
            }
        }
        self.model_calls += fake.calls() - calls;
        // Undo the typing: the document is back to the file's text.
        change(client, doc, line, col, col + typed, "");
    }
}

/// One timed request: written → answered.
fn timed(client: &mut StdioClient, params: Value) -> (Duration, Result<Value, Value>) {
    let started = Instant::now();
    let id = client.send_request("textDocument/inlineCompletion", params);
    let response = client.response(id);
    (started.elapsed(), response)
}

// ---------------------------------------------------------------------------------------------
// The in-server timings from augur's debug log (`AUGUR_BENCH_LOG`).

fn field(line: &str, key: &str) -> Option<f64> {
    let at = line.find(&format!(" {key}="))? + key.len() + 2;
    let rest = &line[at..];
    let rest = rest.strip_prefix("Some(").unwrap_or(rest);
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn summarise_log(path: &Path) {
    let Ok(text) = std::fs::read_to_string(path) else {
        println!("(no log at {})", path.display());
        return;
    };
    let mut prompt = Vec::new();
    let mut ttft = Vec::new();
    let mut total = Vec::new();
    let mut through = Vec::new();
    let to_d = |ms: f64| Duration::from_secs_f64(ms / 1000.0);
    for line in text.lines() {
        if line.contains("completion answered by type-through") {
            if let Some(t) = field(line, "total_ms") {
                through.push(to_d(t));
            }
        } else if line.contains(" completion") && line.contains("prompt_build_ms=") {
            if let Some(p) = field(line, "prompt_build_ms") {
                prompt.push(to_d(p));
            }
            if let Some(t) = field(line, "ttft_ms") {
                ttft.push(to_d(t));
            }
            if let Some(t) = field(line, "total_ms") {
                total.push(to_d(t));
            }
        }
    }
    println!();
    println!(
        "In-server timings from augur's debug log ({}):",
        path.display()
    );
    header();
    row(
        "engine: prompt build (retrieval included)",
        &stats(prompt),
        "",
    );
    row("engine: time to first token (fake)", &stats(ttft), "");
    row("engine: total (prompt + model + post)", &stats(total), "");
    if !through.is_empty() {
        row("engine: type-through answers", &stats(through), "");
    }
}

// ---------------------------------------------------------------------------------------------

/// One augur process under test, started on the workspace and indexed.
struct Server {
    client: StdioClient,
    pid: u32,
    rss_indexed: f64,
    /// Its own cache directory (so that each server builds and owns its index).
    _cache: tempfile::TempDir,
}

impl Server {
    /// Starts `bin` on `root` with these settings and waits for its index (a line of figures).
    fn start(
        bin: &str,
        root: &Path,
        settings: &Value,
        mut env: Vec<(String, String)>,
        args: Vec<String>,
    ) -> Server {
        let cache = tempfile::tempdir().expect("a temporary directory");
        env.push((
            "AUGUR_CACHE_DIR".to_owned(),
            cache.path().display().to_string(),
        ));
        let before = child_pids();
        let mut client = StdioClient::spawn(
            Path::new(bin),
            SpawnOptions {
                args,
                env,
                ..SpawnOptions::default()
            },
        )
        .expect("augur starts");
        let pid = child_pids()
            .into_iter()
            .find(|p| !before.contains(p))
            .expect("the augur child process");
        client.timeout = Duration::from_secs(900);
        let index_started = Instant::now();
        client.initialize(
            capabilities(&["utf-16"]),
            json!({
                "workspaceFolders": [{"uri": format!("file://{}", root.display()), "name": "ws"}],
                "initializationOptions": settings,
            }),
        );
        let end = client.wait_for(|c| {
            let at = c.notifications.iter().position(|n| {
                n["method"] == "$/progress" && n["params"]["value"]["kind"] == "end"
            })?;
            c.notifications.remove(at)
        });
        let summary = end
            .as_ref()
            .and_then(|e| e["params"]["value"]["message"].as_str())
            .unwrap_or("(no progress end)")
            .to_owned();
        let index_secs = index_started.elapsed().as_secs_f64();
        let rss_indexed = status_mb(pid, "VmHWM:");
        println!(
            "{bin} indexed in {index_secs:.1} s: {summary}; pid {pid}, peak RSS so far {rss_indexed:.0} MB"
        );
        client.notifications.clear();
        client.timeout = Duration::from_secs(30);
        Server {
            client,
            pid,
            rss_indexed,
            _cache: cache,
        }
    }
}

fn main() {
    let run_started = Instant::now();
    let env_usize = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let max_lines = env_usize("AUGUR_BENCH_LINES", 1_000_000) as u64;
    let requests = env_usize("AUGUR_BENCH_REQUESTS", 500);
    let log_path = std::env::var_os("AUGUR_BENCH_LOG").map(PathBuf::from);
    let load_before = loadavg();

    // The workspace.
    let Some(src) = cargo_src() else {
        println!("no cargo registry sources found; set AUGUR_BENCH_CARGO_SRC");
        return;
    };
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let root = workspace.path().join("ws");
    let started = Instant::now();
    let rust_lines = rust_subset(&src, &root, max_lines);
    let (rust_line_count, rs_files) = rust_files(&root);
    let (files, lines, bytes) = all_files(&root);
    let crates = std::fs::read_dir(&root).map(|d| d.count()).unwrap_or(0);
    println!(
        "workspace: {crates} crates from {} copied in {:.1} s: {files} files, {lines} lines, {:.1} MB; Rust: {} files, {} lines",
        src.display(),
        started.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
        rs_files.len(),
        rust_line_count.max(rust_lines),
    );

    // The fake backend, on its own runtime (one worker thread).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fake = if std::env::var("AUGUR_BENCH_FAKE").is_ok_and(|v| v == "tests") {
        let fake = runtime.block_on(Fake::start());
        fake.set_default(openai_stream(&REPLY));
        Backend::Tests(fake)
    } else {
        Backend::Own(runtime.block_on(OwnFake::start()))
    };

    // augur (and a second build to compare with, `AUGUR_BENCH_BIN_B`).
    let mut env = Vec::new();
    let mut args = Vec::new();
    match &log_path {
        Some(path) => {
            let _ = std::fs::remove_file(path);
            env.push(("AUGUR_LOG".to_owned(), "augur=debug".to_owned()));
            args.push("--log-file".to_owned());
            args.push(path.display().to_string());
        }
        None => env.push(("AUGUR_LOG".into(), "info".into())),
    }
    // `AUGUR_BENCH_COMPLETION`: JSON merged into the `completion` settings, to isolate costs
    // (e.g. `{"use_open_documents": false}` or `{"context_tokens": 0}`).
    let mut completion_config = json!({"debounce_ms": 0});
    if let Some(extra) = std::env::var("AUGUR_BENCH_COMPLETION")
        .ok()
        .and_then(|v| serde_json::from_str::<Value>(&v).ok())
        .and_then(|v| v.as_object().cloned())
    {
        completion_config.as_object_mut().unwrap().extend(extra);
    }
    println!("completion settings: {completion_config}");
    let settings = json!({
        "models": {"default": {"backend": "openai", "url": format!("{}/v1", fake.url()),
                               "model": "fake", "retries": 0}},
        "llm": {"cache": {"enabled": false}},
        "completion": completion_config,
    });
    let bin = bin();
    let mut a = Server::start(&bin, &root, &settings, env.clone(), args);
    let mut b = std::env::var("AUGUR_BENCH_BIN_B")
        .ok()
        .map(|bin_b| Server::start(&bin_b, &root, &settings, env, Vec::new()));
    let (pid, rss_indexed) = (a.pid, a.rss_indexed);
    let client = &mut a.client;

    // Documents: Rust files of 150..4000 lines, in a deterministic shuffled order.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut candidates: Vec<PathBuf> = rs_files
        .iter()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| (4_000..160_000).contains(&m.len())))
        .cloned()
        .collect();
    candidates.sort();
    for i in (1..candidates.len()).rev() {
        candidates.swap(i, rng.below(i + 1));
    }
    let mut pool = candidates.into_iter().filter_map(|p| Doc::load(&p));
    let open_count = env_usize("AUGUR_BENCH_OPEN", 10).max(1);
    let mut open: Vec<Doc> = pool.by_ref().take(open_count).collect();
    for doc in &open {
        client.open(&doc.uri, "rust", doc.version, &doc.text);
    }
    // The second build types into its own copies (their versions move separately).
    let mut open_b: Vec<Doc> = Vec::new();
    if let Some(b) = &mut b {
        open_b = open.iter().map(Doc::clone).collect();
        for doc in &open_b {
            b.client.open(&doc.uri, "rust", doc.version, &doc.text);
        }
    }
    let open_lines: usize = open.iter().map(|d| d.lines.len()).sum();

    // 0. The fake backend's own round trip: a reused HTTP client, a streamed body read to the end.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().build().expect("an HTTP client");
    // The prompt is the size of augur's (about 2,000 tokens of code), so the body costs the same.
    let probe_prompt: String = open[0].text.chars().take(8_000).collect();
    let fake_round_trips: Vec<Duration> = runtime.block_on(async {
        let url = format!("{}/v1/completions", fake.url());
        let body = json!({"model": "fake", "prompt": probe_prompt, "suffix": "\n}\n",
                          "max_tokens": 128, "temperature": 0.2, "stream": true});
        let mut out = Vec::new();
        for i in 0..520 {
            let started = Instant::now();
            let response = http
                .post(&url)
                .json(&body)
                .send()
                .await
                .expect("the fake answers");
            let bytes = response.bytes().await.expect("a body");
            assert!(!bytes.is_empty());
            if i >= 20 {
                out.push(started.elapsed());
            }
        }
        out
    });
    let calls_after_rtt = fake.calls();
    // Diagnostic: what an `await` of `tokio::time::sleep(Duration::ZERO)` costs (augur's
    // completion handler awaits the debounce delay even when it is zero, for invoked triggers).
    let zero_sleeps: Vec<Duration> = runtime.block_on(async {
        tokio::spawn(async {
            let mut out = Vec::new();
            for _ in 0..200 {
                let started = Instant::now();
                tokio::time::sleep(Duration::ZERO).await;
                out.push(started.elapsed());
            }
            out
        })
        .await
        .unwrap()
    });

    // 1. Latency with retrieval: invoked requests at varied positions in varied open files. With
    //    a second build, each position is asked of both, in alternating order, so that both see
    //    the same moments of a noisy machine.
    for i in 0..20 {
        let doc = &open[i % open.len()];
        let (line, col) = doc.position(&mut rng);
        let _ = timed(client, inline_params(&doc.uri, line, col, true));
        if let Some(b) = &mut b {
            let _ = timed(&mut b.client, inline_params(&doc.uri, line, col, true));
        }
    }
    let calls_before = fake.calls();
    let mut latencies = Vec::with_capacity(requests);
    let mut latencies_b = Vec::new();
    let mut with_item = 0;
    let mut errors = 0;
    let part1_started = Instant::now();
    for i in 0..requests {
        let doc = &open[(i * 7 + rng.below(3)) % open.len()];
        let (line, col) = doc.position(&mut rng);
        let params = inline_params(&doc.uri, line, col, true);
        if let Some(b) = b.as_mut().filter(|_| i % 2 == 1) {
            latencies_b.push(timed(&mut b.client, params.clone()).0);
        }
        let (elapsed, result) = timed(client, params.clone());
        latencies.push(elapsed);
        if let Some(b) = b.as_mut().filter(|_| i % 2 == 0) {
            latencies_b.push(timed(&mut b.client, params).0);
        }
        match result {
            Ok(value) if first_item(&value).is_some() => with_item += 1,
            Ok(_) => {}
            Err(_) => errors += 1,
        }
    }
    let part1_secs = part1_started.elapsed().as_secs_f64();
    let model_calls = fake.calls() - calls_before - latencies_b.len();

    // 2. Type-through: a suggestion, then the user types it one character at a time; each
    //    keystroke is a didChange and an automatic request answered from the suggestion. With a
    //    second build, each round is typed into both, in alternating order.
    let mut through = Through::default();
    let mut through_b = Through::default();
    for round in 0..40 {
        let which = round % open.len();
        let (line, col) = open[which].line_end(&mut rng);
        if let Some(b) = b.as_mut().filter(|_| round % 2 == 1) {
            through_b.round(&mut b.client, &fake, &mut open_b[which], (line, col), round);
        }
        through.round(client, &fake, &mut open[which], (line, col), round);
        if let Some(b) = b.as_mut().filter(|_| round % 2 == 0) {
            through_b.round(&mut b.client, &fake, &mut open_b[which], (line, col), round);
        }
    }

    // 3. Twenty requests at once, on twenty freshly opened documents.
    for doc in &open {
        client.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": doc.uri}}),
        );
    }
    let burst_docs: Vec<Doc> = pool.by_ref().take(20).collect();
    for doc in &burst_docs {
        client.open(&doc.uri, "rust", doc.version, &doc.text);
    }
    // Let the opens be processed (a round trip on the last document).
    let _ = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": burst_docs.last().map(|d| d.uri.clone()).unwrap_or_default()}}),
    );
    let calls_before_burst = fake.calls();
    let burst_started = Instant::now();
    let ids: Vec<i64> = burst_docs
        .iter()
        .map(|doc| {
            let (line, col) = doc.line_end(&mut Rng(doc.lines.len() as u64 + 1));
            client.send_request(
                "textDocument/inlineCompletion",
                inline_params(&doc.uri, line, col, true),
            )
        })
        .collect();
    let mut answered = 0;
    let mut burst_items = 0;
    let mut burst_errors = 0;
    let mut each = Vec::new();
    // Sweep the pending ids with a short wait each, so answers are timed in arrival order
    // (within ~0.1 ms per pending id), whatever order the server answers in.
    let mut pending: Vec<i64> = ids.clone();
    client.timeout = Duration::from_micros(100);
    let burst_deadline = Instant::now() + Duration::from_secs(20);
    while !pending.is_empty() && Instant::now() < burst_deadline {
        let mut i = 0;
        while i < pending.len() {
            if let Some(response) = client.raw_response(json!(pending[i])) {
                pending.swap_remove(i);
                answered += 1;
                each.push(burst_started.elapsed());
                if response.get("error").is_some() {
                    burst_errors += 1;
                } else if first_item(&response["result"]).is_some() {
                    burst_items += 1;
                }
            } else {
                i += 1;
            }
        }
    }
    client.timeout = Duration::from_secs(30);
    let burst_all = each.last().copied().unwrap_or(burst_started.elapsed());
    let burst_calls = fake.calls() - calls_before_burst;

    let rss_peak = status_mb(pid, "VmHWM:");
    let rss_now = status_mb(pid, "VmRSS:");
    let load_after = loadavg();

    // The table.
    println!();
    println!(
        "augur {bin} over stdio, 0 ms fake OpenAI backend (3 SSE events), UTF-16 client, cache off, debounce 0"
    );
    println!(
        "open documents in part 1/2: {} Rust files, {} lines; part 1 took {:.1} s",
        open.len(),
        open_lines,
        part1_secs
    );
    header();
    row(
        "fake round trip (reqwest, 8 KB prompt)",
        &stats(fake_round_trips),
        "(~0.5 ms ref)",
    );
    row(
        "(diag.) tokio sleep(Duration::ZERO).await",
        &stats(zero_sleeps),
        "",
    );
    row(
        "1. inlineCompletion, retrieval on, invoked",
        &stats(latencies.clone()),
        "p99 < 1.0",
    );
    row(
        "2. type-through (didChange + request)",
        &stats(through.times.clone()),
        "p99 < 0.3",
    );
    if b.is_some() {
        row(
            "1B. the same, AUGUR_BENCH_BIN_B (paired)",
            &stats(latencies_b.clone()),
            "",
        );
        row(
            "2B. the same, AUGUR_BENCH_BIN_B (paired)",
            &stats(through_b.times.clone()),
            "",
        );
    }
    println!();
    println!(
        "1. {} requests: {} with a suggestion, {} empty, {} errors; model calls {} (one per request expected); fake calls during round-trip probe {}",
        latencies.len(),
        with_item,
        latencies.len() - with_item - errors,
        errors,
        model_calls,
        calls_after_rtt
    );
    println!(
        "2. {} keystrokes in {} rounds: {} answered with the wrong rest; model calls during typing: {} (0 expected)",
        through.times.len(),
        through.rounds,
        through.wrong,
        through.model_calls
    );
    if !through.slow.is_empty() {
        let shown: Vec<String> = through
            .slow
            .iter()
            .map(|(r, k, ms)| format!("round {r} key {k}: {ms:.2} ms"))
            .collect();
        println!("   type-through keystrokes over 1 ms: {}", shown.join(", "));
    }
    let first = each.first().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    let median_answer = pct(&each, 50.0);
    println!(
        "3. 20 requests at once: {answered}/20 answered ({burst_items} with a suggestion, {burst_errors} errors), model calls {burst_calls}; first answer {first:.2} ms, median {median_answer:.2} ms, all answered in {:.2} ms (target 20/20)",
        burst_all.as_secs_f64() * 1000.0
    );
    println!(
        "4. augur peak RSS (VmHWM): {rss_peak:.0} MB (after indexing {rss_indexed:.0} MB; VmRSS now {rss_now:.0} MB)"
    );
    println!(
        "load average before: {load_before}; after: {load_after}; whole run {:.0} s",
        run_started.elapsed().as_secs_f64()
    );

    let _ = a.client.shutdown_and_exit();
    if let Some(b) = b {
        let _ = b.client.shutdown_and_exit();
    }
    if let Some(path) = &log_path {
        summarise_log(path);
    }
    drop(fake);
}
