//! The shapes of model replies the code actions accept, in Python and Rust: "Fix" takes the
//! function from a reply that gives it alone, as its body only, or inside its class or `impl`
//! block; "Rewrite" and custom actions take the selection's new code from a reply that gives it
//! alone or inside the whole function; "Generate tests" takes the new tests from a reply that
//! repeats the function under test or the tests already written. Each fenced or not, with prose
//! around it or not. A reply that really is broken is refused with a reason.

mod actions_support;
#[path = "llm_support/mod.rs"]
mod llm_support;

use actions_support::{Workspace, diagnostic, named, outcomes, reply_shapes, workspace};
use augur::actions::{ActionId, ActionRequest, ActionsConfig, CustomAction};
use expect_test::expect;

const PYTHON_CLASS: &str = "//- /calc.py\nimport math\n\n\nclass C:\n    def f100(self, x):\n        return x - 1$000\n\n    def f101(self, x):\n        return math.floor(x) + 101\n";

/// A "Fix" request for `f100`, which subtracts where it should add.
fn fix_request(ws: &Workspace) -> ActionRequest {
    let diags = vec![diagnostic(&ws.text, "x - 100", "f100 subtracts")];
    ws.request_with(ActionId::Fix, None, diags, ActionsConfig::default())
}

#[tokio::test]
async fn fix_takes_the_method_from_every_shape_of_python_reply() {
    let ws = workspace(PYTHON_CLASS);
    let request = fix_request(&ws);
    let piece = "def f100(self, x):\n    return x + 100\n";
    let whole = "class C:\n    def f100(self, x):\n        return x + 100\n\n    def f101(self, x):\n        return math.floor(x) + 101\n";
    let mut replies = reply_shapes(piece, whole, "python", "rust");
    replies.extend(named(&[
        ("body only", "```python\nreturn x + 100\n```"),
        (
            "broken",
            "```python\ndef f100(self, x):\n    return (x + 100\n```",
        ),
        ("prose only", "Sure, I will fix it."),
    ]));
    expect![[r#"
        [piece, piece fenced, piece fenced with its tag, piece after prose, piece before prose, piece between prose, piece fenced as another language, whole, whole fenced, whole fenced with its tag, whole after prose, whole before prose, whole between prose, whole fenced as another language, body only]
        edit "Fix with AI"
        edit calc.py at version Some(7)
          63..64 -> "+"
        after:
        import math


        class C:
            def f100(self, x):
                return x + 100

            def f101(self, x):
                return math.floor(x) + 101

        [broken]
        error: the model's edit did not parse: line 6: unexpected `return (x + 100` (0 syntax errors before the edit, 1 after)

        [prose only]
        error: the model's answer held no code or text to use
    "#]].assert_eq(&outcomes(&ws, &request, &replies).await);
}

const RUST_IMPL: &str = "//- /src/lib.rs\npub struct S;\n\nimpl S {\n    #[inline]\n    pub fn f100(&self, x: i64) -> i64 {\n        x - 1$000\n    }\n}\n";

#[tokio::test]
async fn fix_takes_the_method_from_every_shape_of_rust_reply() {
    let ws = workspace(RUST_IMPL);
    let request = fix_request(&ws);
    let piece = "pub fn f100(&self, x: i64) -> i64 {\n    x + 100\n}\n";
    let whole = "impl S {\n    #[inline]\n    pub fn f100(&self, x: i64) -> i64 {\n        x + 100\n    }\n}\n";
    let mut replies = reply_shapes(piece, whole, "rust", "python");
    replies.extend(named(&[
        ("body only", "```rust\nx + 100\n```"),
        (
            "with the attribute above it",
            "```rust\n#[inline]\npub fn f100(&self, x: i64) -> i64 {\n    x + 100\n}\n```",
        ),
        (
            "broken",
            "```rust\npub fn f100(&self, x: i64) -> i64 {\n    x + 100\n```",
        ),
    ]));
    expect![[r#"
        [piece, piece fenced, piece fenced with its tag, piece after prose, piece before prose, piece between prose, piece fenced as another language, whole, whole fenced, whole fenced with its tag, whole after prose, whole before prose, whole between prose, whole fenced as another language, body only, with the attribute above it]
        edit "Fix with AI"
        edit src/lib.rs at version Some(7)
          88..89 -> "+"
        after:
        pub struct S;

        impl S {
            #[inline]
            pub fn f100(&self, x: i64) -> i64 {
                x + 100
            }
        }

        [broken]
        error: the model's edit did not parse: line 7: missing `}` (0 syntax errors before the edit, 1 after)
    "#]].assert_eq(&outcomes(&ws, &request, &replies).await);
}

const PYTHON_SELECTION: &str = "//- /calc.py\ndef f100(x):\n    y = x * 2\n    $0return y - 100$1\n\n\ndef f101(x):\n    return x\n";

const RUST_SELECTION: &str =
    "//- /src/lib.rs\npub fn f100(x: i64) -> i64 {\n    let y = x * 2;\n    $0y - 100$1\n}\n";

/// The replies to a request about a selection: the new code alone or inside the whole
/// function, and broken ones.
fn selection_replies(language: &str) -> Vec<(String, String)> {
    let (piece, whole, other, outside, broken) = if language == "python" {
        (
            "return y + 100\n",
            "def f100(x):\n    y = x * 2\n    return y + 100\n",
            "rust",
            "```python\ndef f100(x):\n    y = x * 3\n    return y + 100\n```",
            "```python\nreturn (y + 100\n```",
        )
    } else {
        (
            "y + 100\n",
            "pub fn f100(x: i64) -> i64 {\n    let y = x * 2;\n    y + 100\n}\n",
            "python",
            "```rust\npub fn f100(x: i64) -> i64 {\n    let y = x * 3;\n    y + 100\n}\n```",
            "```rust\n{ y + 100\n```",
        )
    };
    let mut replies = reply_shapes(piece, whole, language, other);
    replies.extend(named(&[
        ("whole with a change outside the selection", outside),
        ("broken", broken),
    ]));
    replies
}

#[tokio::test]
async fn rewrite_takes_the_new_code_from_every_shape_of_python_reply() {
    let ws = workspace(PYTHON_SELECTION);
    let request = ws.request(ActionId::Rewrite, Some("add instead"));
    expect![[r#"
        [piece, piece fenced, piece fenced with its tag, piece after prose, piece before prose, piece between prose, piece fenced as another language, whole, whole fenced, whole fenced with its tag, whole after prose, whole before prose, whole between prose, whole fenced as another language]
        edit "Rewrite with AI"
        edit calc.py at version Some(7)
          40..41 -> "+"
        after:
        def f100(x):
            y = x * 2
            return y + 100


        def f101(x):
            return x

        [whole with a change outside the selection]
        error: the model's answer could not be used: it repeats `f100` with changes outside the selection (line 2)

        [broken]
        error: the model's edit did not parse: line 3: unexpected `return (y + 100` (0 syntax errors before the edit, 1 after)
    "#]].assert_eq(&outcomes(&ws, &request, &selection_replies("python")).await);
}

#[tokio::test]
async fn rewrite_takes_the_new_code_from_every_shape_of_rust_reply() {
    let ws = workspace(RUST_SELECTION);
    let request = ws.request(ActionId::Rewrite, Some("add instead"));
    expect![[r#"
        [piece, piece fenced, piece fenced with its tag, piece after prose, piece before prose, piece between prose, piece fenced as another language, whole, whole fenced, whole fenced with its tag, whole after prose, whole before prose, whole between prose, whole fenced as another language]
        edit "Rewrite with AI"
        edit src/lib.rs at version Some(7)
          54..55 -> "+"
        after:
        pub fn f100(x: i64) -> i64 {
            let y = x * 2;
            y + 100
        }

        [whole with a change outside the selection]
        error: the model's answer could not be used: it repeats `f100` with changes outside the selection (line 2)

        [broken]
        error: the model's edit did not parse: line 1: unexpected `pub fn f100(x: i64) -> i64 {` (0 syntax errors before the edit, 1 after)
    "#]].assert_eq(&outcomes(&ws, &request, &selection_replies("rust")).await);
}

fn custom_config() -> ActionsConfig {
    ActionsConfig {
        custom: vec![CustomAction {
            id: "add".into(),
            title: "Make it add".into(),
            prompt: "Make {selection} add.".into(),
            ..CustomAction::default()
        }],
        ..ActionsConfig::default()
    }
}

#[tokio::test]
async fn a_custom_action_takes_the_new_code_from_every_shape_of_reply() {
    for (fixture, language) in [(PYTHON_SELECTION, "python"), (RUST_SELECTION, "rust")] {
        let ws = workspace(fixture);
        let request = ws.request_with(
            ActionId::Custom("add".into()),
            None,
            Vec::new(),
            custom_config(),
        );
        let rewrite = ws.request(ActionId::Rewrite, Some("add instead"));
        let replies = selection_replies(language);
        // A custom action that replaces the selection takes replies as the rewrite does.
        assert_eq!(
            outcomes(&ws, &request, &replies).await,
            outcomes(&ws, &rewrite, &replies)
                .await
                .replace("\"Rewrite with AI\"", "\"Make it add\""),
            "{language}"
        );
    }
    // Without a selection, it replaces the function at the cursor, as a fix does.
    let ws = workspace(PYTHON_CLASS);
    let request = ws.request_with(
        ActionId::Custom("add".into()),
        None,
        Vec::new(),
        custom_config(),
    );
    let replies = reply_shapes(
        "def f100(self, x):\n    return x + 100\n",
        "class C:\n    def f100(self, x):\n        return x + 100\n\n    def f101(self, x):\n        return math.floor(x) + 101\n",
        "python",
        "rust",
    );
    expect![[r#"
        [piece, piece fenced, piece fenced with its tag, piece after prose, piece before prose, piece between prose, piece fenced as another language, whole, whole fenced, whole fenced with its tag, whole after prose, whole before prose, whole between prose, whole fenced as another language]
        edit "Make it add"
        edit calc.py at version Some(7)
          63..64 -> "+"
        after:
        import math


        class C:
            def f100(self, x):
                return x + 100

            def f101(self, x):
                return math.floor(x) + 101
    "#]].assert_eq(&outcomes(&ws, &request, &replies).await);
}

const PYTHON_TESTED: &str = "//- /calc.py\ndef f100(x):\n    return x + 1$000\n//- /test_calc.py\nfrom calc import f100\n\n\ndef test_old():\n    assert f100(0) == 100\n";

#[tokio::test]
async fn generated_tests_are_taken_from_every_shape_of_python_reply() {
    let ws = workspace(PYTHON_TESTED);
    let request = ws.request(ActionId::GenerateTests, None);
    let piece = "def test_f100_adds():\n    assert f100(1) == 101\n";
    let whole = "from calc import f100\n\n\ndef test_old():\n    assert f100(0) == 100\n\n\ndef test_f100_adds():\n    assert f100(1) == 101\n";
    let mut replies = reply_shapes(piece, whole, "python", "rust");
    replies.extend(named(&[
        (
            "with the function under test",
            "```python\ndef f100(x):\n    return x + 100\n\n\ndef test_f100_adds():\n    assert f100(1) == 101\n```",
        ),
        (
            "only the tests the file has",
            "```python\nfrom calc import f100\n\n\ndef test_old():\n    assert f100(0) == 100\n```",
        ),
        (
            "broken",
            "```python\ndef test_f100_adds(:\n    assert f100(1) == 101\n```",
        ),
    ]));
    expect![[r#"
        [piece, piece fenced, piece fenced with its tag, piece after prose, piece before prose, piece between prose, piece fenced as another language, whole, whole fenced, whole fenced with its tag, whole after prose, whole before prose, whole between prose, whole fenced as another language, with the function under test]
        edit "Generate tests for `f100` with AI"
        edit test_calc.py at version None
          66..66 -> "\ndef test_f100_adds():\n    assert f100(1) == 101\n"
        after:
        from calc import f100


        def test_old():
            assert f100(0) == 100

        def test_f100_adds():
            assert f100(1) == 101

        [only the tests the file has]
        error: the model's answer could not be used: it holds no new test, only code that is already there (`f100` or its tests)

        [broken]
        error: the model's edit did not parse: line 7: missing `)` (0 syntax errors before the edit, 1 after)
    "#]].assert_eq(&outcomes(&ws, &request, &replies).await);
}

const RUST_TESTED: &str = "//- /src/lib.rs\npub fn f100(x: i64) -> i64 {\n    x + 1$000\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn old() {\n        assert_eq!(f100(0), 100);\n    }\n}\n";

const RUST_TEST: &str = "#[test]\nfn f100_adds() {\n    assert_eq!(f100(1), 101);\n}\n";

const RUST_MODULE: &str = "#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn f100_adds() {\n        assert_eq!(f100(1), 101);\n    }\n}\n";

const RUST_FUNCTION: &str = "pub fn f100(x: i64) -> i64 {\n    x + 100\n}\n\n";

#[tokio::test]
async fn generated_tests_are_taken_from_every_shape_of_rust_reply() {
    let ws = workspace(RUST_TESTED);
    let request = ws.request(ActionId::GenerateTests, None);
    let whole = "#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn old() {\n        assert_eq!(f100(0), 100);\n    }\n\n    #[test]\n    fn f100_adds() {\n        assert_eq!(f100(1), 101);\n    }\n}\n";
    let mut replies = reply_shapes(RUST_TEST, whole, "rust", "python");
    replies.extend(named(&[
        ("a new module", &format!("```rust\n{RUST_MODULE}```")),
        (
            "with the function under test",
            &format!("```rust\n{RUST_FUNCTION}{whole}```"),
        ),
        (
            "broken",
            "```rust\n#[test]\nfn f100_adds() {\n    assert_eq!(f100(1), 101);\n```",
        ),
    ]));
    expect![[r#"
        [piece, piece fenced, piece fenced with its tag, piece after prose, piece before prose, piece between prose, piece fenced as another language, whole, whole fenced, whole fenced with its tag, whole after prose, whole before prose, whole between prose, whole fenced as another language, a new module, with the function under test]
        edit "Generate tests for `f100` with AI"
        edit src/lib.rs at version Some(7)
          155..155 -> "\n    #[test]\n    fn f100_adds() {\n        assert_eq!(f100(1), 101);\n    }\n"
        after:
        pub fn f100(x: i64) -> i64 {
            x + 100
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            #[test]
            fn old() {
                assert_eq!(f100(0), 100);
            }

            #[test]
            fn f100_adds() {
                assert_eq!(f100(1), 101);
            }
        }

        [broken]
        error: the model's edit did not parse: line 16: missing `}` (0 syntax errors before the edit, 1 after)
    "#]].assert_eq(&outcomes(&ws, &request, &replies).await);

    // A file without a test module gets one, whether the reply is the module or its tests.
    let ws = workspace("//- /src/lib.rs\npub fn f100(x: i64) -> i64 {\n    x + 1$000\n}\n");
    let request = ws.request(ActionId::GenerateTests, None);
    let mut replies = reply_shapes(
        RUST_MODULE,
        &format!("{RUST_FUNCTION}{RUST_MODULE}"),
        "rust",
        "python",
    );
    replies.extend(named(&[
        ("the tests alone", RUST_TEST),
        ("only the function under test", RUST_FUNCTION),
    ]));
    expect![[r#"
        [piece, piece fenced, piece fenced with its tag, piece after prose, piece before prose, piece between prose, piece fenced as another language, whole, whole fenced, whole fenced with its tag, whole after prose, whole before prose, whole between prose, whole fenced as another language, the tests alone]
        edit "Generate tests for `f100` with AI"
        edit src/lib.rs at version Some(7)
          43..43 -> "\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn f100_adds() {\n        assert_eq!(f100(1), 101);\n    }\n}\n"
        after:
        pub fn f100(x: i64) -> i64 {
            x + 100
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            #[test]
            fn f100_adds() {
                assert_eq!(f100(1), 101);
            }
        }

        [only the function under test]
        error: the model's answer could not be used: it holds no new test, only code that is already there (`f100` or its tests)
    "#]].assert_eq(&outcomes(&ws, &request, &replies).await);
}
