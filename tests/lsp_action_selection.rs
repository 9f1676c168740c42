//! AI code actions through the protocol, over stdio, for a selection made linewise (from column 0
//! of a function's first line to column 0 of the line after it, as editors select whole lines):
//! the catalogue offers the actions of the function it holds, not only those of a selection.

#[path = "server_support/mod.rs"]
mod server_support;

use augur::test_support::capabilities;
use serde_json::{Value, json};
use server_support::{file_uri, range, spawn_in};

const CALC: &str = "import math\n\n\ndef f100(x):\n    return x + 100\n\n\nclass C:\n    def f101(self, x):\n        return math.floor(x) + 101\n\n    def f102(self):\n        pass\n";

#[test]
fn a_linewise_selection_offers_the_actions_of_the_function_it_holds() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("calc.py"), CALC).unwrap();
    let (mut client, _cache) = spawn_in(
        root.path(),
        capabilities(&["utf-16"]),
        json!({"index": {"enabled": false}}),
        &[],
    );
    let uri = file_uri(&root.path().join("calc.py"));
    client.open(&uri, "python", 1, CALC);
    let mut titles = |range: Value| -> Vec<String> {
        let actions = client
            .request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uri}, "range": range,
                       "context": {"diagnostics": []}}),
            )
            .unwrap();
        actions
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    // `def f100` (lines 3-4) through column 0 of the blank line after it.
    assert_eq!(
        titles(range((3, 0), (5, 0))),
        [
            "Document `f100` with AI",
            "Rewrite selection with AI…",
            "Generate tests for `f100` with AI",
            "Explain selection with AI",
        ]
    );
    // The method `f101` (lines 8-9), from column 0, before its indentation.
    assert_eq!(
        titles(range((8, 0), (10, 0))),
        [
            "Document `f101` with AI",
            "Rewrite selection with AI…",
            "Generate tests for `f101` with AI",
            "Explain selection with AI",
        ]
    );
    // Two functions selected linewise hold neither: only what applies to any selection.
    assert_eq!(
        titles(range((8, 0), (13, 0))),
        [
            "Document `C` with AI",
            "Rewrite selection with AI…",
            "Explain selection with AI",
        ]
    );
    client.shutdown_and_exit();
}
