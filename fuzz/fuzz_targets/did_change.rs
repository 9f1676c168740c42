//! `didChange` sequences against a plain `String` model, in each position encoding.
//!
//! Every batch of changes goes through the server's store (`text_sync::apply_did_change`, all
//! changes or none) and each change on its own through `from_proto::content_change` and
//! `Document::apply`. The model computes positions the slow, obvious way, sharing no code with
//! the rope-based conversion, and follows the protocol's rules: lines end at `\n`, `\r\n` or a
//! lone `\r`; a column past the end of a line means its end; a column inside a character means
//! that character's start; an end past the last line means the end of the text; a start past the
//! last line, or a start after the end, refuses the whole batch. After every batch the document
//! equals the model, an applied one gives the text a new generation, and a refused batch leaves
//! the text, the version and the generation as they were.
//!
//! Some sequences keep a Python syntax tree for the document, so the store's tree bookkeeping
//! follows the edits too, and the tree is brought up to date at the end.

#![no_main]

use arbitrary::Arbitrary;
use augur::documents::{Document, PositionEncoding};
use augur::lsp::capabilities::ClientCaps;
use augur::lsp::from_proto;
use augur::lsp::handlers::text_sync;
use augur::lsp::state::{ServerOptions, ServerState, Session};
use augur::syntax::Language;
use libfuzzer_sys::fuzz_target;
use tower_lsp_server::ls_types::{
    DidChangeTextDocumentParams, DidOpenTextDocumentParams, Position, Range,
    TextDocumentContentChangeEvent, TextDocumentItem, Uri, VersionedTextDocumentIdentifier,
};

const URI: &str = "file:///fuzz/doc.py";

/// Pieces that stress the conversions: astral characters, CJK, combining marks, every line
/// break, and a little Python so that the kept tree has something to follow.
const PIECES: &[&str] = &[
    "a",
    "bc",
    " ",
    "😀",
    "🦀x",
    "中文",
    "é",
    "e\u{301}",
    "\n",
    "\r\n",
    "\r",
    "\r\r\n",
    "日本\r\n",
    "👍🏽",
    "\t",
    "z\u{200d}",
    "def f(x):\n",
    "    return x\n",
    "(",
    ")",
    "'",
    "\u{2028}",
    "\u{85}",
];

#[derive(Debug, Arbitrary)]
enum Piece {
    Known(u8),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
struct Text(Vec<Piece>);

impl Text {
    fn build(&self) -> String {
        self.0
            .iter()
            .map(|piece| match piece {
                Piece::Known(i) => PIECES[*i as usize % PIECES.len()],
                Piece::Raw(text) => text.as_str(),
            })
            .collect()
    }
}

/// A protocol position: the line is taken modulo the model's line count plus two (so it is
/// sometimes past the end), the column as is, or as `u32::MAX` for 255.
#[derive(Debug, Arbitrary, Clone, Copy)]
struct RawPosition {
    line: u8,
    col: u8,
}

#[derive(Debug, Arbitrary)]
enum Change {
    Full(Text),
    Range {
        start: RawPosition,
        end: RawPosition,
        text: Text,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    encoding: u8,
    keep_tree: bool,
    initial: Text,
    batches: Vec<Vec<Change>>,
}

fuzz_target!(|input: Input| {
    let encoding = [
        PositionEncoding::Utf8,
        PositionEncoding::Utf16,
        PositionEncoding::Utf32,
    ][input.encoding as usize % 3];
    let initial = input.initial.build();
    let state = ServerState::new(ServerOptions::default());
    state.set_session(Session {
        encoding,
        caps: ClientCaps::default(),
    });
    let uri: Uri = URI.parse().expect("a valid URI");
    text_sync::did_open(
        &state,
        DidOpenTextDocumentParams {
            text_document: TextDocumentItem {
                uri: uri.clone(),
                language_id: "python".into(),
                version: 0,
                text: initial.clone(),
            },
        },
    );
    let mut generation = state
        .snapshot()
        .document(URI)
        .expect("the document is open")
        .generation;
    if input.keep_tree {
        state
            .host
            .syntax_tree(URI, generation, Language::Python, &initial);
    }

    let mut model = initial;
    let mut version = 0;
    for (n, batch) in input.batches.iter().take(16).enumerate() {
        let mut expected = model.clone();
        let mut changes = Vec::new();
        let mut refused = false;
        for change in batch.iter().take(8) {
            let event = protocol_change(change, &expected);
            let mut doc = Document::new(&expected, 0, "python");
            let applied = from_proto::content_change(&doc.text, &event, encoding)
                .map_err(|e| e.to_string())
                .and_then(|edit| doc.apply(&edit).map_err(|e| e.to_string()));
            match model_apply(&expected, &event, encoding) {
                Some(after) => {
                    assert_eq!(applied, Ok(()), "a valid change was refused: {event:?}");
                    assert_eq!(doc.text.to_string(), after, "{event:?} in {encoding:?}");
                    expected = after;
                }
                None => {
                    assert!(applied.is_err(), "an invalid change was applied: {event:?}");
                    assert_eq!(
                        doc.text.to_string(),
                        expected,
                        "a refused change changed the text"
                    );
                    refused = true;
                }
            }
            changes.push(event);
        }
        let next_version = n as i32 + 1;
        let params = DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier {
                uri: uri.clone(),
                version: next_version,
            },
            content_changes: changes,
        };
        let result = text_sync::apply_did_change(&state, &params);
        let stored = state
            .snapshot()
            .document(URI)
            .expect("the document is open");
        if refused {
            assert!(
                result.is_err(),
                "a batch with an invalid change was applied"
            );
            assert_eq!(
                stored.generation, generation,
                "a refused batch changed the generation"
            );
        } else {
            assert!(result.is_ok(), "a valid batch was refused: {result:?}");
            if !batch.is_empty() {
                assert_ne!(
                    stored.generation, generation,
                    "an edited text kept its generation"
                );
            }
            model = expected;
            version = next_version;
            generation = stored.generation;
        }
        assert_eq!(
            stored.text.to_string(),
            model,
            "the store differs from the model"
        );
        assert_eq!(stored.version, version, "the store's version is wrong");
    }
    if input.keep_tree {
        state
            .host
            .syntax_tree(URI, generation, Language::Python, &model);
    }
});

/// The protocol change for `change`, with its line taken modulo the lines of `text` plus two.
fn protocol_change(change: &Change, text: &str) -> TextDocumentContentChangeEvent {
    let lines = line_starts(text).len() as u32 + 2;
    let position = |raw: RawPosition| Position {
        line: u32::from(raw.line) % lines,
        character: if raw.col == u8::MAX {
            u32::MAX
        } else {
            u32::from(raw.col)
        },
    };
    match change {
        Change::Full(new) => TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: new.build(),
        },
        Change::Range { start, end, text } => TextDocumentContentChangeEvent {
            range: Some(Range {
                start: position(*start),
                end: position(*end),
            }),
            range_length: None,
            text: text.build(),
        },
    }
}

/// The byte offsets at which the lines of `text` start: after each `\n`, and after each `\r`
/// that no `\n` follows.
fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            starts.push(i + 1);
        }
    }
    starts
}

/// The byte offset of `position` in `text`, or `None` for a line past the last one.
fn model_offset(text: &str, position: Position, encoding: PositionEncoding) -> Option<usize> {
    let starts = line_starts(text);
    let start = *starts.get(position.line as usize)?;
    let rest = &text[start..];
    let content = rest.find(['\r', '\n']).unwrap_or(rest.len());
    let mut columns = 0u64;
    for (at, c) in rest[..content].char_indices() {
        columns += match encoding {
            PositionEncoding::Utf8 => c.len_utf8() as u64,
            PositionEncoding::Utf16 => c.len_utf16() as u64,
            PositionEncoding::Utf32 => 1,
        };
        if columns > u64::from(position.character) {
            return Some(start + at);
        }
    }
    Some(start + content)
}

/// `text` with `change` applied, or `None` if the change must be refused.
fn model_apply(
    text: &str,
    change: &TextDocumentContentChangeEvent,
    encoding: PositionEncoding,
) -> Option<String> {
    let Some(range) = change.range else {
        return Some(change.text.clone());
    };
    let start = model_offset(text, range.start, encoding)?;
    let end = model_offset(text, range.end, encoding).unwrap_or(text.len());
    if start > end {
        return None;
    }
    let mut out = text.to_owned();
    out.replace_range(start..end, &change.text);
    Some(out)
}
