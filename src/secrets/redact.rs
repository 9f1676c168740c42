//! Placeholders for secrets, and the values put back into a model's answer.
//!
//! A [`Redactor`] replaces each secret of the texts it is given by `<redacted:KIND>` (the same
//! value always by the same placeholder; another value of the same kind by `<redacted:KIND-2>`,
//! …; never by a placeholder that one of the texts already holds) and keeps the values in
//! [`Redactions`]. A model that repeats a placeholder gets the value back through
//! [`Redactions::restore`], or through a [`StreamRestore`] for an answer that arrives in pieces
//! that may split a placeholder.

use std::borrow::Cow;
use std::sync::Arc;

use memchr::memmem;

use super::{Kind, find};

/// What every placeholder starts with.
const OPENING: &str = "<redacted:";
/// The longest placeholder a reply is searched for.
const LONGEST: usize = 64;

/// One secret and its placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    placeholder: String,
    value: String,
    kind: Kind,
}

/// Replaces the secrets of the texts of one request by placeholders.
#[derive(Debug)]
pub struct Redactor<'a> {
    /// Every text of the request, so no placeholder chosen is one of them already holds.
    inputs: &'a [&'a str],
    entries: Vec<Entry>,
}

impl<'a> Redactor<'a> {
    /// A redactor for the texts `inputs` (all the texts about to be redacted).
    pub fn new(inputs: &'a [&'a str]) -> Redactor<'a> {
        Redactor {
            inputs,
            entries: Vec::new(),
        }
    }

    /// `text` with its secrets replaced, or `None` if it holds none.
    pub fn redact(&mut self, text: &str) -> Option<String> {
        let found = find(text);
        if found.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in found {
            out.push_str(&text[at..f.range.start]);
            out.push_str(self.placeholder(f.kind, &text[f.range.clone()]));
            at = f.range.end;
        }
        out.push_str(&text[at..]);
        Some(out)
    }

    /// Two texts that are adjacent in their document (the text before a cursor and the text
    /// after it) with their secrets replaced, looked for across the join so that a secret the
    /// cursor cuts in two is found; `None` if they hold none. The placeholder of a secret across
    /// the join ends `before`, and the rest of the value leaves `after`.
    pub fn redact_pair(&mut self, before: &str, after: &str) -> Option<(String, String)> {
        let joined = [before, after].concat();
        let found = find(&joined);
        if found.is_empty() {
            return None;
        }
        let join = before.len();
        let mut out = (
            String::with_capacity(before.len()),
            String::with_capacity(after.len()),
        );
        let mut at = 0;
        for f in found {
            let placeholder = self.placeholder(f.kind, &joined[f.range.clone()]);
            if f.range.start < join {
                out.0.push_str(&joined[at..f.range.start]);
                out.0.push_str(placeholder);
                if f.range.end > join {
                    at = join;
                }
            } else {
                if at < join {
                    out.0.push_str(&joined[at..join]);
                    at = join;
                }
                out.1.push_str(&joined[at..f.range.start]);
                out.1.push_str(placeholder);
            }
            at = at.max(f.range.end);
        }
        if at < join {
            out.0.push_str(&joined[at..join]);
            at = join;
        }
        out.1.push_str(&joined[at..]);
        Some(out)
    }

    /// The placeholder of `value`: the one it already has, else a new one of its kind.
    fn placeholder(&mut self, kind: Kind, value: &str) -> &str {
        if let Some(i) = self.entries.iter().position(|e| e.value == value) {
            return &self.entries[i].placeholder;
        }
        let mut n = 1 + self.entries.iter().filter(|e| e.kind == kind).count();
        let placeholder = loop {
            let candidate = if n == 1 {
                format!("{OPENING}{}>", kind.slug())
            } else {
                format!("{OPENING}{}-{n}>", kind.slug())
            };
            let taken = self.entries.iter().any(|e| e.placeholder == candidate)
                || self.inputs.iter().any(|t| t.contains(&candidate));
            if !taken {
                break candidate;
            }
            n += 1;
        };
        self.entries.push(Entry {
            placeholder,
            value: value.to_owned(),
            kind,
        });
        &self.entries[self.entries.len() - 1].placeholder
    }

    /// The placeholders given and their values.
    pub fn finish(self) -> Redactions {
        Redactions {
            entries: self.entries,
        }
    }
}

/// The placeholders of one request and the values they stand for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactions {
    entries: Vec<Entry>,
}

impl Redactions {
    /// Whether nothing was replaced.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many distinct values were replaced.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The kinds of the values replaced, for a log line (never the values).
    pub fn kinds(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.kind.slug()).collect()
    }

    /// `text` with each placeholder of these redactions replaced by its value; other text,
    /// unknown placeholders included, is left as it is.
    pub fn restore<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.entries.is_empty() || memmem::find(text.as_bytes(), OPENING.as_bytes()).is_none() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = memmem::find(rest.as_bytes(), OPENING.as_bytes()) {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            let known = tail
                .as_bytes()
                .iter()
                .take(LONGEST)
                .position(|b| *b == b'>')
                .and_then(|close| {
                    let placeholder = &tail[..=close];
                    self.entries
                        .iter()
                        .find(|e| e.placeholder == placeholder)
                        .map(|e| (e, close + 1))
                });
            match known {
                Some((entry, len)) => {
                    out.push_str(&entry.value);
                    rest = &tail[len..];
                }
                None => {
                    out.push_str(OPENING);
                    rest = &tail[OPENING.len()..];
                }
            }
        }
        out.push_str(rest);
        Cow::Owned(out)
    }
}

/// Puts values back into an answer that arrives in pieces: the end of a piece that may be the
/// start of a placeholder waits for the next piece.
#[derive(Debug)]
pub struct StreamRestore {
    redactions: Arc<Redactions>,
    held: String,
}

impl StreamRestore {
    /// Restores with `redactions`.
    pub fn new(redactions: Arc<Redactions>) -> StreamRestore {
        StreamRestore {
            redactions,
            held: String::new(),
        }
    }

    /// The text ready to pass on after `piece` (possibly empty while a placeholder may be
    /// arriving).
    pub fn push(&mut self, piece: &str) -> String {
        self.held.push_str(piece);
        let keep = partial_placeholder(&self.held).unwrap_or(self.held.len());
        let rest = self.held.split_off(keep);
        let ready = std::mem::replace(&mut self.held, rest);
        self.redactions.restore(&ready).into_owned()
    }

    /// What is still held, restored: the end of the answer.
    pub fn finish(&mut self) -> String {
        let held = std::mem::take(&mut self.held);
        self.redactions.restore(&held).into_owned()
    }

    /// A whole text, restored.
    pub fn restore<'t>(&self, text: &'t str) -> Cow<'t, str> {
        self.redactions.restore(text)
    }
}

/// Where the unfinished placeholder that ends `text` starts, if it ends with one.
fn partial_placeholder(text: &str) -> Option<usize> {
    let at = text.rfind('<')?;
    let tail = &text[at..];
    if tail.len() >= LONGEST {
        return None;
    }
    let fits = if tail.len() <= OPENING.len() {
        OPENING.starts_with(tail)
    } else {
        tail.starts_with(OPENING)
            && tail[OPENING.len()..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    fits.then_some(at)
}
