//! Nothing stale through the protocol, over stdio, against a scripted fake model server: a
//! suggestion made from an older text is never served again (type-through checks the text the
//! prompt used, not only the offsets), and a `didChange` that repeats a version number (a client
//! bug) still counts as a change: completions made from the old text are dropped, the kept syntax
//! tree is not taken for the new text, and AI actions computed from the old text edit nothing.

#[path = "llm_support/mod.rs"]
mod llm_support;
#[path = "server_support/mod.rs"]
mod server_support;

use std::time::Duration;

use augur::test_support::capabilities;
use augur::test_support::stdio::StdioClient;
use llm_support::{End, Fake, Reply, openai_sse, openai_stream, wait_until_blocking};
use serde_json::{Value, json};
use server_support::{file_uri, merge, model_options, range, spawn_in};

const CALC: &str = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n";

/// A workspace folder holding `calc.py`, a fake model server on a background runtime, and an
/// augur talking to it.
struct Setup {
    _runtime: tokio::runtime::Runtime,
    fake: Fake,
    client: StdioClient,
    uri: String,
    _root: tempfile::TempDir,
    _cache: tempfile::TempDir,
}

fn setup() -> Setup {
    let (runtime, fake) = Fake::start_in_background();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("calc.py"), CALC).unwrap();
    let options = merge(
        model_options(&fake.v1()),
        json!({"index": {"enabled": false}, "completion": {"debounce_ms": 0}}),
    );
    let (client, cache) = spawn_in(
        root.path(),
        capabilities(&["utf-16"]),
        options,
        &[("AUGUR_DEBUG_REQUESTS", "1")],
    );
    let uri = file_uri(&root.path().join("calc.py"));
    Setup {
        _runtime: runtime,
        fake,
        client,
        uri,
        _root: root,
        _cache: cache,
    }
}

impl Setup {
    fn open(&mut self, text: &str) {
        let uri = self.uri.clone();
        self.client.open(&uri, "python", 1, text);
    }

    /// Replaces the text in `at` by `text`, announcing the document as `version`.
    fn change(&mut self, version: i32, at: Value, text: &str) {
        self.client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": self.uri, "version": version},
                   "contentChanges": [{"range": at, "text": text}]}),
        );
    }

    fn inline_params(&self, line: u32, character: u32, invoked: bool) -> Value {
        json!({
            "textDocument": {"uri": self.uri},
            "position": {"line": line, "character": character},
            "context": {"triggerKind": if invoked { 1 } else { 2 }}
        })
    }

    /// The texts of the inline completion at a position.
    fn inline(&mut self, line: u32, character: u32, invoked: bool) -> Vec<String> {
        let params = self.inline_params(line, character, invoked);
        let result = self
            .client
            .request("textDocument/inlineCompletion", params)
            .unwrap();
        texts(&result)
    }

    /// Waits until the fake model has been called more than `n` times.
    fn wait_calls_over(&mut self, n: usize) {
        let fake = &self.fake;
        self.client
            .wait_for(|_| (fake.calls() > n).then_some(()))
            .expect("the model was called");
    }

    fn code_actions(&mut self, at: Value) -> Vec<Value> {
        let diagnostics = json!([{"range": at, "message": "add subtracts", "severity": 1}]);
        server_support::code_actions(&mut self.client, &self.uri, at, diagnostics)
    }

    fn applied_edits(&self) -> usize {
        self.client
            .server_requests
            .iter()
            .filter(|r| r["method"] == "workspace/applyEdit")
            .count()
    }
}

fn texts(result: &Value) -> Vec<String> {
    result["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["insertText"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn find<'a>(actions: &'a [Value], title_start: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["title"].as_str().unwrap_or("").starts_with(title_start))
        .unwrap_or_else(|| panic!("no action `{title_start}` in {actions:#?}"))
}

/// A fenced reply streamed in small pieces, held back for a while so the test can edit meanwhile.
fn slow_reply(code: &str) -> Reply {
    let fenced = format!("```python\n{code}```\n");
    Reply::stream(
        "text/event-stream",
        openai_sse(&[fenced.as_str()]),
        End::Close,
    )
    .first_after(Duration::from_millis(800))
}

#[test]
fn a_same_length_edit_on_another_line_asks_the_model_again() {
    let mut s = setup();
    s.fake.push(openai_stream(&["a - b"]));
    s.fake.set_default(openai_stream(&["a * b"]));
    s.open("rate = 1\ndef add(a, b):\n    return \n");
    assert_eq!(s.inline(2, 11, true), ["a - b"]);
    assert_eq!(s.fake.calls(), 1);
    // Another line changes, keeping its length: every offset is where it was.
    s.change(2, range((0, 7), (0, 8)), "2");
    assert_eq!(s.inline(2, 11, false), ["a * b"]);
    assert_eq!(
        s.fake.calls(),
        2,
        "the suggestion made from version 1 is not served"
    );
    // Typing through the new suggestion is still answered without the model.
    s.change(3, range((2, 11), (2, 11)), "a ");
    assert_eq!(s.inline(2, 13, false), ["* b"]);
    assert_eq!(s.fake.calls(), 2);
}

#[test]
fn a_repeated_version_number_still_drops_a_completion_made_from_the_old_text() {
    let mut s = setup();
    s.fake.set_default(
        Reply::stream("text/event-stream", openai_sse(&["stale"]), End::Close)
            .first_after(Duration::from_millis(800)),
    );
    s.open("def add(a, b):\n    return \n");
    let params = s.inline_params(1, 11, true);
    let id = s
        .client
        .send_request("textDocument/inlineCompletion", params);
    s.wait_calls_over(0);
    // The client says version 1 again, with another text.
    s.change(1, range((0, 4), (0, 7)), "sum");
    let result = s.client.response(id).unwrap();
    assert!(texts(&result).is_empty(), "{result}");
}

#[test]
fn a_repeated_version_number_is_not_taken_for_the_kept_syntax_tree() {
    let mut s = setup();
    s.fake.set_default(openai_stream(&["a + b"]));
    s.open("def add(a, b):\n    return \n");
    assert_eq!(s.inline(1, 11, true), ["a + b"]);
    let uri = s.uri.clone();
    let current = wait_until_blocking(Duration::from_secs(10), || {
        s.client
            .request("augur/debug/document", json!({"uri": uri}))
            .unwrap()["treeIsCurrent"]
            == true
    });
    assert!(current, "a syntax tree is kept for the document");
    // The same version number with another text: the kept tree is for the old text.
    s.change(1, range((1, 4), (1, 10)), "x = '");
    let state = s
        .client
        .request("augur/debug/document", json!({"uri": uri}))
        .unwrap();
    assert_eq!(state["text"], "def add(a, b):\n    x = ' \n", "{state}");
    assert_eq!(state["treeIsCurrent"], false, "{state}");
}

#[test]
fn an_action_offered_for_the_old_text_under_the_same_version_is_refused() {
    let mut s = setup();
    s.fake.set_default(openai_stream(&[
        "```python\ndef add(a, b):\n    return a + b\n```\n",
    ]));
    s.open(CALC);
    let actions = s.code_actions(range((1, 11), (1, 16)));
    let fix = find(&actions, "Fix with AI").clone();
    // Lines are added above under the same version: the offered range now names other text.
    s.change(1, range((0, 0), (0, 0)), "# a\n# b\n");
    let error = s.client.request("codeAction/resolve", fix).unwrap_err();
    assert_eq!(error["code"], -32801, "{error}");
    assert_eq!(s.fake.calls(), 0, "the model is not asked");
}

#[test]
fn an_action_computed_from_the_old_text_under_the_same_version_is_not_applied() {
    let mut s = setup();
    s.open(CALC);
    // Resolve: the model works while the document changes under the same version.
    let actions = s.code_actions(range((1, 11), (1, 16)));
    let fix = find(&actions, "Fix with AI").clone();
    s.fake
        .set_default(slow_reply("def add(a, b):\n    return a + b\n"));
    let id = s.client.send_request("codeAction/resolve", fix);
    s.wait_calls_over(0);
    s.change(1, range((0, 0), (0, 0)), "# typed\n");
    let error = s.client.response(id).unwrap_err();
    assert_eq!(error["code"], -32801, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("changed since"),
        "{error}"
    );

    // The rewrite command: no `workspace/applyEdit` for the old text.
    s.fake
        .set_default(slow_reply("def sub(a, b):\n    return b - a\n"));
    let uri = s.uri.clone();
    let id = s.client.send_request(
        "workspace/executeCommand",
        json!({"command": "augur.rewrite", "arguments": [
            {"uri": uri, "range": range((5, 0), (6, 16)), "instruction": "swap the operands"}]}),
    );
    s.wait_calls_over(1);
    s.change(1, range((0, 0), (0, 0)), "# more\n");
    let result = s.client.response(id).unwrap();
    assert_eq!(result["status"], "stale", "{result}");
    assert_eq!(s.applied_edits(), 0, "no edit is sent");
}
