//! Anthropic's Messages API (`/v1/messages`), streamed as server-sent events (`message_start`,
//! `content_block_delta`, `message_delta`, `message_stop`, `ping`, `error`).

use serde_json::{Map, Value, json};

use super::{
    Backend, Base, Event, HttpCall, ParseError, WireRequest, count, embedded_error, finish_reason,
    parse_json,
};

/// The Anthropic backend.
#[derive(Debug, Clone, Copy)]
pub struct Anthropic;

/// The API version header value this module speaks.
pub const API_VERSION: &str = "2023-06-01";

impl Backend for Anthropic {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn build(&self, request: &WireRequest<'_>) -> Result<HttpCall, String> {
        let mut body = Map::new();
        body.insert("model".into(), json!(request.model));
        body.insert("max_tokens".into(), json!(request.max_tokens));
        body.insert("temperature".into(), json!(request.temperature));
        body.insert(
            "messages".into(),
            json!([{"role": "user", "content": request.chat_user_message()}]),
        );
        if let Some(system) = request.system_prompt {
            body.insert("system".into(), json!(system));
        }
        // Anthropic rejects stop sequences made only of whitespace.
        let stop: Vec<&String> = request
            .stop
            .iter()
            .filter(|s| !s.trim().is_empty())
            .collect();
        if !stop.is_empty() {
            body.insert("stop_sequences".into(), json!(stop));
        }
        body.insert("stream".into(), json!(request.stream));
        Ok(
            HttpCall::post(Base::Versioned, "messages", Value::Object(body))
                .with_header("anthropic-version", API_VERSION),
        )
    }

    fn auth_headers(&self, key: &str) -> Vec<(&'static str, String)> {
        vec![("x-api-key", key.to_owned())]
    }

    fn parse_body(&self, _: &WireRequest<'_>, body: &Value) -> Result<Vec<Event>, ParseError> {
        if let Some(error) = embedded_error(body) {
            return Err(error);
        }
        let Some(content) = body.get("content").and_then(Value::as_array) else {
            return Err(ParseError::new("the reply has no `content`"));
        };
        let text: String = content
            .iter()
            .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|block| block.get("text").and_then(Value::as_str))
            .collect();
        let mut events = vec![Event::Text(text)];
        if let Some(reason) = body.get("stop_reason").and_then(Value::as_str) {
            events.push(Event::Finish(finish_reason(reason)));
        }
        if let Some(usage) = body.get("usage") {
            events.push(Event::Usage {
                prompt: count(usage.get("input_tokens")),
                completion: count(usage.get("output_tokens")),
            });
        }
        events.push(Event::Done);
        Ok(events)
    }

    fn parse_stream(
        &self,
        _: &WireRequest<'_>,
        event: &str,
        data: &str,
    ) -> Result<Vec<Event>, ParseError> {
        let value = parse_json(data)?;
        // The event name is also in the payload's `type`; servers may send either.
        let kind = if event.is_empty() || event == "message" {
            value.get("type").and_then(Value::as_str).unwrap_or("")
        } else {
            event
        };
        let mut events = Vec::new();
        match kind {
            "message_start" => {
                if let Some(usage) = value.pointer("/message/usage") {
                    events.push(Event::Usage {
                        prompt: count(usage.get("input_tokens")),
                        completion: None,
                    });
                }
            }
            "content_block_delta" => {
                if let Some(text) = value.pointer("/delta/text").and_then(Value::as_str)
                    && !text.is_empty()
                {
                    events.push(Event::Text(text.to_owned()));
                }
            }
            "message_delta" => {
                if let Some(reason) = value.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    events.push(Event::Finish(finish_reason(reason)));
                }
                if let Some(usage) = value.get("usage") {
                    events.push(Event::Usage {
                        prompt: count(usage.get("input_tokens")),
                        completion: count(usage.get("output_tokens")),
                    });
                }
            }
            "message_stop" => events.push(Event::Done),
            "error" => {
                return Err(embedded_error(&value)
                    .unwrap_or_else(|| ParseError::new("the server sent an error event")));
            }
            // `ping`, `content_block_start`, `content_block_stop` and future events carry no text.
            _ => {}
        }
        Ok(events)
    }

    fn list_models(&self) -> Option<HttpCall> {
        Some(HttpCall::get(Base::Versioned, "models").with_header("anthropic-version", API_VERSION))
    }

    fn model_must_be_listed(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::types::FinishReason;

    #[test]
    fn body_and_events() {
        let stop = vec!["\n".to_owned(), "END".to_owned()];
        let request = WireRequest {
            model: "claude",
            prompt: "p",
            stop: &stop,
            max_tokens: 9,
            ..WireRequest::default()
        };
        let call = Anthropic.build(&request).unwrap();
        assert_eq!(call.body["stop_sequences"], json!(["END"]));
        assert_eq!(Anthropic.auth_headers("k")[0].0, "x-api-key");
        let r = &request;
        assert_eq!(
            Anthropic
                .parse_stream(
                    r,
                    "content_block_delta",
                    r#"{"delta":{"type":"text_delta","text":"x"}}"#
                )
                .unwrap(),
            vec![Event::Text("x".into())]
        );
        assert_eq!(
            Anthropic
                .parse_stream(
                    r,
                    "message_delta",
                    r#"{"delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":4}}"#
                )
                .unwrap()[0],
            Event::Finish(FinishReason::Length)
        );
        assert_eq!(
            Anthropic.parse_stream(r, "message_stop", "{}").unwrap(),
            vec![Event::Done]
        );
        let err = Anthropic
            .parse_stream(
                r,
                "error",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            )
            .unwrap_err();
        assert!(err.retryable);
    }
}
