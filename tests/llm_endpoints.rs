//! A model with several endpoints: round-robin spreads requests, an open circuit breaker moves the
//! traffic to the other endpoint until a half-open trial succeeds, and active health checks take
//! an endpoint out of rotation while its probe fails and put it back when it passes.

mod llm_support;

use std::collections::BTreeMap;
use std::time::Duration;

use augur::llm::LlmClient;
use augur::llm::breaker::BreakerState;
use llm_support::{
    Fake, Reply, client, model, model_list, openai_body, two_endpoints, uncached_request,
    wait_until,
};

async fn send(client: &LlmClient, n: usize) {
    for i in 0..n {
        client
            .complete(uncached_request(&format!("r{i}")))
            .await
            .unwrap();
    }
}

fn healthy(client: &LlmClient) -> Vec<bool> {
    client
        .metrics()
        .endpoints
        .iter()
        .map(|e| e.healthy)
        .collect()
}

/// Waits (on the paused clock, at most one virtual second) until `done` holds, and fails the test
/// if it does not.
async fn eventually(done: impl FnMut() -> bool) {
    assert!(
        wait_until(Duration::from_secs(1), done).await,
        "the condition did not come true"
    );
}

#[tokio::test]
async fn round_robin_spreads_requests_evenly() {
    let a = Fake::start().await;
    let b = Fake::start().await;
    a.set_default(openai_body("a"));
    b.set_default(openai_body("b"));
    let client = client(two_endpoints(&a, &b));
    send(&client, 4).await;
    assert_eq!((a.calls(), b.calls()), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_sends_the_traffic_elsewhere_until_a_half_open_trial_succeeds() {
    let a = Fake::start().await;
    let b = Fake::start().await;
    a.set_default(Reply::status(500, "down"));
    b.set_default(openai_body("b"));
    let mut config = two_endpoints(&a, &b);
    config.retries = 1;
    config.breaker_failures = 2;
    config.breaker_cooldown_ms = 30_000;
    let client = client(config);

    // Each request that tries `a` first fails over to `b` at once; the second failure opens
    // `a`'s breaker.
    send(&client, 4).await;
    assert_eq!(a.calls(), 2);
    assert_eq!(b.calls(), 4);
    let breakers: Vec<BreakerState> = client
        .metrics()
        .endpoints
        .iter()
        .map(|e| e.breaker)
        .collect();
    assert_eq!(breakers, vec![BreakerState::Open, BreakerState::Closed]);

    // While it is open, `a` gets nothing.
    send(&client, 4).await;
    assert_eq!(a.calls(), 2);
    assert_eq!(b.calls(), 8);

    // After the cool-down `a` is half-open: of two requests, the one whose turn is `a`'s is its
    // trial; it succeeds and closes the breaker.
    a.set_default(openai_body("a"));
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(
        client.metrics().endpoints[0].breaker,
        BreakerState::HalfOpen
    );
    send(&client, 2).await;
    assert_eq!(a.calls(), 3);
    assert_eq!(client.metrics().endpoints[0].breaker, BreakerState::Closed);

    // `a` is back in rotation.
    send(&client, 4).await;
    assert_eq!((a.calls(), b.calls()), (5, 11));
}

#[tokio::test(start_paused = true)]
async fn a_failing_health_check_takes_an_endpoint_out_until_it_passes() {
    let a = Fake::start().await;
    let b = Fake::start().await;
    a.route("/v1/models", Reply::status(503, "loading"));
    b.route("/v1/models", model_list());
    a.set_default(openai_body("a"));
    b.set_default(openai_body("b"));
    let mut config = two_endpoints(&a, &b);
    config.health_check_interval_ms = 10_000;
    let client = client(config);

    // The first probe runs at once and finds `a` failing: every request goes to `b`.
    eventually(|| healthy(&client) == [false, true]).await;
    send(&client, 4).await;
    assert_eq!((a.calls(), b.calls()), (0, 4));

    // `a` recovers; the next probe, one interval later, puts it back in rotation.
    a.route("/v1/models", model_list());
    tokio::time::sleep(Duration::from_secs(10)).await;
    eventually(|| healthy(&client) == [true, true]).await;
    send(&client, 4).await;
    assert_eq!((a.calls(), b.calls()), (2, 6));
    assert_eq!(a.route_calls("/v1/models"), 2);
}

#[tokio::test(start_paused = true)]
async fn with_every_endpoint_unhealthy_requests_still_go_out() {
    let a = Fake::start().await;
    let b = Fake::start().await;
    for fake in [&a, &b] {
        fake.route("/v1/models", Reply::status(500, "no list here"));
        fake.set_default(openai_body("still answers"));
    }
    let mut config = two_endpoints(&a, &b);
    config.health_check_interval_ms = 10_000;
    let client = client(config);
    eventually(|| healthy(&client) == [false, false]).await;
    send(&client, 4).await;
    assert_eq!((a.calls(), b.calls()), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn health_checks_stop_when_the_model_is_reconfigured_or_the_client_dropped() {
    let a = Fake::start().await;
    let b = Fake::start().await;
    for fake in [&a, &b] {
        fake.route("/v1/models", model_list());
    }
    let mut config = two_endpoints(&a, &b);
    config.health_check_interval_ms = 1_000;
    let probes = || a.route_calls("/v1/models") + b.route_calls("/v1/models");

    let client = client(config.clone());
    eventually(|| probes() == 2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    eventually(|| probes() == 4).await;
    // A model with one endpoint is not probed, and the old model's probes stop.
    let single = BTreeMap::from([("default".to_owned(), model("openai", &a.url))]);
    client.reconfigure(&single).unwrap();
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(probes(), 4);

    let client = llm_support::client(config);
    eventually(|| probes() == 6).await;
    drop(client);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(probes(), 6);
}
