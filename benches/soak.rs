//! Fault soak: the real `augur` binary over stdio against a fake OpenAI-compatible backend that
//! picks a fault for every request, for a bounded run of completions with edits between them and
//! open/close cycles of a multi-MB document. It checks that every request is answered and that
//! augur's memory levels off.
//!
//! Run with `nice cargo bench --bench soak`. The faults, by weight out of 100: a normal streamed
//! answer (44), a slow first token (8, still within the deadline), HTTP 500 (8), 429 with
//! `Retry-After: 1` (8), a connection reset mid-stream (8), malformed JSON (8), a huge reply (8,
//! an endless stream of text made as it is sent, 256 MiB at most) and a hang past the deadline
//! (8). Augur runs with one retry, a first-token timeout of 1 s, a total timeout of 3 s and its
//! circuit breaker off (`breaker_failures = 0`), so that every completion meets the faults rather
//! than the breaker's quick refusal.
//!
//! Six small documents take completions at the end of their last line, up to six at a time (one
//! per document, so none supersedes another); after each answer the document is edited (the
//! variable on the last line renamed, so the next completion is not answered by typing through
//! the last suggestion, and a line inserted, then removed again). Every 100 completions a document of about 3 MB is opened, completed in, edited and
//! closed. It prints the requests answered (with a suggestion, empty, with an error, or not at
//! all), the faults served by kind, the error codes augur logged, the bytes the huge replies
//! gave, augur's RSS (`VmRSS` of `/proc/PID/status`) at the start, the middle and the end (and at
//! every tenth of the run), whether it levelled off, and what augur still keeps of the closed big
//! document (`augur/debug/retained`). No timed assertions.
//!
//! Environment: `AUGUR_SOAK_REQUESTS` (default 3000) completions; `AUGUR_SOAK_SECONDS` (default
//! 600) stops sending new ones after that long.

#[path = "../tests/llm_support/mod.rs"]
mod llm_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use augur::test_support::capabilities;
use augur::test_support::stdio::{SpawnOptions, StdioClient};
use axum::body::{Body, Bytes};
use axum::response::Response;
use serde_json::{Value, json};

/// The faults, with their weights out of 100.
const FAULTS: [(Fault, u64); 8] = [
    (Fault::Normal, 44),
    (Fault::SlowFirstToken, 8),
    (Fault::Http500, 8),
    (Fault::RateLimited, 8),
    (Fault::ResetMidStream, 8),
    (Fault::MalformedJson, 8),
    (Fault::HugeReply, 8),
    (Fault::Hang, 8),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Normal,
    SlowFirstToken,
    Http500,
    RateLimited,
    ResetMidStream,
    MalformedJson,
    HugeReply,
    Hang,
}

/// xorshift64*: deterministic choices without a dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

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

// ---------------------------------------------------------------------------------------------
// The faulty backend.

/// What the fake served, shared with the bench.
#[derive(Default)]
struct Served {
    requests: AtomicU64,
    by_fault: Mutex<BTreeMap<Fault, usize>>,
    /// Bytes the huge replies gave before augur closed their connection.
    huge_pulled: Mutex<Vec<usize>>,
}

/// Adds a huge reply's pulled bytes to the record when the body is dropped.
struct PulledOnDrop(Arc<Served>, Arc<AtomicUsize>);

impl Drop for PulledOnDrop {
    fn drop(&mut self) {
        let pulled = self.1.load(Ordering::SeqCst);
        self.0.huge_pulled.lock().unwrap().push(pulled);
    }
}

fn sse_text(text: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"choices": [{"text": text, "index": 0}]})
    )
}

fn stream(content_type: &str, chunks: Vec<Result<Bytes, std::io::Error>>) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", content_type)
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap()
}

fn status(code: u16, headers: &[(&str, &str)]) -> Response {
    let mut response = Response::builder()
        .status(code)
        .header("content-type", "application/json");
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    response
        .body(Body::from(
            json!({"error": {"message": "a fault"}}).to_string(),
        ))
        .unwrap()
}

async fn answer(served: Arc<Served>) -> Response {
    let n = served.requests.fetch_add(1, Ordering::SeqCst);
    let mut rng = Rng::new(n + 1);
    let mut pick = rng.below(100) as u64;
    let fault = FAULTS
        .iter()
        .find(|(_, weight)| {
            let hit = pick < *weight;
            pick = pick.saturating_sub(*weight);
            hit
        })
        .map_or(Fault::Normal, |(fault, _)| *fault);
    *served.by_fault.lock().unwrap().entry(fault).or_default() += 1;
    let normal = || {
        let chunks = llm_support::openai_sse(&["compute_", "total(a, b)"]);
        stream(
            "text/event-stream",
            chunks.into_iter().map(|c| Ok(Bytes::from(c))).collect(),
        )
    };
    match fault {
        Fault::Normal => normal(),
        Fault::SlowFirstToken => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            normal()
        }
        Fault::Http500 => status(500, &[]),
        Fault::RateLimited => status(429, &[("retry-after", "1")]),
        Fault::ResetMidStream => stream(
            "text/event-stream",
            vec![
                Ok(Bytes::from(sse_text("compute_"))),
                Err(std::io::Error::other("reset by the soak fake")),
            ],
        ),
        Fault::MalformedJson => stream(
            "text/event-stream",
            vec![Ok(Bytes::from("data: {\"choices\": oops\n\n"))],
        ),
        Fault::HugeReply => {
            let pulled = Arc::new(AtomicUsize::new(0));
            let guard = PulledOnDrop(Arc::clone(&served), Arc::clone(&pulled));
            let block = Bytes::from(sse_text(&"x".repeat(1000)).repeat(64));
            let blocks = (256usize << 20) / block.len();
            let body = futures::stream::unfold((0, guard), move |(sent, guard)| {
                let block = block.clone();
                async move {
                    if sent == blocks {
                        return None;
                    }
                    guard.1.fetch_add(block.len(), Ordering::SeqCst);
                    Some((Ok::<_, std::io::Error>(block), (sent + 1, guard)))
                }
            });
            Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(body))
                .unwrap()
        }
        Fault::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            normal()
        }
    }
}

/// Starts the fake on `runtime`; its base URL.
fn start_fake(runtime: &tokio::runtime::Runtime, served: &Arc<Served>) -> String {
    let served = Arc::clone(served);
    runtime.block_on(async move {
        use axum::serve::ListenerExt;
        let app = axum::Router::new().fallback(move || answer(Arc::clone(&served)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    })
}

// ---------------------------------------------------------------------------------------------
// The editor side.

/// The pids of this process's children, from `/proc/self/task/*/children`.
fn child_pids() -> Vec<u32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

/// `VmRSS` of a process, in MB.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// A small document taking completions at the end of its last line, and the line an edit
/// inserted (to remove next).
struct Doc {
    uri: String,
    version: i32,
    lines: u32,
    last_line_len: u32,
    inserted: Option<u32>,
}

fn python(functions: usize) -> String {
    let mut text = String::new();
    for i in 0..functions {
        text.push_str(&format!(
            "def f{i}(a, b):\n    \"\"\"Adds {i}.\"\"\"\n    return a + b + {i}\n\n"
        ));
    }
    text.push_str("value = ");
    text
}

fn completion(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character},
           "context": {"triggerKind": 1}})
}

/// Renames the variable on the last line (so that the next completion cannot be answered by
/// typing through the last suggestion), and inserts a line or removes the one inserted last.
fn edit(client: &mut StdioClient, doc: &mut Doc, rng: &mut Rng) {
    doc.version += 1;
    let last = doc.lines - 1;
    let renamed = format!("value_{} = ", doc.version);
    let rename = json!({"range": {"start": {"line": last, "character": 0},
                                  "end": {"line": last, "character": doc.last_line_len}},
                        "text": renamed});
    doc.last_line_len = renamed.len() as u32;
    let change = match doc.inserted.take() {
        Some(line) => {
            doc.lines -= 1;
            json!({"range": {"start": {"line": line, "character": 0},
                             "end": {"line": line + 1, "character": 0}}, "text": ""})
        }
        None => {
            let line = rng.below(doc.lines as usize - 1) as u32;
            doc.inserted = Some(line);
            doc.lines += 1;
            json!({"range": {"start": {"line": line, "character": 0},
                             "end": {"line": line, "character": 0}}, "text": "# edited\n"})
        }
    };
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": doc.uri, "version": doc.version},
               "contentChanges": [rename, change]}),
    );
}

/// How the completions were answered.
#[derive(Default)]
struct Outcomes {
    sent: usize,
    suggestion: usize,
    empty: usize,
    error: BTreeMap<String, usize>,
    unanswered: usize,
}

impl Outcomes {
    fn record(&mut self, response: &Value) {
        if let Some(error) = response.get("error") {
            *self.error.entry(error["message"].to_string()).or_default() += 1;
            return;
        }
        let result = &response["result"];
        let items = result
            .as_array()
            .or_else(|| result.get("items").and_then(Value::as_array));
        match items {
            Some(items) if !items.is_empty() => self.suggestion += 1,
            _ => self.empty += 1,
        }
    }
}

/// Takes the answer to `id` if it came; `None` otherwise (without waiting).
fn poll(client: &mut StdioClient, id: i64) -> Option<Value> {
    let timeout = std::mem::replace(&mut client.timeout, Duration::ZERO);
    let response = client.raw_response(json!(id));
    client.timeout = timeout;
    response
}

/// The error codes augur logged (`code=llm.…`), by code.
fn logged_codes(log: &Path) -> BTreeMap<String, usize> {
    let mut codes = BTreeMap::new();
    let text = std::fs::read_to_string(log).unwrap_or_default();
    for line in text.lines() {
        if let Some(at) = line.find("code=") {
            let code: String = line[at + 5..]
                .trim_start_matches('"')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'))
                .collect();
            *codes.entry(code).or_default() += 1;
        }
    }
    codes
}

fn main() {
    let env_usize = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let total = env_usize("AUGUR_SOAK_REQUESTS", 3000);
    let time_limit = Duration::from_secs(env_usize("AUGUR_SOAK_SECONDS", 600) as u64);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let served = Arc::new(Served::default());
    let url = start_fake(&runtime, &served);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = dir.path().join("augur.log");
    let before = child_pids();
    let mut client = StdioClient::spawn(
        Path::new(env!("CARGO_BIN_EXE_augur")),
        SpawnOptions {
            args: vec!["--log-file".into(), log.display().to_string()],
            env: vec![
                ("AUGUR_CACHE_DIR".into(), dir.path().display().to_string()),
                ("AUGUR_LOG".into(), "info".into()),
            ],
            ..SpawnOptions::default()
        },
    )
    .expect("augur starts");
    let pid = child_pids()
        .into_iter()
        .find(|p| !before.contains(p))
        .expect("the augur child process");
    client.timeout = Duration::from_secs(60);
    client.initialize(
        capabilities(&["utf-16"]),
        json!({"initializationOptions": {
            "models": {"default": {
                "backend": "openai", "url": format!("{url}/v1"), "model": "fake",
                "retries": 1, "retry_base_delay_ms": 50, "retry_max_delay_ms": 200,
                "first_token_timeout_ms": 1000, "total_timeout_ms": 3000,
                "max_retry_after_ms": 2000, "breaker_failures": 0,
            }},
            "llm": {"cache": {"enabled": false}},
            "completion": {"debounce_ms": 0},
        }}),
    );

    let small = python(150);
    let mut docs: Vec<Doc> = (0..6)
        .map(|i| {
            let uri = format!("file:///soak/doc{i}.py");
            client.open(&uri, "python", 1, &small);
            Doc {
                uri,
                version: 1,
                lines: small.lines().count() as u32,
                last_line_len: 8,
                inserted: None,
            }
        })
        .collect();
    let big_text = python(55_000);
    let big_uri = "file:///soak/big.py";
    let big_last = big_text.lines().count() as u32 - 1;
    println!(
        "soak: {total} completions, 6 documents of {} KB, a {:.1} MB document opened and closed every 100; fake at {url}",
        small.len() / 1024,
        big_text.len() as f64 / 1e6
    );

    let started = Instant::now();
    let mut rng = Rng::new(7);
    let mut outcomes = Outcomes::default();
    let mut rss: Vec<(usize, f64)> = vec![(0, rss_mb(pid))];
    let mut in_flight: Vec<(i64, usize, Instant)> = Vec::new();
    let mut done = 0;
    let mut stopped_early = false;
    while done < total {
        // Keep one request in flight per document.
        let sending = outcomes.sent < total && !stopped_early;
        for (i, doc) in docs.iter().enumerate() {
            if sending && outcomes.sent < total && !in_flight.iter().any(|f| f.1 == i) {
                let id = client.send_request(
                    "textDocument/inlineCompletion",
                    completion(&doc.uri, doc.lines - 1, doc.last_line_len),
                );
                in_flight.push((id, i, Instant::now()));
                outcomes.sent += 1;
            }
        }
        client.drain_for(Duration::from_millis(2));
        client.notifications.clear();
        let mut answered = Vec::new();
        for (at, (id, i, sent)) in in_flight.iter().enumerate() {
            if let Some(response) = poll(&mut client, *id) {
                outcomes.record(&response);
                answered.push((at, *i));
            } else if sent.elapsed() > Duration::from_secs(60) {
                outcomes.unanswered += 1;
                answered.push((at, *i));
            }
        }
        for (at, i) in answered.into_iter().rev() {
            in_flight.remove(at);
            edit(&mut client, &mut docs[i], &mut rng);
            done += 1;
            if done % (total / 10).max(1) == 0 {
                rss.push((done, rss_mb(pid)));
            }
            if done % 100 == 0 {
                // An open/close cycle of the big document.
                client.open(big_uri, "python", 1, &big_text);
                let _ = client.request(
                    "textDocument/inlineCompletion",
                    completion(big_uri, big_last, 8),
                );
                for version in 2..7 {
                    client.notify(
                        "textDocument/didChange",
                        json!({"textDocument": {"uri": big_uri, "version": version},
                               "contentChanges": [{"range": {"start": {"line": 0, "character": 0},
                               "end": {"line": 0, "character": 0}}, "text": "# edited\n"}]}),
                    );
                }
                client.notify(
                    "textDocument/didClose",
                    json!({"textDocument": {"uri": big_uri}}),
                );
            }
        }
        if !stopped_early && started.elapsed() > time_limit {
            stopped_early = true;
            println!(
                "time limit reached: no new requests after {} sent",
                outcomes.sent
            );
        }
        if stopped_early && in_flight.is_empty() {
            break;
        }
    }
    let elapsed = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let retained = client
        .request("augur/debug/retained", json!({"uri": big_uri}))
        .map(|r| r["held"].clone())
        .unwrap_or_else(|e| e);
    let rss_end = rss_mb(pid);

    println!("\nran {done} completions in {:.1} s", elapsed.as_secs_f64());
    println!(
        "answered: {} with a suggestion, {} empty, {} with an error {:?}; unanswered: {}",
        outcomes.suggestion,
        outcomes.empty,
        outcomes.error.values().sum::<usize>(),
        outcomes.error,
        outcomes.unanswered
    );
    println!(
        "faults served ({} HTTP requests): {:?}",
        served.requests.load(Ordering::SeqCst),
        served.by_fault.lock().unwrap()
    );
    println!("errors augur logged, by code: {:?}", logged_codes(&log));
    let huge = served.huge_pulled.lock().unwrap().clone();
    println!(
        "huge replies: {} closed by augur after {} KB on average, {} KB at most (of 256 MiB each)",
        huge.len(),
        huge.iter().sum::<usize>() / huge.len().max(1) / 1024,
        huge.iter().max().copied().unwrap_or(0) / 1024
    );
    let series: Vec<String> = rss.iter().map(|(n, mb)| format!("{n}: {mb:.0}")).collect();
    println!("augur RSS (MB) after n completions: {}", series.join(", "));
    let start = rss.get(1).map_or(rss[0].1, |r| r.1);
    let middle = rss[rss.len() / 2].1;
    println!(
        "augur RSS: start {:.0} MB (after {} completions), middle {middle:.0} MB, end {rss_end:.0} MB (2 s after the last)",
        start,
        rss.get(1).map_or(0, |r| r.0)
    );
    let levelled = rss_end - middle <= (0.1 * middle).max(10.0);
    println!(
        "levelled off: {} (the second half grew by {:.1} MB; the first by {:.1} MB)",
        if levelled { "yes" } else { "no" },
        rss_end - middle,
        middle - start
    );
    println!("kept of the closed big document: {retained}");
    let status = client.shutdown_and_exit();
    println!("augur exited with {status}");
}
