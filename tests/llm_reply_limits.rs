//! Replies far larger than `max_tokens` allows, from every protocol, streamed and not: the client
//! stops reading (the fake sees its body dropped long before its end), fails with the typed
//! `llm.reply_too_large` error, does not retry it nor cache it, and counts it.
//!
//! The fake makes its 256 MiB bodies as it sends them (nothing of that size is allocated) and
//! counts the bytes it was asked for. What the client did not read can only sit in the socket
//! buffers, which Linux grows up to `tcp_rmem` + `tcp_wmem` (36 MiB at most by default), so
//! "stopped early" is checked as "the body was dropped before its end, and less than 48 MiB of it
//! was pulled".

mod llm_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use augur::llm::{CompletionRequest, LlmClient, LlmError, StreamEvent};
use futures::StreamExt;
use llm_support::{Fake, Reply, client, model};
use serde_json::json;

/// The size of every huge body.
const HUGE: usize = 256 << 20;

/// More than a client that stopped reading can have pulled: its limit plus the socket buffers.
const STOPPED_EARLY: usize = 48 << 20;

/// A protocol's shapes: one stream event carrying some text, the end of a stream, and a whole
/// (non-streamed) reply split around its text.
struct Shape {
    backend: &'static str,
    base: &'static str,
    stream_type: &'static str,
    event: fn(&str) -> String,
    stream_end: &'static str,
    body_head: &'static str,
    body_tail: &'static str,
}

fn sse(data: &serde_json::Value) -> String {
    format!("data: {data}\n\n")
}

const SHAPES: [Shape; 5] = [
    Shape {
        backend: "openai",
        base: "/v1",
        stream_type: "text/event-stream",
        event: |t| sse(&json!({"choices": [{"text": t, "index": 0}]})),
        stream_end: "data: {\"choices\":[{\"text\":\"\",\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
        body_head: r#"{"choices":[{"index":0,"text":""#,
        body_tail: r#"","finish_reason":"length"}]}"#,
    },
    Shape {
        backend: "mistral",
        base: "/v1",
        stream_type: "text/event-stream",
        event: |t| sse(&json!({"choices": [{"delta": {"content": t}}]})),
        stream_end: "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
        body_head: r#"{"choices":[{"index":0,"message":{"role":"assistant","content":""#,
        body_tail: r#""},"finish_reason":"length"}]}"#,
    },
    Shape {
        backend: "ollama",
        base: "",
        stream_type: "application/x-ndjson",
        event: |t| format!("{}\n", json!({"response": t, "done": false})),
        stream_end: "{\"response\":\"\",\"done\":true}\n",
        body_head: r#"{"model":"test-model","response":""#,
        body_tail: r#"","done":true,"done_reason":"length"}"#,
    },
    Shape {
        backend: "llamacpp",
        base: "",
        stream_type: "text/event-stream",
        event: |t| sse(&json!({"content": t, "stop": false})),
        stream_end: "data: {\"content\":\"\",\"stop\":true,\"stop_type\":\"eos\"}\n\n",
        body_head: r#"{"content":""#,
        body_tail: r#"","stop":true,"stop_type":"limit"}"#,
    },
    Shape {
        backend: "anthropic",
        base: "/v1",
        stream_type: "text/event-stream",
        event: |t| {
            format!(
                "event: content_block_delta\ndata: {}\n\n",
                json!({"type": "content_block_delta", "index": 0,
                       "delta": {"type": "text_delta", "text": t}})
            )
        },
        stream_end: "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        body_head: r#"{"type":"message","content":[{"type":"text","text":""#,
        body_tail: r#""}],"stop_reason":"max_tokens"}"#,
    },
];

/// A request for 128 tokens, as a completion asks, bypassing the cache.
fn request(stream: bool) -> CompletionRequest {
    CompletionRequest {
        prompt: "def f():".into(),
        max_tokens: Some(128),
        use_cache: false,
        stream,
        ..CompletionRequest::new("default")
    }
}

async fn setup(shape: &Shape) -> (Fake, LlmClient) {
    let fake = Fake::start().await;
    // `model()` allows two retries: a reply too large must not use them.
    let client = client(model(shape.backend, &format!("{}{}", fake.url, shape.base)));
    (fake, client)
}

/// A whole (non-streamed) reply in `shape` whose text is `total` bytes of `x`, made as it is sent;
/// the bytes the fake sent of it are counted in `pulled`.
fn whole_reply(shape: &Shape, total: usize, pulled: &Arc<AtomicUsize>) -> Reply {
    Reply::generated(
        "application/json",
        shape.body_head,
        "x",
        total,
        shape.body_tail,
        pulled,
    )
}

/// A stream in `shape` of `unit` repeated up to [`HUGE`] bytes then its end, made as it is sent;
/// the bytes the fake sent of it are counted in `pulled`.
fn huge_stream(shape: &Shape, unit: &str, pulled: &Arc<AtomicUsize>) -> Reply {
    Reply::generated(shape.stream_type, "", unit, HUGE, shape.stream_end, pulled)
}

/// The error of a request that must fail, without printing a huge reply if it did not.
fn failure(result: Result<augur::llm::Completion, LlmError>) -> LlmError {
    match result {
        Ok(done) => panic!("a reply of {} bytes was accepted", done.text.len()),
        Err(error) => error,
    }
}

/// Sends a request for `shape` (streamed or not) that the fake answers with the reply `make`
/// builds around the count of the bytes pulled from it, then checks that the request failed with
/// the reply-too-large error (for `part`), that the client made one call and closed the
/// connection early, and that the error was counted.
async fn assert_stopped(
    what: &str,
    shape: &Shape,
    stream: bool,
    part: &str,
    make: impl FnOnce(&Arc<AtomicUsize>) -> Reply,
) {
    let (fake, client) = setup(shape).await;
    let pulled = Arc::new(AtomicUsize::new(0));
    fake.push(make(&pulled));
    let result = client.complete(request(stream)).await;
    let error = match result {
        Ok(done) => panic!("{what}: a reply of {} bytes was accepted", done.text.len()),
        Err(error) => error,
    };
    assert_eq!(error.code(), "llm.reply_too_large", "{what}: {error}");
    assert!(
        matches!(&error, LlmError::ReplyTooLarge { part: p, limit, .. }
            if p.to_string() == part && *limit > 0),
        "{what}: {error:?}"
    );
    assert!(!error.retryable(), "{what}");
    assert_eq!(fake.calls(), 1, "{what}: not retried");
    assert!(
        fake.wait_dropped(1, Duration::from_secs(10)).await,
        "{what}: the client closed the connection before the body's end"
    );
    let pulled = pulled.load(Ordering::SeqCst);
    assert!(
        pulled < STOPPED_EARLY,
        "{what}: the server was asked for {pulled} bytes"
    );
    let metrics = client.metrics();
    assert_eq!(metrics.endpoints[0].errors, 1, "{what}: counted");
    assert_eq!(metrics.endpoints[0].retries, 0, "{what}");
    assert_eq!(metrics.models[0].errors, 1, "{what}: counted for the model");
}

#[tokio::test]
async fn every_protocol_stops_an_endless_stream_of_text() {
    for shape in &SHAPES {
        let event = (shape.event)(&"x".repeat(1000));
        let what = format!("{} streamed", shape.backend);
        assert_stopped(&what, shape, true, "text", |pulled| {
            huge_stream(shape, &event, pulled)
        })
        .await;
    }
}

#[tokio::test]
async fn every_protocol_stops_a_huge_whole_reply() {
    for shape in &SHAPES {
        let what = format!("{} whole", shape.backend);
        assert_stopped(&what, shape, false, "message", |pulled| {
            whole_reply(shape, HUGE, pulled)
        })
        .await;
    }
}

#[tokio::test]
async fn every_protocol_limits_the_text_of_a_whole_reply_that_fits_in_its_message_limit() {
    for shape in &SHAPES {
        let (fake, client) = setup(shape).await;
        let pulled = Arc::new(AtomicUsize::new(0));
        // 20 KB of text: more than 128 tokens can be, well within the limit of one message.
        fake.push(whole_reply(shape, 20_000, &pulled));
        let error = failure(client.complete(request(false)).await);
        assert_eq!(error.code(), "llm.reply_too_large", "{}", shape.backend);
        assert!(
            matches!(&error, LlmError::ReplyTooLarge { part, limit, .. }
                if part.to_string() == "text" && *limit == 4096),
            "{}: {error:?}",
            shape.backend
        );
        assert_eq!(fake.calls(), 1, "{}: not retried", shape.backend);
    }
}

#[tokio::test]
async fn a_line_without_an_end_is_cut_off_for_sse_and_ndjson() {
    for shape in &SHAPES[2..4] {
        // Ollama (NDJSON) and llama.cpp (SSE): one line that never ends.
        let head = if shape.stream_type.contains("ndjson") {
            "{\"response\":\""
        } else {
            "data: {\"content\":\""
        };
        let what = format!("{} endless line", shape.backend);
        assert_stopped(&what, shape, true, "message", |pulled| {
            Reply::generated(shape.stream_type, head, "x", HUGE, "\"}\n\n", pulled)
        })
        .await;
    }
}

#[tokio::test]
async fn an_sse_event_of_endless_data_lines_is_cut_off() {
    let shape = &SHAPES[0];
    // Data lines without the blank line that ends an event are gathered into one event.
    let unit = format!("data: {}\n", "x".repeat(100));
    assert_stopped("endless event", shape, true, "message", |pulled| {
        Reply::generated(shape.stream_type, "", &unit, HUGE, "\n", pulled)
    })
    .await;
}

#[tokio::test]
async fn a_stream_of_keep_alive_comments_is_cut_off() {
    let shape = &SHAPES[0];
    assert_stopped("keep-alives", shape, true, "body", |pulled| {
        huge_stream(shape, ": keep-alive\n\n", pulled)
    })
    .await;
}

#[tokio::test]
async fn a_streamed_caller_gets_the_text_up_to_the_limit_then_the_error() {
    let shape = &SHAPES[0];
    let (fake, client) = setup(shape).await;
    let pulled = Arc::new(AtomicUsize::new(0));
    fake.push(huge_stream(
        shape,
        &(shape.event)(&"y".repeat(1000)),
        &pulled,
    ));
    let mut stream = client.stream(request(true)).unwrap();
    let mut text = 0;
    let error = loop {
        match stream.next().await.expect("an item") {
            Ok(StreamEvent::Delta(delta)) => text += delta.len(),
            Ok(StreamEvent::Done(_)) => panic!("the stream cannot finish"),
            Err(error) => break error,
        }
    };
    assert_eq!(error.code(), "llm.reply_too_large", "{error}");
    assert!(text <= 4096, "{text} bytes of text were delivered");
    assert!(stream.next().await.is_none(), "the error ends the stream");
    assert!(fake.wait_dropped(1, Duration::from_secs(10)).await);
    assert!(pulled.load(Ordering::SeqCst) < STOPPED_EARLY);
}

#[tokio::test]
async fn a_reply_too_large_is_not_cached() {
    let shape = &SHAPES[0];
    let (fake, client) = setup(shape).await;
    let pulled = Arc::new(AtomicUsize::new(0));
    fake.push(whole_reply(shape, HUGE, &pulled));
    fake.push(llm_support::openai_body("fine"));
    let cached = CompletionRequest {
        use_cache: true,
        ..request(false)
    };
    let error = failure(client.complete(cached.clone()).await);
    assert_eq!(error.code(), "llm.reply_too_large", "{error}");
    let done = client.complete(cached).await.unwrap();
    assert_eq!(done.text, "fine");
    assert!(!done.cached);
    assert_eq!(fake.calls(), 2, "the second request asked the server again");
}

#[tokio::test]
async fn a_huge_error_body_is_read_only_in_part() {
    let shape = &SHAPES[0];
    let fake = Fake::start().await;
    let mut config = model(shape.backend, &format!("{}{}", fake.url, shape.base));
    config.retries = 0;
    let client = client(config);
    let pulled = Arc::new(AtomicUsize::new(0));
    fake.push(
        Reply::generated(
            "application/json",
            "{\"error\":{\"message\":\"",
            "overloaded ",
            HUGE,
            "\"}}",
            &pulled,
        )
        .with_status(500),
    );
    let error = failure(client.complete(request(false)).await);
    assert_eq!(error.code(), "llm.server", "{error}");
    assert!(error.to_string().len() < 1000, "the message is short");
    assert!(fake.wait_dropped(1, Duration::from_secs(10)).await);
    let pulled = pulled.load(Ordering::SeqCst);
    assert!(
        pulled < STOPPED_EARLY,
        "the server was asked for {pulled} bytes"
    );
}

#[tokio::test]
async fn a_huge_model_list_is_cut_off() {
    let shape = &SHAPES[0];
    let (fake, client) = setup(shape).await;
    let pulled = Arc::new(AtomicUsize::new(0));
    fake.route(
        "/v1/models",
        Reply::generated(
            "application/json",
            "{\"data\":[",
            "{\"id\":\"model\"},",
            HUGE,
            "{\"id\":\"test-model\"}]}",
            &pulled,
        ),
    );
    let error = match client.list_models("default").await {
        Ok(models) => panic!("a list of {} models was accepted", models.len()),
        Err(error) => error,
    };
    assert_eq!(error.code(), "llm.reply_too_large", "{error}");
    assert!(fake.wait_dropped(1, Duration::from_secs(10)).await);
    let pulled = pulled.load(Ordering::SeqCst);
    assert!(
        pulled < STOPPED_EARLY,
        "the server was asked for {pulled} bytes"
    );
}
