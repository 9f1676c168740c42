//! Recall of retrieval on real code: call sites cut out of real packages (Python's standard
//! library, crates of the cargo registry, JavaScript of the system's npm, C and C++ sources that
//! crates of the cargo registry vendor: mimalloc and tree-sitter's C library, LLVM's libFuzzer
//! in C++), with the cursor just
//! after the call's `(`, where the callee is defined in another file of the same package and not
//! named above the cursor except on an import line. A site is a hit when one of the callee's
//! definition lines (its signature's start) is in the prompt the real `augur` binary sends to a
//! fake OpenAI-compatible backend over stdio. The sites are found by the bench's own line patterns
//! (`recall/sites.rs`), not by augur's parser, so the same sites are asked of any build.
//!
//! Run with `cargo bench --bench recall`. It prints recall per language and kind (`qualified`: a
//! module-qualified call; `macro`: a callee defined only inside an item-level macro invocation;
//! `common`: a name defined in four or more places, of a type the code names; `preproc`: a C or
//! C++ callee defined only inside preprocessor conditionals or behind a macro on its line;
//! `header`: a C++ callee only in `.h` headers, which are C by their name; `plain`: the rest)
//! and the median size of the retrieved context (the characters of the request that are not the
//! document's own prefix and suffix). No assertions: it prints figures. Environment:
//! - `AUGUR_BENCH_BIN`: the augur binary to measure instead of this build's (to compare builds);
//! - `AUGUR_RECALL_PER_KIND` (default 40): sites per language and kind at most;
//! - `AUGUR_RECALL_LANGS` (default `python,rust,javascript,c,cpp`);
//! - `AUGUR_RECALL_MISSES=N`: print the first N misses of each language (to see why);
//! - `AUGUR_RECALL_DUMP=DIR`: with `AUGUR_RECALL_MISSES`, write the texts sent for each miss shown
//!   to `DIR/<language>-<site>.txt`;
//! - `AUGUR_BENCH_CARGO_SRC`: the registry source directory to take crates from.

#[path = "../tests/llm_support/mod.rs"]
mod llm_support;
#[path = "recall/sites.rs"]
mod sites;
// This bench uses only part of what the benches share.
#[allow(dead_code)]
#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use augur::test_support::capabilities;
use augur::test_support::stdio::{SpawnOptions, StdioClient};
use serde_json::{Value, json};
use sites::{KINDS, Lang, Site, collapse};
use support::{cargo_src, copy_dir};

fn bin() -> String {
    std::env::var("AUGUR_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_augur").to_owned())
}

/// An OpenAI-compatible fake on 127.0.0.1 that records each request body and answers at once.
struct Recorder {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    _runtime: tokio::runtime::Runtime,
}

impl Recorder {
    fn start() -> Recorder {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&bodies);
        let url = runtime.block_on(async move {
            let chunks: Vec<String> = llm_support::openai_sse(&["x"]);
            let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
                let kept = Arc::clone(&kept);
                let chunks = chunks.clone();
                async move {
                    if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                        kept.lock().unwrap().push(value);
                    }
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
            tokio::spawn(async move {
                axum::serve(listener, app).await.unwrap();
            });
            format!("http://{addr}")
        });
        Recorder {
            url,
            bodies,
            _runtime: runtime,
        }
    }

    fn take(&self) -> Vec<Value> {
        std::mem::take(&mut *self.bodies.lock().unwrap())
    }
}

/// The texts of a request body that a model reads (prompt, suffix, messages).
fn request_texts(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["prompt", "suffix", "input_prefix", "input_suffix"] {
        if let Some(s) = body[key].as_str() {
            out.push(s.to_string());
        }
    }
    if let Some(messages) = body["messages"].as_array() {
        for m in messages {
            if let Some(s) = m["content"].as_str() {
                out.push(s.to_string());
            }
        }
    }
    out
}

/// The workspace of one language, copied into `into`; the package depth (path components under
/// the root that name a package) and a label.
fn workspace(lang: Lang, into: &Path) -> Option<(usize, String)> {
    match lang {
        Lang::Python => {
            let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
                .ok()?
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("python3.") && p.join("json").is_dir())
                })
                .collect();
            dirs.sort();
            let lib = dirs.pop()?;
            let packages = [
                "asyncio",
                "email",
                "json",
                "urllib",
                "http",
                "logging",
                "concurrent",
                "importlib",
                "unittest",
                "multiprocessing",
                "xml",
            ];
            for p in packages {
                copy_dir(&lib.join(p), &into.join(p));
            }
            Some((1, format!("{} ({})", lib.display(), packages.join(", "))))
        }
        Lang::Rust => {
            let src = cargo_src()?;
            let mut picked = Vec::new();
            for name in ["tokio", "hyper"] {
                let mut versions: Vec<PathBuf> = std::fs::read_dir(&src)
                    .ok()?
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                            n.strip_prefix(name)
                                .and_then(|r| r.strip_prefix('-'))
                                .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
                        })
                    })
                    .collect();
                versions.sort();
                if let Some(krate) = versions.pop() {
                    let dest = into.join(krate.file_name()?);
                    copy_dir(&krate.join("src"), &dest.join("src"));
                    let _ = std::fs::copy(krate.join("Cargo.toml"), dest.join("Cargo.toml"));
                    picked.push(krate.display().to_string());
                }
            }
            (!picked.is_empty()).then(|| (1, picked.join(", ")))
        }
        Lang::C => {
            let src = cargo_src()?;
            let mut picked = Vec::new();
            let sources = [
                ("libmimalloc-sys-", "c_src/mimalloc/v2", "mimalloc"),
                ("tree-sitter-0.", "src", "tree-sitter"),
            ];
            for (prefix, inner, name) in sources {
                if let Some(krate) = newest(&src, prefix) {
                    let from = krate.join(inner);
                    if from.is_dir() {
                        copy_dir(&from, &into.join(name));
                        picked.push(from.display().to_string());
                    }
                }
            }
            (!picked.is_empty()).then(|| (1, picked.join(", ")))
        }
        Lang::Cpp => {
            let src = cargo_src()?;
            let from = newest(&src, "libfuzzer-sys-")?.join("libfuzzer");
            if !from.is_dir() {
                return None;
            }
            copy_dir(&from, &into.join("libfuzzer"));
            Some((1, from.display().to_string()))
        }
        Lang::JavaScript => {
            let npm = Path::new("/usr/lib/node_modules/npm");
            if !npm.join("lib").is_dir() {
                return None;
            }
            copy_dir(&npm.join("lib"), &into.join("npm/lib"));
            Some((1, format!("{}/lib", npm.display())))
        }
    }
}

/// The newest crate directory under the registry source `src` whose name starts with `prefix`
/// (`tree-sitter-0.`, `libfuzzer-sys-`).
fn newest(src: &Path, prefix: &str) -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir(src)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix(prefix))
                .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    versions.sort();
    versions.pop()
}

fn start(bin: &str, root: &Path, settings: &Value) -> (StdioClient, tempfile::TempDir) {
    let cache = tempfile::tempdir().expect("a temporary directory");
    let env = vec![(
        "AUGUR_CACHE_DIR".to_owned(),
        cache.path().display().to_string(),
    )];
    let mut client = StdioClient::spawn(
        Path::new(bin),
        SpawnOptions {
            env,
            ..SpawnOptions::default()
        },
    )
    .expect("augur starts");
    client.timeout = Duration::from_secs(900);
    client.initialize(
        capabilities(&["utf-16"]),
        json!({
            "workspaceFolders": [{"uri": format!("file://{}", root.display()), "name": "ws"}],
            "initializationOptions": settings,
        }),
    );
    let end = client.wait_for(|c| {
        let at = c
            .notifications
            .iter()
            .position(|n| n["method"] == "$/progress" && n["params"]["value"]["kind"] == "end")?;
        c.notifications.remove(at)
    });
    println!(
        "  indexed: {}",
        end.as_ref()
            .and_then(|e| e["params"]["value"]["message"].as_str())
            .unwrap_or("(no progress end)")
    );
    client.notifications.clear();
    client.timeout = Duration::from_secs(60);
    (client, cache)
}

/// The longest common prefix of two strings, in bytes.
fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// The longest common suffix of two strings, in bytes.
fn common_suffix(a: &str, b: &str) -> usize {
    a.bytes()
        .rev()
        .zip(b.bytes().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

#[derive(Default)]
struct Tally {
    hits: usize,
    sites: usize,
}

fn main() {
    let per_kind: usize = std::env::var("AUGUR_RECALL_PER_KIND")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let misses_shown: usize = std::env::var("AUGUR_RECALL_MISSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let langs: Vec<Lang> = std::env::var("AUGUR_RECALL_LANGS")
        .unwrap_or_else(|_| "python,rust,javascript,c,cpp".into())
        .split(',')
        .filter_map(|l| match l.trim() {
            "python" => Some(Lang::Python),
            "rust" => Some(Lang::Rust),
            "javascript" => Some(Lang::JavaScript),
            "c" => Some(Lang::C),
            "cpp" => Some(Lang::Cpp),
            _ => None,
        })
        .collect();
    let bin = bin();
    println!("recall bench: {bin}");
    let fake = Recorder::start();
    let settings = json!({
        "models": {"default": {"backend": "openai", "url": format!("{}/v1", fake.url),
                               "model": "fake", "retries": 0}},
        "llm": {"cache": {"enabled": false}},
        "completion": {"debounce_ms": 0},
    });
    let mut table: BTreeMap<(Lang, &str), Tally> = BTreeMap::new();
    let mut contexts: BTreeMap<Lang, Vec<usize>> = BTreeMap::new();
    for lang in langs {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().join("ws");
        let Some((depth, label)) = workspace(lang, &root) else {
            println!(
                "{}: no real code found on this machine; left out",
                lang.name()
            );
            continue;
        };
        let started = Instant::now();
        let sites: Vec<Site> = sites::sites(lang, &root, depth, per_kind);
        println!(
            "{}: {} sites from {label} (found in {:.1} s)",
            lang.name(),
            sites.len(),
            started.elapsed().as_secs_f64()
        );
        let (mut client, _cache) = start(&bin, &root, &settings);
        let mut shown = 0;
        for (n, site) in sites.iter().enumerate() {
            let uri = format!("file://{}", site.file.display());
            client.open(&uri, lang.language_id(), 1, &site.text);
            fake.take();
            let response = client.request(
                "textDocument/inlineCompletion",
                json!({
                    "textDocument": {"uri": uri},
                    "position": {"line": site.line, "character": site.column},
                    "context": {"triggerKind": 1}
                }),
            );
            client.notify(
                "textDocument/didClose",
                json!({"textDocument": {"uri": uri}}),
            );
            let bodies = fake.take();
            let texts: Vec<String> = bodies.iter().flat_map(request_texts).collect();
            let sent = collapse(&texts.join("\n"));
            let hit = site.wanted.iter().any(|w| sent.contains(w.as_str()));
            // The retrieved context: what the request holds beyond the document's own text
            // (the window before the cursor ends the prompt, the window after starts the suffix).
            let lines: Vec<&str> = site.text.split_inclusive('\n').collect();
            let before: String = lines[..site.line as usize].concat();
            let line = lines[site.line as usize];
            let cursor_byte = line
                .char_indices()
                .scan(0u32, |units, (i, c)| {
                    let at = *units;
                    *units += c.len_utf16() as u32;
                    Some((i, at))
                })
                .find(|(_, at)| *at >= site.column)
                .map_or(line.len(), |(i, _)| i);
            let prefix = before + &line[..cursor_byte];
            let suffix: String =
                line[cursor_byte..].to_string() + &lines[site.line as usize + 1..].concat();
            if let Some(body) = bodies.first() {
                let prompt = body["prompt"].as_str().unwrap_or("");
                let after = body["suffix"].as_str().unwrap_or("");
                let total: usize = request_texts(body).iter().map(String::len).sum();
                let own = common_suffix(prompt, &prefix) + common_prefix(after, &suffix);
                contexts
                    .entry(lang)
                    .or_default()
                    .push(total.saturating_sub(own));
            } else if response.is_err() {
                println!("  site {n}: no request ({response:?})");
            }
            for kind in site.kinds.iter().copied().chain(["all"]) {
                let t = table.entry((lang, kind)).or_default();
                t.sites += 1;
                t.hits += usize::from(hit);
            }
            if !hit && shown < misses_shown {
                shown += 1;
                if let Ok(dir) = std::env::var("AUGUR_RECALL_DUMP") {
                    let file = Path::new(&dir).join(format!("{}-{n}.txt", lang.name()));
                    let _ = std::fs::write(file, texts.join("\n----\n"));
                }
                println!(
                    "  miss [{}] {}:{}:{} {} wants {:?}",
                    site.kinds.join(","),
                    site.file
                        .strip_prefix(&root)
                        .unwrap_or(&site.file)
                        .display(),
                    site.line + 1,
                    site.column,
                    site.callee,
                    site.wanted
                );
            }
        }
        let _ = client.shutdown_and_exit();
    }
    println!();
    println!("| language   | kind      | sites | hits | recall | median context (chars) |");
    println!("|------------|-----------|-------|------|--------|------------------------|");
    for ((lang, kind), t) in &table {
        let median = if *kind == "all" {
            contexts
                .get(lang)
                .map(|c| {
                    let mut c = c.clone();
                    c.sort_unstable();
                    c.get(c.len() / 2).copied().unwrap_or(0).to_string()
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        println!(
            "| {:<10} | {:<9} | {:>5} | {:>4} | {:>5.1}% | {:>22} |",
            lang.name(),
            kind,
            t.sites,
            t.hits,
            100.0 * t.hits as f64 / t.sites.max(1) as f64,
            median
        );
    }
    let _ = KINDS;
}
