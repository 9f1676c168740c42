//! The shared tier: one Redis that every augur process of a team names in `[llm.shared]`, holding
//! a second level of the answer cache ([`SharedTier::cache_get`], [`SharedTier::cache_put`]) and
//! the rate limits of models with `shared = true` ([`limiter`]).
//!
//! Every Redis call has a deadline (`cache_timeout_ms` for the cache, `limiter_timeout_ms` for
//! the limiter). The first call that fails or runs past its deadline turns the tier off: from then
//! on no request waits on Redis (cache lookups miss at once, limits fall back to this process's
//! share), the user is told once per outage (a [`Notice`] with the reason and the fix), and a
//! background task pings Redis every `reconnect_interval_ms` until it answers, when the tier comes
//! back (and the user is told that too).
//!
//! The connection is tokio's [`ConnectionManager`] (it reconnects by itself after I/O errors),
//! made lazily on the first request so that a client can be built outside a runtime. Until its
//! first answer the tier is *connecting*: cache lookups skip Redis and the limiter waits for the
//! connection up to its deadline.
//!
//! Nothing secret reaches Redis: cache keys are hashes, stored answers hold only the text, the
//! usage, the finish reason and the endpoint URL without credentials, and limiter keys hash the
//! API key.

pub mod limiter;
mod store;

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, RedisError};
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use crate::llm::cache::CacheKey;
use crate::llm::config::SharedConfig;
use crate::llm::error::{LlmError, redact_url};
use crate::llm::health::{Notice, NoticeLevel};
use crate::llm::types::Completion;

pub use limiter::{Admission, SharedLimit};

const CONNECTING: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// Where the shared tier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TierState {
    /// Not connected yet.
    Connecting,
    /// Redis answers; caches and limits are shared.
    Up,
    /// Redis failed; this process works alone until it answers again.
    Down,
}

/// What the shared tier counted, for `augur/metrics` and Prometheus.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharedMetrics {
    /// The Redis URL, without credentials.
    pub redis: String,
    /// `connecting`, `up` or `down`.
    pub state: String,
    /// Why the tier is down, when it is.
    pub reason: Option<String>,
    /// Answers found in Redis (after a local miss).
    pub cache_hits: u64,
    /// Lookups in Redis that found nothing.
    pub cache_misses: u64,
    /// Answers stored in Redis.
    pub cache_stores: u64,
    /// Calls of the limiter script.
    pub limiter_calls: u64,
    /// Times the limiter said to wait.
    pub limiter_waits: u64,
    /// Requests admitted by the local share of a limit while the tier was off.
    pub fallback_admissions: u64,
    /// Outages since start.
    pub outages: u64,
    /// The most processes seen sharing one limit in the last minute.
    pub processes_seen: u64,
}

#[derive(Default)]
struct Counters {
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    cache_stores: AtomicU64,
    limiter_calls: AtomicU64,
    limiter_waits: AtomicU64,
    fallback_admissions: AtomicU64,
    outages: AtomicU64,
    processes_seen: AtomicU64,
}

/// The shared tier of one client. Share it as `Arc<SharedTier>`.
pub struct SharedTier {
    config: SharedConfig,
    display: String,
    info: redis::ConnectionInfo,
    connection: OnceLock<ConnectionManager>,
    state: AtomicU8,
    /// Sends the state on each change, so that the limiter can wait for the first connection.
    changes: watch::Sender<u8>,
    reason: Mutex<Option<String>>,
    process_id: String,
    counters: Counters,
    notices: Option<mpsc::UnboundedSender<Notice>>,
}

impl std::fmt::Debug for SharedTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedTier")
            .field("redis", &self.display)
            .field("state", &self.state())
            .finish()
    }
}

/// Milliseconds since the Unix epoch: the clock every process sharing a limit agrees on.
pub fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

fn config_error(message: String) -> LlmError {
    LlmError::Config {
        model: "[llm.shared]".into(),
        message,
    }
}

impl SharedTier {
    /// The tier of `config`, or `None` when no `redis_url` is set. Fails on a URL Redis cannot
    /// use or a password variable that is named but not set. `notices` receives what the user
    /// should be told.
    pub fn new(
        config: &SharedConfig,
        password: Option<String>,
        notices: Option<mpsc::UnboundedSender<Notice>>,
    ) -> Result<Option<Arc<SharedTier>>, LlmError> {
        let Some(url) = config.redis_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let display = redact_url(url);
        let mut info = url
            .into_connection_info()
            .map_err(|e| config_error(format!("`redis_url` {display} is not a Redis URL: {e}")))?;
        if let Some(password) = password {
            let settings = info.redis_settings().clone().set_password(password);
            info = info.set_redis_settings(settings);
        }
        if config.namespace.is_empty() || config.namespace.contains(char::is_whitespace) {
            return Err(config_error(
                "`namespace` must be a non-empty word without spaces".into(),
            ));
        }
        let (changes, _) = watch::channel(CONNECTING);
        Ok(Some(Arc::new(SharedTier {
            config: config.clone(),
            display,
            info,
            connection: OnceLock::new(),
            state: AtomicU8::new(CONNECTING),
            changes,
            reason: Mutex::new(None),
            // Unique per client: the process, its start, and a sequence number within it.
            process_id: {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                format!(
                    "{}-{}-{}",
                    std::process::id(),
                    wall_clock_ms(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                )
            },
            counters: Counters::default(),
            notices,
        })))
    }

    /// This process's name in the limiter's set of processes.
    pub fn process_id(&self) -> &str {
        &self.process_id
    }

    pub(crate) fn now_ms(&self) -> u64 {
        wall_clock_ms()
    }

    /// The key prefix.
    pub fn namespace(&self) -> &str {
        &self.config.namespace
    }

    /// Where the tier stands.
    pub fn state(&self) -> TierState {
        match self.state.load(Ordering::Acquire) {
            UP => TierState::Up,
            DOWN => TierState::Down,
            _ => TierState::Connecting,
        }
    }

    /// Whether answers are shared.
    pub fn caches(&self) -> bool {
        self.config.cache
    }

    /// The counters.
    pub fn metrics(&self) -> SharedMetrics {
        let c = &self.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SharedMetrics {
            redis: self.display.clone(),
            state: match self.state() {
                TierState::Connecting => "connecting",
                TierState::Up => "up",
                TierState::Down => "down",
            }
            .into(),
            reason: self
                .reason
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            cache_hits: load(&c.cache_hits),
            cache_misses: load(&c.cache_misses),
            cache_stores: load(&c.cache_stores),
            limiter_calls: load(&c.limiter_calls),
            limiter_waits: load(&c.limiter_waits),
            fallback_admissions: load(&c.fallback_admissions),
            outages: load(&c.outages),
            processes_seen: load(&c.processes_seen),
        }
    }

    /// Starts connecting, when called on a tokio runtime (else the first request does).
    pub fn start(self: &Arc<Self>) {
        if tokio::runtime::Handle::try_current().is_ok() {
            self.connection();
        }
    }

    /// The connection, made on first use (it needs a tokio runtime); the first use also starts
    /// the task that brings the tier up.
    fn connection(self: &Arc<Self>) -> Option<ConnectionManager> {
        if let Some(connection) = self.connection.get() {
            return Some(connection.clone());
        }
        let deadline = Duration::from_millis(self.config.limiter_timeout_ms.max(1));
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(deadline))
            .set_response_timeout(Some(deadline))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(100));
        let made = redis::Client::open(self.info.clone())
            .and_then(|client| ConnectionManager::new_lazy_with_config(client, config));
        match made {
            Ok(connection) => {
                if self.connection.set(connection).is_ok() {
                    self.spawn_reconnect(Duration::ZERO);
                }
                self.connection.get().cloned()
            }
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    /// Runs one Redis call under `deadline`; a failure or a missed deadline turns the tier off.
    pub(crate) async fn call<T, F>(
        self: &Arc<Self>,
        deadline: Duration,
        call: impl FnOnce(ConnectionManager) -> F,
    ) -> Option<T>
    where
        F: Future<Output = Result<T, RedisError>>,
    {
        let connection = self.connection()?;
        match tokio::time::timeout(deadline, call(connection)).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(e)) => {
                self.failed(&e);
                None
            }
            Err(_) => {
                self.down(format!(
                    "Redis at {} did not answer within {} ms",
                    self.display,
                    deadline.as_millis()
                ));
                None
            }
        }
    }

    fn failed(self: &Arc<Self>, error: &RedisError) {
        let reason = match error.kind() {
            redis::ErrorKind::AuthenticationFailed => format!(
                "Redis at {} refused the password ({error}); check `redis_password_env`",
                self.display
            ),
            _ => format!("Redis at {} failed: {error}", self.display),
        };
        self.down(reason);
    }

    /// Turns the tier off (if it was not already), tells the user once and starts reconnecting.
    fn down(self: &Arc<Self>, reason: String) {
        let before = self.state.swap(DOWN, Ordering::AcqRel);
        if before == DOWN {
            return;
        }
        self.changes.send_replace(DOWN);
        *self.reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason.clone());
        self.counters.outages.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(redis = %self.display, "the shared tier is off: {reason}");
        self.tell(
            NoticeLevel::Warning,
            format!(
                "augur: the shared cache and rate limits are off: {reason}. Completions go on \
                 with this window's own cache and its share of the limits; augur reconnects by \
                 itself. Fix: check that Redis runs and that `[llm.shared] redis_url` and \
                 `redis_password_env` are right."
            ),
        );
        self.spawn_reconnect(Duration::from_millis(
            self.config.reconnect_interval_ms.max(10),
        ));
    }

    fn tell(&self, level: NoticeLevel, text: String) {
        if let Some(notices) = &self.notices {
            let _ = notices.send(Notice { level, text });
        }
    }

    /// Pings Redis every `every` (at once first when zero) until it answers, then turns the tier
    /// on. Stops when the tier is dropped.
    fn spawn_reconnect(self: &Arc<Self>, every: Duration) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let tier: Weak<SharedTier> = Arc::downgrade(self);
        let interval = Duration::from_millis(self.config.reconnect_interval_ms.max(10));
        let deadline = Duration::from_millis(self.config.limiter_timeout_ms.max(1));
        runtime.spawn(async move {
            let mut wait = every;
            loop {
                tokio::time::sleep(wait).await;
                wait = interval;
                let Some(tier) = tier.upgrade() else {
                    return;
                };
                let Some(mut connection) = tier.connection.get().cloned() else {
                    return;
                };
                let pinged = tokio::time::timeout(
                    deadline,
                    redis::cmd("PING").query_async::<String>(&mut connection),
                )
                .await;
                match pinged {
                    Ok(Ok(_)) => {
                        tier.up();
                        return;
                    }
                    Ok(Err(e)) if tier.state.load(Ordering::Acquire) == CONNECTING => {
                        tier.failed(&e);
                        return;
                    }
                    Err(_) if tier.state.load(Ordering::Acquire) == CONNECTING => {
                        tier.down(format!(
                            "Redis at {} did not answer within {} ms",
                            tier.display,
                            deadline.as_millis()
                        ));
                        return;
                    }
                    _ => {}
                }
            }
        });
    }

    fn up(&self) {
        let before = self.state.swap(UP, Ordering::AcqRel);
        self.changes.send_replace(UP);
        if before == DOWN {
            *self.reason.lock().unwrap_or_else(|e| e.into_inner()) = None;
            tracing::info!(redis = %self.display, "the shared tier is on again");
            self.tell(
                NoticeLevel::Info,
                format!(
                    "augur: Redis at {} answers again; the cache and rate limits are shared again",
                    self.display
                ),
            );
        }
    }

    /// Checks Redis for `augur doctor` on a connection of its own: it answers within `within`,
    /// accepts the credentials and loads the limiter script. Returns what was found, or why not.
    pub async fn check(&self, within: Duration) -> Result<String, String> {
        let started = std::time::Instant::now();
        let work = async {
            let client = redis::Client::open(self.info.clone())?;
            let mut c = client.get_multiplexed_async_connection().await?;
            let _: String = redis::cmd("PING").query_async(&mut c).await?;
            let info: String = redis::cmd("INFO").arg("server").query_async(&mut c).await?;
            let _: String = redis::cmd("SCRIPT")
                .arg("LOAD")
                .arg(limiter::SCRIPT)
                .query_async(&mut c)
                .await?;
            Ok::<String, RedisError>(info)
        };
        match tokio::time::timeout(within, work).await {
            Ok(Ok(info)) => {
                let version = info
                    .lines()
                    .find_map(|l| l.strip_prefix("redis_version:"))
                    .unwrap_or("unknown")
                    .trim()
                    .to_owned();
                Ok(format!(
                    "Redis {version} at {} answers ({:.1} ms), the limiter script loads",
                    self.display,
                    started.elapsed().as_secs_f64() * 1000.0
                ))
            }
            Ok(Err(e)) if e.kind() == redis::ErrorKind::AuthenticationFailed => Err(format!(
                "Redis at {} refused the password ({e}); set the variable named by \
                 `redis_password_env`",
                self.display
            )),
            Ok(Err(e)) => Err(format!(
                "Redis at {} failed: {e}; check that it runs and that `redis_url` is right",
                self.display
            )),
            Err(_) => Err(format!(
                "Redis at {} did not answer within {} ms",
                self.display,
                within.as_millis()
            )),
        }
    }

    /// Waits until the tier leaves `connecting`, for at most `within`; true when it is up.
    pub(crate) async fn wait_connected(self: &Arc<Self>, within: Duration) -> bool {
        self.connection();
        let mut changes = self.changes.subscribe();
        let _ = tokio::time::timeout(within, changes.wait_for(|s| *s != CONNECTING)).await;
        self.state() == TierState::Up
    }

    /// The answer stored in Redis under `key`, if the tier is up and one is there within the
    /// cache deadline.
    pub async fn cache_get(self: &Arc<Self>, key: &CacheKey) -> Option<Completion> {
        if !self.config.cache {
            return None;
        }
        let deadline = Duration::from_millis(self.config.cache_timeout_ms.max(1));
        // The first requests of a process wait for the connection, within the lookup's deadline.
        if self.state() == TierState::Connecting && !self.wait_connected(deadline).await {
            return None;
        }
        if self.state() != TierState::Up {
            return None;
        }
        let redis_key = store::cache_key(&self.config.namespace, key);
        let value: Option<Vec<u8>> = self
            .call(deadline, move |mut c| async move {
                redis::cmd("GET").arg(&redis_key).query_async(&mut c).await
            })
            .await?;
        match value.and_then(|bytes| store::decode(&bytes)) {
            Some(completion) => {
                self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                Some(completion)
            }
            None => {
                self.counters.cache_misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Stores an answer in Redis for `ttl`, on a task of its own (the caller does not wait).
    pub fn cache_put(self: &Arc<Self>, key: CacheKey, completion: &Completion, ttl: Duration) {
        if !self.config.cache || self.state() != TierState::Up {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let value = store::encode(completion);
        let redis_key = store::cache_key(&self.config.namespace, &key);
        let ttl_ms = ttl.as_millis().clamp(1, u64::MAX as u128) as u64;
        let deadline = Duration::from_millis(self.config.cache_timeout_ms.max(1));
        let tier = Arc::clone(self);
        runtime.spawn(async move {
            let stored = tier
                .call(deadline, move |mut c| async move {
                    redis::cmd("SET")
                        .arg(&redis_key)
                        .arg(value)
                        .arg("PX")
                        .arg(ttl_ms)
                        .query_async::<()>(&mut c)
                        .await
                })
                .await;
            if stored.is_some() {
                tier.counters.cache_stores.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
}
