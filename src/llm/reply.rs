//! Reading reply bodies within limits: a server that sends far more than a request's `max_tokens`
//! allows (a runaway stream, a huge JSON body, a line that never ends, keep-alives forever) costs a
//! bounded amount of memory and time, because reading stops at the limit and the response is
//! dropped, which closes the connection.
//!
//! [`ReplyLimits`] gives three limits per request, all in bytes:
//!
//! - **text**: the generated text, `max_tokens` × [`TEXT_BYTES_PER_TOKEN`], at least
//!   [`MIN_TEXT_BYTES`] and at most [`MAX_TEXT_BYTES`];
//! - **message**: one line of an NDJSON stream, one event of an SSE stream, or a whole
//!   non-streamed reply: eight times the text (room for JSON escapes), plus twice the request
//!   (servers such as llama.cpp and Ollama echo the prompt or its tokens), plus 64 KiB;
//! - **body**: everything a stream sends: the message limit plus 1 KiB per token of `max_tokens`
//!   for each event's framing (at most 64 MiB more).
//!
//! ```
//! use augur::llm::reply::ReplyLimits;
//! let limits = ReplyLimits::new(128, 1000);
//! assert_eq!(limits.text, 4096); // 128 × 16 is below the floor of 4 KiB
//! assert_eq!(limits.message, 8 * 4096 + 2 * 1000 + 64 * 1024);
//! assert_eq!(limits.body, limits.message + 128 * 1024);
//! ```
//!
//! [`Meter`] counts a body's bytes as they arrive (lines and SSE events included) and says which
//! limit a chunk passes; [`WireSource`] turns a streamed response into `(event, data)` items
//! through it, and [`read_whole`] and [`read_prefix`] read whole bodies.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};

use crate::llm::backend::Framing;
use crate::llm::error::ReplyPart;

/// Bytes of text allowed per token of `max_tokens`: code averages 3 to 4 bytes a token, and the
/// longest tokens of common vocabularies (runs of spaces) stay near 16.
pub const TEXT_BYTES_PER_TOKEN: u64 = 16;

/// The text limit of a request for few tokens.
pub const MIN_TEXT_BYTES: u64 = 4 << 10;

/// The text limit of any request, whatever its `max_tokens`.
pub const MAX_TEXT_BYTES: u64 = 4 << 20;

/// What one message may hold besides its text and the echo of the request.
const MESSAGE_SLACK: u64 = 64 << 10;

/// The framing allowed per token of a stream (an SSE event of a chat API is a few hundred bytes).
const STREAM_BYTES_PER_TOKEN: u64 = 1 << 10;

/// The most framing a stream may add, whatever its `max_tokens`.
const MAX_STREAM_FRAMING: u64 = 64 << 20;

/// How much of an error reply is read for its message.
pub const ERROR_BODY_BYTES: u64 = 64 << 10;

/// The largest model list read (for health checks and `augur doctor`).
pub const MODEL_LIST_BYTES: u64 = 4 << 20;

/// The limits of one request's reply, in bytes (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    /// The generated text.
    pub text: u64,
    /// One stream line or event, or a whole non-streamed reply.
    pub message: u64,
    /// Everything a streamed reply sends.
    pub body: u64,
}

impl ReplyLimits {
    /// The limits for a request of `max_tokens` whose body was `request_bytes` long.
    pub fn new(max_tokens: u32, request_bytes: usize) -> ReplyLimits {
        let tokens = u64::from(max_tokens);
        let text = (tokens * TEXT_BYTES_PER_TOKEN).clamp(MIN_TEXT_BYTES, MAX_TEXT_BYTES);
        let message = 8 * text + 2 * request_bytes as u64 + MESSAGE_SLACK;
        let body = message + (tokens * STREAM_BYTES_PER_TOKEN).min(MAX_STREAM_FRAMING);
        ReplyLimits {
            text,
            message,
            body,
        }
    }
}

/// How a body divides into messages, for the message limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The body is one message (a JSON reply).
    Whole,
    /// Each line is a message (NDJSON).
    Lines,
    /// Lines up to a blank line are a message (an SSE event).
    Events,
}

/// Counts the bytes of a body as they arrive: the whole body, the current line and the current
/// SSE event. Line ends are `\n`, `\r\n` or `\r`, as in SSE.
#[derive(Debug, Clone)]
pub struct Meter {
    split: Split,
    message_limit: u64,
    body_limit: u64,
    total: u64,
    line: u64,
    event: u64,
    after_cr: bool,
}

impl Meter {
    /// A meter for a body split as `split`, with these limits (a whole body has only the message
    /// limit).
    pub fn new(split: Split, message_limit: u64, body_limit: u64) -> Meter {
        Meter {
            split,
            message_limit,
            body_limit,
            total: 0,
            line: 0,
            event: 0,
            after_cr: false,
        }
    }

    /// Counts the next chunk; `Err` names the limit it passes and the limit's size.
    pub fn count(&mut self, chunk: &[u8]) -> Result<(), (ReplyPart, u64)> {
        self.total += chunk.len() as u64;
        if self.split == Split::Whole {
            return match self.total > self.message_limit {
                true => Err((ReplyPart::Message, self.message_limit)),
                false => Ok(()),
            };
        }
        if self.total > self.body_limit {
            return Err((ReplyPart::Body, self.body_limit));
        }
        let mut start = 0;
        for end in memchr::memchr2_iter(b'\n', b'\r', chunk) {
            self.content(end - start)?;
            self.line_end(chunk[end]);
            start = end + 1;
        }
        self.content(chunk.len() - start)
    }

    /// Counts `n` bytes of a line's content.
    fn content(&mut self, n: usize) -> Result<(), (ReplyPart, u64)> {
        if n == 0 {
            return Ok(());
        }
        self.after_cr = false;
        self.line += n as u64;
        self.event += n as u64;
        let current = match self.split {
            Split::Events => self.event,
            _ => self.line,
        };
        match current > self.message_limit {
            true => Err((ReplyPart::Message, self.message_limit)),
            false => Ok(()),
        }
    }

    /// Counts a line end (`byte` is `\n` or `\r`).
    fn line_end(&mut self, byte: u8) {
        if byte == b'\n' && self.after_cr {
            // The second half of `\r\n`.
            self.after_cr = false;
            return;
        }
        if self.line == 0 {
            // A blank line ends an SSE event.
            self.event = 0;
        }
        self.line = 0;
        self.after_cr = byte == b'\r';
    }
}

/// Why a body could not give its next item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The connection broke.
    Transport(String),
    /// The stream's framing is broken.
    Framing(String),
    /// The body passed a limit: the limit and its size.
    TooLarge(ReplyPart, u64),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Transport(message) | WireError::Framing(message) => f.write_str(message),
            WireError::TooLarge(part, limit) => write!(f, "the {part} passed {limit} bytes"),
        }
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The chunks of a response body, metered: past a limit it gives the error and then ends.
struct Bounded {
    bytes: ByteStream,
    meter: Meter,
    over: bool,
}

impl Bounded {
    fn new(response: reqwest::Response, meter: Meter) -> Bounded {
        Bounded {
            bytes: Box::pin(response.bytes_stream()),
            meter,
            over: false,
        }
    }
}

impl Stream for Bounded {
    type Item = Result<Bytes, WireError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.over {
            return Poll::Ready(None);
        }
        let item = match self.bytes.as_mut().poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(item) => item,
        };
        Poll::Ready(match item {
            None => None,
            Some(Err(error)) => {
                self.over = true;
                Some(Err(WireError::Transport(error.without_url().to_string())))
            }
            Some(Ok(chunk)) => match self.meter.count(&chunk) {
                Ok(()) => Some(Ok(chunk)),
                Err((part, limit)) => {
                    self.over = true;
                    Some(Err(WireError::TooLarge(part, limit)))
                }
            },
        })
    }
}

/// Reads a whole body of at most `limit` bytes (a body that says it is longer is refused before
/// reading).
pub async fn read_whole(response: reqwest::Response, limit: u64) -> Result<Vec<u8>, WireError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(WireError::TooLarge(ReplyPart::Message, limit));
    }
    let mut body = Vec::new();
    let mut chunks = Bounded::new(response, Meter::new(Split::Whole, limit, limit));
    while let Some(chunk) = chunks.next().await {
        body.extend_from_slice(&chunk?);
    }
    Ok(body)
}

/// Reads at most the first `limit` bytes of a body, and stops there; a broken connection ends it.
pub async fn read_prefix(response: reqwest::Response, limit: u64) -> Vec<u8> {
    let mut body = Vec::new();
    let mut chunks = Box::pin(response.bytes_stream());
    while let Some(Ok(chunk)) = chunks.next().await {
        let room = (limit as usize).saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() as u64 >= limit {
            break;
        }
    }
    body
}

/// The items of a streamed reply, `(event name, data)` pairs, read within the limits.
pub enum WireSource {
    /// Server-sent events.
    Sse(Pin<Box<dyn Stream<Item = Result<eventsource_stream::Event, WireError>> + Send>>),
    /// One JSON object per line.
    Ndjson {
        /// The metered body.
        bytes: Pin<Box<dyn Stream<Item = Result<Bytes, WireError>> + Send>>,
        /// The start of the line being received.
        buffer: Vec<u8>,
        /// Whether the body has ended.
        ended: bool,
    },
}

impl WireSource {
    /// The items of `response`, framed as `framing`, within `limits`.
    pub fn new(response: reqwest::Response, framing: Framing, limits: &ReplyLimits) -> WireSource {
        match framing {
            Framing::Sse => {
                let meter = Meter::new(Split::Events, limits.message, limits.body);
                let events = Bounded::new(response, meter).eventsource();
                WireSource::Sse(Box::pin(events.map(|item| {
                    item.map_err(|e| match e {
                        eventsource_stream::EventStreamError::Transport(e) => e,
                        other => WireError::Framing(format!("framing: {other}")),
                    })
                })))
            }
            Framing::Ndjson => {
                let meter = Meter::new(Split::Lines, limits.message, limits.body);
                WireSource::Ndjson {
                    bytes: Box::pin(Bounded::new(response, meter)),
                    buffer: Vec::new(),
                    ended: false,
                }
            }
        }
    }

    /// The next `(event name, data)` item; `None` at the end of the body.
    pub async fn next(&mut self) -> Option<Result<(String, String), WireError>> {
        match self {
            WireSource::Sse(stream) => stream
                .next()
                .await
                .map(|item| item.map(|event| (event.event, event.data))),
            WireSource::Ndjson {
                bytes,
                buffer,
                ended,
            } => loop {
                if let Some(newline) = buffer.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = buffer.drain(..=newline).collect();
                    let line = String::from_utf8_lossy(&line).trim().to_owned();
                    if line.is_empty() {
                        continue;
                    }
                    return Some(Ok((String::new(), line)));
                }
                if *ended {
                    if buffer.iter().all(u8::is_ascii_whitespace) {
                        return None;
                    }
                    let rest = std::mem::take(buffer);
                    // A last line without its newline is fine if it is whole JSON.
                    return Some(
                        match serde_json::from_slice::<serde::de::IgnoredAny>(&rest) {
                            Ok(_) => {
                                Ok((String::new(), String::from_utf8_lossy(&rest).into_owned()))
                            }
                            Err(_) => Err(WireError::Transport(
                                "the stream ended in the middle of a line".into(),
                            )),
                        },
                    );
                }
                match bytes.next().await {
                    Some(Ok(chunk)) => buffer.extend_from_slice(&chunk),
                    Some(Err(error)) => return Some(Err(error)),
                    None => *ended = true,
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_grow_with_max_tokens_between_a_floor_and_a_ceiling() {
        assert_eq!(ReplyLimits::new(1, 0).text, MIN_TEXT_BYTES);
        assert_eq!(ReplyLimits::new(2048, 0).text, 32 << 10);
        assert_eq!(ReplyLimits::new(u32::MAX, 0).text, MAX_TEXT_BYTES);
        let huge = ReplyLimits::new(u32::MAX, 0);
        assert_eq!(huge.body, huge.message + MAX_STREAM_FRAMING);
        let echo = ReplyLimits::new(128, 50_000);
        assert!(echo.message >= 100_000 + 8 * echo.text);
    }

    #[test]
    fn a_whole_body_is_one_message() {
        let mut meter = Meter::new(Split::Whole, 10, 10);
        assert_eq!(meter.count(b"\n\n\n\n\n"), Ok(()));
        assert_eq!(meter.count(b"12345"), Ok(()));
        assert_eq!(meter.count(b"6"), Err((ReplyPart::Message, 10)));
    }

    #[test]
    fn ndjson_lines_are_limited_one_by_one() {
        let mut meter = Meter::new(Split::Lines, 4, 100);
        assert_eq!(meter.count(b"abcd\nabcd\nab"), Ok(()));
        assert_eq!(meter.count(b"cd"), Ok(()));
        assert_eq!(meter.count(b"e"), Err((ReplyPart::Message, 4)));
    }

    #[test]
    fn sse_events_end_at_a_blank_line_whatever_the_line_ends() {
        for (end, blank) in [("\n", "\n"), ("\r\n", "\r\n"), ("\r", "\r")] {
            let mut meter = Meter::new(Split::Events, 10, 1000);
            // Two lines of 5 bytes fill one event; a blank line starts the next.
            let event = format!("data:{end}data:{end}{blank}");
            assert_eq!(meter.count(event.as_bytes()), Ok(()), "{end:?}");
            assert_eq!(meter.count(event.as_bytes()), Ok(()), "{end:?}");
            let long = format!("data:{end}data:{end}d");
            assert_eq!(
                meter.count(long.as_bytes()),
                Err((ReplyPart::Message, 10)),
                "{end:?}"
            );
        }
        // A `\r\n` split between chunks is one line end, not a blank line.
        let mut meter = Meter::new(Split::Events, 10, 1000);
        assert_eq!(meter.count(b"data:\r"), Ok(()));
        assert_eq!(meter.count(b"\ndata:"), Ok(()));
        assert_eq!(meter.count(b"x"), Err((ReplyPart::Message, 10)));
    }

    #[test]
    fn a_stream_is_limited_as_a_whole() {
        let mut meter = Meter::new(Split::Events, 100, 30);
        for _ in 0..2 {
            assert_eq!(meter.count(b": keep-alive\n\n"), Ok(()));
        }
        assert_eq!(meter.count(b": keep-alive\n\n"), Err((ReplyPart::Body, 30)));
    }
}
