//! Request sharing: identical cacheable requests in flight share one run (a shared future for
//! whole answers, a broadcast for streams), and a cached answer is served without a run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared, WeakShared};
use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;

use super::attempts::{Plan, run};
use super::stream::{Broadcast, FinishOnDrop, StreamRun};
use super::{Inner, ModelRuntime, lock};
use crate::llm::cache::CacheKey;
use crate::llm::error::LlmError;
use crate::llm::types::{Completion, StreamEvent};

pub(super) type RunFuture = BoxFuture<'static, Result<Completion, LlmError>>;
pub(super) type SharedRun = Shared<RunFuture>;

/// A run that identical requests share, and the weak handle the in-flight table keeps of it (so
/// that the table does not keep a run alive that every caller dropped).
pub(super) trait SharedHandle: Sized {
    type Weak;

    /// A weak handle on the run, if it can still be shared.
    fn downgrade(&self) -> Option<Self::Weak>;

    /// The run, if a caller still holds it.
    fn upgrade(weak: &Self::Weak) -> Option<Self>;

    /// Whether a caller still holds the run.
    fn is_alive(weak: &Self::Weak) -> bool {
        Self::upgrade(weak).is_some()
    }
}

impl SharedHandle for SharedRun {
    type Weak = WeakShared<RunFuture>;

    fn downgrade(&self) -> Option<Self::Weak> {
        Shared::downgrade(self)
    }

    fn upgrade(weak: &Self::Weak) -> Option<Self> {
        weak.upgrade()
    }
}

impl SharedHandle for Arc<StreamRun> {
    type Weak = std::sync::Weak<StreamRun>;

    fn downgrade(&self) -> Option<Self::Weak> {
        Some(Arc::downgrade(self))
    }

    fn upgrade(weak: &Self::Weak) -> Option<Self> {
        weak.upgrade()
    }

    fn is_alive(weak: &Self::Weak) -> bool {
        weak.strong_count() > 0
    }
}

/// The runs in flight, by cache key, each with its id, so that identical requests share one run
/// and a run that ends removes its own entry (not that of a newer run with the same key).
pub(super) struct InFlight<S: SharedHandle> {
    runs: Mutex<HashMap<CacheKey, (u64, S::Weak)>>,
    next_id: AtomicU64,
}

impl<S: SharedHandle> Default for InFlight<S> {
    fn default() -> Self {
        InFlight {
            runs: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        }
    }
}

/// Whether [`InFlight::join_or_start`] joined a run in flight or started one.
enum Sharing<S> {
    Joined(S),
    Started(S),
}

impl<S: SharedHandle> InFlight<S> {
    /// The run in flight for `key`, or a new one that `start` makes from its id, entered in the
    /// table. `start` runs under the table's lock, so that identical requests never start two
    /// runs; a run that removes itself when it ends waits for its entry to be made.
    fn join_or_start(&self, key: CacheKey, start: impl FnOnce(u64) -> S) -> Sharing<S> {
        let mut runs = lock(&self.runs);
        if let Some(existing) = runs.get(&key).and_then(|(_, weak)| S::upgrade(weak)) {
            return Sharing::Joined(existing);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let run = start(id);
        if runs.len() >= 1024 {
            // Entries of runs every caller dropped before they ended are dead; sweep them.
            runs.retain(|_, (_, weak)| S::is_alive(weak));
        }
        if let Some(weak) = run.downgrade() {
            runs.insert(key, (id, weak));
        }
        Sharing::Started(run)
    }

    /// Removes the entry of the run `id` for `key`, if it is still there.
    pub(super) fn remove(&self, key: &CacheKey, id: u64) {
        let mut runs = lock(&self.runs);
        if runs.get(key).is_some_and(|(entry, _)| *entry == id) {
            runs.remove(key);
        }
    }
}

impl Inner {
    /// Joins the identical run in flight in `table` (counted as coalesced for the model) or starts
    /// one with `start`.
    fn share<S: SharedHandle>(
        &self,
        table: &InFlight<S>,
        key: CacheKey,
        model: &ModelRuntime,
        start: impl FnOnce(u64) -> S,
    ) -> S {
        match table.join_or_start(key, start) {
            Sharing::Joined(run) => {
                self.model_stat(&model.name, |m| m.coalesced += 1);
                run
            }
            Sharing::Started(run) => run,
        }
    }

    /// The whole-answer run of an identical request in flight, or a new one.
    pub(super) fn coalesced(
        self: &Arc<Self>,
        key: CacheKey,
        model: &Arc<ModelRuntime>,
        plan: Arc<Plan>,
    ) -> SharedRun {
        self.share(&self.inflight, key, model, |id| {
            let inner = Arc::clone(self);
            let model = Arc::clone(model);
            async move {
                let result = run(&inner, &model, &plan, Some(key), None).await;
                inner.inflight.remove(&key, id);
                result
            }
            .boxed()
            .shared()
        })
    }

    /// The streamed run of an identical request in flight, joined from its start, or a new one.
    pub(super) fn shared_stream(
        self: &Arc<Self>,
        key: CacheKey,
        model: &Arc<ModelRuntime>,
        plan: Plan,
    ) -> Arc<StreamRun> {
        self.share(&self.stream_inflight, key, model, |id| {
            Arc::new(self.start_stream(Some((key, id)), Arc::clone(model), plan))
        })
    }

    /// Starts a streamed run on a task of its own. A shared run (with its key and id in the
    /// in-flight table) leaves the table when it ends.
    pub(super) fn start_stream(
        self: &Arc<Self>,
        shared: Option<(CacheKey, u64)>,
        model: Arc<ModelRuntime>,
        plan: Plan,
    ) -> StreamRun {
        let broadcast = Arc::new(Broadcast::default());
        let inner = Arc::clone(self);
        let finish = FinishOnDrop(Arc::clone(&broadcast));
        let task = tokio::spawn(async move {
            let broadcast = Arc::clone(&finish.0);
            let key = shared.map(|(key, _)| key);
            let result = run(&inner, &model, &plan, key, Some(&broadcast)).await;
            broadcast.push(result.map(StreamEvent::Done));
            if let Some((key, id)) = shared {
                inner.stream_inflight.remove(&key, id);
            }
            drop(finish);
        });
        StreamRun {
            broadcast,
            _task: Some(AbortOnDropHandle::new(task)),
        }
    }

    /// The cached answer for `key`, if there is one, as served: the hit counted, marked cached,
    /// with no attempts and the time since `started`.
    pub(super) fn cache_hit(
        &self,
        model: &ModelRuntime,
        key: &CacheKey,
        started: Instant,
    ) -> Option<Completion> {
        let mut hit = self.cache.get(key)?;
        self.credit_cache_hit(model, &hit);
        hit.cached = true;
        hit.attempts = 0;
        hit.elapsed = started.elapsed();
        Some(hit)
    }
}
