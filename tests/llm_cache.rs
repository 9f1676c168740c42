//! The response cache through the client: hits, misses on other parameters, expiry, eviction,
//! coalescing of identical requests in flight (whole and streamed), and persistence across
//! restarts.

mod llm_support;

use std::time::Duration;

use augur::llm::{CacheConfig, CompletionRequest, CompletionStream, LlmSettings, StreamEvent};
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
        ..LlmSettings::default()
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
    // The endpoint that produced the cached answer is credited with the hit; tokens count only
    // the five calls made (each reported 5 in, 2 out).
    assert_eq!(metrics.endpoints[0].cache_hits, 1);
    assert_eq!(metrics.endpoints[0].requests, 5);
    assert_eq!(
        (metrics.models[0].tokens_in, metrics.models[0].tokens_out),
        (25, 10)
    );
    assert_eq!(
        (
            metrics.endpoints[0].tokens_in,
            metrics.endpoints[0].tokens_out
        ),
        (25, 10)
    );
}

/// Reads a stream to its end: its deltas and the final answer's text.
async fn drain(mut stream: CompletionStream) -> (Vec<String>, String) {
    let mut deltas = Vec::new();
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            StreamEvent::Delta(text) => deltas.push(text),
            StreamEvent::Done(done) => return (deltas, done.text),
        }
    }
    panic!("the stream ended without its answer");
}

#[tokio::test]
async fn identical_streams_in_flight_share_one_call_and_a_late_joiner_gets_every_delta() {
    let fake = Fake::start().await;
    fake.push(openai_stream(&["a", "b", "c", "d"]).paced(Duration::from_millis(100)));
    let client = client(model("openai", &fake.url));
    let mut first = client.stream(request("same")).unwrap();
    assert_eq!(
        first.next().await.unwrap().unwrap(),
        StreamEvent::Delta("a".into())
    );
    // The second caller comes after the first delta went out, and still reads it.
    let second = client.stream(request("same")).unwrap();
    let ((first_rest, first_text), (second_all, second_text)) =
        futures::join!(drain(first), drain(second));
    assert_eq!(first_rest, vec!["b", "c", "d"]);
    assert_eq!(second_all, vec!["a", "b", "c", "d"]);
    assert_eq!(
        (first_text.as_str(), second_text.as_str()),
        ("abcd", "abcd")
    );
    assert_eq!(fake.calls(), 1);
    assert_eq!(client.metrics().models[0].coalesced, 1);
}

// On the paused clock time moves only while every task waits, so each caller drops the stream
// between two deltas (100 ms apart) however slowly the test runs, and the call is still open
// (its body ends at 800 ms) when the last caller drops it.
#[tokio::test(start_paused = true)]
async fn a_shared_stream_goes_on_when_one_caller_drops_it_and_stops_when_all_do() {
    let fake = Fake::start().await;
    let client = client(model("openai", &fake.url));
    fake.push(openai_stream(&["a", "b", "c", "d"]).paced(Duration::from_millis(100)));
    let mut quitter = client.stream(request("kept")).unwrap();
    let stayer = client.stream(request("kept")).unwrap();
    assert_eq!(
        quitter.next().await.unwrap().unwrap(),
        StreamEvent::Delta("a".into())
    );
    drop(quitter);
    assert_eq!(drain(stayer).await.1, "abcd");
    assert_eq!(fake.calls(), 1);

    fake.push(openai_stream(&["a", "b", "c", "d", "e", "f"]).paced(Duration::from_millis(100)));
    let mut one = client.stream(request("dropped")).unwrap();
    let mut two = client.stream(request("dropped")).unwrap();
    assert_eq!(
        one.next().await.unwrap().unwrap(),
        StreamEvent::Delta("a".into())
    );
    drop(one);
    // The other caller still reads the call, which is open until it goes too: the second delta
    // is sent after the first caller went.
    for expected in ["a", "b"] {
        assert_eq!(
            two.next().await.unwrap().unwrap(),
            StreamEvent::Delta(expected.into())
        );
    }
    assert_eq!(fake.streams_dropped_early(), 0);
    drop(two);
    assert!(
        fake.wait_dropped(1, Duration::from_secs(3)).await,
        "the server saw the connection close once every caller went"
    );
    assert_eq!(fake.calls(), 2);
}

// On the paused clock the deadline (150 ms) falls between the first delta (100 ms) and the second
// (200 ms), however slowly the test runs.
#[tokio::test(start_paused = true)]
async fn a_caller_s_deadline_on_a_shared_stream_ends_only_its_own_reading() {
    let fake = Fake::start().await;
    let client = client(model("openai", &fake.url));
    fake.push(openai_stream(&["a", "b", "c", "d"]).paced(Duration::from_millis(100)));
    let mut hurried = client
        .stream(CompletionRequest {
            deadline: Some(Duration::from_millis(150)),
            ..request("same")
        })
        .unwrap();
    let patient = client.stream(request("same")).unwrap();
    let err = loop {
        match hurried.next().await.unwrap() {
            Ok(StreamEvent::Delta(_)) => {}
            Ok(StreamEvent::Done(_)) => panic!("the deadline passes before the answer"),
            Err(err) => break err,
        }
    };
    assert_eq!(err.code(), "llm.deadline");
    assert!(hurried.next().await.is_none());
    assert_eq!(drain(patient).await.1, "abcd");
    assert_eq!(fake.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_reader_behind_past_its_deadline_gets_the_deadline_error_not_the_waiting_events() {
    let fake = Fake::start().await;
    let client = client(model("openai", &fake.url));
    fake.push(openai_stream(&["a", "b"]));
    let mut hurried = client
        .stream(CompletionRequest {
            deadline: Some(Duration::from_millis(100)),
            ..request("same")
        })
        .unwrap();
    let patient = client.stream(request("same")).unwrap();
    // The other caller reads the whole answer, so every event, the answer included, waits for
    // the hurried caller, which reads only after its deadline.
    assert_eq!(drain(patient).await.1, "ab");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let err = hurried
        .next()
        .await
        .unwrap()
        .expect_err("a caller past its deadline reads no more events");
    assert_eq!(err.code(), "llm.deadline");
    assert!(hurried.next().await.is_none());
    assert_eq!(client.metrics().models[0].errors, 1);
    assert_eq!(fake.calls(), 1);
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
        ..LlmSettings::default()
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
