//! Bytes as they would arrive on stdin, through the transport's frame reader and decoder.
//!
//! Nothing may panic, and:
//! - a frame's body is never longer than the input it came from;
//! - a body that is not JSON (or not UTF-8) is answered with a parse error (-32700) and a null
//!   id, and any other unusable message with an invalid-request error (-32600) carrying the
//!   message's own `id`;
//! - a decoded request or response, encoded again, decodes to the same message;
//! - the input itself, framed twice with a correct `Content-Length`, reads back as exactly those
//!   two bodies.

#![no_main]

use augur::lsp::transport::fuzzing::{decode, frames};
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    for frame in block_on(frames(data)) {
        match frame {
            Ok(body) => {
                assert!(body.len() <= data.len(), "a body longer than the input");
                check_decode(&body);
            }
            Err(problem) => assert!(!problem.is_empty(), "a skipped frame without a reason"),
        }
    }
    check_decode(data);

    let mut framed = format!("Content-Length: {}\r\n\r\n", data.len()).into_bytes();
    framed.extend_from_slice(data);
    framed.extend_from_slice(&framed.clone());
    let read: Vec<Result<Vec<u8>, String>> = block_on(frames(&framed));
    assert_eq!(read, vec![Ok(data.to_vec()), Ok(data.to_vec())]);
});

fn check_decode(body: &[u8]) {
    match decode(body) {
        Ok(message) => {
            let again = serde_json::to_vec(&message).expect("a decoded message encodes");
            assert_eq!(
                decode(&again),
                Ok(message),
                "a message changed when encoded again"
            );
        }
        Err((id, code)) => match serde_json::from_slice::<Value>(body) {
            Ok(value) => {
                assert_eq!(code, -32600, "valid JSON answered with {code}");
                let expected = value.get("id").cloned().unwrap_or(Value::Null);
                assert_eq!(
                    id, expected,
                    "the error answer does not carry the message's id"
                );
            }
            Err(_) => {
                assert_eq!(code, -32700, "unparsable JSON answered with {code}");
                assert_eq!(id, Value::Null);
            }
        },
    }
}
