//! Latency helpers with no I/O: [`TypeThrough`] answers a request from the suggestion on screen
//! when the user types its first characters, and [`AdaptiveDebounce`] picks the delay of automatic
//! requests from the backend's recent latency and the rhythm of the person's typing.
//!
//! A suggestion is served again only while the text it was made from is still there: the part of
//! the document its prompt used (the prefix window before the cursor and the suffix window after
//! it) is kept as a hash and compared with the same bytes of the current text, around what was
//! typed through. Offsets that line up are not enough: another line edited to the same length
//! leaves every offset in place but makes the suggestion stale.
//!
//! ```
//! use augur::completion::typethrough::TypeThrough;
//! use ropey::Rope;
//!
//! let mut shown = TypeThrough::default();
//! let before = Rope::from_str("let x = \n");
//! shown.remember("file:///a.rs", &before, 8, "compute(1);");
//! let typed = Rope::from_str("let x = comp\n");
//! assert_eq!(shown.lookup("file:///a.rs", &typed, 12).as_deref(), Some("ute(1);"));
//! ```

use std::collections::VecDeque;
use std::ops::Range;
use std::time::Duration;

use ropey::Rope;
use tokio::time::Instant;

use super::prompt::clamp_cursor;

/// The suggestion last shown in one document.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    key: String,
    /// The byte offset where the suggestion was to be inserted.
    start: usize,
    /// The text of the line before `start` (an anchor that holds across document versions).
    line_before: String,
    /// The text of the line after `start` when it was shown.
    line_after: String,
    /// The suggestion.
    text: String,
    /// How many bytes after `start` the suggestion replaces.
    replaced: usize,
    /// The text before `start` the suggestion was made from (the prompt's prefix window).
    before: Span,
    /// The text after `start` the suggestion was made from (the prompt's suffix window).
    after: Span,
}

/// Some bytes of the text a suggestion was made from, as their length and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Span {
    len: usize,
    hash: blake3::Hash,
    /// Whether the bytes must still end the text: the suffix window reached the end, so text
    /// added after it would have entered the prompt.
    to_end: bool,
}

impl Span {
    /// The bytes in `range`, which must still end the text if `to_end`.
    fn of(rope: &Rope, range: Range<usize>, to_end: bool) -> Option<Span> {
        Some(Span {
            len: range.len(),
            to_end,
            hash: hash(rope, range)?,
        })
    }

    /// Whether `rope` holds the same bytes from `start` on.
    fn is_at(&self, rope: &Rope, start: usize) -> bool {
        let end = start + self.len;
        (!self.to_end || end == rope.len_bytes())
            && hash(rope, start..end).is_some_and(|hash| hash == self.hash)
    }
}

/// The hash of some bytes of `rope`; `None` when they are out of it or split a character.
fn hash(rope: &Rope, range: Range<usize>) -> Option<blake3::Hash> {
    let slice = rope.get_byte_slice(range)?;
    let mut hasher = blake3::Hasher::new();
    for chunk in slice.chunks() {
        hasher.update(chunk.as_bytes());
    }
    Some(hasher.finalize())
}

/// The most recent suggestions shown, one per document (at most 64 documents).
#[derive(Debug, Clone, Default)]
pub struct TypeThrough {
    shown: VecDeque<Shown>,
}

const MAX_DOCUMENTS: usize = 64;

fn line_around(rope: &Rope, at: usize) -> (String, String) {
    let line = rope.byte_to_line(at);
    let start = rope.line_to_byte(line);
    let end = if line + 1 < rope.len_lines() {
        rope.line_to_byte(line + 1)
    } else {
        rope.len_bytes()
    };
    let before = rope.byte_slice(start..at).to_string();
    let after = rope.byte_slice(at..end).to_string();
    let after = after.trim_end_matches(['\n', '\r']).to_string();
    (before, after)
}

impl TypeThrough {
    /// Remembers the suggestion shown at `cursor` in document `key` (replacing that document's
    /// previous one), made from the whole text. An empty suggestion forgets the document.
    pub fn remember(&mut self, key: &str, rope: &Rope, cursor: usize, suggestion: &str) {
        self.remember_replacing(key, rope, cursor, 0..rope.len_bytes(), suggestion, 0);
    }

    /// Like [`remember`](Self::remember), for a suggestion made from the bytes of `window` only
    /// (the prompt's prefix window and suffix window: from the prefix's start to the suffix's
    /// end), which replaces `replaced` bytes after the cursor (the rest of its line).
    pub fn remember_replacing(
        &mut self,
        key: &str,
        rope: &Rope,
        cursor: usize,
        window: Range<usize>,
        suggestion: &str,
        replaced: usize,
    ) {
        self.shown.retain(|s| s.key != key);
        if suggestion.is_empty() {
            return;
        }
        let cursor = clamp_cursor(rope, cursor);
        // The window holds the cursor; a window that does not fit the text is the whole text.
        let len = rope.len_bytes();
        let (from, to) = (window.start.min(cursor), window.end.clamp(cursor, len));
        let spans = |from: usize, to: usize| {
            Span::of(rope, from..cursor, false).zip(Span::of(rope, cursor..to, to == len))
        };
        let Some((before, after)) = spans(from, to).or_else(|| spans(0, len)) else {
            return;
        };
        let (line_before, line_after) = line_around(rope, cursor);
        self.shown.push_back(Shown {
            key: key.to_string(),
            start: cursor,
            line_before,
            line_after,
            text: suggestion.to_string(),
            replaced,
            before,
            after,
        });
        while self.shown.len() > MAX_DOCUMENTS {
            self.shown.pop_front();
        }
    }

    /// Forgets a document (closed, or its suggestion rejected).
    pub fn forget(&mut self, key: &str) {
        self.shown.retain(|s| s.key != key);
    }

    /// Whether a suggestion shown in `key` is remembered.
    pub fn remembers(&self, key: &str) -> bool {
        self.shown.iter().any(|s| s.key == key)
    }

    /// Forgets every document's suggestion (the model changed, say).
    pub fn forget_all(&mut self) {
        self.shown.clear();
    }

    /// The rest of the suggestion shown in `key` if the text typed since is its beginning and
    /// nothing else changed in the text the suggestion was made from; `None` otherwise (also when
    /// all of it was typed).
    pub fn lookup(&self, key: &str, rope: &Rope, cursor: usize) -> Option<String> {
        self.lookup_range(key, rope, cursor).map(|(text, _)| text)
    }

    /// Like [`lookup`](Self::lookup), with the bytes the rest replaces (from the cursor).
    pub fn lookup_range(
        &self,
        key: &str,
        rope: &Rope,
        cursor: usize,
    ) -> Option<(String, std::ops::Range<usize>)> {
        let shown = self.shown.iter().find(|s| s.key == key)?;
        if cursor > rope.len_bytes() || cursor < shown.start {
            return None;
        }
        let cursor = clamp_cursor(rope, cursor);
        let start = shown.start.checked_sub(shown.line_before.len())?;
        if cursor < shown.start || start > rope.len_bytes() {
            return None;
        }
        // The line must start where it started, with the same text before the suggestion.
        let line = rope.byte_to_line(shown.start.min(rope.len_bytes()));
        if rope.line_to_byte(line) != start {
            return None;
        }
        let (before, after) = line_around(rope, cursor);
        let typed_len = cursor - shown.start;
        if before.len() != shown.line_before.len() + typed_len
            || !before.starts_with(&shown.line_before)
            || after != shown.line_after
        {
            return None;
        }
        let typed = &before[shown.line_before.len()..];
        let rest = shown.text.strip_prefix(typed)?;
        if rest.is_empty() {
            return None;
        }
        // The text the prompt used is still there: before the suggestion's start, and after what
        // was typed through.
        let made_from = shown
            .before
            .is_at(rope, shown.start.checked_sub(shown.before.len)?)
            && shown.after.is_at(rope, cursor);
        if !made_from {
            return None;
        }
        let replaced = shown.replaced.min(rope.len_bytes() - cursor);
        Some((rest.to_string(), cursor..cursor + replaced))
    }
}

/// Gaps between two changes longer than this are pauses, not the rhythm of typing.
const PAUSE: Duration = Duration::from_secs(2);

/// How many recent backend latencies and typing gaps count.
const RECENT: usize = 16;

/// Typing gaps needed before the rhythm of typing is trusted.
const GAPS_NEEDED: usize = 4;

/// The delay before an automatic request: the configured base, raised while the backend is slow
/// (half its recent latency), within bounds; and never longer than it takes to see that the
/// person stopped typing (one and a half times their usual gap between two changes).
///
/// The delay exists so that a model is not asked while the person is still typing (the next
/// change would supersede the request). How long to wait for that next change depends on how
/// fast the person types, not on the model: someone who types a few characters in a quick burst
/// and stops is answered as soon as the burst is seen to be over.
#[derive(Debug, Clone)]
pub struct AdaptiveDebounce {
    base: Duration,
    min: Duration,
    max: Duration,
    recent: VecDeque<Duration>,
    last_change: Option<Instant>,
    gaps: VecDeque<Duration>,
}

impl AdaptiveDebounce {
    /// A debounce with a base delay and bounds.
    pub fn new(base: Duration, min: Duration, max: Duration) -> AdaptiveDebounce {
        AdaptiveDebounce {
            base,
            min: min.min(max),
            max,
            recent: VecDeque::new(),
            last_change: None,
            gaps: VecDeque::new(),
        }
    }

    /// From the `completion` settings.
    pub fn from_config(config: &super::config::CompletionConfig) -> AdaptiveDebounce {
        let mut debounce = AdaptiveDebounce::new(Duration::ZERO, Duration::ZERO, Duration::ZERO);
        debounce.configure(config);
        debounce
    }

    /// Takes the base delay and bounds from the `completion` settings, keeping the latencies seen.
    pub fn configure(&mut self, config: &super::config::CompletionConfig) {
        self.max = Duration::from_millis(config.debounce_max_ms);
        self.min = Duration::from_millis(config.debounce_min_ms).min(self.max);
        self.base = Duration::from_millis(config.debounce_ms);
    }

    /// Records how long a backend request took (the last 16 count).
    pub fn record(&mut self, latency: Duration) {
        push_recent(&mut self.recent, latency);
    }

    /// Records that a document changed at `now` (the last 16 gaps shorter than a pause count).
    pub fn changed(&mut self, now: Instant) {
        if let Some(last) = self.last_change.replace(now) {
            let gap = now.saturating_duration_since(last);
            if gap < PAUSE {
                push_recent(&mut self.gaps, gap);
            }
        }
    }

    /// The median of the recent latencies, if any.
    pub fn median_latency(&self) -> Option<Duration> {
        median(&self.recent)
    }

    /// The person's usual gap between two changes while typing, once enough were seen.
    pub fn typing_gap(&self) -> Option<Duration> {
        (self.gaps.len() >= GAPS_NEEDED)
            .then(|| median(&self.gaps))
            .flatten()
    }

    /// The delay for the next automatic request.
    pub fn delay(&self) -> Duration {
        let adaptive = self.median_latency().map(|m| m / 2).unwrap_or_default();
        let mut delay = self.base.max(adaptive);
        if let Some(gap) = self.typing_gap() {
            delay = delay.min(gap * 3 / 2);
        }
        delay.clamp(self.min, self.max)
    }
}

/// Appends `value`, keeping the last [`RECENT`].
fn push_recent(values: &mut VecDeque<Duration>, value: Duration) {
    values.push_back(value);
    while values.len() > RECENT {
        values.pop_front();
    }
}

/// The median of `values`, if any.
fn median(values: &VecDeque<Duration>) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let mut sorted: Vec<Duration> = values.iter().copied().collect();
    sorted.sort();
    Some(sorted[sorted.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn debounce_follows_latency_within_bounds() {
        let mut d = AdaptiveDebounce::new(ms(75), ms(25), ms(400));
        assert_eq!(d.delay(), ms(75));
        for _ in 0..5 {
            d.record(ms(600));
        }
        assert_eq!(d.delay(), ms(300));
        for _ in 0..16 {
            d.record(ms(5_000));
        }
        assert_eq!(d.delay(), ms(400));
        for _ in 0..16 {
            d.record(ms(10));
        }
        assert_eq!(d.delay(), ms(75));
    }

    #[test]
    fn debounce_ends_when_a_burst_of_typing_is_seen_to_be_over() {
        let mut d = AdaptiveDebounce::new(ms(75), ms(25), ms(1_000));
        for _ in 0..8 {
            d.record(ms(600));
        }
        // A slow model and no typing seen yet: half its latency.
        assert_eq!(d.delay(), ms(300));
        let mut now = Instant::now();
        // Bursts of three quick keys (40 ms apart), each followed by a wait for the suggestion.
        d.changed(now);
        for burst in 0..3 {
            for _ in 0..2 {
                now += ms(40);
                d.changed(now);
            }
            now += ms(700 + burst * 100);
            d.changed(now);
        }
        assert_eq!(d.typing_gap(), Some(ms(40)));
        assert_eq!(d.delay(), ms(60));
        // Pauses longer than two seconds are not typing: the rhythm is unchanged.
        now += ms(30_000);
        d.changed(now);
        assert_eq!(d.typing_gap(), Some(ms(40)));
        // Instant keys (a fast typist, a test): the shortest delay allowed.
        for _ in 0..16 {
            now += ms(1);
            d.changed(now);
        }
        assert_eq!(d.delay(), ms(25));
        // A slow typist never waits longer than the model's latency asks.
        for _ in 0..16 {
            now += ms(900);
            d.changed(now);
        }
        assert_eq!(d.typing_gap(), Some(ms(900)));
        assert_eq!(d.delay(), ms(300));
    }

    #[test]
    fn a_few_gaps_do_not_yet_make_a_rhythm() {
        let mut d = AdaptiveDebounce::new(ms(75), ms(25), ms(1_000));
        let now = Instant::now();
        d.changed(now);
        d.changed(now + ms(1));
        d.changed(now + ms(2));
        assert_eq!(d.typing_gap(), None);
        assert_eq!(d.delay(), ms(75));
    }

    #[test]
    fn type_through_follows_typing_and_stops_on_divergence() {
        let mut t = TypeThrough::default();
        let rope = Rope::from_str("a\nlet x = ;\nb\n");
        t.remember("k", &rope, 10, "foo(1)");
        let typed = Rope::from_str("a\nlet x = fo;\nb\n");
        assert_eq!(t.lookup("k", &typed, 12).as_deref(), Some("o(1)"));
        // Another document, another cursor, divergent text, all typed: no answer.
        assert_eq!(t.lookup("other", &typed, 12), None);
        assert_eq!(t.lookup("k", &typed, 11), None);
        let wrong = Rope::from_str("a\nlet x = fx;\nb\n");
        assert_eq!(t.lookup("k", &wrong, 12), None);
        let all = Rope::from_str("a\nlet x = foo(1);\nb\n");
        assert_eq!(t.lookup("k", &all, 16), None);
        // A line inserted above moves the anchor: no answer rather than a wrong one.
        let moved = Rope::from_str("z\na\nlet x = fo;\nb\n");
        assert_eq!(t.lookup("k", &moved, 14), None);
        // Out of range cursors are harmless.
        assert_eq!(t.lookup("k", &typed, 999), None);
    }

    #[test]
    fn a_same_length_edit_elsewhere_in_the_text_stops_type_through() {
        let mut t = TypeThrough::default();
        let rope = Rope::from_str("x = 1\nlet y = ;\nz = 3\n");
        t.remember("k", &rope, 14, "foo(1)");
        assert_eq!(t.lookup("k", &rope, 14).as_deref(), Some("foo(1)"));
        // The same offsets, the same cursor line, another text before or after it: the
        // suggestion was made from text that is no longer there.
        let above = Rope::from_str("x = 2\nlet y = ;\nz = 3\n");
        assert_eq!(t.lookup("k", &above, 14), None);
        let below = Rope::from_str("x = 1\nlet y = ;\nz = 4\n");
        assert_eq!(t.lookup("k", &below, 14), None);
        // Typing through with another line changed: no answer either.
        let typed_and_changed = Rope::from_str("x = 2\nlet y = fo;\nz = 3\n");
        assert_eq!(t.lookup("k", &typed_and_changed, 16), None);
        // Typing through alone still answers.
        let typed = Rope::from_str("x = 1\nlet y = fo;\nz = 3\n");
        assert_eq!(t.lookup("k", &typed, 16).as_deref(), Some("o(1)"));
    }

    #[test]
    fn only_the_text_the_prompt_used_counts() {
        let mut t = TypeThrough::default();
        // The prompt used lines 2 to 4 (from byte 6 to byte 26); the cursor is at byte 14.
        let rope = Rope::from_str("x = 1\nlet y = ;\nz = 3\nw = 4\n");
        t.remember_replacing("k", &rope, 14, 6..22, "foo(1)", 0);
        // Outside the window, with every offset in place: the prompt would be the same.
        let outside = Rope::from_str("x = 9\nlet y = ;\nz = 3\nw = 8\n");
        assert_eq!(t.lookup("k", &outside, 14).as_deref(), Some("foo(1)"));
        let typed = Rope::from_str("x = 9\nlet y = f;\nz = 3\nw = 8\n");
        assert_eq!(t.lookup("k", &typed, 15).as_deref(), Some("oo(1)"));
        // Inside it, before or after the cursor: stale.
        let inside = Rope::from_str("x = 1\nlet y = ;\nz = 7\nw = 4\n");
        assert_eq!(t.lookup("k", &inside, 14), None);
        // A window that reached the end of the text: text added after it would be in the prompt.
        t.remember_replacing("k", &rope, 14, 6..rope.len_bytes(), "foo(1)", 0);
        assert_eq!(t.lookup("k", &rope, 14).as_deref(), Some("foo(1)"));
        let longer = Rope::from_str("x = 1\nlet y = ;\nz = 3\nw = 4\nv\n");
        assert_eq!(t.lookup("k", &longer, 14), None);
        // At the very end of the text, typing through still answers.
        let end = Rope::from_str("let x = ");
        t.remember("e", &end, 8, "compute(1);");
        let typed_at_end = Rope::from_str("let x = comp");
        assert_eq!(t.lookup("e", &typed_at_end, 12).as_deref(), Some("ute(1);"));
        // A window past the end of the text ends where the text ends.
        t.remember_replacing("k", &rope, 14, 3..999, "foo(1)", 0);
        assert_eq!(t.lookup("k", &outside, 14), None);
        assert_eq!(t.lookup("k", &rope, 14).as_deref(), Some("foo(1)"));
    }
}
