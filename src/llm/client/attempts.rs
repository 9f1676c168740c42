//! Attempts and retries: a request resolved against its model, the attempts that run it under the
//! model's total timeout (failover, backoff, `Retry-After`), one HTTP attempt, and the collection
//! of its events into a completion.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::time::{Instant, timeout_at};

use super::errors::{
    Failure, parse_failure, status_failure, too_large, transport_error, wire_failure,
};
use super::stream::Broadcast;
use super::{EndpointRuntime, Inner, ModelRuntime, config_error};
use crate::llm::backend::{Event, Framing, Method, ParseError, WireRequest, join_url};
use crate::llm::cache::CacheKey;
use crate::llm::error::{LlmError, ReplyPart, TimeoutPhase};
use crate::llm::reply::{ReplyLimits, WireSource, read_whole};
use crate::llm::types::{Completion, CompletionRequest, FinishReason, StreamEvent, Usage};
use crate::llm::usage::UsageDelta;

/// A request with its parameters resolved against the model.
pub(super) struct Plan {
    pub(super) request: CompletionRequest,
    pub(super) max_tokens: u32,
    pub(super) temperature: f32,
    pub(super) tokens_estimate: u32,
}

impl Plan {
    pub(super) fn new(model: &ModelRuntime, request: CompletionRequest) -> Plan {
        let max_tokens = request.max_tokens.unwrap_or(model.config.max_tokens).max(1);
        let temperature = request.temperature.unwrap_or(model.config.temperature);
        let prompt_tokens = model.counter.count(&request.prompt)
            + request
                .suffix
                .as_deref()
                .map_or(0, |s| model.counter.count(s))
            + request
                .extra
                .iter()
                .map(|c| model.counter.count(&c.text))
                .sum::<usize>();
        let tokens_estimate =
            (prompt_tokens as u64 + max_tokens as u64).min(u32::MAX as u64) as u32;
        Plan {
            request,
            max_tokens,
            temperature,
            tokens_estimate,
        }
    }

    fn wire<'a>(
        &'a self,
        model: &'a ModelRuntime,
        endpoint: &'a EndpointRuntime,
    ) -> WireRequest<'a> {
        WireRequest {
            model: &endpoint.model,
            prompt: &self.request.prompt,
            suffix: self.request.suffix.as_deref(),
            extra: &self.request.extra,
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            stop: &self.request.stop,
            stream: self.request.stream,
            api: model.api,
            fim_template: model.config.fim_template.as_deref(),
            system_prompt: model.config.system_prompt.as_deref(),
            generation_limit_ms: self
                .request
                .generation_limit
                .map(|limit| limit.as_millis().min(u64::MAX as u128) as u64),
            slot: self.request.slot,
        }
    }

    pub(super) fn cache_key(&self, model: &ModelRuntime) -> CacheKey {
        let extra: Vec<u8> = self
            .request
            .extra
            .iter()
            .flat_map(|c| {
                let mut part = Vec::with_capacity(c.filename.len() + c.text.len() + 16);
                part.extend_from_slice(&(c.filename.len() as u64).to_le_bytes());
                part.extend_from_slice(c.filename.as_bytes());
                part.extend_from_slice(&(c.text.len() as u64).to_le_bytes());
                part.extend_from_slice(c.text.as_bytes());
                part
            })
            .collect();
        let stop = self.request.stop.join("\u{0}");
        let suffix_flag = [self.request.suffix.is_some() as u8];
        CacheKey::of(&[
            model.identity.as_bytes(),
            &self.max_tokens.to_le_bytes(),
            &self.temperature.to_bits().to_le_bytes(),
            stop.as_bytes(),
            &suffix_flag,
            self.request.suffix.as_deref().unwrap_or("").as_bytes(),
            &extra,
            self.request.prompt.as_bytes(),
        ])
    }
}

/// Where a streamed run's text goes as it arrives.
pub(super) type Sink = Broadcast;

/// Runs a request: attempts with retries and failover under the model's total timeout; caches a
/// success.
pub(super) async fn run(
    inner: &Arc<Inner>,
    model: &Arc<ModelRuntime>,
    plan: &Plan,
    key: Option<CacheKey>,
    sink: Option<&Sink>,
) -> Result<Completion, LlmError> {
    let started = Instant::now();
    if let Some(key) = key
        && let Some(hit) = shared_hit(inner, model, key, started, sink).await
    {
        return Ok(hit);
    }
    let total = Duration::from_millis(model.config.total_timeout_ms);
    let outcome = match tokio::time::timeout(total, attempts(inner, model, plan, sink)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(LlmError::Timeout {
            endpoint: format!("model `{}`", model.name),
            phase: TimeoutPhase::Total,
            after: total,
        }),
    };
    match outcome {
        Ok(mut completion) => {
            completion.elapsed = started.elapsed();
            if let Some(usage) = completion.usage {
                inner.model_stat(&model.name, |m| {
                    m.tokens_in += usage.prompt_tokens as u64;
                    m.tokens_out += usage.completion_tokens as u64;
                });
            }

            if let Some(key) = key {
                inner.cache.insert(key, &completion);
                if let Some(tier) = &inner.shared {
                    tier.cache_put(key, &completion, inner.cache_ttl);
                }
            }
            Ok(completion)
        }
        Err(error) => Err(error),
    }
}

/// The answer another process (or this one) stored in the shared tier for `key`, as served: put
/// in the local cache, counted as a cache hit, and sent to a stream's readers.
async fn shared_hit(
    inner: &Arc<Inner>,
    model: &Arc<ModelRuntime>,
    key: CacheKey,
    started: Instant,
    sink: Option<&Sink>,
) -> Option<Completion> {
    let tier = inner.shared.as_ref()?;
    let mut hit = tier.cache_get(&key).await?;
    inner.cache.insert(key, &hit);
    inner.credit_cache_hit(model, &hit);
    hit.cached = true;
    hit.attempts = 0;
    hit.elapsed = started.elapsed();
    if let Some(sink) = sink {
        sink.push(Ok(StreamEvent::Delta(hit.text.clone())));
    }
    Some(hit)
}

async fn attempts(
    inner: &Arc<Inner>,
    model: &Arc<ModelRuntime>,
    plan: &Plan,
    sink: Option<&Sink>,
) -> Result<Completion, LlmError> {
    let config = &model.config;
    let mut backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(config.retry_base_delay_ms))
        .with_max_delay(Duration::from_millis(
            config.retry_max_delay_ms.max(config.retry_base_delay_ms),
        ))
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(config.retries as usize)
        .build();
    let max_retry_after = Duration::from_millis(config.max_retry_after_ms);
    let mut failed: Vec<usize> = Vec::new();
    let mut last_error: Option<LlmError> = None;
    let mut delivered = false;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let (endpoint, trial) = match model.pick(&failed) {
            Ok(picked) => picked,
            Err(retry_in) => {
                return Err(last_error.unwrap_or(LlmError::CircuitOpen {
                    model: model.name.clone(),
                    retry_in,
                }));
            }
        };
        let permit = endpoint
            .gate
            .acquire(plan.request.priority, plan.tokens_estimate)
            .await;
        if let Some(limit) = &endpoint.shared_limit {
            let api_key = endpoint
                .api_key_env
                .as_deref()
                .and_then(|name| inner.keys.get(name));
            limit
                .admit(
                    plan.request.priority,
                    plan.tokens_estimate,
                    api_key.as_deref(),
                )
                .await;
        }
        if attempt > 1 {
            endpoint.stats.with(|s| s.retries += 1);
        }
        let outcome = attempt_once(inner, model, &endpoint, plan, sink, &mut delivered).await;
        drop(permit);
        let failure = match outcome {
            Ok(mut completion) => {
                trial.success();
                completion.attempts = attempt;
                return Ok(completion);
            }
            Err(failure) => failure,
        };
        if failure.health {
            trial.failure();
        } else {
            drop(trial);
        }
        tracing::debug!(
            code = failure.error.code(),
            endpoint = %endpoint.display,
            attempt,
            "LLM attempt failed: {}",
            failure.error
        );
        if delivered || !failure.error.retryable() {
            return Err(failure.error);
        }
        let Some(backoff_delay) = backoff.next() else {
            return Err(failure.error);
        };
        if !failed.contains(&endpoint.index) {
            failed.push(endpoint.index);
        }
        let delay = if model.has_other(&failed) {
            // Fail over at once: another endpoint may answer now.
            Duration::ZERO
        } else if let Some(wait) = failure.retry_after {
            if wait > max_retry_after {
                return Err(failure.error);
            }
            wait
        } else {
            backoff_delay
        };
        if model.endpoints.len() > 1 && failed.len() == model.endpoints.len() {
            // Every endpoint failed once; go round again.
            failed.clear();
        }
        last_error = Some(failure.error);
        tokio::time::sleep(delay).await;
    }
}

async fn attempt_once(
    inner: &Inner,
    model: &ModelRuntime,
    endpoint: &EndpointRuntime,
    plan: &Plan,
    sink: Option<&Sink>,
    delivered: &mut bool,
) -> Result<Completion, Failure> {
    let started = Instant::now();
    endpoint.stats.with(|s| s.requests += 1);
    let mut spent = Spent {
        inner,
        model,
        endpoint,
        started,
        prompt_estimate: plan.tokens_estimate.saturating_sub(plan.max_tokens) as u64,
        received: AtomicU64::new(0),
        settled: false,
    };
    let result = attempt_inner(inner, model, endpoint, plan, sink, delivered, &spent).await;
    spent.settled = true;
    endpoint.stats.with(|s| match &result {
        Ok(completion) => {
            s.successes += 1;
            if let Some(usage) = completion.usage {
                s.tokens_in += usage.prompt_tokens as u64;
                s.tokens_out += usage.completion_tokens as u64;
            }
            if let Some(ttft) = completion.time_to_first_token {
                s.ttft.record(ttft);
            }
            s.total.record(started.elapsed());
        }
        Err(failure) => {
            s.errors += 1;
            *s.errors_by_kind.entry(failure.error.code()).or_default() += 1;
        }
    });
    let delta = match &result {
        Ok(completion) => match completion.usage {
            Some(usage) => UsageDelta {
                requests: 1,
                tokens_in: usage.prompt_tokens as u64,
                tokens_out: usage.completion_tokens as u64,
                ..UsageDelta::default()
            },
            None => UsageDelta {
                requests: 1,
                tokens_in: spent.prompt_estimate,
                tokens_out: model.counter.count(&completion.text) as u64,
                ..UsageDelta::default()
            },
        },
        Err(_) => UsageDelta {
            requests: 1,
            ..UsageDelta::default()
        },
    };
    inner.record_usage(&model.name, delta);
    result
}

/// What an attempt spent, recorded in the usage log when the attempt is dropped before it ends
/// (a stream the engine stopped early, a cancelled request): the request, the prompt's estimated
/// tokens, and the text received so far at about four bytes a token (servers report usage only
/// at the end of a stream).
struct Spent<'a> {
    inner: &'a Inner,
    model: &'a ModelRuntime,
    endpoint: &'a EndpointRuntime,
    /// When the attempt started.
    started: Instant,
    prompt_estimate: u64,
    received: AtomicU64,
    settled: bool,
}

impl Drop for Spent<'_> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let received = self.received.load(Ordering::Relaxed);
        self.endpoint.stats.with(|s| s.cancelled += 1);
        self.inner.record_usage(
            &self.model.name,
            UsageDelta {
                requests: 1,
                tokens_in: self.prompt_estimate,
                tokens_out: received.div_ceil(4),
                ..UsageDelta::default()
            },
        );
    }
}

/// Collects events into a completion, forwarding text to a stream's sink.
struct Collector<'a> {
    text: String,
    /// The most text the reply may hold, in bytes.
    text_limit: u64,
    /// The endpoint, for errors.
    endpoint: &'a EndpointRuntime,
    prompt_tokens: Option<u32>,
    completion_tokens: Option<u32>,
    finish: FinishReason,
    done: bool,
    started: Instant,
    first_token: Option<Duration>,
    sink: Option<&'a Sink>,
    /// Bytes of text received, read if the attempt is dropped before it ends.
    received: &'a AtomicU64,
}

impl Collector<'_> {
    async fn apply(&mut self, events: Vec<Event>, delivered: &mut bool) -> Result<(), Failure> {
        for event in events {
            match event {
                Event::Text(text) => {
                    if text.is_empty() {
                        continue;
                    }
                    if (self.text.len() + text.len()) as u64 > self.text_limit {
                        return Err(too_large(self.endpoint, ReplyPart::Text, self.text_limit));
                    }
                    if self.first_token.is_none() {
                        self.first_token = Some(self.started.elapsed());
                    }
                    self.text.push_str(&text);
                    self.received
                        .fetch_add(text.len() as u64, Ordering::Relaxed);
                    if let Some(sink) = self.sink {
                        sink.push(Ok(StreamEvent::Delta(text)));
                        *delivered = true;
                    }
                }
                Event::Usage { prompt, completion } => {
                    self.prompt_tokens = prompt.or(self.prompt_tokens);
                    self.completion_tokens = completion.or(self.completion_tokens);
                }
                Event::Finish(reason) => self.finish = reason,
                Event::Done => self.done = true,
            }
        }
        Ok(())
    }

    fn finish(self, endpoint: &EndpointRuntime) -> Completion {
        let usage = match (self.prompt_tokens, self.completion_tokens) {
            (None, None) => None,
            (prompt, completion) => Some(Usage {
                prompt_tokens: prompt.unwrap_or(0),
                completion_tokens: completion.unwrap_or(0),
            }),
        };
        Completion {
            text: self.text,
            usage,
            finish_reason: self.finish,
            endpoint: endpoint.display.clone(),
            cached: false,
            attempts: 1,
            time_to_first_token: self.first_token,
            elapsed: self.started.elapsed(),
        }
    }
}

async fn attempt_inner(
    inner: &Inner,
    model: &ModelRuntime,
    endpoint: &EndpointRuntime,
    plan: &Plan,
    sink: Option<&Sink>,
    delivered: &mut bool,
    spent: &Spent<'_>,
) -> Result<Completion, Failure> {
    let (started, received) = (spent.started, &spent.received);
    let wire = plan.wire(model, endpoint);
    let call = endpoint
        .backend
        .build(&wire)
        .map_err(|message| Failure::request(config_error(&model.name, message)))?;
    let url = join_url(&endpoint.base_url, &call);
    let (mut builder, request_bytes) = match call.method {
        Method::Post => {
            let body = serde_json::to_vec(&call.body)
                .map_err(|e| Failure::request(config_error(&model.name, e.to_string())))?;
            let length = body.len();
            let builder = endpoint
                .http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
            (builder, length)
        }
        Method::Get => (endpoint.http.get(&url), 0),
    };
    let limits = ReplyLimits::new(plan.max_tokens, request_bytes);
    for (name, value) in &call.headers {
        builder = builder.header(*name, value);
    }
    if let Some(env) = &endpoint.api_key_env {
        let key = inner
            .keys
            .get(env)
            .ok_or_else(|| Failure::request(LlmError::MissingApiKey { env: env.clone() }))?;
        for (name, value) in endpoint.backend.auth_headers(&key) {
            builder = builder.header(name, value);
        }
    }
    if wire.stream {
        builder = builder.header(
            reqwest::header::ACCEPT,
            "text/event-stream, application/x-ndjson, application/json",
        );
    }
    let first_token_timeout = Duration::from_millis(model.config.first_token_timeout_ms);
    let first_deadline = started + first_token_timeout;
    let timeout = |phase| {
        Failure::unhealthy(LlmError::Timeout {
            endpoint: endpoint.display.clone(),
            phase,
            after: first_token_timeout,
        })
    };
    let connect_timeout = Duration::from_millis(model.config.connect_timeout_ms);
    let response = match timeout_at(first_deadline, builder.send()).await {
        Err(_) => return Err(timeout(TimeoutPhase::FirstToken)),
        Ok(Err(e)) => {
            return Err(Failure::unhealthy(transport_error(
                endpoint,
                e,
                connect_timeout,
            )));
        }
        Ok(Ok(response)) => response,
    };
    if !response.status().is_success() {
        return Err(status_failure(endpoint, response, first_deadline).await);
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_sse = content_type.starts_with("text/event-stream");
    let is_ndjson = content_type.contains("ndjson");
    let is_json = content_type.contains("json") && !is_ndjson;
    let framing = if is_sse {
        Some(Framing::Sse)
    } else if is_ndjson {
        Some(Framing::Ndjson)
    } else if is_json {
        // The whole reply as one JSON body (a server may ignore `stream: true`).
        None
    } else if content_type.is_empty() {
        wire.stream.then(|| endpoint.backend.framing())
    } else {
        let protocol = LlmError::Protocol {
            endpoint: endpoint.display.clone(),
            message: format!(
                "expected {} but the server sent content type `{content_type}`",
                if wire.stream { "a stream" } else { "JSON" }
            ),
        };
        return Err(Failure::unhealthy(protocol));
    };
    let mut collector = Collector {
        text: String::new(),
        text_limit: limits.text,
        endpoint,
        prompt_tokens: None,
        completion_tokens: None,
        finish: FinishReason::Unknown,
        done: false,
        started,
        first_token: None,
        sink,
        received,
    };
    let Some(framing) = framing else {
        let body = match timeout_at(first_deadline, read_whole(response, limits.message)).await {
            Err(_) => return Err(timeout(TimeoutPhase::FirstToken)),
            Ok(Err(error)) => return Err(wire_failure(endpoint, error)),
            Ok(Ok(body)) => body,
        };
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            let start: String = String::from_utf8_lossy(&body).chars().take(80).collect();
            parse_failure(
                endpoint,
                ParseError::new(format!("malformed JSON ({e}): {start}")),
            )
        })?;
        let events = endpoint
            .backend
            .parse_body(&wire, &value)
            .map_err(|e| parse_failure(endpoint, e))?;
        collector.apply(events, delivered).await?;
        if collector.first_token.is_none() {
            collector.first_token = Some(started.elapsed());
        }
        return Ok(collector.finish(endpoint));
    };
    let mut source = WireSource::new(response, framing, &limits);
    loop {
        let (limit, phase) = match collector.first_token {
            None => (first_deadline, TimeoutPhase::FirstToken),
            Some(_) => (Instant::now() + first_token_timeout, TimeoutPhase::Stall),
        };
        let item = match timeout_at(limit, source.next()).await {
            Err(_) => return Err(timeout(phase)),
            Ok(item) => item,
        };
        match item {
            None => break,
            Some(Err(error)) => return Err(wire_failure(endpoint, error)),
            Some(Ok((event, data))) => {
                let events = endpoint
                    .backend
                    .parse_stream(&wire, &event, &data)
                    .map_err(|e| parse_failure(endpoint, e))?;
                collector.apply(events, delivered).await?;
                if collector.done {
                    break;
                }
            }
        }
    }
    if !collector.done && collector.finish == FinishReason::Unknown {
        return Err(Failure::unhealthy(LlmError::Interrupted {
            endpoint: endpoint.display.clone(),
            message: "the stream ended before the answer was complete".into(),
        }));
    }
    Ok(collector.finish(endpoint))
}
