//! The user is told when completions fail, over stdio: one `window/showMessage` per cause (with
//! the reason and the fix), one when the model answers again, and the state of each model and of
//! each root's index in `augur/status`.

#[path = "llm_support/mod.rs"]
mod llm_support;
#[path = "server_support/mod.rs"]
mod server_support;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use augur::test_support::capabilities;
use augur::test_support::fixture::Fixture;
use augur::test_support::stdio::StdioClient;
use llm_support::{End, Fake, Reply, dead_url, openai_sse, openai_stream, wait_until_blocking};
use serde_json::{Value, json};
use server_support::{merge, model_options, spawn_in_cache, spawn_with_cache};

const URI: &str = "file:///mem/calc.py";

const TEXT: &str = "def add(a, b):\n    return \n";

/// `window/showMessage` types.
const ERROR: u64 = 1;
const WARNING: u64 = 2;
const INFO: u64 = 3;

/// An augur whose model `default` is at `url` with `model` merged over fast test settings (and
/// no health checks), with the cache off and no debounce, and `env` added to its environment.
fn spawn(url: &str, model: Value, env: &[(&str, &str)], cache: &Path) -> StdioClient {
    let options = merge(
        model_options(url),
        json!({
            "models": {"default": merge(json!({"health_check_interval_ms": 0}), model)},
            "completion": {"debounce_ms": 0},
        }),
    );
    let mut client = spawn_with_cache(cache, env);
    client.initialize(
        capabilities(&["utf-16"]),
        json!({"initializationOptions": options}),
    );
    client.open(URI, "python", 1, TEXT);
    client
}

fn inline_params(invoked: bool) -> Value {
    json!({
        "textDocument": {"uri": URI},
        "position": {"line": 1, "character": 11},
        "context": {"triggerKind": if invoked { 1 } else { 2 }}
    })
}

/// The inline completion items at the end of `return `.
fn complete(client: &mut StdioClient) -> Vec<Value> {
    let result = client
        .request("textDocument/inlineCompletion", inline_params(true))
        .unwrap();
    result["items"].as_array().cloned().unwrap_or_default()
}

fn status(client: &mut StdioClient) -> Value {
    client.request("augur/status", Value::Null).unwrap()
}

/// The health of the model `default` in `augur/status`.
fn model_health(client: &mut StdioClient) -> Value {
    status(client)["modelHealth"]["default"].clone()
}

/// Makes the model answer `reply` from now on and asks for `times` completions, each of which
/// must come back empty.
fn fail(client: &mut StdioClient, fake: &Fake, reply: Reply, times: usize) {
    fake.set_default(reply);
    for _ in 0..times {
        assert!(complete(client).is_empty());
    }
}

/// The next `window/showMessage`: its type and text.
fn next_message(client: &mut StdioClient) -> (u64, String) {
    let shown = client
        .notification("window/showMessage")
        .expect("a window/showMessage");
    (
        shown["params"]["type"].as_u64().unwrap(),
        shown["params"]["message"].as_str().unwrap().to_owned(),
    )
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn an_unreachable_model_is_told_once_and_so_is_its_recovery() {
    let cache = tempfile::tempdir().unwrap();
    let dead = dead_url();
    // The breaker opens after two failures: later requests fail without a connection attempt,
    // which must not tell the user anything new either.
    let mut client = spawn(
        &format!("{dead}/v1"),
        json!({"breaker_failures": 2, "breaker_cooldown_ms": 100}),
        &[],
        cache.path(),
    );
    assert_eq!(
        model_health(&mut client)["state"],
        "unknown",
        "no request yet"
    );
    let before = now_ms();
    for _ in 0..6 {
        assert!(complete(&mut client).is_empty());
    }
    let after = now_ms();
    let (kind, message) = next_message(&mut client);
    assert_eq!(kind, WARNING, "{message}");
    for part in [
        "the model `default`",
        dead.as_str(),
        "unreachable",
        "models.default.url",
        "augur doctor",
    ] {
        assert!(message.contains(part), "{part:?} in {message}");
    }
    let health = model_health(&mut client);
    assert_eq!(health["state"], "unreachable", "{health}");
    assert_eq!(health["cause"], "llm.connect", "{health}");
    let error = health["error"].as_str().unwrap_or_default();
    assert!(error.contains("cannot connect to"), "{health}");
    assert!(
        health["fix"]
            .as_str()
            .unwrap_or_default()
            .contains("models.default.url")
    );
    let since = health["since"]
        .as_u64()
        .expect("since, in Unix milliseconds");
    assert!(
        since + 1000 >= before && since <= after + 1000,
        "{since} within {before}..{after}"
    );

    // The model comes up where it was expected.
    let (_runtime, fake) = Fake::start_in_background_at(dead.trim_start_matches("http://"));
    fake.set_default(openai_stream(&["a + b"]));
    let answered = wait_until_blocking(Duration::from_secs(20), || {
        !complete(&mut client).is_empty()
    });
    assert!(answered, "the model answers once it is up");
    // Messages keep their order: a second warning would come before the recovery.
    let (kind, message) = next_message(&mut client);
    assert_eq!(kind, INFO, "{message}");
    assert_eq!(message, "augur: the model `default` answers again");
    let health = model_health(&mut client);
    assert_eq!(health["state"], "ok", "{health}");
    assert_eq!(health["error"], Value::Null, "{health}");
    assert!(health["since"].as_u64().unwrap() >= since, "{health}");
}

#[test]
fn each_new_cause_is_told_once_with_its_fix() {
    let cache = tempfile::tempdir().unwrap();
    let (_runtime, fake) = Fake::start_in_background();
    let mut client = spawn(
        &fake.v1(),
        json!({"api_key_env": "AUGUR_TEST_HEALTH_KEY", "breaker_failures": 0}),
        &[("AUGUR_TEST_HEALTH_KEY", "sk-test-not-a-key")],
        cache.path(),
    );

    fail(
        &mut client,
        &fake,
        Reply::status(500, "the model crashed"),
        3,
    );
    let health = model_health(&mut client);
    assert_eq!(health["state"], "failing", "{health}");
    assert_eq!(health["cause"], "llm.server", "{health}");
    assert!(
        health["error"].as_str().unwrap().contains("HTTP 500"),
        "{health}"
    );
    let failing_since = health["since"].as_u64().unwrap();

    fail(&mut client, &fake, Reply::status(401, "invalid api key"), 2);
    let health = model_health(&mut client);
    assert_eq!(health["state"], "failing", "{health}");
    assert_eq!(health["cause"], "llm.unauthorized", "{health}");
    assert_eq!(
        health["since"].as_u64().unwrap(),
        failing_since,
        "failing since the first failure"
    );

    fail(
        &mut client,
        &fake,
        Reply::status(404, "model 'fake' not found"),
        1,
    );
    fail(&mut client, &fake, Reply::status(429, "slow down"), 2);
    let health = model_health(&mut client);
    assert_eq!(health["state"], "rate_limited", "{health}");
    // A cause told already stays silent until the model answers again.
    fail(
        &mut client,
        &fake,
        Reply::status(500, "the model crashed again"),
        1,
    );

    fake.set_default(openai_stream(&["a + b"]));
    assert_eq!(complete(&mut client).len(), 1);
    assert_eq!(model_health(&mut client)["state"], "ok");

    let expected: [(u64, &[&str]); 5] = [
        (
            WARNING,
            &[
                "`default`",
                "is failing",
                "HTTP 500",
                "the model crashed",
                "logs",
            ],
        ),
        (
            ERROR,
            &[
                "refused the credentials",
                "HTTP 401",
                "AUGUR_TEST_HEALTH_KEY",
                "api_key_env",
            ],
        ),
        (ERROR, &["HTTP 404", "models.default.model"]),
        (WARNING, &["rate-limited", "requests_per_minute"]),
        (INFO, &["augur: the model `default` answers again"]),
    ];
    for (kind, parts) in expected {
        let (shown_kind, message) = next_message(&mut client);
        assert_eq!(shown_kind, kind, "{message}");
        for part in parts {
            assert!(message.contains(part), "{part:?} in {message}");
        }
    }
}

#[test]
fn cancelled_and_superseded_requests_are_not_failures() {
    let cache = tempfile::tempdir().unwrap();
    let (_runtime, fake) = Fake::start_in_background();
    let mut client = spawn(&fake.v1(), json!({}), &[], cache.path());
    let slow = || {
        Reply::stream("text/event-stream", openai_sse(&["slow"]), End::Close)
            .first_after(Duration::from_secs(20))
    };
    // Cancelled by the client.
    fake.push(slow());
    let id = client.send_request("textDocument/inlineCompletion", inline_params(true));
    assert!(
        client
            .wait_for(|_| (fake.calls() > 0).then_some(()))
            .is_some()
    );
    client.notify("$/cancelRequest", json!({"id": id}));
    assert_eq!(client.response(id).unwrap_err()["code"], -32800);
    assert_eq!(model_health(&mut client)["state"], "unknown");
    // Superseded by a newer request, which fails.
    fake.push(slow());
    fake.push(Reply::status(500, "the model crashed"));
    let older = client.send_request("textDocument/inlineCompletion", inline_params(false));
    assert!(
        client
            .wait_for(|_| (fake.calls() > 1).then_some(()))
            .is_some()
    );
    assert!(complete(&mut client).is_empty());
    let older = client.response(older).unwrap();
    assert_eq!(older["items"], json!([]), "{older}");
    // The first message is the one about the 500: nothing came before it.
    let (kind, message) = next_message(&mut client);
    assert_eq!(kind, WARNING, "{message}");
    assert!(message.contains("HTTP 500"), "{message}");
    assert_eq!(model_health(&mut client)["cause"], "llm.server");
}

const WORKSPACE: &str = r#"
//- /src/lib.rs
pub fn one() {}
//- /app/main.py
def two():
    pass
//- /web/three.ts
export const three = 3;
"#;

#[test]
fn status_shows_the_index_building_then_ready_with_its_file_count() {
    let root = tempfile::tempdir().unwrap();
    Fixture::parse(WORKSPACE).write_to(root.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let release = cache.path().join("release");
    // The test hook holds the indexing after its first file until `release` exists.
    let mut client = spawn_in_cache(
        root.path(),
        cache.path(),
        capabilities(&["utf-16"]),
        json!({"index": {}}),
        &[("AUGUR_TEST_HOLD_INDEXING", &release.display().to_string())],
    );
    let held = client.wait_for(|c| {
        let index = status(c)["indexes"][0].clone();
        (index["filesDone"] == 1).then_some(index)
    });
    let index = held.expect("the index is building, one file done");
    assert_eq!(index["root"], root.path().display().to_string(), "{index}");
    assert_eq!(index["state"], "building", "{index}");
    assert_eq!(index["filesTotal"], 3, "{index}");
    assert_eq!(index["percent"], 33, "{index}");

    std::fs::write(&release, "").unwrap();
    let ready = client.wait_for(|c| {
        let index = status(c)["indexes"][0].clone();
        (index["state"] == "ready").then_some(index)
    });
    let index = ready.expect("the index gets ready");
    assert_eq!(index["files"], 3, "{index}");
    // It says when it last changed: the build's commit, a moment ago.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let updated = index["lastUpdate"]
        .as_u64()
        .expect("a ready index says when it last changed");
    assert!(updated <= now && now - updated < 600_000, "{index}");
}

#[test]
fn status_shows_the_index_off_when_disabled() {
    let root = tempfile::tempdir().unwrap();
    Fixture::parse(WORKSPACE).write_to(root.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut client = spawn_in_cache(
        root.path(),
        cache.path(),
        capabilities(&["utf-16"]),
        json!({"index": {"enabled": false}}),
        &[],
    );
    let indexes = status(&mut client)["indexes"].clone();
    assert_eq!(
        indexes,
        json!([{"root": root.path().display().to_string(), "state": "off"}])
    );
}
