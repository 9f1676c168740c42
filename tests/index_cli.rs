//! The `augur index` and `augur search` command bodies, writing to a buffer.

use std::path::Path;

use augur::index::IndexConfig;
use augur::index::cli::{IndexArgs, SearchArgs, run_index, run_search};
use augur::syntax::SymbolKind;

#[test]
fn index_then_search() {
    let cache = tempfile::tempdir().unwrap();
    let config = IndexConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..IndexConfig::default()
    };
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
