//! A scriptable fake model server for the LLM client's tests: an axum server on 127.0.0.1 that
//! answers each request with the next scripted [`Reply`] (or the default one), records what it
//! received, and notices when a client goes away in the middle of a streamed body.
//!
//! A path can also be given a fixed reply with [`Fake::route`] (health checks use it): requests to
//! it are counted apart ([`Fake::route_calls`]) and neither consume the script nor show in
//! [`Fake::calls`] and [`Fake::requests`].
//!
//! [`Reply::generated`] makes a huge body as it is sent (nothing of its size is allocated) and
//! counts the bytes the server pulled from it, so a test can tell that a client stopped reading.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use augur::llm::{CacheConfig, EndpointConfig, LlmClient, LlmDeps, LlmSettings, ModelConfig};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

/// How a streamed reply ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The body ends normally.
    Close,
    /// The body never ends (nor sends anything more).
    Stall,
    /// The connection is aborted (the body fails).
    Reset,
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A whole body.
    Body {
        status: u16,
        content_type: String,
        headers: Vec<(String, String)>,
        body: String,
        delay: Duration,
    },
    /// A body sent in chunks, each after its delay.
    Chunks {
        content_type: String,
        chunks: Vec<(Duration, String)>,
        end: End,
    },
    /// A body made while it is sent: see [`Reply::generated`].
    Generated {
        status: u16,
        content_type: String,
        head: String,
        unit: String,
        total: usize,
        tail: String,
        pulled: Arc<AtomicUsize>,
    },
}

impl Reply {
    /// A 200 JSON reply.
    pub fn json(body: Value) -> Reply {
        Reply::Body {
            status: 200,
            content_type: "application/json".into(),
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    /// An error status with a JSON error body.
    pub fn status(status: u16, message: &str) -> Reply {
        Reply::Body {
            status,
            content_type: "application/json".into(),
            headers: Vec::new(),
            body: serde_json::json!({"error": {"message": message}}).to_string(),
            delay: Duration::ZERO,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Body { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// Delays a whole-body reply.
    pub fn delayed(mut self, by: Duration) -> Reply {
        if let Reply::Body { delay, .. } = &mut self {
            *delay = by;
        }
        self
    }

    /// A raw body with any content type.
    pub fn raw(status: u16, content_type: &str, body: &str) -> Reply {
        Reply::Body {
            status,
            content_type: content_type.into(),
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// A stream of pre-framed chunks, sent without delay.
    pub fn stream(content_type: &str, chunks: Vec<String>, end: End) -> Reply {
        Reply::Chunks {
            content_type: content_type.into(),
            chunks: chunks.into_iter().map(|c| (Duration::ZERO, c)).collect(),
            end,
        }
    }

    /// A body made while it is sent: `head`, then `unit` repeated (in blocks of about 64 KiB)
    /// until at least `total` bytes of units went out, then `tail`. Every byte the server takes
    /// from the body is added to `pulled`; a body dropped before its end counts in
    /// [`Fake::streams_dropped_early`].
    pub fn generated(
        content_type: &str,
        head: &str,
        unit: &str,
        total: usize,
        tail: &str,
        pulled: &Arc<AtomicUsize>,
    ) -> Reply {
        Reply::Generated {
            status: 200,
            content_type: content_type.into(),
            head: head.into(),
            unit: unit.into(),
            total,
            tail: tail.into(),
            pulled: Arc::clone(pulled),
        }
    }

    /// Sets the status of a whole-body or generated reply.
    pub fn with_status(mut self, code: u16) -> Reply {
        match &mut self {
            Reply::Body { status, .. } | Reply::Generated { status, .. } => *status = code,
            Reply::Chunks { .. } => {}
        }
        self
    }

    /// Sets the delay before every chunk (the first one included).
    pub fn paced(mut self, every: Duration) -> Reply {
        if let Reply::Chunks { chunks, .. } = &mut self {
            for chunk in chunks.iter_mut() {
                chunk.0 = every;
            }
        }
        self
    }

    /// Sets the delay before the first chunk only.
    pub fn first_after(mut self, delay: Duration) -> Reply {
        if let Reply::Chunks { chunks, .. } = &mut self
            && let Some(first) = chunks.first_mut()
        {
            first.0 = delay;
        }
        self
    }
}

/// OpenAI completion SSE: one event per piece, then `[DONE]`.
pub fn openai_sse(pieces: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = pieces
        .iter()
        .map(|p| {
            format!(
                "data: {}\n\n",
                serde_json::json!({"choices": [{"text": p, "index": 0}]})
            )
        })
        .collect();
    out.push(format!(
        "data: {}\n\n",
        serde_json::json!({"choices": [{"text": "", "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 5, "completion_tokens": pieces.len()}})
    ));
    out.push("data: [DONE]\n\n".into());
    out
}

/// The same pieces as a streamed OpenAI reply.
pub fn openai_stream(pieces: &[&str]) -> Reply {
    Reply::stream("text/event-stream", openai_sse(pieces), End::Close)
}

/// A non-streaming OpenAI completion reply.
pub fn openai_body(text: &str) -> Reply {
    Reply::json(serde_json::json!({
        "id": "x", "object": "text_completion",
        "choices": [{"text": text, "index": 0, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    }))
}

/// An OpenAI model list naming `test-model` (the model [`model`] asks for).
pub fn model_list() -> Reply {
    Reply::json(serde_json::json!({"data": [{"id": "test-model"}]}))
}

/// A recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct State {
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
    routes: Mutex<HashMap<String, Reply>>,
    route_calls: Mutex<HashMap<String, usize>>,
    requests: Mutex<Vec<Recorded>>,
    calls: AtomicUsize,
    streams_started: AtomicUsize,
    streams_finished: AtomicUsize,
    streams_dropped_early: AtomicUsize,
}

/// The fake server.
pub struct Fake {
    pub url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Counts a streamed body's end: finished normally or dropped early (the client went away).
struct BodyGuard {
    state: Arc<State>,
    finished: bool,
}

impl BodyGuard {
    fn mark_finished(&mut self) {
        self.finished = true;
    }
}

impl Drop for BodyGuard {
    fn drop(&mut self) {
        if self.finished {
            self.state.streams_finished.fetch_add(1, Ordering::SeqCst);
        } else {
            self.state
                .streams_dropped_early
                .fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn handle(
    state: Arc<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let routed = state.routes.lock().unwrap().get(uri.path()).cloned();
    let reply = match routed {
        Some(reply) => {
            *state
                .route_calls
                .lock()
                .unwrap()
                .entry(uri.path().to_owned())
                .or_default() += 1;
            reply
        }
        None => scripted(&state, method, &uri, headers, &body),
    };
    respond(state, reply).await
}

/// Records a request and takes its scripted reply.
fn scripted(state: &State, method: Method, uri: &Uri, headers: HeaderMap, body: &Bytes) -> Reply {
    state.calls.fetch_add(1, Ordering::SeqCst);
    state.requests.lock().unwrap().push(Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers,
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    });
    state
        .script
        .lock()
        .unwrap()
        .pop_front()
        .or_else(|| state.default.lock().unwrap().clone())
        .unwrap_or_else(|| Reply::status(500, "the fake has no reply scripted"))
}

async fn respond(state: Arc<State>, reply: Reply) -> Response {
    match reply {
        Reply::Body {
            status,
            content_type,
            headers,
            body,
            delay,
        } => {
            tokio::time::sleep(delay).await;
            let mut response = Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("content-type", content_type);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response.body(Body::from(body)).unwrap()
        }
        Reply::Chunks {
            content_type,
            chunks,
            end,
        } => {
            state.streams_started.fetch_add(1, Ordering::SeqCst);
            let guard = BodyGuard {
                state: Arc::clone(&state),
                finished: false,
            };
            let stream = futures::stream::unfold(
                (VecDeque::from(chunks), guard, false),
                move |(mut chunks, mut guard, over)| async move {
                    if over {
                        return None;
                    }
                    if let Some((delay, chunk)) = chunks.pop_front() {
                        tokio::time::sleep(delay).await;
                        return Some((
                            Ok::<Bytes, std::io::Error>(Bytes::from(chunk)),
                            (chunks, guard, false),
                        ));
                    }
                    match end {
                        End::Close => {
                            guard.mark_finished();
                            None
                        }
                        End::Stall => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            None
                        }
                        End::Reset => {
                            // Let the chunks already sent reach the client before the abort.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            guard.mark_finished();
                            Some((
                                Err(std::io::Error::other("connection reset by the fake")),
                                (chunks, guard, true),
                            ))
                        }
                    }
                },
            );
            Response::builder()
                .status(200)
                .header("content-type", content_type)
                .body(Body::from_stream(stream))
                .unwrap()
        }
        Reply::Generated {
            status,
            content_type,
            head,
            unit,
            total,
            tail,
            pulled,
        } => {
            state.streams_started.fetch_add(1, Ordering::SeqCst);
            let guard = BodyGuard {
                state: Arc::clone(&state),
                finished: false,
            };
            let block = Bytes::from(unit.repeat((64 * 1024 / unit.len().max(1)).max(1)));
            let parts = generated_parts(Bytes::from(head), block, total, Bytes::from(tail));
            let stream = futures::stream::unfold(
                (parts, guard, pulled),
                |(mut parts, mut guard, pulled)| async move {
                    match parts.next() {
                        Some(part) => {
                            pulled.fetch_add(part.len(), Ordering::SeqCst);
                            Some((Ok::<Bytes, Infallible>(part), (parts, guard, pulled)))
                        }
                        None => {
                            guard.mark_finished();
                            None
                        }
                    }
                },
            );
            Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("content-type", content_type)
                .body(Body::from_stream(stream))
                .unwrap()
        }
    }
}

/// The pieces of a generated body: the head, blocks of units until `total`, and the tail.
fn generated_parts(
    head: Bytes,
    block: Bytes,
    total: usize,
    tail: Bytes,
) -> impl Iterator<Item = Bytes> + Send {
    let blocks = total.div_ceil(block.len().max(1));
    std::iter::once(head)
        .chain(std::iter::repeat_n(block, blocks))
        .chain(std::iter::once(tail))
        .filter(|part| !part.is_empty())
}

impl Fake {
    /// Starts a fake on a free port of 127.0.0.1.
    pub async fn start() -> Fake {
        Fake::start_at("127.0.0.1:0").await
    }

    /// Starts a fake listening at `addr` (`127.0.0.1:PORT`), for a model that comes up where
    /// nothing listened before.
    pub async fn start_at(addr: &str) -> Fake {
        let state = Arc::new(State::default());
        let app_state = Arc::clone(&state);
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = Arc::clone(&app_state);
                async move { Ok::<_, Infallible>(handle(state, method, uri, headers, body).await) }
            },
        );
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            // Without TCP_NODELAY each small streamed write waits for the client's delayed ACK
            // (about 40 ms per reply).
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app).await.unwrap();
        });
        Fake {
            url: format!("http://{addr}"),
            state,
            task,
        }
    }

    /// Starts a fake on a runtime of its own, for tests that are not async themselves (the
    /// runtime must live as long as the fake).
    pub fn start_in_background() -> (tokio::runtime::Runtime, Fake) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let fake = runtime.block_on(Fake::start());
        (runtime, fake)
    }

    /// [`Fake::start_at`] on a runtime of its own.
    pub fn start_in_background_at(addr: &str) -> (tokio::runtime::Runtime, Fake) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let fake = runtime.block_on(Fake::start_at(addr));
        (runtime, fake)
    }

    /// Scripts the next reply.
    pub fn push(&self, reply: Reply) -> &Fake {
        self.state.script.lock().unwrap().push_back(reply);
        self
    }

    /// The reply used when the script is empty.
    pub fn set_default(&self, reply: Reply) {
        *self.state.default.lock().unwrap() = Some(reply);
    }

    /// Gives `path` a fixed reply (replacing any earlier one), outside the script.
    pub fn route(&self, path: &str, reply: Reply) {
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), reply);
    }

    /// Requests received on a path given a reply by [`Fake::route`].
    pub fn route_calls(&self, path: &str) -> usize {
        self.state
            .route_calls
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Requests received (those on routed paths aside).
    pub fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    /// The recorded requests.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Streamed bodies dropped before their end (the client closed the connection).
    pub fn streams_dropped_early(&self) -> usize {
        self.state.streams_dropped_early.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` streamed bodies were dropped early, or gives up after `within`.
    pub async fn wait_dropped(&self, n: usize, within: Duration) -> bool {
        wait_until(within, || self.streams_dropped_early() >= n).await
    }

    /// The base URL of the fake as an OpenAI endpoint (`<fake>/v1`).
    pub fn v1(&self) -> String {
        format!("{}/v1", self.url)
    }
}

/// Waits until `done` holds, looking every millisecond of tokio's clock (on a paused clock a wait
/// lets time move on), and gives up after `within`; whether `done` came true.
pub async fn wait_until(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits until `done` holds, blocking the thread and looking every 20 ms, and gives up after
/// `within`; whether `done` came true. For tests that are not async themselves.
pub fn wait_until_blocking(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A model table with fast test timings for `backend` at `url`, without health checks (so that a
/// model given several endpoints sends the fakes only the requests a test makes).
/// A short request for model `default` that bypasses the cache.
pub fn uncached_request(prompt: &str) -> augur::llm::CompletionRequest {
    augur::llm::CompletionRequest {
        prompt: prompt.into(),
        max_tokens: Some(8),
        use_cache: false,
        ..augur::llm::CompletionRequest::new("default")
    }
}

pub fn model(backend: &str, url: &str) -> ModelConfig {
    ModelConfig {
        backend: augur::llm::BackendKind::from_name(backend)
            .unwrap_or_else(|| panic!("the tests name no backend `{backend}`")),
        url: url.into(),
        model: "test-model".into(),
        retries: 2,
        retry_base_delay_ms: 10,
        retry_max_delay_ms: 50,
        first_token_timeout_ms: 2_000,
        total_timeout_ms: 10_000,
        connect_timeout_ms: 500,
        health_check_interval_ms: 0,
        ..ModelConfig::default()
    }
}

/// A model (see [`model`]) whose endpoints are these URLs, in order, taken round-robin.
pub fn endpoints_model(backend: &str, urls: &[&str]) -> ModelConfig {
    let mut config = model(backend, "http://unused");
    config.strategy = augur::llm::Strategy::RoundRobin;
    config.endpoints = urls
        .iter()
        .map(|url| EndpointConfig {
            url: (*url).to_owned(),
            ..EndpointConfig::default()
        })
        .collect();
    config
}

/// A model with two endpoints, the fakes `a` and `b` (OpenAI protocol, base URL `<fake>/v1`),
/// taken round-robin.
pub fn two_endpoints(a: &Fake, b: &Fake) -> ModelConfig {
    endpoints_model("openai", &[&a.v1(), &b.v1()])
}

/// A client with one model named `default`.
pub fn client(model: ModelConfig) -> LlmClient {
    client_with(model, LlmSettings::default())
}

/// The default client settings with the answer cache off, so that every request reaches the
/// model.
pub fn no_cache() -> LlmSettings {
    LlmSettings {
        cache: CacheConfig {
            enabled: false,
            ..CacheConfig::default()
        },
        ..LlmSettings::default()
    }
}

/// A client with one model named `default` and these settings.
pub fn client_with(model: ModelConfig, settings: LlmSettings) -> LlmClient {
    let models = BTreeMap::from([("default".to_owned(), model)]);
    LlmClient::new(
        &models,
        LlmDeps {
            settings,
            ..LlmDeps::default()
        },
    )
    .unwrap()
}

/// A URL where nothing listens (a port bound and released).
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
