//! End to end with real parts: a real Emacs 28 with eglot (a client without inline completion)
//! gets augur's AI suggestion from a real llama.cpp server running a small real model as a
//! `textDocument/completion` item, and `completion-at-point` inserts it into the buffer.
//!
//! Needs `scripts/test-deps.sh` (Debian's `emacs-nox` and `elpa-eglot`, and the model server).

use std::path::Path;
use std::process::Command;

use augur::test_support::llama::LlamaServer;
use serde_json::Value;

#[test]
fn emacs_eglot_inserts_augurs_completion_item_from_a_real_model() {
    let server = LlamaServer::start();
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // A project root for eglot, and the model for augur.
    std::fs::create_dir(root.path().join(".git")).unwrap();
    std::fs::write(
        root.path().join("augur.toml"),
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
        .env("AUGUR_CONFIG", "/nonexistent/augur-e2e.toml")
        .env("HOME", root.path())
        .status()
        .expect("emacs runs: install emacs-nox and elpa-eglot (scripts/test-deps.sh)");
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
