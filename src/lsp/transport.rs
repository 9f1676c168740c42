//! The stdio transport: framing, message classification, one executor and one writer.
//!
//! The protocol library's own transport stops reading after the first malformed frame and runs at
//! most four handlers at once (so four slow requests would hold back even `$/cancelRequest`).
//! This one keeps going:
//!
//! - a frame that is not UTF-8, not JSON, or not a JSON-RPC message gets an error response
//!   (`id: null` when the id cannot be read) and the next frame is read as usual;
//! - a frame larger than [`MAX_FRAME_BYTES`] is skipped with an error, not buffered;
//! - a header line longer than [`MAX_HEADER_LINE_BYTES`] is skipped as it arrives (never more
//!   than that much of it is held), and a frame with such a line or with more than
//!   [`MAX_HEADER_LINES`] header lines is refused whole with an error (its body is skipped when
//!   its `Content-Length` was read); reading resumes after the blank line that ends its headers;
//! - handler futures run in one executor task, so the first poll of each happens in the order the
//!   messages arrived: a `didChange` is applied before any later request sees the document;
//! - any number of requests may be in flight, and a cancel is always read promptly.
//!
//! Each request gets exactly one response: from its handler, from the cancellation layer, from the
//! middleware (the panic guard, `MethodNotFound` for a `$/` request the library leaves
//! unanswered, `InvalidRequest` for a repeated `initialize`), or from this transport when the frame
//! could not be parsed (`id: null` when its id could not be read).
//!
//! `exit` ends the conversation: nothing after it is read, the handlers still running get up to
//! [`DRAIN_GRACE`] to answer (`exit` itself cancels them, so they answer `RequestCancelled`), and
//! every answer is written and flushed before [`serve`] returns. `exit` is a notification; sent
//! with an id, it is still obeyed and its id is answered with a `null` result, so a client waiting
//! for that answer is not left hanging. The process then exits with 0 if `shutdown` came first and
//! 1 if not.

use std::fmt::Display;
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::sync::mpsc;
use tower::{Service, ServiceExt};
use tower_lsp_server::ClientSocket;
use tower_lsp_server::jsonrpc::{Request, Response};

/// Frames larger than this are refused (and skipped without being buffered).
pub const MAX_FRAME_BYTES: usize = 256 * 1024 * 1024;

/// Header lines longer than this (with their line end) are skipped without being buffered, and
/// their frame is refused.
pub const MAX_HEADER_LINE_BYTES: usize = 8 * 1024;

/// Frames with more header lines than this are refused.
pub const MAX_HEADER_LINES: usize = 32;

/// How long handlers still running when the input ends may take to finish.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// One decoded frame.
#[derive(Debug)]
enum Incoming {
    /// A request or notification for the server.
    Request(Request),
    /// The client's answer to a request the server sent.
    Response(Response),
    /// A frame that could not be used: answer with this error (`id` when it could be read).
    Invalid {
        id: Value,
        code: i64,
        message: String,
    },
}

/// What [`read_header_line`] found.
#[derive(Debug, PartialEq, Eq)]
enum HeaderLine {
    /// A whole line, now in the buffer (with its line end).
    Line,
    /// A line longer than [`MAX_HEADER_LINE_BYTES`]: read to its end and dropped.
    TooLong,
    /// The end of the input (a line cut short by it is dropped).
    End,
}

/// Reads one line into `line` (emptied first), holding at most [`MAX_HEADER_LINE_BYTES`] of it:
/// a longer line is consumed as it arrives and dropped, so `line` never grows past the cap.
async fn read_header_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<HeaderLine> {
    line.clear();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            line.clear();
            return Ok(HeaderLine::End);
        }
        let (piece, ends) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (&available[..=at], true),
            None => (available, false),
        };
        let used = piece.len();
        if too_long || line.len() + used > MAX_HEADER_LINE_BYTES {
            too_long = true;
            line.clear();
        } else {
            line.extend_from_slice(piece);
        }
        reader.consume(used);
        if ends {
            return Ok(if too_long {
                HeaderLine::TooLong
            } else {
                HeaderLine::Line
            });
        }
    }
}

/// Reads one frame's body. `Ok(None)` at the end of the input; `Err` text for a frame whose
/// header is unusable (the frame is skipped). At most [`MAX_HEADER_LINE_BYTES`] of a header line
/// and [`MAX_HEADER_LINES`] header lines are looked at.
async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> std::io::Result<Option<Result<Vec<u8>, String>>> {
    let mut length: Option<Result<usize, String>> = None;
    let mut refused: Option<String> = None;
    let mut lines = 0;
    let mut line = Vec::new();
    loop {
        match read_header_line(reader, &mut line).await? {
            HeaderLine::End => return Ok(None),
            HeaderLine::TooLong => {
                lines += 1;
                refused.get_or_insert_with(|| {
                    format!("a header line longer than {MAX_HEADER_LINE_BYTES} bytes")
                });
                continue;
            }
            HeaderLine::Line => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if lines > 0 {
                break;
            }
            continue; // Stray blank lines between frames are tolerated.
        }
        lines += 1;
        if lines > MAX_HEADER_LINES {
            // Still looked at for `Content-Length`, so that the body can be skipped.
            refused.get_or_insert_with(|| format!("more than {MAX_HEADER_LINES} header lines"));
        }
        if let Some((name, value)) = text.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            let parsed = value.trim().parse::<usize>();
            length = Some(parsed.map_err(|_| format!("bad Content-Length {value:?}")));
        }
    }
    if let Some(problem) = refused {
        // The body is skipped, unbuffered, when its length is known; otherwise the next frame is
        // looked for right after the blank line.
        if let Some(Ok(length)) = length {
            skip(reader, length).await?;
        }
        return Ok(Some(Err(problem)));
    }
    let length = match length {
        Some(Ok(length)) => length,
        Some(Err(e)) => return Ok(Some(Err(e))),
        None => return Ok(Some(Err("a frame without Content-Length".into()))),
    };
    if length > MAX_FRAME_BYTES {
        let skipped = skip(reader, length).await?;
        return Ok(Some(Err(format!(
            "a frame of {skipped} bytes is larger than {MAX_FRAME_BYTES}"
        ))));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(Ok(body)))
}

/// Reads and drops up to `length` bytes; returns how many there were.
async fn skip<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    length: usize,
) -> std::io::Result<u64> {
    tokio::io::copy(
        &mut (&mut *reader).take(length as u64),
        &mut tokio::io::sink(),
    )
    .await
}

/// Classifies a frame's body.
fn decode(body: &[u8]) -> Incoming {
    let invalid = |id: Value, code: i64, message: String| Incoming::Invalid { id, code, message };
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => {
            return invalid(
                Value::Null,
                -32700,
                format!("Parse error: the message is not UTF-8 ({e})"),
            );
        }
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => return invalid(Value::Null, -32700, format!("Parse error: {e}")),
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    if value.get("method").is_some() {
        match serde_json::from_value::<Request>(value) {
            Ok(request) => Incoming::Request(request),
            Err(e) => invalid(id, -32600, format!("Invalid request: {e}")),
        }
    } else if value.get("result").is_some() || value.get("error").is_some() {
        match serde_json::from_value::<Response>(value) {
            Ok(response) => Incoming::Response(response),
            Err(e) => invalid(id, -32600, format!("Invalid response: {e}")),
        }
    } else {
        invalid(
            id,
            -32600,
            "Invalid request: neither a request nor a response".into(),
        )
    }
}

fn encode(message: &impl serde::Serialize) -> Vec<u8> {
    let body = serde_json::to_vec(message).unwrap_or_else(|e| {
        serde_json::to_vec(&json!({"jsonrpc": "2.0", "method": "window/logMessage",
            "params": {"type": 1, "message": format!("augur: cannot encode a message: {e}")}}))
        .unwrap_or_default()
    });
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(&body);
    out
}

/// The frame reader and the decoder, for the fuzz targets in `fuzz/`: not part of augur's
/// interface.
#[doc(hidden)]
pub mod fuzzing {
    use serde_json::Value;
    use tokio::io::BufReader;

    /// Reads every frame of `input` as the transport does: each frame's body, or the problem
    /// that made it skip the frame. Stops at the end of the input or at a read error.
    pub async fn frames(input: &[u8]) -> Vec<Result<Vec<u8>, String>> {
        let mut reader = BufReader::new(input);
        let mut out = Vec::new();
        while let Ok(Some(frame)) = super::read_frame(&mut reader).await {
            out.push(frame);
        }
        out
    }

    /// Decodes a frame's body as the transport does: the request or response as JSON, or the
    /// id and error code of the error the transport answers with.
    pub fn decode(body: &[u8]) -> Result<Value, (Value, i64)> {
        match super::decode(body) {
            super::Incoming::Request(request) => {
                Ok(serde_json::to_value(request).unwrap_or(Value::Null))
            }
            super::Incoming::Response(response) => {
                Ok(serde_json::to_value(response).unwrap_or(Value::Null))
            }
            super::Incoming::Invalid { id, code, .. } => Err((id, code)),
        }
    }
}

/// Serves `service` over a byte stream pair until `exit` or the end of the input.
pub async fn serve<I, O, S>(input: I, output: O, mut service: S, socket: ClientSocket)
where
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin + Send + 'static,
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
    S::Error: Display,
{
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(bytes) = out_rx.recv().await {
            if output
                .write_all(&bytes)
                .await
                .and(output.flush().await)
                .is_err()
            {
                break;
            }
        }
    });

    let (mut to_client, mut from_client) = socket.split();
    let forward_tx = out_tx.clone();
    let forward = tokio::spawn(async move {
        while let Some(request) = to_client.next().await {
            if forward_tx.send(encode(&request)).is_err() {
                break;
            }
        }
    });

    let (task_tx, mut task_rx) = mpsc::unbounded_channel::<S::Future>();
    let executor_tx = out_tx.clone();
    let executor = tokio::spawn(async move {
        let mut running = FuturesUnordered::new();
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                task = task_rx.recv(), if open => match task {
                    Some(task) => running.push(task),
                    None => open = false,
                },
                Some(done) = running.next(), if !running.is_empty() => {
                    if let Ok(Some(response)) = done {
                        let _ = executor_tx.send(encode(&response));
                    }
                }
                else => break,
            }
        }
    });

    let mut reader = BufReader::new(input);
    loop {
        let body = match read_frame(&mut reader).await {
            Ok(Some(Ok(body))) => body,
            Ok(Some(Err(problem))) => {
                tracing::warn!(%problem, "unusable frame skipped");
                let error = json!({"jsonrpc": "2.0", "id": null,
                    "error": {"code": -32700, "message": format!("Parse error: {problem}")}});
                let _ = out_tx.send(encode(&error));
                continue;
            }
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "reading the input failed");
                break;
            }
        };
        match decode(&body) {
            Incoming::Request(request) => {
                let is_exit = request.method() == "exit";
                let ready = match service.ready().await {
                    Ok(ready) => ready,
                    Err(e) => {
                        tracing::info!(reason = %e, "the service stopped");
                        break;
                    }
                };
                let _ = task_tx.send(ready.call(request));
                if is_exit {
                    break;
                }
            }
            Incoming::Response(response) => {
                if from_client.send(response).await.is_err() {
                    tracing::warn!("a response from the client arrived after the server stopped");
                }
            }
            Incoming::Invalid { id, code, message } => {
                tracing::warn!(%message, "invalid message");
                let error = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
                let _ = out_tx.send(encode(&error));
            }
        }
    }

    drop(task_tx);
    let abort = executor.abort_handle();
    if tokio::time::timeout(DRAIN_GRACE, executor).await.is_err() {
        abort.abort();
    }
    forward.abort();
    drop(out_tx);
    let _ = writer.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_classifies_messages() {
        assert!(matches!(
            decode(br#"{"jsonrpc":"2.0","id":1,"method":"x"}"#),
            Incoming::Request(_)
        ));
        assert!(matches!(
            decode(br#"{"jsonrpc":"2.0","id":1,"result":null}"#),
            Incoming::Response(_)
        ));
        assert!(matches!(
            decode(b"\xff"),
            Incoming::Invalid { code: -32700, .. }
        ));
        assert!(matches!(
            decode(b"[1,2"),
            Incoming::Invalid { code: -32700, .. }
        ));
        let Incoming::Invalid { id, code, .. } = decode(br#"{"jsonrpc":"2.0","id":4}"#) else {
            panic!("expected an invalid message")
        };
        assert_eq!((id, code), (json!(4), -32600));
    }

    #[tokio::test]
    async fn frames_with_bad_headers_are_skipped() {
        let input = b"Content-Length: x\r\n\r\nContent-Length: 2\r\n\r\n{}".to_vec();
        let mut reader = BufReader::new(&input[..]);
        assert!(matches!(read_frame(&mut reader).await, Ok(Some(Err(_)))));
        assert_eq!(
            read_frame(&mut reader).await.unwrap().unwrap().unwrap(),
            b"{}"
        );
        assert!(read_frame(&mut reader).await.unwrap().is_none());
    }

    /// Yields `head`, then `total` bytes of `x` in chunks of at most 4 KB, then `rest`: a header
    /// line far longer than the cap, arriving as a pipe would deliver it.
    struct LongLine {
        head: std::io::Cursor<Vec<u8>>,
        left: usize,
        rest: std::io::Cursor<Vec<u8>>,
    }

    impl LongLine {
        fn new(head: &[u8], total: usize, rest: &[u8]) -> Self {
            Self {
                head: std::io::Cursor::new(head.to_vec()),
                left: total,
                rest: std::io::Cursor::new(rest.to_vec()),
            }
        }
    }

    impl AsyncRead for LongLine {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let this = &mut *self;
            if (this.head.position() as usize) < this.head.get_ref().len() {
                return std::pin::Pin::new(&mut this.head).poll_read(cx, buf);
            }
            if this.left == 0 {
                return std::pin::Pin::new(&mut this.rest).poll_read(cx, buf);
            }
            let n = this.left.min(4096).min(buf.remaining());
            buf.put_slice(&vec![b'x'; n]);
            this.left -= n;
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_header_line_over_the_cap_refuses_its_frame_and_the_next_is_read() {
        // `Content-Length: 2`, a 10 MB header line, the frame's body, then a good frame.
        let input = LongLine::new(
            b"Content-Length: 2\r\nX-Padding: ",
            10 * 1024 * 1024,
            b"\r\n\r\n{}Content-Length: 4\r\n\r\nnext",
        );
        let mut reader = BufReader::new(input);
        let problem = read_frame(&mut reader).await.unwrap().unwrap().unwrap_err();
        assert!(problem.contains("header line"), "{problem}");
        assert_eq!(
            read_frame(&mut reader).await.unwrap().unwrap().unwrap(),
            b"next"
        );
        assert!(read_frame(&mut reader).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_long_header_line_never_grows_the_line_buffer_past_the_cap() {
        let input = LongLine::new(b"X-Padding: ", 10 * 1024 * 1024, b"\r\nNext: 1\r\n");
        let mut reader = BufReader::new(input);
        // A buffer that can hold exactly the cap: had more been put in it, it would have grown.
        let mut line = Vec::with_capacity(MAX_HEADER_LINE_BYTES);
        let found = read_header_line(&mut reader, &mut line).await.unwrap();
        assert_eq!(found, HeaderLine::TooLong);
        assert_eq!(line.capacity(), MAX_HEADER_LINE_BYTES);
        assert!(line.is_empty());
        // The whole long line was consumed: the next one is read as it is.
        let found = read_header_line(&mut reader, &mut line).await.unwrap();
        assert_eq!(
            (found, line.as_slice()),
            (HeaderLine::Line, &b"Next: 1\r\n"[..])
        );
        assert_eq!(
            read_header_line(&mut reader, &mut line).await.unwrap(),
            HeaderLine::End
        );
    }

    #[tokio::test]
    async fn a_header_line_at_the_cap_is_kept() {
        let mut input = vec![b'a'; MAX_HEADER_LINE_BYTES - 2];
        input.extend_from_slice(b"\r\n");
        let mut reader = BufReader::new(&input[..]);
        let mut line = Vec::new();
        let found = read_header_line(&mut reader, &mut line).await.unwrap();
        assert_eq!(
            (found, line.len()),
            (HeaderLine::Line, MAX_HEADER_LINE_BYTES)
        );
    }

    #[tokio::test]
    async fn more_header_lines_than_the_cap_refuse_the_frame() {
        let mut input = String::new();
        for i in 0..MAX_HEADER_LINES {
            input.push_str(&format!("X-{i}: {i}\r\n"));
        }
        input.push_str("Content-Length: 2\r\n\r\n{}Content-Length: 2\r\nX: y\r\n\r\nok");
        let mut reader = BufReader::new(input.as_bytes());
        let problem = read_frame(&mut reader).await.unwrap().unwrap().unwrap_err();
        assert!(problem.contains("header lines"), "{problem}");
        assert_eq!(
            read_frame(&mut reader).await.unwrap().unwrap().unwrap(),
            b"ok"
        );
    }
}
