//! The workspace index through the protocol, over stdio: progress while indexing, cancel,
//! `workspace/symbol`, `textDocument/documentSymbol`, `augur/search`, and updates on save and on
//! edits.

#[path = "server_support/mod.rs"]
mod server_support;

use std::path::Path;

use augur::test_support::capabilities;
use augur::test_support::fixture::Fixture;
use augur::test_support::stdio::StdioClient;
use serde_json::{Value, json};
use server_support::{file_uri as uri, spawn_in_cache};

const BIN: &str = env!("CARGO_BIN_EXE_augur");

const WORKSPACE: &str = r#"
//- /src/http.rs
/// Parses one request.
pub fn parse_http_request(bytes: &[u8]) -> Option<Request> {
    None
}

pub struct Request {
    pub path: String,
}
//- /app/client.py
class HttpClient:
    def sendRequest(self, body):
        return body
//- /web/router.ts
export function ParseHTTPRequest(raw: string): number {
  return raw.length;
}
//- /.env
SECRET_TOKEN=do-not-index
"#;

/// A server on a fixture workspace; the folders live as long as the session.
struct Session {
    client: StdioClient,
    root: tempfile::TempDir,
    cache: tempfile::TempDir,
}

/// Starts a server on `root` with its indexes in `cache`, extra environment variables and
/// `initializationOptions`.
fn spawn(
    root: &Path,
    cache: &Path,
    caps: Value,
    env: Vec<(String, String)>,
    options: Value,
) -> StdioClient {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn_in_cache(root, cache, caps, options, &env)
}

fn session(fixture: &str, caps: Value) -> Session {
    session_with(fixture, caps, |_| Vec::new(), json!({}))
}

/// A session with environment variables made from the cache directory's path, and
/// `initializationOptions`.
fn session_with(
    fixture: &str,
    caps: Value,
    env: impl FnOnce(&Path) -> Vec<(String, String)>,
    options: Value,
) -> Session {
    let root = tempfile::tempdir().unwrap();
    Fixture::parse(fixture).write_to(root.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let client = spawn(root.path(), cache.path(), caps, env(cache.path()), options);
    Session {
        client,
        root,
        cache,
    }
}

/// Whether a `$/progress` end has arrived (and not been taken).
fn has_ended(client: &StdioClient) -> bool {
    client
        .notifications
        .iter()
        .any(|n| n["method"] == "$/progress" && n["params"]["value"]["kind"] == "end")
}

/// The names of the `augur/search` hits for `query`.
fn hit_names(client: &mut StdioClient, query: &str) -> Vec<String> {
    search(client, query)
        .iter()
        .map(|h| h["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Waits until `augur/search` for `query` finds (or no longer finds) a hit named `name`.
fn wait_for_name(client: &mut StdioClient, query: &str, name: &str, present: bool) -> bool {
    client
        .wait_for(|c| (hit_names(c, query).iter().any(|n| n == name) == present).then_some(()))
        .is_some()
}

/// Sends one `workspace/didChangeWatchedFiles` event (1 created, 2 changed, 3 deleted).
fn file_event(client: &mut StdioClient, path: &Path, typ: u32) {
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(path), "type": typ}]}),
    );
}

/// Waits for the `$/progress` end notification and returns its message.
fn progress_end(client: &mut StdioClient) -> String {
    let end = client.wait_for(|c| {
        let at = c
            .notifications
            .iter()
            .position(|n| n["method"] == "$/progress" && n["params"]["value"]["kind"] == "end")?;
        c.notifications.remove(at)
    });
    end.expect("a progress end")["params"]["value"]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn search(client: &mut StdioClient, query: &str) -> Vec<Value> {
    let hits = client
        .request("augur/search", json!({"query": query, "limit": 10}))
        .unwrap();
    hits.as_array().unwrap().clone()
}

#[test]
fn indexing_reports_progress_then_answers_symbol_queries() {
    // The test hook holds the indexing after its first file until the file `release` exists.
    let mut s = session_with(
        WORKSPACE,
        capabilities(&["utf-16"]),
        |cache| {
            vec![(
                "AUGUR_TEST_HOLD_INDEXING".into(),
                cache.join("release").display().to_string(),
            )]
        },
        json!({}),
    );
    let (client, root, cache) = (&mut s.client, &s.root, &s.cache);
    let begun = client.wait_for(|c| {
        c.notifications
            .iter()
            .any(|n| n["method"] == "$/progress" && n["params"]["value"]["kind"] == "begin")
            .then_some(())
    });
    assert!(begun.is_some(), "a progress begin");
    // Requests are answered while the indexing runs.
    let status = client.request("augur/status", Value::Null);
    assert!(status.is_ok(), "{status:?}");
    assert!(
        !has_ended(client),
        "augur/status was answered before the end"
    );
    let rs = root.path().join("src/http.rs");
    client.open(&uri(&rs), "rust", 1, &std::fs::read_to_string(&rs).unwrap());
    let outline = client
        .request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri(&rs)}}),
        )
        .unwrap();
    let outline_names: Vec<&str> = outline
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        outline_names.contains(&"parse_http_request") && outline_names.contains(&"Request"),
        "{outline_names:?}"
    );
    assert!(
        !has_ended(client),
        "documentSymbol was answered before the end"
    );
    // The hold holds: still no end a while later; then released, the indexing ends.
    client.drain_for(std::time::Duration::from_millis(300));
    assert!(!has_ended(client));
    std::fs::write(cache.path().join("release"), "").unwrap();
    let summary = progress_end(client);
    assert!(summary.contains("3 files"), "{summary}");
    let created = client
        .server_requests
        .iter()
        .any(|r| r["method"] == "window/workDoneProgress/create");
    assert!(created, "the progress token was created first");
    let progress: Vec<&Value> = client
        .notifications
        .iter()
        .filter(|n| n["method"] == "$/progress")
        .collect();
    let begin = progress
        .iter()
        .find(|n| n["params"]["value"]["kind"] == "begin")
        .expect("a begin");
    assert_eq!(begin["params"]["value"]["title"], "Indexing ws");
    assert_eq!(begin["params"]["value"]["cancellable"], true);
    let last_report = progress
        .iter()
        .rev()
        .find(|n| n["params"]["value"]["kind"] == "report")
        .expect("a report");
    assert_eq!(last_report["params"]["value"]["message"], "3/3 files");
    assert_eq!(last_report["params"]["value"]["percentage"], 100);

    // Three spellings, one query.
    let symbols = client
        .request("workspace/symbol", json!({"query": "parse http request"}))
        .unwrap();
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"parse_http_request") && names.contains(&"ParseHTTPRequest"),
        "{names:?}"
    );
    let rust = symbols
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "parse_http_request")
        .unwrap();
    assert_eq!(rust["kind"], 12, "Function");
    assert_eq!(
        rust["location"]["uri"],
        uri(&root.path().join("src/http.rs"))
    );
    assert_eq!(rust["location"]["range"]["start"]["line"], 1);

    let hits = search(client, "sendRequest");
    let first = &hits[0];
    assert_eq!(first["name"], "sendRequest");
    assert_eq!(first["kind"], "method");
    assert_eq!(first["container"], "HttpClient");
    // Secret files are never indexed.
    assert!(search(client, "SECRET_TOKEN").is_empty());
}

#[test]
fn no_progress_without_client_support() {
    let mut caps = capabilities(&["utf-16"]);
    caps["window"]["workDoneProgress"] = json!(false);
    let mut s = session(WORKSPACE, caps);
    let client = &mut s.client;
    // Indexing still happens: wait until a search finds something.
    let found = client.wait_for(|c| (!search(c, "HttpClient").is_empty()).then_some(()));
    assert!(found.is_some());
    assert!(
        !client
            .server_requests
            .iter()
            .any(|r| r["method"] == "window/workDoneProgress/create")
    );
    assert!(
        !client
            .notifications
            .iter()
            .any(|n| n["method"] == "$/progress")
    );
}

#[test]
fn indexing_can_be_cancelled_from_the_progress() {
    let mut fixture = String::new();
    for i in 0..3000 {
        fixture.push_str(&format!(
            "//- /gen/m{i}.py\ndef function_{i}(x):\n    return x + {i}\n"
        ));
    }
    let mut s = session(&fixture, capabilities(&["utf-16"]));
    let client = &mut s.client;
    let begin = client.wait_for(|c| {
        c.notifications
            .iter()
            .find(|n| n["method"] == "$/progress" && n["params"]["value"]["kind"] == "begin")
            .cloned()
    });
    let token = begin.expect("a begin")["params"]["token"].clone();
    client.notify("window/workDoneProgress/cancel", json!({"token": token}));
    let summary = progress_end(client);
    assert!(summary.contains("cancelled"), "{summary}");
    // The server keeps answering.
    assert!(client.request("augur/status", Value::Null).is_ok());
}

#[test]
fn document_symbols_come_from_the_open_text_in_the_negotiated_encoding() {
    let mut s = session("//- /empty.txt\n\n", capabilities(&["utf-16"]));
    let client = &mut s.client;
    let text =
        "// 😀😀\nstruct Point { x: i32 }\nimpl Point {\n    fn norm(&self) -> i32 { self.x }\n}\n";
    client.open("file:///mem/point.rs", "rust", 1, text);
    let symbols = client
        .request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": "file:///mem/point.rs"}}),
        )
        .unwrap();
    let symbols = symbols.as_array().unwrap();
    let point = symbols
        .iter()
        .find(|s| s["name"] == "Point" && s["kind"] == 23)
        .expect("struct Point");
    assert_eq!(point["range"]["start"], json!({"line": 1, "character": 0}));
    let norm = symbols
        .iter()
        .flat_map(|s| s["children"].as_array().cloned().unwrap_or_default())
        .find(|c| c["name"] == "norm")
        .expect("norm nested under its impl");
    assert_eq!(norm["kind"], 6, "Method");
    assert_eq!(
        norm["selectionRange"]["start"],
        json!({"line": 3, "character": 7})
    );
}

#[test]
fn a_c_header_that_holds_cpp_has_its_classes_in_the_outline() {
    let mut s = session("//- /empty.txt\n\n", capabilities(&["utf-16"]));
    let client = &mut s.client;
    // Opened as C (the editor goes by the `.h`), read as C++ by its content.
    let text = "#pragma once\nnamespace fuzz {\nclass ENGINE_API Corpus {\n public:\n  size_t Size() const { return size_; }\n};\n}  // namespace fuzz\n";
    client.open("file:///mem/corpus.h", "c", 1, text);
    let symbols = client
        .request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": "file:///mem/corpus.h"}}),
        )
        .unwrap();
    let rendered = symbols.to_string();
    for name in ["\"fuzz\"", "\"Corpus\"", "\"Size\""] {
        assert!(rendered.contains(name), "{name} in {rendered}");
    }
}

#[test]
fn saved_and_edited_files_are_reindexed() {
    let mut s = session(WORKSPACE, capabilities(&["utf-8"]));
    let (client, root) = (&mut s.client, &s.root);
    progress_end(client);
    // A file changed on disk and saved.
    let path = root.path().join("app/client.py");
    std::fs::write(&path, "def brandNewHelper():\n    return 1\n").unwrap();
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri(&path)}}),
    );
    let found = client.wait_for(|c| (!search(c, "brand new helper").is_empty()).then_some(()));
    assert!(found.is_some(), "the saved file was re-indexed");
    // An open document edited in the editor (not saved): re-indexed after the debounce.
    assert!(
        edit_until_indexed(client, root.path(), "typed_in_editor"),
        "the edited document was re-indexed"
    );
}

/// Opens `src/http.rs`, replaces its text in the editor (unsaved) with one function `name`, and
/// waits until a search finds it; returns whether it did.
fn edit_until_indexed(client: &mut StdioClient, root: &Path, name: &str) -> bool {
    let rs = root.join("src/http.rs");
    let rs_uri = uri(&rs);
    client.open(&rs_uri, "rust", 1, &std::fs::read_to_string(&rs).unwrap());
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rs_uri, "version": 2}, "contentChanges": [{"text": format!("pub fn {name}() {{}}\n")}]}),
    );
    let query = name.replace('_', " ");
    client
        .wait_for(|c| {
            let hits = search(c, &query);
            hits.iter().any(|h| h["name"] == name).then_some(())
        })
        .is_some()
}

#[test]
fn client_side_file_watching_is_registered_and_followed() {
    let mut s = session(WORKSPACE, capabilities(&["utf-16"]));
    let (client, root) = (&mut s.client, &s.root);
    progress_end(client);
    // The server asked the client to watch files (the test client answers `null`, a success).
    let registration = client
        .server_requests
        .iter()
        .find(|r| r["method"] == "client/registerCapability")
        .expect("a client/registerCapability request")
        .clone();
    let registered = &registration["params"]["registrations"][0];
    assert_eq!(registered["method"], "workspace/didChangeWatchedFiles");
    assert!(
        !registered["registerOptions"]["watchers"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{registered}"
    );

    // A file that appears on disk without an event is not picked up: the server does not watch
    // the disk itself when the client does.
    let unseen = root.path().join("app/unannounced.py");
    std::fs::write(&unseen, "def unannounced_helper():\n    return 0\n").unwrap();
    // Created.
    let path = root.path().join("app/events.py");
    std::fs::write(&path, "def created_by_event():\n    return 1\n").unwrap();
    file_event(client, &path, 1);
    assert!(wait_for_name(
        client,
        "created by event",
        "created_by_event",
        true
    ));
    let symbols = client
        .request("workspace/symbol", json!({"query": "created by event"}))
        .unwrap();
    assert!(
        symbols
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "created_by_event" && s["location"]["uri"] == uri(&path)),
        "{symbols}"
    );
    assert!(
        !hit_names(client, "unannounced helper").contains(&"unannounced_helper".to_owned()),
        "nobody announced it"
    );
    // Changed.
    std::fs::write(&path, "def changed_by_event():\n    return 2\n").unwrap();
    file_event(client, &path, 2);
    assert!(wait_for_name(
        client,
        "changed by event",
        "changed_by_event",
        true
    ));
    assert!(!hit_names(client, "created by event").contains(&"created_by_event".to_owned()));
    // Deleted.
    std::fs::remove_file(&path).unwrap();
    file_event(client, &path, 3);
    assert!(wait_for_name(
        client,
        "changed by event",
        "changed_by_event",
        false
    ));
    // Announced at last, the other file is indexed.
    file_event(client, &unseen, 1);
    assert!(wait_for_name(
        client,
        "unannounced helper",
        "unannounced_helper",
        true
    ));
}

#[test]
fn without_client_side_watching_the_server_watches_the_disk() {
    let mut caps = capabilities(&["utf-16"]);
    caps["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] = json!(false);
    let mut s = session(WORKSPACE, caps);
    let (client, root) = (&mut s.client, &s.root);
    progress_end(client);
    assert!(
        !client
            .server_requests
            .iter()
            .any(|r| r["method"] == "client/registerCapability"),
        "no registration without dynamic registration"
    );
    // No events are sent: the server sees the disk change by itself.
    let path = root.path().join("app/on_disk.py");
    std::fs::write(&path, "def noticed_on_disk():\n    return 1\n").unwrap();
    assert!(wait_for_name(
        client,
        "noticed on disk",
        "noticed_on_disk",
        true
    ));
    std::fs::remove_file(&path).unwrap();
    assert!(wait_for_name(
        client,
        "noticed on disk",
        "noticed_on_disk",
        false
    ));
}

#[test]
fn quick_edits_are_indexed_once_after_the_debounce() {
    // A long debounce: the three edits below arrive well within it.
    let mut s = session_with(
        WORKSPACE,
        capabilities(&["utf-8"]),
        |_| Vec::new(),
        json!({"index": {"debounce_ms": 2000, "commit_interval_ms": 50}}),
    );
    let (client, root) = (&mut s.client, &s.root);
    progress_end(client);
    let rs = root.path().join("src/http.rs");
    let rs_uri = uri(&rs);
    client.open(&rs_uri, "rust", 1, &std::fs::read_to_string(&rs).unwrap());
    for (version, name) in [
        (2, "intermediate_alpha"),
        (3, "intermediate_beta"),
        (4, "final_gamma"),
    ] {
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": rs_uri, "version": version}, "contentChanges": [{"text": format!("pub fn {name}() {{}}\n")}]}),
        );
    }
    // Not yet: well within the debounce (updates are committed every 50 ms, so an edit indexed
    // at once would be searchable by now).
    client.drain_for(std::time::Duration::from_millis(500));
    assert!(!hit_names(client, "final gamma").contains(&"final_gamma".to_owned()));
    // Then the newest text, and never an intermediate one.
    let mut seen_intermediate = Vec::new();
    let found = client.wait_for(|c| {
        let names = hit_names(c, "intermediate alpha beta final gamma");
        seen_intermediate.extend(
            names
                .iter()
                .filter(|n| n.starts_with("intermediate_"))
                .cloned(),
        );
        names.iter().any(|n| n == "final_gamma").then_some(())
    });
    assert!(found.is_some(), "the newest text was indexed");
    assert!(seen_intermediate.is_empty(), "{seen_intermediate:?}");
    assert!(!hit_names(client, "parse http request").contains(&"parse_http_request".to_owned()));
}

#[test]
fn closing_without_saving_puts_the_file_on_disk_back() {
    let mut s = session(WORKSPACE, capabilities(&["utf-8"]));
    let (client, root) = (&mut s.client, &s.root);
    progress_end(client);
    let rs = root.path().join("src/http.rs");
    let rs_uri = uri(&rs);
    client.open(&rs_uri, "rust", 1, &std::fs::read_to_string(&rs).unwrap());
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rs_uri, "version": 2}, "contentChanges": [{"text": "pub fn never_saved() {}\n"}]}),
    );
    assert!(wait_for_name(client, "never saved", "never_saved", true));
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": rs_uri}}),
    );
    assert!(wait_for_name(client, "never saved", "never_saved", false));
    assert!(hit_names(client, "parse http request").contains(&"parse_http_request".to_owned()));
}

#[test]
fn augur_search_filters_by_kind_and_path_and_locates_hits() {
    let mut s = session(WORKSPACE, capabilities(&["utf-16"]));
    let (client, root) = (&mut s.client, &s.root);
    progress_end(client);

    let hits = client
        .request(
            "augur/search",
            json!({"query": "request", "limit": 10, "kinds": ["method"]}),
        )
        .unwrap();
    let hits = hits.as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["kind"] == "method"), "{hits:?}");
    let send = &hits[0];
    assert_eq!(send["name"], "sendRequest");
    assert_eq!(send["uri"], uri(&root.path().join("app/client.py")));
    assert_eq!(
        send["range"],
        json!({"start": {"line": 1, "character": 4}, "end": {"line": 2, "character": 19}})
    );
    assert!(
        send["snippet"]
            .as_str()
            .unwrap()
            .contains("def sendRequest(self, body)"),
        "{send}"
    );

    let hits = client
        .request(
            "augur/search",
            json!({"query": "parse http request", "limit": 10, "paths": ["web/**"]}),
        )
        .unwrap();
    let hits = hits.as_array().unwrap();
    assert!(!hits.is_empty());
    let router = uri(&root.path().join("web/router.ts"));
    assert!(hits.iter().all(|h| h["uri"] == router), "{hits:?}");
    let function = hits
        .iter()
        .find(|h| h["kind"] == "function")
        .expect("the function");
    assert_eq!(function["name"], "ParseHTTPRequest");
    assert_eq!(
        function["range"]["start"],
        json!({"line": 0, "character": 7})
    );
    assert_eq!(function["range"]["end"], json!({"line": 2, "character": 1}));
    assert!(
        function["snippet"]
            .as_str()
            .unwrap()
            .contains("function ParseHTTPRequest(raw: string): number"),
        "{function}"
    );

    // Both filters: only structs under src/.
    let hits = client
        .request(
            "augur/search",
            json!({"query": "request", "kinds": ["struct"], "paths": ["src"]}),
        )
        .unwrap();
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["name"], "Request");
    assert_eq!(hits[0]["uri"], uri(&root.path().join("src/http.rs")));
    assert_eq!(
        hits[0]["range"]["start"],
        json!({"line": 5, "character": 0})
    );
    // A filter that matches nothing, and a kind that does not exist.
    let none = client
        .request(
            "augur/search",
            json!({"query": "request", "paths": ["nowhere/**"]}),
        )
        .unwrap();
    assert_eq!(none, json!([]));
    assert!(
        client
            .request("augur/search", json!({"query": "x", "kinds": ["gadget"]}))
            .is_err()
    );
}

/// Runs the `augur` binary with the indexes in `cache`, in `cwd`.
#[test]
fn what_was_indexed_is_on_disk_when_the_server_exits() {
    let s = session(WORKSPACE, capabilities(&["utf-8"]));
    let Session {
        mut client,
        root,
        cache,
    } = s;
    progress_end(&mut client);
    assert!(
        edit_until_indexed(&mut client, root.path(), "kept_after_exit"),
        "the edited document was re-indexed"
    );
    assert!(client.shutdown_and_exit().success());
    // The index on disk, read without re-indexing anything, has the edit.
    let config = augur::index::IndexConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    };
    let dir = augur::index::store::index_dir_for(root.path(), &config);
    let index = augur::index::WorkspaceIndex::open_in(root.path(), &dir, &config).unwrap();
    let hits = index.definitions(&["kept_after_exit"], 5).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
}

fn run_cli(args: &[&str], cache: &Path, cwd: &Path) -> (bool, String) {
    let output = std::process::Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("AUGUR_CACHE_DIR", cache)
        .env("AUGUR_CONFIG", "/nonexistent/augur-test-config.toml")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn a_second_server_reads_the_index_then_takes_it_over() {
    let root = tempfile::tempdir().unwrap();
    Fixture::parse(WORKSPACE).write_to(root.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let (root_path, cache_path) = (root.path(), cache.path());
    let options = json!({"index": {"commit_interval_ms": 100}});
    let caps = capabilities(&["utf-16"]);
    let mut first = spawn(root_path, cache_path, caps.clone(), vec![], options.clone());
    assert!(progress_end(&mut first).contains("3 indexed"));
    let mut second = spawn(root_path, cache_path, caps, vec![], options);
    let summary = progress_end(&mut second);
    assert!(summary.contains("read-only"), "{summary}");
    assert!(hit_names(&mut second, "HttpClient").contains(&"HttpClient".to_owned()));

    // A third process, `augur index`, only reads too.
    let (ok, out) = run_cli(&["index", "-q", "."], cache_path, root_path);
    assert!(ok, "{out}");
    assert!(out.contains("nothing was written"), "{out}");

    // A file appears that neither server hears of (their client watches files and says nothing).
    std::fs::write(
        root_path.join("app/late.py"),
        "def written_after_the_first_exits():\n    return 1\n",
    )
    .unwrap();
    assert!(first.shutdown_and_exit().success());
    // The second takes the writer over and catches up with the disk.
    assert!(wait_for_name(
        &mut second,
        "written after the first exits",
        "written_after_the_first_exits",
        true
    ));
    assert!(
        hit_names(&mut second, "parse http request").contains(&"parse_http_request".to_owned())
    );
    assert!(second.shutdown_and_exit().success());

    // What the second wrote is a sound index: nothing to redo, and it answers searches.
    let (ok, out) = run_cli(&["index", "-q", "."], cache_path, root_path);
    assert!(ok, "{out}");
    assert!(
        out.contains("files:   4 (0 indexed, 4 unchanged, 0 removed)"),
        "{out}"
    );
    let (ok, out) = run_cli(
        &[
            "search",
            "written after the first exits",
            "--kind",
            "function",
            ".",
        ],
        cache_path,
        root_path,
    );
    assert!(ok, "{out}");
    assert_eq!(
        out.lines().next(),
        Some("app/late.py:1:5 function written_after_the_first_exits"),
        "{out}"
    );
}
