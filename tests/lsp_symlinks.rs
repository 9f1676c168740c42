//! Symbolic links out of the workspace, through the protocol over stdio against a scripted fake
//! model. The workspace holds `etc_link`, a link to a folder in another temporary folder (as a
//! link to `/etc` would be). Nothing goes through it: code actions offer no edit for a document
//! reached through it, and resolve and the commands refuse to edit or create files through it
//! (before any model call); the index does not follow it (watched-file events, saves, edits, the
//! server's own watcher), so `augur/search` and completion prompts never see what is behind it;
//! and an open document behind it gives no context to other files' prompts.

#![cfg(unix)]

#[path = "llm_support/mod.rs"]
mod llm_support;
#[path = "server_support/mod.rs"]
mod server_support;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use augur::test_support::capabilities;
use augur::test_support::stdio::StdioClient;
use llm_support::{Fake, Reply, openai_stream};
use serde_json::{Value, json};
use server_support::{file_uri as uri, merge, model_options, range, spawn_in};

const CALC: &str = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n";

/// A workspace with `etc_link` leading to a folder outside it, a fake model, and an augur.
struct Setup {
    _runtime: tokio::runtime::Runtime,
    fake: Fake,
    client: StdioClient,
    root: tempfile::TempDir,
    outside: tempfile::TempDir,
    _cache: tempfile::TempDir,
}

/// Starts augur on a workspace holding `calc.py` and the link; `index` turns the index on,
/// `prepare` writes more files (workspace root, outside folder) before the server starts.
fn setup(caps: Value, index: bool, prepare: impl FnOnce(&Path, &Path)) -> Setup {
    let (runtime, fake) = Fake::start_in_background();
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("calc.py"), CALC).unwrap();
    std::fs::write(outside.path().join("passwd"), CALC).unwrap();
    symlink(outside.path(), root.path().join("etc_link")).unwrap();
    prepare(root.path(), outside.path());
    let options = merge(
        model_options(&fake.v1()),
        json!({"index": {"enabled": index, "debounce_ms": 0}, "completion": {"debounce_ms": 0}}),
    );
    let (client, cache) = spawn_in(root.path(), caps, options, &[]);
    Setup {
        _runtime: runtime,
        fake,
        client,
        root,
        outside,
        _cache: cache,
    }
}

/// A fenced python answer.
fn python(code: &str) -> Reply {
    openai_stream(&[&format!("```python\n{code}```\n")])
}

impl Setup {
    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    /// Opens a workspace file as python.
    fn open(&mut self, rel: &str, text: &str) -> String {
        let uri = uri(&self.path(rel));
        self.client.open(&uri, "python", 1, text);
        uri
    }

    fn code_actions(&mut self, uri: &str, range: Value, diagnostics: Value) -> Vec<Value> {
        server_support::code_actions(&mut self.client, uri, range, diagnostics)
    }

    fn execute(&mut self, command: &str, arguments: Value) -> Value {
        self.client
            .request(
                "workspace/executeCommand",
                json!({"command": command, "arguments": [arguments]}),
            )
            .unwrap()
    }

    fn apply_edits(&self) -> Vec<Value> {
        self.client
            .server_requests
            .iter()
            .filter(|r| r["method"] == "workspace/applyEdit")
            .cloned()
            .collect()
    }

    /// Waits for the end of the first indexing.
    fn wait_indexed(&mut self) {
        self.client
            .wait_for(|c| {
                let at = c.notifications.iter().position(|n| {
                    n["method"] == "$/progress" && n["params"]["value"]["kind"] == "end"
                })?;
                c.notifications.remove(at)
            })
            .expect("the first indexing ends");
    }

    /// The names of the `augur/search` hits for `query`.
    fn hit_names(&mut self, query: &str) -> Vec<String> {
        search_names(&mut self.client, query)
    }

    /// Waits until `augur/search` finds a hit named `name`.
    fn wait_for_name(&mut self, query: &str, name: &str) {
        let found = self.client.wait_for(|c| {
            search_names(c, query)
                .iter()
                .any(|n| n == name)
                .then_some(())
        });
        assert!(found.is_some(), "`{name}` was never indexed");
    }

    /// Completes at `position` in `uri` and returns every request body the model received for
    /// it, as text.
    fn completion_prompt(&mut self, uri: &str, position: (u32, u32)) -> String {
        let before = self.fake.calls();
        self.fake.set_default(openai_stream(&["0"]));
        self.client
            .request(
                "textDocument/inlineCompletion",
                json!({"textDocument": {"uri": uri},
                       "position": {"line": position.0, "character": position.1},
                       "context": {"triggerKind": 1}}),
            )
            .unwrap();
        let requests = self.fake.requests();
        assert!(requests.len() > before, "the model was asked");
        requests[before..]
            .iter()
            .map(|r| r.body.to_string())
            .collect()
    }
}

fn search_names(client: &mut StdioClient, query: &str) -> Vec<String> {
    let hits = client
        .request("augur/search", json!({"query": query, "limit": 20}))
        .unwrap();
    hits.as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn file_event(client: &mut StdioClient, path: &Path, typ: u32) {
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(path), "type": typ}]}),
    );
}

#[test]
fn no_edit_is_offered_for_a_document_behind_a_link_out_of_the_workspace() {
    let mut s = setup(capabilities(&["utf-16"]), false, |_, _| {});
    let diagnostic = json!([{"range": range((1, 11), (1, 16)), "message": "add subtracts"}]);
    let inside = s.open("calc.py", CALC);
    let offered = s.code_actions(&inside, range((1, 11), (1, 16)), diagnostic.clone());
    assert!(offered.len() > 1, "{offered:#?}");
    let linked = s.open("etc_link/passwd", CALC);
    let offered = s.code_actions(&linked, range((1, 11), (1, 16)), diagnostic);
    let titles: Vec<&str> = offered.iter().filter_map(|a| a["title"].as_str()).collect();
    // Only the explanation, which edits nothing, is left.
    assert!(
        titles.iter().all(|t| t.starts_with("Explain")),
        "{titles:?}"
    );
}

#[test]
fn actions_refuse_to_edit_or_create_files_through_a_link_out_of_the_workspace() {
    let mut s = setup(capabilities(&["utf-16"]), false, |_, _| {});
    let linked = s.open("etc_link/passwd", CALC);
    let cases = [
        (
            "augur.tests",
            range((1, 4), (1, 4)),
            python("from passwd import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"),
        ),
        (
            "augur.fix",
            range((1, 11), (1, 16)),
            python("def add(a, b):\n    return a + b\n"),
        ),
        (
            "augur.document",
            range((1, 4), (1, 4)),
            openai_stream(&["Adds two numbers."]),
        ),
    ];
    for (action, range, answer) in cases {
        s.fake.set_default(answer);
        let result = s.execute(
            "augur.action",
            json!({"uri": linked, "range": range, "action": action, "version": 1,
                   "diagnostics": [{"range": range, "message": "add subtracts"}]}),
        );
        assert_eq!(result["status"], "failed", "{action}: {result}");
        let message = result["message"].as_str().unwrap();
        assert!(
            message.contains("outside the workspace folders"),
            "{action}: {message}"
        );
    }
    s.fake
        .set_default(python("def sub(a, b):\n    return b - a\n"));
    let result = s.execute(
        "augur.rewrite",
        json!({"uri": linked, "range": range((4, 0), (5, 16)), "instruction": "swap"}),
    );
    assert_eq!(result["status"], "failed", "{result}");
    // A code action made up by the client is refused at resolve.
    s.fake
        .set_default(openai_stream(&["Subtracts its arguments."]));
    let error = s
        .client
        .request(
            "codeAction/resolve",
            json!({"title": "Document `sub` with AI", "data": {"uri": linked, "version": 1,
                   "range": range((4, 4), (4, 4)), "action": "augur.document"}}),
        )
        .unwrap_err();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("outside the workspace folders"),
        "{error}"
    );
    assert!(s.apply_edits().is_empty(), "{:#?}", s.apply_edits());
    assert_eq!(s.fake.calls(), 0, "refused before asking the model");
    assert!(!s.outside.path().join("test_passwd.py").exists());
    assert_eq!(
        std::fs::read_to_string(s.outside.path().join("passwd")).unwrap(),
        CALC
    );
}

#[test]
fn generated_tests_do_not_go_into_a_tests_folder_that_leads_out() {
    // `tests/` is where python tests go; here it leads out of the workspace, and holds a test
    // file the model must not see either.
    let mut s = setup(capabilities(&["utf-16"]), false, |root, outside| {
        std::fs::write(
            outside.join("test_calc.py"),
            "OUTSIDE_TEST_FILE = 'not for the model'\n",
        )
        .unwrap();
        symlink(outside, root.join("tests")).unwrap();
    });
    s.fake.set_default(python(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    ));
    let uri = s.open("calc.py", CALC);
    let offered = s.code_actions(&uri, range((1, 4), (1, 4)), json!([]));
    let tests = offered
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap_or("")
                .starts_with("Generate tests")
        })
        .expect("tests are offered for a function inside the workspace")
        .clone();
    let error = s.client.request("codeAction/resolve", tests).unwrap_err();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("outside the workspace folders"),
        "{error}"
    );
    assert!(
        s.fake
            .requests()
            .iter()
            .all(|r| !r.body.to_string().contains("OUTSIDE_TEST_FILE")),
        "the test file behind the link reached the model"
    );
    assert!(s.apply_edits().is_empty());
}

/// What the outside folder holds: a function whose definition must never be searchable nor
/// reach a prompt.
const LEAKED: &str = "def leaked_outside_function():\n    return 'OUTSIDE_SECRET_BODY'\n";

#[test]
fn watched_file_events_saves_and_edits_through_the_link_are_not_indexed() {
    let mut s = setup(capabilities(&["utf-16"]), true, |_, outside| {
        std::fs::create_dir(outside.join("init.d")).unwrap();
        std::fs::write(outside.join("init.d/x.py"), LEAKED).unwrap();
        std::fs::write(
            outside.join("saved.py"),
            "def leaked_saved_function():\n    return 1\n",
        )
        .unwrap();
    });
    s.wait_indexed();
    assert!(
        !s.hit_names("leaked outside function")
            .contains(&"leaked_outside_function".to_owned()),
        "the first walk does not follow links"
    );
    // A watched-file event, a save and an edit of files behind the link, then one inside.
    let linked = s.path("etc_link/init.d/x.py");
    file_event(&mut s.client, &linked, 1);
    let link = s.path("etc_link");
    file_event(&mut s.client, &link, 2);
    let saved = uri(&s.path("etc_link/saved.py"));
    s.client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": saved}}),
    );
    let edited = s.open(
        "etc_link/edited.py",
        "def leaked_edited_function():\n    pass\n",
    );
    s.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": edited, "version": 2},
               "contentChanges": [{"text": "def leaked_edited_function():\n    return 2\n"}]}),
    );
    let marker = s.path("marker.py");
    std::fs::write(&marker, "def inside_marker_function():\n    return 3\n").unwrap();
    file_event(&mut s.client, &marker, 1);
    s.wait_for_name("inside marker function", "inside_marker_function");

    let app = "from init import leaked_outside_function\n\nvalue = leaked_outside_function()\n";
    std::fs::write(s.path("app.py"), app).unwrap();
    let app_uri = s.open("app.py", app);
    let prompt = s.completion_prompt(&app_uri, (3, 0));
    assert!(!prompt.contains("OUTSIDE_SECRET_BODY"), "{prompt}");
    for name in [
        "leaked_outside_function",
        "leaked_saved_function",
        "leaked_edited_function",
    ] {
        let hits = s.hit_names(&name.replace('_', " "));
        assert!(!hits.contains(&name.to_owned()), "{name} in {hits:?}");
    }
}

#[test]
fn the_servers_own_watcher_does_not_follow_a_link_out_of_the_workspace() {
    let mut caps = capabilities(&["utf-16"]);
    caps["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] = json!(false);
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("x.py"), LEAKED).unwrap();
    let mut s = setup(caps, true, |_, _| {});
    s.wait_indexed();
    // A link made while the server watches, then a file written behind it, then one inside.
    symlink(other.path(), s.path("new_link")).unwrap();
    std::fs::write(
        other.path().join("later.py"),
        "def leaked_later_function():\n    return 4\n",
    )
    .unwrap();
    std::fs::write(
        s.path("marker.py"),
        "def inside_marker_function():\n    return 3\n",
    )
    .unwrap();
    s.wait_for_name("inside marker function", "inside_marker_function");
    for name in ["leaked_outside_function", "leaked_later_function"] {
        let hits = s.hit_names(&name.replace('_', " "));
        assert!(!hits.contains(&name.to_owned()), "{name} in {hits:?}");
    }
}

#[test]
fn an_open_document_behind_the_link_gives_no_context_to_other_prompts() {
    let shared = "def scale_reading(reading):\n    return reading * {}\n";
    for index in [true, false] {
        let mut s = setup(capabilities(&["utf-16"]), index, |_, _| {});
        if index {
            s.wait_indexed();
        }
        s.open(
            "etc_link/readings.py",
            &format!("OUTSIDE_OPEN_MARKER = 1\n{}", shared.replace("{}", "7")),
        );
        s.open(
            "helpers.py",
            &format!("INSIDE_OPEN_MARKER = 1\n{}", shared.replace("{}", "3")),
        );
        let app = "reading = 2\nscaled = scale_reading(reading)\n";
        let app_uri = s.open("app.py", app);
        let prompt = s.completion_prompt(&app_uri, (2, 0));
        assert!(
            prompt.contains("INSIDE_OPEN_MARKER"),
            "index {index}: {prompt}"
        );
        assert!(
            !prompt.contains("OUTSIDE_OPEN_MARKER"),
            "index {index}: {prompt}"
        );
    }
}
