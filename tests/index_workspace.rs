//! End-to-end tests of the workspace index over a copy of the fixture workspace: indexing, search
//! in every case style, incremental updates, ignore and secret rules, corruption recovery,
//! cancellation, progress and a second process (reading, taking over, garbage collection after a
//! takeover).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use augur::index::progress::IndexSummary;
use augur::index::{
    Hit, IndexConfig, IndexProgress, NoProgress, SearchQuery, SkipReason, SymbolKind,
    UpdateOutcome, WorkspaceIndex,
};
use tokio_util::sync::CancellationToken;

/// The number of indexable files in the fixture workspace.
const FIXTURE_FILES: usize = 20;

/// A copy of the fixture workspace and a separate index directory, both temporary.
struct Workspace {
    root: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let root = tempfile::tempdir().unwrap();
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/index/workspace"),
            root.path(),
        );
        Workspace {
            root,
            cache: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn write(&self, rel: &str, text: impl AsRef<[u8]>) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn index_dir(&self) -> PathBuf {
        self.cache.path().join("index")
    }

    fn open(&self, config: &IndexConfig) -> WorkspaceIndex {
        WorkspaceIndex::open_in(self.root.path(), &self.index_dir(), config).unwrap()
    }

    fn built(&self) -> (WorkspaceIndex, IndexSummary) {
        let index = self.open(&IndexConfig::default());
        let summary = index.build(&NoProgress, &CancellationToken::new()).unwrap();
        (index, summary)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn search(index: &WorkspaceIndex, text: &str) -> Vec<Hit> {
    index
        .search(&SearchQuery {
            text: text.into(),
            limit: 10,
            ..Default::default()
        })
        .unwrap()
}

/// Whether a symbol of exactly this name is found.
fn has_symbol(index: &WorkspaceIndex, name: &str) -> bool {
    symbol_names(&search(index, name)).iter().any(|n| n == name)
}

fn symbol_names(hits: &[Hit]) -> Vec<String> {
    hits.iter()
        .filter(|h| h.kind.is_some())
        .map(|h| h.name.clone())
        .collect()
}

#[test]
fn indexes_the_fixture_workspace() {
    let ws = Workspace::new();
    let (index, summary) = ws.built();
    assert_eq!(summary.files, FIXTURE_FILES, "{summary:?}");
    assert_eq!(summary.files_indexed, FIXTURE_FILES);
    assert!(summary.symbols > 80, "{summary:?}");
    assert!(summary.chunks >= 20, "{summary:?}");
    assert!(summary.bytes > 5000);
    assert!(!summary.cancelled && !summary.read_only);
    assert_eq!(index.file_count(), FIXTURE_FILES);
    assert!(index.contains_file("src/http.rs"));
}

#[test]
fn finds_symbols_in_every_case_style() {
    let ws = Workspace::new();
    let (index, _) = ws.built();
    for query in [
        "parse http request",
        "parseHttpRequest",
        "parse_http_request",
        "ParseHTTPRequest",
    ] {
        let names = symbol_names(&search(&index, query));
        // The three spellings are the three best hits, in some order.
        let mut top: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
        top.sort_unstable();
        assert_eq!(
            top,
            ["ParseHTTPRequest", "parseHttpRequest", "parse_http_request"],
            "{query}: {names:?}"
        );
        // The exact spelling ranks first.
        if query != "parse http request" {
            assert_eq!(names[0], query, "{query}: {names:?}");
        }
    }
    let hit = search(&index, "parse_http_request")
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(hit.rel_path, "src/http.rs");
    assert_eq!(
        hit.path,
        ws.root.path().canonicalize().unwrap().join("src/http.rs")
    );
    assert_eq!(hit.kind, Some(SymbolKind::Function));
    assert_eq!(
        (hit.start_line, hit.end_line, hit.start_column),
        (47, 64, 7)
    );
    assert_eq!(
        hit.snippet,
        "pub fn parse_http_request(text: &str) -> Option<HttpRequest>"
    );
    assert_eq!(
        hit.doc.as_deref(),
        Some("Parses the request line and headers of an HTTP request.")
    );
    let source = std::fs::read_to_string(ws.path("src/http.rs")).unwrap();
    assert!(source[hit.byte_range.clone()].starts_with("pub fn parse_http_request"));
}

#[test]
fn filters_by_kind_and_path() {
    let ws = Workspace::new();
    let (index, _) = ws.built();
    let hits = index
        .search(&SearchQuery {
            text: "user".into(),
            limit: 20,
            kinds: vec![SymbolKind::Class],
            paths: vec![],
        })
        .unwrap();
    assert!(!hits.is_empty());
    assert!(
        hits.iter().all(|h| h.kind == Some(SymbolKind::Class)),
        "{hits:?}"
    );
    assert!(hits.iter().any(|h| h.name == "UserStore"));

    let hits = index
        .search(&SearchQuery {
            text: "parse request".into(),
            limit: 20,
            kinds: vec![],
            paths: vec!["py".into()],
        })
        .unwrap();
    assert!(!hits.is_empty());
    assert!(
        hits.iter().all(|h| h.rel_path.starts_with("py/")),
        "{hits:?}"
    );
    let hits = index
        .search(&SearchQuery {
            text: "request".into(),
            limit: 20,
            kinds: vec![],
            paths: vec!["**/*.ts".into()],
        })
        .unwrap();
    assert!(
        !hits.is_empty() && hits.iter().all(|h| h.rel_path == "web/app.ts"),
        "{hits:?}"
    );
}

#[test]
fn code_chunks_and_docs_are_searchable() {
    let ws = Workspace::new();
    let (index, _) = ws.built();
    // Words only in a function body.
    let hits = search(&index, "split_whitespace");
    let chunk = hits.iter().find(|h| h.kind.is_none()).expect("a chunk hit");
    assert_eq!(chunk.rel_path, "src/http.rs");
    assert!(chunk.text.as_deref().unwrap().contains("split_whitespace"));
    assert!(
        chunk.snippet.contains("split_whitespace"),
        "{}",
        chunk.snippet
    );
    // Words only in a doc comment.
    let names = symbol_names(&search(&index, "sessions"));
    assert!(names.contains(&"Store".to_string()), "{names:?}");
}

#[test]
fn workspace_symbols_are_fuzzy() {
    let ws = Workspace::new();
    let (index, _) = ws.built();
    assert_eq!(
        index.workspace_symbols("userstor", 5).unwrap()[0].name,
        "UserStore"
    );
    assert_eq!(
        index.workspace_symbols("daily report", 5).unwrap()[0].name,
        "DailyReport"
    );
    assert_eq!(
        index.workspace_symbols("DailyReport", 5).unwrap()[0].name,
        "DailyReport"
    );
    let typo = index.workspace_symbols("Inventroy", 5).unwrap();
    assert!(typo.iter().any(|h| h.name == "Inventory"), "{typo:?}");
    assert_eq!(index.workspace_symbols("", 7).unwrap().len(), 7);
    assert!(index.workspace_symbols("zzzzqqqq", 5).unwrap().is_empty());
}

#[test]
fn definitions_skip_names_defined_almost_everywhere() {
    let ws = Workspace::new();
    // `new` is defined in 60 files, `parse_ledger` in one: only the rare name is looked up.
    for i in 0..60 {
        ws.write(
            &format!("src/many/m{i}.rs"),
            format!("pub struct T{i};\nimpl T{i} {{\n    pub fn new() -> Self {{ T{i} }}\n}}\n"),
        );
    }
    ws.write(
        "src/ledger.rs",
        "pub fn parse_ledger(text: &str) -> usize { text.len() }\n",
    );
    let (index, _) = ws.built();
    let hits = index.definitions(&["new", "parse_ledger"], 10).unwrap();
    assert_eq!(symbol_names(&hits), ["parse_ledger"]);
    // A name defined in a few places is still found in each.
    let hits = index.definitions(&["T7", "T8"], 10).unwrap();
    assert_eq!(hits.len(), 2, "{hits:?}");
    // Leaving out one file leaves out its definitions only, within the limit.
    let m7 = ws.path("src/many/m7.rs");
    let hits = index
        .definitions_outside(&["T7", "T8"], Some(&m7), 1)
        .unwrap();
    assert_eq!(symbol_names(&hits), ["T8"]);
}

#[test]
fn definitions_and_similar_chunks() {
    let ws = Workspace::new();
    let (index, _) = ws.built();
    let hits = index
        .definitions(&["HttpRequest", "greet", "nothing_like_this"], 10)
        .unwrap();
    let names = symbol_names(&hits);
    assert!(
        names.contains(&"HttpRequest".to_string()) && names.contains(&"greet".to_string()),
        "{names:?}"
    );
    let struct_hit = hits.iter().find(|h| h.name == "HttpRequest").unwrap();
    assert_eq!(struct_hit.kind, Some(SymbolKind::Struct));
    assert_eq!(struct_hit.doc.as_deref(), Some("A parsed request."));

    let context = "let mut request = HttpRequest::new(path);\nrequest.headers.insert(name, value);";
    let similar = index.similar_chunks(context, None, 3).unwrap();
    assert_eq!(similar[0].rel_path, "src/http.rs");
    assert!(similar[0].text.is_some());
    let elsewhere = index
        .similar_chunks(context, Some(&ws.path("src/http.rs")), 3)
        .unwrap();
    assert!(
        elsewhere.iter().all(|h| h.rel_path != "src/http.rs"),
        "{elsewhere:?}"
    );
}

#[test]
fn similar_chunks_outside_a_file_that_matches_best_still_fill_the_limit() {
    let ws = Workspace::new();
    // The current file matches the query far better than anything else, in many chunks; the
    // other file's chunk is still found first, and none of the current file's.
    let mut current = String::new();
    for i in 0..40 {
        current.push_str(&format!(
            "pub fn settle_ledger_{i}(ledger: &mut Ledger, invoice: Invoice) {{\n    ledger.settle(invoice.amount, invoice.currency);\n    ledger.reconcile(invoice);\n}}\n\n"
        ));
    }
    ws.write("src/current.rs", &current);
    ws.write("src/more.rs", "pub fn settle_ledger_0() {}\n");
    ws.write(
        "src/other.rs",
        "pub fn audit(ledger: &Ledger) -> bool {\n    ledger.reconcile_all()\n}\n\npub fn refund(ledger: &mut Ledger, invoice: Invoice) {\n    ledger.settle(invoice.amount, invoice.currency);\n}\n",
    );
    let (index, _) = ws.built();
    let query = "ledger.settle(invoice.amount, invoice.currency);\nledger.reconcile(invoice);";
    let anywhere = index.similar_chunks(query, None, 2).unwrap();
    assert!(
        anywhere.iter().all(|h| h.rel_path == "src/current.rs"),
        "{anywhere:?}"
    );
    let elsewhere = index
        .similar_chunks(query, Some(&ws.path("src/current.rs")), 2)
        .unwrap();
    assert_eq!(elsewhere.len(), 2, "{elsewhere:?}");
    assert_eq!(elsewhere[0].rel_path, "src/other.rs");
    assert!(
        elsewhere.iter().all(|h| h.rel_path != "src/current.rs"),
        "{elsewhere:?}"
    );
    // Definitions likewise: 40 in the current file, one elsewhere.
    let names: Vec<String> = (0..40).map(|i| format!("settle_ledger_{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let hits = index
        .definitions_outside(&names, Some(&ws.path("src/current.rs")), 3)
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].rel_path, "src/more.rs");
}

#[test]
fn incremental_edit_save_delete_rename() {
    let ws = Workspace::new();
    let (index, _) = ws.built();
    let file = ws.path("src/http.rs");

    // An unsaved edit (debounced didChange) with a version stamp.
    let edited = "pub fn brand_new_function() {}\n";
    assert_eq!(
        index.update_text(&file, edited, Some(5)).unwrap(),
        UpdateOutcome::Updated
    );
    index.commit().unwrap();
    assert_eq!(
        symbol_names(&search(&index, "brand new function"))[0],
        "brand_new_function"
    );
    assert!(!has_symbol(&index, "parse_http_request"));
    // An older version arriving late is ignored; the newest wins.
    assert_eq!(
        index
            .update_text(&file, "fn older() {}\n", Some(4))
            .unwrap(),
        UpdateOutcome::Stale
    );
    assert_eq!(
        index.update_text(&file, edited, Some(6)).unwrap(),
        UpdateOutcome::Unchanged
    );

    // A save: the disk content is the truth again.
    ws.write("src/http.rs", "pub fn saved_to_disk() {}\n");
    assert_eq!(index.update_path(&file).unwrap(), UpdateOutcome::Updated);
    index.commit().unwrap();
    assert_eq!(
        symbol_names(&search(&index, "saved to disk"))[0],
        "saved_to_disk"
    );
    assert!(!has_symbol(&index, "brand_new_function"));

    // A new file.
    ws.write("src/extra.rs", "pub struct ExtraThing;\n");
    assert_eq!(
        index.update_path(&ws.path("src/extra.rs")).unwrap(),
        UpdateOutcome::Updated
    );
    // A rename.
    std::fs::rename(ws.path("src/extra.rs"), ws.path("src/moved.rs")).unwrap();
    index
        .rename_path(&ws.path("src/extra.rs"), &ws.path("src/moved.rs"))
        .unwrap();
    index.commit().unwrap();
    let hits = search(&index, "ExtraThing");
    assert_eq!(hits[0].rel_path, "src/moved.rs");
    assert!(hits.iter().all(|h| h.rel_path != "src/extra.rs"));

    // A deletion.
    std::fs::remove_file(ws.path("src/moved.rs")).unwrap();
    assert_eq!(
        index.update_path(&ws.path("src/moved.rs")).unwrap(),
        UpdateOutcome::Removed
    );
    // A deleted directory.
    std::fs::remove_dir_all(ws.path("go")).unwrap();
    assert_eq!(
        index.remove_path(&ws.path("go")).unwrap(),
        UpdateOutcome::Removed
    );
    index.commit().unwrap();
    assert!(search(&index, "ExtraThing").is_empty());
    assert!(!has_symbol(&index, "NewServer"));
    assert!(!index.contains_file("go/server.go"));

    // Paths outside the root are refused.
    assert!(
        index
            .update_path(Path::new("/definitely/elsewhere.rs"))
            .is_err()
    );
}

#[test]
fn commits_are_batched() {
    let ws = Workspace::new();
    let config = IndexConfig {
        commit_interval_ms: 60_000,
        commit_batch_files: 3,
        ..IndexConfig::default()
    };
    let index = ws.open(&config);
    index.build(&NoProgress, &CancellationToken::new()).unwrap();
    for (i, name) in ["first_batched", "second_batched"].iter().enumerate() {
        ws.write(&format!("b{i}.py"), format!("def {name}():\n    pass\n"));
        index.update_path(&ws.path(&format!("b{i}.py"))).unwrap();
    }
    // Two changes wait: not yet searchable.
    assert!(index.has_pending());
    assert!(!index.commit_if_due().unwrap());
    assert!(!has_symbol(&index, "first_batched"));
    // The third reaches the batch size and commits all three.
    ws.write("b2.py", "def third_batched():\n    pass\n");
    index.update_path(&ws.path("b2.py")).unwrap();
    assert!(!index.has_pending());
    assert_eq!(
        symbol_names(&search(&index, "first batched"))[0],
        "first_batched"
    );

    // With a short interval, the background committer makes an update searchable.
    let config = IndexConfig {
        commit_interval_ms: 50,
        commit_batch_files: 1000,
        ..IndexConfig::default()
    };
    drop(index);
    let index = std::sync::Arc::new(ws.open(&config));
    let cancel = CancellationToken::new();
    let committer = index.spawn_committer(cancel.clone());
    index
        .update_text(
            &ws.path("b3.py"),
            "def from_the_editor():\n    pass\n",
            Some(1),
        )
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while symbol_names(&search(&index, "from the editor")).is_empty() {
        assert!(Instant::now() < deadline, "the committer did not commit");
        std::thread::sleep(Duration::from_millis(20));
    }
    cancel.cancel();
    committer.join().unwrap();
}

#[test]
fn reopening_reindexes_only_changed_files() {
    let ws = Workspace::new();
    let (index, _) = ws.built();
    drop(index);
    let index = ws.open(&IndexConfig::default());
    assert_eq!(index.file_count(), FIXTURE_FILES);
    let summary = index.build(&NoProgress, &CancellationToken::new()).unwrap();
    assert_eq!(
        (
            summary.files_indexed,
            summary.files_unchanged,
            summary.files_removed
        ),
        (0, FIXTURE_FILES, 0),
        "{summary:?}"
    );
    drop(index);

    // Touch one file with new content, add one, delete one.
    std::thread::sleep(Duration::from_millis(20));
    ws.write("py/client.py", "def rewritten_while_closed():\n    pass\n");
    ws.write("py/new.py", "def added_while_closed():\n    pass\n");
    std::fs::remove_file(ws.path("lua/inventory.lua")).unwrap();
    let index = ws.open(&IndexConfig::default());
    let summary = index.build(&NoProgress, &CancellationToken::new()).unwrap();
    assert_eq!(
        (
            summary.files_indexed,
            summary.files_unchanged,
            summary.files_removed
        ),
        (2, FIXTURE_FILES - 2, 1),
        "{summary:?}"
    );
    assert_eq!(
        symbol_names(&search(&index, "rewritten while closed"))[0],
        "rewritten_while_closed"
    );
    assert_eq!(
        symbol_names(&search(&index, "added while closed"))[0],
        "added_while_closed"
    );
    assert!(!has_symbol(&index, "add_item"));
}

#[test]
fn ignore_rules_secrets_and_unindexable_files_are_skipped() {
    let ws = Workspace::new();
    ws.write(".gitignore", "generated/\n*.log\n");
    ws.write("generated/gen.rs", "pub fn generated_function() {}\n");
    ws.write(".augurignore", "vendor/\n");
    ws.write("vendor/lib.rs", "pub fn vendored_function() {}\n");
    ws.write("sub/.ignore", "local.rs\n");
    ws.write("sub/local.rs", "pub fn locally_ignored() {}\n");
    ws.write("keys/server.pem", "-----BEGIN PRIVATE KEY-----\n");
    ws.write("keys/id_rsa", "secret");
    ws.write("conf/prod.key", "secret");
    ws.write(".env", "TOKEN=secret\n");
    ws.write("notes.txt", "plain text is not indexed\n");
    ws.write(
        "big.rs",
        format!("// {}\nfn too_big_function() {{}}\n", "x".repeat(3000)),
    );
    ws.write("blob.rs", b"fn binary_function() {}\0\x01\x02");
    ws.write("latin1.py", b"def not_utf8():\n    return '\xe9'\n");
    let config = IndexConfig {
        max_file_bytes: 2500,
        exclude: vec!["docs/**".into()],
        ..IndexConfig::default()
    };
    let index = ws.open(&config);
    let summary = index.build(&NoProgress, &CancellationToken::new()).unwrap();
    assert_eq!(
        summary.skipped.get(&SkipReason::Secret),
        Some(&4),
        "{summary:?}"
    ); // 3 keys + docs/guide.md
    assert_eq!(
        summary.skipped.get(&SkipReason::TooLarge),
        Some(&1),
        "{summary:?}"
    );
    assert_eq!(
        summary.skipped.get(&SkipReason::Binary),
        Some(&1),
        "{summary:?}"
    );
    assert_eq!(
        summary.skipped.get(&SkipReason::NotUtf8),
        Some(&1),
        "{summary:?}"
    );
    assert_eq!(
        summary.skipped.get(&SkipReason::Unsupported),
        Some(&1),
        "{summary:?}"
    );
    assert_eq!(summary.files, FIXTURE_FILES - 1, "{summary:?}");
    for name in [
        "generated_function",
        "vendored_function",
        "locally_ignored",
        "too_big_function",
        "binary_function",
    ] {
        assert!(!has_symbol(&index, name), "{name}");
    }
    assert!(index.is_excluded(&ws.path("keys/server.pem")));
    assert!(index.is_excluded(&ws.path(".env")));
    assert!(index.is_excluded(&ws.path("docs/guide.md")));
    assert!(!index.is_excluded(&ws.path("src/http.rs")));
    assert!(augur::index::is_excluded(
        &config,
        Path::new("/anywhere/.env.local")
    ));

    // Single-file updates follow the same rules.
    assert_eq!(
        index.update_path(&ws.path("generated/gen.rs")).unwrap(),
        UpdateOutcome::Skipped(SkipReason::Ignored)
    );
    assert_eq!(
        index.update_path(&ws.path("vendor/lib.rs")).unwrap(),
        UpdateOutcome::Skipped(SkipReason::Ignored)
    );
    assert_eq!(
        index.update_path(&ws.path("keys/server.pem")).unwrap(),
        UpdateOutcome::Skipped(SkipReason::Secret)
    );
    assert_eq!(
        index.update_path(&ws.path("blob.rs")).unwrap(),
        UpdateOutcome::Skipped(SkipReason::Binary)
    );
    assert_eq!(
        index
            .update_text(&ws.path("conf/prod.key"), "fn x() {}", Some(1))
            .unwrap(),
        UpdateOutcome::Skipped(SkipReason::Secret)
    );
}

#[test]
fn a_corrupt_index_is_rebuilt() {
    let ws = Workspace::new();
    drop(ws.built());
    std::fs::write(ws.index_dir().join("meta.json"), "{ this is not json").unwrap();
    let (index, summary) = ws.built();
    assert_eq!(summary.files_indexed, FIXTURE_FILES, "{summary:?}");
    assert_eq!(
        symbol_names(&search(&index, "parse_http_request"))[0],
        "parse_http_request"
    );
    drop(index);

    // Segment files gone.
    for entry in std::fs::read_dir(ws.index_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "idx" || e == "store") {
            std::fs::remove_file(path).unwrap();
        }
    }
    let (index, summary) = ws.built();
    assert_eq!(summary.files_indexed, FIXTURE_FILES, "{summary:?}");
    assert!(!search(&index, "UserStore").is_empty());
}

#[test]
fn another_schema_version_is_rebuilt() {
    let ws = Workspace::new();
    drop(ws.built());
    std::fs::write(
        ws.index_dir().join("augur-index.json"),
        "{\"schema_version\": 0}",
    )
    .unwrap();
    let (_, summary) = ws.built();
    assert_eq!(summary.files_indexed, FIXTURE_FILES, "{summary:?}");
}

#[test]
fn a_second_process_reads_only() {
    let ws = Workspace::new();
    let (first, _) = ws.built();
    let second = ws.open(&IndexConfig::default());
    assert!(!first.is_read_only());
    assert!(second.is_read_only());
    assert_eq!(
        second.update_path(&ws.path("src/http.rs")).unwrap(),
        UpdateOutcome::ReadOnly
    );
    assert!(
        second
            .build(&NoProgress, &CancellationToken::new())
            .unwrap()
            .read_only
    );
    assert_eq!(
        symbol_names(&search(&second, "parse_http_request"))[0],
        "parse_http_request"
    );
    // The reader of the second sees the first's commits.
    first
        .update_text(
            &ws.path("src/http.rs"),
            "fn seen_by_the_second() {}\n",
            Some(1),
        )
        .unwrap();
    first.commit().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while symbol_names(&search(&second, "seen by the second")).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the second process never saw the commit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Once the first is gone, a new opener writes.
    drop(first);
    drop(second);
    assert!(!ws.open(&IndexConfig::default()).is_read_only());
}

#[test]
fn a_read_only_index_takes_the_writer_over_and_catches_up() {
    let ws = Workspace::new();
    let (first, _) = ws.built();
    let second = ws.open(&IndexConfig::default());
    assert!(second.is_read_only());
    assert!(!second.take_writer().unwrap(), "the first still writes");
    // Changes on disk while the second only reads: its update is refused.
    ws.write("py/late.py", "def written_while_read_only():\n    pass\n");
    assert_eq!(
        second.update_path(&ws.path("py/late.py")).unwrap(),
        UpdateOutcome::ReadOnly
    );
    drop(first);
    assert!(second.take_writer().unwrap());
    assert!(!second.is_read_only());
    let summary = second
        .build(&NoProgress, &CancellationToken::new())
        .unwrap();
    assert_eq!(
        (summary.files_indexed, summary.files_unchanged),
        (1, FIXTURE_FILES),
        "{summary:?}"
    );
    assert!(has_symbol(&second, "written_while_read_only"));
    assert!(has_symbol(&second, "parse_http_request"));
    // It writes now: updates are applied.
    ws.write(
        "py/late.py",
        "def rewritten_after_taking_over():\n    pass\n",
    );
    assert_eq!(
        second.update_path(&ws.path("py/late.py")).unwrap(),
        UpdateOutcome::Updated
    );
    second.commit().unwrap();
    assert!(has_symbol(&second, "rewritten_after_taking_over"));
    assert!(!has_symbol(&second, "written_while_read_only"));
}

#[test]
fn the_committer_of_a_read_only_index_takes_over() {
    let ws = Workspace::new();
    let (first, _) = ws.built();
    let config = IndexConfig {
        commit_interval_ms: 50,
        ..IndexConfig::default()
    };
    let second = std::sync::Arc::new(ws.open(&config));
    assert!(second.is_read_only());
    let stop = CancellationToken::new();
    let committer = second.spawn_committer(stop.clone());
    ws.write(
        "py/late.py",
        "def caught_up_by_the_committer():\n    pass\n",
    );
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !has_symbol(&second, "caught_up_by_the_committer") {
        assert!(Instant::now() < deadline, "the second never caught up");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!second.is_read_only());
    stop.cancel();
    committer.join().unwrap();
}

#[test]
fn an_index_another_process_writes_is_never_deleted() {
    let ws = Workspace::new();
    let (first, _) = ws.built();
    // The directory now looks like an index of another version, while the first still writes it.
    let marker = ws.index_dir().join("augur-index.json");
    std::fs::write(&marker, "{\"schema_version\": 0}").unwrap();
    let second = ws.open(&IndexConfig::default());
    assert!(second.is_in_memory());
    assert!(!second.is_read_only());
    assert!(!second.take_writer().unwrap());
    let summary = second
        .build(&NoProgress, &CancellationToken::new())
        .unwrap();
    assert_eq!(summary.files_indexed, FIXTURE_FILES, "{summary:?}");
    assert!(has_symbol(&second, "parse_http_request"));
    // The first's index is intact and still takes updates.
    assert!(ws.index_dir().join("meta.json").exists());
    assert!(has_symbol(&first, "parse_http_request"));
    first
        .update_text(&ws.path("src/http.rs"), "fn still_written() {}\n", Some(1))
        .unwrap();
    first.commit().unwrap();
    assert!(has_symbol(&first, "still_written"));
    drop(second);
    drop(first);
    // Nobody writes it any more: now it is rebuilt.
    let (third, summary) = ws.built();
    assert!(!third.is_in_memory());
    assert_eq!(summary.files_indexed, FIXTURE_FILES, "{summary:?}");
    assert!(
        std::fs::read_to_string(&marker)
            .unwrap()
            .contains("schema_version")
    );
    assert!(!std::fs::read_to_string(&marker).unwrap().contains(": 0"));
}

/// The segments of the index in `dir`, as its `meta.json` lists them (ids without dashes).
fn live_segments(dir: &Path) -> HashSet<String> {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    meta["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|segment| segment["segment_id"].as_str().unwrap().replace('-', ""))
        .collect()
}

/// The segments that files in `dir` belong to (named `<segment id>.<extension>`).
fn segments_on_disk(dir: &Path) -> HashSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let id = name.split('.').next()?.to_owned();
            (id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit())).then_some(id)
        })
        .collect()
}

#[test]
fn after_a_takeover_the_old_writers_merged_segments_are_deleted() {
    let ws = Workspace::new();
    let (first, _) = ws.built();
    let second = ws.open(&IndexConfig::default());
    assert!(second.is_read_only());
    // Segments the first makes after the second has opened the index.
    for version in 1..=3 {
        first
            .update_text(
                &ws.path("src/http.rs"),
                &format!("fn written_by_the_first_{version}() {{}}\n"),
                Some(version),
            )
            .unwrap();
        first.commit().unwrap();
    }
    first.flush_to_disk();
    let old = live_segments(&ws.index_dir());
    assert!(old.len() >= 2, "{old:?}");
    drop(first);
    assert!(second.take_writer().unwrap());
    second
        .update_text(
            &ws.path("src/user.rs"),
            "fn written_by_the_second() {}\n",
            Some(1),
        )
        .unwrap();
    second.commit().unwrap();
    second.compact().unwrap();
    // Every segment is merged into one, and the files of the others are gone.
    let live = live_segments(&ws.index_dir());
    assert_eq!(live.len(), 1, "{live:?}");
    assert!(live.is_disjoint(&old));
    assert_eq!(segments_on_disk(&ws.index_dir()), live);
    assert!(has_symbol(&second, "written_by_the_first_3"));
    assert!(has_symbol(&second, "written_by_the_second"));
}

#[test]
fn an_index_in_memory_moves_to_the_disk_when_the_writer_leaves() {
    let ws = Workspace::new();
    let (first, _) = ws.built();
    // An index of another version, which the first writes.
    let marker = ws.index_dir().join("augur-index.json");
    std::fs::write(&marker, "{\"schema_version\": 0}").unwrap();
    let second = ws.open(&IndexConfig::default());
    assert!(second.is_in_memory());
    assert!(!second.take_writer().unwrap(), "the first still writes");
    assert!(second.is_in_memory());
    drop(first);
    // The second rebuilds the index on disk and writes it.
    assert!(second.take_writer().unwrap());
    assert!(!second.is_in_memory() && !second.is_read_only());
    let summary = second
        .build(&NoProgress, &CancellationToken::new())
        .unwrap();
    assert_eq!(summary.files_indexed, FIXTURE_FILES, "{summary:?}");
    assert!(!std::fs::read_to_string(&marker).unwrap().contains(": 0"));
    drop(second);
    let (_, summary) = ws.built();
    assert_eq!(summary.files_unchanged, FIXTURE_FILES, "{summary:?}");
}

#[test]
fn an_older_augur_holding_only_tantivys_writer_lock_is_left_alone() {
    use tantivy::directory::{Directory, INDEX_WRITER_LOCK};
    let ws = Workspace::new();
    drop(ws.built());
    // A process that knows only tantivy's lock (an older augur) writes the index.
    let directory = augur::index::directory::CacheDirectory::open(&ws.index_dir()).unwrap();
    let older = directory.acquire_lock(&INDEX_WRITER_LOCK).unwrap();
    let index = ws.open(&IndexConfig::default());
    assert!(index.is_read_only() && !index.is_in_memory());
    assert!(!index.take_writer().unwrap());
    // Nor is an index of another version deleted under it.
    let marker = ws.index_dir().join("augur-index.json");
    std::fs::write(&marker, "{\"schema_version\": 0}").unwrap();
    let other = ws.open(&IndexConfig::default());
    assert!(other.is_in_memory());
    assert!(!other.take_writer().unwrap());
    assert!(ws.index_dir().join("meta.json").exists());
    drop(older);
    // Once it has let go, the index in memory rebuilds the disk.
    assert!(other.take_writer().unwrap());
    assert!(!other.is_in_memory() && !other.is_read_only());
}

#[test]
fn syntax_errors_leave_the_rest_of_a_file_indexed() {
    let ws = Workspace::new();
    ws.write(
        "broken/lib.rs",
        "pub fn before_the_break(a: u32) -> u32 {\n    a + 1\n}\n\n\
         pub fn broken_function(x: u32 -> u32 {\n    let y = ;\n    x +\n}\n\n\
         /// Still found.\npub fn after_the_break() -> bool {\n    true\n}\n\n\
         pub struct StillAStruct {\n    pub field: u8,\n}\n",
    );
    ws.write(
        "broken/tool.py",
        "def before_the_break():\n    return 1\n\n\
         def broken_function(x):\n    y = = x\n    return x +\n\n\
         class StillAClass:\n    def method_after_the_break(self):\n        return 2\n\n\
         def after_the_break():\n    return 3\n",
    );
    for (rel, language) in [
        ("broken/lib.rs", augur::syntax::Language::Rust),
        ("broken/tool.py", augur::syntax::Language::Python),
    ] {
        let text = std::fs::read_to_string(ws.path(rel)).unwrap();
        assert!(
            augur::syntax::syntax_error_count(language, &text) > 0,
            "{rel}"
        );
    }
    let (index, _) = ws.built();
    for name in [
        "before_the_break",
        "after_the_break",
        "StillAStruct",
        "StillAClass",
    ] {
        assert!(has_symbol(&index, name), "{name}");
    }
    for rel in ["broken/lib.rs", "broken/tool.py"] {
        let names: Vec<String> = index
            .search(&SearchQuery {
                text: "before after break".into(),
                limit: 20,
                paths: vec![rel.into()],
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .filter(|h| h.kind.is_some())
            .map(|h| h.name)
            .collect();
        assert!(
            names.contains(&"before_the_break".to_string())
                && names.contains(&"after_the_break".to_string()),
            "{rel}: {names:?}"
        );
    }
    let python_method = index
        .search(&SearchQuery {
            text: "method after the break".into(),
            limit: 5,
            kinds: vec![SymbolKind::Method],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        python_method.first().map(|h| h.name.as_str()),
        Some("method_after_the_break")
    );
    // Chunks of the text after the error are indexed too.
    let chunks = index
        .search(&SearchQuery {
            text: "field u8".into(),
            limit: 10,
            paths: vec!["broken/lib.rs".into()],
            ..Default::default()
        })
        .unwrap();
    assert!(
        chunks
            .iter()
            .any(|h| h.kind.is_none() && h.snippet.contains("field: u8")),
        "{chunks:?}"
    );
}

/// Records progress callbacks and cancels after `cancel_after` files.
struct Recorder {
    begin: Mutex<Option<usize>>,
    done: AtomicUsize,
    ended: Mutex<Option<IndexSummary>>,
    cancel_after: usize,
    cancel: CancellationToken,
}

impl IndexProgress for Recorder {
    fn begin(&self, total: usize) {
        *self.begin.lock().unwrap() = Some(total);
    }

    fn file_done(&self, done: usize, total: usize, path: &Path) {
        assert!(done <= total);
        assert!(path.is_absolute());
        self.done.store(done, Ordering::SeqCst);
        if done >= self.cancel_after {
            self.cancel.cancel();
        }
    }

    fn end(&self, summary: &IndexSummary) {
        *self.ended.lock().unwrap() = Some(summary.clone());
    }
}

#[test]
fn progress_and_cancellation() {
    let ws = Workspace::new();
    let index = ws.open(&IndexConfig {
        threads: 1,
        ..IndexConfig::default()
    });
    let cancel = CancellationToken::new();
    let recorder = Recorder {
        begin: Mutex::new(None),
        done: AtomicUsize::new(0),
        ended: Mutex::new(None),
        cancel_after: 3,
        cancel: cancel.clone(),
    };
    let summary = index.build(&recorder, &cancel).unwrap();
    assert_eq!(*recorder.begin.lock().unwrap(), Some(FIXTURE_FILES));
    assert!(summary.cancelled);
    assert_eq!(recorder.done.load(Ordering::SeqCst), 3);
    assert_eq!(summary.files_indexed, 3, "{summary:?}");
    assert_eq!(recorder.ended.lock().unwrap().as_ref(), Some(&summary));
    // What was done is kept; the next run does the rest.
    let summary = index.build(&NoProgress, &CancellationToken::new()).unwrap();
    assert!(!summary.cancelled);
    assert_eq!(
        (summary.files_indexed, summary.files_unchanged),
        (FIXTURE_FILES - 3, 3),
        "{summary:?}"
    );

    // A token cancelled up front indexes nothing.
    let other = Workspace::new();
    let index = other.open(&IndexConfig::default());
    let cancel = CancellationToken::new();
    cancel.cancel();
    let summary = index.build(&NoProgress, &cancel).unwrap();
    assert!(summary.cancelled);
    assert_eq!(summary.files_indexed, 0);
}

#[test]
fn the_cache_directory_is_per_root_and_overridable() {
    let ws = Workspace::new();
    let config = IndexConfig {
        cache_dir: Some(ws.cache.path().to_path_buf()),
        ..IndexConfig::default()
    };
    let dir = augur::index::index_dir_for(ws.root.path(), &config);
    if std::env::var_os(augur::index::CACHE_DIR_ENV).is_none() {
        assert!(
            dir.starts_with(ws.cache.path().join("indexes")),
            "{}",
            dir.display()
        );
    }
    let other = tempfile::tempdir().unwrap();
    assert_ne!(dir, augur::index::index_dir_for(other.path(), &config));
    assert_eq!(dir, augur::index::index_dir_for(ws.root.path(), &config));
}

#[test]
fn the_notify_watcher_applies_file_events() {
    let ws = Workspace::new();
    let config = IndexConfig {
        commit_interval_ms: 50,
        ..IndexConfig::default()
    };
    let index = std::sync::Arc::new(ws.open(&config));
    index.build(&NoProgress, &CancellationToken::new()).unwrap();
    let cancel = CancellationToken::new();
    let committer = index.spawn_committer(cancel.clone());
    let watcher = augur::index::watch::watch(&index).unwrap();
    let wait_for = |name: &str, present: bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while has_symbol(&index, name) != present {
            assert!(
                Instant::now() < deadline,
                "{name} never became present={present}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    };
    ws.write("src/watched.rs", "pub fn seen_by_the_watcher() {}\n");
    wait_for("seen_by_the_watcher", true);
    std::fs::rename(ws.path("src/watched.rs"), ws.path("src/renamed.rs")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !index.contains_file("src/renamed.rs") || index.contains_file("src/watched.rs") {
        assert!(Instant::now() < deadline, "the rename was not applied");
        std::thread::sleep(Duration::from_millis(25));
    }
    std::fs::remove_file(ws.path("src/renamed.rs")).unwrap();
    wait_for("seen_by_the_watcher", false);
    drop(watcher);
    cancel.cancel();
    committer.join().unwrap();
}

#[test]
fn the_index_is_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<WorkspaceIndex>();
    // Searches are answered while a build runs on another thread.
    let ws = Workspace::new();
    let index = std::sync::Arc::new(ws.open(&IndexConfig::default()));
    let builder = {
        let index = index.clone();
        std::thread::spawn(move || index.build(&NoProgress, &CancellationToken::new()).unwrap())
    };
    while !builder.is_finished() {
        let _ = search(&index, "request");
    }
    assert_eq!(builder.join().unwrap().files_indexed, FIXTURE_FILES);
}

#[test]
fn a_large_run_uses_the_bulk_writer_and_returns_to_the_incremental_one() {
    let ws = Workspace::new();
    for i in 0..520 {
        ws.write(
            &format!("many/m{i}.py"),
            format!("def generated_number_{i}():\n    return {i}\n"),
        );
    }
    let (index, summary) = ws.built();
    assert_eq!(summary.files_indexed, 520 + FIXTURE_FILES, "{summary:?}");
    assert!(!index.is_read_only());
    assert!(has_symbol(&index, "generated_number_517"));
    // The incremental writer works after the run.
    ws.write("many/m0.py", "def replaced_after_bulk():\n    pass\n");
    assert_eq!(
        index.update_path(&ws.path("many/m0.py")).unwrap(),
        UpdateOutcome::Updated
    );
    index.commit().unwrap();
    assert!(has_symbol(&index, "replaced_after_bulk"));
    assert!(!has_symbol(&index, "generated_number_0"));
}

#[test]
fn an_index_set_merges_workspace_folders() {
    let first = Workspace::new();
    let second = tempfile::tempdir().unwrap();
    std::fs::write(
        second.path().join("lib.py"),
        "def parse_in_the_second_folder():\n    pass\n",
    )
    .unwrap();
    let a = std::sync::Arc::new(first.open(&IndexConfig::default()));
    let b = std::sync::Arc::new(
        WorkspaceIndex::open_in(
            second.path(),
            &first.cache.path().join("second"),
            &IndexConfig::default(),
        )
        .unwrap(),
    );
    a.build(&NoProgress, &CancellationToken::new()).unwrap();
    b.build(&NoProgress, &CancellationToken::new()).unwrap();
    let mut set = augur::index::IndexSet::from_indexes(vec![a.clone(), b.clone()]);
    let names = symbol_names(&set.search(&SearchQuery {
        text: "parse".into(),
        limit: 50,
        ..Default::default()
    }));
    assert!(
        names.contains(&"parse_in_the_second_folder".to_string())
            && names.contains(&"parse_http_request".to_string())
    );
    let in_second = second.path().canonicalize().unwrap().join("lib.py");
    assert_eq!(set.for_path(&in_second).unwrap().root(), b.root());
    assert!(set.is_excluded(&first.path(".env")));
    set.remove_root(second.path());
    assert_eq!(set.indexes().len(), 1);
    assert!(set.for_path(&in_second).is_none());
}

#[test]
fn a_build_leaves_documents_open_in_the_editor_alone() {
    let ws = Workspace::new();
    let index = ws.open(&IndexConfig::default());
    index
        .update_text(
            &ws.path("src/http.rs"),
            "fn typed_but_not_saved() {}\n",
            Some(3),
        )
        .unwrap();
    index.build(&NoProgress, &CancellationToken::new()).unwrap();
    assert!(has_symbol(&index, "typed_but_not_saved"));
    assert!(!has_symbol(&index, "parse_http_request"));
    // Saving hands the file back to the disk.
    index.update_path(&ws.path("src/http.rs")).unwrap();
    index.commit().unwrap();
    assert!(has_symbol(&index, "parse_http_request"));
}

#[test]
fn a_root_opened_through_a_symbolic_link_accepts_both_spellings() {
    let ws = Workspace::new();
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("project");
    std::os::unix::fs::symlink(ws.root.path(), &link).unwrap();
    let index = WorkspaceIndex::open_in(&link, &ws.index_dir(), &IndexConfig::default()).unwrap();
    index.build(&NoProgress, &CancellationToken::new()).unwrap();
    let hit = search(&index, "parse_http_request")
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(hit.path, link.join("src/http.rs"));
    assert_eq!(
        index
            .update_text(&link.join("src/http.rs"), "fn via_the_link() {}\n", Some(1))
            .unwrap(),
        UpdateOutcome::Updated
    );
    let canonical = ws.root.path().canonicalize().unwrap().join("src/http.rs");
    assert_eq!(
        index
            .update_text(&canonical, "fn via_the_target() {}\n", Some(2))
            .unwrap(),
        UpdateOutcome::Updated
    );
    index.commit().unwrap();
    assert!(has_symbol(&index, "via_the_target"));
    assert!(!has_symbol(&index, "via_the_link"));
    assert!(index.is_excluded(&link.join(".env")));
}

// Fake secrets, assembled from pieces so that no scanner takes this file for a leak.
const AWS_KEY: &str = concat!("AKIA", "QX7Z3M5B", "T2WP9LKD");
const OPENAI_KEY: &str = concat!("sk-", "live", "Q7rT2xW9kL4mN8", "pB3vC6zH1jF5dS0a");

#[test]
fn files_holding_secrets_are_skipped_and_leave_the_index_when_they_gain_one() {
    let ws = Workspace::new();
    ws.write(
        "deploy/service-account.json",
        format!(
            "{{\"type\": \"service_account\", \"project_id\": \"quasar\", \"openai\": \
             \"{OPENAI_KEY}\", \"aws\": \"{AWS_KEY}\"}}\n"
        ),
    );
    ws.write(
        "app/settings.py",
        "def settings_loader():\n    return {\"password\": \"Qm7xR2pL9vKt4Wz8Nc3B\"}\n",
    );
    ws.write(
        "app/plain.py",
        "def plain_loader():\n    return {\"password\": input()}\n",
    );
    let (index, summary) = ws.built();
    assert_eq!(
        summary.skipped.get(&SkipReason::SecretContent),
        Some(&2),
        "{summary:?}"
    );
    assert!(!has_symbol(&index, "settings_loader"));
    assert!(has_symbol(&index, "plain_loader"));
    assert!(search(&index, "quasar").is_empty());

    // A file that gains a secret on disk, or in the editor, leaves the index.
    assert!(has_symbol(&index, "parse_http_request"));
    ws.write(
        "src/http.rs",
        format!("const KEY: &str = \"{AWS_KEY}\";\npub fn parse_http_request() {{}}\n"),
    );
    assert_eq!(
        index.update_path(&ws.path("src/http.rs")).unwrap(),
        UpdateOutcome::Skipped(SkipReason::SecretContent)
    );
    index.commit().unwrap();
    assert!(!has_symbol(&index, "parse_http_request"));
    assert_eq!(
        index
            .update_text(
                &ws.path("app/plain.py"),
                &format!("def plain_loader():\n    return \"{OPENAI_KEY}\"\n"),
                Some(2)
            )
            .unwrap(),
        UpdateOutcome::Skipped(SkipReason::SecretContent)
    );
    index.commit().unwrap();
    assert!(!has_symbol(&index, "plain_loader"));
}
