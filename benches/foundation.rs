//! Foundation benchmarks (`cargo bench --bench foundation`):
//!
//! - one single-character incremental `didChange` (protocol conversion + rope edit) on a 10 MB
//!   document, in UTF-16 and in UTF-8; target under 20 µs;
//! - the time from spawning `augur` to the `initialize` result; target under 20 ms.

use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use augur::documents::PositionEncoding;
use augur::lsp::handlers::text_sync::apply_did_change;
use augur::lsp::state::{ServerOptions, ServerState, Session};
use augur::test_support::stdio::{frame, read_frame};
use tower_lsp_server::ls_types::{
    DidChangeTextDocumentParams, Position, Range, TextDocumentContentChangeEvent, Uri,
    VersionedTextDocumentIdentifier,
};

fn main() {
    divan::main();
}

const URI: &str = "file:///bench/big.rs";

/// About 10 MB of code-like text with some characters outside ASCII and outside the BMP, so that
/// UTF-16 columns differ from byte columns.
fn big_text() -> String {
    let mut text = String::with_capacity(10_500_000);
    let mut i = 0;
    while text.len() < 10_000_000 {
        text.push_str(&format!(
            "    let value_{i} = compute(\"é😀中\", {i}) + other_{i}; // note\n"
        ));
        i += 1;
    }
    text
}

fn state(encoding: PositionEncoding) -> (ServerState, u32) {
    let state = ServerState::new(ServerOptions::default());
    state.set_session(Session {
        encoding,
        ..Session::default()
    });
    let text = big_text();
    let lines = text.lines().count() as u32;
    state.host.open_document(URI, None, "rust", 0, &text);
    (state, lines)
}

fn bench_did_change(bencher: divan::Bencher, encoding: PositionEncoding) {
    let (state, lines) = state(encoding);
    let uri: Uri = URI.parse().expect("a valid URI");
    let version = AtomicU32::new(1);
    bencher.bench_local(|| {
        let v = version.fetch_add(1, Ordering::Relaxed);
        // Spread the edits over the document, after the non-ASCII characters on the line.
        let line = (v.wrapping_mul(7919)) % lines;
        let pos = Position {
            line,
            character: 40,
        };
        let params = DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier {
                uri: uri.clone(),
                version: v as i32,
            },
            content_changes: vec![TextDocumentContentChangeEvent {
                range: Some(Range {
                    start: pos,
                    end: pos,
                }),
                range_length: None,
                text: "x".into(),
            }],
        };
        apply_did_change(&state, &params).expect("the edit applies");
    });
}

#[divan::bench(sample_count = 2000)]
fn did_change_10mb_utf16(bencher: divan::Bencher) {
    bench_did_change(bencher, PositionEncoding::Utf16);
}

#[divan::bench(sample_count = 2000)]
fn did_change_10mb_utf8(bencher: divan::Bencher) {
    bench_did_change(bencher, PositionEncoding::Utf8);
}

#[divan::bench(sample_count = 30, sample_size = 1)]
fn spawn_to_initialize_result() {
    let mut child = Command::new(Path::new(env!("CARGO_BIN_EXE_augur")))
        .env("AUGUR_CONFIG", "/nonexistent/augur.toml")
        .env("AUGUR_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("augur starts");
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(&frame(body)).expect("write");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let response = read_frame(&mut stdout).expect("an initialize result");
    assert!(response.windows(12).any(|w| w == b"capabilities"));
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
}
