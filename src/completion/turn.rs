//! One generation at a time at the model server per document: [`ServerTurn`] hands the server to
//! one completion stream of a document at a time, and keeps it a little longer after a stream was
//! closed early; [`ServerTurns`] holds one turn per document, so that a stalled request in one
//! document never holds up another.
//!
//! A completion stops reading its stream as soon as the suggestion is complete and closes the
//! connection; the server notices only when it sends its next token, so it keeps the request's
//! slot busy for about one more token. A request sent meanwhile lands on another slot: a local
//! server (llama.cpp) then evaluates the whole prompt again instead of reusing its cache (seconds
//! on a small CPU), and with the default unified cache two prompts of a thousand tokens do not
//! fit in a 2,048-token context, so both fail ("Context size has been exceeded"). One person types
//! in one place: waiting for the turn costs at most one token's time.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! use std::time::Duration;
//! use augur::completion::turn::ServerTurn;
//! let server = ServerTurn::default();
//! let mut turn = server.take().await;
//! turn.token_gap(Duration::from_millis(30));
//! drop(turn); // closed early: the server is busy for one more token
//! let started = tokio::time::Instant::now();
//! let _next = server.take().await;
//! assert_eq!(started.elapsed(), Duration::from_millis(30));
//! # });
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustc_hash::FxHashMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The longest a closed stream keeps the server: a slow token, not a stalled server.
pub const MAX_TAIL: Duration = Duration::from_millis(250);

/// What a stream closed before its first token keeps the server for (it may have been
/// evaluating the prompt).
pub const UNKNOWN_TAIL: Duration = Duration::from_millis(50);

/// Documents whose turns are kept before the idle ones are forgotten.
const KEPT_TURNS: usize = 64;

/// The model server's turn: one permit, held by one completion stream at a time (a permit, as
/// the client's in-flight limit holds one, not a lock over data), and when the server is free
/// again after the last stream.
#[derive(Debug, Clone)]
pub struct ServerTurn {
    permit: Arc<Semaphore>,
    free_at: Arc<Mutex<Instant>>,
}

impl Default for ServerTurn {
    fn default() -> ServerTurn {
        ServerTurn {
            permit: Arc::new(Semaphore::new(1)),
            free_at: Arc::new(Mutex::new(Instant::now())),
        }
    }
}

impl ServerTurn {
    /// Waits for the turn: until no other stream holds it and the last one's tail has passed.
    pub async fn take(&self) -> Turn {
        // The semaphore is never closed, so the permit always comes.
        let permit = Arc::clone(&self.permit).acquire_owned().await.ok();
        let free_at = *self.free_at.lock().unwrap_or_else(|e| e.into_inner());
        tokio::time::sleep_until(free_at).await;
        Turn {
            _permit: permit,
            free_at: Arc::clone(&self.free_at),
            gap: None,
            finished: false,
        }
    }

    /// Whether no stream holds or waits for the turn (only its owner refers to it).
    fn idle(&self) -> bool {
        Arc::strong_count(&self.permit) == 1
    }
}

/// One [`ServerTurn`] per document.
#[derive(Debug, Default)]
pub struct ServerTurns {
    turns: Mutex<FxHashMap<String, ServerTurn>>,
}

impl ServerTurns {
    /// Waits for document `key`'s turn.
    pub async fn take(&self, key: &str) -> Turn {
        let turn = {
            let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
            if turns.len() >= KEPT_TURNS && !turns.contains_key(key) {
                turns.retain(|_, turn| !turn.idle());
            }
            turns.entry(key.to_owned()).or_default().clone()
        };
        turn.take().await
    }
}

/// The turn of one stream. Dropping it without [`Turn::finished`] (the stream was closed early,
/// or the request was cancelled) keeps the server for one more token.
#[derive(Debug)]
pub struct Turn {
    _permit: Option<OwnedSemaphorePermit>,
    free_at: Arc<Mutex<Instant>>,
    gap: Option<Duration>,
    finished: bool,
}

impl Turn {
    /// Records the time between two tokens of the stream (the last one counts).
    pub fn token_gap(&mut self, gap: Duration) {
        self.gap = Some(gap);
    }

    /// The server ended the stream itself: it is free at once.
    pub fn finished(&mut self) {
        self.finished = true;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let tail = if self.finished {
            Duration::ZERO
        } else {
            self.gap.unwrap_or(UNKNOWN_TAIL).min(MAX_TAIL)
        };
        // Set before the permit is released (fields drop after this), so the next stream reads it.
        *self.free_at.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now() + tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_closed_early_keeps_the_server_one_token_longer() {
        let server = ServerTurn::default();
        // Finished by the server: the next stream goes at once.
        let mut turn = server.take().await;
        turn.token_gap(ms(40));
        turn.finished();
        drop(turn);
        let start = Instant::now();
        let closed_before_a_token = server.take().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        drop(closed_before_a_token);
        // Closed before its first token: the server may be evaluating the prompt.
        let start = Instant::now();
        let mut turn = server.take().await;
        assert_eq!(start.elapsed(), UNKNOWN_TAIL);
        // A slow server's tail is capped.
        turn.token_gap(ms(900));
        drop(turn);
        let start = Instant::now();
        drop(server.take().await);
        assert_eq!(start.elapsed(), MAX_TAIL);
    }

    #[tokio::test(start_paused = true)]
    async fn streams_take_turns() {
        let server = std::sync::Arc::new(ServerTurn::default());
        let mut first = server.take().await;
        first.token_gap(ms(20));
        let waiting = {
            let server = server.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                drop(server.take().await);
                start.elapsed()
            })
        };
        tokio::time::sleep(ms(100)).await;
        assert!(!waiting.is_finished());
        drop(first);
        // The second waited for the first to end, then for its tail.
        assert_eq!(waiting.await.unwrap(), ms(120));
    }

    #[tokio::test(start_paused = true)]
    async fn documents_take_their_own_turns() {
        let turns = std::sync::Arc::new(ServerTurns::default());
        let held = turns.take("a").await;
        // Another document goes at once while "a" holds its turn (a stalled request there holds
        // up nothing else).
        let start = Instant::now();
        drop(turns.take("b").await);
        assert_eq!(start.elapsed(), Duration::ZERO);
        let waiting = {
            let turns = turns.clone();
            tokio::spawn(async move { drop(turns.take("a").await) })
        };
        tokio::time::sleep(ms(100)).await;
        assert!(!waiting.is_finished());
        drop(held);
        waiting.await.unwrap();
        // Idle turns are forgotten past the limit; held ones are kept.
        let held = turns.take("kept").await;
        for i in 0..KEPT_TURNS * 2 {
            drop(turns.take(&format!("d{i}")).await);
        }
        let count = turns.turns.lock().unwrap().len();
        assert!(count <= KEPT_TURNS + 1, "{count} turns kept");
        assert!(turns.turns.lock().unwrap().contains_key("kept"));
        drop(held);
    }
}
