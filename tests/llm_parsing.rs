//! Broken replies never panic a backend's parser: they become events or typed parse errors.

use augur::llm::backend::{BACKENDS, WireRequest, backend_for};
use proptest::prelude::*;
use serde_json::{Value, json};

/// JSON-looking text: fragments of real replies glued together at random.
fn jsonish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"choices\"",
        "\"text\"",
        "\"delta\"",
        "\"content\"",
        "\"usage\"",
        "\"done\"",
        "true",
        "null",
        "1",
        "-5",
        "\"response\"",
        "\"error\"",
        "\"message\"",
        "\"stop\"",
        "\"[DONE]\"",
        "\"x\"",
        "99999999999999999999",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "choices",
                    "text",
                    "delta",
                    "content",
                    "message",
                    "usage",
                    "done",
                    "response",
                    "error",
                    "stop",
                    "type",
                    "prompt_tokens",
                    "eval_count",
                ])
                .prop_map(str::to_owned),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn stream_chunks_never_panic(event in "[a-z_]{0,20}", data in prop_oneof![jsonish(), any::<String>()]) {
        for name in BACKENDS {
            let backend = backend_for(name).unwrap();
            let _ = backend.parse_stream(&WireRequest::default(), &event, &data);
        }
    }

    #[test]
    fn bodies_never_panic(body in value()) {
        for name in BACKENDS {
            let backend = backend_for(name).unwrap();
            let _ = backend.parse_body(&WireRequest::default(), &body);
            let _ = backend.parse_models(&body);
        }
    }
}
