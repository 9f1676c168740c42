//! End to end with real parts: a real Emacs 28 with eglot (a client without inline completion)
//! gets augur's AI suggestion from a real llama.cpp server running a small real model as a
//! `textDocument/completion` item, and `completion-at-point` inserts it into the buffer.
//!
//! The shipped `editors/emacs/augur.el` is tested in the same real Emacs: its eglot registration
//! starts augur, `augur-rewrite` replaces the region with a (fake, scripted) model's rewrite
//! through `workspace/applyEdit`, and `augur-search` lists another file's symbol in *xref* and
//! visits it. It also byte-compiles without a warning.
//!
//! Needs `scripts/test-deps.sh` (Debian's `emacs-nox` and `elpa-eglot`, and the model server).

#[path = "llm_support/mod.rs"]
mod llm_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use augur::test_support::llama::LlamaServer;
use llm_support::{Fake, openai_stream};
use serde_json::Value;

const NO_EMACS: &str = "emacs runs: install emacs-nox and elpa-eglot (scripts/test-deps.sh)";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The user's configuration file of a project made by [`project`] (kept in its `.git` folder, so
/// the workspace's files stay the test's own).
fn user_file(root: &Path) -> PathBuf {
    root.join(".git/augur-user.toml")
}

/// A project for eglot (a `.git` folder marks its root) holding `files`, with `config` as the
/// user's configuration (where the model is may only come from there or the editor).
fn project(config: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join(".git")).unwrap();
    std::fs::write(user_file(root.path()), config).unwrap();
    for (name, text) in files {
        std::fs::write(root.path().join(name), text).unwrap();
    }
    root
}

/// Runs `tests/e2e/emacs_commands.el` with the shipped `augur.el` on `file`, for `command`, and
/// returns what it wrote.
fn run_command(root: &Path, file: &Path, command: &str, env: &[(&str, &str)]) -> Value {
    let cache = tempfile::tempdir().unwrap();
    let out = root.join("result.json");
    let script = manifest().join("tests/e2e/emacs_commands.el");
    let mut emacs = Command::new("emacs");
    emacs
        .args(["--batch", "-l"])
        .arg(&script)
        .env("AUGUR_EL", manifest().join("editors/emacs/augur.el"))
        .env("AUGUR_BIN", env!("CARGO_BIN_EXE_augur"))
        .env("AUGUR_E2E_FILE", file)
        .env("AUGUR_E2E_OUT", &out)
        .env("AUGUR_E2E_COMMAND", command)
        .env("AUGUR_CACHE_DIR", cache.path())
        .env("AUGUR_CONFIG", user_file(root))
        .env("HOME", root);
    for (name, value) in env {
        emacs.env(name, value);
    }
    let status = emacs.status().expect(NO_EMACS);
    assert!(status.success(), "emacs exited with {status}");
    let text = std::fs::read_to_string(&out).expect("a result file");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn emacs_eglot_inserts_augurs_completion_item_from_a_real_model() {
    let server = LlamaServer::start();
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // A project root for eglot, and the model for augur.
    std::fs::create_dir(root.path().join(".git")).unwrap();
    std::fs::write(
        user_file(root.path()),
        format!(
            "[models.default]\nbackend = \"openai\"\nurl = \"{}/v1\"\nmodel = \"SmolLM2-135M\"\n\
             max_tokens = 24\ntemperature = 0.0\n[index]\nenabled = false\n",
            server.url
        ),
    )
    .unwrap();
    let source = "# Adds two numbers.\ndef add(a, b):\n    ";
    let file = root.path().join("calc.py");
    std::fs::write(&file, source).unwrap();
    let out = root.path().join("result.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/emacs_completion.el");
    let status = Command::new("emacs")
        .args(["--batch", "-l"])
        .arg(&script)
        .env("AUGUR_BIN", env!("CARGO_BIN_EXE_augur"))
        .env("AUGUR_E2E_FILE", &file)
        .env("AUGUR_E2E_OUT", &out)
        .env("AUGUR_E2E_TYPE", "return a + b")
        .env("AUGUR_CACHE_DIR", cache.path())
        .env("AUGUR_CONFIG", user_file(root.path()))
        .env("HOME", root.path())
        .status()
        .expect(NO_EMACS);
    assert!(status.success(), "emacs exited with {status}");
    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("a result file")).unwrap();
    assert_eq!(result["connected"], true, "{result}");
    let candidates = result["candidates"].as_array().unwrap();
    assert_eq!(
        candidates.len(),
        1,
        "one AI item: {result}\nmodel log: {}",
        server.log_text()
    );
    let after = result["after"].as_str().unwrap();
    let label = candidates[0].as_str().unwrap().trim();
    assert!(!label.is_empty(), "{result}");
    assert!(after.len() > source.len(), "the buffer grew: {result}");
    assert!(after.contains(label), "the item was inserted: {result}");
}

const CALC: &str = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n";

#[test]
fn augur_rewrite_in_emacs_replaces_the_region_with_the_models_rewrite() {
    let (_runtime, fake) = Fake::start_in_background();
    // The model answers with the rewritten function in a fenced block, as chat models do,
    // streamed in small pieces.
    let reply = "Here it is:\n```python\ndef sub(a, b):\n    return b - a\n```\n";
    let pieces: Vec<String> = reply
        .as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    fake.set_default(openai_stream(&pieces));
    let root = project(
        &format!(
            "[models.default]\nbackend = \"openai\"\nurl = \"{}\"\nmodel = \"fake\"\n\
             retries = 0\n[llm.cache]\nenabled = false\n[index]\nenabled = false\n",
            fake.v1()
        ),
        &[("calc.py", CALC)],
    );
    let file = root.path().join("calc.py");
    let result = run_command(
        root.path(),
        &file,
        "rewrite",
        &[
            ("AUGUR_E2E_SELECT", "def sub(a, b):\n    return a - b"),
            ("AUGUR_E2E_INSTRUCTION", "swap the operands"),
        ],
    );
    assert!(result.get("error").is_none(), "{result}");
    assert_eq!(result["connected"], true, "{result}");
    assert_eq!(
        result["language_id"], "python",
        "augur.el registers python-mode under augur's language id: {result}"
    );
    assert_eq!(result["status"], "applied", "{result}");
    assert_eq!(
        result["after"],
        CALC.replace("return a - b", "return b - a"),
        "only the region changed: {result}"
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "one model request");
    let prompt = requests[0].body.to_string();
    assert!(prompt.contains("swap the operands"), "{prompt}");
    assert!(prompt.contains("return a - b"), "{prompt}");
}

#[test]
fn augur_search_in_emacs_lists_another_files_symbol_in_xref_and_visits_it() {
    let geometry =
        "import math\n\n\ndef circle_area(radius):\n    return math.pi * radius * radius\n";
    let root = project(
        "[models.default]\nbackend = \"openai\"\nurl = \"http://127.0.0.1:9/v1\"\nmodel = \"none\"\n",
        &[("main.py", "print('hello')\n"), ("geometry.py", geometry)],
    );
    let file = root.path().join("main.py");
    let result = run_command(
        root.path(),
        &file,
        "search",
        &[("AUGUR_E2E_QUERY", "circle_area")],
    );
    assert!(result.get("error").is_none(), "{result}");
    assert_eq!(result["connected"], true, "{result}");
    assert_eq!(result["index_ready"], true, "the index answered: {result}");
    assert!(result["hits"].as_u64().unwrap_or(0) >= 1, "{result}");
    let xref = result["xref"].as_str().unwrap_or_default();
    assert!(
        xref.contains("geometry.py") && xref.contains("function circle_area"),
        "the *xref* buffer lists the hit under its file: {xref:?}"
    );
    let visited = PathBuf::from(result["visited_file"].as_str().unwrap_or_default());
    assert_eq!(
        visited.file_name().and_then(|n| n.to_str()),
        Some("geometry.py"),
        "{result}"
    );
    assert_eq!(result["visited_line"], 4, "{result}");
    assert_eq!(
        result["visited_text"], "def circle_area(radius):",
        "{result}"
    );
    assert_eq!(
        result["empty_query_error"], "augur-search: say what to look for",
        "{result}"
    );
    let no_server = result["no_server_error"].as_str().unwrap_or_default();
    assert!(
        no_server.contains("eglot is not connected") && no_server.contains("M-x eglot"),
        "{result}"
    );
}

#[test]
fn augur_el_byte_compiles_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("augur.el");
    std::fs::copy(manifest().join("editors/emacs/augur.el"), &copy).unwrap();
    let output = Command::new("emacs")
        .args(["--batch", "--eval", "(setq byte-compile-error-on-warn t)"])
        .args(["-f", "batch-byte-compile"])
        .arg(&copy)
        .env("HOME", dir.path())
        .output()
        .expect(NO_EMACS);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(dir.path().join("augur.elc").is_file(), "{log}");
    assert!(!log.contains("Warning"), "{log}");
}
