//! Test support shared by unit tests, integration tests and benchmarks: fixtures with a `$0`
//! cursor and `//- /path` files, a client that drives the real binary over stdio, and one that
//! drives the service in-process. Not part of augur's public interface.

pub mod fixture;
pub mod in_process;
pub mod llama;
pub mod stdio;

use serde_json::{Value, json};

/// Client capabilities of a capable editor offering the given position encodings.
pub fn capabilities(encodings: &[&str]) -> Value {
    json!({
        "general": { "positionEncodings": encodings },
        "window": { "workDoneProgress": true, "showDocument": { "support": true } },
        "workspace": {
            "applyEdit": true,
            "configuration": true,
            "workspaceFolders": true,
            "workspaceEdit": { "documentChanges": true, "resourceOperations": ["create"] },
            "didChangeWatchedFiles": { "dynamicRegistration": true }
        },
        "textDocument": {
            "synchronization": { "didSave": true },
            "completion": { "completionItem": { "snippetSupport": true } },
            "inlineCompletion": {},
            "codeAction": {
                "dataSupport": true,
                "resolveSupport": { "properties": ["edit"] },
                "codeActionLiteralSupport": { "codeActionKind": { "valueSet": ["quickfix", "refactor", "refactor.rewrite", "source"] } }
            }
        }
    })
}
