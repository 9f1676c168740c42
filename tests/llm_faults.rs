//! Fault injection: what the client does when a backend misbehaves.

mod llm_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use augur::llm::{CompletionRequest, LlmClient, LlmDeps, LlmError, StreamEvent, TimeoutPhase};
use futures::StreamExt;
use llm_support::{
    End, Fake, Reply, client, dead_url, endpoints_model, model, openai_body, openai_sse,
    openai_stream,
};

fn request() -> CompletionRequest {
    CompletionRequest {
        prompt: "fn main() {".into(),
        max_tokens: Some(8),
        use_cache: false,
        ..CompletionRequest::new("default")
    }
}

fn stream_request() -> CompletionRequest {
    CompletionRequest {
        stream: true,
        ..request()
    }
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after_then_succeeds() {
    let fake = Fake::start().await;
    let client = client(model("openai", &fake.url));
    fake.push(Reply::status(429, "slow down").header("retry-after", "1"));
    fake.push(openai_body("ok"));
    let started = Instant::now();
    let done = client.complete(request()).await.unwrap();
    assert_eq!(done.text, "ok");
    assert_eq!(done.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(fake.calls(), 2);
    assert_eq!(client.metrics().endpoints[0].retries, 1);
}

#[tokio::test]
async fn retry_after_beyond_the_limit_fails_at_once_with_a_rate_limit_error() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.max_retry_after_ms = 1_000;
    let client = client(config);
    fake.push(Reply::status(429, "quota").header("retry-after", "120"));
    let started = Instant::now();
    let err = client.complete(request()).await.unwrap_err();
    assert!(
        matches!(err, LlmError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(120))
    );
    assert!(err.retryable());
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn server_error_500_is_retried_with_backoff() {
    let fake = Fake::start().await;
    let client = client(model("openai", &fake.url));
    fake.push(Reply::status(500, "boom"));
    fake.push(openai_body("recovered"));
    let done = client.complete(request()).await.unwrap();
    assert_eq!(done.text, "recovered");
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn persistent_503_exhausts_the_retries_into_a_server_error() {
    let fake = Fake::start().await;
    let client = client(model("openai", &fake.url));
    fake.set_default(Reply::status(503, "overloaded"));
    let err = client.complete(request()).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Server { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(fake.calls(), 3, "one attempt and two retries");
    let metrics = client.metrics();
    assert_eq!(metrics.endpoints[0].errors, 3);
    assert_eq!(
        metrics.endpoints[0].errors_by_kind.get(err.code()),
        Some(&3),
        "{:?}",
        metrics.endpoints[0].errors_by_kind
    );
    assert_eq!(metrics.models[0].errors, 1);
}

#[tokio::test]
async fn unauthorized_is_not_retried_and_names_the_variable() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.api_key_env = Some("AUGUR_TEST_KEY".into());
    let models = BTreeMap::from([("default".to_owned(), config)]);
    let keys = |_: &str| Some("sk-very-secret-key".to_owned());
    let client = LlmClient::new(
        &models,
        LlmDeps {
            keys: Some(Arc::new(keys)),
            ..LlmDeps::default()
        },
    )
    .unwrap();
    fake.push(Reply::status(401, "invalid api key"));
    let err = client.complete(request()).await.unwrap_err();
    assert_eq!(err.code(), "llm.unauthorized");
    assert!(!err.retryable());
    assert!(err.hint().contains("AUGUR_TEST_KEY"));
    assert_eq!(fake.calls(), 1);
    assert_eq!(
        fake.requests()[0].headers["authorization"],
        "Bearer sk-very-secret-key"
    );
    // The key appears nowhere a user or a log could see it.
    for text in [
        format!("{err}"),
        format!("{err:?}"),
        err.hint(),
        format!("{client:?}"),
    ] {
        assert!(!text.contains("sk-very-secret-key"), "{text}");
    }
}

#[tokio::test]
async fn bad_request_is_not_retried() {
    let fake = Fake::start().await;
    let client = client(model("openai", &fake.url));
    fake.push(Reply::status(400, "max_tokens is too large"));
    let err = client.complete(request()).await.unwrap_err();
    assert!(
        matches!(&err, LlmError::BadRequest { status: 400, message, .. } if message == "max_tokens is too large")
    );
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn missing_key_fails_before_any_http_call() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.api_key_env = Some("AUGUR_SURELY_UNSET_VARIABLE_42".into());
    let client = client(config);
    let err = client.complete(request()).await.unwrap_err();
    assert_eq!(
        err,
        LlmError::MissingApiKey {
            env: "AUGUR_SURELY_UNSET_VARIABLE_42".into()
        }
    );
    assert_eq!(fake.calls(), 0);
}

#[tokio::test]
async fn slow_first_token_times_out_then_retries() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.first_token_timeout_ms = 1_000;
    config.retries = 1;
    let client = client(config);
    fake.push(openai_stream(&["late"]).first_after(Duration::from_secs(5)));
    fake.push(openai_stream(&["fast"]));
    let started = Instant::now();
    let done = client.complete(stream_request()).await.unwrap();
    assert_eq!(done.text, "fast");
    assert_eq!(done.attempts, 2);
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn slow_first_token_without_retries_is_a_first_token_timeout() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.first_token_timeout_ms = 200;
    config.retries = 0;
    let client = client(config);
    fake.push(openai_body("late").delayed(Duration::from_secs(5)));
    let err = client.complete(request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            LlmError::Timeout {
                phase: TimeoutPhase::FirstToken,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "llm.timeout.first_token");
}

#[tokio::test]
async fn slow_first_token_fails_over_to_the_next_endpoint() {
    let slow = Fake::start().await;
    let fast = Fake::start().await;
    let mut config = endpoints_model("openai", &[&slow.url, &fast.url]);
    config.first_token_timeout_ms = 1_000;
    let client = client(config);
    slow.set_default(openai_stream(&["slow"]).first_after(Duration::from_secs(5)));
    fast.set_default(openai_stream(&["fast"]));
    let done = client.complete(stream_request()).await.unwrap();
    assert_eq!(done.text, "fast");
    assert_eq!(done.endpoint, fast.url);
    assert_eq!((slow.calls(), fast.calls()), (1, 1));
}

#[tokio::test]
async fn connection_refused_fails_over_and_then_a_dead_model_reports_connect() {
    let fake = Fake::start().await;
    let dead = dead_url();
    let client = client(endpoints_model("openai", &[&dead, &fake.url]));
    fake.set_default(openai_body("alive"));
    for _ in 0..4 {
        assert_eq!(client.complete(request()).await.unwrap().text, "alive");
    }
    assert_eq!(fake.calls(), 4);

    let client = llm_support::client(model("ollama", &dead));
    let err = client.complete(request()).await.unwrap_err();
    assert_eq!(err.code(), "llm.connect");
    assert!(err.hint().contains("ollama serve"), "{}", err.hint());
}

#[tokio::test]
async fn stall_mid_stream_is_a_stall_timeout_after_the_deltas() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.first_token_timeout_ms = 1_000;
    let client = client(config);
    let mut chunks = openai_sse(&["a", "b"]);
    chunks.truncate(2);
    fake.push(Reply::stream("text/event-stream", chunks, End::Stall));
    let mut stream = client.stream(request()).unwrap();
    let mut deltas = Vec::new();
    let err = loop {
        match stream.next().await.expect("an item") {
            Ok(StreamEvent::Delta(text)) => deltas.push(text),
            Ok(StreamEvent::Done(_)) => panic!("a stalled stream cannot finish"),
            Err(err) => break err,
        }
    };
    assert_eq!(deltas, vec!["a", "b"]);
    assert!(
        matches!(
            err,
            LlmError::Timeout {
                phase: TimeoutPhase::Stall,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(fake.calls(), 1, "text was delivered, so no retry");
    assert!(
        fake.wait_dropped(1, Duration::from_secs(2)).await,
        "the client closed the connection"
    );
}

#[tokio::test]
async fn stall_mid_stream_in_complete_is_retried() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.first_token_timeout_ms = 1_000;
    let client = client(config);
    let mut chunks = openai_sse(&["a"]);
    chunks.truncate(1);
    fake.push(Reply::stream("text/event-stream", chunks, End::Stall));
    fake.push(openai_stream(&["whole"]));
    let done = client.complete(stream_request()).await.unwrap();
    assert_eq!(done.text, "whole");
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn connection_reset_mid_stream_is_interrupted() {
    let fake = Fake::start().await;
    let client = client(model("openai", &fake.url));
    let mut chunks = openai_sse(&["par", "tial"]);
    chunks.truncate(2);
    fake.push(Reply::stream("text/event-stream", chunks, End::Reset));
    let mut stream = client.stream(request()).unwrap();
    let mut text = String::new();
    let err = loop {
        match stream.next().await.expect("an item") {
            Ok(StreamEvent::Delta(delta)) => text.push_str(&delta),
            Ok(StreamEvent::Done(_)) => panic!("a reset stream cannot finish"),
            Err(err) => break err,
        }
    };
    assert_eq!(text, "partial");
    assert_eq!(err.code(), "llm.interrupted");
    assert_eq!(fake.calls(), 1);

    // The same fault under `complete` (nothing delivered yet) is retried.
    let mut chunks = openai_sse(&["x"]);
    chunks.truncate(1);
    fake.push(Reply::stream("text/event-stream", chunks, End::Reset));
    fake.push(openai_stream(&["y"]));
    assert_eq!(client.complete(stream_request()).await.unwrap().text, "y");
}

#[tokio::test]
async fn malformed_json_is_a_protocol_error_without_retry() {
    let fake = Fake::start().await;
    let client = client(model("openai", &fake.url));
    fake.push(Reply::raw(
        200,
        "application/json",
        "{\"choices\": [ {\"text\": ",
    ));
    let err = client.complete(request()).await.unwrap_err();
    assert_eq!(err.code(), "llm.protocol");
    assert!(err.to_string().contains("malformed JSON"), "{err}");
    assert_eq!(fake.calls(), 1);

    fake.push(Reply::stream(
        "text/event-stream",
        vec!["data: {\"choices\": [oops\n\n".into()],
        End::Close,
    ));
    let err = client.complete(stream_request()).await.unwrap_err();
    assert_eq!(err.code(), "llm.protocol");
}

#[tokio::test]
async fn truncated_sse_is_interrupted() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.retries = 0;
    let client = client(config);
    // The stream stops in the middle of an event, without a finish reason or `[DONE]`.
    fake.push(Reply::stream(
        "text/event-stream",
        vec![
            "data: {\"choices\":[{\"text\":\"a\"}]}\n\n".into(),
            "data: {\"choices\":[{\"te".into(),
        ],
        End::Close,
    ));
    let err = client.complete(stream_request()).await.unwrap_err();
    assert_eq!(err.code(), "llm.interrupted");
    assert!(err.retryable());
}

#[tokio::test]
async fn truncated_ndjson_is_interrupted() {
    let fake = Fake::start().await;
    let mut config = model("ollama", &fake.url);
    config.retries = 0;
    let client = client(config);
    fake.push(Reply::stream(
        "application/x-ndjson",
        vec!["{\"response\":\"a\",\"done\":false}\n{\"response\":\"b\",\"do".into()],
        End::Close,
    ));
    let err = client.complete(stream_request()).await.unwrap_err();
    assert_eq!(err.code(), "llm.interrupted");
}

#[tokio::test]
async fn wrong_content_type_is_a_protocol_error() {
    let fake = Fake::start().await;
    let client = client(model("openai", &fake.url));
    fake.push(Reply::raw(200, "text/html", "<html>captive portal</html>"));
    let err = client.complete(request()).await.unwrap_err();
    assert_eq!(err.code(), "llm.protocol");
    assert!(err.to_string().contains("text/html"), "{err}");
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn circuit_breaker_opens_and_stops_calls() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.retries = 0;
    config.breaker_failures = 2;
    config.breaker_cooldown_ms = 60_000;
    let client = client(config);
    fake.set_default(Reply::status(500, "down"));
    for _ in 0..2 {
        assert_eq!(
            client.complete(request()).await.unwrap_err().code(),
            "llm.server"
        );
    }
    let err = client.complete(request()).await.unwrap_err();
    assert_eq!(err.code(), "llm.circuit_open");
    assert_eq!(fake.calls(), 2, "an open breaker makes no HTTP call");
    assert_eq!(
        client.metrics().endpoints[0].breaker,
        augur::llm::breaker::BreakerState::Open
    );
}

#[tokio::test]
async fn total_timeout_bounds_a_slow_stream() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.total_timeout_ms = 400;
    let client = client(config);
    fake.push(openai_stream(&["a", "b", "c", "d", "e", "f"]).paced(Duration::from_millis(150)));
    let err = client.complete(stream_request()).await.unwrap_err();
    assert_eq!(err.code(), "llm.timeout.total");
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_exactly_with_a_paused_clock() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.max_retry_after_ms = 60_000;
    config.total_timeout_ms = 120_000;
    let client = client(config);
    fake.push(Reply::status(429, "later").header("retry-after", "30"));
    fake.push(openai_body("ok"));
    let started = tokio::time::Instant::now();
    assert_eq!(client.complete(request()).await.unwrap().text, "ok");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_exponentially_with_a_paused_clock() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.retry_base_delay_ms = 1_000;
    config.retry_max_delay_ms = 10_000;
    config.total_timeout_ms = 120_000;
    let client = client(config);
    fake.push(Reply::status(500, "a"));
    fake.push(Reply::status(502, "b"));
    fake.push(openai_body("third time"));
    let started = tokio::time::Instant::now();
    assert_eq!(client.complete(request()).await.unwrap().text, "third time");
    let waited = started.elapsed();
    // 1 s then 2 s, each with up to as much again of jitter.
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_secs(6),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn first_token_timeout_fires_at_its_time_with_a_paused_clock() {
    let fake = Fake::start().await;
    let mut config = model("openai", &fake.url);
    config.first_token_timeout_ms = 10_000;
    config.retries = 0;
    let client = client(config);
    fake.push(openai_stream(&["late"]).first_after(Duration::from_secs(60)));
    let started = tokio::time::Instant::now();
    let err = client.complete(stream_request()).await.unwrap_err();
    assert_eq!(err.code(), "llm.timeout.first_token");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_millis(10_100),
        "{waited:?}"
    );
}

/// A listener whose accept queue is full: the kernel drops new connection attempts (their SYNs go
/// unanswered), so a connect waits until its timeout. The connections that filled the queue are
/// kept with it.
async fn full_listener() -> (tokio::net::TcpListener, Vec<tokio::net::TcpStream>, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    for _ in 0..64 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(stream)) => held.push(stream),
            Ok(Err(e)) => panic!("connecting to fill the queue: {e}"),
            // This attempt got no answer: the queue is full.
            Err(_) => return (listener, held, format!("http://{addr}")),
        }
    }
    panic!("the accept queue never filled");
}

#[tokio::test]
async fn a_server_that_never_accepts_is_a_connect_timeout() {
    let (_listener, _held, url) = full_listener().await;
    let mut config = model("openai", &url);
    config.connect_timeout_ms = 300;
    config.retries = 0;
    let client = client(config);
    let err = client.complete(request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            LlmError::Timeout {
                phase: TimeoutPhase::Connect,
                after,
                ..
            } if after == Duration::from_millis(300)
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "llm.timeout.connect");
    assert!(err.retryable());
}
