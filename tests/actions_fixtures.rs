//! AI code actions end to end against a scripted fake model on 127.0.0.1: each action's edits as
//! snapshots, the syntax check with its single retry, the workspace guard, progress and
//! cancellation, and the instant catalogue.

mod actions_support;
#[path = "llm_support/mod.rs"]
mod llm_support;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use actions_support::{check, diagnostic, fake_with, prompt_of, workspace};
use augur::actions::{
    ActionContext, ActionError, ActionId, ActionOutcome, ActionProgress, ActionRequest,
    ActionsConfig, CustomAction, CustomOutput, EditorDiagnostic, NoActionProgress,
    available_actions, run_action,
};
use augur::edits::PlanError;
use augur::llm::LlmClient;
use expect_test::expect;
use llm_support::{Fake, client, model, openai_stream};

const RUST_ADD: &str = r#"
//- /src/lib.rs
/// Keeps totals.
pub struct Totals(i64);

#[inline]
pub fn add(a: i64, b: i64) -> i64 {
    let sum = a - b;$0
    sum as i32
}

pub fn twice(x: i64) -> i64 {
    add(x, x)
}
"#;

#[tokio::test]
async fn fix_replaces_only_what_changed_in_the_enclosing_function() {
    let ws = workspace(RUST_ADD);
    let diags = vec![diagnostic(
        &ws.text,
        "sum as i32",
        "mismatched types: expected `i64`, found `i32`",
    )];
    let request = ws.request_with(ActionId::Fix, None, diags, ActionsConfig::default());
    let reply = "Sure! Here is the corrected function:\n\n```rust\npub fn add(a: i64, b: i64) -> i64 {\n    let sum = a + b;\n    sum\n}\n```\nThe cast was wrong.";
    let fake = check(
        &ws,
        request,
        &[reply],
        expect![[r#"
            edit "Fix with AI"
            edit src/lib.rs at version Some(7)
              105..106 -> "+"
              117..124 -> ""
            after:
            /// Keeps totals.
            pub struct Totals(i64);

            #[inline]
            pub fn add(a: i64, b: i64) -> i64 {
                let sum = a + b;
                sum
            }

            pub fn twice(x: i64) -> i64 {
                add(x, x)
            }
        "#]],
    )
    .await;
    let prompt = prompt_of(&fake, 0);
    assert!(
        prompt.contains("line 7: error[E0308]: mismatched types"),
        "{prompt}"
    );
    assert!(
        prompt.contains("pub fn add(a: i64, b: i64) -> i64 {"),
        "{prompt}"
    );
    assert!(
        !prompt.contains("pub fn twice"),
        "only the enclosing function is sent: {prompt}"
    );
}

#[tokio::test]
async fn a_body_only_fix_keeps_the_signature() {
    let ws = workspace(RUST_ADD);
    let diags = vec![diagnostic(&ws.text, "sum as i32", "mismatched types")];
    let request = ws.request_with(ActionId::Fix, None, diags, ActionsConfig::default());
    check(
        &ws,
        request,
        &["```rust\nlet sum = a + b;\nsum\n```"],
        expect![[r#"
            edit "Fix with AI"
            edit src/lib.rs at version Some(7)
              105..106 -> "+"
              117..124 -> ""
            after:
            /// Keeps totals.
            pub struct Totals(i64);

            #[inline]
            pub fn add(a: i64, b: i64) -> i64 {
                let sum = a + b;
                sum
            }

            pub fn twice(x: i64) -> i64 {
                add(x, x)
            }
        "#]],
    )
    .await;
}

#[tokio::test]
async fn rustdoc_goes_above_the_attributes() {
    let ws = workspace(RUST_ADD);
    check(
        &ws,
        ws.request(ActionId::Document, None),
        &["```rust\n/// Adds `b` to `a`.\n///\n/// # Examples\n/// ```\n/// assert_eq!(add(1, 2), 3);\n/// ```\n```"],
        expect![[r#"
            edit "Document `add` with AI"
            edit src/lib.rs at version Some(7)
              43..43 -> "/// Adds `b` to `a`.\n///\n/// # Examples\n/// ```\n/// assert_eq!(add(1, 2), 3);\n/// ```\n"
            after:
            /// Keeps totals.
            pub struct Totals(i64);

            /// Adds `b` to `a`.
            ///
            /// # Examples
            /// ```
            /// assert_eq!(add(1, 2), 3);
            /// ```
            #[inline]
            pub fn add(a: i64, b: i64) -> i64 {
                let sum = a - b;
                sum as i32
            }

            pub fn twice(x: i64) -> i64 {
                add(x, x)
            }
        "#]],
    )
    .await;
}

#[tokio::test]
async fn a_python_docstring_from_plain_prose_becomes_the_first_statement() {
    let ws = workspace(
        "//- /pkg/calc.py\nclass Calc:\n    def add(self, a, b):\n        return a +$0 b\n",
    );
    check(
        &ws,
        ws.request(ActionId::Document, None),
        &["Return the sum of a and b."],
        expect![[r#"
            edit "Document `add` with AI"
            edit pkg/calc.py at version Some(7)
              37..37 -> "        \"\"\"Return the sum of a and b.\"\"\"\n"
            after:
            class Calc:
                def add(self, a, b):
                    """Return the sum of a and b."""
                    return a + b
        "#]],
    )
    .await;
}

#[tokio::test]
async fn an_existing_jsdoc_is_replaced() {
    let ws = workspace(
        "//- /src/add.ts\n/**\n * Old.\n */\nexport function add(a: number, b: number): number {\n  return a $0+ b;\n}\n",
    );
    check(
        &ws,
        ws.request(ActionId::Document, None),
        &["/**\n * Adds two numbers.\n * @param a The first.\n * @param b The second.\n * @returns The sum.\n */"],
        expect![[r#"
            edit "Document `add` with AI"
            edit src/add.ts at version Some(7)
              7..10 -> "Adds two numbers.\n * @param a The first.\n * @param b The second.\n * @returns The sum"
            after:
            /**
             * Adds two numbers.
             * @param a The first.
             * @param b The second.
             * @returns The sum.
             */
            export function add(a: number, b: number): number {
              return a + b;
            }
        "#]],
    )
    .await;
}

#[tokio::test]
async fn rewrite_replaces_the_selection_with_the_instruction_in_the_prompt() {
    let ws = workspace(
        "//- /src/sum.js\nfunction sum(xs) {\n  $0return xs.reduce((a, b) => a + b, 0);$1\n}\n",
    );
    let fake = check(
        &ws,
        ws.request(ActionId::Rewrite, Some("use a for-of loop")),
        &["```js\nlet total = 0;\nfor (const x of xs) {\n  total += x;\n}\nreturn total;\n```"],
        expect![[r#"
            edit "Rewrite with AI"
            edit src/sum.js at version Some(7)
              21..57 -> "let total = 0;\n  for (const x of xs) {\n    total += x;\n  }\n  return total"
            after:
            function sum(xs) {
              let total = 0;
              for (const x of xs) {
                total += x;
              }
              return total;
            }
        "#]],
    )
    .await;
    assert!(prompt_of(&fake, 0).contains("use a for-of loop"));
}

#[tokio::test]
async fn rewrite_without_an_instruction_is_refused_before_any_call() {
    let ws = workspace("//- /a.go\npackage a\n\nfunc A() int {\n\treturn $01\n}\n");
    let (fake, llm) = fake_with(&[]).await;
    let error = run_action(
        &llm,
        ws.request(ActionId::Rewrite, Some("  ")),
        &NoActionProgress,
    )
    .await
    .unwrap_err();
    assert!(matches!(error, ActionError::MissingInstruction), "{error}");
    assert_eq!(fake.calls(), 0);
}

#[tokio::test]
async fn rust_tests_are_appended_as_a_test_module() {
    let ws = workspace(RUST_ADD);
    check(
        &ws,
        ws.request(ActionId::GenerateTests, None),
        &["```rust\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn adds() {\n        assert_eq!(add(2, 3), 5);\n    }\n}\n```"],
        expect![[r#"
            edit "Generate tests for `add` with AI"
            edit src/lib.rs at version Some(7)
              174..174 -> "\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn adds() {\n        assert_eq!(add(2, 3), 5);\n    }\n}\n"
            after:
            /// Keeps totals.
            pub struct Totals(i64);

            #[inline]
            pub fn add(a: i64, b: i64) -> i64 {
                let sum = a - b;
                sum as i32
            }

            pub fn twice(x: i64) -> i64 {
                add(x, x)
            }

            #[cfg(test)]
            mod tests {
                use super::*;

                #[test]
                fn adds() {
                    assert_eq!(add(2, 3), 5);
                }
            }
        "#]],
    )
    .await;
}

#[tokio::test]
async fn rust_tests_go_into_an_existing_test_module() {
    let ws = workspace(
        "//- /src/lib.rs\npub fn neg(x: i64) -> i64 {\n    -$0x\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn old() {}\n}\n",
    );
    check(
        &ws,
        ws.request(ActionId::GenerateTests, None),
        &["```rust\n#[test]\nfn negates() {\n    assert_eq!(neg(2), -2);\n}\n```"],
        expect![[r#"
            edit "Generate tests for `neg` with AI"
            edit src/lib.rs at version Some(7)
              110..110 -> "\n    #[test]\n    fn negates() {\n        assert_eq!(neg(2), -2);\n    }\n"
            after:
            pub fn neg(x: i64) -> i64 {
                -x
            }

            #[cfg(test)]
            mod tests {
                use super::*;

                #[test]
                fn old() {}

                #[test]
                fn negates() {
                    assert_eq!(neg(2), -2);
                }
            }
        "#]],
    )
    .await;
}

#[tokio::test]
async fn python_tests_create_a_file_in_the_tests_folder() {
    let ws =
        workspace("//- /tests/__init__.py\n//- /pkg/calc.py\ndef add(a, b):\n    return a $0+ b\n");
    check(
        &ws,
        ws.request(ActionId::GenerateTests, None),
        &["```python\nfrom pkg.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n```"],
        expect![[r#"
            edit "Generate tests for `add` with AI"
            create tests/test_calc.py
            from pkg.calc import add


            def test_add():
                assert add(1, 2) == 3
        "#]],
    )
    .await;
}

#[tokio::test]
async fn go_tests_are_appended_to_the_existing_test_file() {
    let ws = workspace(
        "//- /m/math.go\npackage m\n\nfunc Double(x int) int {\n\treturn $02 * x\n}\n//- /m/math_test.go\npackage m\n\nimport \"testing\"\n",
    );
    check(
        &ws,
        ws.request(ActionId::GenerateTests, None),
        &["```go\nfunc TestDouble(t *testing.T) {\n\tif Double(2) != 4 {\n\t\tt.Fatal(\"Double(2) != 4\")\n\t}\n}\n```"],
        expect![[r#"
            edit "Generate tests for `Double` with AI"
            edit m/math_test.go at version None
              28..28 -> "\nfunc TestDouble(t *testing.T) {\n\tif Double(2) != 4 {\n\t\tt.Fatal(\"Double(2) != 4\")\n\t}\n}\n"
            after:
            package m

            import "testing"

            func TestDouble(t *testing.T) {
            	if Double(2) != 4 {
            		t.Fatal("Double(2) != 4")
            	}
            }
        "#]],
    )
    .await;
}

#[tokio::test]
async fn explain_returns_markdown_and_no_edit() {
    let ws = workspace(RUST_ADD);
    check(
        &ws,
        ws.request(ActionId::Explain, None),
        &["<think>easy</think>\n`add` subtracts, despite its name.\n"],
        expect![[r#"
            markdown "Explanation of `add`"
            `add` subtracts, despite its name.
        "#]],
    )
    .await;
}

#[tokio::test]
async fn a_custom_action_expands_its_template() {
    let ws = workspace("//- /a.py\ndef f(xs):\n    $0return [x*2 for x in xs]$1\n");
    let config = ActionsConfig {
        custom: vec![CustomAction {
            id: "typed".into(),
            title: "Add type hints with AI".into(),
            prompt:
                "Add type hints to this {language} code from {file} ({instruction}):\n{selection}"
                    .into(),
            languages: vec!["python".into()],
            needs_selection: true,
            ..CustomAction::default()
        }],
        ..ActionsConfig::default()
    };
    let request = ws.request_with(
        ActionId::Custom("typed".into()),
        Some("be strict"),
        Vec::new(),
        config,
    );
    let fake = check(
        &ws,
        request,
        &["```python\nreturn [int(x) * 2 for x in xs]\n```"],
        expect![[r#"
            edit "Add type hints with AI"
            edit a.py at version Some(7)
              23..25 -> "int(x) * "
            after:
            def f(xs):
                return [int(x) * 2 for x in xs]
        "#]],
    )
    .await;
    let prompt = prompt_of(&fake, 0);
    assert!(
        prompt.contains(
            "Add type hints to this python code from a.py (be strict):\nreturn [x*2 for x in xs]"
        ),
        "{prompt}"
    );
}

#[tokio::test]
async fn an_edit_that_does_not_parse_is_retried_once_then_refused() {
    let ws = workspace(RUST_ADD);
    let diags = vec![diagnostic(&ws.text, "sum as i32", "mismatched types")];
    let request = ws.request_with(ActionId::Fix, None, diags, ActionsConfig::default());
    let broken = "```rust\npub fn add(a: i64, b: i64) -> i64 {\n    let sum = a + b;\n    sum\n```";
    let (fake, llm) = fake_with(&[broken, broken]).await;
    let error = run_action(&llm, request, &NoActionProgress)
        .await
        .unwrap_err();
    assert_eq!(fake.calls(), 2);
    let ActionError::DidNotParse(regression) = &error else {
        panic!("expected a parse refusal, got {error}");
    };
    assert!(regression.after > regression.before);
    assert!(
        error
            .to_string()
            .starts_with("the model's edit did not parse: line "),
        "{error}"
    );
    let retry = prompt_of(&fake, 1);
    assert!(
        retry.contains("Your previous answer was refused because the file no longer parsed"),
        "{retry}"
    );
}

#[tokio::test]
async fn a_second_answer_that_parses_is_accepted() {
    let ws = workspace(RUST_ADD);
    let diags = vec![diagnostic(&ws.text, "sum as i32", "mismatched types")];
    let request = ws.request_with(ActionId::Fix, None, diags, ActionsConfig::default());
    let broken = "```rust\npub fn add(a: i64, b: i64) -> i64 {\n    let sum = a + b;\n```";
    let good = "```rust\npub fn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n```";
    let (fake, llm) = fake_with(&[broken, good]).await;
    let outcome = run_action(&llm, request, &NoActionProgress).await.unwrap();
    assert_eq!(fake.calls(), 2);
    assert!(matches!(outcome, ActionOutcome::Edit { .. }));
}

#[tokio::test]
async fn an_edit_outside_the_workspace_is_refused() {
    let ws = workspace(RUST_ADD);
    let mut request = ws.request(ActionId::Document, None);
    request.roots = vec![PathBuf::from("/somewhere/else")];
    let (_fake, llm) = fake_with(&["/// Adds.\n"]).await;
    let error = run_action(&llm, request, &NoActionProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ActionError::Plan(PlanError::OutsideWorkspace { .. })),
        "{error}"
    );
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl ActionProgress for Recorder {
    fn begin(&self, title: &str) {
        self.0.lock().unwrap().push(format!("begin {title}"));
    }
    fn tokens(&self, tokens: usize) {
        self.0.lock().unwrap().push(format!("tokens {tokens}"));
    }
    fn retrying(&self, _reason: &str) {
        self.0.lock().unwrap().push("retrying".into());
    }
    fn end(&self, message: &str) {
        self.0.lock().unwrap().push(format!("end {message}"));
    }
}

#[tokio::test]
async fn progress_reports_begin_streamed_tokens_and_end() {
    let ws = workspace(RUST_ADD);
    let (_fake, llm) = fake_with(&["```rust\n/// Adds.\n```\n"]).await;
    let recorder = Recorder::default();
    run_action(&llm, ws.request(ActionId::Document, None), &recorder)
        .await
        .unwrap();
    let events = recorder.0.lock().unwrap().join("\n");
    expect![[r#"
        begin Document `add` with AI
        tokens 1
        tokens 2
        tokens 3
        end done"#]]
    .assert_eq(&events);
}

#[tokio::test]
async fn dropping_the_action_cancels_the_model_call() {
    let ws = workspace(RUST_ADD);
    let fake = Fake::start().await;
    fake.push(
        openai_stream(&[
            "```rust\n",
            "/// a\n",
            "/// b\n",
            "/// c\n",
            "/// d\n",
            "```\n",
        ])
        .paced(Duration::from_millis(300)),
    );
    let llm = client(model("openai", &format!("{}/v1", fake.url)));
    let run = run_action(
        &llm,
        ws.request(ActionId::Document, None),
        &NoActionProgress,
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(400), run)
            .await
            .is_err()
    );
    assert!(fake.wait_dropped(1, Duration::from_secs(5)).await);
}

#[test]
fn the_catalogue_is_instant_and_depends_on_the_place() {
    let ws = workspace(RUST_ADD);
    let titles = |ctx: &ActionContext, config: &ActionsConfig| {
        available_actions(ctx, config)
            .into_iter()
            .map(|o| format!("{} [{}] {}", o.id.as_string(), o.kind.as_str(), o.title))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let config = ActionsConfig {
        disabled: vec!["explain".into()],
        custom: vec![
            CustomAction {
                id: "review".into(),
                title: "Review with AI".into(),
                prompt: "Review {selection}".into(),
                output: CustomOutput::Markdown,
                ..CustomAction::default()
            },
            CustomAction {
                id: "py-only".into(),
                title: "Python only".into(),
                languages: vec!["python".into()],
                ..CustomAction::default()
            },
        ],
        ..ActionsConfig::default()
    };
    let diags = vec![diagnostic(&ws.text, "sum as i32", "mismatched types")];
    expect![[r#"
        augur.fix [quickfix] Fix with AI: mismatched types
        augur.document [source] Document `add` with AI
        augur.tests [source] Generate tests for `add` with AI
        augur.custom.review [refactor.rewrite] Review with AI"#]]
    .assert_eq(&titles(&ws.context(diags), &config));
    let mut outside = ws.context(Vec::new());
    outside.range = 0..0;
    expect![[r#""#]].assert_eq(&titles(&outside, &ActionsConfig::default()));
    let off = ActionsConfig {
        enabled: false,
        ..ActionsConfig::default()
    };
    assert!(available_actions(&ws.context(Vec::new()), &off).is_empty());
}

/// A selection made linewise, as editors do (from column 0 of the first line to column 0 of the
/// line after the last), holds the function it covers: the catalogue offers its actions, and the
/// actions that need a symbol find it when they run.
#[test]
fn a_linewise_selection_holds_the_symbol_it_covers() {
    let cases = [
        // A top-level Python function, with the next function right after it.
        "//- /calc.py\n$0def f100(x):\n    return x + 100\n$1def f101(x):\n    return x + 101\n",
        // The same with a blank line after it, and at the end of the file.
        "//- /calc.py\n$0def f100(x):\n    return x + 100\n$1\ndef f101(x):\n    return x + 101\n",
        "//- /calc.py\nimport os\n\n$0def f100(x):\n    return x + 100\n$1",
        // An indented method: column 0 is before its indentation.
        "//- /calc.py\nclass C:\n$0    def f100(self, x):\n        return x + 100\n$1\n    def f101(self):\n        pass\n",
        // Rust, a method in an `impl` block.
        "//- /src/lib.rs\nstruct S;\n\nimpl S {\n$0    fn f100(&self, x: i64) -> i64 {\n        x + 100\n    }\n$1}\n",
        "//- /src/lib.rs\n$0fn f100(x: i64) -> i64 {\n    x + 100\n}\n$1fn f101() {}\n",
    ];
    for fixture in cases {
        let ws = workspace(fixture);
        let ctx = ws.context(Vec::new());
        assert_eq!(
            ws.text.as_bytes()[ctx.range.end - 1],
            b'\n',
            "the selection ends at column 0: {fixture}"
        );
        let titles: Vec<String> = available_actions(&ctx, &ActionsConfig::default())
            .into_iter()
            .map(|o| o.title)
            .collect();
        assert_eq!(
            titles,
            [
                "Document `f100` with AI",
                "Rewrite selection with AI…",
                "Generate tests for `f100` with AI",
                "Explain selection with AI",
            ],
            "{fixture}"
        );
        let symbol = ctx.enclosing_symbol(&augur::syntax::SymbolKind::ALL);
        assert_eq!(symbol.map(|s| s.name), Some("f100".to_owned()), "{fixture}");
    }
}

#[tokio::test]
async fn the_prompt_carries_definitions_from_the_workspace_index() {
    let ws = workspace(
        "//- /src/geometry.rs\n/// The area of a rectangle.\npub fn area(width: f64, height: f64) -> f64 {\n    width * height\n}\n//- /src/lib.rs\nmod geometry;\n\npub fn floor_size(w: f64) -> f64 {\n    geometry::area(w)$0\n}\n",
    );
    let cache = tempfile::tempdir().unwrap();
    let index = augur::index::WorkspaceIndex::open_in(
        &ws.root(),
        &cache.path().join("index"),
        &augur::index::IndexConfig::default(),
    )
    .unwrap();
    index
        .build(
            &augur::index::NoProgress,
            &tokio_util::sync::CancellationToken::new(),
        )
        .unwrap();
    let diags = vec![diagnostic(
        &ws.text,
        "geometry::area(w)",
        "this function takes 2 arguments but 1 argument was supplied",
    )];
    let mut request = ws.request_with(ActionId::Fix, None, diags, ActionsConfig::default());
    request.index = Some(std::sync::Arc::new(index));
    let (fake, llm) = fake_with(&[
        "```rust\npub fn floor_size(w: f64) -> f64 {\n    geometry::area(w, w)\n}\n```",
    ])
    .await;
    let outcome = run_action(&llm, request, &NoActionProgress).await.unwrap();
    let prompt = prompt_of(&fake, 0);
    assert!(
        prompt.contains("Definitions from the workspace that the code uses:"),
        "{prompt}"
    );
    assert!(
        prompt.contains("pub fn area(width: f64, height: f64) -> f64"),
        "{prompt}"
    );
    assert!(prompt.contains("// The area of a rectangle."), "{prompt}");
    assert!(matches!(outcome, ActionOutcome::Edit { .. }));
}

/// The protocol layer spawns actions on the runtime, so their future must be `Send`.
#[allow(dead_code)]
fn the_action_future_is_send(llm: &LlmClient, request: ActionRequest) {
    fn assert_send<T: Send>(_: &T) {}
    let future = run_action(llm, request, &NoActionProgress);
    assert_send(&future);
}

#[tokio::test]
async fn diagnostics_with_ranges_inside_characters_or_past_the_end_do_not_panic() {
    let ws = workspace("//- /a.rs\nfn é() -> u8 {\n    2$0\n}\n");
    let bad = vec![EditorDiagnostic {
        range: 4..4000,
        message: "odd".into(),
        severity: None,
        code: None,
        source: None,
    }];
    let request = ws.request_with(ActionId::Fix, None, bad, ActionsConfig::default());
    let (_fake, llm) = fake_with(&["```rust\nfn é() -> u8 {\n    3\n}\n```"]).await;
    let outcome = run_action(&llm, request, &NoActionProgress).await.unwrap();
    assert!(matches!(outcome, ActionOutcome::Edit { .. }));
}

/// A model's answer cut off before its end (the connection closed or reset before the final
/// event): the part received parses as a shorter function, and must never become an edit that
/// drops the rest of the user's code. The client reports such a stream as an error, and the
/// action's own check (a stream that ends without its final event) stands behind it.
#[tokio::test]
async fn an_answer_cut_off_mid_stream_edits_nothing() {
    use llm_support::{End, Reply, openai_sse};
    for end in [End::Close, End::Reset] {
        let ws = workspace(RUST_ADD);
        let fake = Fake::start().await;
        let pieces = [
            "```rust\n",
            "pub fn add(a: i64, b: i64) -> i64 {\n",
            "    a + b\n",
            "}\n",
            "```\n",
        ];
        let mut events = openai_sse(&pieces);
        // Drop the final event (finish reason and usage) and `[DONE]`.
        events.truncate(pieces.len());
        fake.push(Reply::stream("text/event-stream", events, end));
        let llm = client(model("openai", &format!("{}/v1", fake.url)));
        let result = run_action(
            &llm,
            ws.request(ActionId::Rewrite, Some("simplify")),
            &NoActionProgress,
        )
        .await;
        assert!(
            result.is_err(),
            "a cut-off answer ({end:?}) became {:?}",
            result.map(|outcome| ws.render(&outcome))
        );
        assert_eq!(fake.calls(), 1, "{end:?}");
    }
}
