//! `augur doctor` and `augur complete` against fake servers.

mod llm_support;

use std::collections::BTreeMap;

use augur::llm::LlmSettings;
use augur::llm::cli::{CompleteArgs, DoctorArgs, run_complete, run_doctor};
use llm_support::{Fake, Reply, dead_url, model, openai_body, openai_stream};
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
    fake.push(Reply::json(json!({"data": [{"id": "test-model"}]})));
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
    let complete = CompleteArgs {
        model: "default".into(),
        prompt: "fn add(a: i32, b: i32) -> i32 {".into(),
        show_usage: true,
        ..CompleteArgs::default()
    };
    let mut out = Vec::new();
    run_complete(&models, &LlmSettings::default(), &complete, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("return a + b;\n"), "{text}");
    assert!(text.contains("5 prompt + 2 generated tokens"), "{text}");

    fake.push(openai_stream(&["x", "y"]));
    let mut out = Vec::new();
    run_complete(
        &models,
        &LlmSettings::default(),
        &CompleteArgs {
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

    let err = run_complete(
        &models,
        &LlmSettings::default(),
        &CompleteArgs {
            model: "nope".into(),
            ..complete
        },
        &mut out,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("llm.unknown_model"), "{err}");
}
