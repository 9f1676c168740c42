//! The same service driven in-process through its tower interface: fast, no process, and the
//! state is open to inspection. Protocol behaviour that does not depend on the stdio transport
//! lives here: encoding negotiation, edits in each encoding, refused and full-sync changes.

use augur::test_support::capabilities;
use augur::test_support::in_process::InProcess;
use serde_json::{Value, json};

#[tokio::test]
async fn documents_sync_and_status_in_process() {
    let mut server = InProcess::new(Value::Null);
    let init = server
        .initialize(capabilities(&["utf-32", "utf-16"]), json!({}))
        .await;
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-32");
    server
        .notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": "file:///a.py", "languageId": "python", "version": 1, "text": "def f():\n    pass\n"}}),
        )
        .await;
    server
        .notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": "file:///a.py", "version": 2}, "contentChanges": [
                {"range": {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 8}}, "text": "return 1"}
            ]}),
        )
        .await;
    let doc = server
        .state
        .snapshot()
        .document("file:///a.py")
        .expect("open");
    assert_eq!(doc.text.to_string(), "def f():\n    return 1\n");
    assert_eq!(doc.version, 2);
    let status = server.request("augur/status", Value::Null).await.unwrap();
    assert_eq!(status["documents"], 1);
    assert_eq!(status["positionEncoding"], "utf-32");
}

#[tokio::test]
async fn configuration_changes_reach_subscribers() {
    let mut server = InProcess::new(Value::Null);
    server
        .initialize(capabilities(&["utf-16"]), json!({}))
        .await;
    let mut changes = server.state.host.subscribe_config();
    server
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": {"models": {"default": {"model": "hot-reloaded"}}}}),
        )
        .await;
    assert!(changes.has_changed().unwrap());
    assert_eq!(
        changes.borrow_and_update().models["default"].model,
        "hot-reloaded"
    );
    // An invalid change is refused and shown; subscribers see nothing new.
    server
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": {"models": {"default": {"url": 3}}}}),
        )
        .await;
    assert!(!changes.has_changed().unwrap());
    assert_eq!(
        server.state.snapshot().config().models["default"].model,
        "hot-reloaded"
    );
    let shown = server.wait_sent("window/showMessage", 1).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0]["params"]["message"]
            .as_str()
            .unwrap()
            .contains("models.default.url")
    );
}

#[tokio::test]
async fn a_panic_is_an_internal_error_in_process_too() {
    let mut server = InProcess::new(Value::Null);
    server
        .initialize(capabilities(&["utf-16"]), json!({}))
        .await;
    let err = server
        .request("augur/debug/panic", Value::Null)
        .await
        .unwrap_err();
    assert_eq!(err["code"], -32603);
    assert!(server.request("augur/status", Value::Null).await.is_ok());
}

#[tokio::test]
async fn a_panicking_notification_leaves_the_service_and_documents_intact_in_process() {
    let mut server = InProcess::new(Value::Null);
    server
        .initialize(capabilities(&["utf-16"]), json!({}))
        .await;
    server
        .notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": "file:///n.txt", "languageId": "plaintext", "version": 1, "text": "kept"}}),
        )
        .await;
    server
        .notify("augur/debug/panicNotification", Value::Null)
        .await;
    let doc = server
        .state
        .snapshot()
        .document("file:///n.txt")
        .expect("still open");
    assert_eq!(doc.text.to_string(), "kept");
    assert_eq!(&*doc.language_id, "plaintext");
    assert!(server.request("augur/status", Value::Null).await.is_ok());
}

/// A server initialized offering `encodings`.
async fn started(encodings: &[&str]) -> InProcess {
    let mut server = InProcess::new(Value::Null);
    server.initialize(capabilities(encodings), json!({})).await;
    server
}

fn range(sl: u32, sc: u32, el: u32, ec: u32) -> Value {
    json!({"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}})
}

#[tokio::test]
async fn encoding_negotiation_prefers_utf8_then_utf32_else_utf16() {
    for (offered, chosen) in [
        (vec!["utf-16", "utf-32", "utf-8"], "utf-8"),
        (vec!["utf-32", "utf-16"], "utf-32"),
        (vec!["utf-16"], "utf-16"),
        (vec![], "utf-16"),
    ] {
        let mut server = InProcess::new(Value::Null);
        let result = server.initialize(capabilities(&offered), json!({})).await;
        assert_eq!(
            result["capabilities"]["positionEncoding"], chosen,
            "offered {offered:?}"
        );
        let status = server.request("augur/status", Value::Null).await.unwrap();
        assert_eq!(status["positionEncoding"], chosen);
    }
}

#[tokio::test]
async fn edits_after_astral_characters_land_in_the_right_place_in_each_encoding() {
    // The cursor is after "x😀" then "é": columns differ per encoding.
    for (encoding, col) in [("utf-8", 7), ("utf-16", 4), ("utf-32", 3)] {
        let mut server = started(&[encoding]).await;
        server
            .open("file:///t.txt", "plaintext", 1, "x😀é\r\nnext")
            .await;
        server
            .change(
                "file:///t.txt",
                2,
                json!([{"range": range(0, col, 0, col), "text": "!"}]),
            )
            .await;
        let doc = server.document("file:///t.txt").await.unwrap();
        assert_eq!(doc["text"], "x😀é!\r\nnext", "{encoding}");
        assert_eq!(doc["version"], 2);
    }
}

#[tokio::test]
async fn an_edit_outside_the_document_leaves_it_unchanged() {
    let mut server = started(&["utf-16"]).await;
    server
        .open("file:///e.txt", "plaintext", 1, "one\ntwo\n")
        .await;
    // Two changes: the first is fine, the second starts on a line that does not exist, so the
    // whole notification is refused.
    server
        .change(
            "file:///e.txt",
            2,
            json!([{"range": range(0, 0, 0, 0), "text": "zero "}, {"range": range(9, 0, 9, 1), "text": "x"}]),
        )
        .await;
    // A reversed range is refused too.
    server
        .change(
            "file:///e.txt",
            3,
            json!([{"range": range(1, 2, 0, 1), "text": "x"}]),
        )
        .await;
    let doc = server.document("file:///e.txt").await.unwrap();
    assert_eq!(doc["text"], "one\ntwo\n");
    assert_eq!(doc["version"], 1);
    // A column past the end of a line is clamped to the line's end, as the specification says.
    server
        .change(
            "file:///e.txt",
            4,
            json!([{"range": range(0, 99, 0, 99), "text": "!"}]),
        )
        .await;
    assert_eq!(
        server.document("file:///e.txt").await.unwrap()["text"],
        "one!\ntwo\n"
    );
}

#[tokio::test]
async fn full_sync_changes_replace_the_text_and_close_forgets() {
    let mut server = started(&["utf-8"]).await;
    server.open("file:///f.py", "python", 1, "x = 1\n").await;
    server
        .change("file:///f.py", 2, json!([{"text": "y = 2\n"}]))
        .await;
    let doc = server.document("file:///f.py").await.unwrap();
    assert_eq!(doc["text"], "y = 2\n");
    assert_eq!(
        doc["languageId"], "python",
        "the language id is kept through changes"
    );
    server
        .notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": "file:///f.py"}}),
        )
        .await;
    let err = server.document("file:///f.py").await.unwrap_err();
    assert_eq!(err["code"], -32602);
    // Changes to documents that are not open are ignored, not fatal.
    server
        .change("file:///never.py", 2, json!([{"text": "z"}]))
        .await;
    assert_eq!(
        server.request("augur/status", Value::Null).await.unwrap()["documents"],
        0
    );
}

/// Opens `rel` under `root` with `text` and returns how many code actions its second line gets.
async fn count(server: &mut InProcess, root: &std::path::Path, text: &str, rel: &str) -> usize {
    let uri = format!("file://{}", root.join(rel).display());
    server
        .notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        )
        .await;
    let ask = json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 1, "character": 11},
        "end": {"line": 1, "character": 16}}, "context": {"diagnostics": []}});
    let actions = server
        .request("textDocument/codeAction", ask)
        .await
        .unwrap();
    actions.as_array().map_or(0, Vec::len)
}

/// Code actions ask the host's exclusion policy: a file under an `index.exclude` glob, and a
/// secret file, are offered nothing, while an ordinary file of the same folder is; the policy
/// follows a hot-reloaded `exclude` at once.
#[tokio::test]
async fn code_actions_follow_the_exclusion_policy() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let text = "def add(a, b):\n    return a - b\n";
    for rel in ["calc.py", "private/calc.py", ".env"] {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let mut server = InProcess::new(Value::Null);
    server
        .initialize(
            capabilities(&["utf-16"]),
            json!({
                "rootUri": format!("file://{}", root.display()),
                "initializationOptions": {"index": {"enabled": false, "exclude": ["private/**"]}},
            }),
        )
        .await;
    assert!(
        count(&mut server, &root, text, "calc.py").await > 0,
        "an ordinary file has actions"
    );
    assert_eq!(count(&mut server, &root, text, "private/calc.py").await, 0);
    assert_eq!(count(&mut server, &root, text, ".env").await, 0);
    server
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": {"index": {"enabled": false, "exclude": ["calc.py"]}}}),
        )
        .await;
    assert_eq!(
        count(&mut server, &root, text, "calc.py").await,
        0,
        "the new exclude applies"
    );
}
