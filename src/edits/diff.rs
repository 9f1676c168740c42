//! The smallest set of edits that turns one text into another, and their application.
//!
//! The diff runs in two passes, as editors expect from a code action: lines first (patience, with a
//! time limit so that a pathological pair cannot stall the server), then words inside each
//! group of changed lines, then characters inside each changed run of words. Character edits separated by a short unchanged run are merged, so a
//! rewrite of a word is one edit rather than a scatter of single letters.
//!
//! ```
//! use augur::edits::{apply, minimal_edits};
//! let old = "let x = 1;\r\nlet y = 2;\r\n";
//! let new = "let x = 1;\r\nlet why = 2;\r\n";
//! let edits = minimal_edits(old, new);
//! assert_eq!(edits.len(), 1);
//! assert_eq!(apply(old, &edits).unwrap(), new);
//! ```

use rustc_hash::FxHashMap;
use std::ops::Range;
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp, DiffTag, capture_diff_slices_deadline};

use crate::documents::{EditError, TextEdit};

/// How long each diff pass may search before it settles for a larger (still correct) diff.
const DIFF_TIMEOUT: Duration = Duration::from_millis(50);

/// Groups of changed lines larger than this (old plus new bytes) are not diffed by characters:
/// the character diff is quadratic in the worst case, and one edit per group is small enough.
const MAX_CHAR_DIFF_BYTES: usize = 8 * 1024;

/// Word and character diffs of at most this many tokens (old plus new) run without a time limit.
const NO_DEADLINE_TOKENS: usize = 512;

/// How many gaps deep the patience line diff looks for anchors before it diffs a gap with Myers.
const MAX_PATIENCE_DEPTH: usize = 32;

/// Character edits separated by fewer unchanged bytes than this are merged into one edit.
const MERGE_GAP_BYTES: usize = 4;

/// The characters of `text`, and the byte offset at which each starts plus the length at the end.
fn chars_and_offsets(text: &str) -> (Vec<char>, Vec<usize>) {
    let mut chars = Vec::with_capacity(text.len());
    let mut offsets = Vec::with_capacity(text.len() + 1);
    for (at, c) in text.char_indices() {
        chars.push(c);
        offsets.push(at);
    }
    offsets.push(text.len());
    (chars, offsets)
}

/// The lines of `text` (each with its line break) as numbers, equal lines having equal numbers
/// across calls sharing `ids`; and the byte offset at which each line starts plus the length at
/// the end.
fn line_ids<'a>(text: &'a str, ids: &mut FxHashMap<&'a str, u32>) -> (Vec<u32>, Vec<usize>) {
    let mut lines = Vec::new();
    let mut offsets = vec![0];
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let next = ids.len() as u32;
        lines.push(*ids.entry(line).or_insert(next));
        at += line.len();
        offsets.push(at);
    }
    (lines, offsets)
}

/// The old and new token ranges of runs of adjacent changed operations.
fn changed_runs(ops: &[DiffOp]) -> Vec<(Range<usize>, Range<usize>)> {
    let mut runs: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    let mut previous_changed = false;
    for op in ops {
        let (tag, old, new) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            previous_changed = false;
            continue;
        }
        match runs.last_mut() {
            Some(last) if previous_changed => {
                last.0.end = last.0.end.max(old.end);
                last.1.end = last.1.end.max(new.end);
            }
            _ => runs.push((old, new)),
        }
        previous_changed = true;
    }
    runs
}

/// The patience diff of two sequences of line numbers, as runs of changed lines.
///
/// Lines that occur exactly once on each side anchor the diff: the longest sequence of them in
/// the same order on both sides is kept, and the gaps between anchors are diffed the same way,
/// down to gaps without such lines, which Myers diffs. Most lines of code are unique, so the
/// searches stay small, and the result follows the code's structure rather than stray matches of
/// blank lines and braces.
struct LineDiff<'a> {
    /// After this the remaining gaps are taken as changed whole.
    deadline: Instant,
    /// The changed runs found so far, in order, as (old lines, new lines).
    runs: &'a mut Vec<(Range<usize>, Range<usize>)>,
}

impl LineDiff<'_> {
    /// Diffs `old` and `new`, which start at lines `o` and `n` of the whole sequences, `depth`
    /// gaps deep.
    fn patience(
        &mut self,
        (mut old, mut new): (&[u32], &[u32]),
        (mut o, mut n): (usize, usize),
        depth: usize,
    ) {
        let same = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        (old, new, o, n) = (&old[same..], &new[same..], o + same, n + same);
        let same = old
            .iter()
            .rev()
            .zip(new.iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        (old, new) = (&old[..old.len() - same], &new[..new.len() - same]);
        if old.is_empty() || new.is_empty() || Instant::now() > self.deadline {
            self.change(o..o + old.len(), n..n + new.len());
            return;
        }
        // Gaps inside gaps are bounded, so that no input can exhaust the stack.
        let anchors = if depth < MAX_PATIENCE_DEPTH {
            unique_common_lines(old, new)
        } else {
            Vec::new()
        };
        if anchors.is_empty() {
            self.myers(old, new, o, n);
            return;
        }
        let (mut old_at, mut new_at) = (0, 0);
        for (i, j) in anchors {
            let gap = (&old[old_at..i], &new[new_at..j]);
            self.patience(gap, (o + old_at, n + new_at), depth + 1);
            (old_at, new_at) = (i + 1, j + 1);
        }
        let rest = (&old[old_at..], &new[new_at..]);
        self.patience(rest, (o + old_at, n + new_at), depth + 1);
    }

    /// Diffs a gap without anchors with Myers' algorithm.
    fn myers(&mut self, old: &[u32], new: &[u32], o: usize, n: usize) {
        let ops = capture_diff_slices_deadline(Algorithm::Myers, old, new, Some(self.deadline));
        for (old_lines, new_lines) in changed_runs(&ops) {
            self.change(
                o + old_lines.start..o + old_lines.end,
                n + new_lines.start..n + new_lines.end,
            );
        }
    }

    /// Records a changed run, merged with the previous one when they touch.
    fn change(&mut self, old: Range<usize>, new: Range<usize>) {
        if old.is_empty() && new.is_empty() {
            return;
        }
        match self.runs.last_mut() {
            Some((o, n)) if o.end == old.start && n.end == new.start => {
                o.end = old.end;
                n.end = new.end;
            }
            _ => self.runs.push((old, new)),
        }
    }
}

/// The lines that occur exactly once in `old` and once in `new`, as (old index, new index)
/// pairs: the longest series of them that is in the same order on both sides.
fn unique_common_lines(old: &[u32], new: &[u32]) -> Vec<(usize, usize)> {
    /// Where a line was seen: its index on each side, [`TWICE`] once it was seen again.
    #[derive(Clone, Copy)]
    struct Seen {
        old: usize,
        new: Option<usize>,
    }
    const TWICE: usize = usize::MAX;
    let mut seen: FxHashMap<u32, Seen> = FxHashMap::default();
    seen.reserve(old.len());
    for (i, &line) in old.iter().enumerate() {
        seen.entry(line)
            .and_modify(|s| s.old = TWICE)
            .or_insert(Seen { old: i, new: None });
    }
    for (j, &line) in new.iter().enumerate() {
        if let Some(s) = seen.get_mut(&line) {
            s.new = Some(if s.new.is_some() { TWICE } else { j });
        }
    }
    // The candidates as (old index, new index), put in old order.
    let mut pairs: Vec<(usize, usize)> = seen
        .values()
        .filter_map(|s| match *s {
            Seen {
                old: i,
                new: Some(j),
            } if i != TWICE && j != TWICE => Some((i, j)),
            _ => None,
        })
        .collect();
    pairs.sort_unstable();
    longest_increasing(&pairs)
}

/// The longest subsequence of `pairs` (sorted by their first element) whose second elements
/// increase: patience sorting, in O(n log n).
fn longest_increasing(pairs: &[(usize, usize)]) -> Vec<(usize, usize)> {
    // The index in `pairs` of the smallest tail of an increasing run of each length, and for
    // each pair the index of the pair before it in its run.
    let mut tails: Vec<usize> = Vec::new();
    let mut previous: Vec<Option<usize>> = Vec::with_capacity(pairs.len());
    for (k, &(_, j)) in pairs.iter().enumerate() {
        let length = tails.partition_point(|&t| pairs[t].1 < j);
        previous.push(length.checked_sub(1).map(|l| tails[l]));
        if length == tails.len() {
            tails.push(k);
        } else {
            tails[length] = k;
        }
    }
    let mut out = Vec::with_capacity(tails.len());
    let mut at = tails.last().copied();
    while let Some(k) = at {
        out.push(pairs[k]);
        at = previous[k];
    }
    out.reverse();
    out
}

/// The edits that turn `old` into `new`: as few as possible, sorted, never overlapping nor
/// touching, each range on character boundaries of `old` and never between the `\r` and `\n`
/// of a line break. Applying them to `old` with [`apply`] gives exactly `new`.
pub fn minimal_edits(old: &str, new: &str) -> Vec<TextEdit> {
    refine(old, new, &changed_lines(old, new))
}

/// The lines that differ between `old` and `new`: sorted, disjoint pairs of byte ranges (old,
/// new), each a run of whole lines. Replacing each old range with its new range turns `old` into
/// `new` (see [`line_edits`]); [`refine`] narrows each pair down to the characters that changed.
pub(crate) fn changed_lines(old: &str, new: &str) -> Vec<(Range<usize>, Range<usize>)> {
    if old == new {
        return Vec::new();
    }
    // The unchanged lines at both ends are cut off first: a byte comparison is far cheaper than
    // hashing every line of a large file for the line diff.
    let (prefix, suffix) = common_ends(old, new);
    let old_mid = &old[prefix..old.len() - suffix];
    let new_mid = &new[prefix..new.len() - suffix];
    // Each distinct line becomes a number, so that the search compares integers, not strings.
    let mut ids = FxHashMap::default();
    let (old_ids, old_offsets) = line_ids(old_mid, &mut ids);
    let (new_ids, new_offsets) = line_ids(new_mid, &mut ids);
    let mut runs = Vec::new();
    let mut diff = LineDiff {
        deadline: Instant::now() + DIFF_TIMEOUT,
        runs: &mut runs,
    };
    diff.patience((&old_ids, &new_ids), (0, 0), 0);
    let mut pieces = Vec::new();
    let absolute = |offsets: &[usize], lines: Range<usize>| {
        prefix + offsets[lines.start]..prefix + offsets[lines.end]
    };
    for (old_lines, new_lines) in runs {
        if old_lines.len() == new_lines.len() {
            // As many lines on both sides: the lines correspond one to one, and refining them
            // in pairs keeps each character diff small.
            for (o, n) in old_lines.zip(new_lines) {
                pieces.push((
                    absolute(&old_offsets, o..o + 1),
                    absolute(&new_offsets, n..n + 1),
                ));
            }
        } else {
            pieces.push((
                absolute(&old_offsets, old_lines),
                absolute(&new_offsets, new_lines),
            ));
        }
    }
    pieces
}

/// The edits that replace whole lines, one per piece of [`changed_lines`] that changed: coarser
/// than [`minimal_edits`], with the same result, and known as soon as the line diff is.
pub(crate) fn line_edits(
    old: &str,
    new: &str,
    pieces: &[(Range<usize>, Range<usize>)],
) -> Vec<TextEdit> {
    pieces
        .iter()
        .filter(|(o, n)| old[o.clone()] != new[n.clone()])
        .map(|(o, n)| TextEdit::replace(o.clone(), &new[n.clone()]))
        .collect()
}

/// The minimal edits inside the pieces of [`changed_lines`]: words, then characters.
pub(crate) fn refine(
    old: &str,
    new: &str,
    pieces: &[(Range<usize>, Range<usize>)],
) -> Vec<TextEdit> {
    let mut edits = Vec::new();
    for (o, n) in pieces {
        char_edits(o.start, &old[o.clone()], &new[n.clone()], &mut edits);
    }
    normalize(old, edits)
}

/// The lengths of the common prefix and suffix of whole lines: the prefix ends just after a
/// line break, the suffix starts just after one (or at the start of the text), and they never
/// overlap in either text.
fn common_ends(old: &str, new: &str) -> (usize, usize) {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let same = common_prefix_bytes(a, b);
    let prefix = a[..same]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    let room = a.len().min(b.len()) - prefix;
    let mut suffix = common_suffix_bytes(&a[a.len() - room..], &b[b.len() - room..]);
    // The suffix must start a line in both texts.
    while suffix > 0 {
        let (i, j) = (a.len() - suffix, b.len() - suffix);
        let line_start = |t: &[u8], k: usize| k == prefix || t[k - 1] == b'\n';
        if line_start(a, i) && line_start(b, j) {
            break;
        }
        suffix -= 1;
    }
    (prefix, suffix)
}

/// The number of bytes compared at once when looking for the common ends of two texts.
const CHUNK: usize = 16;

/// The length of the common prefix of `a` and `b`, compared a chunk at a time.
fn common_prefix_bytes(a: &[u8], b: &[u8]) -> usize {
    let same_chunks = a
        .chunks_exact(CHUNK)
        .zip(b.chunks_exact(CHUNK))
        .take_while(|(x, y)| x == y)
        .count();
    let at = same_chunks * CHUNK;
    at + a[at..]
        .iter()
        .zip(&b[at..])
        .take_while(|(x, y)| x == y)
        .count()
}

/// The length of the common suffix of `a` and `b`, compared a chunk at a time.
fn common_suffix_bytes(a: &[u8], b: &[u8]) -> usize {
    let same_chunks = a
        .rchunks_exact(CHUNK)
        .zip(b.rchunks_exact(CHUNK))
        .take_while(|(x, y)| x == y)
        .count();
    let at = same_chunks * CHUNK;
    let (a, b) = (&a[..a.len() - at], &b[..b.len() - at]);
    at + a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// Appends the edits turning `old_part` (which starts at `base` in the old text) into
/// `new_part`.
fn char_edits(base: usize, old_part: &str, new_part: &str, out: &mut Vec<TextEdit>) {
    // Trimming the common prefix and suffix by characters keeps every offset on a boundary.
    let prefix: usize = old_part
        .chars()
        .zip(new_part.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let old_rest = &old_part[prefix..];
    let new_rest = &new_part[prefix..];
    let suffix: usize = old_rest
        .chars()
        .rev()
        .zip(new_rest.chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let old_mid = &old_rest[..old_rest.len() - suffix];
    let new_mid = &new_rest[..new_rest.len() - suffix];
    let base = base + prefix;
    if old_mid.len() + new_mid.len() > MAX_CHAR_DIFF_BYTES
        || old_mid.is_empty()
        || new_mid.is_empty()
    {
        out.push(TextEdit::replace(base..base + old_mid.len(), new_mid));
        return;
    }
    let mut pending: Option<(Range<usize>, Range<usize>)> = None;
    for (o, n) in word_then_char_changes(old_mid, new_mid) {
        pending = match pending {
            // A short unchanged run between two changes is folded into one edit.
            Some((po, pn)) if o.start - po.end < MERGE_GAP_BYTES => {
                Some((po.start..o.end, pn.start..n.end))
            }
            Some((po, pn)) => {
                out.push(TextEdit::replace(
                    base + po.start..base + po.end,
                    &new_mid[pn],
                ));
                Some((o, n))
            }
            None => Some((o, n)),
        };
    }
    if let Some((po, pn)) = pending {
        out.push(TextEdit::replace(
            base + po.start..base + po.end,
            &new_mid[pn],
        ));
    }
}

/// The changed byte ranges (old, new) between `old` and `new`: a diff of words first, then of
/// characters inside each changed run of words. The search grows with the length of the input
/// times the number of differences, and words make both several times smaller than characters.
fn word_then_char_changes(old: &str, new: &str) -> Vec<(Range<usize>, Range<usize>)> {
    let (old_words, old_offsets) = words_and_offsets(old);
    let (new_words, new_offsets) = words_and_offsets(new);
    let ops = capture_diff_slices_deadline(
        Algorithm::Myers,
        &old_words,
        &new_words,
        deadline_for(old_words.len() + new_words.len()),
    );
    let mut out = Vec::new();
    for (old_run, new_run) in changed_runs(&ops) {
        let o = old_offsets[old_run.start]..old_offsets[old_run.end];
        let n = new_offsets[new_run.start]..new_offsets[new_run.end];
        if o.is_empty() || n.is_empty() {
            out.push((o, n));
            continue;
        }
        // The characters are compared as `char`s, not as one-character strings: the comparison
        // is a single integer test.
        let (old_chars, old_char_offsets) = chars_and_offsets(&old[o.clone()]);
        let (new_chars, new_char_offsets) = chars_and_offsets(&new[n.clone()]);
        let ops = capture_diff_slices_deadline(
            Algorithm::Myers,
            &old_chars,
            &new_chars,
            deadline_for(old_chars.len() + new_chars.len()),
        );
        for (old_chars, new_chars) in changed_runs(&ops) {
            out.push((
                o.start + old_char_offsets[old_chars.start]
                    ..o.start + old_char_offsets[old_chars.end],
                n.start + new_char_offsets[new_chars.start]
                    ..n.start + new_char_offsets[new_chars.end],
            ));
        }
    }
    out
}

/// The time limit of a diff of `tokens` tokens (old plus new). A small diff cannot take long even
/// in the worst case, and reading the clock at every step of its search would cost more than the
/// search itself.
fn deadline_for(tokens: usize) -> Option<Instant> {
    (tokens > NO_DEADLINE_TOKENS).then(|| Instant::now() + DIFF_TIMEOUT)
}

/// The words of `text` (runs of letters, digits and `_`; runs of white space; any other
/// character alone), and the byte offset at which each starts plus the length at the end.
fn words_and_offsets(text: &str) -> (Vec<&str>, Vec<usize>) {
    /// The class of a character: characters of a class other than `Other` form runs.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Class {
        Word,
        Space,
        Other,
    }
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' {
            Class::Word
        } else if c.is_whitespace() {
            Class::Space
        } else {
            Class::Other
        }
    };
    let mut words = Vec::new();
    let mut offsets = Vec::new();
    let mut start = 0;
    let mut previous = Class::Other;
    for (at, c) in text.char_indices() {
        let current = class(c);
        if at > start && (current != previous || current == Class::Other) {
            words.push(&text[start..at]);
            offsets.push(start);
            start = at;
        }
        previous = current;
    }
    if start < text.len() {
        words.push(&text[start..]);
        offsets.push(start);
    }
    offsets.push(text.len());
    (words, offsets)
}

/// Whether `offset` falls between the `\r` and the `\n` of a line break in `text`.
fn splits_crlf(text: &str, offset: usize) -> bool {
    let bytes = text.as_bytes();
    offset > 0 && offset < bytes.len() && bytes[offset - 1] == b'\r' && bytes[offset] == b'\n'
}

/// Sorts the edits, moves ends that would split a `\r\n` outwards, and merges edits that touch.
fn normalize(old: &str, mut edits: Vec<TextEdit>) -> Vec<TextEdit> {
    for edit in &mut edits {
        if splits_crlf(old, edit.range.start) {
            edit.range.start -= 1;
            edit.new_text.insert(0, '\r');
        }
        if splits_crlf(old, edit.range.end) {
            edit.range.end += 1;
            edit.new_text.push('\n');
        }
    }
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut merged: Vec<TextEdit> = Vec::with_capacity(edits.len());
    for edit in edits {
        match merged.last_mut() {
            Some(last) if edit.range.start <= last.range.end => {
                // Edits come from disjoint diff runs, so they can only touch (or, after the line
                // break adjustment, share that one break); the old bytes between them are kept.
                let kept = &old[last.range.end.min(edit.range.start)..edit.range.start];
                last.new_text.push_str(kept);
                last.new_text.push_str(&edit.new_text);
                last.range.end = last.range.end.max(edit.range.end);
            }
            _ => merged.push(edit),
        }
    }
    merged.retain(|e| !(e.range.is_empty() && e.new_text.is_empty()));
    merged
}

/// Applies edits whose ranges all refer to `old`, in any order. Refuses (without panicking)
/// ranges that are reversed, out of bounds, inside a character, or that overlap.
pub fn apply(old: &str, edits: &[TextEdit]) -> Result<String, EditError> {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let len = old.len();
    for edit in &sorted {
        let (start, end) = (edit.range.start, edit.range.end);
        if start > end {
            return Err(EditError::Reversed { start, end });
        }
        if end > len {
            return Err(EditError::OutOfBounds { start, end, len });
        }
        if !old.is_char_boundary(start) || !old.is_char_boundary(end) {
            return Err(EditError::NotCharBoundary { start, end });
        }
    }
    for pair in sorted.windows(2) {
        if pair[0].range.end > pair[1].range.start {
            return Err(EditError::Overlapping {
                first: pair[0].range.start,
                second: pair[1].range.start,
            });
        }
    }
    let grown: usize = sorted.iter().map(|e| e.new_text.len()).sum();
    let mut out = String::with_capacity(len + grown);
    let mut at = 0;
    for edit in sorted {
        out.push_str(&old[at..edit.range.start]);
        out.push_str(&edit.new_text);
        at = edit.range.end;
    }
    out.push_str(&old[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_texts_need_no_edit() {
        assert!(minimal_edits("abc\n", "abc\n").is_empty());
    }

    #[test]
    fn a_word_change_is_one_edit() {
        let edits = minimal_edits(
            "let value = compute(a, b);\n",
            "let value = compute(b, a);\n",
        );
        assert_eq!(edits.len(), 1, "{edits:?}");
        assert_eq!(
            apply("let value = compute(a, b);\n", &edits).unwrap(),
            "let value = compute(b, a);\n"
        );
    }

    #[test]
    fn crlf_is_never_split() {
        let old = "a\r\nb\r\n";
        for new in [
            "a\nb\r\n",
            "a\r\r\nb\r\n",
            "ab\r\n",
            "a\r\nb\n",
            "x\r\ny\r\n",
        ] {
            let edits = minimal_edits(old, new);
            for e in &edits {
                assert!(!splits_crlf(old, e.range.start) && !splits_crlf(old, e.range.end));
            }
            assert_eq!(apply(old, &edits).unwrap(), new);
        }
    }

    #[test]
    fn longest_increasing_keeps_the_longest_ordered_series() {
        let pairs = [(0, 3), (1, 1), (2, 2), (3, 0), (4, 4)];
        assert_eq!(longest_increasing(&pairs), [(1, 1), (2, 2), (4, 4)]);
        assert!(longest_increasing(&[]).is_empty());
    }

    #[test]
    fn unique_lines_anchor_the_line_diff() {
        // Lines 1 and 3 are unique on both sides; the repeated 9s are not anchors.
        let old = [1, 9, 2, 9, 3, 9];
        let new = [1, 9, 4, 9, 3, 9];
        assert_eq!(unique_common_lines(&old, &new), [(0, 0), (4, 4)]);
        let mut runs = Vec::new();
        LineDiff {
            deadline: Instant::now() + DIFF_TIMEOUT,
            runs: &mut runs,
        }
        .patience((&old, &new), (0, 0), 0);
        assert_eq!(runs, [(2..3, 2..3)]);
    }

    #[test]
    fn moved_and_repeated_lines_diff_exactly() {
        let old = "fn a() {\n}\n\nfn b() {\n}\n\nfn c() {\n}\n";
        for new in [
            "fn c() {\n}\n\nfn a() {\n}\n\nfn b() {\n}\n",
            "fn b() {\n}\n\nfn a() {\n}\n",
            "}\n}\n}\n",
            "",
        ] {
            assert_eq!(apply(old, &minimal_edits(old, new)).unwrap(), new);
        }
        // Few distinct lines, many of each: no anchors, and Myers takes over.
        let old: String = (0..3000).map(|i| ["{\n", "}\n", "\n"][i % 3]).collect();
        let new: String = (0..3000)
            .map(|i| ["{\n", "}\n", "\n", "x\n"][i % 4])
            .collect();
        assert_eq!(apply(&old, &minimal_edits(&old, &new)).unwrap(), new);
    }

    #[test]
    fn apply_refuses_bad_edits() {
        assert!(matches!(
            apply(
                "ab",
                &[TextEdit::replace(std::ops::Range { start: 1, end: 0 }, "")]
            ),
            Err(EditError::Reversed { .. })
        ));
        assert!(matches!(
            apply("ab", &[TextEdit::replace(1..3, "")]),
            Err(EditError::OutOfBounds { .. })
        ));
        assert!(matches!(
            apply("é", &[TextEdit::insert(1, "x")]),
            Err(EditError::NotCharBoundary { .. })
        ));
        assert!(matches!(
            apply(
                "abc",
                &[TextEdit::replace(0..2, ""), TextEdit::replace(1..3, "")]
            ),
            Err(EditError::Overlapping { .. })
        ));
    }
}
