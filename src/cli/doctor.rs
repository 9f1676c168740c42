//! `augur doctor`: checks each configured model and endpoint: is it reachable, are the credentials
//! accepted, is the model there, and does a tiny completion come back (and how fast). It prints
//! advice for whatever fails and returns `false` if anything did.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use crate::llm::{
    CacheConfig, CompletionRequest, LlmClient, LlmDeps, LlmError, LlmSettings, ModelConfig,
    Priority,
};

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
                        ..LlmSettings::default()
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

/// The checks of the team settings for `augur doctor`: the Redis of `[llm.shared]` (reachable,
/// credentials, the limiter script) and the address of `[metrics] listen` (free, or already
/// serving augur's metrics). Prints nothing when neither is configured; returns whether all
/// passed.
pub async fn run_doctor_team(
    settings: &LlmSettings,
    metrics: &crate::llm::prometheus::MetricsConfig,
    timeout: Duration,
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    let mut all_ok = true;
    let shared = &settings.shared;
    if shared.redis_url.is_some() {
        writeln!(out, "shared tier ([llm.shared])")?;
        let password = shared
            .redis_password_env
            .as_deref()
            .and_then(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
        if let Some(name) = &shared.redis_password_env
            && password.is_none()
        {
            writeln!(
                out,
                "  warning: `redis_password_env` names {name}, which is not set"
            )?;
        }
        match crate::llm::shared::SharedTier::new(shared, password, None) {
            Ok(Some(tier)) => match tier.check(timeout).await {
                Ok(found) => writeln!(out, "  ok: {found}")?,
                Err(problem) => {
                    all_ok = false;
                    writeln!(out, "  FAILED: {problem}")?;
                    writeln!(
                        out,
                        "      advice: completions still work, with each window's own cache and \
                         its share of the limits"
                    )?;
                }
            },
            Ok(None) => {}
            Err(error) => {
                all_ok = false;
                writeln!(out, "  FAILED: {}", describe(&error))?;
            }
        }
    }
    if let Some(listen) = &metrics.listen {
        writeln!(out, "metrics endpoint ([metrics] listen = {listen:?})")?;
        match listen.trim().parse::<std::net::SocketAddr>() {
            Err(e) => {
                all_ok = false;
                writeln!(out, "  FAILED: not an address like 127.0.0.1:9464: {e}")?;
            }
            Ok(address) => match std::net::TcpListener::bind(address) {
                Ok(_) => {
                    let scope = if address.ip().is_loopback() {
                        "this machine only"
                    } else {
                        "other machines too: a loopback address keeps it private"
                    };
                    writeln!(
                        out,
                        "  ok: {address} is free; a running augur serves http://{address}/metrics \
                         ({scope})"
                    )?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    if serves_augur_metrics(address, timeout) {
                        writeln!(
                            out,
                            "  ok: an augur already serves http://{address}/metrics"
                        )?;
                    } else {
                        all_ok = false;
                        writeln!(
                            out,
                            "  FAILED: {address} is taken by another program\n      advice: \
                             choose another port for `[metrics] listen`"
                        )?;
                    }
                }
                Err(e) => {
                    all_ok = false;
                    writeln!(out, "  FAILED: cannot listen on {address}: {e}")?;
                }
            },
        }
    }
    Ok(all_ok)
}

/// Whether `GET /metrics` at `address` answers with augur's metrics.
fn serves_augur_metrics(address: std::net::SocketAddr, timeout: Duration) -> bool {
    use std::io::Read;
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&address, timeout) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut text = String::new();
    let _ = stream.take(1 << 20).read_to_string(&mut text);
    text.starts_with("HTTP/1.1 200") && text.contains("augur_")
}
