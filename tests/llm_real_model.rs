//! End to end against a real llama.cpp server with a real small model (SmolLM2-135M-Instruct).
//!
//! Uses the server at `AUGUR_LLAMA_URL` if set; otherwise starts the one installed by
//! `scripts/local-model.sh install` on a free port and stops it afterwards. Without either, the
//! test fails and says how to install it.

use std::collections::BTreeMap;
use std::time::Duration;

use augur::llm::{CompletionRequest, LlmClient, LlmDeps, ModelConfig, StreamEvent};
use augur::test_support::llama::LlamaServer;
use futures::StreamExt;

fn client(backend: &str, url: &str) -> LlmClient {
    let config = ModelConfig {
        backend: augur::llm::BackendKind::from_name(backend)
            .unwrap_or_else(|| panic!("the tests name no backend `{backend}`")),
        url: url.into(),
        model: "SmolLM2-135M".into(),
        retries: 0,
        first_token_timeout_ms: 30_000,
        total_timeout_ms: 120_000,
        ..ModelConfig::default()
    };
    LlmClient::new(
        &BTreeMap::from([("default".to_owned(), config)]),
        LlmDeps::default(),
    )
    .unwrap()
}

fn request(prompt: &str, max_tokens: u32) -> CompletionRequest {
    CompletionRequest {
        prompt: prompt.into(),
        max_tokens: Some(max_tokens),
        temperature: Some(0.0),
        use_cache: false,
        ..CompletionRequest::new("default")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_model_completes_streams_and_cancels() {
    let server = tokio::task::spawn_blocking(LlamaServer::start)
        .await
        .expect("the server starts");
    let openai = client("openai", &format!("{}/v1", server.url));
    let prompt = "fn add(a: i32, b: i32) -> i32 {\n";

    // Whole answers are deterministic at temperature 0 and report usage.
    let first = openai.complete(request(prompt, 12)).await.unwrap();
    assert!(!first.text.trim().is_empty(), "empty completion");
    let usage = first.usage.expect("llama.cpp reports usage");
    assert!(
        usage.prompt_tokens > 0 && usage.completion_tokens > 0,
        "{usage:?}"
    );
    let second = openai.complete(request(prompt, 12)).await.unwrap();
    assert_eq!(first.text, second.text);

    // The stream says the same, in several pieces.
    let mut stream = openai.stream(request(prompt, 12)).unwrap();
    let mut deltas = Vec::new();
    let done = loop {
        match stream
            .next()
            .await
            .expect("the stream ended without Done")
            .unwrap()
        {
            StreamEvent::Delta(text) => deltas.push(text),
            StreamEvent::Done(done) => break done,
        }
    };
    assert!(deltas.len() > 1, "{deltas:?}");
    assert_eq!(deltas.concat(), done.text);
    assert_eq!(done.text, first.text);
    assert!(done.time_to_first_token.is_some());

    // The native llama.cpp API serves the same model.
    let native = client("llamacpp", &server.url);
    let native_answer = native.complete(request(prompt, 8)).await.unwrap();
    assert!(!native_answer.text.is_empty());

    // Cancelling mid-stream closes the connection and the server stops generating.
    let mut long = openai
        .stream(request(
            "Write a very long story about a dragon and a knight.\n",
            400,
        ))
        .unwrap();
    for _ in 0..3 {
        assert!(matches!(long.next().await, Some(Ok(StreamEvent::Delta(_)))));
    }
    drop(long);
    let http = reqwest::Client::new();
    let mut stopped = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if server.log.is_some() {
            if server.log_text().contains("cancel task") {
                stopped = true;
                break;
            }
        } else if let Ok(response) = http.get(format!("{}/slots", server.url)).send().await
            && let Ok(slots) = response.json::<serde_json::Value>().await
            && slots
                .as_array()
                .is_some_and(|s| s.iter().all(|slot| slot["is_processing"] == false))
        {
            stopped = true;
            break;
        }
    }
    assert!(
        stopped,
        "the server kept generating after the stream was dropped (no `cancel task` in its log)"
    );
    let metrics = openai.metrics();
    assert!(metrics.endpoints[0].ttft.p50.is_some());

    // `augur doctor` passes against the real server.
    let config = ModelConfig {
        url: format!("{}/v1", server.url),
        model: "SmolLM2-135M".into(),
        ..ModelConfig::default()
    };
    let mut out = Vec::new();
    let ok = augur::cli::doctor::run_doctor(
        &BTreeMap::from([("default".to_owned(), config)]),
        &augur::cli::doctor::DoctorArgs {
            model: None,
            timeout_ms: 60_000,
            no_completion: false,
        },
        &mut out,
    )
    .await
    .unwrap();
    let report = String::from_utf8(out).unwrap();
    assert!(ok, "{report}");
    assert!(report.contains("completion: ok in"), "{report}");
}
