//! Protocol tests against the real binary over stdio: lifecycle, cancellation, malformed input,
//! panics, document sync in arrival order, configuration and workspace folders. Encoding
//! negotiation and edits that need no transport are in `lsp_in_process.rs`.

use std::path::Path;
use std::time::{Duration, Instant};

use augur::test_support::capabilities;
use augur::test_support::stdio::{SpawnOptions, StdioClient, frame};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_augur");

fn spawn() -> StdioClient {
    StdioClient::spawn(Path::new(BIN), SpawnOptions::default()).expect("augur starts")
}

fn started(encodings: &[&str]) -> StdioClient {
    let mut client = spawn();
    client.initialize(capabilities(encodings), json!({}));
    client
}

fn change(client: &mut StdioClient, uri: &str, version: i32, changes: Value) {
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
    );
}

fn range(sl: u32, sc: u32, el: u32, ec: u32) -> Value {
    json!({"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}})
}

#[test]
fn initialize_advertises_capabilities_and_server_info() {
    let mut client = spawn();
    let result = client.initialize(capabilities(&["utf-16"]), json!({}));
    assert_eq!(result["serverInfo"]["name"], "augur");
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(
        result["capabilities"]["textDocumentSync"]["change"], 2,
        "incremental sync"
    );
    assert_eq!(
        result["capabilities"]["textDocumentSync"]["openClose"],
        true
    );
    assert_eq!(
        result["capabilities"]["workspace"]["workspaceFolders"]["supported"],
        true
    );
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn many_quick_changes_apply_in_order() {
    let mut client = started(&["utf-16"]);
    client.open("file:///o.rs", "rust", 0, "");
    let mut expected = String::new();
    for i in 1..=300 {
        let c = char::from(b'a' + (i % 26) as u8);
        let col = expected.chars().count() as u32;
        change(
            &mut client,
            "file:///o.rs",
            i,
            json!([{"range": range(0, col, 0, col), "text": c.to_string()}]),
        );
        expected.push(c);
    }
    let doc = client.document("file:///o.rs").unwrap();
    assert_eq!(doc["text"], expected);
    assert_eq!(doc["version"], 300);
}

#[test]
fn cancel_request_answers_request_cancelled_promptly() {
    let mut client = started(&["utf-16"]);
    let started_at = Instant::now();
    let id = client.send_request("augur/debug/sleep", json!({"ms": 20_000}));
    client.notify("$/cancelRequest", json!({"id": id}));
    let err = client.response(id).unwrap_err();
    assert_eq!(err["code"], -32800, "RequestCancelled");
    assert!(started_at.elapsed() < Duration::from_secs(10));
    // Every request is answered once: the server is still responsive.
    assert!(client.request("augur/status", Value::Null).is_ok());
}

#[test]
fn a_panicking_handler_becomes_an_error_and_the_server_lives_on() {
    let mut client = started(&["utf-16"]);
    let err = client
        .request("augur/debug/panic", Value::Null)
        .unwrap_err();
    assert_eq!(err["code"], -32603);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("augur/debug/panic")
    );
    client.open("file:///p.txt", "plaintext", 1, "still here");
    assert_eq!(
        client.document("file:///p.txt").unwrap()["text"],
        "still here"
    );
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn a_panicking_notification_handler_does_not_stop_the_server() {
    let mut client = started(&["utf-16"]);
    client.open("file:///n.txt", "plaintext", 1, "before");
    client.notify("augur/debug/panicNotification", Value::Null);
    change(&mut client, "file:///n.txt", 2, json!([{"text": "after"}]));
    let doc = client.document("file:///n.txt").unwrap();
    assert_eq!(
        (doc["text"].clone(), doc["version"].clone()),
        (json!("after"), json!(2))
    );
    assert_eq!(
        client.request("augur/status", Value::Null).unwrap()["documents"],
        1
    );
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn bare_serve_runs_the_server_over_stdio() {
    let options = SpawnOptions {
        args: vec!["serve".into()],
        ..Default::default()
    };
    let mut client = StdioClient::spawn(Path::new(BIN), options).unwrap();
    let result = client.initialize(capabilities(&["utf-8"]), json!({}));
    assert_eq!(result["serverInfo"]["name"], "augur");
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-8");
    client.open("file:///s.rs", "rust", 1, "fn main() {}");
    assert_eq!(
        client.document("file:///s.rs").unwrap()["languageId"],
        "rust"
    );
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn malformed_messages_get_errors_and_the_server_keeps_going() {
    let mut client = started(&["utf-16"]);
    // Not JSON at all.
    client.send_raw(&frame(b"{this is not json"));
    let response = client
        .raw_response(Value::Null)
        .expect("an error for the bad frame");
    assert_eq!(response["error"]["code"], -32700, "ParseError");
    // Invalid UTF-8 inside a frame.
    client.send_raw(&frame(
        b"{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"augur/status\",\"params\":\"\xff\xfe\"}",
    ));
    let response = client
        .raw_response(Value::Null)
        .expect("an error for invalid UTF-8");
    assert_eq!(response["error"]["code"], -32700, "ParseError: {response}");
    // An unknown method.
    let err = client.request("augur/noSuchMethod", json!({})).unwrap_err();
    assert_eq!(err["code"], -32601, "MethodNotFound");
    // Wrong params for a known method.
    let err = client
        .request("augur/debug/sleep", json!({"ms": "soon"}))
        .unwrap_err();
    assert_eq!(err["code"], -32602, "InvalidParams");
    // A notification with wrong params is dropped.
    client.notify("textDocument/didOpen", json!({"textDocument": {"uri": 5}}));
    // The server still works.
    client.open("file:///ok.txt", "plaintext", 1, "fine");
    assert_eq!(client.document("file:///ok.txt").unwrap()["text"], "fine");
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn requests_before_initialize_and_after_shutdown_are_refused() {
    let mut client = spawn();
    let err = client.request("augur/status", Value::Null).unwrap_err();
    assert_eq!(err["code"], -32002, "ServerNotInitialized");
    client.initialize(capabilities(&["utf-16"]), json!({}));
    client.request("shutdown", Value::Null).unwrap();
    let err = client.request("augur/status", Value::Null).unwrap_err();
    assert_eq!(err["code"], -32600, "InvalidRequest after shutdown");
    client.notify("exit", Value::Null);
    assert_eq!(client.wait().code(), Some(0));
}

#[test]
fn exit_without_shutdown_exits_with_1() {
    let mut client = started(&["utf-16"]);
    client.notify("exit", Value::Null);
    assert_eq!(client.wait().code(), Some(1));
}

#[test]
fn stdin_closing_ends_the_server() {
    let mut client = started(&["utf-16"]);
    client.close_stdin();
    assert!(client.wait().code().is_some());
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

#[test]
fn workspace_config_errors_are_shown_with_file_field_and_fix() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "augur.toml", "[models.default]\nbackend = 5\n");
    let mut client = spawn();
    client.initialize(
        capabilities(&["utf-16"]),
        json!({"workspaceFolders": [{"uri": uri(root.path()), "name": "w"}]}),
    );
    let shown = client
        .notification("window/showMessage")
        .expect("an error message");
    let message = shown["params"]["message"].as_str().unwrap();
    assert_eq!(shown["params"]["type"], 1, "Error");
    assert!(message.contains("augur.toml"), "{message}");
    assert!(message.contains("models.default.backend"), "{message}");
    assert!(message.contains("invalid type"), "{message}");
    assert!(
        message.contains("Give the field a value of the expected type."),
        "the fix: {message}"
    );
    // The server runs on the defaults.
    assert_eq!(
        client.request("augur/status", Value::Null).unwrap()["models"],
        json!(["default"])
    );
}

#[test]
fn configuration_hot_reloads_and_keeps_the_last_good_one() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        ".augur.toml",
        "[models.fast]\nmodel = \"tiny\"\n",
    );
    let mut client = spawn();
    client.initialize(
        capabilities(&["utf-16"]),
        json!({
            "workspaceFolders": [{"uri": uri(root.path()), "name": "w"}],
            "initializationOptions": {"models": {"chat": {"model": "big"}}}
        }),
    );
    let models =
        |c: &mut StdioClient| c.request("augur/status", Value::Null).unwrap()["models"].clone();
    assert_eq!(models(&mut client), json!(["chat", "default", "fast"]));
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"augur": {"models": {"extra": {"model": "m"}}}}}),
    );
    assert_eq!(
        models(&mut client),
        json!(["chat", "default", "extra", "fast"])
    );
    // An invalid change is refused with a message; the last good configuration stays.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"augur": {"models": {"bad": {"api_key": "sk-secret"}}}}}),
    );
    let shown = client
        .notification("window/showMessage")
        .expect("an error message");
    let message = shown["params"]["message"].as_str().unwrap();
    assert!(
        message.contains("api_key_env") && !message.contains("sk-secret"),
        "{message}"
    );
    assert_eq!(
        models(&mut client),
        json!(["chat", "default", "extra", "fast"])
    );
}

#[test]
fn settings_are_pulled_when_the_client_offers_workspace_configuration() {
    let options = SpawnOptions {
        settings: json!({"models": {"pulled": {"model": "p"}}}),
        ..Default::default()
    };
    let mut client = StdioClient::spawn(Path::new(BIN), options).unwrap();
    client.initialize(capabilities(&["utf-16"]), json!({}));
    let pulled = client.wait_for(|c| {
        c.server_requests
            .iter()
            .any(|r| r["method"] == "workspace/configuration")
            .then_some(())
    });
    assert!(
        pulled.is_some(),
        "the server asked for workspace/configuration"
    );
    let has_pulled = client.wait_for(|c| {
        let models = c.request("augur/status", Value::Null).ok()?["models"].clone();
        models
            .as_array()?
            .iter()
            .any(|m| m == "pulled")
            .then_some(())
    });
    assert!(has_pulled.is_some());
}

#[test]
fn workspace_folders_can_be_added_and_removed() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let mut client = spawn();
    client.initialize(
        capabilities(&["utf-16"]),
        json!({"workspaceFolders": [{"uri": uri(a.path()), "name": "a"}]}),
    );
    let roots =
        |c: &mut StdioClient| c.request("augur/status", Value::Null).unwrap()["roots"].clone();
    assert_eq!(roots(&mut client), json!([a.path().display().to_string()]));
    client.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [{"uri": uri(b.path()), "name": "b"}], "removed": [{"uri": uri(a.path()), "name": "a"}]}}),
    );
    assert_eq!(roots(&mut client), json!([b.path().display().to_string()]));
}

#[test]
fn twenty_slow_requests_in_flight_do_not_block_cancel_or_other_requests() {
    let mut client = started(&["utf-16"]);
    let ids: Vec<i64> = (0..20)
        .map(|_| client.send_request("augur/debug/sleep", json!({"ms": 1500})))
        .collect();
    client.notify("$/cancelRequest", json!({"id": ids[7]}));
    assert_eq!(client.response(ids[7]).unwrap_err()["code"], -32800);
    assert!(client.request("augur/status", Value::Null).is_ok());
    for (i, id) in ids.iter().enumerate().filter(|(i, _)| *i != 7) {
        assert_eq!(
            client.response(*id),
            Ok(json!(1500)),
            "request {i} answered once, with its result"
        );
    }
}
