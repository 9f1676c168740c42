//! The shapes of model replies the prose actions accept: "Document with AI" takes the doc from a
//! reply that is the doc alone or the whole symbol with its new doc (fenced or not, with prose
//! around it or not, in Python and Rust), and "Explain with AI" takes markdown wrapped or not.
//! A reply that really is broken is refused with a reason.

mod actions_support;
#[path = "llm_support/mod.rs"]
mod llm_support;

use actions_support::{named, outcomes, reply_shapes, workspace};
use augur::actions::ActionId;
use expect_test::expect;

const PYTHON: &str = "//- /calc.py\nimport math\n\n\ndef f100(x):\n    return x + 1$000\n\n\ndef f101(x):\n    return math.floor(x) + 101\n";

const PYTHON_DOC: &str = "\"\"\"Return `x` plus 100.\n\nArgs:\n    x: A number.\n\"\"\"\n";

const PYTHON_WHOLE: &str = "def f100(x):\n    \"\"\"Return `x` plus 100.\n\n    Args:\n        x: A number.\n    \"\"\"\n    return x + 100\n";

#[tokio::test]
async fn document_takes_the_docstring_from_every_shape_of_python_reply() {
    let ws = workspace(PYTHON);
    let request = ws.request(ActionId::Document, None);
    let mut replies = reply_shapes(PYTHON_DOC, PYTHON_WHOLE, "python", "rust");
    replies.extend(named(&[
        (
            "whole with the code changed too",
            "```python\ndef f100(x: int) -> int:\n    \"\"\"Return `x` plus 100.\n\n    Args:\n        x: A number.\n    \"\"\"\n    return 100 + x\n```",
        ),
        (
            "whole with a comment added",
            "```python\ndef f100(x):\n    \"\"\"Return `x` plus 100.\n\n    Args:\n        x: A number.\n    \"\"\"\n    # Add.\n    return x + 100\n```",
        ),
        (
            "whole, unfenced after prose",
            "Here is the documented function:\n\ndef f100(x):\n    \"\"\"Return `x` plus 100.\n\n    Args:\n        x: A number.\n    \"\"\"\n    return x + 100\n",
        ),
    ]));
    expect![[r#"
        [piece, piece fenced, piece fenced with its tag, piece after prose, piece before prose, piece between prose, piece fenced as another language, whole, whole fenced, whole fenced with its tag, whole after prose, whole before prose, whole between prose, whole fenced as another language, whole with the code changed too, whole with a comment added, whole, unfenced after prose]
        edit "Document `f100` with AI"
        edit calc.py at version Some(7)
          27..27 -> "    \"\"\"Return `x` plus 100.\n\n    Args:\n        x: A number.\n    \"\"\"\n"
        after:
        import math


        def f100(x):
            """Return `x` plus 100.

            Args:
                x: A number.
            """
            return x + 100


        def f101(x):
            return math.floor(x) + 101
    "#]].assert_eq(&outcomes(&ws, &request, &replies).await);
}

#[tokio::test]
async fn document_refuses_a_python_reply_without_a_usable_docstring() {
    let ws = workspace(PYTHON);
    let request = ws.request(ActionId::Document, None);
    let replies = named(&[
        (
            "whole without a docstring",
            "```python\ndef f100(x):\n    return x + 100\n```",
        ),
        ("an empty block", "```python\n```"),
        (
            "an unterminated docstring",
            "```python\n\"\"\"Return `x` plus 100.\n```",
        ),
    ]);
    expect![[r#"
        [whole without a docstring]
        error: the model's answer could not be used: it repeats `f100` without a docstring

        [an empty block]
        error: the model's answer held no code or text to use

        [an unterminated docstring]
        error: the model's edit did not parse: line 5: unexpected `"""Return `x` plus` (0 syntax errors before the edit, 1 after)
    "#]].assert_eq(&outcomes(&ws, &request, &replies).await);
}

const RUST: &str = "//- /src/lib.rs\npub struct S;\n\nimpl S {\n    #[inline]\n    pub fn f100(&self, x: i64) -> i64 {\n        x + 1$000\n    }\n}\n";

const RUST_DOC: &str =
    "/// Adds 100 to `x`.\n///\n/// ```\n/// assert_eq!(S.f100(1), 101);\n/// ```\n";

const RUST_WHOLE: &str = "/// Adds 100 to `x`.\n///\n/// ```\n/// assert_eq!(S.f100(1), 101);\n/// ```\n#[inline]\npub fn f100(&self, x: i64) -> i64 {\n    x + 100\n}\n";

#[tokio::test]
async fn document_takes_the_rustdoc_from_every_shape_of_rust_reply() {
    let ws = workspace(RUST);
    let request = ws.request(ActionId::Document, None);
    let mut replies = reply_shapes(RUST_DOC, RUST_WHOLE, "rust", "python");
    replies.extend(named(&[
        (
            "whole in its impl block",
            "```rust\nimpl S {\n    /// Adds 100 to `x`.\n    ///\n    /// ```\n    /// assert_eq!(S.f100(1), 101);\n    /// ```\n    #[inline]\n    pub fn f100(&self, x: i64) -> i64 {\n        x + 100\n    }\n}\n```",
        ),
        (
            "whole with the code changed too",
            "```rust\n/// Adds 100 to `x`.\n///\n/// ```\n/// assert_eq!(S.f100(1), 101);\n/// ```\npub fn f100(&self, x: i64) -> i64 {\n    x.saturating_add(100)\n}\n```",
        ),
    ]));
    expect![[r#"
        [piece, piece fenced, piece fenced with its tag, piece after prose, piece before prose, piece between prose, piece fenced as another language, whole, whole fenced, whole fenced with its tag, whole after prose, whole before prose, whole between prose, whole fenced as another language, whole in its impl block, whole with the code changed too]
        edit "Document `f100` with AI"
        edit src/lib.rs at version Some(7)
          24..24 -> "    /// Adds 100 to `x`.\n    ///\n    /// ```\n    /// assert_eq!(S.f100(1), 101);\n    /// ```\n"
        after:
        pub struct S;

        impl S {
            /// Adds 100 to `x`.
            ///
            /// ```
            /// assert_eq!(S.f100(1), 101);
            /// ```
            #[inline]
            pub fn f100(&self, x: i64) -> i64 {
                x + 100
            }
        }
    "#]].assert_eq(&outcomes(&ws, &request, &replies).await);
}

#[tokio::test]
async fn document_refuses_a_rust_reply_without_a_doc_comment() {
    let ws = workspace(RUST);
    let request = ws.request(ActionId::Document, None);
    let replies = named(&[
        (
            "whole without a doc",
            "```rust\npub fn f100(&self, x: i64) -> i64 {\n    x + 100\n}\n```",
        ),
        ("an empty block", "Here it is:\n```rust\n```\n"),
    ]);
    expect![[r#"
        [whole without a doc]
        error: the model's answer could not be used: it repeats `f100` without a doc comment

        [an empty block]
        error: the model's answer held no code or text to use
    "#]]
    .assert_eq(&outcomes(&ws, &request, &replies).await);
}

const EXPLANATION: &str = "`f100` returns `x` plus 100.\n\nIt never fails for numbers.\n";

#[tokio::test]
async fn explain_takes_the_markdown_from_every_shape_of_reply() {
    let mut rendered = Vec::new();
    for fixture in [PYTHON, RUST] {
        let ws = workspace(fixture);
        let request = ws.request(ActionId::Explain, None);
        let replies = named(&[
            ("alone", EXPLANATION),
            (
                "after thinking",
                &format!("<think>Easy.</think>\n\n{EXPLANATION}"),
            ),
            ("fenced", &format!("```\n{EXPLANATION}```\n")),
            (
                "fenced as markdown",
                &format!("```markdown\n{EXPLANATION}```"),
            ),
            (
                "fenced as markdown after prose",
                &format!("Here is the explanation:\n\n```md\n{EXPLANATION}```\n"),
            ),
            (
                "fenced as markdown before prose",
                &format!("```markdown\n{EXPLANATION}```\nAsk if anything is unclear.\n"),
            ),
            // Code in an explanation is markdown: it stays a code block.
            (
                "quoting code",
                "`f100` adds 100:\n\n```\nf100(1) == 101\n```\n",
            ),
            ("code in another language", "```sql\nSELECT 101;\n```\n"),
            ("empty", "  \n"),
            ("only thinking", "<think>Hmm."),
        ]);
        rendered.push(outcomes(&ws, &request, &replies).await);
    }
    assert_eq!(
        rendered[0], rendered[1],
        "Python and Rust are explained alike"
    );
    expect![[r#"
        [alone, after thinking, fenced, fenced as markdown, fenced as markdown after prose, fenced as markdown before prose]
        markdown "Explanation of `f100`"
        `f100` returns `x` plus 100.

        It never fails for numbers.

        [quoting code]
        markdown "Explanation of `f100`"
        `f100` adds 100:

        ```
        f100(1) == 101
        ```

        [code in another language]
        markdown "Explanation of `f100`"
        ```sql
        SELECT 101;
        ```

        [empty, only thinking]
        error: the model's answer held no code or text to use
    "#]].assert_eq(&rendered[0]);
}
