//! `augur doctor` and `augur complete` against fake servers, through the library functions and
//! through the built binary (its exit code).

mod llm_support;

use std::collections::BTreeMap;

use augur::cli::complete::raw::{RawArgs, run_raw};
use augur::cli::doctor::{DoctorArgs, run_doctor};
use augur::llm::LlmSettings;
use llm_support::{Fake, Reply, dead_url, model, model_list, openai_body, openai_stream};
use serde_json::json;

fn args() -> DoctorArgs {
    DoctorArgs {
        model: None,
        timeout_ms: 5_000,
        no_completion: false,
    }
}

#[tokio::test]
async fn doctor_passes_on_a_healthy_endpoint() {
    let fake = Fake::start().await;
    fake.push(model_list());
    fake.push(openai_body(" world"));
    let models = BTreeMap::from([(
        "default".to_owned(),
        model("openai", &format!("{}/v1", fake.url)),
    )]);
    let mut out = Vec::new();
    let ok = run_doctor(&models, &args(), &mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(ok, "{text}");
    assert!(text.contains("reachable: ok"), "{text}");
    assert!(text.contains("model: ok"), "{text}");
    assert!(text.contains("completion: ok in"), "{text}");
    assert!(text.contains("all checks passed"), "{text}");
    let requests = fake.requests();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(requests[1].path, "/v1/completions");
}

#[tokio::test]
async fn doctor_explains_unreachable_and_missing_models() {
    let fake = Fake::start().await;
    fake.push(Reply::json(json!({"models": [{"name": "llama3:8b"}]})));
    let models = BTreeMap::from([
        ("dead".to_owned(), model("ollama", &dead_url())),
        ("missing".to_owned(), model("ollama", &fake.url)),
    ]);
    let mut out = Vec::new();
    let ok = run_doctor(
        &models,
        &DoctorArgs {
            no_completion: true,
            ..args()
        },
        &mut out,
    )
    .await
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!ok);
    assert!(text.contains("ollama serve"), "{text}");
    assert!(text.contains("ollama pull test-model"), "{text}");
    assert!(text.contains("some checks failed"), "{text}");
}

#[tokio::test]
async fn doctor_reports_a_refused_key() {
    let fake = Fake::start().await;
    fake.set_default(Reply::status(401, "bad key"));
    let mut config = model("openai", &fake.url);
    config.api_key_env = Some("PATH".into()); // Set in every environment; its value is sent as the key.
    let models = BTreeMap::from([("default".to_owned(), config)]);
    let mut out = Vec::new();
    assert!(!run_doctor(&models, &args(), &mut out).await.unwrap());
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("refused the credentials"), "{text}");
    assert!(text.contains("set PATH to a valid API key"), "{text}");
}

#[tokio::test]
async fn complete_prints_the_answer_whole_or_streamed() {
    let fake = Fake::start().await;
    let models = BTreeMap::from([("default".to_owned(), model("openai", &fake.url))]);
    fake.push(openai_body("return a + b;"));
    let complete = RawArgs {
        model: "default".into(),
        prompt: "fn add(a: i32, b: i32) -> i32 {".into(),
        show_usage: true,
        ..RawArgs::default()
    };
    let mut out = Vec::new();
    run_raw(&models, &LlmSettings::default(), &complete, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("return a + b;\n"), "{text}");
    assert!(text.contains("5 prompt + 2 generated tokens"), "{text}");

    fake.push(openai_stream(&["x", "y"]));
    let mut out = Vec::new();
    run_raw(
        &models,
        &LlmSettings::default(),
        &RawArgs {
            stream: true,
            prompt: "other".into(),
            show_usage: false,
            ..complete.clone()
        },
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "xy\n");
    let mut out = Vec::new();

    let err = run_raw(
        &models,
        &LlmSettings::default(),
        &RawArgs {
            model: "nope".into(),
            ..complete
        },
        &mut out,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("llm.unknown_model"), "{err}");
}

/// Runs the built `augur doctor` in an empty directory with `config` as the user configuration
/// file: its exit code and its output (stdout then stderr).
async fn doctor_binary(config: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_augur"))
        .args(["doctor", "--timeout-ms", "5000"])
        .current_dir(dir.path())
        .env("AUGUR_CONFIG", &path)
        .env_remove("AUGUR_LOG")
        .output()
        .await
        .expect("augur runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

// The fake serves from the test's runtime while the binary runs, hence a multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doctor_binary_exits_zero_on_a_healthy_endpoint_and_non_zero_on_a_dead_one() {
    let fake = Fake::start().await;
    fake.route("/v1/models", model_list());
    fake.set_default(openai_body(" world"));
    let (code, text) = doctor_binary(&format!(
        "[models.default]\nbackend = \"openai\"\nurl = \"{}/v1\"\nmodel = \"test-model\"\n",
        fake.url
    ))
    .await;
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("all checks passed"), "{text}");
    assert_eq!(fake.calls(), 1, "one test completion");

    let dead = dead_url();
    let (code, text) = doctor_binary(&format!(
        "[models.default]\nbackend = \"ollama\"\nurl = \"{dead}\"\nmodel = \"test-model\"\n"
    ))
    .await;
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("FAILED"), "{text}");
    assert!(
        text.contains(&format!("cannot connect to {dead}")),
        "{text}"
    );
    assert!(
        text.contains("ollama serve"),
        "the advice says what to do: {text}"
    );
    assert!(text.contains("some checks failed"), "{text}");
}
