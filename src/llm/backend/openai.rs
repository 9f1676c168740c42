//! The OpenAI-compatible protocol: `/v1/completions` and `/v1/chat/completions`, as served by
//! OpenAI, vLLM, llama.cpp's server, LM Studio, OpenRouter, Groq and others.
//!
//! Parsing is tolerant of servers that are only almost compatible: `usage` may be missing, extra
//! fields are ignored, text may come as `text`, `message.content` or `delta.content`, and a stream
//! may end with a `finish_reason` but no `data: [DONE]`.

use serde_json::{Map, Value, json};

use super::{
    Api, Backend, Base, Event, HttpCall, ParseError, WireRequest, count, embedded_error,
    finish_reason, parse_json,
};

/// The OpenAI-compatible backend.
#[derive(Debug, Clone, Copy)]
pub struct OpenAi;

/// Inserts the sampling fields shared by the OpenAI-style APIs.
pub(crate) fn sampling(body: &mut Map<String, Value>, request: &WireRequest<'_>) {
    body.insert("max_tokens".into(), json!(request.max_tokens));
    body.insert("temperature".into(), json!(request.temperature));
    if !request.stop.is_empty() {
        body.insert("stop".into(), json!(request.stop));
    }
    body.insert("stream".into(), json!(request.stream));
}

/// The body of a chat request.
pub(crate) fn chat_body(request: &WireRequest<'_>, usage_in_stream: bool) -> Value {
    let mut messages = Vec::new();
    if let Some(system) = request.system_prompt {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.push(json!({"role": "user", "content": request.chat_user_message()}));
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("messages".into(), Value::Array(messages));
    sampling(&mut body, request);
    if request.stream && usage_in_stream {
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Value::Object(body)
}

/// The events of one choice-shaped object (a whole reply or one stream chunk).
pub(crate) fn parse_choices(value: &Value, events: &mut Vec<Event>) -> Result<(), ParseError> {
    if let Some(error) = embedded_error(value) {
        return Err(error);
    }
    let choices = value.get("choices").and_then(Value::as_array);
    if let Some(choice) = choices.and_then(|c| c.first()) {
        let text = choice
            .get("text")
            .and_then(Value::as_str)
            .or_else(|| choice.pointer("/delta/content").and_then(Value::as_str))
            .or_else(|| choice.pointer("/message/content").and_then(Value::as_str));
        if let Some(text) = text
            && !text.is_empty()
        {
            events.push(Event::Text(text.to_owned()));
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            events.push(Event::Finish(finish_reason(reason)));
        }
    }
    if let Some(usage) = value.get("usage").filter(|u| u.is_object()) {
        events.push(Event::Usage {
            prompt: count(usage.get("prompt_tokens")),
            completion: count(usage.get("completion_tokens")),
        });
    }
    Ok(())
}

/// Parses a whole choice-shaped reply.
pub(crate) fn parse_choice_body(body: &Value) -> Result<Vec<Event>, ParseError> {
    let mut events = Vec::new();
    parse_choices(body, &mut events)?;
    if body.get("choices").and_then(Value::as_array).is_none() {
        return Err(ParseError::new("the reply has no `choices`"));
    }
    events.push(Event::Done);
    Ok(events)
}

/// Parses one choice-shaped stream chunk; `[DONE]` ends the stream.
pub(crate) fn parse_choice_chunk(data: &str) -> Result<Vec<Event>, ParseError> {
    let data = data.trim();
    if data == "[DONE]" {
        return Ok(vec![Event::Done]);
    }
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let value = parse_json(data)?;
    let mut events = Vec::new();
    parse_choices(&value, &mut events)?;
    Ok(events)
}

impl Backend for OpenAi {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn build(&self, request: &WireRequest<'_>) -> Result<HttpCall, String> {
        if request.api == Api::Chat {
            return Ok(HttpCall::post(
                Base::Versioned,
                "chat/completions",
                chat_body(request, true),
            ));
        }
        let mut body = Map::new();
        body.insert("model".into(), json!(request.model));
        match request.templated_prompt() {
            Some(prompt) => {
                body.insert("prompt".into(), json!(prompt));
            }
            None => {
                body.insert("prompt".into(), json!(request.prompt_with_extra()));
                if let Some(suffix) = request.suffix {
                    body.insert("suffix".into(), json!(suffix));
                }
            }
        }
        sampling(&mut body, request);
        if request.stream {
            body.insert("stream_options".into(), json!({"include_usage": true}));
        }
        Ok(HttpCall::post(
            Base::Versioned,
            "completions",
            Value::Object(body),
        ))
    }

    fn parse_body(&self, _: &WireRequest<'_>, body: &Value) -> Result<Vec<Event>, ParseError> {
        parse_choice_body(body)
    }

    fn parse_stream(
        &self,
        _: &WireRequest<'_>,
        _event: &str,
        data: &str,
    ) -> Result<Vec<Event>, ParseError> {
        parse_choice_chunk(data)
    }

    fn list_models(&self) -> Option<HttpCall> {
        Some(HttpCall::get(Base::Versioned, "models"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::types::{FinishReason, Usage};

    #[test]
    fn completion_body_with_suffix_and_template() {
        let stop = vec!["\n\n".to_owned()];
        let mut request = WireRequest {
            model: "m",
            prompt: "a",
            suffix: Some("c"),
            max_tokens: 8,
            temperature: 0.0,
            stop: &stop,
            ..WireRequest::default()
        };
        let call = OpenAi.build(&request).unwrap();
        assert_eq!(call.path, "completions");
        assert_eq!(call.body["suffix"], "c");
        assert_eq!(call.body["stop"][0], "\n\n");
        request.fim_template = Some("<PRE>{prefix}<SUF>{suffix}<MID>");
        let call = OpenAi.build(&request).unwrap();
        assert_eq!(call.body["prompt"], "<PRE>a<SUF>c<MID>");
        assert!(call.body.get("suffix").is_none());
        request.api = Api::Chat;
        let call = OpenAi.build(&request).unwrap();
        assert_eq!(call.path, "chat/completions");
        assert!(
            call.body["messages"][0]["content"]
                .as_str()
                .unwrap()
                .contains("a<FILL>c")
        );
    }

    #[test]
    fn tolerant_parsing() {
        let chat = json!({"choices": [{"message": {"content": "hi"}, "finish_reason": "length"}],
                          "usage": {"prompt_tokens": 3, "completion_tokens": 1}, "extra": 1});
        let events = parse_choice_body(&chat).unwrap();
        assert_eq!(events[0], Event::Text("hi".into()));
        assert_eq!(events[1], Event::Finish(FinishReason::Length));
        assert_eq!(
            events[2],
            Event::Usage {
                prompt: Some(3),
                completion: Some(1)
            }
        );
        let _ = Usage::default();
        // No usage at all is fine.
        assert_eq!(
            parse_choice_body(&json!({"choices": [{"text": "x"}]})).unwrap(),
            vec![Event::Text("x".into()), Event::Done]
        );
        assert!(parse_choice_body(&json!({"nothing": 1})).is_err());
        assert_eq!(
            parse_choice_chunk(r#"{"choices":[{"delta":{"content":"y"}}]}"#).unwrap(),
            vec![Event::Text("y".into())]
        );
        assert_eq!(parse_choice_chunk("[DONE]").unwrap(), vec![Event::Done]);
        assert!(parse_choice_chunk("{broken").is_err());
        assert!(parse_choice_chunk(r#"{"error":{"message":"boom"}}"#).is_err());
    }
}
