//! What keeps completions fast on a local model while a person types, against a fake backend on
//! 127.0.0.1: the prompt's front stays byte-identical across keystrokes until the retrieved
//! context really changes (in every prompt format), and generation is sized to the cursor (one
//! line after code on a line, a block on an empty line or after a block opener; stopped on a
//! repeated line and at a line cap), with `max_tokens` following the decision.

mod completion_support;
#[path = "llm_support/mod.rs"]
mod llm_support;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use augur::completion::postprocess::MAX_SUGGESTION_LINES;
use augur::completion::prompt::{
    BuiltPrompt, LayoutMemory, LayoutSignature, PromptInput, build_prompt_in,
};
use augur::completion::{
    AskWhileTyping, CompletionConfig, CompletionEngine, EngineRequest, SuggestionSource, Trigger,
};
use augur::policy::Policy;
use augur::syntax::Language;
use augur::test_support::fixture::Fixture;
use completion_support::{Workspace, approx};
use expect_test::expect;
use llm_support::{End, Fake, Reply, client_with, model, no_cache, openai_sse, openai_stream};
use ropey::Rope;

/// A workspace whose main file has the cursor on an empty line of a function body; the line
/// typed there uses names defined in another file.
const WORKSPACE: &str = "//- /src/geometry.rs
/// A rectangle.
pub struct Rect { pub w: f64, pub h: f64 }
/// Area of a rectangle.
pub fn rect_area(rect: &Rect) -> f64 { rect.w * rect.h }
/// Perimeter of a rectangle.
pub fn rect_perimeter(rect: &Rect) -> f64 { 2.0 * (rect.w + rect.h) }
//- /src/main.rs
use crate::geometry::Rect;

fn main() {
    let r = Rect { w: 1.0, h: 2.0 };
    $0
}
";

/// The line typed at the cursor, one character at a time.
const TYPED: &str = "let p = rect_perimeter(&r);";

fn engine(fake: &Fake) -> CompletionEngine {
    CompletionEngine::new(Arc::new(client_with(
        model("openai", &fake.url),
        no_cache(),
    )))
}

/// The byte of `prompt` where the line being typed starts: everything before it is the front
/// that should stay the same while the person types on that line.
fn front_of(built: &BuiltPrompt) -> usize {
    let at = built
        .prompt
        .rfind(&built.prefix_text)
        .expect("the prefix is in the prompt");
    at + built.prefix_text.rfind('\n').map_or(0, |i| i + 1)
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// One line per keystroke: whether the front of the previous prompt was kept, and the context
/// sources whenever they change.
fn describe_typing(prompts: &[(String, BuiltPrompt)]) -> String {
    let mut out = String::new();
    let mut last_sources = String::new();
    for (i, (typed, built)) in prompts.iter().enumerate() {
        let sources: Vec<String> = built
            .parts
            .iter()
            .filter(|p| !matches!(p.kind.as_str(), "header" | "prefix" | "suffix"))
            .map(|p| format!("{} {}", p.kind.as_str(), p.source))
            .collect();
        let sources = sources.join(", ");
        let front = match i {
            0 => "first".to_string(),
            _ => {
                let previous = &prompts[i - 1].1;
                let common = common_prefix(&previous.prompt, &built.prompt);
                if common >= front_of(previous) {
                    "front kept".to_string()
                } else {
                    format!("changed at byte {common} of {}", front_of(previous))
                }
            }
        };
        let _ = write!(out, "{typed:?}: {front}");
        if sources != last_sources {
            let _ = write!(out, " [{sources}]");
            last_sources = sources;
        }
        out.push('\n');
    }
    out
}

#[tokio::test]
async fn the_prompt_front_is_byte_identical_while_a_person_types() {
    let ws = Workspace::new(WORKSPACE);
    let (path, text, cursor) = ws.cursor();
    let fake = Fake::start().await;
    // Every answer is an empty suggestion, so type-through never answers instead of the model.
    fake.set_default(openai_stream(&["\n"]));
    let engine = engine(&fake);
    let config = Arc::new(CompletionConfig {
        context_tokens: 160,
        ..CompletionConfig::default()
    });
    let mut prompts = Vec::new();
    for end in (1..=TYPED.len()).step_by(2).chain([TYPED.len()]) {
        let typed = &TYPED[..end];
        let document = format!("{}{typed}{}", &text[..cursor], &text[cursor..]);
        let suggestion = engine
            .complete(EngineRequest {
                path: Some(path.clone()),
                language_id: Some("rust".into()),
                indexes: vec![Arc::clone(&ws.index)],
                policy: Arc::new(Policy::of_indexes(std::slice::from_ref(&ws.index))),
                trigger: Trigger::Automatic,
                ..EngineRequest::new(
                    "file:///w/src/main.rs",
                    Rope::from_str(&document),
                    cursor + typed.len(),
                    Arc::clone(&config),
                )
            })
            .await
            .unwrap();
        prompts.push((typed.to_string(), suggestion.prompt));
    }
    // What the model server received is what was built.
    let sent = fake.requests();
    assert_eq!(sent.len(), prompts.len());
    for (request, (_, built)) in sent.iter().zip(&prompts) {
        assert_eq!(request.body["prompt"], built.prompt.as_str());
    }
    expect![[r#"
        "l": first [similar src/geometry.rs:1, definition src/geometry.rs]
        "let": front kept
        "let p": front kept
        "let p =": front kept
        "let p = r": front kept
        "let p = rec": front kept
        "let p = rect_": front kept
        "let p = rect_pe": front kept
        "let p = rect_peri": front kept
        "let p = rect_perime": front kept
        "let p = rect_perimete": front kept
        "let p = rect_perimeter(": changed at byte 366 of 451 [similar src/geometry.rs:1, definition src/geometry.rs, definition src/geometry.rs]
        "let p = rect_perimeter(&r": front kept
        "let p = rect_perimeter(&r);": front kept
        "let p = rect_perimeter(&r);": front kept
    "#]].assert_eq(&describe_typing(&prompts));
}

/// The same typing, laid out in every prompt format: the front (everything before the line being
/// typed) never changes while the context holds.
#[test]
fn every_prompt_format_keeps_its_front() {
    let ws = Workspace::new(WORKSPACE);
    let (path, text, cursor) = ws.cursor();
    let formats = [
        "auto",
        "none",
        "chat",
        "qwen",
        "starcoder",
        "codellama",
        "codestral",
        "<pre>{context}{path}\n{prefix}<suf>{suffix}<mid>",
    ];
    for format in formats {
        let config = CompletionConfig {
            context_tokens: 160,
            template: format.into(),
            ..CompletionConfig::default()
        };
        let mut memory = LayoutMemory::default();
        let mut previous: Option<BuiltPrompt> = None;
        for end in 1..=TYPED.len() {
            let typed = &TYPED[..end];
            let rope = Rope::from_str(&format!("{}{typed}{}", &text[..cursor], &text[cursor..]));
            let at = cursor + typed.len();
            let signature = LayoutSignature::at(&rope, at, &config, Some(&path));
            let layout = memory.plan("main", &signature);
            let held = layout.held.is_some();
            let built = build_prompt_in(
                &PromptInput {
                    rope: &rope,
                    cursor: at,
                    path: Some(&path),
                    language: Some(Language::Rust),
                    config: &config,
                    indexes: std::slice::from_ref(&ws.index),
                    open_documents: &[],
                    policy: &Arc::new(Policy::of_indexes(std::slice::from_ref(&ws.index))),
                },
                &approx,
                &layout,
            );
            memory.remember("main", signature, &built);
            if let Some(previous) = &previous
                && held
            {
                let common = common_prefix(&previous.prompt, &built.prompt);
                assert!(
                    common >= front_of(previous),
                    "{format}: typing {typed:?} changed the prompt at byte {common}, before the \
                     typed line (byte {})",
                    front_of(previous)
                );
            }
            previous = Some(built);
        }
    }
}

/// One row per case: the `max_tokens` asked for, and the suggestion shown.
async fn decide(document: &str, language: &str, reply: Reply) -> (u64, String, bool) {
    let fixture = Fixture::parse(document);
    let (file, cursor) = fixture.cursor.unwrap();
    let text = &fixture.files[file].text;
    let fake = Fake::start().await;
    fake.push(reply);
    let engine = engine(&fake);
    let suggestion = engine
        .complete(EngineRequest {
            language_id: Some(language.into()),
            trigger: Trigger::Invoked,
            ..EngineRequest::new(
                "file:///w/doc",
                Rope::from_str(text),
                cursor,
                Arc::new(CompletionConfig::default()),
            )
        })
        .await
        .unwrap();
    let max_tokens = fake.requests()[0].body["max_tokens"].as_u64().unwrap();
    (max_tokens, suggestion.text, suggestion.stopped_early)
}

#[tokio::test]
async fn generation_is_sized_to_the_cursor() {
    let looping = "if c == '}': break\n        ".repeat(10);
    let long_block: String = (0..30).map(|i| format!("x{i} = {i}\n    ")).collect();
    let cases: Vec<(&str, &str, &str, Reply)> = vec![
        (
            "in the middle of a line",
            "fn f() {\n    let v = compute(a$0, c);\n}\n",
            "rust",
            openai_stream(&[", b\n", "    let w = 2;\n}\n"]),
        ),
        (
            "at the end of a line with code",
            "class A:\n    def f(self):\n        ret.msg = self$0\n",
            "python",
            openai_stream(&[".msg\n        ret.code = self.code\n        return ret\n"]),
        ),
        (
            "on an empty line of a block",
            "fn add(a: i32, b: i32) -> i32 {\n    $0\n}\n",
            "rust",
            openai_stream(&["let s = a + b;\n    s\n}\n\nfn main() {}\n"]),
        ),
        (
            "after a line that opens a block",
            "def area(w, h):$0\n",
            "python",
            openai_stream(&["\n    s = w * h\n    return s\n\nprint(1)\n"]),
        ),
        (
            "a line repeated",
            "def scan(text):\n    for c in text:\n        $0\n",
            "python",
            // The stream never ends: only stopping on the repetition gives an answer.
            Reply::stream(
                "text/event-stream",
                openai_sse(&[looping.as_str()]),
                End::Stall,
            ),
        ),
        (
            "a block longer than the line cap",
            "def table():\n    $0\n",
            "python",
            Reply::stream(
                "text/event-stream",
                openai_sse(&[long_block.as_str()]),
                End::Stall,
            ),
        ),
        (
            "far along a long line",
            "def f():\n    raise JSONDecodeError(\"Expecting property name enclosed in double quotes\", $0)\n",
            "python",
            openai_stream(&["s, end)\n", "    x = 1\n"]),
        ),
        (
            "brackets that do not close within a few lines",
            "x = $0\n",
            "python",
            openai_stream(&[
                "compute(a,\n",
                "b,\n",
                "c,\n",
                "d,\n",
                "e,\n",
                "f,\n",
                "g)\n",
            ]),
        ),
    ];
    let mut table = String::new();
    for (name, document, language, reply) in cases {
        let (max_tokens, text, stopped) =
            tokio::time::timeout(Duration::from_secs(10), decide(document, language, reply))
                .await
                .unwrap_or_else(|_| panic!("{name}: no answer"));
        let lines = text.lines().count();
        let _ = writeln!(
            table,
            "{name}: max_tokens {max_tokens}, {lines} line(s){}: {text:?}",
            if stopped { ", stream stopped" } else { "" }
        );
    }
    expect![[r#"
        in the middle of a line: max_tokens 26, 1 line(s), stream stopped: ", b"
        at the end of a line with code: max_tokens 26, 1 line(s), stream stopped: ".msg"
        on an empty line of a block: max_tokens 128, 2 line(s), stream stopped: "let s = a + b;\n    s"
        after a line that opens a block: max_tokens 128, 3 line(s), stream stopped: "\n    s = w * h\n    return s"
        a line repeated: max_tokens 128, 1 line(s), stream stopped: "if c == '}': break"
        a block longer than the line cap: max_tokens 128, 16 line(s), stream stopped: "x0 = 0\n    x1 = 1\n    x2 = 2\n    x3 = 3\n    x4 = 4\n    x5 = 5\n    x6 = 6\n    x7 = 7\n    x8 = 8\n    x9 = 9\n    x10 = 10\n    x11 = 11\n    x12 = 12\n    x13 = 13\n    x14 = 14\n    x15 = 15"
        far along a long line: max_tokens 16, 1 line(s), stream stopped: "s, end"
        brackets that do not close within a few lines: max_tokens 32, 1 line(s), stream stopped: "compute(a,"
    "#]].assert_eq(&table);
}

const ADD: &str = "fn add(a: i32, b: i32) -> i32 {\n    \n}\n";
const ADD_CURSOR: usize = 36;

fn at(text: &str, cursor: usize) -> EngineRequest {
    EngineRequest {
        language_id: Some("rust".into()),
        trigger: Trigger::Automatic,
        ..EngineRequest::new(
            "file:///w/src/lib.rs",
            Rope::from_str(text),
            cursor,
            Arc::new(CompletionConfig::default()),
        )
    }
}

#[tokio::test]
async fn the_next_suggestion_is_asked_ahead_once_one_is_accepted() {
    let fake = Fake::start().await;
    fake.push(openai_stream(&["let s = a + b;\n", "}\n"]));
    let engine = Arc::new(engine(&fake));
    let first = engine.complete(at(ADD, ADD_CURSOR)).await.unwrap();
    assert_eq!(first.text, "let s = a + b;");

    // The person accepts it: the document now holds the whole suggestion at its place, and the
    // engine asks for the next one at once, before any request.
    fake.push(openai_stream(&[" // the sum\n", "    s\n"]));
    let accepted = ADD.replace("    \n", "    let s = a + b;\n");
    let end = ADD_CURSOR + first.text.len();
    engine.document_changed("file:///w/src/lib.rs", &Rope::from_str(&accepted));
    assert!(engine.prefetch_pending("file:///w/src/lib.rs"));
    assert!(
        llm_support::wait_until(Duration::from_secs(5), || fake.calls() == 2).await,
        "the next suggestion was asked for in the background"
    );
    let next = engine.complete(at(&accepted, end)).await.unwrap();
    assert_eq!(next.source, augur::completion::SuggestionSource::Prefetch);
    assert_eq!(next.text, " // the sum");
    assert_eq!(fake.calls(), 2, "served from the request made ahead");
    assert!(!engine.prefetch_pending("file:///w/src/lib.rs"));
}

#[tokio::test]
async fn the_next_suggestion_is_dropped_when_the_person_types_something_else() {
    let fake = Fake::start().await;
    fake.push(openai_stream(&["let s = a + b;\n", "}\n"]));
    let engine = Arc::new(engine(&fake));
    let first = engine.complete(at(ADD, ADD_CURSOR)).await.unwrap();
    assert_eq!(first.text, "let s = a + b;");

    // The answer ahead is slow: it is still streaming when the person types on.
    fake.push(
        Reply::stream(
            "text/event-stream",
            openai_sse(&[" // the", " sum"]),
            End::Stall,
        )
        .paced(Duration::from_millis(50)),
    );
    let accepted = ADD.replace("    \n", "    let s = a + b;\n");
    engine.document_changed("file:///w/src/lib.rs", &Rope::from_str(&accepted));
    assert!(llm_support::wait_until(Duration::from_secs(5), || fake.calls() == 2).await);
    let typed = ADD.replace("    \n", "    let s = a + b;x\n");
    engine.document_changed("file:///w/src/lib.rs", &Rope::from_str(&typed));
    assert!(!engine.prefetch_pending("file:///w/src/lib.rs"));
    assert!(
        fake.wait_dropped(1, Duration::from_secs(5)).await,
        "the model server saw the request ahead cancelled"
    );
    // The request at the new place goes to the model.
    fake.push(openai_stream(&[";\n"]));
    let end = ADD_CURSOR + first.text.len() + 1;
    let next = engine.complete(at(&typed, end)).await.unwrap();
    assert_eq!(next.source, augur::completion::SuggestionSource::Model);
    assert_eq!(fake.calls(), 3);
}

/// `ADD` with `typed` at the cursor, and the bytes of the last keystroke.
fn typing(typed: &str) -> (Rope, std::ops::Range<usize>) {
    let text = ADD.replace("    \n", &format!("    {typed}\n"));
    let end = ADD_CURSOR + typed.len();
    let last = typed.chars().last().map_or(0, char::len_utf8);
    (Rope::from_str(&text), end - last..end)
}

/// A request at `cursor` of `rope` with `completion.ask_while_typing` set to `ask`.
fn asked(rope: &Rope, cursor: usize, ask: AskWhileTyping) -> EngineRequest {
    let mut request = at(&rope.to_string(), cursor);
    request.config = Arc::new(CompletionConfig {
        ask_while_typing: ask,
        ..CompletionConfig::default()
    });
    request
}

/// An engine with a first suggestion shown at the cursor of `ADD`, which the person then does
/// not take.
async fn after_a_suggestion(fake: &Fake, ask: AskWhileTyping) -> Arc<CompletionEngine> {
    fake.push(openai_stream(&["let s = a + b;\n", "}\n"]));
    let engine = Arc::new(engine(fake));
    let first = engine
        .complete(asked(&Rope::from_str(ADD), ADD_CURSOR, ask))
        .await
        .unwrap();
    assert_eq!(first.text, "let s = a + b;");
    engine
}

const LIB: &str = "file:///w/src/lib.rs";

#[tokio::test]
async fn typing_that_leaves_the_suggestion_asks_the_model_before_the_editor_does() {
    let fake = Fake::start().await;
    let ask = AskWhileTyping::Local;
    let engine = after_a_suggestion(&fake, ask).await;

    // The person types `x` where `let` was suggested: the model is asked at once, before any
    // request of the editor. Its answer begins at once and ends a second later.
    let mut slow = openai_stream(&[" +", " y;\n"]);
    if let Reply::Chunks { chunks, .. } = &mut slow {
        chunks[1].0 = Duration::from_secs(1);
    }
    fake.push(slow);
    let (rope, typed) = typing("x");
    engine.document_edited(LIB, &rope, Some(typed), |c| Some(asked(&rope, c, ask)));
    assert!(engine.prefetch_pending(LIB));
    assert!(llm_support::wait_until(Duration::from_secs(5), || fake.calls() == 2).await);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // They type a space, which the answer on its way may continue: it keeps running, and the
    // editor's request there waits for it and is answered from it by type-through.
    let (rope, typed) = typing("x ");
    engine.document_edited(LIB, &rope, Some(typed.clone()), |c| {
        Some(asked(&rope, c, ask))
    });
    assert!(engine.prefetch_pending(LIB));
    let answer = engine
        .complete(at(&rope.to_string(), typed.end))
        .await
        .unwrap();
    assert_eq!(answer.source, SuggestionSource::TypeThrough);
    assert_eq!(answer.text, "+ y;");
    assert_eq!(fake.calls(), 2, "no call but the one asked while typing");
}

#[tokio::test]
async fn typing_before_the_model_has_written_anything_asks_again_at_the_new_cursor() {
    let fake = Fake::start().await;
    let ask = AskWhileTyping::Local;
    let engine = after_a_suggestion(&fake, ask).await;
    // Keystrokes that come at once: the request asked at `x` has had no answer yet when `y`
    // comes, so the one at `xy` replaces it, and the editor's request there takes that one.
    fake.push(
        Reply::stream("text/event-stream", openai_sse(&[" +"]), End::Stall)
            .first_after(Duration::from_secs(3)),
    );
    let (rope, typed) = typing("x");
    engine.document_edited(LIB, &rope, Some(typed), |c| Some(asked(&rope, c, ask)));
    assert!(llm_support::wait_until(Duration::from_secs(5), || fake.calls() == 2).await);
    fake.push(openai_stream(&[" = 3;\n"]).first_after(Duration::from_millis(100)));
    let (rope, typed) = typing("xy");
    engine.document_edited(LIB, &rope, Some(typed.clone()), |c| {
        Some(asked(&rope, c, ask))
    });
    let answer = engine
        .complete(at(&rope.to_string(), typed.end))
        .await
        .unwrap();
    assert_eq!(answer.source, SuggestionSource::Prefetch);
    assert_eq!(answer.text, " = 3;");
    assert_eq!(fake.calls(), 3);
}

/// An engine (`ask_while_typing = "always"`) that has asked the model at `x`, typed where
/// `let` was suggested; the model's answer stalls after ` +`.
async fn asked_at_x_while_typing() -> (Fake, Arc<CompletionEngine>) {
    let fake = Fake::start().await;
    let ask = AskWhileTyping::Always;
    let engine = after_a_suggestion(&fake, ask).await;
    fake.push(Reply::stream(
        "text/event-stream",
        openai_sse(&[" +"]),
        End::Stall,
    ));
    let (rope, typed) = typing("x");
    engine.document_edited(LIB, &rope, Some(typed), |c| Some(asked(&rope, c, ask)));
    assert!(llm_support::wait_until(Duration::from_secs(5), || fake.calls() == 2).await);
    (fake, engine)
}

#[tokio::test]
async fn typing_that_leaves_the_answer_asked_ahead_cancels_it_and_asks_again() {
    let (fake, engine) = asked_at_x_while_typing().await;
    let ask = AskWhileTyping::Always;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // `xy` is not what the model began: that request is cancelled and one at `xy` goes out.
    fake.push(openai_stream(&[" = 1;\n"]));
    let (rope, typed) = typing("xy");
    engine.document_edited(LIB, &rope, Some(typed.clone()), |c| {
        Some(asked(&rope, c, ask))
    });
    assert!(
        fake.wait_dropped(1, Duration::from_secs(5)).await,
        "the model server saw the first request cancelled"
    );
    assert!(llm_support::wait_until(Duration::from_secs(5), || fake.calls() == 3).await);
    let answer = engine
        .complete(at(&rope.to_string(), typed.end))
        .await
        .unwrap();
    assert_eq!(answer.source, SuggestionSource::Prefetch);
    assert_eq!(answer.text, " = 1;");
    assert_eq!(fake.calls(), 3);

    // Deleting is not typing: nothing is asked, and the editor's request goes to the model.
    let (rope, _) = typing("x");
    engine.document_edited(LIB, &rope, None, |c| Some(asked(&rope, c, ask)));
    assert!(!engine.prefetch_pending(LIB));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.calls(), 3);
}

#[tokio::test]
async fn with_ask_while_typing_never_only_the_editor_asks() {
    let fake = Fake::start().await;
    let ask = AskWhileTyping::Never;
    let engine = after_a_suggestion(&fake, ask).await;
    let (rope, typed) = typing("x");
    engine.document_edited(LIB, &rope, Some(typed.clone()), |c| {
        Some(asked(&rope, c, ask))
    });
    assert!(!engine.prefetch_pending(LIB));
    fake.push(openai_stream(&[" = 2;\n"]));
    let answer = engine
        .complete(at(&rope.to_string(), typed.end))
        .await
        .unwrap();
    assert_eq!(answer.source, SuggestionSource::Model);
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn new_models_cancel_what_was_asked_ahead_of_the_old_ones() {
    let (fake, engine) = asked_at_x_while_typing().await;
    engine.forget_all();
    assert!(!engine.prefetch_pending(LIB));
    assert!(
        fake.wait_dropped(2, Duration::from_secs(5)).await,
        "the request asked ahead was cancelled at the model server"
    );
}

#[tokio::test]
async fn the_settings_of_the_moment_decide_not_those_of_the_last_request() {
    let fake = Fake::start().await;
    let engine = after_a_suggestion(&fake, AskWhileTyping::Always).await;
    // The settings changed to `never` since the last request.
    let ask = AskWhileTyping::Never;
    let (rope, typed) = typing("x");
    engine.document_edited(LIB, &rope, Some(typed), |c| Some(asked(&rope, c, ask)));
    assert!(!engine.prefetch_pending(LIB));
    // A document that may no longer be sent to a model (no request can be built): nothing.
    let (rope, typed) = typing("xy");
    engine.document_edited(LIB, &rope, Some(typed), |_| None);
    assert!(!engine.prefetch_pending(LIB));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn llama_cpp_keeps_each_document_on_its_slot_and_bounds_generation() {
    let fake = Fake::start().await;
    fake.set_default(openai_stream(&["b;\n"]));
    let engine = CompletionEngine::new(Arc::new(client_with(
        model("llamacpp", &fake.url),
        no_cache(),
    )));
    let config = Arc::new(CompletionConfig {
        server_slots: 2,
        template: "none".into(),
        ..CompletionConfig::default()
    });
    // The third request is for "a" again, at another line (type-through would answer the same).
    for (key, text) in [
        ("file:///a.rs", "let x = a + \n"),
        ("file:///b.rs", "let x = a + \n"),
        ("file:///a.rs", "let y = a + \n"),
    ] {
        engine
            .complete(EngineRequest::new(
                key,
                Rope::from_str(text),
                12,
                Arc::clone(&config),
            ))
            .await
            .unwrap();
    }
    let sent: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| {
            format!(
                "{} id_slot {} cache_prompt {} t_max_predict_ms {} n_predict {}",
                r.path,
                r.body["id_slot"],
                r.body["cache_prompt"],
                r.body["t_max_predict_ms"],
                r.body["n_predict"]
            )
        })
        .collect();
    expect![[r#"
        /completion id_slot 0 cache_prompt true t_max_predict_ms 500 n_predict 29
        /completion id_slot 1 cache_prompt true t_max_predict_ms 500 n_predict 29
        /completion id_slot 0 cache_prompt true t_max_predict_ms 500 n_predict 29"#]]
    .assert_eq(&sent.join("\n"));
}

/// Typing several new lines at the end of a document longer than the prefix budget: the prefix
/// keeps its start while the text from there fits, and when it moves it moves a quarter of the
/// budget further than it must, so it moves once per several lines typed, not once per line.
#[test]
fn the_prefix_start_moves_rarely_while_lines_are_typed() {
    let mut text: String = (0..200)
        .map(|i| format!("    let value_{i} = compute({i});\n"))
        .collect();
    let config = CompletionConfig {
        prefix_tokens: 256,
        suffix_tokens: 0,
        context_tokens: 0,
        ..CompletionConfig::default()
    };
    let mut memory = LayoutMemory::default();
    let mut starts = Vec::new();
    let mut keystrokes = 0;
    for i in 0..12 {
        for c in format!("    let next_{i} = value_{i} + 1;\n").chars() {
            text.push(c);
            keystrokes += 1;
            let rope = Rope::from_str(&text);
            let signature = LayoutSignature::at(&rope, text.len(), &config, None);
            let layout = memory.plan("doc", &signature);
            let built = build_prompt_in(
                &PromptInput {
                    rope: &rope,
                    cursor: text.len(),
                    path: None,
                    language: Some(Language::Rust),
                    config: &config,
                    indexes: &[],
                    open_documents: &[],
                    policy: &Arc::new(Policy::of_indexes(&[])),
                },
                &approx,
                &layout,
            );
            assert!(built.prefix_budget.used <= built.prefix_budget.limit);
            memory.remember("doc", signature, &built);
            if starts.last() != Some(&built.prefix_range.start) {
                starts.push(built.prefix_range.start);
            }
        }
    }
    // About 100 tokens typed over 12 lines against a 256-token budget: a window sized afresh on
    // every keystroke would start a line later with each line typed (13 starts); held, it moves
    // once per quarter of the budget (64 tokens, about 8 lines).
    assert!(
        starts.len() <= 3,
        "{} prefix starts over {keystrokes} keystrokes",
        starts.len()
    );
}

#[tokio::test]
async fn a_block_generated_past_its_time_limit_ends_at_a_line_break() {
    // One line every 250 ms, never ending: the lines finished a second after the first token are
    // the answer (how many depends on the machine's pace; all are whole lines).
    let slow: Vec<String> = (0..40).map(|i| format!("y{i} = {i}\n    ")).collect();
    let reply = Reply::stream(
        "text/event-stream",
        openai_sse(&slow.iter().map(String::as_str).collect::<Vec<_>>()),
        End::Stall,
    )
    .paced(Duration::from_millis(250));
    let (_, text, stopped) = tokio::time::timeout(
        Duration::from_secs(10),
        decide("def table():\n    $0\n", "python", reply),
    )
    .await
    .expect("an answer once the time limit passed");
    assert!(stopped);
    let lines: Vec<&str> = text.lines().collect();
    assert!((1..MAX_SUGGESTION_LINES).contains(&lines.len()), "{text:?}");
    for (i, line) in lines.iter().enumerate() {
        let indent = if i == 0 { "" } else { "    " };
        assert_eq!(*line, format!("{indent}y{i} = {i}"));
    }
}
