//! End to end with real parts: augur over stdio asks a real llama.cpp server running a small real
//! model (SmolLM2-135M) for an AI code action. The action is offered instantly, runs in
//! `codeAction/resolve` with progress, and its edit applies cleanly and leaves the file parsing.
//!
//! Needs `scripts/local-model.sh install` (run by `scripts/test-deps.sh`), or `AUGUR_LLAMA_URL`.

#[path = "server_support/mod.rs"]
mod server_support;

use augur::test_support::llama::LlamaServer;
use augur::test_support::{apply_lsp_edits, capabilities};
use serde_json::json;
use server_support::{spawn_with_cache, workspace_params};

const SOURCE: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";

#[test]
fn a_real_model_documents_a_function_through_resolve() {
    let server = LlamaServer::start();
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("lib.rs");
    std::fs::write(&file, SOURCE).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut client = spawn_with_cache(cache.path(), &[]);
    client.timeout = std::time::Duration::from_secs(120);
    client.initialize(
        capabilities(&["utf-16"]),
        workspace_params(
            root.path(),
            json!({
                "models": {"default": {"backend": "openai", "url": format!("{}/v1", server.url),
                           "model": "SmolLM2-135M", "retries": 0,
                           "first_token_timeout_ms": 60000, "total_timeout_ms": 120000}},
                "actions": {"max_tokens": 64, "temperature": 0.0},
                "index": {"enabled": false},
            }),
        ),
    );
    let uri = format!("file://{}", file.display());
    client.open(&uri, "rust", 1, SOURCE);
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri},
                   "range": {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 4}},
                   "context": {"diagnostics": []}}),
        )
        .unwrap();
    let document = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["data"]["action"] == "augur.document")
        .unwrap_or_else(|| panic!("no document action in {actions}"))
        .clone();
    let resolved = client
        .request("codeAction/resolve", document)
        .unwrap_or_else(|e| panic!("resolve failed: {e}\nmodel log: {}", server.log_text()));
    let change = &resolved["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["version"], 1, "{resolved}");
    let edits = change["edits"].as_array().unwrap();
    assert!(!edits.is_empty(), "{resolved}");
    let after = apply_lsp_edits(SOURCE, edits);
    // A doc comment was added above the function, which is otherwise untouched.
    assert!(after.ends_with(SOURCE), "{after}");
    let added = &after[..after.len() - SOURCE.len()];
    assert!(
        added.lines().all(|l| l.trim_start().starts_with("///")),
        "{added}"
    );
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_rust::LANGUAGE.into())
        .unwrap();
    let tree = parser.parse(&after, None).unwrap();
    assert!(!tree.root_node().has_error(), "{after}");
    // Progress was reported while the model worked.
    assert!(
        client
            .notifications
            .iter()
            .any(|n| n["method"] == "$/progress" && n["params"]["value"]["kind"] == "begin"),
        "no progress"
    );
}
