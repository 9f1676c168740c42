//! Streams: the broadcast that keeps a streamed run's events for every caller sharing it, and
//! [`CompletionStream`], one caller's reading of it with its own deadline.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;

use super::{Inner, lock};
use crate::llm::error::LlmError;
use crate::llm::redact::RestoringStream;
use crate::llm::types::{Completion, StreamEvent};

/// The events of one streamed run, all kept, so that a caller joining late still reads them from
/// the start. An answer is at most a few thousand tokens, so keeping it costs little.
#[derive(Default)]
pub(super) struct Broadcast {
    state: Mutex<BroadcastState>,
}

#[derive(Default)]
struct BroadcastState {
    events: Vec<Result<StreamEvent, LlmError>>,
    /// No event will follow.
    finished: bool,
    /// The readers waiting for the next event, by reader id.
    waiting: HashMap<u64, Waker>,
    next_reader: u64,
}

impl Broadcast {
    /// A finished broadcast of these events (a cached answer).
    pub(super) fn finished(events: Vec<Result<StreamEvent, LlmError>>) -> Broadcast {
        Broadcast {
            state: Mutex::new(BroadcastState {
                events,
                finished: true,
                ..BroadcastState::default()
            }),
        }
    }

    pub(super) fn push(&self, event: Result<StreamEvent, LlmError>) {
        self.update(|state| state.events.push(event));
    }

    fn finish(&self) {
        self.update(|state| state.finished = true);
    }

    /// Changes the state, then wakes the readers waiting for it (once the lock is released).
    fn update(&self, change: impl FnOnce(&mut BroadcastState)) {
        let waiting = {
            let mut state = lock(&self.state);
            change(&mut state);
            std::mem::take(&mut state.waiting)
        };
        waiting.into_values().for_each(Waker::wake);
    }

    fn new_reader(&self) -> u64 {
        let mut state = lock(&self.state);
        state.next_reader += 1;
        state.next_reader
    }
}

/// Marks a broadcast finished when its task ends, however it ends.
pub(super) struct FinishOnDrop(pub(super) Arc<Broadcast>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// One streamed run and the task behind it, shared by the callers reading it: when the last of
/// them lets go, the task is aborted and its connection closed.
pub(super) struct StreamRun {
    pub(super) broadcast: Arc<Broadcast>,
    pub(super) _task: Option<AbortOnDropHandle<()>>,
}

/// A caller's deadline on a stream.
pub(super) struct StreamDeadline {
    pub(super) sleep: Pin<Box<tokio::time::Sleep>>,
    pub(super) started: Instant,
}

/// A streamed answer: [`StreamEvent::Delta`]s, then one [`StreamEvent::Done`], or an error.
/// Dropping it cancels the request and closes its connection, unless other callers share it (an
/// identical request in flight), in which case the run goes on for them.
pub struct CompletionStream {
    run: Option<Arc<StreamRun>>,
    reader: u64,
    next: usize,
    deadline: Option<StreamDeadline>,
    /// Where to count an error this caller receives: the client (not kept alive by the stream)
    /// and the model name.
    errors: Option<(std::sync::Weak<Inner>, String)>,
    /// Puts back the secrets the request's placeholders stand for.
    restore: Option<Box<RestoringStream>>,
}

impl std::fmt::Debug for CompletionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompletionStream")
    }
}

impl CompletionStream {
    pub(super) fn reading(
        run: Arc<StreamRun>,
        deadline: Option<StreamDeadline>,
        errors: Option<(std::sync::Weak<Inner>, String)>,
    ) -> CompletionStream {
        CompletionStream {
            reader: run.broadcast.new_reader(),
            run: Some(run),
            next: 0,
            deadline,
            errors,
            restore: None,
        }
    }

    /// Puts the values of `redactions` back into the answer.
    pub(super) fn restoring(mut self, redactions: Option<Arc<crate::secrets::Redactions>>) -> Self {
        self.restore = redactions.map(|r| Box::new(RestoringStream::new(r)));
        self
    }

    /// Stops reading: the run goes on only if another caller still reads it.
    fn release(&mut self) {
        if let Some(run) = self.run.take() {
            lock(&run.broadcast.state).waiting.remove(&self.reader);
        }
    }

    fn count_error(&self) {
        if let Some((inner, model)) = &self.errors
            && let Some(inner) = inner.upgrade()
        {
            inner.model_stat(model, |m| m.errors += 1);
        }
    }

    /// Whether the caller's deadline has passed.
    fn past_deadline(&self) -> bool {
        self.deadline
            .as_ref()
            .is_some_and(|deadline| Instant::now() >= deadline.sleep.deadline())
    }

    /// Ends this caller's reading with the deadline error, counted.
    fn deadline_exceeded(&mut self) -> LlmError {
        let after = self
            .deadline
            .as_ref()
            .map_or(Duration::ZERO, |deadline| deadline.started.elapsed());
        self.count_error();
        self.release();
        LlmError::DeadlineExceeded { after }
    }
}

impl Drop for CompletionStream {
    fn drop(&mut self) {
        self.release();
    }
}

impl Stream for CompletionStream {
    type Item = Result<StreamEvent, LlmError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let Some(restore) = this.restore.as_mut() else {
                return this.poll_run(cx);
            };
            if let Some(queued) = restore.take_queued() {
                return Poll::Ready(Some(queued));
            }
            let item = match this.poll_run(cx) {
                Poll::Ready(Some(item)) => item,
                other => return other,
            };
            if let Some(restore) = this.restore.as_mut()
                && let Some(item) = restore.map(item)
            {
                return Poll::Ready(Some(item));
            }
        }
    }
}

impl CompletionStream {
    /// The next item of the run, as the model sent it.
    fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<StreamEvent, LlmError>>> {
        let this = self;
        if this.run.is_none() {
            return Poll::Ready(None);
        }
        // A caller past its deadline gets the deadline error even if events wait for it: a reader
        // that fell behind must not read on (and perhaps read the answer) after its deadline.
        if this.past_deadline() {
            return Poll::Ready(Some(Err(this.deadline_exceeded())));
        }
        let Some(run) = &this.run else {
            return Poll::Ready(None);
        };
        {
            let mut state = lock(&run.broadcast.state);
            if let Some(event) = state.events.get(this.next).cloned() {
                drop(state);
                this.next += 1;
                // An error or the answer is the last event.
                match &event {
                    Err(_) => {
                        this.count_error();
                        this.release();
                    }
                    Ok(StreamEvent::Done(_)) => this.release(),
                    Ok(StreamEvent::Delta(_)) => {}
                }
                return Poll::Ready(Some(event));
            }
            if state.finished {
                drop(state);
                this.release();
                return Poll::Ready(None);
            }
            state.waiting.insert(this.reader, cx.waker().clone());
        }
        if let Some(deadline) = &mut this.deadline
            && deadline.sleep.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Some(Err(this.deadline_exceeded())));
        }
        Poll::Pending
    }
}

impl CompletionStream {
    /// Reads the stream to its end and returns the whole answer.
    pub async fn collect_completion(mut self) -> Result<Completion, LlmError> {
        while let Some(item) = self.next().await {
            if let StreamEvent::Done(completion) = item? {
                return Ok(completion);
            }
        }
        Err(LlmError::Cancelled)
    }
}
