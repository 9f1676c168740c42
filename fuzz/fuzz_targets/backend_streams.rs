//! Model replies through the five backends' parsers: SSE events, NDJSON lines and whole bodies.
//!
//! The input's first line picks the reply: `<backend> <framing> <chunk size> [chat]`, e.g.
//! `openai sse 7` (a backend from `BACKENDS`, `sse`, `ndjson` or `body`; anything unreadable is
//! picked from the line's length; `chat` asks for the chat API). The rest is the reply's bytes. They are cut into chunks as a
//! network would deliver them and framed the way the LLM client frames them (SSE through
//! `eventsource-stream`, NDJSON by lines, a body as one JSON value); every event, line or body
//! then goes to the backend's parser.
//!
//! Nothing may panic, and:
//! - the SSE events are the same however the bytes are cut into chunks;
//! - a reply that cannot be parsed gets an error with a message;
//! - a whole body, once parsed, ends the answer (its last event is `Done`);
//! - a server's error text is cut to a short message.

#![no_main]

use std::convert::Infallible;

use augur::llm::backend::{
    Api, BACKENDS, Event, ParseError, WireRequest, backend_for, error_message,
};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let (header, reply) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let header = String::from_utf8_lossy(header);
    let words: Vec<&str> = header.split_whitespace().collect();
    let backend_name = words
        .first()
        .and_then(|w| BACKENDS.iter().find(|b| *b == w))
        .copied()
        .unwrap_or(BACKENDS[header.len() % BACKENDS.len()]);
    let framing = match words.get(1) {
        Some(&f @ ("sse" | "ndjson" | "body")) => f,
        _ => ["sse", "ndjson", "body"][header.len() % 3],
    };
    let chunk = words
        .get(2)
        .and_then(|w| w.parse::<usize>().ok())
        .unwrap_or(header.len())
        .clamp(1, 64);
    let backend = backend_for(backend_name).expect("a known backend");
    let request = WireRequest {
        model: "fuzz",
        prompt: "fn main() {",
        max_tokens: 16,
        stream: framing != "body",
        api: if words.get(3) == Some(&"chat") {
            Api::Chat
        } else {
            Api::Auto
        },
        ..WireRequest::default()
    };
    let check = |parsed: Result<Vec<Event>, ParseError>| match parsed {
        Ok(events) => events,
        Err(error) => {
            assert!(
                !error.message.is_empty(),
                "{backend_name}: an error without a message"
            );
            Vec::new()
        }
    };
    match framing {
        "sse" => {
            let whole = sse_events(vec![reply.to_vec()]);
            let cut = sse_events(reply.chunks(chunk).map(<[u8]>::to_vec).collect());
            assert_eq!(whole, cut, "SSE events depend on the chunk boundaries");
            for event in whole.into_iter().flatten() {
                check(backend.parse_stream(&request, &event.event, &event.data));
            }
        }
        "ndjson" => {
            for line in ndjson_lines(reply) {
                check(backend.parse_stream(&request, "", &line));
            }
        }
        _ => {
            if let Ok(value) = serde_json::from_slice::<Value>(reply) {
                let parsed = backend.parse_body(&request, &value);
                let ok = parsed.is_ok();
                let events = check(parsed);
                if ok {
                    assert_eq!(
                        events.last(),
                        Some(&Event::Done),
                        "{backend_name}: a body that does not end the answer"
                    );
                }
            }
            let message = error_message(&String::from_utf8_lossy(reply));
            assert!(
                message.chars().count() <= 301,
                "an error message of {} characters",
                message.chars().count()
            );
        }
    }
});

/// The SSE events of a reply delivered in `chunks`, as the client reads them (a framing error
/// as its text).
fn sse_events(chunks: Vec<Vec<u8>>) -> Vec<Result<eventsource_stream::Event, String>> {
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, Infallible>));
    block_on(
        stream
            .eventsource()
            .map(|item| item.map_err(|e| e.to_string()))
            .collect(),
    )
}

/// The lines of an NDJSON reply as the client splits them: trimmed, blank ones skipped, and a
/// last line without its newline kept if it is whole JSON.
fn ndjson_lines(reply: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = reply;
    while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(&rest[..newline]).trim().to_owned();
        if !line.is_empty() {
            lines.push(line);
        }
        rest = &rest[newline + 1..];
    }
    if !rest.iter().all(u8::is_ascii_whitespace)
        && serde_json::from_slice::<serde::de::IgnoredAny>(rest).is_ok()
    {
        lines.push(String::from_utf8_lossy(rest).into_owned());
    }
    lines
}
