//! The completion engine against a fake backend on 127.0.0.1: it streams and stops reading once
//! the suggestion is complete (the server sees the connection closed), answers type-through with
//! no second call, sends retrieved context, rejects broken code, and fails with typed errors.
//! Also `augur complete` (its `run_complete_with`) in both of its modes.

mod completion_support;
#[path = "llm_support/mod.rs"]
mod llm_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use augur::cli::complete::{CompleteArgs, run_complete_with};
use augur::completion::{
    CompletionConfig, CompletionEngine, CompletionError, EngineRequest, SuggestionSource, Trigger,
};
use augur::index::IndexConfig;
use augur::llm::{LlmError, LlmSettings};
use augur::policy::Policy;
use completion_support::Workspace;
use llm_support::{End, Fake, Reply, client_with, model, no_cache, openai_sse, openai_stream};
use ropey::Rope;

const DOC: &str = "fn add(a: i32, b: i32) -> i32 {\n    \n}\n";
const CURSOR: usize = 36;

fn engine(fake: &Fake) -> CompletionEngine {
    CompletionEngine::new(Arc::new(client_with(
        model("openai", &fake.url),
        no_cache(),
    )))
}

fn request(text: &str, cursor: usize, config: CompletionConfig) -> EngineRequest {
    EngineRequest {
        language_id: Some("rust".into()),
        trigger: Trigger::Invoked,
        ..EngineRequest::new(
            "file:///w/src/lib.rs",
            Rope::from_str(text),
            cursor,
            Arc::new(config),
        )
    }
}

#[tokio::test]
async fn the_stream_stops_once_the_suggestion_is_complete() {
    let fake = Fake::start().await;
    // The reply stalls after its fourth piece and never ends: a suggestion comes back only if
    // the engine stops reading once it is complete.
    let mut events = openai_sse(&["a ", "+ b", "\n}", "\n\nfn main() {\n"]);
    events.truncate(4);
    fake.push(
        Reply::stream("text/event-stream", events, End::Stall).paced(Duration::from_millis(20)),
    );
    let engine = engine(&fake);
    let suggestion = engine
        .complete(request(DOC, CURSOR, CompletionConfig::default()))
        .await
        .unwrap();
    assert_eq!(suggestion.text, "a + b");
    assert_eq!(suggestion.range, CURSOR..CURSOR);
    assert!(suggestion.stopped_early);
    assert_eq!(suggestion.source, SuggestionSource::Model);
    assert!(suggestion.timings.ttft_ms.is_some());
    assert!(suggestion.timings.total_ms >= suggestion.timings.prompt_build_ms);
    assert!(
        fake.wait_dropped(1, Duration::from_secs(5)).await,
        "the server saw the connection closed"
    );
    // What the backend received: the prefix and suffix around the cursor.
    let body = &fake.requests()[0].body;
    assert!(body["prompt"].as_str().unwrap().ends_with("-> i32 {\n    "));
    assert_eq!(body["suffix"], "\n}\n");
    assert_eq!(body["stream"], true);
}

#[tokio::test]
async fn typing_through_a_suggestion_needs_no_second_call() {
    let fake = Fake::start().await;
    fake.push(openai_stream(&["let total = a + b;\n    total", "\n}\n"]));
    let engine = engine(&fake);
    let first = engine
        .complete(request(DOC, CURSOR, CompletionConfig::default()))
        .await
        .unwrap();
    assert_eq!(first.text, "let total = a + b;\n    total");
    assert_eq!(fake.calls(), 1);

    let typed = "fn add(a: i32, b: i32) -> i32 {\n    let to\n}\n";
    let second = engine
        .complete(request(typed, CURSOR + 6, CompletionConfig::default()))
        .await
        .unwrap();
    assert_eq!(second.source, SuggestionSource::TypeThrough);
    assert_eq!(second.text, "tal = a + b;\n    total");
    assert_eq!(second.range, CURSOR + 6..CURSOR + 6);
    assert_eq!(fake.calls(), 1, "no second backend call");
    // The peek the LSP layer uses before debouncing says the same.
    assert_eq!(
        engine.type_through("file:///w/src/lib.rs", &Rope::from_str(typed), CURSOR + 6),
        Some((
            "tal = a + b;\n    total".to_string(),
            CURSOR + 6..CURSOR + 6
        ))
    );

    // Typing something else goes back to the model.
    fake.push(openai_stream(&["x;", "\n"]));
    let other = "fn add(a: i32, b: i32) -> i32 {\n    let q\n}\n";
    let third = engine
        .complete(request(other, CURSOR + 5, CompletionConfig::default()))
        .await
        .unwrap();
    assert_eq!(third.source, SuggestionSource::Model);
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn multi_line_suggestions_that_break_the_syntax_are_dropped() {
    let fake = Fake::start().await;
    fake.push(openai_stream(&["let x = (1;\n    let y = [2;\n"]));
    let engine = engine(&fake);
    let suggestion = engine
        .complete(request(DOC, CURSOR, CompletionConfig::default()))
        .await
        .unwrap();
    assert!(suggestion.is_empty(), "{:?}", suggestion.text);
    assert!(suggestion.note.unwrap().contains("syntax"));
}

#[tokio::test]
async fn errors_are_typed() {
    let fake = Fake::start().await;
    let engine = engine(&fake);
    let unknown = CompletionConfig {
        model: "nope".into(),
        ..CompletionConfig::default()
    };
    match engine.complete(request(DOC, CURSOR, unknown)).await {
        Err(CompletionError::Llm(LlmError::UnknownModel { name })) => assert_eq!(name, "nope"),
        other => panic!("{other:?}"),
    }
    let mut secret = request("TOKEN=", 6, CompletionConfig::default());
    secret.path = Some("/w/.env".into());
    let error = engine.complete(secret).await.unwrap_err();
    assert!(matches!(error, CompletionError::Excluded(_)), "{error:?}");
    assert_eq!(error.code(), "excluded");

    fake.push(llm_support::Reply::status(400, "bad request"));
    let error = engine
        .complete(request(DOC, CURSOR, CompletionConfig::default()))
        .await
        .unwrap_err();
    assert!(matches!(error, CompletionError::Llm(_)), "{error:?}");
    assert_eq!(fake.calls(), 1, "only the last request reached the backend");
    // Out-of-range cursors are clamped, not a panic.
    fake.push(openai_stream(&["1"]));
    let end = engine
        .complete(request("x = ", 999, CompletionConfig::default()))
        .await
        .unwrap();
    assert_eq!(end.range, 4..4);
}

#[tokio::test]
async fn retrieved_definitions_reach_the_backend() {
    let ws = Workspace::new(
        "//- /src/geometry.rs\n/// Area of a rectangle.\npub fn rect_area(w: f64, h: f64) -> f64 { w * h }\n\
         //- /src/main.rs\nfn main() {\n    let a = rect_area($0);\n}\n",
    );
    let fake = Fake::start().await;
    fake.push(openai_stream(&["2.0, 3.0", "\n"]));
    let engine = engine(&fake);
    let (path, text, cursor) = ws.cursor();
    let suggestion = engine
        .complete(EngineRequest {
            path: Some(path),
            indexes: vec![Arc::clone(&ws.index)],
            policy: Arc::new(Policy::of_indexes(std::slice::from_ref(&ws.index))),
            ..request(&text, cursor, CompletionConfig::default())
        })
        .await
        .unwrap();
    assert_eq!(suggestion.text, "2.0, 3.0");
    let prompt = fake.requests()[0].body["prompt"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        prompt.contains("// Path: src/geometry.rs\n// Area of a rectangle.\npub fn rect_area(w: f64, h: f64) -> f64\n"),
        "{prompt}"
    );
}

#[tokio::test]
async fn debounce_is_zero_for_invoked_requests_and_adapts_otherwise() {
    let fake = Fake::start().await;
    let engine = engine(&fake);
    let config = CompletionConfig::default();
    assert_eq!(
        engine.debounce_delay(Trigger::Invoked, &config),
        Duration::ZERO
    );
    assert_eq!(
        engine.debounce_delay(Trigger::Automatic, &config),
        Duration::from_millis(75)
    );
}

#[tokio::test(start_paused = true)]
async fn the_debounce_learns_how_fast_the_person_types() {
    let fake = Fake::start().await;
    let engine = Arc::new(engine(&fake));
    let config = CompletionConfig::default();
    let automatic = || engine.debounce_delay(Trigger::Automatic, &config);
    let rope = Rope::from_str("let x = 1;\n");
    // Keys 40 ms apart: the burst is over once 60 ms pass without a key.
    for _ in 0..6 {
        engine.document_changed("file:///w/a.rs", &rope);
        tokio::time::advance(Duration::from_millis(40)).await;
    }
    assert_eq!(automatic(), Duration::from_millis(60));
    // Keys that come at once (pasted, or sent by a tool): the shortest delay allowed.
    for _ in 0..16 {
        engine.document_changed("file:///w/a.rs", &rope);
    }
    assert_eq!(automatic(), Duration::from_millis(config.debounce_min_ms));
    // A slow typist never waits longer than the configured base while the backend is fast.
    for _ in 0..16 {
        tokio::time::advance(Duration::from_millis(400)).await;
        engine.document_changed("file:///w/a.rs", &rope);
    }
    assert_eq!(automatic(), Duration::from_millis(config.debounce_ms));
    // Invoked requests are never delayed.
    assert_eq!(
        engine.debounce_delay(Trigger::Invoked, &config),
        Duration::ZERO
    );
}

fn index_config(cache: &tempfile::TempDir) -> IndexConfig {
    IndexConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..IndexConfig::default()
    }
}

#[tokio::test]
async fn augur_complete_explains_a_position() {
    let ws = Workspace::new(
        "//- /src/geometry.rs\n/// Area of a rectangle.\npub fn rect_area(w: f64, h: f64) -> f64 { w * h }\n\
         //- /src/main.rs\nfn main() {\n    let a = rect_area(\n}\n",
    );
    let fake = Fake::start().await;
    fake.push(openai_stream(&["2.0, 3.0);", "\n"]));
    let models = BTreeMap::from([("default".to_string(), model("openai", &fake.url))]);
    let cache = tempfile::tempdir().unwrap();
    let args = CompleteArgs {
        position: Some(format!("{}:2:23", ws.root.join("src/main.rs").display())),
        root: Some(ws.root.clone()),
        explain: true,
        ..CompleteArgs::default()
    };
    let mut out = Vec::new();
    run_complete_with(
        &models,
        &no_cache(),
        &index_config(&cache),
        &CompletionConfig::default(),
        &args,
        &mut out,
    )
    .await
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    for expected in [
        "index: ",
        "budget: prefix ",
        "----- definition src/geometry.rs",
        "pub fn rect_area(w: f64, h: f64) -> f64",
        "----- prefix src/main.rs",
        "    let a = rect_area(\n",
        "----- suggestion -----\n2.0, 3.0);\n",
        "----- timings -----\nprompt build ",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let sent = fake.requests()[0].body["prompt"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sent.ends_with("    let a = rect_area("), "{sent}");
}

#[tokio::test]
async fn augur_complete_keeps_the_raw_prompt_mode() {
    let fake = Fake::start().await;
    fake.push(llm_support::openai_body("return a + b;"));
    let models = BTreeMap::from([("default".to_string(), model("openai", &fake.url))]);
    let cache = tempfile::tempdir().unwrap();
    let args = CompleteArgs {
        prompt: Some("fn add(a: i32, b: i32) -> i32 {\n".into()),
        ..CompleteArgs::default()
    };
    let mut out = Vec::new();
    run_complete_with(
        &models,
        &no_cache(),
        &index_config(&cache),
        &CompletionConfig::default(),
        &args,
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "return a + b;\n");
    // A position that is not FILE:LINE:COL is a clear error.
    let bad = CompleteArgs {
        position: Some("main.rs:0:1".into()),
        ..CompleteArgs::default()
    };
    let error = run_complete_with(
        &models,
        &no_cache(),
        &index_config(&cache),
        &CompletionConfig::default(),
        &bad,
        &mut Vec::new(),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("1-based"), "{error}");
}

#[tokio::test]
async fn a_repeated_prompt_is_answered_from_the_llm_cache() {
    let fake = Fake::start().await;
    fake.push(openai_stream(&["a + b"]));
    let engine = CompletionEngine::new(Arc::new(client_with(
        model("openai", &fake.url),
        LlmSettings::default(),
    )));
    let first = engine
        .complete(request(DOC, CURSOR, CompletionConfig::default()))
        .await
        .unwrap();
    assert_eq!(
        (first.text.as_str(), first.source),
        ("a + b", SuggestionSource::Model)
    );
    // The same text in another document: not type-through (another key), but the same prompt.
    let mut again = request(DOC, CURSOR, CompletionConfig::default());
    again.key = "file:///w/src/copy.rs".into();
    let second = engine.complete(again).await.unwrap();
    assert_eq!(
        (second.text.as_str(), second.source),
        ("a + b", SuggestionSource::Cache)
    );
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn a_suggestion_with_the_closing_brackets_replaces_them() {
    let fake = Fake::start().await;
    fake.push(openai_stream(&["a, b);", "\nlet w = 1;"]));
    let engine = engine(&fake);
    let text = "let v = compute()\n";
    let cursor = 16;
    let first = engine
        .complete(request(text, cursor, CompletionConfig::default()))
        .await
        .unwrap();
    assert_eq!(first.text, "a, b);");
    assert_eq!(first.range, cursor..cursor + 1, "replaces `)`");
    // Typing through keeps replacing the same closers.
    let typed = "let v = compute(a)\n";
    let second = engine
        .complete(request(typed, cursor + 1, CompletionConfig::default()))
        .await
        .unwrap();
    assert_eq!(second.source, SuggestionSource::TypeThrough);
    assert_eq!(
        (second.text.as_str(), second.range),
        (", b);", cursor + 1..cursor + 2)
    );
    assert_eq!(fake.calls(), 1);
}

/// `augur complete` asks the same exclusion policy as the editor: in a file under an
/// `index.exclude` glob it fails with the reason, and no request reaches the model.
#[tokio::test]
async fn augur_complete_refuses_an_excluded_file() {
    let ws = Workspace::new("//- /private/keys.rs\nfn key() -> &'static str {\n    \n}\n");
    let fake = Fake::start().await;
    fake.push(openai_stream(&["\"hunter2\"", "\n"]));
    let models = BTreeMap::from([("default".to_string(), model("openai", &fake.url))]);
    let cache = tempfile::tempdir().unwrap();
    let args = CompleteArgs {
        position: Some(format!("{}:2:5", ws.root.join("private/keys.rs").display())),
        root: Some(ws.root.clone()),
        ..CompleteArgs::default()
    };
    let config = IndexConfig {
        exclude: vec!["private/**".into()],
        ..index_config(&cache)
    };
    let error = run_complete_with(
        &models,
        &no_cache(),
        &config,
        &CompletionConfig::default(),
        &args,
        &mut Vec::new(),
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains("excluded from AI features"),
        "{error:#}"
    );
    assert_eq!(fake.calls(), 0, "no request reached the model");
}
