//! The `augur index` and `augur search` commands: their bodies writing to a buffer, and the built
//! binary once, with the log line of a rebuild.

use std::path::Path;

use augur::cli::index::{IndexArgs, run_index};
use augur::cli::search::{SearchArgs, run_search};
use augur::index::IndexConfig;
use augur::syntax::SymbolKind;

#[test]
fn index_then_search() {
    let cache = tempfile::tempdir().unwrap();
    let config = IndexConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..IndexConfig::default()
    };
    let copy = fixture_copy();
    std::fs::write(copy.path().join("server.pem"), "secret").unwrap();

    let mut out = Vec::new();
    let args = IndexArgs {
        dir: Some(copy.path().to_path_buf()),
        rebuild: true,
        quiet: true,
    };
    run_index(&config, &args, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("files:   20 (20 indexed, 0 unchanged, 0 removed)"),
        "{text}"
    );
    assert!(text.contains("symbols: "), "{text}");
    assert!(text.contains("MB/s"), "{text}");
    assert!(text.contains("skipped: 1 (1 secret or excluded)"), "{text}");

    let mut out = Vec::new();
    let args = SearchArgs {
        query: "parse http request".into(),
        kinds: vec![SymbolKind::Function],
        limit: 3,
        paths: vec![],
        dir: Some(copy.path().to_path_buf()),
    };
    run_search(&config, &args, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("src/http.rs:48:8 function parse_http_request")),
        "{text}"
    );
    assert!(lines.iter().all(|l| l.contains(" function ")), "{text}");
}

/// Copies the fixture workspace into a new temporary directory.
fn fixture_copy() -> tempfile::TempDir {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/index/workspace");
    let copy = tempfile::tempdir().unwrap();
    for entry in ignore::WalkBuilder::new(&workspace).build().flatten() {
        let rel = entry.path().strip_prefix(&workspace).unwrap();
        let target = copy.path().join(rel);
        if entry.file_type().is_some_and(|t| t.is_dir()) {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    copy
}

/// Runs the built `augur` binary in `cwd` with its indexes in `cache`: (success, stdout, stderr).
fn augur(args: &[&str], cwd: &Path, cache: &Path) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_augur"))
        .args(args)
        .current_dir(cwd)
        .env("AUGUR_CACHE_DIR", cache)
        .env("AUGUR_CONFIG", "/nonexistent/augur-test-config.toml")
        .env("AUGUR_LOG", "augur=info")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_binary_indexes_searches_and_logs_a_rebuild() {
    let copy = fixture_copy();
    let cache = tempfile::tempdir().unwrap();
    let (ok, out, err) = augur(&["index", "-q", "."], copy.path(), cache.path());
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("files:   20 (20 indexed, 0 unchanged, 0 removed)"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("time:") && l.ends_with("MB/s)")),
        "{out}"
    );

    let (ok, out, err) = augur(
        &["search", "parse http request", "--limit", "5", "."],
        copy.path(),
        cache.path(),
    );
    assert!(ok, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(!lines.is_empty() && lines.len() <= 5, "{out}");
    // Every line is `path:line:col kind name`, paths relative to the current directory.
    for line in &lines {
        let (location, rest) = line.split_once(' ').unwrap();
        let mut parts = location.rsplitn(3, ':');
        let column: usize = parts.next().unwrap().parse().unwrap();
        let row: usize = parts.next().unwrap().parse().unwrap();
        let path = parts.next().unwrap();
        assert!(column >= 1 && row >= 1, "{line}");
        assert!(copy.path().join(path).is_file(), "{line}");
        let (kind, name) = rest.split_once(' ').unwrap();
        assert!(
            kind == "chunk" || SymbolKind::parse(kind).is_some(),
            "{line}"
        );
        assert!(!name.contains(' '), "{line}");
    }
    assert!(
        lines.contains(&"src/http.rs:48:8 function parse_http_request"),
        "{out}"
    );

    // An index of another schema version is rebuilt, with a log line.
    let dirs: Vec<_> = std::fs::read_dir(cache.path().join("indexes"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(dirs.len(), 1);
    std::fs::write(
        dirs[0].path().join("augur-index.json"),
        "{\"schema_version\": 0}",
    )
    .unwrap();
    let (ok, out, err) = augur(&["index", "-q", "."], copy.path(), cache.path());
    assert!(ok, "{out}{err}");
    assert!(err.contains("rebuilding the workspace index"), "{err}");
    assert!(err.contains("schema version Some(0)"), "{err}");
    assert!(out.contains("(20 indexed, 0 unchanged"), "{out}");
}
