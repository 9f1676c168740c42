//! The window: the text before and after the cursor, sized in tokens of the target model and cut
//! at line boundaries, and the text helpers it is made with.

use std::borrow::Cow;
use std::ops::Range;

use ropey::{Rope, RopeSlice};

use super::{PromptInput, clamp_cursor};

/// The text of `range`, cut back to character boundaries.
pub(super) fn slice(rope: &Rope, range: Range<usize>) -> String {
    piece(rope, range).into_owned()
}

/// The text of `range`, cut back to character boundaries; borrowed when it is contiguous.
pub(super) fn piece(rope: &Rope, range: Range<usize>) -> Cow<'_, str> {
    let start = clamp_cursor(rope, range.start);
    let end = clamp_cursor(rope, range.end).max(start);
    text_of(rope.byte_slice(start..end))
}

/// The text of a rope slice; borrowed when it is contiguous.
pub(super) fn text_of(slice: RopeSlice<'_>) -> Cow<'_, str> {
    match slice.as_str() {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(slice.to_string()),
    }
}

/// The byte where line `line` starts (the end of the text past the last line).
pub(super) fn line_start(rope: &Rope, line: usize) -> usize {
    if line >= rope.len_lines() {
        rope.len_bytes()
    } else {
        rope.line_to_byte(line)
    }
}

/// The last `max_bytes` bytes of `text`, cut at a character boundary.
pub(in crate::completion) fn tail(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut start = text.len() - max_bytes;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// The first `max_bytes` bytes of `text`, cut at a character boundary.
pub(in crate::completion) fn head(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The end of each line of `text` (after its line break: LF, CR or CRLF, as the rope counts
/// lines); a last line without a break ends at the end of the text.
pub(super) fn line_ends(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut ends = Vec::new();
    let mut at = 0;
    while let Some(found) = memchr::memchr2(b'\n', b'\r', &bytes[at..]) {
        let mut end = at + found + 1;
        if bytes[end - 1] == b'\r' && bytes.get(end) == Some(&b'\n') {
            end += 1;
        }
        ends.push(end);
        at = end;
    }
    if at < bytes.len() {
        ends.push(bytes.len());
    }
    ends
}

/// Takes lines while they fit in `room` tokens: the tokens and bytes taken, and whether a line
/// did not fit.
pub(super) fn take_lines<'a>(
    lines: impl Iterator<Item = Cow<'a, str>>,
    room: usize,
    count: &dyn Fn(&str) -> usize,
) -> (usize, usize, bool) {
    let (mut tokens, mut bytes) = (0, 0);
    for line in lines {
        let needed = count(&line);
        if tokens + needed > room {
            return (tokens, bytes, true);
        }
        tokens += needed;
        bytes += line.len();
    }
    (tokens, bytes, false)
}

/// How many bytes of whole lines are copied at once to be measured, per token of budget: more
/// than a token ever takes in code, so that the rope is rarely walked line by line.
pub(super) const BYTES_PER_TOKEN_READ: usize = 8;

/// The whole lines after `from` (a line start) that fit in `room` tokens: their tokens and bytes.
pub(super) fn lines_after(
    rope: &Rope,
    from: usize,
    room: usize,
    count: &dyn Fn(&str) -> usize,
) -> (usize, usize) {
    // Copy a stretch of whole lines and split it here: quicker than the rope's line iterator.
    let want = from.saturating_add(room.saturating_mul(BYTES_PER_TOKEN_READ));
    let until = if want >= rope.len_bytes() {
        rope.len_bytes()
    } else {
        line_start(rope, rope.byte_to_line(want)).max(from)
    };
    let stretch = piece(rope, from..until);
    let mut at = 0;
    let lines = line_ends(&stretch).into_iter().map(|end| {
        let line = Cow::Borrowed(&stretch[at..end]);
        at = end;
        line
    });
    let (tokens, bytes, full) = take_lines(lines, room, count);
    if full || until >= rope.len_bytes() {
        return (tokens, bytes);
    }
    // Lines longer than the stretch allowed for: go on line by line.
    let lines = rope
        .lines_at(rope.byte_to_line(until))
        .map(text_of)
        .take_while(|line| !line.is_empty());
    let (more_tokens, more_bytes, _) = take_lines(lines, room - tokens, count);
    (tokens + more_tokens, bytes + more_bytes)
}

/// The whole lines before `to` (a line start) that fit in `room` tokens, nearest first: their
/// tokens and bytes.
pub(super) fn lines_before(
    rope: &Rope,
    to: usize,
    room: usize,
    count: &dyn Fn(&str) -> usize,
) -> (usize, usize) {
    let want = to.saturating_sub(room.saturating_mul(BYTES_PER_TOKEN_READ));
    let from = line_start(rope, rope.byte_to_line(want)).min(to);
    let stretch = piece(rope, from..to);
    let ends = line_ends(&stretch);
    let starts = std::iter::once(0).chain(ends.iter().copied());
    let bounds: Vec<(usize, usize)> = starts.zip(ends.iter().copied()).collect();
    let lines = bounds
        .into_iter()
        .rev()
        .map(|(start, end)| Cow::Borrowed(&stretch[start..end]));
    let (tokens, bytes, full) = take_lines(lines, room, count);
    if full || from == 0 {
        return (tokens, bytes);
    }
    let mut earlier = rope.lines_at(rope.byte_to_line(from));
    let lines = std::iter::from_fn(|| earlier.prev()).map(text_of);
    let (more_tokens, more_bytes, _) = take_lines(lines, room - tokens, count);
    (tokens + more_tokens, bytes + more_bytes)
}

/// The document's part of the prompt: byte ranges before and after the cursor, and their tokens.
pub(super) struct Window {
    pub(super) prefix: Range<usize>,
    pub(super) suffix: Range<usize>,
    pub(super) prefix_tokens: usize,
    pub(super) suffix_tokens: usize,
    pub(super) prefix_limit: usize,
}

/// The document window around the cursor: the suffix first (its unused budget goes to the
/// prefix), then the prefix, each grown line by line while the next line fits.
#[cfg(test)]
pub(super) fn window(
    input: &PromptInput<'_>,
    cursor: usize,
    count: &dyn Fn(&str) -> usize,
) -> Window {
    window_anchored(input, cursor, count, None)
}

/// The part of the prefix budget left free when a held prefix start no longer fits and the
/// window moves: the prefix then starts this share of the budget later than it must, so that the
/// next lines typed fit without moving it again (every move makes the model server read the
/// whole prompt again).
const PREFIX_SLACK_DIVISOR: usize = 4;

/// [`window`], with the prefix starting at `anchor` (the start of the previous prompt's prefix)
/// while that is a line start before the cursor's line and the text from there fits the budget.
/// When it no longer fits, the prefix starts a quarter of the budget later than it must.
pub(super) fn window_anchored(
    input: &PromptInput<'_>,
    cursor: usize,
    count: &dyn Fn(&str) -> usize,
    anchor: Option<usize>,
) -> Window {
    let rope = input.rope;
    let config = input.config;
    let line = rope.byte_to_line(cursor);
    // The rest of the cursor's line always goes in (cut to about its budget in bytes).
    let next_line_start = line_start(rope, line + 1);
    let rest = piece(rope, cursor..next_line_start);
    let rest = head(&rest, config.suffix_tokens.saturating_mul(4));
    let mut suffix_end = cursor + rest.len();
    let mut suffix_tokens = count(rest);
    if suffix_end == next_line_start && suffix_end < rope.len_bytes() {
        let room = config.suffix_tokens.saturating_sub(suffix_tokens);
        let (tokens, bytes) = lines_after(rope, next_line_start, room, count);
        suffix_tokens += tokens;
        suffix_end += bytes;
    }
    let prefix_limit = config.prefix_tokens + config.suffix_tokens.saturating_sub(suffix_tokens);
    let this_line_start = line_start(rope, line);
    let anchor = anchor.filter(|&at| {
        at <= this_line_start
            && at <= rope.len_bytes()
            && line_start(rope, rope.byte_to_line(at)) == at
    });
    let mut slack = 0;
    if let Some(at) = anchor {
        let tokens = count(&piece(rope, at..cursor));
        if tokens <= prefix_limit {
            return Window {
                prefix: at..cursor,
                suffix: cursor..suffix_end,
                prefix_tokens: tokens,
                suffix_tokens,
                prefix_limit,
            };
        }
        slack = prefix_limit / PREFIX_SLACK_DIVISOR;
    }
    let before = piece(rope, this_line_start..cursor);
    let before = tail(&before, prefix_limit.saturating_mul(4));
    let mut prefix_start = cursor - before.len();
    let mut prefix_tokens = count(before);
    if prefix_start == this_line_start && prefix_start > 0 {
        let room = prefix_limit.saturating_sub(prefix_tokens + slack);
        let (tokens, bytes) = lines_before(rope, this_line_start, room, count);
        prefix_tokens += tokens;
        prefix_start -= bytes;
    }
    Window {
        prefix: prefix_start..cursor,
        suffix: cursor..suffix_end,
        prefix_tokens,
        suffix_tokens,
        prefix_limit,
    }
}
