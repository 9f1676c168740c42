//! The response cache: least-recently-used with a time to live, hit and miss counters, and
//! optional persistence to a JSON file.
//!
//! Keys are BLAKE3 hashes of everything that shapes an answer (endpoints, backend model,
//! parameters, prompt, suffix); API keys are never part of them. Time is tokio's clock, so tests
//! can pause and advance it.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use augur::llm::cache::{CacheKey, ResponseCache};
//! use augur::llm::config::CacheConfig;
//! let cache = ResponseCache::new(&CacheConfig::default());
//! let key = CacheKey::of(&[b"model", b"prompt"]);
//! assert!(cache.get(&key).is_none());
//! assert_eq!(cache.stats().misses, 1);
//! # });
//! ```

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lru::LruCache;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::llm::config::CacheConfig;
use crate::llm::error::LlmError;
use crate::llm::types::Completion;

/// A cache key: the hash of a request's answer-shaping parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey(pub [u8; 32]);

impl CacheKey {
    /// Hashes the parts, each length-prefixed so that `["ab", "c"]` and `["a", "bc"]` differ.
    pub fn of(parts: &[&[u8]]) -> CacheKey {
        let mut hasher = blake3::Hasher::new();
        for part in parts {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        CacheKey(*hasher.finalize().as_bytes())
    }

    fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn from_hex(text: &str) -> Option<CacheKey> {
        if text.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(CacheKey(out))
    }
}

/// Counters of the cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that found nothing valid.
    pub misses: u64,
    /// Entries pushed out to make room.
    pub evictions: u64,
    /// Entries found expired.
    pub expirations: u64,
    /// Entries held now.
    pub entries: usize,
}

struct Entry {
    completion: Completion,
    expires: Instant,
}

struct State {
    lru: LruCache<CacheKey, Entry>,
    stats: CacheStats,
}

/// The cache. All methods take `&self`, hold the lock briefly and never across an `.await`.
pub struct ResponseCache {
    enabled: bool,
    ttl: Duration,
    state: Mutex<State>,
}

#[derive(Serialize, Deserialize)]
struct PersistedEntry {
    key: String,
    /// When the entry expires, in milliseconds since the Unix epoch.
    expires_unix_ms: u64,
    completion: Completion,
}

#[derive(Serialize, Deserialize)]
struct PersistedCache {
    version: u32,
    entries: Vec<PersistedEntry>,
}

impl ResponseCache {
    /// An empty cache.
    pub fn new(config: &CacheConfig) -> ResponseCache {
        let capacity = NonZeroUsize::new(config.capacity).unwrap_or(NonZeroUsize::MIN);
        ResponseCache {
            enabled: config.enabled && config.capacity > 0,
            ttl: Duration::from_millis(config.ttl_ms),
            state: Mutex::new(State {
                lru: LruCache::new(capacity),
                stats: CacheStats::default(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the cache inconsistent, so keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the cache stores anything.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The answer stored under `key`, if any and not expired; counts a hit or a miss.
    pub fn get(&self, key: &CacheKey) -> Option<Completion> {
        if !self.enabled {
            return None;
        }
        let now = Instant::now();
        let mut state = self.lock();
        match state.lru.get(key) {
            Some(entry) if entry.expires > now => {
                let completion = entry.completion.clone();
                state.stats.hits += 1;
                Some(completion)
            }
            Some(_) => {
                state.lru.pop(key);
                state.stats.expirations += 1;
                state.stats.misses += 1;
                None
            }
            None => {
                state.stats.misses += 1;
                None
            }
        }
    }

    /// Stores an answer under `key` for the configured time to live.
    pub fn insert(&self, key: CacheKey, completion: &Completion) {
        if !self.enabled {
            return;
        }
        let entry = Entry {
            completion: completion.clone(),
            expires: Instant::now() + self.ttl,
        };
        let mut state = self.lock();
        if let Some((evicted, _)) = state.lru.push(key, entry)
            && evicted != key
        {
            state.stats.evictions += 1;
        }
    }

    /// The counters.
    pub fn stats(&self) -> CacheStats {
        let state = self.lock();
        CacheStats {
            entries: state.lru.len(),
            ..state.stats
        }
    }

    /// Removes every entry.
    pub fn clear(&self) {
        self.lock().lru.clear();
    }

    /// Writes the valid entries to `path` (atomically: a temporary file, then a rename).
    pub fn save(&self, path: &Path) -> Result<(), LlmError> {
        let now = Instant::now();
        let wall_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let entries: Vec<PersistedEntry> = {
            let state = self.lock();
            // Least recently used first, so loading them in order restores the recency.
            state
                .lru
                .iter()
                .rev()
                .filter(|(_, e)| e.expires > now)
                .map(|(key, e)| PersistedEntry {
                    key: key.to_hex(),
                    expires_unix_ms: (wall_now + (e.expires - now)).as_millis() as u64,
                    completion: e.completion.clone(),
                })
                .collect()
        };
        let io = |context: &str, e: std::io::Error| LlmError::Io {
            context: format!("{context} {}", path.display()),
            message: e.to_string(),
        };
        let body = serde_json::to_vec(&PersistedCache {
            version: 1,
            entries,
        })
        .map_err(|e| LlmError::Io {
            context: "serialising the cache".into(),
            message: e.to_string(),
        })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io("creating the directory of", e))?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, body).map_err(|e| io("writing", e))?;
        std::fs::rename(&tmp, path).map_err(|e| io("renaming to", e))?;
        Ok(())
    }

    /// Loads entries saved by [`ResponseCache::save`]; expired ones are skipped. A missing file is
    /// not an error; an unreadable one is (the cache stays as it was).
    pub fn load(&self, path: &Path) -> Result<usize, LlmError> {
        let body = match std::fs::read(path) {
            Ok(body) => body,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => {
                return Err(LlmError::Io {
                    context: format!("reading {}", path.display()),
                    message: e.to_string(),
                });
            }
        };
        let persisted: PersistedCache =
            serde_json::from_slice(&body).map_err(|e| LlmError::Io {
                context: format!("parsing {}", path.display()),
                message: e.to_string(),
            })?;
        let wall_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let now = Instant::now();
        let mut loaded = 0;
        let mut state = self.lock();
        for entry in persisted.entries {
            let Some(key) = CacheKey::from_hex(&entry.key) else {
                continue;
            };
            if entry.expires_unix_ms <= wall_now {
                continue;
            }
            let left = Duration::from_millis(entry.expires_unix_ms - wall_now).min(self.ttl);
            state.lru.push(
                key,
                Entry {
                    completion: entry.completion,
                    expires: now + left,
                },
            );
            loaded += 1;
        }
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::types::FinishReason;

    fn completion(text: &str) -> Completion {
        Completion {
            text: text.into(),
            usage: None,
            finish_reason: FinishReason::Stop,
            endpoint: "http://x".into(),
            cached: false,
            attempts: 1,
            time_to_first_token: None,
            elapsed: Duration::ZERO,
        }
    }

    fn config(capacity: usize, ttl_ms: u64) -> CacheConfig {
        CacheConfig {
            enabled: true,
            capacity,
            ttl_ms,
            path: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn hit_then_expiry_after_ttl() {
        let cache = ResponseCache::new(&config(4, 1_000));
        let key = CacheKey::of(&[b"a"]);
        cache.insert(key, &completion("x"));
        assert_eq!(cache.get(&key).unwrap().text, "x");
        tokio::time::advance(Duration::from_millis(999)).await;
        assert!(cache.get(&key).is_some());
        tokio::time::advance(Duration::from_millis(2)).await;
        assert!(cache.get(&key).is_none());
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.expirations), (2, 1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn least_recently_used_is_evicted() {
        let cache = ResponseCache::new(&config(2, 60_000));
        let (a, b, c) = (
            CacheKey::of(&[b"a"]),
            CacheKey::of(&[b"b"]),
            CacheKey::of(&[b"c"]),
        );
        cache.insert(a, &completion("a"));
        cache.insert(b, &completion("b"));
        assert!(cache.get(&a).is_some());
        cache.insert(c, &completion("c"));
        assert!(cache.get(&b).is_none(), "b was the least recently used");
        assert!(cache.get(&a).is_some() && cache.get(&c).is_some());
        assert_eq!(cache.stats().evictions, 1);
    }

    #[test]
    fn keys_are_length_prefixed() {
        assert_ne!(CacheKey::of(&[b"ab", b"c"]), CacheKey::of(&[b"a", b"bc"]));
        let key = CacheKey::of(&[b"x"]);
        assert_eq!(CacheKey::from_hex(&key.to_hex()), Some(key));
    }

    #[tokio::test]
    async fn persistence_round_trip_skips_expired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/cache.json");
        let cache = ResponseCache::new(&config(8, 60_000));
        let key = CacheKey::of(&[b"kept"]);
        cache.insert(key, &completion("kept"));
        cache.save(&path).unwrap();

        let restored = ResponseCache::new(&config(8, 60_000));
        assert_eq!(restored.load(&path).unwrap(), 1);
        assert_eq!(restored.get(&key).unwrap().text, "kept");
        assert_eq!(restored.load(&dir.path().join("missing.json")).unwrap(), 0);
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(restored.load(&path).unwrap_err().code(), "llm.io");
    }
}
