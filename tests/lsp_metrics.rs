//! What augur measured, seen from outside over stdio: completion items carry the `augur.accepted`
//! command and running it counts the acceptance; `augur/metrics` and the `augur.metrics` command
//! report requests, features and the cache; the Prometheus endpoint of `[metrics] listen` serves
//! counters that moved; a second server finding the port taken says so once and goes on; and the
//! usage written at shutdown is what `augur usage` prints. The last test does the same against
//! the real local model (llama.cpp with SmolLM2-135M), so the figures are real ones.

#[path = "llm_support/mod.rs"]
mod llm_support;
#[path = "server_support/mod.rs"]
mod server_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use augur::test_support::capabilities;
use augur::test_support::llama::LlamaServer;
use augur::test_support::redis_server::free_port;
use augur::test_support::stdio::StdioClient;
use llm_support::{Fake, openai_body};
use serde_json::{Value, json};
use server_support::{merge, model_options, spawn_with_cache};

const URI: &str = "file:///mem/calc.py";
const TEXT: &str = "def add(a, b):\n    return \n";

fn spawn(url: &str, port: u16, cache: &Path, data: &Path) -> StdioClient {
    let options = merge(
        model_options(url),
        json!({
            "completion": {"debounce_ms": 0},
            "metrics": {"listen": format!("127.0.0.1:{port}")},
        }),
    );
    let data = data.display().to_string();
    let mut client = spawn_with_cache(cache, &[("AUGUR_DATA_DIR", &data)]);
    client.initialize(
        capabilities(&["utf-16"]),
        json!({"initializationOptions": options}),
    );
    client.open(URI, "python", 1, TEXT);
    client
}

fn inline(client: &mut StdioClient) -> Vec<Value> {
    let params = json!({
        "textDocument": {"uri": URI},
        "position": {"line": 1, "character": 11},
        "context": {"triggerKind": 1}
    });
    let result = client
        .request("textDocument/inlineCompletion", params)
        .unwrap();
    result["items"].as_array().cloned().unwrap_or_default()
}

/// `GET /metrics` on 127.0.0.1:`port`, the body.
fn scrape(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the endpoint listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}

/// The value of the sample `name` (with its labels, as printed) in a scrape.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
}

#[test]
fn accepted_items_metrics_prometheus_and_usage() {
    let (_runtime, fake) = Fake::start_in_background();
    fake.set_default(openai_body("a + b"));
    let cache = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut client = spawn(&fake.v1(), port, cache.path(), data.path());

    let items = inline(&mut client);
    assert_eq!(items.len(), 1, "{items:?}");
    let command = &items[0]["command"];
    assert_eq!(command["command"], "augur.accepted", "{command}");
    assert_eq!(command["arguments"][0]["model"], "default");
    // Asked again at the same place: the suggestion on screen answers (no second model call).
    assert_eq!(inline(&mut client).len(), 1);
    // The editor runs the first item's command when the user accepts it.
    let counted = client
        .request(
            "workspace/executeCommand",
            json!({"command": "augur.accepted", "arguments": command["arguments"]}),
        )
        .unwrap();
    assert_eq!(counted["status"], "counted");

    let report = client.request("augur/metrics", Value::Null).unwrap();
    let features = &report["llm"]["features"];
    assert_eq!(features["completionsRequested"], 2, "{report}");
    assert_eq!(features["completionsShown"], 2, "{report}");
    assert_eq!(features["completionsAccepted"], 1, "{report}");
    assert_eq!(report["llm"]["models"][0]["model"], "default");
    assert_eq!(report["llm"]["models"][0]["requests"], 1, "{report}");
    let endpoint = &report["llm"]["endpoints"][0];
    assert_eq!(endpoint["successes"], 1, "{report}");
    assert!(endpoint["total"]["p50"].as_f64().is_some(), "{endpoint}");
    // The command answers the same report.
    let by_command = client
        .request(
            "workspace/executeCommand",
            json!({"command": "augur.metrics", "arguments": []}),
        )
        .unwrap();
    assert_eq!(by_command["llm"]["features"]["completionsAccepted"], 1);

    // The Prometheus endpoint: the counters moved (it refreshes every half second).
    let start = Instant::now();
    let mut text = String::new();
    while start.elapsed() < Duration::from_secs(10) {
        text = scrape(port);
        if sample(&text, "augur_completions_accepted_total") == Some(1.0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert_eq!(
        sample(&text, "augur_completions_accepted_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "augur_completions_requested_total"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "augur_model_requests_total{model=\"default\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(text.contains("augur_endpoint_latency_ms{"), "{text}");

    // A second window finds the port taken: it says so once and still completes.
    let cache2 = tempfile::tempdir().unwrap();
    let mut second = spawn(&fake.v1(), port, cache2.path(), data.path());
    let told = second
        .wait_for(|c| {
            c.notification("window/showMessage")
                .map(|m| m["params"].clone())
                .filter(|m| m["message"].as_str().unwrap_or("").contains("Prometheus"))
        })
        .expect("told that the port is taken");
    assert_eq!(told["type"], 2, "{told}");
    assert!(
        told["message"]
            .as_str()
            .unwrap()
            .contains(&port.to_string()),
        "{told}"
    );
    assert_eq!(inline(&mut second).len(), 1);
    assert_eq!(inline(&mut second).len(), 1);
    assert!(second.shutdown_and_exit().success());

    // Usage is written at shutdown; `augur usage` prints it.
    assert!(client.shutdown_and_exit().success());
    let output = Command::new(env!("CARGO_BIN_EXE_augur"))
        .args(["usage", "--json", "--days", "1"])
        .env("AUGUR_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let usage: Value = serde_json::from_slice(&output.stdout).unwrap();
    let default = usage
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "default")
        .unwrap_or_else(|| panic!("{usage}"));
    // Both servers' model calls (one each) and the one acceptance.
    assert_eq!(default["requests"], 2, "{usage}");
    assert_eq!(default["accepted"], 1, "{usage}");
    let table = Command::new(env!("CARGO_BIN_EXE_augur"))
        .args(["usage"])
        .env("AUGUR_DATA_DIR", data.path())
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("accepted") && table.contains("total"),
        "{table}"
    );
}

#[test]
fn real_figures_after_completions_from_the_real_local_model() {
    let server = LlamaServer::start();
    let cache = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let options = json!({
        "models": {"default": {"backend": "openai", "url": format!("{}/v1", server.url),
                               "model": "SmolLM2-135M", "max_tokens": 16, "temperature": 0.0,
                               "retries": 0, "first_token_timeout_ms": 60000,
                               "total_timeout_ms": 120000, "health_check_interval_ms": 0}},
        "completion": {"debounce_ms": 0},
        "index": {"enabled": false},
        "metrics": {"listen": format!("127.0.0.1:{port}")},
    });
    let data_dir = data.path().display().to_string();
    let mut client = spawn_with_cache(cache.path(), &[("AUGUR_DATA_DIR", &data_dir)]);
    client.initialize(
        capabilities(&["utf-16"]),
        json!({"initializationOptions": options}),
    );
    let uri = "file:///mem/add.rs";
    let text =
        "fn add(a: i32, b: i32) -> i32 {\n    \n}\n\nfn mul(a: i32, b: i32) -> i32 {\n    \n}\n";
    client.open(uri, "rust", 1, text);
    let mut shown = Vec::new();
    for line in [1, 5] {
        let params = json!({
            "textDocument": {"uri": uri},
            "position": {"line": line, "character": 4},
            "context": {"triggerKind": 1}
        });
        let result = client
            .request("textDocument/inlineCompletion", params)
            .unwrap();
        shown.extend(result["items"].as_array().cloned().unwrap_or_default());
    }
    assert!(!shown.is_empty(), "the real model suggested something");
    let command = &shown[0]["command"];
    client
        .request(
            "workspace/executeCommand",
            json!({"command": "augur.accepted", "arguments": command["arguments"]}),
        )
        .unwrap();

    let report = client.request("augur/metrics", Value::Null).unwrap();
    let model = &report["llm"]["models"][0];
    assert_eq!(model["requests"], 2, "{report}");
    // The engine stops a stream once it has its suggestion: such attempts count as cancelled
    // (servers report tokens only at a stream's end), the others as successes.
    let endpoint = &report["llm"]["endpoints"][0];
    assert_eq!(endpoint["requests"], 2, "{report}");
    let ended = endpoint["successes"].as_u64().unwrap() + endpoint["cancelled"].as_u64().unwrap();
    assert_eq!(ended, 2, "{report}");
    assert_eq!(report["llm"]["features"]["completionsAccepted"], 1);

    let start = Instant::now();
    let mut text = String::new();
    while start.elapsed() < Duration::from_secs(10) {
        text = scrape(port);
        if sample(&text, "augur_completions_accepted_total") == Some(1.0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        sample(&text, "augur_model_requests_total{model=\"default\"}"),
        Some(2.0),
        "{text}"
    );

    assert!(client.shutdown_and_exit().success());
    let output = Command::new(env!("CARGO_BIN_EXE_augur"))
        .args(["usage", "--json"])
        .env("AUGUR_DATA_DIR", data.path())
        .output()
        .unwrap();
    let usage: Value = serde_json::from_slice(&output.stdout).unwrap();
    let default = &usage[0];
    assert_eq!(default["model"], "default", "{usage}");
    assert_eq!(default["requests"], 2, "{usage}");
    assert_eq!(default["accepted"], 1, "{usage}");
    // Tokens as the server reported them, or estimated for streams stopped early.
    assert!(default["tokens_in"].as_u64().unwrap() > 0, "{usage}");
    assert!(default["tokens_out"].as_u64().unwrap() > 0, "{usage}");
}
