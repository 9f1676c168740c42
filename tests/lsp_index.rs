//! The workspace index through the protocol, over stdio: progress while indexing, cancel,
//! `workspace/symbol`, `textDocument/documentSymbol`, `augur/search`, and updates on save and on
//! edits.

use std::path::Path;

use augur::test_support::capabilities;
use augur::test_support::fixture::Fixture;
use augur::test_support::stdio::{SpawnOptions, StdioClient};
use serde_json::{Value, json};

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

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A server on a fixture workspace; the folders live as long as the session.
struct Session {
    client: StdioClient,
    root: tempfile::TempDir,
    _cache: tempfile::TempDir,
}

fn session(fixture: &str, caps: Value) -> Session {
    let root = tempfile::tempdir().unwrap();
    Fixture::parse(fixture).write_to(root.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let options = SpawnOptions {
        env: vec![("AUGUR_CACHE_DIR".into(), cache.path().display().to_string())],
        ..SpawnOptions::default()
    };
    let mut client = StdioClient::spawn(Path::new(BIN), options).unwrap();
    client.initialize(
        caps,
        json!({"workspaceFolders": [{"uri": uri(root.path()), "name": "ws"}]}),
    );
    Session {
        client,
        root,
        _cache: cache,
    }
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
    let mut s = session(WORKSPACE, capabilities(&["utf-16"]));
    let (client, root) = (&mut s.client, &s.root);
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
    let rs = root.path().join("src/http.rs");
    let rs_uri = uri(&rs);
    client.open(&rs_uri, "rust", 1, &std::fs::read_to_string(&rs).unwrap());
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rs_uri, "version": 2}, "contentChanges": [{"text": "pub fn typed_in_editor() {}\n"}]}),
    );
    let found = client.wait_for(|c| {
        let hits = search(c, "typed in editor");
        hits.iter()
            .any(|h| h["name"] == "typed_in_editor")
            .then_some(())
    });
    assert!(found.is_some(), "the edited document was re-indexed");
}
