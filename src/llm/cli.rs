//! The `augur doctor` and `augur complete` commands (their arguments and bodies; the binary wires
//! them into its command line).
//!
//! `doctor` checks each configured model and endpoint: is it reachable, are the credentials
//! accepted, is the model there, and does a tiny completion come back (and how fast). It prints
//! advice for whatever fails and returns `false` if anything did.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::llm::client::{LlmClient, LlmDeps};
use crate::llm::config::{CacheConfig, LlmSettings, ModelConfig};
use crate::llm::error::LlmError;
use crate::llm::types::{CompletionRequest, Priority, StreamEvent};

/// Arguments of `augur doctor`.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct DoctorArgs {
    /// Check only this model.
    #[arg(long)]
    pub model: Option<String>,
    /// How long each check may take, in milliseconds.
    #[arg(long, default_value_t = 20_000)]
    pub timeout_ms: u64,
    /// Skip the test completion (only check reachability, credentials and the model list).
    #[arg(long)]
    pub no_completion: bool,
}

/// Arguments of `augur complete`.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct CompleteArgs {
    /// The configured model to use.
    #[arg(long, default_value = "default")]
    pub model: String,
    /// The prompt (the text before the cursor).
    #[arg(long)]
    pub prompt: String,
    /// The text after the cursor, for fill-in-the-middle.
    #[arg(long)]
    pub suffix: Option<String>,
    /// Print the answer as it is generated.
    #[arg(long)]
    pub stream: bool,
    /// The most tokens to generate (default: the model's `max_tokens`).
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// The sampling temperature (default: the model's `temperature`).
    #[arg(long)]
    pub temperature: Option<f32>,
    /// A stop sequence (repeatable).
    #[arg(long)]
    pub stop: Vec<String>,
    /// After the answer, print usage and latency on a line of its own.
    #[arg(long)]
    pub show_usage: bool,
}

fn describe(error: &LlmError) -> String {
    format!("{error} [{}]\n      advice: {}", error.code(), error.hint())
}

/// The model table for checking one endpoint alone: no retries, no breaker, no cache.
fn single_endpoint(model: &ModelConfig, index: usize, timeout_ms: u64) -> ModelConfig {
    let mut single = model.clone();
    if let Some(endpoint) = model.endpoints.get(index) {
        single.url = endpoint.url.clone();
        if let Some(backend) = &endpoint.backend {
            single.backend = *backend;
        }
        if let Some(name) = &endpoint.model {
            single.model = name.clone();
        }
        if endpoint.api_key_env.is_some() {
            single.api_key_env = endpoint.api_key_env.clone();
        }
    }
    single.endpoints = Vec::new();
    single.retries = 0;
    single.breaker_failures = 0;
    single.cache = false;
    single.requests_per_minute = 0;
    single.tokens_per_minute = 0;
    single.first_token_timeout_ms = timeout_ms;
    single.total_timeout_ms = timeout_ms;
    single
}

/// Runs `augur doctor`; returns whether every endpoint passed.
pub async fn run_doctor(
    models: &BTreeMap<String, ModelConfig>,
    args: &DoctorArgs,
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    if models.is_empty() {
        writeln!(
            out,
            "no models configured: add a [models.default] table (backend, url, model)"
        )?;
        return Ok(false);
    }
    if let Some(name) = &args.model
        && !models.contains_key(name)
    {
        writeln!(
            out,
            "no model named `{name}`; configured: {}",
            models.keys().cloned().collect::<Vec<_>>().join(", ")
        )?;
        return Ok(false);
    }
    let mut all_ok = true;
    for (name, model) in models {
        if args.model.as_ref().is_some_and(|only| only != name) {
            continue;
        }
        writeln!(out, "model {name} ({} `{}`)", model.backend, model.model)?;
        let count = model.endpoints.len().max(1);
        for index in 0..count {
            let single = single_endpoint(model, index, args.timeout_ms);
            let table = BTreeMap::from([("probe".to_owned(), single)]);
            let client = match LlmClient::new(
                &table,
                LlmDeps {
                    settings: LlmSettings {
                        cache: CacheConfig {
                            enabled: false,
                            ..CacheConfig::default()
                        },
                    },
                    ..LlmDeps::default()
                },
            ) {
                Ok(client) => client,
                Err(error) => {
                    writeln!(out, "  configuration: FAILED: {}", describe(&error))?;
                    all_ok = false;
                    continue;
                }
            };
            let ok = check_endpoint(&client, args, out).await?;
            all_ok &= ok;
        }
    }
    writeln!(
        out,
        "{}",
        if all_ok {
            "all checks passed"
        } else {
            "some checks failed"
        }
    )?;
    Ok(all_ok)
}

async fn check_endpoint(
    client: &LlmClient,
    args: &DoctorArgs,
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    let Some(info) = client.endpoints("probe")?.into_iter().next() else {
        writeln!(out, "  no endpoint configured: set `url` or `endpoints`")?;
        return Ok(false);
    };
    writeln!(out, "  endpoint {} [{}]", info.url, info.backend)?;
    match &info.api_key_env {
        Some(env) if std::env::var_os(env).is_none_or(|v| v.is_empty()) => {
            writeln!(
                out,
                "    key: FAILED: {env} is not set\n      advice: set {env} in the environment augur starts in"
            )?;
            return Ok(false);
        }
        Some(env) => writeln!(out, "    key: {env} is set")?,
        None => writeln!(out, "    key: none configured")?,
    }
    let started = Instant::now();
    let mut ok = true;
    match client.list_models("probe").await {
        Ok(served) => {
            writeln!(
                out,
                "    reachable: ok ({} ms); auth: ok",
                started.elapsed().as_millis()
            )?;
            if served.iter().any(|m| m == &info.model) {
                writeln!(out, "    model: ok (`{}` is served)", info.model)?;
            } else if served.is_empty() {
                writeln!(out, "    model: unknown (the server listed no models)")?;
            } else if info.model_must_be_listed {
                let shown: Vec<&str> = served.iter().take(8).map(String::as_str).collect();
                writeln!(
                    out,
                    "    model: FAILED: `{}` is not served (available: {})\n      advice: set `model` to one of those{}",
                    info.model,
                    shown.join(", "),
                    if info.backend == "ollama" {
                        format!(", or run `ollama pull {}`", info.model)
                    } else {
                        String::new()
                    }
                )?;
                ok = false;
            } else {
                writeln!(
                    out,
                    "    model: note: the server serves {} (it answers whatever the `model` name)",
                    served.join(", ")
                )?;
            }
        }
        Err(
            error @ (LlmError::Connect { .. }
            | LlmError::Timeout { .. }
            | LlmError::Unauthorized { .. }
            | LlmError::MissingApiKey { .. }),
        ) => {
            writeln!(out, "    reachable/auth: FAILED: {}", describe(&error))?;
            return Ok(false);
        }
        Err(error) => {
            writeln!(
                out,
                "    reachable: ok; model list: not available ({})",
                error
            )?;
        }
    }
    if args.no_completion {
        return Ok(ok);
    }
    let request = CompletionRequest {
        prompt: "Hello".into(),
        max_tokens: Some(4),
        temperature: Some(0.0),
        use_cache: false,
        priority: Priority::Interactive,
        deadline: Some(Duration::from_millis(args.timeout_ms)),
        ..CompletionRequest::new("probe")
    };
    match client.complete(request).await {
        Ok(completion) => {
            let snippet: String = completion.text.chars().take(40).collect();
            writeln!(
                out,
                "    completion: ok in {} ms: {:?}",
                completion.elapsed.as_millis(),
                snippet
            )?;
        }
        Err(error) => {
            writeln!(out, "    completion: FAILED: {}", describe(&error))?;
            ok = false;
        }
    }
    Ok(ok)
}

/// Runs `augur complete`: prints the answer (as it streams with `--stream`).
pub async fn run_complete(
    models: &BTreeMap<String, ModelConfig>,
    settings: &LlmSettings,
    args: &CompleteArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let client = LlmClient::new(
        models,
        LlmDeps {
            settings: settings.clone(),
            ..LlmDeps::default()
        },
    )
    .map_err(|e| anyhow::anyhow!("{e} [{}]; {}", e.code(), e.hint()))?;
    let request = CompletionRequest {
        prompt: args.prompt.clone(),
        suffix: args.suffix.clone(),
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        stop: args.stop.clone(),
        stream: args.stream,
        ..CompletionRequest::new(args.model.clone())
    };
    let fail = |e: LlmError| anyhow::anyhow!("{e} [{}]; {}", e.code(), e.hint());
    let completion = if args.stream {
        let mut stream = client.stream(request).map_err(fail)?;
        let mut done = None;
        while let Some(item) = stream.next().await {
            match item.map_err(fail)? {
                StreamEvent::Delta(text) => {
                    out.write_all(text.as_bytes())?;
                    out.flush()?;
                }
                StreamEvent::Done(completion) => done = Some(completion),
            }
        }
        done.ok_or_else(|| anyhow::anyhow!("the stream ended without an answer"))?
    } else {
        let completion = client.complete(request).await.map_err(fail)?;
        out.write_all(completion.text.as_bytes())?;
        completion
    };
    writeln!(out)?;
    if args.show_usage {
        let usage = completion
            .usage
            .map(|u| {
                format!(
                    "{} prompt + {} generated tokens",
                    u.prompt_tokens, u.completion_tokens
                )
            })
            .unwrap_or_else(|| "usage not reported".into());
        writeln!(
            out,
            "[{usage}; {} ms; first token {} ms; {}{}]",
            completion.elapsed.as_millis(),
            completion
                .time_to_first_token
                .map_or("-".into(), |d| d.as_millis().to_string()),
            completion.endpoint,
            if completion.cached { "; cached" } else { "" }
        )?;
    }
    Ok(())
}
