//! Where the time of a completion's prompt goes, in process and part by part: the whole
//! `build_prompt` (retrieval on), the same without context, the index lookups it makes (definitions
//! by name, similar chunks) and the multi-line decision, at varied cursors in 10 files of an indexed
//! workspace of real code (a subset of `~/.cargo/registry/src`).
//!
//! Run with `cargo bench --bench prompt`. It prints p50/p95/p99 per part, in microseconds. No timed
//! assertions. `cargo bench --bench prompt -- redact` measures only what secrets cost on the prompt
//! path (no workspace is indexed): the redaction of a request the way the LLM client makes it (an
//! ~8 KB prompt and suffix of real code, clean and with secrets), putting values back into an
//! answer, and the check of a whole file before indexing. Environment:
//! - `AUGUR_BENCH_ROOT`: a workspace to use (its index is opened and brought up to date) instead of
//!   a fresh copy of the registry subset;
//! - `AUGUR_BENCH_LINES` (default 1000000): lines of Rust in the subset;
//! - `AUGUR_BENCH_REQUESTS` (default 500): cursors per part.

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use augur::completion::CompletionConfig;
use augur::completion::OpenDocument;
use augur::completion::postprocess::auto_multiline_at;
use augur::completion::prompt::{PromptInput, build_prompt};
use augur::index::{IndexConfig, NoProgress, WorkspaceIndex};
use augur::llm::CompletionRequest;
use augur::llm::redact::{redact_request, restore_completion};
use augur::policy::Policy;
use augur::syntax::Language;
use ropey::Rope;
use support::{cargo_src, rust_files, rust_subset};
use tokio_util::sync::CancellationToken;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: deterministic cursors without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as usize
    }
}

/// A cursor on a random non-blank line: half the time its end, else a column after its indentation.
fn cursor(rope: &Rope, rng: &mut Rng) -> usize {
    for _ in 0..100 {
        let line = rng.below(rope.len_lines());
        let text = rope.line(line).to_string();
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        let indent = text.len() - text.trim_start().len();
        let mut column = if rng.below(2) == 0 {
            text.len()
        } else {
            indent + rng.below(text.len() - indent + 1)
        };
        while !text.is_char_boundary(column) {
            column -= 1;
        }
        return rope.line_to_byte(line) + column;
    }
    0
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pct = |p: f64| {
        let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
        samples[rank.clamp(1, samples.len()) - 1].as_secs_f64() * 1e6
    };
    let mean = samples.iter().sum::<Duration>().as_secs_f64() * 1e6 / samples.len() as f64;
    println!(
        "| {name:<44} | {:>5} | {:>8.1} | {:>8.1} | {:>8.1} | {:>8.1} |",
        samples.len(),
        pct(50.0),
        pct(95.0),
        pct(99.0),
        mean
    );
}

fn workspace() -> (PathBuf, Option<tempfile::TempDir>) {
    if let Some(root) = std::env::var_os("AUGUR_BENCH_ROOT") {
        return (PathBuf::from(root), None);
    }
    let src = cargo_src().expect("a cargo registry with sources");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let lines = rust_subset(
        &src,
        dir.path(),
        env_usize("AUGUR_BENCH_LINES", 1_000_000) as u64,
    );
    println!("workspace: {lines} lines of Rust copied");
    (dir.path().to_path_buf(), Some(dir))
}

/// Rust sources of this crate of 12 KB or more without a secret: real code, always at hand.
fn own_sources() -> Vec<String> {
    let (_, mut files) = rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|text| text.len() >= 12_000 && !augur::secrets::contains_secret(text))
        .collect()
}

/// What secrets cost on the prompt path: a request of a 6 KB prompt and a 2 KB suffix at varied
/// cursors of real code, redacted as the LLM client does it, clean and with three secrets; an
/// answer restored; a whole file checked before it is indexed.
fn redaction() {
    let sources = own_sources();
    let requests = env_usize("AUGUR_BENCH_REQUESTS", 2_000);
    let mut rng = Rng(0x5eed_5ec2_e75a_fe01);
    let cut = |text: &str, rng: &mut Rng| -> (String, String) {
        let mut at = 6_000 + rng.below(text.len() - 8_000);
        while !text.is_char_boundary(at) {
            at += 1;
        }
        let (mut start, mut end) = (at - 6_000, at + 2_000);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        while !text.is_char_boundary(end) {
            end += 1;
        }
        (text[start..at].to_owned(), text[at..end].to_owned())
    };
    let pairs: Vec<(String, String)> = (0..requests)
        .map(|i| cut(&sources[i % sources.len()], &mut rng))
        .collect();
    let aws = ["AKIA", "QX7Z3M5BT2WP9LKD"].concat();
    let github = ["ghp_", "8fK2mQ9xR4tL7vB1nC6zH3jW5pY0sD2gA8eU4"].concat();
    let secret_lines =
        format!("\nconst AWS_ID: &str = \"{aws}\";\nlet api_key = \"Qm7xR2pL9vKt4Wz8Nc3B\";\n");
    let request = |prompt: &str, suffix: &str| CompletionRequest {
        prompt: prompt.to_owned(),
        suffix: Some(suffix.to_owned()),
        stop: vec!["\n\n".into()],
        ..CompletionRequest::new("default")
    };
    let time = |with_secrets: bool| -> Vec<Duration> {
        pairs
            .iter()
            .map(|(prompt, suffix)| {
                let mut request = if with_secrets {
                    let suffix = format!("token = \"{github}\"\n{suffix}");
                    request(&format!("{secret_lines}{prompt}"), &suffix)
                } else {
                    request(prompt, suffix)
                };
                let started = Instant::now();
                let redactions = redact_request(&mut request);
                let took = started.elapsed();
                assert_eq!(redactions.is_some(), with_secrets);
                took
            })
            .collect()
    };
    let bytes = pairs.iter().map(|(p, s)| p.len() + s.len()).sum::<usize>() / pairs.len();
    println!(
        "{} requests of {bytes} bytes (prompt + suffix) from {} files; times in microseconds",
        pairs.len(),
        sources.len()
    );
    println!(
        "| part                                         |     n |      p50 |      p95 |      p99 |     mean |"
    );
    println!(
        "|----------------------------------------------|-------|----------|----------|----------|----------|"
    );
    let _ = time(false);
    report("redact a request, clean", time(false));
    report("redact a request, 3 secrets", time(true));
    let mut request = request(&format!("{secret_lines}{}", pairs[0].0), &pairs[0].1);
    let redactions = redact_request(&mut request).expect("secrets");
    let answer = augur::llm::Completion {
        text: "let id = \"<redacted:aws-access-key>\";\n    connect(id)\n".into(),
        usage: None,
        finish_reason: augur::llm::FinishReason::Stop,
        endpoint: String::new(),
        cached: false,
        attempts: 1,
        time_to_first_token: None,
        elapsed: Duration::ZERO,
    };
    report(
        "restore an answer",
        (0..requests)
            .map(|_| {
                let answer = answer.clone();
                let started = Instant::now();
                let restored = restore_completion(Some(&redactions), answer);
                let took = started.elapsed();
                assert!(restored.text.contains(&aws));
                took
            })
            .collect(),
    );
    let file_bytes = sources.iter().map(String::len).sum::<usize>() / sources.len();
    report(
        &format!("contains_secret, whole file ({} KB)", file_bytes / 1000),
        (0..requests)
            .map(|i| {
                let text = &sources[i % sources.len()];
                let started = Instant::now();
                let found = augur::secrets::contains_secret(text);
                let took = started.elapsed();
                assert!(!found);
                took
            })
            .collect(),
    );
}

fn main() {
    if std::env::args().any(|a| a == "redact") {
        redaction();
        return;
    }
    // Like the augur binary: tree-sitter allocates with mimalloc.
    // SAFETY: nothing has used tree-sitter yet.
    unsafe { augur::alloc::use_mimalloc_for_tree_sitter() };
    let (root, _keep) = workspace();
    let config = IndexConfig::default();
    let dir = match &_keep {
        Some(tmp) => tmp.path().join(".augur-index"),
        None => augur::index::store::index_dir_for(&root, &config),
    };
    let started = Instant::now();
    let index = WorkspaceIndex::open_in(&root, &dir, &config).expect("open the index");
    let summary = index
        .build(&NoProgress, &CancellationToken::new())
        .expect("index the workspace");
    println!(
        "index: {} files ready in {:.1} s",
        summary.files,
        started.elapsed().as_secs_f64()
    );
    let indexes = vec![Arc::new(index)];

    let mut rng = Rng(0x5eed_1234_abcd_0042);
    let (_, mut files) = rust_files(&root);
    files.retain(|p| std::fs::metadata(p).is_ok_and(|m| (4_000..160_000).contains(&m.len())));
    files.sort();
    for i in (1..files.len()).rev() {
        files.swap(i, rng.below(i + 1));
    }
    let docs: Vec<(PathBuf, Rope)> = files
        .iter()
        .take(10)
        .filter_map(|p| Some((p.clone(), Rope::from_str(&std::fs::read_to_string(p).ok()?))))
        .collect();
    let open: Vec<OpenDocument> = docs
        .iter()
        .map(|(p, r)| OpenDocument::new(p.clone(), r.clone()).with_version(1))
        .collect();
    let requests = env_usize("AUGUR_BENCH_REQUESTS", 500);
    let cursors: Vec<(usize, usize)> = (0..requests)
        .map(|i| {
            let d = i % docs.len();
            (d, cursor(&docs[d].1, &mut rng))
        })
        .collect();
    let count = |text: &str| text.len().div_ceil(4);
    let full = CompletionConfig::default();
    let bare = CompletionConfig {
        context_tokens: 0,
        ..CompletionConfig::default()
    };
    let time_prompts = |config: &CompletionConfig| -> Vec<Duration> {
        cursors
            .iter()
            .map(|&(d, at)| {
                let (path, rope) = &docs[d];
                let others: Vec<OpenDocument> =
                    open.iter().filter(|o| o.path != *path).cloned().collect();
                let input = PromptInput {
                    rope,
                    cursor: at,
                    path: Some(path.as_path()),
                    language: Some(Language::Rust),
                    config,
                    indexes: &indexes,
                    open_documents: &others,
                    policy: &Arc::new(Policy::of_indexes(&indexes)),
                };
                let started = Instant::now();
                let built = build_prompt(&input, &count);
                let took = started.elapsed();
                assert!(!built.prompt.is_empty());
                took
            })
            .collect()
    };
    // The first pass indexes the open documents' passages and warms the caches.
    let _ = time_prompts(&full);
    println!(
        "{} cursors in {} open files; times in microseconds",
        cursors.len(),
        docs.len()
    );
    println!(
        "| part                                         |     n |      p50 |      p95 |      p99 |     mean |"
    );
    println!(
        "|----------------------------------------------|-------|----------|----------|----------|----------|"
    );
    report("build_prompt, retrieval on", time_prompts(&full));
    report("build_prompt, no context", time_prompts(&bare));
    let near = |rope: &Rope, at: usize| {
        let line = rope.byte_to_line(at);
        let start = rope.line_to_byte(line.saturating_sub(full.query_lines));
        rope.byte_slice(start..at).to_string()
    };
    let names = |text: &str| -> Vec<String> {
        let mut out: Vec<String> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.len() >= 3 && !w.as_bytes()[0].is_ascii_digit())
            .map(str::to_string)
            .collect();
        out.reverse();
        out.dedup();
        out.truncate(16);
        out
    };
    let index = &indexes[0];
    let time_each = |f: &dyn Fn(&Path, &str)| -> Vec<Duration> {
        cursors
            .iter()
            .map(|&(d, at)| {
                let (path, rope) = &docs[d];
                let query = near(rope, at);
                let started = Instant::now();
                f(path, &query);
                started.elapsed()
            })
            .collect()
    };
    report(
        "index: definitions of 16 names",
        time_each(&|_, query| {
            let names = names(query);
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let _ = index.definitions(&refs, full.max_definitions + 4);
        }),
    );
    report(
        "index: similar chunks",
        time_each(&|path, query| {
            let _ = index.similar_chunks(query, Some(path), full.max_similar_chunks);
        }),
    );
    report(
        "multi-line decision (auto)",
        cursors
            .iter()
            .map(|&(d, at)| {
                let started = Instant::now();
                let _ = auto_multiline_at(Some(Language::Rust), &docs[d].1, at);
                started.elapsed()
            })
            .collect(),
    );
}
