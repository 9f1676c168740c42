//! Post-processing, table-driven: suffix overlap, block ends, single lines, markdown fences and
//! repeated context from chat models, indentation, line endings, empty results, and the streaming
//! form stopping as early as it can.

use augur::completion::postprocess::{
    PostContext, PostProcessor, adds_syntax_errors, auto_multiline, process,
};
use augur::syntax::Language;
use augur::test_support::fixture::Fixture;

struct Case {
    name: &'static str,
    /// A fixture with `$0` at the cursor.
    document: &'static str,
    multiline: bool,
    chat: bool,
    raw: &'static str,
    expected: &'static str,
}

fn context(document: &str, multiline: bool, chat: bool) -> PostContext {
    let fixture = Fixture::parse(document);
    let (file, cursor) = fixture.cursor.unwrap();
    let text = &fixture.files[file].text;
    let mut context = PostContext::new(&text[..cursor], &text[cursor..], multiline);
    context.chat = chat;
    context
}

const CASES: &[Case] = &[
    Case {
        name: "a body stops at the suffix's closing brace",
        document: "fn add(a: i32, b: i32) -> i32 {\n    $0\n}\n",
        multiline: true,
        chat: false,
        raw: "a + b\n}\n\nfn main() {}\n",
        expected: "a + b",
    },
    Case {
        name: "a block opened at the cursor ends with its closer",
        document: "fn main() {$0\n",
        multiline: true,
        chat: false,
        raw: "\n    println!(\"hi\");\n}\n\nfn other() {}\n",
        expected: "\n    println!(\"hi\");\n}",
    },
    Case {
        name: "python: the block ends when the indentation goes back",
        document: "def area(w, h):$0\n\nprint(area(2, 3))\n",
        multiline: true,
        chat: false,
        raw: "\n    return w * h\n\ndef other():\n    pass\n",
        expected: "\n    return w * h",
    },
    Case {
        name: "lines repeating the suffix are cut",
        document: "fn f() {\n    let a = 1;\n    $0\n    let c = 3;\n}\n",
        multiline: true,
        chat: false,
        raw: "let b = 2;\n    let c = 3;\n}\n",
        expected: "let b = 2;",
    },
    Case {
        name: "single line in the middle of a line, repeated tail dropped",
        document: "let v = compute($0);\n",
        multiline: false,
        chat: false,
        raw: "a, b);\nlet w = 2;",
        expected: "a, b",
    },
    Case {
        name: "single line continues while its brackets are open",
        document: "let v = $0\n",
        multiline: false,
        chat: false,
        raw: "vec![\n    1,\n    2,\n];\nlet w = 3;\n",
        expected: "vec![\n    1,\n    2,\n];",
    },
    Case {
        name: "trailing whitespace is stripped on every line",
        document: "fn f() {\n    $0\n}\n",
        multiline: true,
        chat: false,
        raw: "let x = 1;   \n    let y = 2;\t\n\n\n",
        expected: "let x = 1;\n    let y = 2;",
    },
    Case {
        name: "a stray space at the indentation is dropped, a whole indent level kept",
        document: "fn f() {\n    if x {\n        y();\n    }\n    $0\n}\n",
        multiline: true,
        chat: false,
        raw: " z();\n",
        expected: "z();",
    },
    Case {
        name: "an empty or blank suggestion is dropped",
        document: "x = $0\n",
        multiline: false,
        chat: false,
        raw: "   \n",
        expected: "",
    },
    Case {
        name: "spaces become tabs in a tab-indented document",
        document: "fn f() {\n\tif x {$0\n\t}\n}\n",
        multiline: true,
        chat: false,
        raw: "\n        y();\n\t}\n",
        expected: "\n\t\ty();",
    },
    Case {
        name: "tabs become spaces in a space-indented document",
        document: "def f():\n    if x:$0\n",
        multiline: true,
        chat: false,
        raw: "\n\t\treturn 1\n",
        expected: "\n        return 1",
    },
    Case {
        name: "chat: fences removed and the repeated line dropped",
        document: "fn add(a: i32, b: i32) -> i32 {\n    let sum = $0\n}\n",
        multiline: true,
        chat: true,
        raw: "Here you go:\n```rust\n    let sum = a + b;\n```\nThis adds the numbers.",
        expected: "a + b;",
    },
    Case {
        name: "chat: a cursor marker echoed back is removed",
        document: "x = $0\n",
        multiline: false,
        chat: true,
        raw: "<CURSOR>42",
        expected: "42",
    },
];

#[test]
fn post_processing_table() {
    let mut failures = Vec::new();
    for case in CASES {
        let context = context(case.document, case.multiline, case.chat);
        let (got, _) = process(&context, case.raw, true);
        if got != case.expected {
            failures.push(format!(
                "{}:\n  expected {:?}\n  got      {:?}",
                case.name, case.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn crlf_documents_get_crlf_suggestions() {
    let context = PostContext::new("fn main() {\r\n    let a = 1;\r\n    ", "\r\n}\r\n", true);
    assert!(context.crlf);
    let (got, _) = process(&context, "let b = 2;\n    let c = 3;\n}\n", true);
    assert_eq!(got, "let b = 2;\r\n    let c = 3;");
}

#[test]
fn streaming_stops_as_soon_as_the_suggestion_is_known_complete() {
    let context = context("fn add(a: i32, b: i32) -> i32 {\n    $0\n}\n", true, false);
    let mut post = PostProcessor::new(context);
    let pieces = ["a ", "+ b", "\n", "}", "\n", "\nfn main() {}"];
    let mut stopped_at = None;
    for (i, piece) in pieces.iter().enumerate() {
        if post.push(piece) {
            stopped_at = Some(i);
            break;
        }
    }
    assert_eq!(
        stopped_at,
        Some(4),
        "complete once the closing line is whole"
    );
    assert_eq!(post.finish(), "a + b");

    // One line: complete at the first line break with balanced brackets.
    let mut single = PostProcessor::new(self::context("let v = $0\n", false, false));
    assert!(!single.push("foo("));
    assert!(!single.push("1,\n"));
    assert!(single.push("2);\nlet w"));
    assert_eq!(single.finish(), "foo(1,\n2);");
}

#[test]
fn the_syntax_at_the_cursor_decides_multiline() {
    let rust = Some(Language::Rust);
    assert!(auto_multiline(rust, "fn main() {\n    ", "\n}\n"));
    assert!(auto_multiline(rust, "fn main() {", "\n}\n"));
    assert!(
        !auto_multiline(rust, "let v = compute(", "a);\n"),
        "text after the cursor"
    );
    assert!(
        auto_multiline(rust, "let v = compute(", ");\n"),
        "only closers after the cursor"
    );
    assert!(!auto_multiline(rust, "// a comment ", "\nfn main() {}\n"));
    assert!(!auto_multiline(rust, "let s = \"abc ", "\";\n"));
    assert!(!auto_multiline(
        Some(Language::Python),
        "def f():\n    \"\"\"Docs\n    ",
        "\n    \"\"\"\n"
    ));
    assert!(auto_multiline(None, "anything {", "\n"));
    assert!(
        !auto_multiline(None, "anything ", "\n"),
        "code on the line before the cursor: the line is what is being written"
    );
    let python = Some(Language::Python);
    assert!(!auto_multiline(python, "        ret.msg = self", "\n"));
    assert!(auto_multiline(python, "    for c in text:", "\n"));
    assert!(auto_multiline(python, "        ", "\n"));
}

#[test]
fn syntax_error_check() {
    let rust = Some(Language::Rust);
    assert!(!adds_syntax_errors(
        rust,
        "fn f() {\n    ",
        "let x = 1;\n    x + 1",
        "\n}\n"
    ));
    assert!(adds_syntax_errors(
        rust,
        "fn f() {\n    ",
        "let x = (1;\n    }}",
        "\n}\n"
    ));
    assert!(!adds_syntax_errors(None, "a", "((", "b"));
}

#[test]
fn a_suggestion_containing_the_rest_of_the_line_replaces_it() {
    use augur::completion::postprocess::replaced_rest;
    let at_call = context("let v = compute($0);\n", false, false);
    assert_eq!(replaced_rest(&at_call, "a, b);"), 2);
    assert_eq!(replaced_rest(&at_call, "a, b"), 0);
    assert_eq!(replaced_rest(&at_call, "a\nb);"), 0);
    let end_of_line = context("let v = $0\n", false, false);
    assert_eq!(replaced_rest(&end_of_line, "1;"), 0);
}
