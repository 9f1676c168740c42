//! Post-processing of a model's suggestion: cut where it starts repeating the text after the
//! cursor, trim it to the end of the current statement or block, strip trailing whitespace, keep
//! the document's indentation style, and (for chat models) remove code fences and repeated context.
//! [`PostProcessor`] does it incrementally, so a stream can stop as soon as the suggestion is known
//! complete.
//!
//! ```
//! use augur::completion::postprocess::{PostContext, PostProcessor};
//!
//! let context = PostContext::new("fn add(a: i32, b: i32) -> i32 {\n    ", "\n}\n", true);
//! let mut post = PostProcessor::new(context);
//! assert!(!post.push("a + b"));
//! assert!(post.push("\n}\n\nfn main() {}"));
//! assert_eq!(post.finish(), "a + b");
//! ```

use std::borrow::Cow;

use ropey::Rope;

use super::prompt::{clamp_cursor, head, tail};
use super::template::CURSOR_MARK;
use crate::syntax::{Language, has_new_errors, parse};

/// What post-processing needs to know about the document around the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostContext {
    /// The document text before the cursor (the prompt's window is enough).
    pub prefix: String,
    /// The document text after the cursor (the prompt's window is enough).
    pub suffix: String,
    /// Whether the suggestion may span several lines.
    pub multiline: bool,
    /// Whether the reply comes from a chat model (fences and repeated context are removed).
    pub chat: bool,
    /// The document's line ending, used for the lines of the suggestion.
    pub crlf: bool,
    /// Whether the document indents with tabs.
    pub tabs: bool,
    /// The document's indentation width in spaces (when it indents with spaces).
    pub indent_width: usize,
}

impl PostContext {
    /// A context for this prefix and suffix; indentation and line endings are read from them.
    pub fn new(prefix: &str, suffix: &str, multiline: bool) -> PostContext {
        let crlf = prefix.contains("\r\n") || (!prefix.contains('\n') && suffix.contains("\r\n"));
        let (tabs, indent_width) = indentation_style(prefix, suffix);
        PostContext {
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
            multiline,
            chat: false,
            crlf,
            tabs,
            indent_width,
        }
    }

    /// The text of the cursor's line before the cursor.
    pub fn line_prefix(&self) -> &str {
        match self.prefix.rfind('\n') {
            Some(i) => &self.prefix[i + 1..],
            None => &self.prefix,
        }
    }

    /// The text of the cursor's line after the cursor (without the line break).
    pub fn line_rest(&self) -> &str {
        let end = self.suffix.find('\n').unwrap_or(self.suffix.len());
        self.suffix[..end].trim_end_matches('\r')
    }

    /// The first non-blank line after the cursor's line, if any.
    fn next_suffix_line(&self) -> Option<&str> {
        let start = self.suffix.find('\n')? + 1;
        self.suffix[start..]
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .find(|l| !l.trim().is_empty())
    }
}

/// Whether the document indents with tabs, and its indentation width in spaces (the smallest
/// non-zero indentation seen, 4 if none).
fn indentation_style(prefix: &str, suffix: &str) -> (bool, usize) {
    let mut tabs = 0;
    let mut spaces = 0;
    let mut width = usize::MAX;
    for line in prefix.lines().chain(suffix.lines()) {
        if line.starts_with('\t') {
            tabs += 1;
        } else if line.starts_with(' ') && !line.trim().is_empty() {
            spaces += 1;
            let n = line.len() - line.trim_start_matches(' ').len();
            width = width.min(n);
        }
    }
    let width = if width == usize::MAX || width == 0 {
        4
    } else {
        width.min(8)
    };
    (tabs > spaces, width)
}

/// Lines before the cursor (and a quarter as many after it) parsed to tell whether the cursor is
/// in a string or a comment. On the benchmark's Rust files, 20 lines give the answer of the whole
/// prompt window in all but 1 of 2,000 positions, in 40% of the time.
const MULTILINE_PARSE_LINES: usize = 20;

/// Bytes before the cursor parsed at most for that (and a quarter as many after it): lines of
/// generated code or data can be very long, and parsing them would cost far more than it tells.
const MULTILINE_PARSE_BYTES: usize = 2048;

/// The last `count` lines of `text` (the last one possibly unfinished).
fn last_lines(text: &str, count: usize) -> &str {
    let start = text
        .rmatch_indices('\n')
        .nth(count)
        .map_or(0, |(at, _)| at + 1);
    &text[start..]
}

/// The first `count` lines of `text`, each with its line break.
fn first_lines(text: &str, count: usize) -> &str {
    let end = text
        .match_indices('\n')
        .nth(count)
        .map_or(text.len(), |(at, _)| at + 1);
    &text[..end]
}

/// Whether a suggestion at the cursor may span several lines, under `auto`: not in the middle of a
/// line (text after the cursor other than closing brackets), not at the end of a line with code on
/// it unless that line opens a block, not inside a string or comment.
pub fn auto_multiline(language: Option<Language>, prefix: &str, suffix: &str) -> bool {
    if !rest_allows_multiline(suffix) || !line_allows_multiline(last_lines(prefix, 0)) {
        return false;
    }
    let Some(language) = language else {
        return true;
    };
    // Parse the lines around the cursor only: strings and comments that hold the cursor rarely
    // span more, and the cost stays small whatever the prompt budget.
    let prefix = tail(
        last_lines(prefix, MULTILINE_PARSE_LINES),
        MULTILINE_PARSE_BYTES,
    );
    let suffix = head(
        first_lines(suffix, MULTILINE_PARSE_LINES / 4),
        MULTILINE_PARSE_BYTES / 4,
    );
    let text = format!("{prefix}{suffix}");
    let Some(tree) = parse(language, &text) else {
        return true;
    };
    !in_string_or_comment(tree.root_node(), prefix.len(), |range| {
        Cow::Borrowed(text.get(range).unwrap_or_default())
    })
}

/// Whether the cursor at byte `at` of the text under `root` is inside a string or a comment.
/// `text` gives the text of a range (to tell a closed block comment).
fn in_string_or_comment<'t>(
    root: tree_sitter::Node<'_>,
    at: usize,
    text: impl Fn(std::ops::Range<usize>) -> Cow<'t, str>,
) -> bool {
    let mut node = root.descendant_for_byte_range(at.saturating_sub(1), at);
    while let Some(current) = node {
        let kind = current.kind();
        let (start, end) = (current.start_byte(), current.end_byte());
        let strictly_inside = start < at && at < end;
        if strictly_inside && kind.contains("string") {
            return true;
        }
        if kind.contains("comment") && start < at && at <= end {
            // The end of a line comment is still in it; the end of a closed block comment is not.
            let comment = text(start..end);
            let closed = comment.trim_end().ends_with("*/") || comment.trim_end().ends_with("-->");
            if at < end || !closed {
                return true;
            }
        }
        node = current.parent();
    }
    false
}

/// [`auto_multiline`] at a cursor of a whole document whose syntax tree (for this text) is at
/// hand: no parsing at all.
pub fn auto_multiline_in_tree(rope: &Rope, tree: &tree_sitter::Tree, cursor: usize) -> bool {
    let line = rope.byte_to_line(cursor);
    let end = if line + 1 < rope.len_lines() {
        rope.line_to_byte(line + 1)
    } else {
        rope.len_bytes()
    };
    let rest = rope.byte_slice(cursor..end).to_string();
    let start = rope
        .line_to_byte(line)
        .max(cursor.saturating_sub(MULTILINE_PARSE_BYTES));
    let before = rope
        .byte_slice(clamp_cursor(rope, start)..cursor)
        .to_string();
    if !rest_allows_multiline(&rest) || !line_allows_multiline(&before) {
        return false;
    }
    !in_string_or_comment(tree.root_node(), cursor, |range| {
        Cow::Owned(rope.byte_slice(range).to_string())
    })
}

/// Whether the text of the cursor's line before the cursor leaves room for a multi-line
/// suggestion: nothing but indentation (an empty line), or code that opens a block (see
/// [`opens_block`]). After any other code the line is what is being written: one line.
pub fn line_allows_multiline(line_prefix: &str) -> bool {
    let trimmed = line_prefix.trim();
    trimmed.is_empty() || opens_block(trimmed)
}

/// Whether a line (ending at the cursor) opens a block whose body comes on the next lines: it
/// ends with an opening bracket, a colon (Python, YAML), an arrow or `=` that continues on the
/// next line, or a keyword that opens a block in Ruby, Lua and shell (`do`, `then`, `else`).
pub fn opens_block(line: &str) -> bool {
    let line = line.trim_end();
    if line.ends_with(['{', '(', '[', ':']) || line.ends_with("=>") || line.ends_with("->") {
        return true;
    }
    let last_word = line
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or_default();
    let before = &line[..line.len() - last_word.len()];
    matches!(last_word, "do" | "then" | "else" | "begin") && !before.ends_with(['.', ':'])
}

/// Whether the rest of the cursor's line leaves room for a multi-line suggestion: nothing but
/// closing brackets and the like.
fn rest_allows_multiline(suffix: &str) -> bool {
    let end = suffix.find('\n').unwrap_or(suffix.len());
    !suffix[..end]
        .trim()
        .chars()
        .any(|c| !matches!(c, ')' | ']' | '}' | ';' | ',' | '"' | '\'' | '`'))
}

/// [`auto_multiline`] at a cursor of a whole document: from the lines around it, so that it can
/// run before (or beside) prompt building.
pub fn auto_multiline_at(language: Option<Language>, rope: &Rope, cursor: usize) -> bool {
    let line = rope.byte_to_line(cursor);
    let first = rope.line_to_byte(line.saturating_sub(MULTILINE_PARSE_LINES));
    let last = (line + 1 + MULTILINE_PARSE_LINES / 4).min(rope.len_lines());
    let end = rope.line_to_byte(last);
    // Copy a little more than is parsed (a character may straddle the cut); no more.
    let first = first.max(cursor.saturating_sub(MULTILINE_PARSE_BYTES + 4));
    let end = end.min(cursor + MULTILINE_PARSE_BYTES / 4 + 4);
    let first = clamp_cursor(rope, first);
    let end = clamp_cursor(rope, end);
    let prefix = rope.byte_slice(first..cursor).to_string();
    let suffix = rope.byte_slice(cursor..end).to_string();
    auto_multiline(language, &prefix, &suffix)
}

/// Whether a multi-line suggestion leaves more syntax errors around the cursor than before.
pub fn adds_syntax_errors(
    language: Option<Language>,
    prefix: &str,
    suggestion: &str,
    suffix: &str,
) -> bool {
    let Some(language) = language else {
        return false;
    };
    has_new_errors(
        language,
        &format!("{prefix}{suffix}"),
        &format!("{prefix}{suggestion}{suffix}"),
    )
}

/// The most lines after the first that a one-line suggestion takes to close the brackets it
/// opened (a call's arguments over a few lines); brackets still open after that leave the first
/// line alone.
pub const MAX_BRACKET_LINES: usize = 4;

/// The most lines a multi-line suggestion keeps: a block longer than this is cut (and the
/// stream stopped) at this many lines.
pub const MAX_SUGGESTION_LINES: usize = 16;

/// Whether `line` repeats the suggestion's lines before it (`first`, the first line with the
/// text of the cursor's line before it, then `earlier`), the way a small model loops: the same
/// line (indentation included) as the last non-blank one, or a line seen twice already (table
/// borders, alternating pairs).
fn repeats(first: &str, earlier: &[&str], line: &str) -> bool {
    let line = line.trim_end();
    if line.trim().is_empty() {
        return false;
    }
    let before: Vec<&str> = std::iter::once(first)
        .chain(earlier.iter().copied())
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    before.last() == Some(&line) || before.iter().filter(|l| **l == line).count() >= 2
}

/// The width of a line's indentation (a tab counts 4).
fn indent_width(line: &str) -> usize {
    line.chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

fn is_closer(trimmed: &str) -> bool {
    trimmed.starts_with(['}', ')', ']'])
        || trimmed == "end"
        || trimmed.starts_with("end ")
        || trimmed.starts_with("</")
}

/// The net depth of brackets opened in `text`, outside of quotes (roughly).
fn bracket_depth(text: &str) -> i32 {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q || c == '\n' {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// Removes markdown code fences (keeping the first fenced block), cursor markers and the context
/// a chat model repeated before its answer.
pub fn clean_chat_reply(context: &PostContext, reply: &str) -> String {
    let mut text = reply.replace('\r', "");
    if let Some(open) = text.find("```") {
        let after_open = &text[open + 3..];
        let body_start = after_open
            .find('\n')
            .map(|i| i + 1)
            .unwrap_or(after_open.len());
        let body = &after_open[body_start..];
        let body = match body.find("```") {
            Some(close) => &body[..close],
            None => body,
        };
        text = body.to_string();
        if text.ends_with('\n') {
            text.pop();
        }
    }
    text = text.replace(CURSOR_MARK, "");
    let prefix = context.prefix.replace('\r', "");
    let line_prefix_len = context.line_prefix().trim_end_matches('\r').len();
    let max = text.len().min(prefix.len());
    let mut k = max;
    while k > 0 {
        if text.is_char_boundary(k) {
            let repeated = &text[..k];
            let covers_line = if line_prefix_len == 0 {
                repeated.contains('\n')
            } else {
                k >= line_prefix_len
            };
            if covers_line && prefix.ends_with(repeated) {
                text.drain(..k);
                break;
            }
        }
        k -= 1;
    }
    // A reply that repeats the rest of the file after its answer: the suffix cut handles lines;
    // a repeated tail of the cursor's line is handled by `process`.
    text
}

/// The suggestion from the raw text so far, and whether it is known complete (more text cannot
/// change it). With `ended`, the text is all there is.
pub fn process(context: &PostContext, raw: &str, ended: bool) -> (String, bool) {
    let cleaned;
    let raw = if context.chat {
        if !ended {
            // Fences and repeated context are only known at the end.
            return (String::new(), false);
        }
        cleaned = clean_chat_reply(context, raw);
        cleaned.as_str()
    } else {
        raw
    };
    let text = raw.replace('\r', "");
    let lines: Vec<&str> = text.split('\n').collect();
    // Lines that are finished: all but a last partial one (unless the text has ended).
    let finished = if ended { lines.len() } else { lines.len() - 1 };
    let line_prefix = context.line_prefix().trim_end_matches('\r');
    let mut keep = lines.len();
    let mut complete = false;
    if !context.multiline {
        // One line, or as many as it takes to close the brackets it opened.
        let mut depth = bracket_depth(lines[0]);
        let mut end = 0;
        while depth > 0 && end + 1 < finished && end < MAX_BRACKET_LINES {
            end += 1;
            depth += bracket_depth(lines[end]);
        }
        if end < finished && depth <= 0 {
            keep = end + 1;
            complete = true;
        } else if finished > 0 && (ended || end >= MAX_BRACKET_LINES) {
            // The brackets do not close within the lines allowed: the line alone.
            keep = 1;
            complete = true;
        }
    } else {
        let base = indent_width(line_prefix);
        let opened = line_prefix.trim_end().ends_with(['{', '(', '[', ':'])
            || line_prefix.trim_end().ends_with("do")
            || line_prefix.trim_end().ends_with("then");
        let next_suffix = context.next_suffix_line();
        // The suggestion's first line as it will read: it continues the cursor's line.
        let first_line = format!("{line_prefix}{}", lines[0]);
        let mut i = 1;
        while i < finished {
            let line = lines[i];
            let trimmed = line.trim();
            if trimmed.is_empty() {
                // A blank line ends the suggestion when what follows is back at the cursor's level.
                if !opened
                    && let Some(next) = lines[i + 1..finished].iter().find(|l| !l.trim().is_empty())
                    && indent_width(next) <= base
                {
                    keep = i;
                    complete = true;
                    break;
                }
                i += 1;
                continue;
            }
            if i >= MAX_SUGGESTION_LINES || repeats(&first_line, &lines[1..i], line) {
                keep = i;
                complete = true;
                break;
            }
            if next_suffix.is_some_and(|s| s.trim_end() == line.trim_end()) {
                keep = i;
                complete = true;
                break;
            }
            let width = indent_width(line);
            if width < base {
                keep = i;
                complete = true;
                break;
            }
            if width == base {
                if opened && is_closer(trimmed) {
                    keep = i + 1;
                    complete = true;
                    break;
                }
                if opened || is_closer(trimmed) {
                    keep = i;
                    complete = true;
                    break;
                }
            }
            i += 1;
        }
    }
    let mut kept: Vec<String> = lines[..keep.min(lines.len())]
        .iter()
        .map(|l| l.to_string())
        .collect();
    if !ended && !complete {
        return (String::new(), false);
    }
    // The cursor's line: drop a repeated tail of the text after the cursor.
    let rest = context.line_rest().trim();
    let single = kept.len() == 1;
    if !rest.is_empty()
        && single
        && let Some(first) = kept.first_mut()
    {
        let trimmed = first.trim_end();
        if trimmed.ends_with(rest) {
            let cut = trimmed.len() - rest.len();
            first.truncate(cut);
        }
    }
    // At the indentation of an empty line, a first line that starts with stray spaces (a BPE
    // token like " a") would leave the line off the document's indentation grid.
    let prefix_width = indent_width(line_prefix);
    if !line_prefix.is_empty()
        && line_prefix.trim().is_empty()
        && let Some(first) = kept.first_mut()
    {
        let lead = indent_width(first);
        let unit = if context.tabs {
            4
        } else {
            context.indent_width.max(1)
        };
        if lead > 0 && !(prefix_width + lead).is_multiple_of(unit) {
            *first = first.trim_start_matches([' ', '\t']).to_string();
        }
    }
    // Trailing whitespace of every line, trailing blank lines.
    for line in kept.iter_mut() {
        let len = line.trim_end().len();
        line.truncate(len);
    }
    while kept.len() > 1 && kept.last().is_some_and(|l| l.is_empty()) {
        kept.pop();
    }
    // The document's indentation style for the following lines.
    for line in kept.iter_mut().skip(1) {
        *line = reindent(line, context);
    }
    let joined = kept.join(if context.crlf { "\r\n" } else { "\n" });
    if joined.trim().is_empty() {
        return (String::new(), true);
    }
    (joined, true)
}

/// `line` with its leading indentation in the document's style.
fn reindent(line: &str, context: &PostContext) -> String {
    let body = line.trim_start_matches([' ', '\t']);
    let indent = &line[..line.len() - body.len()];
    if context.tabs && indent.contains(' ') {
        let width = indent_width(indent);
        let unit = context.indent_width.max(1);
        format!(
            "{}{}{}",
            "\t".repeat(width / unit),
            " ".repeat(width % unit),
            body
        )
    } else if !context.tabs && indent.contains('\t') {
        let spaces: usize = indent
            .chars()
            .map(|c| if c == '\t' { context.indent_width } else { 1 })
            .sum();
        format!("{}{}", " ".repeat(spaces), body)
    } else {
        line.to_string()
    }
}

/// How many bytes after the cursor a one-line suggestion should replace: the rest of the line
/// (closing brackets, say) when the suggestion already contains those characters in order, as in
/// `foo(|)` completed with `a, b);`. Zero when the suggestion is inserted before the rest.
pub fn replaced_rest(context: &PostContext, suggestion: &str) -> usize {
    let rest = context.line_rest().trim_end();
    if rest.trim().is_empty() || suggestion.contains('\n') {
        return 0;
    }
    let mut chars = suggestion.chars();
    let covered = rest
        .chars()
        .filter(|c| !c.is_whitespace())
        .all(|c| chars.any(|s| s == c));
    if covered { rest.len() } else { 0 }
}

/// Incremental post-processing of a streamed suggestion.
#[derive(Debug, Clone)]
pub struct PostProcessor {
    context: PostContext,
    raw: String,
    complete: bool,
}

impl PostProcessor {
    /// A processor for a suggestion at the cursor described by `context`.
    pub fn new(context: PostContext) -> PostProcessor {
        PostProcessor {
            context,
            raw: String::new(),
            complete: false,
        }
    }

    /// Adds streamed text; returns whether the suggestion is now known complete (the stream can
    /// stop).
    pub fn push(&mut self, delta: &str) -> bool {
        if self.complete {
            return true;
        }
        self.raw.push_str(delta);
        // Only a new line can complete a suggestion.
        if delta.contains('\n') {
            self.complete = process(&self.context, &self.raw, false).1;
        }
        self.complete
    }

    /// Drops the raw text after its last line break: what is left are finished lines (for a
    /// generation stopped for time, as llama.cpp's `t_max_predict_ms` stops one).
    pub fn keep_finished_lines(&mut self) {
        let end = self.raw.rfind('\n').map_or(0, |at| at + 1);
        self.raw.truncate(end);
    }

    /// The raw text received so far.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The final suggestion (empty when nothing useful was generated).
    pub fn finish(&self) -> String {
        process(&self.context, &self.raw, true).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_tree_gives_the_decision_the_lines_around_the_cursor_give() {
        let text = "fn f() {\n    let s = \"in a\nstring\";\n    // a comment\n    /* closed */\n    let x = g(1);\n    \n}\n";
        let rope = Rope::from_str(text);
        let tree = parse(Language::Rust, text).unwrap();
        let at = |needle: &str| text.find(needle).unwrap() + needle.len();
        let cases = [
            (at("in a"), false),         // inside a string
            (at("// a comment"), false), // at the end of a line comment
            (at("/* closed */"), false), // after a closed block comment: text on the line
            (at("fn f() {"), true),      // after a block opener
            (at("let x = g("), false),   // text after the cursor on its line
            (at("g(1);\n    "), true),   // an empty line in a body
        ];
        for (cursor, expected) in cases {
            assert_eq!(
                auto_multiline_in_tree(&rope, &tree, cursor),
                expected,
                "tree at {cursor}"
            );
            assert_eq!(
                auto_multiline_at(Some(Language::Rust), &rope, cursor),
                expected,
                "lines at {cursor}"
            );
        }
    }

    #[test]
    fn very_long_lines_before_the_cursor_are_cut_to_the_parse_budget() {
        let data: String = (0..20_000).map(|i| format!("{i}, ")).collect();
        let text = format!("static DATA: &[u32] = &[{data}];\nfn f() {{\n    let s = \"abc");
        let rope = Rope::from_str(&format!("{text}\nmore\";\n}}\n"));
        // Inside a string: no multi-line suggestion, although the line above is 100 KB long.
        assert!(!auto_multiline_at(Some(Language::Rust), &rope, text.len()));
        let text = format!("static DATA: &[u32] = &[{data}];\nfn g() {{\n    ");
        let rope = Rope::from_str(&format!("{text}\n}}\n"));
        assert!(auto_multiline_at(Some(Language::Rust), &rope, text.len()));
        // Cuts keep to character boundaries.
        assert_eq!(tail("aé", 1), "");
        assert_eq!(head("éa", 1), "");
        assert_eq!(tail("aé", 2), "é");
        // 2,048 bytes back from the end of a line of 3-byte characters is inside one (the line
        // ends with a block opener, so the decision is the parse's).
        let rope = Rope::from_str(&format!("{}{{\n", "€".repeat(3000)));
        assert!(auto_multiline_at(Some(Language::Rust), &rope, 9001));
        let tree = parse(Language::Rust, &rope.to_string()).unwrap();
        assert!(auto_multiline_in_tree(&rope, &tree, 9001));
    }

    #[test]
    fn line_windows_keep_whole_lines() {
        assert_eq!(last_lines("a\nb\nc", 1), "b\nc");
        assert_eq!(last_lines("a\nb\n", 1), "b\n");
        assert_eq!(last_lines("a\nb", 5), "a\nb");
        assert_eq!(last_lines("a\nb", 0), "b");
        assert_eq!(first_lines("a\nb\nc\n", 1), "a\nb\n");
        assert_eq!(first_lines("a\nb", 5), "a\nb");
        assert_eq!(first_lines("\nb\n", 0), "\n");
    }

    #[test]
    fn a_string_opened_within_the_parsed_lines_still_counts() {
        let mut prefix = String::from("fn f() {\n");
        for i in 0..100 {
            prefix.push_str(&format!("    let v{i} = {i};\n"));
        }
        prefix.push_str("    let s = \"line one\n");
        for _ in 0..10 {
            prefix.push_str("more text\n");
        }
        assert!(!auto_multiline(Some(Language::Rust), &prefix, "\";\n}\n"));
        assert!(auto_multiline(Some(Language::Rust), "fn f() {\n", "\n}\n"));
    }

    #[test]
    fn bracket_depth_ignores_strings() {
        assert_eq!(bracket_depth("foo(\"(\", [1"), 2);
        assert_eq!(bracket_depth("a)"), -1);
    }

    #[test]
    fn indentation_style_is_detected() {
        assert_eq!(indentation_style("fn a() {\n\tx\n", ""), (true, 4));
        assert_eq!(indentation_style("def a():\n  x\n", ""), (false, 2));
    }
}
