//! Each protocol against the fake server: the request the server sees and the answer the client
//! returns, streamed and not.

mod llm_support;

use std::sync::Arc;

use augur::llm::{CompletionRequest, FinishReason, LlmDeps, StreamEvent, Usage};
use futures::StreamExt;
use llm_support::{End, Fake, Reply, client, model, openai_body, openai_stream};
use serde_json::json;

fn request(prompt: &str) -> CompletionRequest {
    CompletionRequest {
        prompt: prompt.into(),
        max_tokens: Some(16),
        temperature: Some(0.5),
        stop: vec!["\n\n".into(), "END".into()],
        use_cache: false,
        ..CompletionRequest::new("default")
    }
}

async fn collect_stream(
    client: &augur::llm::LlmClient,
    req: CompletionRequest,
) -> (Vec<String>, augur::llm::Completion) {
    let mut stream = client.stream(req).unwrap();
    let mut deltas = Vec::new();
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            StreamEvent::Delta(text) => deltas.push(text),
            StreamEvent::Done(completion) => return (deltas, completion),
        }
    }
    panic!("the stream ended without Done");
}

#[tokio::test]
async fn openai_completions_plain_and_streamed() {
    let fake = Fake::start().await;
    let client = client(model("openai", &format!("{}/v1", fake.url)));
    fake.push(openai_body("return a + b;"));
    let done = client.complete(request("fn add() {")).await.unwrap();
    assert_eq!(done.text, "return a + b;");
    assert_eq!(
        done.usage,
        Some(Usage {
            prompt_tokens: 5,
            completion_tokens: 2
        })
    );
    assert_eq!(done.finish_reason, FinishReason::Stop);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/completions");
    assert_eq!(sent.body["prompt"], "fn add() {");
    assert_eq!(sent.body["max_tokens"], 16);
    assert_eq!(sent.body["temperature"], 0.5);
    assert_eq!(sent.body["stop"], json!(["\n\n", "END"]));
    assert_eq!(sent.body["stream"], false);
    assert!(sent.headers.get("authorization").is_none());

    fake.push(openai_stream(&["ret", "urn", " 1"]));
    let (deltas, done) = collect_stream(&client, request("x")).await;
    assert_eq!(deltas, vec!["ret", "urn", " 1"]);
    assert_eq!(done.text, "return 1");
    assert_eq!(done.usage.unwrap().completion_tokens, 3);
    assert!(done.time_to_first_token.is_some());
    assert_eq!(fake.requests()[1].body["stream"], true);
}

#[tokio::test]
async fn openai_chat_tolerates_missing_usage_and_done() {
    let fake = Fake::start().await;
    let mut config = model("openai", &format!("{}/v1", fake.url));
    config.api = augur::llm::Api::Chat;
    config.system_prompt = Some("You complete code.".into());
    let client = client(config);
    // A chat stream with `delta.content`, no usage, and no `[DONE]` (only a finish reason).
    let chunks = vec![
        format!(
            "data: {}\n\n",
            json!({"choices": [{"delta": {"role": "assistant"}}]})
        ),
        format!(
            "data: {}\n\n",
            json!({"choices": [{"delta": {"content": "hi"}}], "extra": true})
        ),
        format!(
            "data: {}\n\n",
            json!({"choices": [{"delta": {}, "finish_reason": "length"}]})
        ),
    ];
    fake.push(Reply::stream("text/event-stream", chunks, End::Close));
    let (deltas, done) = collect_stream(&client, request("say hi")).await;
    assert_eq!(deltas, vec!["hi"]);
    assert_eq!(done.usage, None);
    assert_eq!(done.finish_reason, FinishReason::Length);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.body["messages"][0]["role"], "system");
    assert_eq!(sent.body["messages"][1]["content"], "say hi");
    assert_eq!(sent.body["max_tokens"], 16);
    assert_eq!(sent.body["temperature"], 0.5);
    assert_eq!(sent.body["stop"], json!(["\n\n", "END"]));
}

#[tokio::test]
async fn a_server_ignoring_stream_true_still_answers() {
    let fake = Fake::start().await;
    let client = client(model("openai", &fake.url));
    fake.push(openai_body("whole"));
    let (deltas, done) = collect_stream(&client, request("x")).await;
    assert_eq!(deltas, vec!["whole"]);
    assert_eq!(done.text, "whole");
    // A base URL without a path gets `/v1`.
    assert_eq!(fake.requests()[0].path, "/v1/completions");
}

#[tokio::test]
async fn ollama_generate_raw_fim_and_ndjson_stream() {
    let fake = Fake::start().await;
    let mut config = model("ollama", &fake.url);
    config.fim_template = Some("<PRE>{prefix}<SUF>{suffix}<MID>".into());
    let client = client(config);
    let lines = vec![
        format!(
            "{}\n",
            json!({"model": "m", "response": "a +", "done": false})
        ),
        // Two objects in one chunk, the last without its newline.
        format!(
            "{}\n{}",
            json!({"response": " b", "done": false}),
            json!({"response": "", "done": true, "done_reason": "stop", "prompt_eval_count": 7, "eval_count": 2})
        ),
    ];
    fake.push(Reply::stream("application/x-ndjson", lines, End::Close));
    let req = CompletionRequest {
        suffix: Some("\n}".into()),
        ..request("fn add(a: i32, b: i32) -> i32 {\n")
    };
    let (deltas, done) = collect_stream(&client, req).await;
    assert_eq!(deltas.concat(), "a + b");
    assert_eq!(
        done.usage,
        Some(Usage {
            prompt_tokens: 7,
            completion_tokens: 2
        })
    );
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/api/generate");
    assert_eq!(sent.body["raw"], true);
    assert_eq!(
        sent.body["prompt"],
        "<PRE>fn add(a: i32, b: i32) -> i32 {\n<SUF>\n}<MID>"
    );
    assert_eq!(sent.body["options"]["num_predict"], 16);
    assert_eq!(sent.body["options"]["temperature"], 0.5);
    assert_eq!(sent.body["options"]["stop"], json!(["\n\n", "END"]));

    fake.push(Reply::json(
        json!({"response": "x", "done": true, "eval_count": 1}),
    ));
    let done = client.complete(request("p")).await.unwrap();
    assert_eq!(done.text, "x");
    assert_eq!(fake.requests()[1].body["stream"], false);
}

#[tokio::test]
async fn ollama_chat() {
    let fake = Fake::start().await;
    let mut config = model("ollama", &fake.url);
    config.api = augur::llm::Api::Chat;
    let client = client(config);
    fake.push(Reply::json(
        json!({"message": {"role": "assistant", "content": "yo"}, "done": true}),
    ));
    assert_eq!(client.complete(request("hey")).await.unwrap().text, "yo");
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/api/chat");
    assert_eq!(sent.body["options"]["num_predict"], 16);
    assert_eq!(sent.body["options"]["temperature"], 0.5);
    assert_eq!(sent.body["options"]["stop"], json!(["\n\n", "END"]));
}

#[tokio::test]
async fn llamacpp_infill_and_completion() {
    let fake = Fake::start().await;
    let client = client(model("llamacpp", &fake.url));
    let chunks = vec![
        format!("data: {}\n\n", json!({"content": "a + b", "stop": false})),
        format!(
            "data: {}\n\n",
            json!({"content": "", "stop": true, "stop_type": "eos", "tokens_evaluated": 9, "tokens_predicted": 3})
        ),
    ];
    fake.push(Reply::stream("text/event-stream", chunks, End::Close));
    let req = CompletionRequest {
        suffix: Some("}".into()),
        extra: vec![augur::llm::ExtraContext {
            filename: "util.rs".into(),
            text: "fn helper() {}".into(),
        }],
        ..request("fn f() {")
    };
    let (_, done) = collect_stream(&client, req).await;
    assert_eq!(done.text, "a + b");
    assert_eq!(
        done.usage,
        Some(Usage {
            prompt_tokens: 9,
            completion_tokens: 3
        })
    );
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/infill");
    assert_eq!(sent.body["input_prefix"], "fn f() {");
    assert_eq!(sent.body["input_suffix"], "}");
    assert_eq!(sent.body["input_extra"][0]["filename"], "util.rs");
    assert_eq!(sent.body["n_predict"], 16);
    assert_eq!(sent.body["temperature"], 0.5);
    assert_eq!(sent.body["stop"], json!(["\n\n", "END"]));

    fake.push(Reply::json(
        json!({"content": "done", "stop": true, "stop_type": "limit"}),
    ));
    let done = client.complete(request("p")).await.unwrap();
    assert_eq!(
        (done.text.as_str(), done.finish_reason),
        ("done", FinishReason::Length)
    );
    let sent = &fake.requests()[1];
    assert_eq!(sent.path, "/completion");
    assert_eq!(
        (&sent.body["n_predict"], &sent.body["temperature"]),
        (&json!(16), &json!(0.5))
    );
    assert_eq!(sent.body["stop"], json!(["\n\n", "END"]));
}

#[tokio::test]
async fn llamacpp_501_on_infill_is_a_typed_unsupported_error() {
    let fake = Fake::start().await;
    let client = client(model("llamacpp", &fake.url));
    fake.push(Reply::status(501, "This server does not support infill"));
    let req = CompletionRequest {
        suffix: Some("}".into()),
        ..request("fn f() {")
    };
    let err = client.complete(req).await.unwrap_err();
    assert_eq!(err.code(), "llm.unsupported");
    assert!(err.hint().contains("fim_template"));
    assert_eq!(fake.calls(), 1, "501 is not retried");
}

#[tokio::test]
async fn anthropic_messages_sse_with_key_header() {
    let fake = Fake::start().await;
    let mut config = model("anthropic", &format!("{}/v1", fake.url));
    config.api_key_env = Some("TEST_ANTHROPIC_KEY".into());
    let models = std::collections::BTreeMap::from([("default".to_owned(), config)]);
    let keys = |name: &str| (name == "TEST_ANTHROPIC_KEY").then(|| "sk-ant-secret".to_owned());
    let client = augur::llm::LlmClient::new(
        &models,
        LlmDeps {
            keys: Some(Arc::new(keys)),
            ..LlmDeps::default()
        },
    )
    .unwrap();
    let event = |name: &str, data: serde_json::Value| format!("event: {name}\ndata: {data}\n\n");
    let chunks = vec![
        event(
            "message_start",
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 11, "output_tokens": 1}}}),
        ),
        event("ping", json!({"type": "ping"})),
        event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}}),
        ),
        event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}}),
        ),
        event(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
        ),
        event("message_stop", json!({"type": "message_stop"})),
    ];
    fake.push(Reply::stream("text/event-stream", chunks, End::Close));
    let (deltas, done) = collect_stream(&client, request("hi")).await;
    assert_eq!(deltas, vec!["Hel", "lo"]);
    assert_eq!(
        done.usage,
        Some(Usage {
            prompt_tokens: 11,
            completion_tokens: 2
        })
    );
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.headers["x-api-key"], "sk-ant-secret");
    assert_eq!(sent.headers["anthropic-version"], "2023-06-01");
    assert_eq!(sent.body["messages"][0]["content"], "hi");
    assert_eq!(sent.body["max_tokens"], 16);
    assert_eq!(sent.body["temperature"], 0.5);
    // Anthropic refuses stop sequences made only of whitespace: only `END` is sent.
    assert_eq!(sent.body["stop_sequences"], json!(["END"]));
    assert!(sent.body.get("stop").is_none());

    fake.push(Reply::json(
        json!({"content": [{"type": "text", "text": "ok"}], "stop_reason": "max_tokens",
                                 "usage": {"input_tokens": 3, "output_tokens": 16}}),
    ));
    let done = client.complete(request("x")).await.unwrap();
    assert_eq!(
        (done.text.as_str(), done.finish_reason),
        ("ok", FinishReason::Length)
    );
}

#[tokio::test]
async fn mistral_fim() {
    let fake = Fake::start().await;
    let client = client(model("mistral", &format!("{}/v1", fake.url)));
    fake.push(Reply::json(
        json!({"choices": [{"message": {"content": "b)"}, "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 4, "completion_tokens": 2}}),
    ));
    let req = CompletionRequest {
        suffix: Some(":\n    pass".into()),
        ..request("def f(a, ")
    };
    let done = client.complete(req).await.unwrap();
    assert_eq!(done.text, "b)");
    assert_eq!(
        done.usage,
        Some(Usage {
            prompt_tokens: 4,
            completion_tokens: 2
        })
    );
    assert_eq!(done.finish_reason, FinishReason::Stop);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/fim/completions");
    assert_eq!(sent.body["prompt"], "def f(a, ");
    assert_eq!(sent.body["suffix"], ":\n    pass");
    assert_eq!(sent.body["max_tokens"], 16);
    assert_eq!(sent.body["temperature"], 0.5);
    assert_eq!(sent.body["stop"], json!(["\n\n", "END"]));

    fake.push(openai_stream(&["x", "y"]));
    let (deltas, done) = collect_stream(&client, request("p")).await;
    assert_eq!(deltas, vec!["x", "y"]);
    assert_eq!(
        done.usage,
        Some(Usage {
            prompt_tokens: 5,
            completion_tokens: 2
        })
    );
    assert_eq!(fake.requests()[1].body["stream"], true);
}

#[test]
fn the_client_and_its_futures_can_cross_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let client = llm_support::client(model("openai", "http://127.0.0.1:9"));
    send_sync(&client);
    let future = client.complete(request("x"));
    send(&future);
    drop(future);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let stream = client.stream(request("x")).unwrap();
    send(&stream);
}
