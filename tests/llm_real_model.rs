//! End to end against a real llama.cpp server with a real small model (SmolLM2-135M-Instruct).
//!
//! Uses the server at `AUGUR_LLAMA_URL` if set; otherwise starts the one installed by
//! `scripts/local-model.sh install` on a free port and stops it afterwards. Without either, the
//! test fails and says how to install it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use augur::llm::{CompletionRequest, LlmClient, LlmDeps, ModelConfig, StreamEvent};
use futures::StreamExt;

const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

struct Server {
    url: String,
    child: Option<Child>,
    log: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn log_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

async fn healthy(url: &str) -> bool {
    let http = reqwest::Client::new();
    match http
        .get(format!("{url}/health"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
    {
        Ok(response) => response.text().await.is_ok_and(|t| t.contains("ok")),
        Err(_) => false,
    }
}

async fn start_server() -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Ok(url) = std::env::var("AUGUR_LLAMA_URL") {
        let url = url.trim_end_matches('/').trim_end_matches("/v1").to_owned();
        assert!(
            healthy(&url).await,
            "AUGUR_LLAMA_URL={url} does not answer /health; start it with `scripts/local-model.sh start`"
        );
        return Server {
            url,
            child: None,
            log: None,
            _dir: None,
        };
    }
    let root = std::env::var_os("AUGUR_LLM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let model = root.join(".llm-models").join(MODEL_FILE);
    let binary = [
        root.join(".llm-models/llama-server"),
        root.join(".venv-llm/bin/llama-server-vulkan"),
    ]
    .into_iter()
    .find(|p| p.exists());
    let (Some(binary), true) = (binary, model.exists()) else {
        panic!(
            "no real model server: run `scripts/local-model.sh install` (it sets up .venv-llm and \
             .llm-models), or start one and set AUGUR_LLAMA_URL"
        );
    };
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("llama-server.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(&binary)
        .args([
            "-m",
            model.to_str().unwrap(),
            "--host",
            "127.0.0.1",
            "--port",
        ])
        .arg(port.to_string())
        .args(["-c", "2048", "-t", "2"])
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let mut server = Server {
        url: format!("http://127.0.0.1:{port}"),
        child: Some(child),
        log: Some(log.clone()),
        _dir: Some(dir),
    };
    for _ in 0..240 {
        if healthy(&server.url).await {
            return server;
        }
        if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
            let text = log_text(&log);
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            panic!(
                "{} exited ({status}) before becoming healthy{}; run `scripts/local-model.sh install` \
                 again. Log tail:\n{}",
                binary.display(),
                if std::os::unix::process::ExitStatusExt::signal(&status) == Some(4) {
                    " (a prebuilt server compiled for AVX-512 dies with SIGILL on this CPU; the script builds one from source instead)"
                } else {
                    ""
                },
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!(
        "llama-server did not become healthy within 60 s; log:\n{}",
        log_text(&log)
    );
}

fn client(backend: &str, url: &str) -> LlmClient {
    let config = ModelConfig {
        backend: backend.into(),
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
    let server = start_server().await;
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
        if let Some(log) = &server.log {
            if log_text(log).contains("cancel task") {
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
    let ok = augur::llm::cli::run_doctor(
        &BTreeMap::from([("default".to_owned(), config)]),
        &augur::llm::cli::DoctorArgs {
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
