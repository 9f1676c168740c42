//! Prompt building from fixtures: every fill-in-the-middle template, budgets, definitions
//! retrieved from other files with their path comment, excluded files kept out, and the cursor
//! split with emoji and CRLF.

mod completion_support;

use std::path::PathBuf;
use std::sync::Arc;

use augur::completion::CompletionConfig;
use augur::completion::prompt::{PartKind, PromptInput, build_prompt};
use augur::completion::template::FIM_TEMPLATES;
use augur::documents::{PositionEncoding, line_col_to_offset, offset_to_line_col};
use augur::index::IndexConfig;
use augur::policy::{Policy, Refusal};
use completion_support::{Workspace, approx, prompt_of};
use expect_test::expect;
use ropey::Rope;

const SMALL: &str = "//- /src/lib.rs\nfn add(a: i32, b: i32) -> i32 {\n    $0\n}\n";

fn with_template(template: &str) -> CompletionConfig {
    CompletionConfig {
        template: template.into(),
        ..CompletionConfig::default()
    }
}

#[test]
fn every_fim_template_wraps_prefix_and_suffix() {
    let mut out = String::new();
    for template in FIM_TEMPLATES {
        let built = prompt_of(SMALL, &with_template(template.names[0]));
        assert_eq!(
            built.suffix, None,
            "the template is applied here, not by the client"
        );
        out.push_str(&format!(
            "{}: {:?} stop={:?}\n",
            built.format, built.prompt, built.stop
        ));
    }
    expect![[r#"
        starcoder: "<fim_prefix>// Path: lib.rs\nfn add(a: i32, b: i32) -> i32 {\n    <fim_suffix>\n}\n<fim_middle>" stop=["<|endoftext|>", "<file_sep>", "<fim_prefix>"]
        codellama: "<PRE> // Path: lib.rs\nfn add(a: i32, b: i32) -> i32 {\n     <SUF>\n}\n <MID>" stop=["<EOT>", "</s>"]
        deepseek: "<｜fim▁begin｜>// Path: lib.rs\nfn add(a: i32, b: i32) -> i32 {\n    <｜fim▁hole｜>\n}\n<｜fim▁end｜>" stop=["<｜end▁of▁sentence｜>", "<|EOT|>"]
        qwen: "<|fim_prefix|>// Path: lib.rs\nfn add(a: i32, b: i32) -> i32 {\n    <|fim_suffix|>\n}\n<|fim_middle|>" stop=["<|endoftext|>", "<|file_sep|>", "<|fim_pad|>", "<|im_end|>"]
        codestral: "[SUFFIX]\n}\n[PREFIX]// Path: lib.rs\nfn add(a: i32, b: i32) -> i32 {\n    " stop=["</s>", "[PREFIX]", "[SUFFIX]"]
        codegemma: "<|fim_prefix|>// Path: lib.rs\nfn add(a: i32, b: i32) -> i32 {\n    <|fim_suffix|>\n}\n<|fim_middle|>" stop=["<|file_separator|>", "<|fim_prefix|>", "<end_of_turn>"]
    "#]]
    .assert_eq(&out);
}

#[test]
fn auto_user_defined_none_and_chat_formats() {
    let auto = prompt_of(SMALL, &with_template("auto"));
    assert_eq!(
        auto.prompt,
        "// Path: lib.rs\nfn add(a: i32, b: i32) -> i32 {\n    "
    );
    assert_eq!(auto.suffix.as_deref(), Some("\n}\n"));

    let none = prompt_of(SMALL, &with_template("none"));
    assert_eq!(
        (none.prompt.as_str(), none.suffix),
        (auto.prompt.as_str(), None)
    );

    let custom = prompt_of(
        SMALL,
        &with_template("<{language}:{path}>{prefix}<hole>{suffix}<end>{unknown}"),
    );
    expect![[r#"<rust:lib.rs>// Path: lib.rs\nfn add(a: i32, b: i32) -> i32 {\n    <hole>\n}\n<end>{unknown}"#]]
        .assert_eq(&custom.prompt.replace('\n', "\\n"));

    let chat = prompt_of(SMALL, &with_template("chat"));
    expect![[r#"
        You are a code completion engine. Complete the code at <CURSOR>. Reply with only the text to insert at <CURSOR>: no explanations, no code fences, and do not repeat the code before or after <CURSOR>.

        File: lib.rs (rust)
        fn add(a: i32, b: i32) -> i32 {
            <CURSOR>
        }
    "#]]
    .assert_eq(&chat.prompt);
}

#[test]
fn a_long_file_is_trimmed_to_the_budget_line_by_line() {
    let mut text = String::from("//- /src/long.py\n");
    for i in 0..400 {
        text.push_str(&format!("value_{i} = compute({i})\n"));
        if i == 200 {
            text.push_str("result = $0\n");
        }
    }
    let config = CompletionConfig {
        prefix_tokens: 100,
        suffix_tokens: 40,
        ..CompletionConfig::default()
    };
    let built = prompt_of(&text, &config);
    assert!(built.suffix_budget.used <= 40);
    assert!(built.prefix_budget.used <= built.prefix_budget.limit);
    // The suffix grew until the next line no longer fit.
    assert!(
        built.suffix_budget.used > 40 - 8,
        "{:?}",
        built.suffix_budget
    );
    assert!(
        built
            .prefix_text
            .ends_with("value_200 = compute(200)\nresult = ")
    );
    assert!(
        built.prefix_text.starts_with("value_"),
        "whole lines: {:?}",
        &built.prefix_text[..20]
    );
    assert!(
        built
            .suffix_text
            .starts_with("\nvalue_201 = compute(201)\n")
    );
    let lines = built.prefix_text.lines().count();
    assert!((10..=25).contains(&lines), "{lines} lines for 100 tokens");
    // The explanation shows each part and the budgets.
    let explain = built.explain();
    assert!(explain.contains("budget: prefix "), "{explain}");
    assert!(explain.contains("----- prefix long.py"), "{explain}");
}

const WORKSPACE: &str = r#"
//- /src/geometry.rs
/// The area of a rectangle, in square units.
pub fn rect_area(width: f64, height: f64) -> f64 {
    width * height
}

pub struct Point {
    pub x: f64,
    pub y: f64,
}
//- /src/main.rs
mod geometry;
use geometry::Point;

fn main() {
    let origin = Point { x: 0.0, y: 0.0 };
    let area = rect_area($0
}
//- /.env
RECT_AREA_TOKEN=hunter2-rect_area
//- /private/keys.rs
pub fn rect_area_secret_key() -> &'static str { "hunter2" }
//- /.gitignore
generated/
//- /generated/out.rs
pub fn rect_area_generated() -> f64 { 42.0 }
"#;

fn workspace() -> Workspace {
    Workspace::with_config(
        WORKSPACE,
        IndexConfig {
            exclude: vec!["private/**".into()],
            include_hidden: true,
            ..IndexConfig::default()
        },
    )
}

#[test]
fn definitions_from_another_file_come_with_their_path_comment() {
    let ws = workspace();
    let built = ws.prompt(&CompletionConfig::default(), &[]);
    let context: Vec<_> = built
        .parts
        .iter()
        .filter(|p| p.kind == PartKind::Definition)
        .map(|p| p.text.as_str())
        .collect();
    let joined = context.join("");
    assert!(
        joined.contains(
            "// Path: src/geometry.rs\n// The area of a rectangle, in square units.\npub fn rect_area(width: f64, height: f64) -> f64\n"
        ),
        "{}",
        built.explain()
    );
    assert!(joined.contains("pub struct Point"), "{}", built.explain());
    // Context comes before the file's own header and prefix.
    let header = built.prompt.find("// Path: src/main.rs\n").unwrap();
    assert!(built.prompt.find("rect_area(width").unwrap() < header);
    assert!(built.prompt.ends_with("let area = rect_area("));
    assert!(
        built.context_budget.used > 0 && built.context_budget.used <= built.context_budget.limit
    );
}

#[test]
fn excluded_and_secret_files_never_enter_the_prompt() {
    let ws = workspace();
    let secret_env = ws.root.join(".env");
    let secret_rs = ws.root.join("private/keys.rs");
    let open = vec![
        (
            secret_env.clone(),
            Rope::from_str("RECT_AREA_TOKEN=hunter2 rect_area origin Point area\n"),
        ),
        (
            secret_rs.clone(),
            Rope::from_str("fn rect_area_secret_key() { \"hunter2\" } origin Point area\n"),
        ),
        (
            ws.root.join("generated/out.rs"),
            Rope::from_str("// ignored-by-git\nlet area = rect_area(origin, Point);\n"),
        ),
        (
            ws.root.join("src/other.rs"),
            Rope::from_str(
                "fn helper() {\n    let area = rect_area(2.0, 3.0);\n    let origin = Point::default();\n}\n",
            ),
        ),
    ];
    let built = ws.prompt(&CompletionConfig::default(), &open);
    assert!(!built.prompt.contains("hunter2"), "{}", built.explain());
    assert!(!built.prompt.contains("private/keys.rs"));
    assert!(
        !built.prompt.contains("ignored-by-git"),
        "{}",
        built.explain()
    );
    assert!(
        !built.prompt.contains("rect_area_generated"),
        "{}",
        built.explain()
    );
    // The open document that is allowed does contribute.
    assert!(
        built
            .parts
            .iter()
            .any(|p| p.kind == PartKind::OpenDocument && p.source.starts_with("src/other.rs")),
        "{}",
        built.explain()
    );
    let policy = Policy::of_indexes(std::slice::from_ref(&ws.index));
    assert_eq!(policy.for_context(&secret_env), Err(Refusal::Excluded));
    assert_eq!(policy.for_context(&secret_rs), Err(Refusal::Excluded));
    // A budget of zero leaves context out entirely.
    let none = ws.prompt(
        &CompletionConfig {
            context_tokens: 0,
            ..CompletionConfig::default()
        },
        &open,
    );
    assert!(none.parts.iter().all(|p| matches!(
        p.kind,
        PartKind::Header | PartKind::Prefix | PartKind::Suffix
    )));
}

#[test]
fn the_cursor_split_is_exact_with_emoji_and_crlf_in_every_encoding() {
    let text = "let s = \"😀\";\r\nlet t = \"é😀𝄞\"; x = 1;\r\nlast();\r\n";
    let rope = Rope::from_str(text);
    let cursor = text.find(" x = 1").unwrap();
    let config = CompletionConfig::default();
    for encoding in [
        PositionEncoding::Utf8,
        PositionEncoding::Utf16,
        PositionEncoding::Utf32,
    ] {
        let position = offset_to_line_col(&rope, cursor, encoding);
        assert_eq!(position.line, 1);
        let offset = line_col_to_offset(&rope, position, encoding);
        assert_eq!(offset, cursor, "{encoding:?}");
        let path = PathBuf::from("/w/a.rs");
        let built = build_prompt(
            &PromptInput {
                rope: &rope,
                cursor: offset,
                path: Some(&path),
                language: None,
                config: &config,
                indexes: &[],
                open_documents: &[],
                policy: &Arc::new(Policy::of_indexes(&[])),
            },
            &approx,
        );
        assert_eq!(built.prefix_text, &text[..cursor], "{encoding:?}");
        assert_eq!(built.suffix_text, &text[cursor..], "{encoding:?}");
        assert!(built.prefix_text.ends_with("\"é😀𝄞\";"));
    }
    // A cursor inside a character moves back to its start; past the end, to the end.
    let inside = text.find('😀').unwrap() + 2;
    let built = build_prompt(
        &PromptInput {
            rope: &rope,
            cursor: inside,
            path: None,
            language: None,
            config: &config,
            indexes: &[],
            open_documents: &[],
            policy: &Arc::new(Policy::of_indexes(&[])),
        },
        &approx,
    );
    assert!(built.prefix_text.ends_with("let s = \""));
}

#[test]
fn explain_shows_the_retrieved_context() {
    let ws = workspace();
    let built = ws.prompt(&CompletionConfig::default(), &[]);
    expect![[r#"
        format: auto
        budget: prefix 32/1278 tokens, suffix 2/256 tokens, context 53/768 tokens
        ----- definition src/geometry.rs (21 tokens) -----
        // Path: src/geometry.rs
        pub struct Point {
            pub x: f64,
            pub y: f64,
        }
        ----- definition src/geometry.rs (32 tokens) -----
        // Path: src/geometry.rs
        // The area of a rectangle, in square units.
        pub fn rect_area(width: f64, height: f64) -> f64
        ----- header src/main.rs (6 tokens) -----
        // Path: src/main.rs
        ----- prefix src/main.rs (32 tokens) -----
        mod geometry;
        use geometry::Point;

        fn main() {
            let origin = Point { x: 0.0, y: 0.0 };
            let area = rect_area(
        ----- suffix src/main.rs (2 tokens) -----

        }
        ----- end of prompt -----
    "#]]
    .assert_eq(&built.explain());
}

/// An open document in a hidden folder that is not in the index yet (a new file) gives context
/// exactly when the user's `index.include_hidden` lets hidden files in: the prompt follows the
/// index's own rule rather than the default one.
#[test]
fn a_new_hidden_file_gives_context_only_with_include_hidden() {
    let open = |ws: &Workspace| {
        vec![(
            ws.root.join(".config/helper.rs"),
            Rope::from_str(
                "fn hidden_helper_marker() {\n    let area = rect_area(2.0, 3.0);\n    let origin = Point::default();\n}\n",
            ),
        )]
    };
    let shares = |include_hidden: bool| {
        let ws = Workspace::with_config(
            WORKSPACE,
            IndexConfig {
                exclude: vec!["private/**".into()],
                include_hidden,
                ..IndexConfig::default()
            },
        );
        let built = ws.prompt(&CompletionConfig::default(), &open(&ws));
        built
            .parts
            .iter()
            .any(|p| p.kind == PartKind::OpenDocument && p.text.contains("hidden_helper_marker"))
    };
    assert!(
        shares(true),
        "include_hidden = true lets the hidden file in"
    );
    assert!(!shares(false), "include_hidden = false keeps it out");
}

/// An open document gives context only where the exclusion policy lets it: not through a
/// symbolic link that leads out of the workspace folder, and a hidden file only with
/// `include_hidden`.
#[test]
fn open_documents_give_context_only_as_the_policy_allows() {
    const MAIN: &str =
        "//- /src/main.rs\nfn main() {\n    let total = rect_area(2.0, 3.0);\n    let $0\n}\n";
    let passage = |mark: &str| {
        Rope::from_str(&format!(
            "fn helper() {{\n    let total = rect_area(4.0, 5.0); // {mark}\n}}\n"
        ))
    };
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("x.rs"),
        passage("OUTSIDE_MARK").to_string(),
    )
    .unwrap();
    for include_hidden in [false, true] {
        let ws = Workspace::with_config(
            MAIN,
            IndexConfig {
                include_hidden,
                ..IndexConfig::default()
            },
        );
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path(), ws.root.join("link")).unwrap();
        let open = vec![
            (ws.root.join("link/x.rs"), passage("OUTSIDE_MARK")),
            (ws.root.join(".config/tool.rs"), passage("HIDDEN_MARK")),
            (ws.root.join("src/other.rs"), passage("ALLOWED_MARK")),
        ];
        let built = ws.prompt(&CompletionConfig::default(), &open);
        assert!(built.prompt.contains("ALLOWED_MARK"), "{}", built.explain());
        #[cfg(unix)]
        assert!(
            !built.prompt.contains("OUTSIDE_MARK"),
            "{}",
            built.explain()
        );
        assert_eq!(
            built.prompt.contains("HIDDEN_MARK"),
            include_hidden,
            "include_hidden = {include_hidden}: {}",
            built.explain()
        );
    }
}
