//! Test support shared by unit tests, integration tests and benchmarks: fixtures with a `$0`
//! cursor and `//- /path` files, a client that drives the real binary over stdio, and one that
//! drives the service in-process. Not part of augur's public interface.

pub mod fixture;
pub mod in_process;
pub mod llama;
pub mod redis_server;
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

/// Applies protocol text edits (`{range, newText}` with UTF-16 positions) to `text`, written
/// independently of augur's own position conversions so tests can check them. Panics if edits
/// overlap.
pub fn apply_lsp_edits(text: &str, edits: &[Value]) -> String {
    let offset = |pos: &Value| -> usize {
        let line = pos["line"].as_u64().unwrap_or(0) as usize;
        let character = pos["character"].as_u64().unwrap_or(0) as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= character || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let mut edits: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    edits.sort_by_key(|e| e.0);
    for pair in edits.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "overlapping edits: {edits:?}");
    }
    let mut out = text.to_owned();
    for (start, end, new) in edits.into_iter().rev() {
        out.replace_range(start..end, &new);
    }
    out
}
