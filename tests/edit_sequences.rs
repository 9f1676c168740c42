//! Random edit sequences, applied incrementally through the protocol conversion in each position
//! encoding, must give exactly the text an independent reference model gives.
//!
//! The reference keeps the text as a vector of characters and computes line/column positions by
//! scanning, the slow and obvious way, so it shares no code with the rope-based conversion.
//!
//! Every sequence goes change by change through `from_proto::content_change` and
//! `Document::apply` (10,000 cases). A second property (2,000 cases) also sends each change as a
//! `didChange` notification through the server's store (`text_sync::apply_did_change`, which
//! edits a copy and swaps it in), and then the whole sequence as one `didChange` carrying every
//! change, whose later ranges refer to the text the earlier ones left.

use augur::documents::{Document, PositionEncoding};
use augur::lsp::capabilities::ClientCaps;
use augur::lsp::from_proto;
use augur::lsp::handlers::text_sync;
use augur::lsp::state::{ServerOptions, ServerState, Session};
use proptest::prelude::*;
use tower_lsp_server::ls_types::{
    DidChangeTextDocumentParams, DidOpenTextDocumentParams, Position, Range,
    TextDocumentContentChangeEvent, TextDocumentItem, Uri, VersionedTextDocumentIdentifier,
};

const URI: &str = "file:///edit/sequence.txt";

/// A server state in `encoding` with `text` open at version 0, through the `didOpen` handler.
fn open_in_store(text: &str, encoding: PositionEncoding) -> ServerState {
    let state = ServerState::new(ServerOptions::default());
    state.set_session(Session {
        encoding,
        caps: ClientCaps::default(),
    });
    text_sync::did_open(
        &state,
        DidOpenTextDocumentParams {
            text_document: TextDocumentItem {
                uri: URI.parse().expect("a valid URI"),
                language_id: "plaintext".into(),
                version: 0,
                text: text.to_owned(),
            },
        },
    );
    state
}

fn did_change(
    version: i32,
    changes: Vec<TextDocumentContentChangeEvent>,
) -> DidChangeTextDocumentParams {
    DidChangeTextDocumentParams {
        text_document: VersionedTextDocumentIdentifier {
            uri: URI.parse::<Uri>().expect("a valid URI"),
            version,
        },
        content_changes: changes,
    }
}

/// Pieces of text that stress the conversion: astral characters, CJK, combining marks, and every
/// kind of line break.
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
];

#[derive(Debug, Clone)]
enum Op {
    /// Replace the characters in `[start, start + len)` (fractions of the text length) with text.
    Replace {
        start: f64,
        len: f64,
        text: String,
        overshoot: u32,
    },
    /// Replace the whole text.
    Full { text: String },
}

fn text_strategy(max_pieces: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..max_pieces).prop_map(|v| v.concat())
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (0.0..=1.0f64, 0.0..0.5f64, text_strategy(4), prop_oneof![4 => Just(0u32), 1 => 1..5u32])
            .prop_map(|(start, len, text, overshoot)| Op::Replace { start, len, text, overshoot }),
        1 => text_strategy(6).prop_map(|text| Op::Full { text }),
    ]
}

fn width(c: char, encoding: PositionEncoding) -> u32 {
    match encoding {
        PositionEncoding::Utf8 => c.len_utf8() as u32,
        PositionEncoding::Utf16 => c.len_utf16() as u32,
        PositionEncoding::Utf32 => 1,
    }
}

/// The reference position of character index `at`: lines break after "\n", after "\r" not
/// followed by "\n", and nowhere else.
fn reference_position(chars: &[char], at: usize, encoding: PositionEncoding) -> Position {
    let (mut line, mut col) = (0u32, 0u32);
    for (i, &c) in chars[..at].iter().enumerate() {
        let breaks = c == '\n' || (c == '\r' && chars.get(i + 1) != Some(&'\n'));
        if breaks {
            line += 1;
            col = 0;
        } else if c != '\r' {
            col += width(c, encoding);
        }
    }
    Position {
        line,
        character: col,
    }
}

/// Moves an index that sits between "\r" and "\n" back before the "\r": no protocol position
/// names that spot.
fn addressable(chars: &[char], at: usize) -> usize {
    if at > 0 && at < chars.len() && chars[at - 1] == '\r' && chars[at] == '\n' {
        at - 1
    } else {
        at
    }
}

/// Whether `at` is the end of its line (only line breaks or the end of the text follow).
fn at_line_end(chars: &[char], at: usize) -> bool {
    matches!(chars.get(at), None | Some('\n') | Some('\r'))
}

/// Which paths a sequence of edits goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paths {
    /// `from_proto::content_change` and `Document::apply` only.
    Document,
    /// Those, and the server's store, change by change and all in one notification.
    DocumentAndStore,
}

fn run(
    initial: &str,
    ops: &[Op],
    encoding: PositionEncoding,
    paths: Paths,
) -> Result<(), TestCaseError> {
    let mut model: Vec<char> = initial.chars().collect();
    let mut doc = Document::new(initial, 0, "plaintext");
    let store = (paths == Paths::DocumentAndStore).then(|| open_in_store(initial, encoding));
    let mut all_changes = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        let change = match op {
            Op::Full { text } => {
                model = text.chars().collect();
                TextDocumentContentChangeEvent {
                    range: None,
                    range_length: None,
                    text: text.clone(),
                }
            }
            Op::Replace {
                start,
                len,
                text,
                overshoot,
            } => {
                let n = model.len();
                let s = addressable(&model, ((n as f64) * start) as usize);
                let e = addressable(&model, (s + ((n as f64) * len) as usize).min(n)).max(s);
                let mut end_pos = reference_position(&model, e, encoding);
                // A column past the end of a line is clamped to the line's end.
                if at_line_end(&model, e) {
                    end_pos.character += overshoot;
                }
                let range = Range {
                    start: reference_position(&model, s, encoding),
                    end: end_pos,
                };
                model.splice(s..e, text.chars());
                TextDocumentContentChangeEvent {
                    range: Some(range),
                    range_length: None,
                    text: text.clone(),
                }
            }
        };
        let edit = from_proto::content_change(&doc.text, &change, encoding)
            .map_err(|e| TestCaseError::fail(format!("step {step}: {e}")))?;
        doc.apply(&edit)
            .map_err(|e| TestCaseError::fail(format!("step {step}: {e}")))?;
        let expected: String = model.iter().collect();
        prop_assert_eq!(
            doc.text.to_string(),
            expected.clone(),
            "step {} in {:?}",
            step,
            encoding
        );
        let Some(store) = &store else {
            continue;
        };
        let version = step as i32 + 1;
        text_sync::apply_did_change(store, &did_change(version, vec![change.clone()]))
            .map_err(|e| TestCaseError::fail(format!("step {step} through the store: {e}")))?;
        let stored = store
            .snapshot()
            .document(URI)
            .expect("the document is open");
        prop_assert_eq!(
            (stored.text.to_string(), stored.version),
            (expected, version),
            "step {} through the store in {:?}",
            step,
            encoding
        );
        all_changes.push(change);
    }
    if store.is_none() {
        return Ok(());
    }
    // Every change in one notification: each range refers to the text the previous ones left.
    let batched = open_in_store(initial, encoding);
    text_sync::apply_did_change(&batched, &did_change(7, all_changes))
        .map_err(|e| TestCaseError::fail(format!("one didChange with every change: {e}")))?;
    let stored = batched
        .snapshot()
        .document(URI)
        .expect("the document is open");
    let expected: String = model.iter().collect();
    prop_assert_eq!(
        (stored.text.to_string(), stored.version),
        (expected, 7),
        "one didChange in {:?}",
        encoding
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn incremental_edits_match_the_reference_in_every_encoding(
        initial in text_strategy(12),
        ops in prop::collection::vec(op_strategy(), 1..12),
    ) {
        for encoding in [PositionEncoding::Utf8, PositionEncoding::Utf16, PositionEncoding::Utf32] {
            run(&initial, &ops, encoding, Paths::Document)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn did_change_through_the_store_matches_the_reference_in_every_encoding(
        initial in text_strategy(12),
        ops in prop::collection::vec(op_strategy(), 1..12),
    ) {
        for encoding in [PositionEncoding::Utf8, PositionEncoding::Utf16, PositionEncoding::Utf32] {
            run(&initial, &ops, encoding, Paths::DocumentAndStore)?;
        }
    }
}
