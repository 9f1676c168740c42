//! AI completions through the protocol, over stdio, against a scripted fake model server:
//! inline and classic completion, cancel, supersede, stale versions, type-through, and many
//! requests at once.

#[path = "llm_support/mod.rs"]
mod llm_support;
#[path = "server_support/mod.rs"]
mod server_support;

use std::time::{Duration, Instant};

use augur::test_support::capabilities;
use augur::test_support::stdio::StdioClient;
use llm_support::{End, Fake, Reply, openai_sse, openai_stream, wait_until_blocking};
use serde_json::{Value, json};
use server_support::{merge, model_options, spawn};

/// A fake model server on a background runtime, and an augur talking to it.
struct Setup {
    runtime: tokio::runtime::Runtime,
    fake: Fake,
    client: StdioClient,
    _cache: tempfile::TempDir,
}

fn setup(caps: Value, completion: Value) -> Setup {
    let (runtime, fake) = Fake::start_in_background();
    let mut completion = completion;
    completion["debounce_ms"] = json!(0);
    let options = merge(model_options(&fake.v1()), json!({"completion": completion}));
    let (client, cache) = spawn(caps, options, &[("AUGUR_DEBUG_REQUESTS", "1")]);
    Setup {
        runtime,
        fake,
        client,
        _cache: cache,
    }
}

const URI: &str = "file:///mem/calc.py";

fn open_calc(client: &mut StdioClient, text: &str) {
    client.open(URI, "python", 1, text);
}

fn inline(
    client: &mut StdioClient,
    line: u32,
    character: u32,
    invoked: bool,
) -> Result<Value, Value> {
    client.request(
        "textDocument/inlineCompletion",
        inline_params(line, character, invoked),
    )
}

fn inline_params(line: u32, character: u32, invoked: bool) -> Value {
    json!({
        "textDocument": {"uri": URI},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": if invoked { 1 } else { 2 }}
    })
}

fn items(result: &Value) -> Vec<Value> {
    match result {
        Value::Array(items) => items.clone(),
        Value::Object(list) => list
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[test]
fn inline_completion_inserts_at_the_cursor_in_utf16() {
    let mut s = setup(capabilities(&["utf-16"]), json!({}));
    s.fake.set_default(openai_stream(&["a + ", "b"]));
    // The emoji before the cursor counts two UTF-16 code units.
    open_calc(&mut s.client, "def add(a, b):\n    # 😀\n    return \n");
    let result = inline(&mut s.client, 2, 11, true).unwrap();
    let items = items(&result);
    assert_eq!(items.len(), 1, "{result}");
    assert_eq!(items[0]["insertText"], "a + b");
    assert_eq!(
        items[0]["range"]["start"],
        json!({"line": 2, "character": 11})
    );
    assert_eq!(s.fake.calls(), 1);
    // The prompt ends exactly at the cursor (after the emoji's line, so the UTF-16 column was
    // converted right), and the suffix is what follows it.
    let request = &s.fake.requests()[0];
    let prompt = request.body["prompt"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        prompt.ends_with("def add(a, b):\n    # 😀\n    return "),
        "{prompt}"
    );
    assert_eq!(request.body["suffix"], "\n", "{}", request.body);
}

#[test]
fn classic_completion_items_for_clients_without_inline_completion() {
    let mut caps = capabilities(&["utf-16"]);
    caps["textDocument"]
        .as_object_mut()
        .unwrap()
        .remove("inlineCompletion");
    let mut s = setup(caps, json!({"mode": "items"}));
    s.fake.set_default(openai_stream(&["a + b"]));
    open_calc(&mut s.client, "def add(a, b):\n    return \n");
    let result = s
        .client
        .request(
            "textDocument/completion",
            json!({"textDocument": {"uri": URI}, "position": {"line": 1, "character": 11}, "context": {"triggerKind": 1}}),
        )
        .unwrap();
    let items = items(&result);
    let ai = items
        .iter()
        .find(|i| i["textEdit"]["newText"] == "a + b")
        .unwrap_or_else(|| panic!("{result}"));
    assert_eq!(
        ai["textEdit"]["range"]["start"],
        json!({"line": 1, "character": 11})
    );
}

#[test]
fn cancel_request_stops_the_model_call() {
    let mut s = setup(capabilities(&["utf-16"]), json!({}));
    s.fake.set_default(
        Reply::stream("text/event-stream", openai_sse(&["slow", "ly"]), End::Close)
            .first_after(Duration::from_secs(20)),
    );
    open_calc(&mut s.client, "def add(a, b):\n    return \n");
    let started = Instant::now();
    let id = s
        .client
        .send_request("textDocument/inlineCompletion", inline_params(1, 11, true));
    let called = s.client.wait_for(|_| (s.fake.calls() > 0).then_some(()));
    assert!(called.is_some(), "the model was called");
    s.client.notify("$/cancelRequest", json!({"id": id}));
    assert_eq!(s.client.response(id).unwrap_err()["code"], -32800);
    assert!(started.elapsed() < Duration::from_secs(10));
    let dropped = s
        .runtime
        .block_on(s.fake.wait_dropped(1, Duration::from_secs(5)));
    assert!(dropped, "the HTTP call was closed");
}

#[test]
fn a_newer_request_supersedes_the_older_one() {
    let mut s = setup(capabilities(&["utf-16"]), json!({}));
    s.fake.push(
        Reply::stream("text/event-stream", openai_sse(&["old"]), End::Close)
            .first_after(Duration::from_secs(20)),
    );
    s.fake.set_default(openai_stream(&["new"]));
    open_calc(&mut s.client, "def add(a, b):\n    return \n");
    let first = s
        .client
        .send_request("textDocument/inlineCompletion", inline_params(1, 11, false));
    let called = s.client.wait_for(|_| (s.fake.calls() > 0).then_some(()));
    assert!(called.is_some());
    let second = inline(&mut s.client, 1, 11, true).unwrap();
    assert_eq!(items(&second)[0]["insertText"], "new");
    // The older request is answered too, once, with nothing.
    let first = s.client.response(first).unwrap();
    assert!(items(&first).is_empty(), "{first}");
    assert!(
        s.runtime
            .block_on(s.fake.wait_dropped(1, Duration::from_secs(5))),
        "the older call was closed"
    );
}

#[test]
fn a_result_for_a_changed_document_is_not_returned() {
    let mut s = setup(capabilities(&["utf-16"]), json!({}));
    s.fake.set_default(
        Reply::stream("text/event-stream", openai_sse(&["stale"]), End::Close)
            .first_after(Duration::from_millis(800)),
    );
    open_calc(&mut s.client, "def add(a, b):\n    return \n");
    let id = s
        .client
        .send_request("textDocument/inlineCompletion", inline_params(1, 11, true));
    let called = s.client.wait_for(|_| (s.fake.calls() > 0).then_some(()));
    assert!(called.is_some());
    s.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "# edited\n"}
        ]}),
    );
    let result = s.client.response(id).unwrap();
    assert!(items(&result).is_empty(), "{result}");
}

#[test]
fn typing_through_a_suggestion_needs_no_new_model_call() {
    let mut s = setup(capabilities(&["utf-16"]), json!({}));
    s.fake.set_default(openai_stream(&["total(a, b)"]));
    open_calc(&mut s.client, "def add(a, b):\n    return \n");
    let first = inline(&mut s.client, 1, 11, true).unwrap();
    assert_eq!(items(&first)[0]["insertText"], "total(a, b)");
    // The user types "tot", the start of the suggestion.
    s.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 1, "character": 11}, "end": {"line": 1, "character": 11}}, "text": "tot"}
        ]}),
    );
    let next = inline(&mut s.client, 1, 14, false).unwrap();
    assert_eq!(items(&next)[0]["insertText"], "al(a, b)", "{next}");
    assert_eq!(s.fake.calls(), 1, "answered from the suggestion on screen");
}

/// Types `x` where the suggestion `total(a, b)` was shown (a keystroke it does not continue), and
/// returns how many model calls were made by the time the editor asks there, and the answer.
fn keystroke_off_the_suggestion(ask_while_typing: &str) -> (usize, Value) {
    let mut s = setup(
        capabilities(&["utf-16"]),
        json!({"ask_while_typing": ask_while_typing}),
    );
    s.fake.set_default(openai_stream(&["total(a, b)"]));
    open_calc(&mut s.client, "def add(a, b):\n    return \n");
    let first = inline(&mut s.client, 1, 11, true).unwrap();
    assert_eq!(items(&first)[0]["insertText"], "total(a, b)");
    s.fake.set_default(openai_stream(&[" + 1"]));
    s.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 1, "character": 11}, "end": {"line": 1, "character": 11}}, "text": "x"}
        ]}),
    );
    // Time for a call asked while typing to reach the model.
    wait_until_blocking(Duration::from_secs(2), || s.fake.calls() == 2);
    let before_the_editor_asks = s.fake.calls();
    let next = inline(&mut s.client, 1, 12, false).unwrap();
    assert_eq!(items(&next)[0]["insertText"], " + 1", "{next}");
    assert_eq!(
        s.fake.calls(),
        2,
        "one call for the keystroke, whoever asked"
    );
    (before_the_editor_asks, next)
}

#[test]
fn a_keystroke_that_leaves_the_suggestion_has_the_model_asked_before_the_editor_asks() {
    assert_eq!(keystroke_off_the_suggestion("always").0, 2);
    // The fake model is on 127.0.0.1: a local model.
    assert_eq!(keystroke_off_the_suggestion("local").0, 2);
    assert_eq!(keystroke_off_the_suggestion("never").0, 1);
}

#[test]
fn a_setting_changed_to_never_stops_asking_while_typing_at_once() {
    let mut s = setup(
        capabilities(&["utf-16"]),
        json!({"ask_while_typing": "always"}),
    );
    s.fake.set_default(openai_stream(&["total(a, b)"]));
    open_calc(&mut s.client, "def add(a, b):\n    return \n");
    inline(&mut s.client, 1, 11, true).unwrap();
    // The new settings reach the next keystroke, before the editor asks again.
    let options = merge(
        model_options(&s.fake.v1()),
        json!({"completion": {"debounce_ms": 0, "ask_while_typing": "never"}}),
    );
    s.client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"augur": options}}),
    );
    s.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 1, "character": 11}, "end": {"line": 1, "character": 11}}, "text": "x"}
        ]}),
    );
    assert!(!wait_until_blocking(Duration::from_secs(1), || s
        .fake
        .calls()
        > 1));
    assert_eq!(s.fake.calls(), 1);
}

#[test]
fn twenty_requests_at_once_are_all_answered() {
    let mut s = setup(capabilities(&["utf-16"]), json!({}));
    s.fake
        .set_default(openai_stream(&["x"]).delayed(Duration::from_millis(50)));
    let ids: Vec<i64> = (0..20)
        .map(|i| {
            let uri = format!("file:///mem/f{i}.py");
            s.client.open(&uri, "python", 1, "value = \n");
            s.client.send_request(
                "textDocument/inlineCompletion",
                json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 8}, "context": {"triggerKind": 1}}),
            )
        })
        .collect();
    for id in ids {
        let result = s.client.response(id).unwrap();
        assert_eq!(items(&result).len(), 1, "{result}");
    }
}

#[test]
fn a_model_changed_in_the_settings_is_used_by_the_next_request() {
    let mut s = setup(capabilities(&["utf-16"]), json!({}));
    s.fake.set_default(openai_stream(&["first"]));
    let (_runtime, other) = Fake::start_in_background();
    other.set_default(openai_stream(&["second"]));
    open_calc(&mut s.client, "def add(a, b):\n    return \n");
    let result = inline(&mut s.client, 1, 11, true).unwrap();
    assert_eq!(items(&result)[0]["insertText"], "first");

    s.client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"augur": {"models": {"default": {
            "backend": "openai", "url": format!("{}/v1", other.url), "model": "other",
            "retries": 0, "first_token_timeout_ms": 20000, "total_timeout_ms": 30000}}}}}),
    );
    // The reload happens on its own task: ask until the answer comes from the new model.
    let mut answer = Value::Null;
    wait_until_blocking(Duration::from_secs(5), || {
        let result = inline(&mut s.client, 1, 11, true).unwrap();
        answer = items(&result)[0]["insertText"].clone();
        answer == "second"
    });
    assert_eq!(answer, "second");
    assert_eq!(other.requests().last().unwrap().body["model"], "other");
}

#[test]
fn the_kept_syntax_tree_sees_a_string_opened_far_above_the_cursor() {
    let mut s = setup(capabilities(&["utf-16"]), json!({"multiline": "auto"}));
    s.fake
        .set_default(openai_stream(&["first line\nsecond line"]));
    // A string opened 30 lines above the cursor: the 20 lines around the cursor do not show it.
    let mut text = String::from("NOTES = \"\"\"\n");
    for i in 0..30 {
        text.push_str(&format!("note number {i}\n"));
    }
    text.push_str("\n\"\"\"\n");
    open_calc(&mut s.client, &text);
    let doc = || json!({"uri": URI});
    // The first request at this version starts keeping the document's tree. Whether that tree is
    // ready before the request decides depends on the machine (the parse runs beside the request),
    // so its answer may hold one line or two.
    let first = inline(&mut s.client, 31, 0, true).unwrap();
    let first_text = items(&first)[0]["insertText"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(first_text.starts_with("first line"), "{first}");
    let current = llm_support::wait_until_blocking(Duration::from_secs(10), || {
        s.client.request("augur/debug/document", doc()).unwrap()["treeIsCurrent"] == true
    });
    assert!(current, "a syntax tree is kept for the document");
    // Now the decision comes from the whole document's tree: in a string, one line only (at
    // another cursor, so that the first suggestion is not typed through).
    let second = inline(&mut s.client, 30, 14, true).unwrap();
    assert_eq!(items(&second)[0]["insertText"], "first line", "{second}");
}
