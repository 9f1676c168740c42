//! What the features did and what the models spent: [`FeatureCounters`] (completions requested,
//! shown and accepted, code actions run and applied, for `augur/metrics`), and [`UsageLog`], a
//! small append-only record per day and model in augur's data directory (requests, cache hits,
//! tokens, accepted completions), which `augur usage` reads.
//!
//! The log is written without slowing requests: [`UsageLog::record`] adds to counts in memory,
//! and a thread of its own appends them every [`FLUSH_EVERY`] (and when the log is dropped) as one
//! JSON line per model to `usage-YYYY-MM-DD.jsonl` (UTC days). Several processes may append to
//! the same file: each line is one `write` of a few dozen bytes to a file opened for appending,
//! and a reader sums the lines.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// How often recorded usage is appended to the day's file.
pub const FLUSH_EVERY: Duration = Duration::from_secs(2);

/// The environment variable naming augur's data directory (for the usage log).
pub const DATA_DIR_ENV: &str = "AUGUR_DATA_DIR";

/// Where usage is written: `AUGUR_DATA_DIR`, else the user data directory, each with `usage/`.
pub fn usage_dir() -> PathBuf {
    let base = std::env::var_os(DATA_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "augur").map(|d| d.data_dir().to_path_buf())
        })
        .unwrap_or_else(|| std::env::temp_dir().join("augur"));
    base.join("usage")
}

/// What the features did since the server started.
#[derive(Debug, Default)]
pub struct FeatureCounters {
    completions_requested: AtomicU64,
    completions_shown: AtomicU64,
    completions_accepted: AtomicU64,
    actions_run: AtomicU64,
    actions_applied: AtomicU64,
}

/// A snapshot of [`FeatureCounters`].
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct FeatureMetrics {
    /// Completions the editor asked for.
    pub completions_requested: u64,
    /// Completions that had a suggestion to show.
    pub completions_shown: u64,
    /// Suggestions the user accepted (the editor ran the item's `augur.accepted` command).
    pub completions_accepted: u64,
    /// Code actions run.
    pub actions_run: u64,
    /// Code actions whose edit the editor applied.
    pub actions_applied: u64,
}

/// A feature event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureEvent {
    /// A completion was asked for.
    CompletionRequested,
    /// A completion had something to show.
    CompletionShown,
    /// A suggestion was accepted.
    CompletionAccepted,
    /// A code action ran.
    ActionRun,
    /// A code action's edit was applied.
    ActionApplied,
}

impl FeatureCounters {
    /// Counts an event.
    pub fn record(&self, event: FeatureEvent) {
        let counter = match event {
            FeatureEvent::CompletionRequested => &self.completions_requested,
            FeatureEvent::CompletionShown => &self.completions_shown,
            FeatureEvent::CompletionAccepted => &self.completions_accepted,
            FeatureEvent::ActionRun => &self.actions_run,
            FeatureEvent::ActionApplied => &self.actions_applied,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts now.
    pub fn snapshot(&self) -> FeatureMetrics {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FeatureMetrics {
            completions_requested: load(&self.completions_requested),
            completions_shown: load(&self.completions_shown),
            completions_accepted: load(&self.completions_accepted),
            actions_run: load(&self.actions_run),
            actions_applied: load(&self.actions_applied),
        }
    }
}

/// The usage of one model on one day (a line of the log, or the sum of several).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// The day, `YYYY-MM-DD` (UTC).
    #[serde(default)]
    pub day: String,
    /// The configured model name.
    pub model: String,
    /// Requests answered by the model.
    #[serde(default)]
    pub requests: u64,
    /// Requests answered from a cache.
    #[serde(default)]
    pub cached: u64,
    /// Prompt tokens the servers reported.
    #[serde(default)]
    pub tokens_in: u64,
    /// Generated tokens the servers reported.
    #[serde(default)]
    pub tokens_out: u64,
    /// Suggestions accepted.
    #[serde(default)]
    pub accepted: u64,
}

impl UsageRecord {
    fn add(&mut self, other: &UsageRecord) {
        self.requests += other.requests;
        self.cached += other.cached;
        self.tokens_in += other.tokens_in;
        self.tokens_out += other.tokens_out;
        self.accepted += other.accepted;
    }

    fn is_empty(&self) -> bool {
        self.requests == 0
            && self.cached == 0
            && self.tokens_in == 0
            && self.tokens_out == 0
            && self.accepted == 0
    }
}

/// One thing to add to the log.
#[derive(Debug, Clone, Copy, Default)]
pub struct UsageDelta {
    /// Requests answered by the model.
    pub requests: u64,
    /// Requests answered from a cache.
    pub cached: u64,
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// Accepted suggestions.
    pub accepted: u64,
}

enum Message {
    Add(String, UsageDelta),
    Flush(mpsc::Sender<()>),
}

/// The usage log of one process.
#[derive(Debug)]
pub struct UsageLog {
    dir: PathBuf,
    tx: Option<mpsc::Sender<Message>>,
    thread: Option<JoinHandle<()>>,
}

/// The UTC day of `unix_secs` as `YYYY-MM-DD` (the proleptic Gregorian calendar).
pub fn day_of(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn append(dir: &Path, pending: &mut BTreeMap<String, UsageRecord>) {
    if pending.is_empty() {
        return;
    }
    let day = day_of(now_secs());
    let path = dir.join(format!("usage-{day}.jsonl"));
    let mut text = String::new();
    for (model, record) in std::mem::take(pending) {
        if record.is_empty() {
            continue;
        }
        let line = UsageRecord {
            day: day.clone(),
            model,
            ..record
        };
        if let Ok(json) = serde_json::to_string(&line) {
            text.push_str(&json);
            text.push('\n');
        }
    }
    let written = std::fs::create_dir_all(dir).and_then(|_| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?
            .write_all(text.as_bytes())
    });
    if let Err(e) = written {
        tracing::warn!("could not append usage to {}: {e}", path.display());
    }
}

impl UsageLog {
    /// A log appending to files in `dir` (made when first written).
    pub fn new(dir: PathBuf) -> UsageLog {
        let (tx, rx) = mpsc::channel::<Message>();
        let thread_dir = dir.clone();
        let thread = std::thread::Builder::new()
            .name("augur-usage".into())
            .spawn(move || {
                let mut pending: BTreeMap<String, UsageRecord> = BTreeMap::new();
                loop {
                    match rx.recv_timeout(FLUSH_EVERY) {
                        Ok(Message::Add(model, delta)) => {
                            let entry = pending.entry(model.clone()).or_default();
                            entry.add(&UsageRecord {
                                day: String::new(),
                                model,
                                requests: delta.requests,
                                cached: delta.cached,
                                tokens_in: delta.tokens_in,
                                tokens_out: delta.tokens_out,
                                accepted: delta.accepted,
                            });
                        }
                        Ok(Message::Flush(done)) => {
                            append(&thread_dir, &mut pending);
                            let _ = done.send(());
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => append(&thread_dir, &mut pending),
                        Err(mpsc::RecvTimeoutError::Disconnected) => {
                            append(&thread_dir, &mut pending);
                            return;
                        }
                    }
                }
            })
            .ok();
        UsageLog {
            dir,
            tx: thread.as_ref().map(|_| tx),
            thread,
        }
    }

    /// The directory it writes to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds to the usage of `model` (written within [`FLUSH_EVERY`]).
    pub fn record(&self, model: &str, delta: UsageDelta) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Message::Add(model.to_owned(), delta));
        }
    }

    /// Writes what was recorded now, and returns when it is written.
    pub fn flush(&self) {
        if let Some(tx) = &self.tx {
            let (done, wait) = mpsc::channel();
            if tx.send(Message::Flush(done)).is_ok() {
                let _ = wait.recv_timeout(Duration::from_secs(5));
            }
        }
    }
}

impl Drop for UsageLog {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The usage in `dir` of the last `days` days (today included), summed per day and model, oldest
/// day first. Lines that cannot be read are skipped.
pub fn read_usage(dir: &Path, days: u32) -> Vec<UsageRecord> {
    let today = now_secs();
    let mut out = Vec::new();
    for back in (0..days.max(1) as u64).rev() {
        let day = day_of(today.saturating_sub(back * 86_400));
        let Ok(text) = std::fs::read_to_string(dir.join(format!("usage-{day}.jsonl"))) else {
            continue;
        };
        let mut by_model: BTreeMap<String, UsageRecord> = BTreeMap::new();
        for line in text.lines() {
            let Ok(record) = serde_json::from_str::<UsageRecord>(line) else {
                continue;
            };
            by_model
                .entry(record.model.clone())
                .or_insert_with(|| UsageRecord {
                    day: day.clone(),
                    model: record.model.clone(),
                    ..UsageRecord::default()
                })
                .add(&record);
        }
        out.extend(by_model.into_values());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_of_known_dates() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(951_782_400), "2000-02-29");
        assert_eq!(day_of(1_796_428_800), "2026-12-05");
    }

    #[test]
    fn recorded_usage_is_summed_per_model_and_garbage_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let log = UsageLog::new(dir.path().to_path_buf());
        log.record(
            "default",
            UsageDelta {
                requests: 1,
                tokens_in: 10,
                tokens_out: 5,
                ..UsageDelta::default()
            },
        );
        log.record(
            "default",
            UsageDelta {
                accepted: 1,
                ..UsageDelta::default()
            },
        );
        log.flush();
        log.record(
            "other",
            UsageDelta {
                cached: 2,
                ..UsageDelta::default()
            },
        );
        drop(log);
        let file = dir
            .path()
            .join(format!("usage-{}.jsonl", day_of(now_secs())));
        let mut text = std::fs::read_to_string(&file).unwrap();
        text.push_str("{not json\n");
        std::fs::write(&file, text).unwrap();
        let usage = read_usage(dir.path(), 1);
        assert_eq!(usage.len(), 2, "{usage:?}");
        assert_eq!(
            (
                usage[0].model.as_str(),
                usage[0].requests,
                usage[0].tokens_in,
                usage[0].accepted
            ),
            ("default", 1, 10, 1)
        );
        assert_eq!((usage[1].model.as_str(), usage[1].cached), ("other", 2));
        assert!(read_usage(&dir.path().join("none"), 7).is_empty());
    }
}
