//! API keys stay secret: with a key configured and every log level recorded, the key reaches the
//! servers that need it and appears neither in the log nor in the persisted cache file. Secrets in
//! a request's texts leave as placeholders and come back in the answer, whole or streamed.

mod llm_support;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use augur::llm::{
    CacheConfig, CompletionRequest, ExtraContext, LlmClient, LlmDeps, LlmSettings, StreamEvent,
};
use futures::StreamExt;
use llm_support::{
    Fake, Reply, client_with, model, model_list, openai_body, openai_stream, two_endpoints,
    wait_until,
};
use tracing_subscriber::fmt::MakeWriter;

const KEY: &str = "sk-augur-test-5ecret-key-4242";

/// A log destination that keeps everything written to it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

fn request(prompt: &str) -> CompletionRequest {
    CompletionRequest {
        prompt: prompt.into(),
        max_tokens: Some(8),
        ..CompletionRequest::new("default")
    }
}

// The test runs on one thread (tokio's default test runtime), so the subscriber set as this
// thread's default sees the client's, the fakes' and the HTTP stack's events.
#[tokio::test]
async fn the_key_is_in_no_log_line_and_not_in_the_cache_file() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(log.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let cache_path = dir.path().join("llm-cache.json");
    let refusing = Fake::start().await;
    let serving = Fake::start().await;
    // The first endpoint refuses the key (on its health check and on requests); the second
    // serves.
    refusing.route("/v1/models", Reply::status(401, "invalid api key"));
    refusing.set_default(Reply::status(401, "invalid api key"));
    serving.route("/v1/models", model_list());
    serving.push(Reply::status(500, "hiccup"));
    serving.push(openai_body("answer"));
    serving.push(openai_stream(&["str", "eamed"]));
    let mut config = two_endpoints(&refusing, &serving);
    config.api_key_env = Some("AUGUR_SECRET_TEST_KEY".into());
    config.health_check_interval_ms = 60_000;
    let models = BTreeMap::from([("default".to_owned(), config)]);
    let keys = |name: &str| (name == "AUGUR_SECRET_TEST_KEY").then(|| KEY.to_owned());
    let client = LlmClient::new(
        &models,
        LlmDeps {
            settings: LlmSettings {
                cache: CacheConfig {
                    path: Some(cache_path.clone()),
                    ..CacheConfig::default()
                },
                ..LlmSettings::default()
            },
            keys: Some(Arc::new(keys)),
            ..LlmDeps::default()
        },
    )
    .unwrap();
    // Wait for the first health check of both endpoints.
    wait_until(Duration::from_secs(3), || {
        refusing.route_calls("/v1/models") + serving.route_calls("/v1/models") == 2
            && !client.metrics().endpoints[0].healthy
    })
    .await;
    assert!(!client.metrics().endpoints[0].healthy);

    // A 500, retried, then an answer; a streamed answer; a cache hit.
    assert_eq!(client.complete(request("p")).await.unwrap().text, "answer");
    let mut stream = client.stream(request("q")).unwrap();
    while let Some(item) = stream.next().await {
        if let StreamEvent::Done(done) = item.unwrap() {
            assert_eq!(done.text, "streamed");
        }
    }
    assert!(client.complete(request("p")).await.unwrap().cached);
    // A refused key, straight from the refusing endpoint.
    let mut only_refusing = model("openai", &refusing.v1());
    only_refusing.api_key_env = Some("AUGUR_SECRET_TEST_KEY".into());
    client
        .reconfigure(&BTreeMap::from([("default".to_owned(), only_refusing)]))
        .unwrap();
    let err = client.complete(request("r")).await.unwrap_err();
    assert_eq!(err.code(), "llm.unauthorized");
    drop(client);

    // The key did travel, so there was something to leak.
    let sent = serving.requests();
    assert_eq!(sent[0].headers["authorization"], format!("Bearer {KEY}"));
    assert_eq!(refusing.calls(), 1);

    let text = log.text();
    assert!(
        text.contains("LLM attempt failed") && text.contains("failed its health check"),
        "the log recorded the client's events: {text}"
    );
    assert!(!text.contains(KEY), "the key is in the log: {text}");
    assert!(!text.contains("5ecret"), "part of the key is in the log");

    let saved = std::fs::read_to_string(&cache_path).unwrap();
    assert!(saved.contains("answer"), "the cache was saved: {saved}");
    assert!(
        !saved.contains(KEY),
        "the key is in the cache file: {saved}"
    );
}

// Fake secrets, assembled from pieces so that no scanner takes this file for a leak.
const AWS_KEY: &str = concat!("AKIA", "QX7Z3M5B", "T2WP9LKD");
const GITHUB_TOKEN: &str = concat!("ghp_", "8fK2mQ9xR4tL7vB1nC6", "zH3jW5pY0sD2gA8eU4");

#[tokio::test]
async fn secrets_leave_as_placeholders_and_come_back_in_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let cache_path = dir.path().join("llm-cache.json");
    let fake = Fake::start().await;
    fake.push(openai_body("id = \"<redacted:aws-access-key>\""));
    // A streamed answer whose pieces split a placeholder.
    fake.push(openai_stream(&[
        "gh = \"<reda",
        "cted:github-token>\" # <",
        "redacted:aws-access-key> <b>",
    ]));
    let settings = LlmSettings {
        cache: CacheConfig {
            path: Some(cache_path.clone()),
            ..CacheConfig::default()
        },
        ..LlmSettings::default()
    };
    let client = client_with(model("openai", &fake.v1()), settings);
    let request = CompletionRequest {
        prompt: format!("aws = \"{AWS_KEY}\"\nid = "),
        suffix: Some(format!("\ngh = \"{GITHUB_TOKEN}\"\n")),
        extra: vec![ExtraContext {
            filename: "keys.py".into(),
            text: format!("KEY = '{AWS_KEY}'\n"),
        }],
        max_tokens: Some(16),
        stop: vec![format!("\n{AWS_KEY}")],
        ..CompletionRequest::new("default")
    };

    let whole = client.complete(request.clone()).await.unwrap();
    assert_eq!(whole.text, format!("id = \"{AWS_KEY}\""));
    let again = client.complete(request.clone()).await.unwrap();
    assert!(again.cached);
    assert_eq!(
        again.text, whole.text,
        "a cache hit gets the value back too"
    );

    let mut streamed = client
        .stream(CompletionRequest {
            prompt: format!("gh = \"{GITHUB_TOKEN}\"\naws = \"{AWS_KEY}\"\n"),
            ..request.clone()
        })
        .unwrap();
    let (mut deltas, mut done) = (String::new(), None);
    while let Some(item) = streamed.next().await {
        match item.unwrap() {
            StreamEvent::Delta(piece) => {
                assert!(!piece.is_empty());
                deltas.push_str(&piece);
            }
            StreamEvent::Done(completion) => done = Some(completion.text),
        }
    }
    let expected = format!("gh = \"{GITHUB_TOKEN}\" # {AWS_KEY} <b>");
    assert_eq!(deltas, expected, "the pieces, restored");
    assert_eq!(done.as_deref(), Some(expected.as_str()), "the whole answer");

    let sent = fake.requests();
    assert_eq!(sent.len(), 2, "the second complete was a cache hit");
    for request in &sent {
        let body = request.body.to_string();
        assert!(!body.contains(AWS_KEY), "{body}");
        assert!(!body.contains(GITHUB_TOKEN), "{body}");
        assert!(body.contains("<redacted:aws-access-key>"), "{body}");
        assert!(body.contains("<redacted:github-token>"), "{body}");
    }
    drop(streamed);
    drop(client);
    let saved = std::fs::read_to_string(&cache_path).unwrap();
    assert!(saved.contains("redacted:aws-access-key"), "{saved}");
    assert!(
        !saved.contains(AWS_KEY) && !saved.contains(GITHUB_TOKEN),
        "{saved}"
    );
}
