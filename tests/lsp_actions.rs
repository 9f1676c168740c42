//! AI code actions through the protocol, over stdio, against a scripted fake model server: the
//! instant catalogue, lazy resolve with versioned edits and `$/progress`, the syntax check, the
//! version guard (at resolve and while the model works), the workspace guard, cancellation by
//! progress and by request, commands with `workspace/applyEdit`, explanations, new test files and
//! clients with fewer capabilities.

#[path = "llm_support/mod.rs"]
mod llm_support;
#[path = "server_support/mod.rs"]
mod server_support;

use std::path::PathBuf;
use std::time::Duration;

use augur::test_support::stdio::StdioClient;
use augur::test_support::{apply_lsp_edits as apply_edits, capabilities};
use llm_support::{End, Fake, Reply, openai_sse, openai_stream};
use serde_json::{Value, json};
use server_support::{file_uri, merge, model_options, range, spawn_in};

const CALC: &str = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n";

/// A workspace folder, a fake model server on a background runtime, and an augur talking to it.
struct Setup {
    runtime: tokio::runtime::Runtime,
    fake: Fake,
    client: StdioClient,
    root: tempfile::TempDir,
    _cache: tempfile::TempDir,
}

fn setup(caps: Value) -> Setup {
    let (runtime, fake) = Fake::start_in_background();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("calc.py"), CALC).unwrap();
    let options = merge(
        model_options(&fake.v1()),
        json!({"index": {"enabled": false}}),
    );
    let (client, cache) = spawn_in(root.path(), caps, options, &[]);
    Setup {
        runtime,
        fake,
        client,
        root,
        _cache: cache,
    }
}

impl Setup {
    fn calc_uri(&self) -> String {
        file_uri(&self.root.path().join("calc.py"))
    }

    fn open_calc(&mut self) -> String {
        let uri = self.calc_uri();
        self.client.open(&uri, "python", 1, CALC);
        uri
    }

    fn code_actions(&mut self, uri: &str, range: Value, diagnostics: Value) -> Vec<Value> {
        server_support::code_actions(&mut self.client, uri, range, diagnostics)
    }

    /// Types `text` at the start of the document, making it `version`.
    fn type_at_top(&mut self, uri: &str, version: i32, text: &str) {
        self.client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": range((0, 0), (0, 0)), "text": text}]}),
        );
    }

    /// Runs a command and returns its answer.
    fn execute(&mut self, command: &Value) -> Value {
        self.client
            .request(
                "workspace/executeCommand",
                json!({"command": command["command"], "arguments": command["arguments"]}),
            )
            .unwrap()
    }

    /// Waits until the fake model has been called more than `n` times.
    fn wait_calls_over(&mut self, n: usize) {
        let fake = &self.fake;
        self.client
            .wait_for(|_| (fake.calls() > n).then_some(()))
            .expect("the model was called");
    }

    fn wait_progress_end(&mut self) {
        self.client
            .wait_for(|c| {
                c.notifications
                    .iter()
                    .any(|n| n["params"]["value"]["kind"] == "end")
                    .then_some(())
            })
            .expect("the progress ended");
    }

    fn progress_kinds(&mut self) -> Vec<String> {
        self.client
            .notifications
            .iter()
            .filter(|n| n["method"] == "$/progress")
            .filter(|n| {
                n["params"]["token"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("augur/action"))
            })
            .map(|n| {
                n["params"]["value"]["kind"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect()
    }

    fn server_requests(&self, method: &str) -> Vec<Value> {
        self.client
            .server_requests
            .iter()
            .filter(|r| r["method"] == method)
            .cloned()
            .collect()
    }
}

fn reply(code: &str) -> Reply {
    let fenced = format!("Here it is:\n```python\n{code}```\n");
    // Streamed in small pieces, so progress has something to report.
    let pieces: Vec<String> = fenced
        .as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    openai_stream(&pieces)
}

fn diagnostic() -> Value {
    json!([{"range": range((1, 11), (1, 16)), "message": "add subtracts", "severity": 1,
            "source": "review"}])
}

fn find<'a>(actions: &'a [Value], title_start: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["title"].as_str().unwrap_or("").starts_with(title_start))
        .unwrap_or_else(|| panic!("no action `{title_start}` in {actions:#?}"))
}

#[test]
fn code_actions_are_instant_and_resolve_to_a_minimal_versioned_edit_with_progress() {
    let mut s = setup(capabilities(&["utf-16"]));
    s.fake
        .set_default(reply("def add(a, b):\n    return a + b\n"));
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((1, 11), (1, 16)), diagnostic());
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "Fix with AI: add subtracts",
            "Document `add` with AI",
            "Rewrite selection with AI…",
            "Generate tests for `add` with AI",
            "Explain selection with AI",
        ],
        "{actions:#?}"
    );
    let fix = find(&actions, "Fix with AI");
    assert_eq!(fix["kind"], "quickfix");
    assert!(fix.get("edit").is_none(), "no edit before resolve");
    assert_eq!(fix["data"]["action"], "augur.fix");
    assert_eq!(fix["data"]["version"], 1);
    assert_eq!(find(&actions, "Rewrite")["kind"], "refactor.rewrite");
    assert_eq!(
        find(&actions, "Rewrite")["command"]["command"],
        "augur.rewrite"
    );
    assert_eq!(
        find(&actions, "Explain")["command"]["command"],
        "augur.action"
    );
    assert_eq!(find(&actions, "Document")["kind"], "source");
    assert_eq!(s.fake.calls(), 0, "offering actions calls no model");

    let resolved = s.client.request("codeAction/resolve", fix.clone()).unwrap();
    assert_eq!(s.fake.calls(), 1);
    let changes = resolved["edit"]["documentChanges"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{resolved}");
    assert_eq!(changes[0]["textDocument"]["uri"], uri.as_str());
    assert_eq!(changes[0]["textDocument"]["version"], 1);
    let edits = changes[0]["edits"].as_array().unwrap();
    assert_eq!(
        edits,
        &[json!({"range": range((1, 13), (1, 14)), "newText": "+"})],
        "the smallest edit"
    );
    assert_eq!(apply_edits(CALC, edits), CALC.replacen("a - b", "a + b", 1));
    // The prompt carried the diagnostic.
    let prompt = s.fake.requests()[0].body["prompt"].to_string();
    assert!(prompt.contains("add subtracts"), "{prompt}");
    // Progress: a token was created, then begin, reports, end.
    assert_eq!(s.server_requests("window/workDoneProgress/create").len(), 1);
    s.wait_progress_end();
    let kinds = s.progress_kinds();
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("begin"),
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("end"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "report"), "{kinds:?}");
}

#[test]
fn a_reply_that_does_not_parse_is_refused_after_one_retry() {
    let mut s = setup(capabilities(&["utf-16"]));
    s.fake
        .set_default(reply("def add(a, b:\n    return (a +\n"));
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((1, 11), (1, 16)), diagnostic());
    let fix = find(&actions, "Fix with AI").clone();
    let error = s.client.request("codeAction/resolve", fix).unwrap_err();
    assert_eq!(error["code"], -32803, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("the model's edit did not parse"),
        "{error}"
    );
    assert_eq!(s.fake.calls(), 2, "one retry");
    let second = s.fake.requests()[1].body["prompt"].to_string();
    assert!(
        second.contains("refused"),
        "the retry carries the parser's complaint"
    );
    let shown = s.client.notification("window/showMessage").unwrap();
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains("did not parse")
    );
}

#[test]
fn a_document_changed_since_the_offer_or_during_the_run_is_not_edited() {
    let mut s = setup(capabilities(&["utf-16"]));
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((1, 11), (1, 16)), diagnostic());
    let fix = find(&actions, "Fix with AI").clone();
    // Changed before resolve: refused without asking the model.
    s.type_at_top(&uri, 2, "# hi\n");
    let error = s.client.request("codeAction/resolve", fix).unwrap_err();
    assert_eq!(error["code"], -32801, "{error}");
    assert_eq!(s.fake.calls(), 0);

    // Changed while the model works: refused after the answer.
    let actions = s.code_actions(
        &uri,
        range((2, 11), (2, 16)),
        json!([
        {"range": range((2, 11), (2, 16)), "message": "add subtracts", "severity": 1}]),
    );
    let fix = find(&actions, "Fix with AI").clone();
    assert_eq!(fix["data"]["version"], 2);
    s.fake.set_default(
        reply("def add(a, b):\n    return a + b\n").first_after(Duration::from_millis(800)),
    );
    let id = s.client.send_request("codeAction/resolve", fix);
    s.wait_calls_over(0);
    s.type_at_top(&uri, 3, "# again\n");
    let error = s.client.response(id).unwrap_err();
    assert_eq!(error["code"], -32801, "{error}");
    assert!(error["message"].as_str().unwrap().contains("changed since"));
}

#[test]
fn the_rewrite_command_applies_its_edit_only_to_the_version_it_was_computed_for() {
    let mut s = setup(capabilities(&["utf-16"]));
    s.fake
        .set_default(reply("def sub(a, b):\n    return b - a\n"));
    let uri = s.open_calc();
    let result = s.execute(&json!({"command": "augur.rewrite", "arguments": [
                {"uri": uri, "range": range((4, 0), (5, 16)), "instruction": "swap the operands"}]}));
    assert_eq!(result["status"], "applied", "{result}");
    let prompt = s.fake.requests()[0].body["prompt"].to_string();
    assert!(prompt.contains("swap the operands"), "{prompt}");
    let applied = s.server_requests("workspace/applyEdit");
    assert_eq!(applied.len(), 1);
    let change = &applied[0]["params"]["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["version"], 1);
    assert_eq!(
        apply_edits(CALC, change["edits"].as_array().unwrap()),
        CALC.replace(
            "def sub(a, b):\n    return a - b",
            "def sub(a, b):\n    return b - a"
        )
    );

    // The user types while the model works: no edit is sent, and the user is told.
    s.fake.set_default(
        reply("def sub(a, b):\n    return b - a\n").first_after(Duration::from_millis(800)),
    );
    let id = s.client.send_request(
        "workspace/executeCommand",
        json!({"command": "augur.rewrite", "arguments": [
            {"uri": uri, "range": range((4, 0), (5, 16)), "instruction": "swap the operands"}]}),
    );
    s.wait_calls_over(1);
    s.type_at_top(&uri, 2, "# typing\n");
    let result = s.client.response(id).unwrap();
    assert_eq!(result["status"], "stale", "{result}");
    assert_eq!(
        s.server_requests("workspace/applyEdit").len(),
        1,
        "no second edit"
    );
    let shown = s.client.notification("window/showMessage").unwrap();
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains("changed since"),
        "{shown}"
    );
}

#[test]
fn a_rewrite_without_an_instruction_lets_the_user_pick_one() {
    let mut s = setup(capabilities(&["utf-16"]));
    s.fake
        .set_default(reply("def sub(a, b):\n    return a - b\n"));
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((4, 0), (5, 16)), json!([]));
    let command = find(&actions, "Rewrite")["command"].clone();
    let result = s.execute(&command);
    let asked = s.server_requests("window/showMessageRequest");
    assert_eq!(asked.len(), 1, "{result}");
    let first = asked[0]["params"]["actions"][0]["title"].as_str().unwrap();
    let prompt = s.fake.requests()[0].body["prompt"].to_string();
    assert!(prompt.contains(first), "{prompt}");
    // The model's answer equals the code: nothing to apply, nothing sent.
    assert_eq!(result["status"], "applied", "{result}");
    assert!(s.server_requests("workspace/applyEdit").is_empty());
}

#[test]
fn an_edit_outside_the_workspace_folders_is_refused() {
    let mut s = setup(capabilities(&["utf-16"]));
    s.fake
        .set_default(reply("def sub(a, b):\n    return b - a\n"));
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = file_uri(&elsewhere.path().join("calc.py"));
    s.client.open(&outside, "python", 1, CALC);
    let result = s.execute(&json!({"command": "augur.rewrite", "arguments": [
                {"uri": outside, "range": range((4, 0), (5, 16)), "instruction": "swap"}]}));
    assert_eq!(result["status"], "failed", "{result}");
    assert!(
        result["message"]
            .as_str()
            .unwrap()
            .contains("outside the workspace folders"),
        "{result}"
    );
    assert!(s.server_requests("workspace/applyEdit").is_empty());
}

#[test]
fn cancelling_the_progress_or_the_request_stops_the_model_call() {
    let mut s = setup(capabilities(&["utf-16"]));
    s.fake.set_default(
        Reply::stream(
            "text/event-stream",
            openai_sse(&["```python\n", "def add(a, b):\n"]),
            End::Stall,
        )
        .first_after(Duration::from_millis(50)),
    );
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((1, 11), (1, 16)), diagnostic());
    let fix = find(&actions, "Fix with AI").clone();

    // By the progress's cancel button.
    let id = s.client.send_request("codeAction/resolve", fix.clone());
    let token = s
        .client
        .wait_for(|c| {
            c.notifications
                .iter()
                .find(|n| {
                    n["method"] == "$/progress"
                        && n["params"]["value"]["kind"] == "report"
                        && n["params"]["token"]
                            .as_str()
                            .is_some_and(|t| t.starts_with("augur/action/"))
                })
                .map(|n| n["params"]["token"].clone())
        })
        .expect("the action's progress reports as the answer streams");
    s.client
        .notify("window/workDoneProgress/cancel", json!({"token": token}));
    assert_eq!(s.client.response(id).unwrap_err()["code"], -32800);
    assert!(
        s.runtime
            .block_on(s.fake.wait_dropped(1, Duration::from_secs(5))),
        "the HTTP call was closed"
    );

    // By `$/cancelRequest`; the progress still ends.
    s.client.notifications.clear();
    let id = s.client.send_request("codeAction/resolve", fix);
    s.wait_calls_over(1);
    s.client.notify("$/cancelRequest", json!({"id": id}));
    assert_eq!(s.client.response(id).unwrap_err()["code"], -32800);
    assert!(
        s.runtime
            .block_on(s.fake.wait_dropped(2, Duration::from_secs(5))),
        "the second HTTP call was closed"
    );
    s.wait_progress_end();
}

#[test]
fn explain_opens_a_markdown_document_or_shows_a_message() {
    let mut s = setup(capabilities(&["utf-16"]));
    s.fake.set_default(openai_stream(&[
        "`sub` returns the difference ",
        "of its arguments.",
    ]));
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((4, 4), (4, 7)), json!([]));
    let command = find(&actions, "Explain")["command"].clone();
    let result = s.execute(&command);
    assert_eq!(result["status"], "shown", "{result}");
    let shown = s.server_requests("window/showDocument");
    assert_eq!(shown.len(), 1);
    let path = PathBuf::from(result["path"].as_str().unwrap());
    assert_eq!(file_uri(&path), shown[0]["params"]["uri"].as_str().unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("returns the difference of its arguments"),
        "{text}"
    );
    assert_eq!(s.server_requests("workspace/applyEdit").len(), 0);

    // A client that cannot show documents gets a message.
    let mut caps = capabilities(&["utf-16"]);
    caps["window"]["showDocument"]["support"] = json!(false);
    let mut s = setup(caps);
    s.fake.set_default(openai_stream(&["It subtracts."]));
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((4, 4), (4, 7)), json!([]));
    let command = find(&actions, "Explain")["command"].clone();
    let result = s.execute(&command);
    assert_eq!(result["status"], "shown", "{result}");
    let message = s.client.notification("window/showMessage").unwrap();
    assert!(
        message["params"]["message"]
            .as_str()
            .unwrap()
            .contains("It subtracts."),
        "{message}"
    );
}

#[test]
fn generated_tests_go_to_a_new_file_created_by_the_edit() {
    let mut s = setup(capabilities(&["utf-16"]));
    s.fake.set_default(reply(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    ));
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((1, 4), (1, 4)), json!([]));
    let tests = find(&actions, "Generate tests").clone();
    let resolved = s.client.request("codeAction/resolve", tests).unwrap();
    let changes = resolved["edit"]["documentChanges"].as_array().unwrap();
    let test_file = file_uri(&s.root.path().join("test_calc.py"));
    assert_eq!(changes[0]["kind"], "create", "{resolved}");
    assert_eq!(changes[0]["uri"], test_file.as_str());
    assert_eq!(changes[1]["textDocument"]["uri"], test_file.as_str());
    let text = changes[1]["edits"][0]["newText"].as_str().unwrap();
    assert!(text.contains("def test_add():"), "{text}");

    // Without resource operations the file cannot be created: the user is told why.
    let mut caps = capabilities(&["utf-16"]);
    caps["workspace"]["workspaceEdit"]["resourceOperations"] = json!([]);
    let mut s = setup(caps);
    s.fake.set_default(reply(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    ));
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((1, 4), (1, 4)), json!([]));
    let tests = find(&actions, "Generate tests").clone();
    let error = s.client.request("codeAction/resolve", tests).unwrap_err();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("does not support creating files"),
        "{error}"
    );
}

#[test]
fn clients_with_fewer_capabilities_get_commands_and_plain_changes() {
    // No resolve support, no versioned edits: every action is a command, and the edit is a
    // `changes` map.
    let mut caps = capabilities(&["utf-16"]);
    caps["textDocument"]["codeAction"]
        .as_object_mut()
        .unwrap()
        .remove("resolveSupport");
    caps["workspace"]["workspaceEdit"]["documentChanges"] = json!(false);
    let mut s = setup(caps);
    s.fake
        .set_default(reply("def add(a, b):\n    return a + b\n"));
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((1, 11), (1, 16)), diagnostic());
    assert!(
        actions
            .iter()
            .all(|a| a.get("data").is_none() && a.get("command").is_some()),
        "{actions:#?}"
    );
    let fix = find(&actions, "Fix with AI")["command"].clone();
    assert_eq!(fix["command"], "augur.action");
    let result = s.execute(&fix);
    assert_eq!(result["status"], "applied", "{result}");
    let applied = s.server_requests("workspace/applyEdit");
    let edits = applied[0]["params"]["edit"]["changes"][uri.as_str()]
        .as_array()
        .unwrap_or_else(|| panic!("{applied:#?}"))
        .clone();
    assert_eq!(
        apply_edits(CALC, &edits),
        CALC.replacen("a - b", "a + b", 1)
    );

    // No code action literals at all: plain commands.
    let mut caps = capabilities(&["utf-16"]);
    caps["textDocument"]["codeAction"]
        .as_object_mut()
        .unwrap()
        .remove("codeActionLiteralSupport");
    let mut s = setup(caps);
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((1, 11), (1, 16)), diagnostic());
    assert!(!actions.is_empty());
    assert!(
        actions
            .iter()
            .all(|a| a["command"].is_string() && a.get("kind").is_none()),
        "{actions:#?}"
    );
}

#[test]
fn actions_honour_only_disabled_and_secret_files() {
    let mut s = setup(capabilities(&["utf-16"]));
    let uri = s.open_calc();
    let only = s
        .client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range((1, 11), (1, 16)),
                   "context": {"diagnostics": diagnostic(), "only": ["quickfix"]}}),
        )
        .unwrap();
    let kinds: Vec<&str> = only
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["quickfix"]);

    s.client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"augur": {"actions": {"disabled": ["explain", "tests"]}}}}),
    );
    let titles: Vec<String> = s
        .code_actions(&uri, range((1, 11), (1, 16)), json!([]))
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(!titles.is_empty());
    assert!(
        titles
            .iter()
            .all(|t| !t.starts_with("Explain") && !t.starts_with("Generate")),
        "{titles:?}"
    );

    let secret = file_uri(&s.root.path().join(".env"));
    s.client.open(&secret, "dotenv", 1, "KEY=1\n");
    assert!(
        s.code_actions(&secret, range((0, 0), (0, 3)), json!([]))
            .is_empty()
    );
}

#[test]
fn a_client_that_creates_the_progress_token_only_after_the_answer_gets_the_edit_first() {
    // Helix handles the server's requests only once it has the answer to `codeAction/resolve`:
    // the run must not wait for the token it asked for.
    let mut s = setup(capabilities(&["utf-16"]));
    s.client.hold.push("window/workDoneProgress/create".into());
    s.fake
        .set_default(reply("def add(a, b):\n    return a + b\n"));
    let uri = s.open_calc();
    let actions = s.code_actions(&uri, range((1, 11), (1, 16)), diagnostic());
    let fix = find(&actions, "Fix with AI").clone();
    let resolved = s.client.request("codeAction/resolve", fix).unwrap();
    let edits = resolved["edit"]["documentChanges"][0]["edits"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        apply_edits(CALC, &edits),
        CALC.replacen("a - b", "a + b", 1),
        "{resolved}"
    );
    assert_eq!(
        s.server_requests("window/workDoneProgress/create").len(),
        1,
        "a token was asked for"
    );
    assert!(
        s.progress_kinds().is_empty(),
        "no progress on a token the client has not created"
    );
    // Once the client creates the token, the run's progress follows, from begin to end.
    s.client
        .answer_held("window/workDoneProgress/create", Value::Null);
    s.wait_progress_end();
    let kinds = s.progress_kinds();
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("begin"),
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("end"), "{kinds:?}");
}
