//! Cancellation, deadlines, the priority queue through the client, hot reload, token counting and
//! latency metrics.

mod llm_support;

use std::collections::BTreeMap;
use std::time::Duration;

use augur::llm::{CompletionRequest, LlmError, Priority, StreamEvent};
use futures::StreamExt;
use llm_support::{
    Fake, client, endpoints_model, model, openai_body, openai_stream, uncached_request,
};

fn slow_stream() -> augur::llm::CompletionRequest {
    CompletionRequest {
        stream: true,
        ..uncached_request("slow")
    }
}

#[tokio::test]
async fn dropping_a_stream_closes_the_connection() {
    let fake = Fake::start().await;
    fake.push(
        openai_stream(&["a", "b", "c", "d", "e", "f", "g", "h"]).paced(Duration::from_millis(100)),
    );
    let client = client(model("openai", &fake.url));
    let mut stream = client.stream(uncached_request("p")).unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        StreamEvent::Delta("a".into())
    );
    drop(stream);
    assert!(
        fake.wait_dropped(1, Duration::from_secs(3)).await,
        "the server saw the connection close before the stream's end"
    );
}

#[tokio::test]
async fn dropping_a_complete_future_closes_the_connection() {
    let fake = Fake::start().await;
    fake.push(
        openai_stream(&["a", "b", "c", "d", "e", "f", "g", "h"]).paced(Duration::from_millis(100)),
    );
    let client = client(model("openai", &fake.url));
    let gave_up =
        tokio::time::timeout(Duration::from_millis(250), client.complete(slow_stream())).await;
    assert!(gave_up.is_err());
    assert!(fake.wait_dropped(1, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn a_cancelled_queued_request_makes_no_http_call() {
    let fake = Fake::start().await;
    fake.set_default(openai_stream(&["a", "b", "c"]).paced(Duration::from_millis(300)));
    let mut config = model("openai", &fake.url);
    config.max_in_flight = 1;
    let client = client(config);
    let running = {
        let client = client.clone();
        tokio::spawn(async move { client.complete(slow_stream()).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let queued = {
        let client = client.clone();
        tokio::spawn(async move { client.complete(uncached_request("queued")).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(client.metrics().endpoints[0].queued, 1);
    queued.abort();
    assert!(running.await.unwrap().is_ok());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        fake.calls(),
        1,
        "the cancelled request never reached the server"
    );
    assert_eq!(client.metrics().endpoints[0].queued, 0);
}

#[tokio::test]
async fn a_deadline_passing_in_the_queue_fails_without_an_http_call() {
    let fake = Fake::start().await;
    fake.set_default(openai_stream(&["a", "b", "c"]).paced(Duration::from_millis(300)));
    let mut config = model("openai", &fake.url);
    config.max_in_flight = 1;
    let client = client(config);
    let running = {
        let client = client.clone();
        tokio::spawn(async move { client.complete(slow_stream()).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let err = client
        .complete(CompletionRequest {
            deadline: Some(Duration::from_millis(100)),
            ..uncached_request("hurried")
        })
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::DeadlineExceeded { .. }), "{err:?}");
    running.await.unwrap().unwrap();
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn queued_requests_reach_the_server_in_priority_order() {
    let fake = Fake::start().await;
    fake.push(openai_stream(&["a", "b"]).paced(Duration::from_millis(400)));
    fake.set_default(openai_body("x"));
    let mut config = model("openai", &fake.url);
    config.max_in_flight = 1;
    let client = client(config);
    let mut tasks = vec![{
        let client = client.clone();
        tokio::spawn(async move { client.complete(slow_stream()).await })
    }];
    tokio::time::sleep(Duration::from_millis(150)).await;
    for (prompt, priority) in [
        ("background", Priority::Background),
        ("action", Priority::Action),
        ("interactive", Priority::Interactive),
    ] {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client
                .complete(CompletionRequest {
                    priority,
                    ..uncached_request(prompt)
                })
                .await
        }));
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let order: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.body["prompt"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(order, vec!["slow", "interactive", "action", "background"]);
}

#[tokio::test(start_paused = true)]
async fn requests_per_minute_through_the_client_with_a_paused_clock() {
    let fake = Fake::start().await;
    fake.set_default(openai_body("x"));
    let mut config = model("openai", &fake.url);
    config.requests_per_minute = 2;
    config.total_timeout_ms = 10 * 60 * 1000;
    let client = client(config);
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for (i, priority) in [
        Priority::Background,
        Priority::Background,
        Priority::Background,
        Priority::Interactive,
    ]
    .into_iter()
    .enumerate()
    {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let done = client
                .complete(CompletionRequest {
                    priority,
                    ..uncached_request(&format!("r{i}"))
                })
                .await
                .unwrap();
            (i, start.elapsed(), done)
        }));
        tokio::task::yield_now().await;
    }
    let mut finished = Vec::new();
    for task in tasks {
        finished.push(task.await.unwrap());
    }
    finished.sort_by_key(|(_, at, _)| *at);
    let order: Vec<usize> = finished.iter().map(|(i, _, _)| *i).collect();
    let secs: Vec<u64> = finished.iter().map(|(_, at, _)| at.as_secs()).collect();
    // Two go at once (the burst); then one per 30 s, the interactive one first.
    assert_eq!(order, vec![0, 1, 3, 2]);
    assert_eq!(secs, vec![0, 0, 30, 60]);
}

#[tokio::test]
async fn reconfigure_takes_effect_on_the_next_request_and_rejects_bad_tables() {
    let old = Fake::start().await;
    let new = Fake::start().await;
    old.set_default(openai_body("old"));
    new.set_default(openai_body("new"));
    let client = client(model("openai", &old.url));
    assert_eq!(
        client.complete(uncached_request("p")).await.unwrap().text,
        "old"
    );
    let mut models = BTreeMap::from([("default".to_owned(), model("openai", &new.url))]);
    client.reconfigure(&models).unwrap();
    assert_eq!(
        client.complete(uncached_request("p")).await.unwrap().text,
        "new"
    );

    // A configuration the client cannot build (a misspelt backend no longer gets this far: it
    // fails when the configuration is read).
    models.get_mut("default").unwrap().fim_template = Some("no placeholders".into());
    let err = client.reconfigure(&models).unwrap_err();
    assert_eq!(err.code(), "llm.config");
    assert_eq!(
        client.complete(uncached_request("p")).await.unwrap().text,
        "new",
        "the old table stays"
    );

    let err = client
        .complete(CompletionRequest::new("nonexistent"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "llm.unknown_model");
}

#[tokio::test]
async fn token_counts_and_latency_metrics() {
    let fake = Fake::start().await;
    fake.set_default(openai_stream(&["a"]));
    let mut config = model("openai", &fake.url);
    config.model = "gpt-4o-mini".into();
    let client = client(config);
    assert_eq!(client.count_tokens("default", "hello world").unwrap(), 2);
    for i in 0..5 {
        client
            .complete(CompletionRequest {
                stream: true,
                ..uncached_request(&format!("{i}"))
            })
            .await
            .unwrap();
    }
    let metrics = client.metrics();
    let endpoint = &metrics.endpoints[0];
    assert_eq!((endpoint.requests, endpoint.successes), (5, 5));
    assert_eq!(endpoint.ttft.count, 5);
    assert!(endpoint.ttft.p50.unwrap() <= endpoint.total.p99.unwrap());
    assert_eq!(endpoint.tokens_in, 25);
    let printed = metrics.to_string();
    assert!(printed.contains("ttft ms p50/p95/p99"), "{printed}");
}

#[tokio::test]
async fn least_in_flight_sends_to_the_idle_endpoint() {
    let busy = Fake::start().await;
    let idle = Fake::start().await;
    busy.set_default(openai_stream(&["a", "b", "c"]).paced(Duration::from_millis(300)));
    idle.set_default(openai_body("idle"));
    let mut config = endpoints_model("openai", &[&busy.url, &idle.url]);
    config.strategy = augur::llm::Strategy::LeastInFlight;
    let client = client(config);
    // With both idle, the first endpoint is chosen; it then has one request in flight.
    let running = {
        let client = client.clone();
        tokio::spawn(async move { client.complete(slow_stream()).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    for i in 0..3 {
        let done = client
            .complete(uncached_request(&format!("q{i}")))
            .await
            .unwrap();
        assert_eq!(done.endpoint, idle.url);
    }
    running.await.unwrap().unwrap();
    assert_eq!((busy.calls(), idle.calls()), (1, 3));
}
