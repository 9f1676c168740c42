//! The shared tier on a real `redis-server` (each test starts its own on a free port): the limiter
//! script on chosen times, two and eight augur processes on one shared limit, an answer paid for
//! by one process served to another from Redis, Redis killed in the middle of a run and brought
//! back, a Redis that accepts and never answers, and a wrong password.
//!
//! The processes are this test binary run again as workers (`worker_process`, driven by the
//! `AUGUR_SHARED_WORKER` variable), each with an `LlmClient` of its own, all against one fake
//! model server in the parent.

mod llm_support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use augur::llm::health::{Notice, NoticeLevel};
use augur::llm::shared::limiter::{Limits, admit_once, limit_key};
use augur::llm::{CompletionRequest, LlmClient, LlmDeps, LlmSettings, ModelConfig, SharedConfig};
use augur::test_support::redis_server::{RedisServer, silent_server};
use llm_support::{Fake, model, openai_body, uncached_request};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// What a worker process is asked to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WorkerSpec {
    backend: String,
    redis: String,
    /// `flood`: ask as fast as it can for `seconds`; `once`: ask `prompt` once.
    mode: String,
    seconds: f64,
    prompt: String,
    requests_per_minute: u32,
    burst: u32,
}

/// What a worker reports on its last line of output.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct WorkerReport {
    ok: u64,
    errors: u64,
    cached: u64,
    shared_hits: u64,
    processes_seen: u64,
    state: String,
}

const REPORT: &str = "WORKER-REPORT ";

fn shared_model(backend: &str, requests_per_minute: u32, burst: u32) -> ModelConfig {
    ModelConfig {
        requests_per_minute,
        burst,
        shared: true,
        max_in_flight: 8,
        retries: 0,
        total_timeout_ms: 60_000,
        ..model("openai", backend)
    }
}

fn shared_settings(redis: &str) -> LlmSettings {
    LlmSettings {
        shared: SharedConfig {
            redis_url: Some(redis.to_owned()),
            namespace: "test".into(),
            // Generous for eight processes on two loaded cores; a dead Redis still costs at most
            // this once before the tier is off.
            cache_timeout_ms: 500,
            limiter_timeout_ms: 1_000,
            reconnect_interval_ms: 100,
            ..SharedConfig::default()
        },
        ..LlmSettings::default()
    }
}

fn client_for(
    model: ModelConfig,
    settings: LlmSettings,
    password: Option<&str>,
) -> (LlmClient, mpsc::UnboundedReceiver<Notice>) {
    let (notices, received) = mpsc::unbounded_channel();
    let password = password.map(str::to_owned);
    let keys = move |name: &str| {
        (name == "TEST_REDIS_PASSWORD")
            .then(|| password.clone())
            .flatten()
    };
    let models = BTreeMap::from([("default".to_owned(), model)]);
    let client = LlmClient::new(
        &models,
        LlmDeps {
            settings,
            keys: Some(Arc::new(keys)),
            notices: Some(notices),
            ..LlmDeps::default()
        },
    )
    .unwrap();
    (client, received)
}

/// The entry point of a worker process; run without `AUGUR_SHARED_WORKER` it checks that a
/// worker refuses a spec it cannot read.
#[test]
fn worker_process() {
    let Ok(spec) = std::env::var("AUGUR_SHARED_WORKER") else {
        assert!(serde_json::from_str::<WorkerSpec>("{\"mode\": 1}").is_err());
        return;
    };
    let spec: WorkerSpec = serde_json::from_str(&spec).expect("a worker spec");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(work(spec));
    println!("{REPORT}{}", serde_json::to_string(&report).unwrap());
}

async fn work(spec: WorkerSpec) -> WorkerReport {
    let (client, _notices) = client_for(
        shared_model(&spec.backend, spec.requests_per_minute, spec.burst),
        shared_settings(&spec.redis),
        None,
    );
    let mut report = WorkerReport::default();
    if spec.mode == "once" {
        let request = CompletionRequest {
            prompt: spec.prompt.clone(),
            max_tokens: Some(8),
            temperature: Some(0.0),
            ..CompletionRequest::new("default")
        };
        match client.complete(request).await {
            Ok(answer) => {
                report.ok += 1;
                report.cached += answer.cached as u64;
            }
            Err(_) => report.errors += 1,
        }
        // Let the store of the answer in Redis finish before the process ends.
        let deadline = Instant::now() + Duration::from_secs(5);
        while report.cached == 0
            && client.shared_metrics().unwrap().cache_stores == 0
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    } else {
        let stop = Instant::now() + Duration::from_secs_f64(spec.seconds);
        let mut tasks = Vec::new();
        for task in 0..4 {
            let client = client.clone();
            let prompt = spec.prompt.clone();
            tasks.push(tokio::spawn(async move {
                let (mut ok, mut errors) = (0u64, 0u64);
                let mut n = 0;
                let run = async {
                    loop {
                        n += 1;
                        match client
                            .complete(uncached_request(&format!("{prompt} {task} {n}")))
                            .await
                        {
                            Ok(_) => ok += 1,
                            Err(_) => errors += 1,
                        }
                    }
                };
                let _ = tokio::time::timeout_at(stop.into(), run).await;
                (ok, errors)
            }));
        }
        for task in tasks {
            let (ok, errors) = task.await.unwrap();
            report.ok += ok;
            report.errors += errors;
        }
    }
    let shared = client.shared_metrics().unwrap();
    report.shared_hits = shared.cache_hits;
    report.processes_seen = shared.processes_seen;
    report.state = shared.state;
    report
}

/// Runs `specs` as worker processes at once and returns their reports, in order.
fn run_workers(specs: &[WorkerSpec]) -> Vec<WorkerReport> {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = specs
        .iter()
        .map(|spec| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "worker_process",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("AUGUR_SHARED_WORKER", serde_json::to_string(spec).unwrap())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let line = stdout
                .lines()
                .find_map(|l| l.find(REPORT).map(|at| &l[at + REPORT.len()..]))
                .unwrap_or_else(|| {
                    panic!(
                        "a worker gave no report: {stdout}\n{}",
                        String::from_utf8_lossy(&output.stderr)
                    )
                });
            serde_json::from_str(line).unwrap()
        })
        .collect()
}

/// `n` processes ask as fast as they can for `seconds` on one shared limit of 60 a minute with a
/// burst of 5: the backend sees at most the burst plus one a second over the run, where `n`
/// processes each with its own limit would have sent `n` times the burst at once.
fn processes_share_one_limit(n: usize, seconds: f64) {
    let redis = RedisServer::start();
    let (_runtime, fake) = Fake::start_in_background();
    fake.set_default(openai_body("ok"));
    let (rate, burst) = (60, 5);
    let spec = WorkerSpec {
        backend: fake.v1(),
        redis: redis.url(),
        mode: "flood".into(),
        seconds,
        prompt: "fn f() {".into(),
        requests_per_minute: rate,
        burst,
    };
    let started = Instant::now();
    let reports = run_workers(&vec![spec; n]);
    let elapsed = started.elapsed();
    let calls = fake.calls() as u64;
    let allowed = burst as u64 + (elapsed.as_secs_f64() * rate as f64 / 60.0).ceil() as u64 + 1;
    let ok: u64 = reports.iter().map(|r| r.ok).sum();
    eprintln!("{n} processes, {elapsed:?}: backend saw {calls}, allowed {allowed}; {reports:?}");
    assert!(
        calls <= allowed,
        "{n} processes sent {calls} requests in {elapsed:?}; the shared limit allows {allowed}"
    );
    // Separate limits would have let each process send its burst and then one a second.
    assert!(allowed < n as u64 * (burst as u64 + seconds as u64));
    assert!(calls >= burst as u64, "the burst went through: {calls}");
    assert!(
        ok <= calls && ok > 0,
        "answered {ok} of the {calls} the backend saw"
    );
    assert!(reports.iter().all(|r| r.state == "up"), "{reports:?}");
    assert!(
        reports.iter().any(|r| r.processes_seen >= n as u64),
        "the limiter saw all {n} processes: {reports:?}"
    );
}

#[test]
fn two_processes_share_one_limit() {
    processes_share_one_limit(2, 4.0);
}

#[test]
fn eight_processes_share_one_limit() {
    processes_share_one_limit(8, 6.0);
}

#[test]
fn an_answer_paid_for_by_one_process_is_a_hit_in_another() {
    let redis = RedisServer::start();
    let (_runtime, fake) = Fake::start_in_background();
    fake.set_default(openai_body("return a + b;"));
    let spec = WorkerSpec {
        backend: fake.v1(),
        redis: redis.url(),
        mode: "once".into(),
        seconds: 0.0,
        prompt: "fn add(a: i32, b: i32) -> i32 {".into(),
        requests_per_minute: 0,
        burst: 0,
    };
    let first = run_workers(std::slice::from_ref(&spec)).remove(0);
    assert_eq!((first.ok, first.cached), (1, 0), "{first:?}");
    assert_eq!(fake.calls(), 1);
    let second = run_workers(&[spec]).remove(0);
    assert_eq!(
        (second.ok, second.cached, second.shared_hits),
        (1, 1, 1),
        "{second:?}"
    );
    assert_eq!(fake.calls(), 1, "process B was answered from Redis");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limiter_script_on_chosen_times() {
    let redis = RedisServer::start();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut c = redis::aio::ConnectionManager::new(client).await.unwrap();
    let key = limit_key("t", "http://x/v1", "m", Some("sk-secret"));
    assert!(!key.contains("sk-secret") && key.starts_with("t:limit:"));
    assert_ne!(key, limit_key("t", "http://x/v1", "m", Some("sk-other")));
    let limits = Limits {
        requests_per_minute: 60,
        burst: 3,
        tokens_per_minute: 0,
    };
    let t0 = 1_000_000;
    for _ in 0..3 {
        let a = admit_once(&mut c, &key, limits, 1, "p1", t0).await.unwrap();
        assert_eq!(a.wait, Duration::ZERO);
    }
    // The burst is spent: the next one may go a second later, and asking does not charge.
    let a = admit_once(&mut c, &key, limits, 1, "p2", t0).await.unwrap();
    assert_eq!((a.wait, a.processes), (Duration::from_millis(1000), 2));
    let a = admit_once(&mut c, &key, limits, 1, "p2", t0 + 400)
        .await
        .unwrap();
    assert_eq!(a.wait, Duration::from_millis(600));
    let a = admit_once(&mut c, &key, limits, 1, "p2", t0 + 1000)
        .await
        .unwrap();
    assert_eq!(a.wait, Duration::ZERO);
    let a = admit_once(&mut c, &key, limits, 1, "p1", t0 + 1000)
        .await
        .unwrap();
    assert_eq!(a.wait, Duration::from_millis(1000));
    // After a long pause the bucket is full again, no more.
    for i in 0..3 {
        let a = admit_once(&mut c, &key, limits, 1, "p1", t0 + 600_000)
            .await
            .unwrap();
        assert_eq!(a.wait, Duration::ZERO, "request {i}");
    }
    let a = admit_once(&mut c, &key, limits, 1, "p1", t0 + 600_000)
        .await
        .unwrap();
    assert!(!a.wait.is_zero());
    // A process not seen for a minute no longer counts.
    assert_eq!(a.processes, 1);

    // Tokens per minute: 600 a minute, a request of 300 tokens waits for 30 s of refill.
    let key = limit_key("t", "http://y/v1", "m", None);
    let tokens = Limits {
        requests_per_minute: 0,
        burst: 0,
        tokens_per_minute: 600,
    };
    for _ in 0..2 {
        let a = admit_once(&mut c, &key, tokens, 300, "p1", t0)
            .await
            .unwrap();
        assert_eq!(a.wait, Duration::ZERO);
    }
    let a = admit_once(&mut c, &key, tokens, 300, "p1", t0)
        .await
        .unwrap();
    assert_eq!(a.wait, Duration::from_secs(30));
    // A request larger than the bucket is charged as the whole bucket, not refused forever.
    let a = admit_once(&mut c, &key, tokens, 10_000, "p1", t0 + 120_000)
        .await
        .unwrap();
    assert_eq!(a.wait, Duration::ZERO);
}

fn drain(notices: &mut mpsc::UnboundedReceiver<Notice>) -> Vec<Notice> {
    let mut all = Vec::new();
    while let Ok(notice) = notices.try_recv() {
        all.push(notice);
    }
    all
}

async fn wait_state(client: &LlmClient, state: &str, within: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if client.shared_metrics().unwrap().state == state {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn bounded(prompt: &str) -> CompletionRequest {
    CompletionRequest {
        // The request's own deadline: a completion never waits on a dead Redis beyond it.
        deadline: Some(Duration::from_secs(3)),
        ..uncached_request(prompt)
    }
}

fn cached(prompt: &str) -> CompletionRequest {
    CompletionRequest {
        use_cache: true,
        ..bounded(prompt)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_falls_back_tells_once_and_resumes() {
    let mut redis = RedisServer::start();
    let port = redis.port();
    let fake = Fake::start().await;
    fake.set_default(openai_body("ok"));
    let model = shared_model(&fake.v1(), 600, 600);
    let (client, mut notices) = client_for(model.clone(), shared_settings(&redis.url()), None);
    for i in 0..3 {
        client
            .complete(bounded(&format!("before {i}")))
            .await
            .unwrap();
    }
    assert!(wait_state(&client, "up", Duration::from_secs(5)).await);
    assert!(client.shared_metrics().unwrap().limiter_calls >= 3);

    redis.kill();
    for i in 0..6 {
        let answer = client.complete(cached(&format!("during {i}"))).await;
        assert!(
            answer.is_ok(),
            "request {i} while Redis is down: {answer:?}"
        );
    }
    let shared = client.shared_metrics().unwrap();
    assert_eq!(shared.state, "down", "{shared:?}");
    assert!(shared.fallback_admissions >= 5, "{shared:?}");
    let told = drain(&mut notices);
    assert_eq!(told.len(), 1, "told once: {told:?}");
    assert_eq!(told[0].level, NoticeLevel::Warning);
    assert!(
        told[0].text.contains("augur reconnects by itself"),
        "{}",
        told[0].text
    );
    // The local cache still answers.
    let again = client.complete(cached("during 0")).await.unwrap();
    assert!(again.cached);

    let _back = RedisServer::start_on(port, None);
    assert!(
        wait_state(&client, "up", Duration::from_secs(10)).await,
        "the tier came back: {:?}",
        client.shared_metrics()
    );
    let told = drain(&mut notices);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].level, NoticeLevel::Info);
    // Answers are shared again: one stored now is a hit for another client.
    let calls = fake.calls();
    client.complete(cached("after")).await.unwrap();
    let start = Instant::now();
    while client.shared_metrics().unwrap().cache_stores == 0 && start.elapsed().as_secs() < 5 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (other, _notices) = client_for(model, shared_settings(&redis.url()), None);
    // The first request of a client only starts its connection.
    other.complete(bounded("warm up")).await.unwrap();
    assert!(wait_state(&other, "up", Duration::from_secs(5)).await);
    let hit = other.complete(cached("after")).await.unwrap();
    assert!(hit.cached, "{hit:?}");
    assert_eq!(
        fake.calls(),
        calls + 2,
        "only `after` and the warm-up reached the model"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_never_answers_costs_one_deadline_and_is_told_once() {
    let url = silent_server();
    let fake = Fake::start().await;
    fake.set_default(openai_body("ok"));
    let mut settings = shared_settings(&url);
    settings.shared.limiter_timeout_ms = 200;
    settings.shared.cache_timeout_ms = 50;
    let (client, mut notices) = client_for(shared_model(&fake.v1(), 600, 600), settings, None);
    for i in 0..5 {
        let answer = client.complete(cached(&format!("silent {i}"))).await;
        assert!(answer.is_ok(), "{answer:?}");
    }
    let shared = client.shared_metrics().unwrap();
    assert_eq!(shared.state, "down");
    assert!(
        shared
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("did not answer within 200 ms"),
        "{shared:?}"
    );
    assert_eq!(shared.outages, 1);
    let told = drain(&mut notices);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(fake.calls(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_named_and_completions_go_on() {
    let redis = RedisServer::with_password("right-password");
    let fake = Fake::start().await;
    fake.set_default(openai_body("ok"));
    let mut settings = shared_settings(&redis.url());
    settings.shared.redis_password_env = Some("TEST_REDIS_PASSWORD".into());
    let (client, mut notices) = client_for(
        shared_model(&fake.v1(), 600, 600),
        settings.clone(),
        Some("wrong-password"),
    );
    for i in 0..3 {
        assert!(client.complete(bounded(&format!("p {i}"))).await.is_ok());
    }
    let shared = client.shared_metrics().unwrap();
    assert_eq!(shared.state, "down");
    let told = drain(&mut notices);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].text.contains("password"), "{}", told[0].text);
    assert!(
        !told[0].text.contains("wrong-password"),
        "the password is never shown"
    );

    // The right password through the same variable brings the tier up.
    let (client, _notices) = client_for(
        shared_model(&fake.v1(), 600, 600),
        settings,
        Some("right-password"),
    );
    client.complete(bounded("p")).await.unwrap();
    assert!(wait_state(&client, "up", Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_redis_and_the_metrics_address() {
    use augur::cli::doctor::run_doctor_team;
    use augur::llm::prometheus::MetricsConfig;
    let redis = RedisServer::start();
    let free = augur::test_support::redis_server::free_port();
    let metrics = MetricsConfig {
        listen: Some(format!("127.0.0.1:{free}")),
        ..MetricsConfig::default()
    };
    let mut out = Vec::new();
    let ok = run_doctor_team(
        &shared_settings(&redis.url()),
        &metrics,
        Duration::from_secs(5),
        &mut out,
    )
    .await
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(ok, "{text}");
    assert!(
        text.contains("ok: Redis 7") || text.contains("ok: Redis "),
        "{text}"
    );
    assert!(text.contains("the limiter script loads"), "{text}");
    assert!(
        text.contains(&format!("127.0.0.1:{free} is free")),
        "{text}"
    );

    // A wrong password and a port another program holds both fail, with what to do.
    let locked = RedisServer::with_password("right-password");
    let mut settings = shared_settings(&locked.url());
    settings.shared.redis_password_env = Some("AUGUR_TEST_UNSET_PASSWORD_VARIABLE".into());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics = MetricsConfig {
        listen: Some(taken.local_addr().unwrap().to_string()),
        ..MetricsConfig::default()
    };
    let mut out = Vec::new();
    let ok = run_doctor_team(&settings, &metrics, Duration::from_secs(2), &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!ok, "{text}");
    assert!(text.contains("is not set"), "{text}");
    assert!(text.contains("FAILED: Redis at"), "{text}");
    assert!(text.contains("is taken by another program"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_each_process_keeps_its_share_of_the_limit() {
    let mut redis = RedisServer::start();
    let fake = Fake::start().await;
    fake.set_default(openai_body("ok"));
    // 60 a minute with a burst of 60, shared by two clients (two processes as Redis sees them).
    let model = shared_model(&fake.v1(), 60, 60);
    let (a, _a_notices) = client_for(model.clone(), shared_settings(&redis.url()), None);
    let (b, _b_notices) = client_for(model, shared_settings(&redis.url()), None);
    a.complete(bounded("a")).await.unwrap();
    b.complete(bounded("b")).await.unwrap();
    a.complete(bounded("a again")).await.unwrap();
    assert_eq!(a.shared_metrics().unwrap().processes_seen, 2);

    redis.kill();
    // Alone, `a` may now send half the limit: a burst of 30, then one every 2 s.
    for i in 0..30 {
        let answer = a.complete(bounded(&format!("alone {i}"))).await;
        assert!(answer.is_ok(), "request {i} of the burst: {answer:?}");
    }
    let over = a
        .complete(CompletionRequest {
            deadline: Some(Duration::from_millis(500)),
            ..uncached_request("one too many")
        })
        .await;
    assert_eq!(
        over.map_err(|e| e.code()).unwrap_err(),
        "llm.deadline",
        "the 31st waits for the local share"
    );
    let shared = a.shared_metrics().unwrap();
    assert_eq!(shared.state, "down");
    assert_eq!(shared.fallback_admissions, 30, "{shared:?}");
}
