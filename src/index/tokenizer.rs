//! The code tokenizer: identifiers split at `snake_case`, `camelCase` and acronym boundaries.
//!
//! `parseHttpRequest`, `parse_http_request` and `ParseHTTPRequest` all yield the words `parse`,
//! `http`, `request` (and the whole identifier, lower-cased, as one more token), so the query
//! `parse http request` finds each of them.
//!
//! ```
//! use augur::index::tokenizer::words;
//!
//! assert_eq!(words("ParseHTTPRequest"), ["parse", "http", "request", "parsehttprequest"]);
//! assert_eq!(words("parse_http_request"), ["parse", "http", "request", "parse_http_request"]);
//! assert_eq!(words("x86_64 + utf8"), ["x86", "64", "x86_64", "utf8"]);
//! ```

use rustc_hash::FxHashSet;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name under which the code tokenizer is registered with tantivy.
pub const CODE_TOKENIZER: &str = "augur_code";

/// Tokens longer than this many bytes (minified code, base64 blobs) are dropped.
const MAX_TOKEN_BYTES: usize = 64;

/// The code tokenizer for tantivy.
#[derive(Debug, Clone, Default)]
pub struct CodeTokenizer {
    tokens: Vec<Token>,
}

/// The token stream of [`CodeTokenizer`].
pub struct CodeTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream<'a> {
        self.tokens.clear();
        let mut position = 0;
        for_each_word(text, |range, word, parts| {
            let position_length = parts.max(1);
            self.tokens.push(Token {
                offset_from: range.start,
                offset_to: range.end,
                position: if parts > 0 {
                    position - parts
                } else {
                    position
                },
                text: word.to_string(),
                position_length,
            });
            if parts == 0 {
                position += 1;
            }
        });
        CodeTokenStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

impl TokenStream for CodeTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self
            .next
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1))]
    }

    fn token_mut(&mut self) -> &mut Token {
        let index = self
            .next
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[index]
    }
}

/// The lower-cased tokens of `text`, in order (sub-words first, then the whole identifier when it
/// has several sub-words).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_word(text, |_, word, _| out.push(word.to_string()));
    out
}

/// A lower-cased key of an identifier with only its letters and digits: `parse_http_request`,
/// `parseHttpRequest` and `ParseHTTPRequest` all have the key `parsehttprequest`.
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The distinct tokens of `text` (as [`words`] gives them) of at least `min_chars` characters,
/// at most `limit`, nearest the end of `text` first taken, and returned in text order. Lines are
/// tokenised from the last one back, and no further once `limit` tokens are found, so the cost
/// follows what is kept rather than the length of `text`.
pub fn nearest_words(text: &str, min_chars: usize, limit: usize) -> Vec<String> {
    let mut seen: FxHashSet<String> = FxHashSet::default();
    let mut nearest: Vec<String> = Vec::new();
    // One line's tokens, end to end, and where each ends.
    let mut line_words = String::new();
    let mut ends: Vec<usize> = Vec::new();
    // Identifiers never span a line break: lines can be tokenised one at a time.
    for line in text.rsplit('\n') {
        if nearest.len() >= limit {
            break;
        }
        line_words.clear();
        ends.clear();
        for_each_word(line, |_, word, _| {
            if word.chars().count() >= min_chars {
                line_words.push_str(word);
                ends.push(line_words.len());
            }
        });
        for i in (0..ends.len()).rev() {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            let word = &line_words[start..ends[i]];
            // Repeated words (most of them) are looked up without being copied.
            if !seen.contains(word) {
                seen.insert(word.to_owned());
                nearest.push(word.to_owned());
                if nearest.len() >= limit {
                    break;
                }
            }
        }
    }
    nearest.reverse();
    nearest
}

/// Calls `emit(byte_range, lower_cased_word, parts)` for every word of `text`: `parts` is 0 for a
/// sub-word and the number of sub-words for a whole identifier emitted after its sub-words.
fn for_each_word(text: &str, mut emit: impl FnMut(std::ops::Range<usize>, &str, usize)) {
    let mut buffer = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if !is_word_char(c) {
            chars.next();
            continue;
        }
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if !is_word_char(c) {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        let identifier = &text[start..end];
        let mut parts = 0;
        split_identifier(identifier, |range| {
            let part = &identifier[range.clone()];
            if part.len() <= MAX_TOKEN_BYTES {
                buffer.clear();
                buffer.extend(part.chars().flat_map(char::to_lowercase));
                emit(start + range.start..start + range.end, &buffer, 0);
                parts += 1;
            }
        });
        if parts > 1 && identifier.len() <= MAX_TOKEN_BYTES {
            buffer.clear();
            buffer.extend(identifier.chars().flat_map(char::to_lowercase));
            emit(start..end, &buffer, parts);
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Calls `emit` with the byte range of every sub-word of an identifier (no separators inside).
fn split_identifier(identifier: &str, mut emit: impl FnMut(std::ops::Range<usize>)) {
    let chars: Vec<(usize, char)> = identifier.char_indices().collect();
    let mut start: Option<usize> = None;
    for (n, &(i, c)) in chars.iter().enumerate() {
        if c == '_' {
            if let Some(s) = start.take() {
                emit(s..i);
            }
            continue;
        }
        if let Some(s) = start {
            let previous = chars[n - 1].1;
            let next = chars.get(n + 1).map(|&(_, c)| c);
            let boundary = c.is_uppercase()
                && (previous.is_lowercase()
                    || previous.is_ascii_digit()
                    || (previous.is_uppercase() && next.is_some_and(char::is_lowercase)));
            if boundary {
                emit(s..i);
                start = Some(i);
            }
        } else {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        emit(s..identifier.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::TextAnalyzer;

    #[test]
    fn nearest_words_keep_the_last_distinct_tokens_in_text_order() {
        let text = "let total_count = 1;\nfn sum(a: Vec) {\n    total_count + values";
        // Every distinct token of three characters or more, each where it last appears.
        let mut expected: Vec<String> = Vec::new();
        for word in words(text).into_iter().rev() {
            if word.chars().count() >= 3 && !expected.contains(&word) {
                expected.push(word);
            }
        }
        expected.reverse();
        assert_eq!(nearest_words(text, 3, 100), expected);
        assert_eq!(
            nearest_words(text, 3, 3),
            vec!["count", "total_count", "values"]
        );
        assert!(nearest_words("a b\n\n", 3, 10).is_empty());
        assert!(nearest_words(text, 3, 0).is_empty());
    }

    #[test]
    fn splits_identifiers() {
        assert_eq!(
            words("parseHttpRequest"),
            ["parse", "http", "request", "parsehttprequest"]
        );
        assert_eq!(words("__init__"), ["init"]);
        assert_eq!(words("getURL2Path"), ["get", "url2", "path", "geturl2path"]);
        assert_eq!(words("fn x(y: Été)"), ["fn", "x", "y", "été"]);
        assert_eq!(name_key("Parse_HTTP-Request"), "parsehttprequest");
    }

    #[test]
    fn token_stream_works_in_tantivy() {
        let mut analyzer = TextAnalyzer::from(CodeTokenizer::default());
        let mut stream = analyzer.token_stream("a fooBar");
        let mut seen = Vec::new();
        while let Some(token) = stream.next() {
            seen.push((token.text.clone(), token.position, token.position_length));
        }
        assert_eq!(
            seen,
            [
                ("a".into(), 0, 1),
                ("foo".into(), 1, 1),
                ("bar".into(), 2, 1),
                ("foobar".into(), 1, 2)
            ]
        );
    }
}
