//! The same faults against every protocol: a 503 then success (retried), a 429 with `Retry-After`
//! (waited for, then retried), a slow first token (a first-token timeout), a stall after text (a
//! stall timeout), a reset mid-stream after text (interrupted), a truncated stream (interrupted),
//! malformed JSON in the stream (protocol error), and the wrong content type (protocol error).
//! Timing faults run on tokio's paused clock.

mod llm_support;

use std::time::Duration;

use augur::llm::{CompletionRequest, LlmClient, LlmError, StreamEvent};
use futures::StreamExt;
use llm_support::{End, Fake, Reply, client, model};
use serde_json::json;

/// A backend, its base URL suffix, its stream content type, and its stream framing of pieces.
struct Protocol {
    backend: &'static str,
    base: &'static str,
    content_type: &'static str,
    /// The chunks of a complete stream saying `pieces`.
    chunks: fn(&[&str]) -> Vec<String>,
    /// How many leading chunks carry only text (no end marker).
    text_chunks: usize,
}

fn sse(data: &serde_json::Value) -> String {
    format!("data: {data}\n\n")
}

fn openai(pieces: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = pieces
        .iter()
        .map(|p| sse(&json!({"choices": [{"text": p}]})))
        .collect();
    out.push(sse(
        &json!({"choices": [{"text": "", "finish_reason": "stop"}]}),
    ));
    out.push("data: [DONE]\n\n".into());
    out
}

fn mistral(pieces: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = pieces
        .iter()
        .map(|p| sse(&json!({"choices": [{"delta": {"content": p}}]})))
        .collect();
    out.push(sse(
        &json!({"choices": [{"delta": {}, "finish_reason": "stop"}]}),
    ));
    out.push("data: [DONE]\n\n".into());
    out
}

fn ollama(pieces: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = pieces
        .iter()
        .map(|p| format!("{}\n", json!({"response": p, "done": false})))
        .collect();
    out.push(format!(
        "{}\n",
        json!({"response": "", "done": true, "eval_count": 2})
    ));
    out
}

fn llamacpp(pieces: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = pieces
        .iter()
        .map(|p| sse(&json!({"content": p, "stop": false})))
        .collect();
    out.push(sse(
        &json!({"content": "", "stop": true, "stop_type": "eos"}),
    ));
    out
}

fn anthropic(pieces: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = pieces
        .iter()
        .map(|p| {
            format!(
                "event: content_block_delta\ndata: {}\n\n",
                json!({"type": "content_block_delta", "delta": {"type": "text_delta", "text": p}})
            )
        })
        .collect();
    out.push(format!(
        "event: message_delta\ndata: {}\n\n",
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}})
    ));
    out.push("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".into());
    out
}

const PROTOCOLS: [Protocol; 5] = [
    Protocol {
        backend: "openai",
        base: "/v1",
        content_type: "text/event-stream",
        chunks: openai,
        text_chunks: 2,
    },
    Protocol {
        backend: "mistral",
        base: "/v1",
        content_type: "text/event-stream",
        chunks: mistral,
        text_chunks: 2,
    },
    Protocol {
        backend: "ollama",
        base: "",
        content_type: "application/x-ndjson",
        chunks: ollama,
        text_chunks: 2,
    },
    Protocol {
        backend: "llamacpp",
        base: "",
        content_type: "text/event-stream",
        chunks: llamacpp,
        text_chunks: 2,
    },
    Protocol {
        backend: "anthropic",
        base: "/v1",
        content_type: "text/event-stream",
        chunks: anthropic,
        text_chunks: 2,
    },
];

fn request() -> CompletionRequest {
    CompletionRequest {
        prompt: "p".into(),
        max_tokens: Some(4),
        use_cache: false,
        stream: true,
        ..CompletionRequest::new("default")
    }
}

/// Streams `request()` until it fails: the text delivered before, and the error. A stream that
/// finishes fails the test.
async fn text_then_error(client: &LlmClient, protocol: &Protocol) -> (String, LlmError) {
    let mut stream = client.stream(request()).unwrap();
    let mut text = String::new();
    loop {
        match stream.next().await.expect("an item") {
            Ok(StreamEvent::Delta(delta)) => text.push_str(&delta),
            Ok(StreamEvent::Done(_)) => {
                panic!("{}: a broken stream cannot finish", protocol.backend)
            }
            Err(err) => return (text, err),
        }
    }
}

async fn setup(protocol: &Protocol, retries: u32) -> (Fake, LlmClient) {
    let fake = Fake::start().await;
    let mut config = model(protocol.backend, &format!("{}{}", fake.url, protocol.base));
    config.retries = retries;
    (fake, client(config))
}

#[tokio::test]
async fn every_protocol_retries_a_503_and_streams_the_answer() {
    for protocol in &PROTOCOLS {
        let (fake, client) = setup(protocol, 2).await;
        fake.push(Reply::status(503, "busy"));
        fake.push(Reply::stream(
            protocol.content_type,
            (protocol.chunks)(&["he", "llo"]),
            End::Close,
        ));
        let done = client
            .complete(request())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", protocol.backend));
        assert_eq!(done.text, "hello", "{}", protocol.backend);
        assert_eq!(fake.calls(), 2, "{}", protocol.backend);
    }
}

#[tokio::test(start_paused = true)]
async fn every_protocol_waits_for_retry_after_on_429_then_streams_the_answer() {
    for protocol in &PROTOCOLS {
        let (fake, client) = setup(protocol, 2).await;
        fake.push(Reply::status(429, "slow down").header("retry-after", "7"));
        fake.push(Reply::stream(
            protocol.content_type,
            (protocol.chunks)(&["he", "llo"]),
            End::Close,
        ));
        let started = tokio::time::Instant::now();
        let done = client
            .complete(request())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", protocol.backend));
        let waited = started.elapsed();
        assert_eq!(done.text, "hello", "{}", protocol.backend);
        assert_eq!(done.attempts, 2, "{}", protocol.backend);
        assert!(
            waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
            "{}: {waited:?}",
            protocol.backend
        );
        assert_eq!(fake.calls(), 2, "{}", protocol.backend);
    }
}

#[tokio::test(start_paused = true)]
async fn every_protocol_times_out_a_slow_first_token() {
    for protocol in &PROTOCOLS {
        let (fake, client) = setup(protocol, 0).await;
        fake.push(
            Reply::stream(
                protocol.content_type,
                (protocol.chunks)(&["late"]),
                End::Close,
            )
            .first_after(Duration::from_secs(60)),
        );
        let started = tokio::time::Instant::now();
        let err = client.complete(request()).await.unwrap_err();
        assert_eq!(
            err.code(),
            "llm.timeout.first_token",
            "{}: {err}",
            protocol.backend
        );
        // `model()` sets a first-token timeout of two seconds.
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_secs(3),
            "{}: {waited:?}",
            protocol.backend
        );
        assert!(
            fake.wait_dropped(1, Duration::from_secs(1)).await,
            "{}: the connection was closed",
            protocol.backend
        );
    }
}

#[tokio::test(start_paused = true)]
async fn every_protocol_reports_a_stall_after_text_as_a_stall_timeout() {
    for protocol in &PROTOCOLS {
        let (fake, client) = setup(protocol, 2).await;
        let mut chunks = (protocol.chunks)(&["a", "b"]);
        chunks.truncate(protocol.text_chunks);
        fake.push(Reply::stream(protocol.content_type, chunks, End::Stall));
        let (text, err) = text_then_error(&client, protocol).await;
        assert_eq!(text, "ab", "{}", protocol.backend);
        assert!(
            matches!(
                err,
                LlmError::Timeout {
                    phase: augur::llm::TimeoutPhase::Stall,
                    ..
                }
            ),
            "{}: {err:?}",
            protocol.backend
        );
        assert_eq!(fake.calls(), 1, "{}: text was delivered", protocol.backend);
    }
}

#[tokio::test]
async fn every_protocol_reports_a_reset_after_text_as_interrupted() {
    for protocol in &PROTOCOLS {
        let (fake, client) = setup(protocol, 2).await;
        let mut chunks = (protocol.chunks)(&["a", "b"]);
        chunks.truncate(protocol.text_chunks);
        fake.push(Reply::stream(protocol.content_type, chunks, End::Reset));
        let (text, err) = text_then_error(&client, protocol).await;
        assert_eq!(text, "ab", "{}", protocol.backend);
        assert_eq!(err.code(), "llm.interrupted", "{}: {err}", protocol.backend);
        assert_eq!(fake.calls(), 1, "{}", protocol.backend);
    }
}

#[tokio::test]
async fn every_protocol_reports_a_truncated_stream_as_interrupted() {
    for protocol in &PROTOCOLS {
        let (fake, client) = setup(protocol, 0).await;
        let mut chunks = (protocol.chunks)(&["a", "b"]);
        chunks.truncate(protocol.text_chunks);
        fake.push(Reply::stream(protocol.content_type, chunks, End::Close));
        let err = client.complete(request()).await.unwrap_err();
        assert_eq!(err.code(), "llm.interrupted", "{}: {err}", protocol.backend);
    }
}

#[tokio::test]
async fn every_protocol_reports_malformed_json_as_a_protocol_error() {
    for protocol in &PROTOCOLS {
        let (fake, client) = setup(protocol, 2).await;
        let broken = if protocol.content_type.contains("ndjson") {
            "{\"response\": oops}\n".to_owned()
        } else {
            "event: content_block_delta\ndata: {\"type\": oops\n\n".to_owned()
        };
        fake.push(Reply::stream(
            protocol.content_type,
            vec![broken],
            End::Close,
        ));
        let err = client.complete(request()).await.unwrap_err();
        assert_eq!(err.code(), "llm.protocol", "{}: {err}", protocol.backend);
        assert_eq!(fake.calls(), 1, "{}: not retried", protocol.backend);
    }
}

#[tokio::test]
async fn every_protocol_rejects_the_wrong_content_type() {
    for protocol in &PROTOCOLS {
        let (fake, client) = setup(protocol, 2).await;
        fake.push(Reply::raw(200, "text/plain", "hello"));
        let err = client.complete(request()).await.unwrap_err();
        assert_eq!(err.code(), "llm.protocol", "{}: {err}", protocol.backend);
        assert!(err.to_string().contains("text/plain"), "{err}");
    }
}
