//! The response cache through the client: hits, misses on other parameters, expiry, eviction,
//! coalescing of identical requests in flight, and persistence across restarts.

mod llm_support;

use std::time::Duration;

use augur::llm::{CacheConfig, CompletionRequest, LlmSettings, StreamEvent};
use futures::StreamExt;
use llm_support::{Fake, client, client_with, model, openai_body, openai_stream};

fn request(prompt: &str) -> CompletionRequest {
    CompletionRequest {
        prompt: prompt.into(),
        max_tokens: Some(8),
        temperature: Some(0.0),
        ..CompletionRequest::new("default")
    }
}

fn settings(capacity: usize, ttl_ms: u64) -> LlmSettings {
    LlmSettings {
        cache: CacheConfig {
            enabled: true,
            capacity,
            ttl_ms,
            path: None,
        },
    }
}

#[tokio::test]
async fn identical_requests_hit_and_other_parameters_miss() {
    let fake = Fake::start().await;
    fake.set_default(openai_body("answer"));
    let client = client(model("openai", &fake.url));
    let first = client.complete(request("p")).await.unwrap();
    assert!(!first.cached);
    let second = client.complete(request("p")).await.unwrap();
    assert!(second.cached);
    assert_eq!(second.text, "answer");
    assert_eq!(second.attempts, 0);
    assert_eq!(fake.calls(), 1);

    // Another temperature, suffix, prompt or stop list is another key.
    client
        .complete(CompletionRequest {
            temperature: Some(0.5),
            ..request("p")
        })
        .await
        .unwrap();
    client
        .complete(CompletionRequest {
            suffix: Some("}".into()),
            ..request("p")
        })
        .await
        .unwrap();
    client
        .complete(CompletionRequest {
            stop: vec!["\n".into()],
            ..request("p")
        })
        .await
        .unwrap();
    // Opting out of the cache always calls.
    client
        .complete(CompletionRequest {
            use_cache: false,
            ..request("p")
        })
        .await
        .unwrap();
    assert_eq!(fake.calls(), 5);
    let metrics = client.metrics();
    assert_eq!(metrics.cache.hits, 1);
    assert_eq!(metrics.models[0].cache_hits, 1);
    assert_eq!(metrics.models[0].requests, 6);
}

#[tokio::test]
async fn entries_expire_after_the_ttl() {
    let fake = Fake::start().await;
    fake.set_default(openai_body("answer"));
    let client = client_with(model("openai", &fake.url), settings(16, 600));
    client.complete(request("p")).await.unwrap();
    assert!(client.complete(request("p")).await.unwrap().cached);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!client.complete(request("p")).await.unwrap().cached);
    assert_eq!(fake.calls(), 2);
    assert_eq!(client.metrics().cache.expirations, 1);
}

#[tokio::test]
async fn the_least_recently_used_entry_is_evicted() {
    let fake = Fake::start().await;
    fake.set_default(openai_body("answer"));
    let client = client_with(model("openai", &fake.url), settings(2, 60_000));
    client.complete(request("a")).await.unwrap();
    client.complete(request("b")).await.unwrap();
    client.complete(request("a")).await.unwrap(); // hit: b is now the oldest
    client.complete(request("c")).await.unwrap(); // evicts b
    assert!(client.complete(request("a")).await.unwrap().cached);
    assert!(!client.complete(request("b")).await.unwrap().cached);
    assert_eq!(fake.calls(), 4);
    assert!(client.metrics().cache.evictions >= 1);
}

#[tokio::test]
async fn identical_requests_in_flight_share_one_call() {
    let fake = Fake::start().await;
    fake.set_default(openai_body("shared").delayed(Duration::from_millis(300)));
    let client = client(model("openai", &fake.url));
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client.complete(request("same")).await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().text, "shared");
    }
    assert_eq!(fake.calls(), 1);
    assert_eq!(client.metrics().models[0].coalesced, 9);
}

#[tokio::test]
async fn a_coalesced_call_survives_one_caller_dropping_out() {
    let fake = Fake::start().await;
    fake.set_default(openai_body("kept").delayed(Duration::from_millis(300)));
    let client = client(model("openai", &fake.url));
    let quitter = {
        let client = client.clone();
        tokio::spawn(async move { client.complete(request("same")).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stayer = {
        let client = client.clone();
        tokio::spawn(async move { client.complete(request("same")).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    quitter.abort();
    assert_eq!(stayer.await.unwrap().unwrap().text, "kept");
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn streams_fill_and_use_the_cache() {
    let fake = Fake::start().await;
    fake.push(openai_stream(&["a", "b"]));
    let client = client(model("openai", &fake.url));
    let first = client
        .stream(request("p"))
        .unwrap()
        .collect_completion()
        .await
        .unwrap();
    assert_eq!(first.text, "ab");
    let mut again = client.stream(request("p")).unwrap();
    assert_eq!(
        again.next().await.unwrap().unwrap(),
        StreamEvent::Delta("ab".into())
    );
    match again.next().await.unwrap().unwrap() {
        StreamEvent::Done(done) => assert!(done.cached),
        other => panic!("{other:?}"),
    }
    // A whole-answer request with the same parameters hits too.
    assert!(client.complete(request("p")).await.unwrap().cached);
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn the_cache_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("llm-cache.json");
    let fake = Fake::start().await;
    fake.set_default(openai_body("persisted"));
    let with_file = LlmSettings {
        cache: CacheConfig {
            path: Some(path.clone()),
            ..CacheConfig::default()
        },
    };
    {
        let client = client_with(model("openai", &fake.url), with_file.clone());
        client.complete(request("p")).await.unwrap();
        // Dropping the last clone saves the file.
    }
    assert!(path.exists());
    let client = client_with(model("openai", &fake.url), with_file);
    let again = client.complete(request("p")).await.unwrap();
    assert!(again.cached);
    assert_eq!(again.text, "persisted");
    assert_eq!(fake.calls(), 1);
    // The file never holds keys or headers, only answers and hashes.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("persisted") && !text.contains("prompt\":\"p"));
}
