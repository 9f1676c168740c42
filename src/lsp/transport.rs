//! The stdio transport: framing, message classification, one executor and one writer.
//!
//! The protocol library's own transport stops reading after the first malformed frame and runs at
//! most four handlers at once (so four slow requests would hold back even `$/cancelRequest`).
//! This one keeps going:
//!
//! - a frame that is not UTF-8, not JSON, or not a JSON-RPC message gets an error response
//!   (`id: null` when the id cannot be read) and the next frame is read as usual;
//! - a frame larger than [`MAX_FRAME_BYTES`] is skipped with an error, not buffered;
//! - handler futures run in one executor task, so the first poll of each happens in the order the
//!   messages arrived: a `didChange` is applied before any later request sees the document;
//! - any number of requests may be in flight, and a cancel is always read promptly.
//!
//! Each request gets exactly one response: from its handler, from the cancellation layer, from the
//! panic guard, or from this transport when the frame could not be parsed.

use std::fmt::Display;
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tower::{Service, ServiceExt};
use tower_lsp_server::ClientSocket;
use tower_lsp_server::jsonrpc::{Request, Response};

/// Frames larger than this are refused (and skipped without being buffered).
pub const MAX_FRAME_BYTES: usize = 256 * 1024 * 1024;

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

/// Reads one frame's body. `Ok(None)` at the end of the input; `Err` text for a frame whose
/// header is unusable (the frame is skipped).
async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> std::io::Result<Option<Result<Vec<u8>, String>>> {
    let mut length: Option<Result<usize, String>> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if saw_header {
                break;
            }
            continue; // Stray blank lines between frames are tolerated.
        }
        saw_header = true;
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            let parsed = value.trim().parse::<usize>();
            length = Some(parsed.map_err(|_| format!("bad Content-Length {value:?}")));
        }
    }
    let length = match length {
        Some(Ok(length)) => length,
        Some(Err(e)) => return Ok(Some(Err(e))),
        None => return Ok(Some(Err("a frame without Content-Length".into()))),
    };
    if length > MAX_FRAME_BYTES {
        let skipped = tokio::io::copy(
            &mut (&mut *reader).take(length as u64),
            &mut tokio::io::sink(),
        )
        .await?;
        return Ok(Some(Err(format!(
            "a frame of {skipped} bytes is larger than {MAX_FRAME_BYTES}"
        ))));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(Ok(body)))
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
}
