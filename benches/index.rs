//! Benchmark of the workspace index over real code present on every machine here: a subset of
//! `~/.cargo/registry/src` (about a million lines of Rust, copied to a temporary workspace) and the
//! Python standard library (without `site-packages`).
//!
//! Run with `cargo bench --bench index`. It prints, per corpus: files, lines, MB, seconds, files/s,
//! MB/s and peak RSS of the full indexing, the time of a no-change re-open, the time to re-index
//! one edited file (update and commit), and the latency of searches.
//!
//! Environment: `AUGUR_BENCH_LINES` (default 1000000) caps the Rust subset;
//! `AUGUR_BENCH_CARGO_SRC` and `AUGUR_BENCH_PYTHON_STDLIB` override the corpus locations;
//! `AUGUR_BENCH_SKIP_PYTHON` skips the Python corpus; `AUGUR_BENCH_REINDEX_ROUNDS` (default 20) sets
//! how many one-file re-indexes are timed.

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use augur::index::{IndexConfig, NoProgress, SearchQuery, WorkspaceIndex};
use support::{cargo_src, rust_subset};
use tokio_util::sync::CancellationToken;

/// Peak resident set size of this process in MB, from `/proc/self/status` (`VmHWM`).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the peak RSS so that each corpus is measured on its own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn python_stdlib() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("AUGUR_BENCH_PYTHON_STDLIB") {
        return Some(PathBuf::from(dir));
    }
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sysconfig;print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    path.is_dir().then_some(path)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn p95(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[(samples.len() * 95 / 100).min(samples.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn bench_corpus(label: &str, root: &Path, config: &IndexConfig, edit: &str, queries: &[&str]) {
    let cache = tempfile::tempdir().expect("a temporary directory");
    let dir = cache.path().join("index");
    reset_peak_rss();
    let rss_before = peak_rss_mb();
    let index = WorkspaceIndex::open_in(root, &dir, config).expect("open the index");
    let summary = index
        .build(&NoProgress, &CancellationToken::new())
        .expect("index");
    let peak = peak_rss_mb();
    println!("== {label}: {}", root.display());
    println!("  {}", summary.describe());
    println!(
        "  full index: {} files, {} lines, {:.1} MB in {:.2} s = {:.0} files/s, {:.1} MB/s, {:.0} lines/s; peak RSS {:.0} MB (before {:.0} MB)",
        summary.files_indexed,
        summary.lines,
        summary.bytes as f64 / 1e6,
        summary.seconds,
        summary.files_indexed as f64 / summary.seconds,
        summary.megabytes_per_second(),
        summary.lines as f64 / summary.seconds,
        peak,
        rss_before
    );
    drop(index);

    let started = Instant::now();
    let index = WorkspaceIndex::open_in(root, &dir, config).expect("reopen the index");
    let again = index
        .build(&NoProgress, &CancellationToken::new())
        .expect("re-index");
    println!(
        "  re-open with no change: {:.2} s ({} unchanged, {} re-indexed)",
        started.elapsed().as_secs_f64(),
        again.files_unchanged,
        again.files_indexed
    );

    // One-file re-index: an edit of one file, updated and committed (searchable).
    let edited = root.join(edit);
    let original = std::fs::read_to_string(&edited).expect("the edited file");

    // A file touched on disk, then a whole-workspace update (`augur index` again): the walk
    // finds it by mtime and re-indexes only it. Only in the temporary copy, never in a corpus
    // that belongs to the system.
    if root.starts_with(std::env::temp_dir())
        && std::fs::write(&edited, format!("{original}\n// touched\n")).is_ok()
    {
        let started = Instant::now();
        let touched = index
            .build(&NoProgress, &CancellationToken::new())
            .expect("re-index");
        println!(
            "  touch one file + update the workspace: {:.1} ms ({} re-indexed, {} unchanged)",
            started.elapsed().as_secs_f64() * 1000.0,
            touched.files_indexed,
            touched.files_unchanged
        );
        let _ = std::fs::write(&edited, &original);
    }
    let mut update_only = Vec::new();
    let mut commit_only = Vec::new();
    let mut with_commit = Vec::new();
    let rounds: i64 = std::env::var("AUGUR_BENCH_REINDEX_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for round in 0..rounds {
        let text = format!("{original}\n// edit {round}\n");
        let started = Instant::now();
        index
            .update_text(&edited, &text, Some(round))
            .expect("update");
        let updated = started.elapsed();
        update_only.push(updated);
        index.commit().expect("commit");
        with_commit.push(started.elapsed());
        commit_only.push(started.elapsed() - updated);
    }
    println!(
        "  one-file re-index ({}, {} KB): parse+update {} median; commit+reload {} median; total {} median ({} p95)",
        edit,
        original.len() / 1024,
        ms(median(update_only)),
        ms(median(commit_only)),
        ms(median(with_commit.clone())),
        ms(p95(with_commit))
    );

    let mut search = Vec::new();
    let mut symbols = Vec::new();
    let mut similar = Vec::new();
    let mut definitions = Vec::new();
    for _ in 0..10 {
        for query in queries {
            let started = Instant::now();
            index
                .search(&SearchQuery {
                    text: (*query).into(),
                    limit: 20,
                    ..Default::default()
                })
                .expect("search");
            search.push(started.elapsed());
            let started = Instant::now();
            index.workspace_symbols(query, 50).expect("symbols");
            symbols.push(started.elapsed());
            let started = Instant::now();
            index.definitions(&[query], 10).expect("definitions");
            definitions.push(started.elapsed());
        }
        let started = Instant::now();
        index
            .similar_chunks(&original[..original.len().min(1500)], Some(&edited), 5)
            .expect("similar");
        similar.push(started.elapsed());
    }
    println!(
        "  search {} median / {} p95; workspace_symbols {} / {}; definitions {} / {}; similar_chunks {} / {}",
        ms(median(search.clone())),
        ms(p95(search)),
        ms(median(symbols.clone())),
        ms(p95(symbols)),
        ms(median(definitions.clone())),
        ms(p95(definitions)),
        ms(median(similar.clone())),
        ms(p95(similar))
    );
    let first = index
        .search(&SearchQuery {
            text: queries[0].into(),
            limit: 3,
            ..Default::default()
        })
        .expect("search");
    for hit in first {
        println!(
            "    {:?} -> {}:{} {} {}",
            queries[0],
            hit.rel_path,
            hit.start_line + 1,
            hit.kind.map_or("chunk", |k| k.as_str()),
            hit.name
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    // Like the augur binary: tree-sitter allocates with mimalloc.
    // SAFETY: nothing has used tree-sitter yet.
    unsafe { augur::alloc::use_mimalloc_for_tree_sitter() };
    let max_lines: u64 = std::env::var("AUGUR_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let config = IndexConfig::default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "parse threads: {}; writer: {} thread(s) / {} MB, bulk {} / {} MB; load average: {}",
        config.effective_threads(),
        config.writer_threads,
        config.writer_memory_mb,
        config.bulk_writer_threads,
        config.bulk_writer_memory_mb,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    match cargo_src() {
        Some(src) => {
            let workspace = tempfile::tempdir().expect("a temporary directory");
            let started = Instant::now();
            let lines = rust_subset(&src, workspace.path(), max_lines);
            println!(
                "copied {lines} lines of Rust from {} in {:.1} s",
                src.display(),
                started.elapsed().as_secs_f64()
            );
            // A mid-sized file to edit.
            let edit = ignore::WalkBuilder::new(workspace.path())
                .build()
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
                .filter_map(|e| Some((e.metadata().ok()?.len(), e.path().to_path_buf())))
                .filter(|(len, _)| (8_000..30_000).contains(len))
                .map(|(_, p)| p)
                .next()
                .expect("a file to edit");
            let edit = edit
                .strip_prefix(workspace.path())
                .expect("under the workspace")
                .to_string_lossy()
                .into_owned();
            bench_corpus(
                "cargo registry subset",
                workspace.path(),
                &config,
                &edit,
                &[
                    "parse http request",
                    "serialize",
                    "HashMap",
                    "from_str",
                    "ErrorKind",
                    "read to end",
                    "new",
                ],
            );
        }
        None => println!("no ~/.cargo/registry/src: skipping the Rust corpus"),
    }

    match python_stdlib().filter(|_| std::env::var_os("AUGUR_BENCH_SKIP_PYTHON").is_none()) {
        Some(stdlib) => {
            let config = IndexConfig {
                exclude: vec!["site-packages/**".into()],
                ..config
            };
            bench_corpus(
                "python stdlib",
                &stdlib,
                &config,
                "json/decoder.py",
                &[
                    "parse http request",
                    "json decoder",
                    "urlopen",
                    "TemporaryDirectory",
                    "read_text",
                    "Thread",
                ],
            );
        }
        None => println!("no python3: skipping the Python corpus"),
    }
}
