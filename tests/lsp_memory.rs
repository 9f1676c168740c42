//! What the server keeps per document goes when the document closes: its text, its syntax tree
//! (and the edits pending on it), the suggestion on screen, and the passage index other
//! documents' prompts used. Checked in-process with `augur/debug/retained`, which names every
//! structure still holding something of a document.

#[path = "llm_support/mod.rs"]
mod llm_support;

use std::time::Duration;

use augur::test_support::capabilities;
use augur::test_support::in_process::InProcess;
use llm_support::{Fake, openai_stream};
use serde_json::{Value, json};

/// A Python file of about 1.5 MB (under the 2 MiB up to which a syntax tree is kept), ending in
/// an unfinished line.
fn big_text() -> String {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 1_500_000 {
        text.push_str(&format!("def f{i}(a, b):\n    return a + b * {i}\n\n"));
        i += 1;
    }
    text.push_str("value = ");
    text
}

async fn retained(server: &mut InProcess, uri: &str) -> Vec<String> {
    let result = server
        .request("augur/debug/retained", json!({"uri": uri}))
        .await
        .unwrap();
    serde_json::from_value(result["held"].clone()).unwrap()
}

/// Asks `retained` until `done` holds for its answer (at most ten seconds: a tree is parsed in
/// the background), and returns the last answer.
async fn retained_until(
    server: &mut InProcess,
    uri: &str,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let held = retained(server, uri).await;
        if done(&held) || tokio::time::Instant::now() > deadline {
            return held;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn complete(server: &mut InProcess, uri: &str, line: u32, character: u32) -> Value {
    server
        .request(
            "textDocument/inlineCompletion",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character},
                   "context": {"triggerKind": 1}}),
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_document_forgets_everything_kept_for_it() {
    // The documents lie in a workspace folder: only documents really inside one give context to
    // other documents' prompts.
    let root = tempfile::tempdir().unwrap();
    let root_uri = format!("file://{}", root.path().display());
    let big = format!("{root_uri}/big.py");
    let small = format!("{root_uri}/small.py");
    let (big, small) = (big.as_str(), small.as_str());
    let fake = Fake::start().await;
    fake.set_default(openai_stream(&["compute(1)"]));
    let mut server = InProcess::new(Value::Null);
    server
        .initialize(
            capabilities(&["utf-16"]),
            json!({"rootUri": root_uri, "initializationOptions": {
                "models": {"default": {"backend": "openai", "url": fake.v1(), "model": "fake",
                                       "retries": 0}},
                "llm": {"cache": {"enabled": false}},
                "completion": {"debounce_ms": 0},
                "index": {"enabled": false},
            }}),
        )
        .await;
    let text = big_text();
    let last_line = text.lines().count() as u32 - 1;
    server
        .notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": big, "languageId": "python", "version": 1, "text": text}}),
        )
        .await;
    server
        .notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": small, "languageId": "python", "version": 1,
                                    "text": "total = \n"}}),
        )
        .await;

    // A suggestion on screen in the big document, and its syntax tree kept.
    let answer = complete(&mut server, big, last_line, 8).await;
    assert!(answer.to_string().contains("compute(1)"), "{answer}");
    let held = retained_until(&mut server, big, |h| h.iter().any(|n| n == "syntaxTree")).await;
    assert!(held.iter().any(|n| n == "syntaxTree"), "{held:?}");
    // An edit pending on the tree.
    server
        .notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": big, "version": 2}, "contentChanges": [
                {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                 "text": "# edited\n"}
            ]}),
        )
        .await;
    // A completion in the small document reads the big one as an open document.
    let answer = complete(&mut server, small, 0, 8).await;
    assert!(answer.to_string().contains("compute(1)"), "{answer}");

    let held = retained(&mut server, big).await;
    for name in ["document", "syntaxTree", "typeThrough", "openDocumentIndex"] {
        assert!(
            held.iter().any(|n| n == name),
            "{name} before closing: {held:?}"
        );
    }

    server
        .notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": big}}),
        )
        .await;
    let held = retained_until(&mut server, big, <[String]>::is_empty).await;
    assert!(held.is_empty(), "still kept after didClose: {held:?}");
    // The other document keeps what it has.
    let small = retained(&mut server, small).await;
    assert!(small.iter().any(|n| n == "document"), "{small:?}");
    assert!(small.iter().any(|n| n == "typeThrough"), "{small:?}");
}
