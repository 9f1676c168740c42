//! How answers are stored in Redis: the key (the namespace and the hex of the local cache key,
//! itself a hash of everything that decides the answer) and the value (the answer's text, usage,
//! finish reason and endpoint URL without credentials, as JSON compressed with LZ4).

use serde::{Deserialize, Serialize};

use crate::llm::cache::CacheKey;
use crate::llm::types::{Completion, FinishReason, Usage};

/// The stored form of an answer: only what a later request needs to be answered.
#[derive(Serialize, Deserialize)]
struct Stored {
    /// The format, so that a later augur can ignore values it does not read.
    v: u32,
    text: String,
    usage: Option<Usage>,
    finish_reason: FinishReason,
    endpoint: String,
}

/// The Redis key of a cached answer.
pub(super) fn cache_key(namespace: &str, key: &CacheKey) -> String {
    let hex: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
    format!("{namespace}:answer:{hex}")
}

/// The stored value of an answer.
pub(super) fn encode(completion: &Completion) -> Vec<u8> {
    let stored = Stored {
        v: 1,
        text: completion.text.clone(),
        usage: completion.usage,
        finish_reason: completion.finish_reason.clone(),
        endpoint: completion.endpoint.clone(),
    };
    let json = serde_json::to_vec(&stored).unwrap_or_default();
    lz4_flex::compress_prepend_size(&json)
}

/// The answer of a stored value; `None` for a value this version cannot read.
pub(super) fn decode(bytes: &[u8]) -> Option<Completion> {
    let json = lz4_flex::decompress_size_prepended(bytes).ok()?;
    let stored: Stored = serde_json::from_slice(&json).ok()?;
    if stored.v != 1 {
        return None;
    }
    Some(Completion {
        text: stored.text,
        usage: stored.usage,
        finish_reason: stored.finish_reason,
        endpoint: stored.endpoint,
        cached: true,
        attempts: 0,
        time_to_first_token: None,
        elapsed: std::time::Duration::ZERO,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_the_answer_and_rejects_garbage() {
        let completion = Completion {
            text: "return a + b;".repeat(20),
            usage: Some(Usage {
                prompt_tokens: 12,
                completion_tokens: 7,
            }),
            finish_reason: FinishReason::Stop,
            endpoint: "http://127.0.0.1:8090/v1".into(),
            cached: false,
            attempts: 1,
            time_to_first_token: None,
            elapsed: std::time::Duration::from_millis(5),
        };
        let bytes = encode(&completion);
        assert!(bytes.len() < completion.text.len(), "compressed");
        let back = decode(&bytes).unwrap();
        assert_eq!(back.text, completion.text);
        assert_eq!(back.usage, completion.usage);
        assert!(back.cached);
        assert!(decode(b"not lz4").is_none());
        let key = cache_key("team", &CacheKey::of(&[b"x"]));
        assert!(key.starts_with("team:answer:") && key.len() == "team:answer:".len() + 64);
    }
}
