//! Rate limits shared by every process through one atomic Redis script.
//!
//! The algorithm is GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp):
//! for a limit of `r` per minute the emission interval is `T = 60000 / r` ms, and Redis keeps the
//! *theoretical arrival time* `tat` of the next request. A request costing `n` cells at time
//! `now` is admitted when `max(tat, now) + n·T - burst·T <= now`; then `tat` becomes
//! `max(tat, now) + n·T`. Otherwise it is told how long to wait. So `burst` requests may go at once,
//! and after that one every `T`: over any span of `t` ms at most `burst + t / T` requests pass.
//! Requests per minute cost 1 cell; tokens per minute cost the request's token estimate (clamped
//! to the bucket). Both buckets are checked before either is charged, in one script, so that the
//! check and the charge are atomic across processes.
//!
//! The script takes the time as an argument (milliseconds, from the caller's clock) rather than
//! reading Redis `TIME`, so tests drive it with chosen times. It also records the calling process
//! in a sorted set per limit and answers how many processes called in the last minute: when Redis
//! fails, each process falls back to the limits divided by that number.
//!
//! A limit is shared by the processes that call the same endpoint: its key hashes the URL, the
//! backend's model name and a hash of the API key (never the key), under the namespace.
//!
//! [`SharedLimit::admit`] keeps the local priority order: the waiters of one endpoint pass a
//! turnstile (a [`Gate`] letting one in at a time, highest priority first) and only the one
//! holding it asks Redis, sleeping for the wait Redis names while it holds it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::Script;
use redis::aio::ConnectionManager;

use super::{SharedTier, TierState};
use crate::llm::limits::{Gate, GateLimits};
use crate::llm::types::Priority;

/// How long a process counts as sharing a limit after its last call, in milliseconds.
pub const PROCESS_WINDOW_MS: u64 = 60_000;

/// The limiter script (Lua, run atomically by Redis).
pub const SCRIPT: &str = r#"
-- KEYS: the requests bucket, the tokens bucket, the set of processes.
-- ARGV: now (ms), requests per minute, burst, tokens per minute, tokens, process id, window (ms).
local now = tonumber(ARGV[1])
local rpm = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tpm = tonumber(ARGV[4])
local tokens = tonumber(ARGV[5])
local window = tonumber(ARGV[7])

redis.call('ZADD', KEYS[3], now, ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
redis.call('PEXPIRE', KEYS[3], window)
local processes = redis.call('ZCARD', KEYS[3])

-- Returns the wait in ms (0: admitted) and the new arrival time.
local function check(key, per_minute, cells, size)
  if per_minute <= 0 then
    return 0, nil
  end
  local interval = 60000 / per_minute
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then
    tat = now
  end
  local new_tat = tat + cells * interval
  local allow_at = new_tat - size * interval
  if allow_at > now then
    return allow_at - now, nil
  end
  return 0, new_tat
end

local wait_r, tat_r = check(KEYS[1], rpm, 1, burst)
local wait_t, tat_t = check(KEYS[2], tpm, math.min(tokens, tpm), tpm)
local wait = math.max(wait_r, wait_t)
if wait > 0 then
  return {math.ceil(wait), processes}
end
if tat_r then
  redis.call('SET', KEYS[1], string.format('%.3f', tat_r), 'PX', math.ceil(tat_r - now) + 1000)
end
if tat_t then
  redis.call('SET', KEYS[2], string.format('%.3f', tat_t), 'PX', math.ceil(tat_t - now) + 1000)
end
return {0, processes}
"#;

/// The script, loaded once per process (`EVALSHA`, falling back to `EVAL` on a fresh Redis).
fn script() -> &'static Script {
    static SCRIPT_CELL: std::sync::OnceLock<Script> = std::sync::OnceLock::new();
    SCRIPT_CELL.get_or_init(|| Script::new(SCRIPT))
}

/// What the script answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// How long to wait before asking again; zero when the request was admitted (and charged).
    pub wait: Duration,
    /// How many processes called this limit within the last minute, this one included.
    pub processes: u32,
}

/// The limits one call checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests per minute (0: none).
    pub requests_per_minute: u32,
    /// Requests that may go at once.
    pub burst: u32,
    /// Tokens per minute (0: none).
    pub tokens_per_minute: u32,
}

/// Runs the script once: admits (and charges) a request costing `tokens` at `now_ms`, or says how
/// long to wait. `key` names the limit (see [`limit_key`]).
pub async fn admit_once(
    connection: &mut ConnectionManager,
    key: &str,
    limits: Limits,
    tokens: u32,
    process: &str,
    now_ms: u64,
) -> Result<Admission, redis::RedisError> {
    let (wait, processes): (u64, u64) = script()
        .key(format!("{key}:requests"))
        .key(format!("{key}:tokens"))
        .key(format!("{key}:processes"))
        .arg(now_ms)
        .arg(limits.requests_per_minute)
        .arg(limits.burst.max(1))
        .arg(limits.tokens_per_minute)
        .arg(tokens.max(1))
        .arg(process)
        .arg(PROCESS_WINDOW_MS)
        .invoke_async(connection)
        .await?;
    Ok(Admission {
        wait: Duration::from_millis(wait),
        processes: processes.clamp(1, u32::MAX as u64) as u32,
    })
}

/// The Redis key of the limit of an endpoint: the namespace and a hash of the URL, the backend's
/// model name and a hash of the API key.
pub fn limit_key(namespace: &str, url: &str, model: &str, api_key: Option<&str>) -> String {
    let key_hash = api_key.map(|k| blake3::hash(k.as_bytes()).to_hex().to_string());
    let mut hasher = blake3::Hasher::new();
    for part in [url, model, key_hash.as_deref().unwrap_or("")] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    let hex = hasher.finalize().to_hex();
    format!("{namespace}:limit:{}", hex.get(..32).unwrap_or(""))
}

/// The shared limit of one endpoint.
pub struct SharedLimit {
    tier: Arc<SharedTier>,
    limits: Limits,
    url: String,
    model: String,
    turnstile: Arc<Gate>,
    /// The processes last seen sharing this limit (1 until Redis said otherwise).
    processes: AtomicU32,
    /// The local share of the limits used while the tier is off, with the process count it was
    /// made for.
    fallback: Mutex<Option<(u32, Arc<Gate>)>>,
}

impl std::fmt::Debug for SharedLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLimit")
            .field("limits", &self.limits)
            .finish()
    }
}

impl SharedLimit {
    /// The shared limit of the endpoint at `url` serving `model`.
    pub fn new(tier: Arc<SharedTier>, limits: Limits, url: &str, model: &str) -> SharedLimit {
        SharedLimit {
            tier,
            limits,
            url: url.to_owned(),
            model: model.to_owned(),
            turnstile: Gate::new(GateLimits {
                max_in_flight: 1,
                ..GateLimits::default()
            }),
            processes: AtomicU32::new(1),
            fallback: Mutex::new(None),
        }
    }

    /// The processes last seen sharing this limit.
    pub fn processes(&self) -> u32 {
        self.processes.load(Ordering::Relaxed)
    }

    /// Waits until the shared limit admits a request costing `tokens` (the API key, if any, names
    /// the limit with the URL and model). Falls back to the local share of the limit when Redis
    /// fails or is off; never waits on Redis longer than the limiter's deadline per call.
    pub async fn admit(&self, priority: Priority, tokens: u32, api_key: Option<&str>) {
        let _turn = self.turnstile.acquire(priority, 0).await;
        let key = limit_key(self.tier.namespace(), &self.url, &self.model, api_key);
        let deadline = Duration::from_millis(self.tier.config.limiter_timeout_ms.max(1));
        if self.tier.state() == TierState::Connecting {
            self.tier.wait_connected(deadline).await;
        }
        loop {
            if self.tier.state() != TierState::Up {
                return self.admit_locally(priority, tokens).await;
            }
            let limits = self.limits;
            let process = self.tier.process_id.clone();
            let now = self.tier.now_ms();
            let key = key.clone();
            self.tier
                .counters
                .limiter_calls
                .fetch_add(1, Ordering::Relaxed);
            let answer = self
                .tier
                .call(deadline, move |mut c| async move {
                    admit_once(&mut c, &key, limits, tokens, &process, now).await
                })
                .await;
            let Some(admission) = answer else {
                return self.admit_locally(priority, tokens).await;
            };
            self.processes.store(admission.processes, Ordering::Relaxed);
            self.tier
                .counters
                .processes_seen
                .fetch_max(admission.processes as u64, Ordering::Relaxed);
            if admission.wait.is_zero() {
                return;
            }
            self.tier
                .counters
                .limiter_waits
                .fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(admission.wait).await;
        }
    }

    /// Waits on this process's share of the limits: each divided by the processes last seen.
    async fn admit_locally(&self, priority: Priority, tokens: u32) {
        let n = self.processes().max(1);
        let gate = {
            let mut fallback = self.fallback.lock().unwrap_or_else(|e| e.into_inner());
            match &*fallback {
                Some((made_for, gate)) if *made_for == n => Arc::clone(gate),
                _ => {
                    let share = |limit: u32| {
                        if limit == 0 {
                            0
                        } else {
                            limit.div_ceil(n).max(1)
                        }
                    };
                    let gate = Gate::new(GateLimits {
                        requests_per_minute: share(self.limits.requests_per_minute),
                        tokens_per_minute: share(self.limits.tokens_per_minute),
                        burst: share(self.limits.burst),
                        max_in_flight: 0,
                    });
                    *fallback = Some((n, Arc::clone(&gate)));
                    gate
                }
            }
        };
        let tokens_share = tokens.min(gate.limits().tokens_per_minute.max(1));
        drop(gate.acquire(priority, tokens_share).await);
        self.tier
            .counters
            .fallback_admissions
            .fetch_add(1, Ordering::Relaxed);
    }
}
