//! Ollama: `/api/generate` (with `raw: true` for templated fill-in-the-middle prompts and plain
//! continuations, or Ollama's own `suffix` support) and `/api/chat`, streamed as NDJSON.

use serde_json::{Map, Value, json};

use super::{
    Api, Backend, Base, Event, Framing, HttpCall, ParseError, WireRequest, count, embedded_error,
    finish_reason, parse_json,
};
use crate::llm::types::FinishReason;

/// The Ollama backend.
#[derive(Debug, Clone, Copy)]
pub struct Ollama;

fn options(request: &WireRequest<'_>) -> Value {
    let mut options = Map::new();
    options.insert("num_predict".into(), json!(request.max_tokens));
    options.insert("temperature".into(), json!(request.temperature));
    if !request.stop.is_empty() {
        options.insert("stop".into(), json!(request.stop));
    }
    Value::Object(options)
}

fn parse_object(value: &Value) -> Result<Vec<Event>, ParseError> {
    if let Some(error) = embedded_error(value) {
        return Err(error);
    }
    let mut events = Vec::new();
    let text = value
        .get("response")
        .and_then(Value::as_str)
        .or_else(|| value.pointer("/message/content").and_then(Value::as_str));
    let done = value.get("done").and_then(Value::as_bool);
    if text.is_none() && done.is_none() {
        return Err(ParseError::new(
            "the reply has neither `response`, `message` nor `done`",
        ));
    }
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        events.push(Event::Text(text.to_owned()));
    }
    if done == Some(true) {
        let reason = value
            .get("done_reason")
            .and_then(Value::as_str)
            .map(finish_reason)
            .unwrap_or(FinishReason::Stop);
        events.push(Event::Finish(reason));
        let prompt = count(value.get("prompt_eval_count"));
        let completion = count(value.get("eval_count"));
        if prompt.is_some() || completion.is_some() {
            events.push(Event::Usage { prompt, completion });
        }
        events.push(Event::Done);
    }
    Ok(events)
}

impl Backend for Ollama {
    fn name(&self) -> &'static str {
        "ollama"
    }

    fn build(&self, request: &WireRequest<'_>) -> Result<HttpCall, String> {
        let mut body = Map::new();
        body.insert("model".into(), json!(request.model));
        body.insert("stream".into(), json!(request.stream));
        body.insert("options".into(), options(request));
        let path = if request.api == Api::Chat {
            let mut messages = Vec::new();
            if let Some(system) = request.system_prompt {
                messages.push(json!({"role": "system", "content": system}));
            }
            messages.push(json!({"role": "user", "content": request.chat_user_message()}));
            body.insert("messages".into(), Value::Array(messages));
            "/api/chat"
        } else {
            match (request.templated_prompt(), request.suffix) {
                (Some(prompt), _) => {
                    body.insert("prompt".into(), json!(prompt));
                    body.insert("raw".into(), json!(true));
                }
                (None, Some(suffix)) => {
                    // Ollama applies the model's own FIM template; `raw` must stay off for that.
                    body.insert("prompt".into(), json!(request.prompt_with_extra()));
                    body.insert("suffix".into(), json!(suffix));
                }
                (None, None) => {
                    body.insert("prompt".into(), json!(request.prompt_with_extra()));
                    body.insert("raw".into(), json!(true));
                }
            }
            "/api/generate"
        };
        Ok(HttpCall::post(Base::Root, path, Value::Object(body)))
    }

    fn framing(&self) -> Framing {
        Framing::Ndjson
    }

    fn parse_body(&self, _: &WireRequest<'_>, body: &Value) -> Result<Vec<Event>, ParseError> {
        let mut events = parse_object(body)?;
        if events.last() != Some(&Event::Done) {
            events.push(Event::Done);
        }
        Ok(events)
    }

    fn parse_stream(
        &self,
        _: &WireRequest<'_>,
        _event: &str,
        data: &str,
    ) -> Result<Vec<Event>, ParseError> {
        parse_object(&parse_json(data)?)
    }

    fn list_models(&self) -> Option<HttpCall> {
        Some(HttpCall::get(Base::Root, "/api/tags"))
    }

    fn parse_models(&self, body: &Value) -> Vec<String> {
        body.get("models")
            .and_then(Value::as_array)
            .map(|models| {
                models
                    .iter()
                    .filter_map(|m| {
                        m.get("name")
                            .or_else(|| m.get("model"))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn model_must_be_listed(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_bodies() {
        let template = "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>";
        let request = WireRequest {
            model: "qwen",
            prompt: "a",
            suffix: Some("b"),
            fim_template: Some(template),
            max_tokens: 5,
            ..WireRequest::default()
        };
        let call = Ollama.build(&request).unwrap();
        assert_eq!(call.path, "/api/generate");
        assert_eq!(call.body["raw"], true);
        assert_eq!(
            call.body["prompt"],
            "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>"
        );
        assert_eq!(call.body["options"]["num_predict"], 5);
        let native = Ollama
            .build(&WireRequest {
                fim_template: None,
                ..request.clone()
            })
            .unwrap();
        assert_eq!(native.body["suffix"], "b");
        assert!(native.body.get("raw").is_none());
    }

    #[test]
    fn ndjson_lines() {
        let r = WireRequest::default();
        assert_eq!(
            Ollama
                .parse_stream(&r, "", r#"{"response":"x","done":false}"#)
                .unwrap(),
            vec![Event::Text("x".into())]
        );
        let last = Ollama
            .parse_stream(
                &r,
                "",
                r#"{"response":"","done":true,"done_reason":"length","prompt_eval_count":4,"eval_count":2}"#,
            )
            .unwrap();
        assert_eq!(last.last(), Some(&Event::Done));
        assert!(last.contains(&Event::Finish(FinishReason::Length)));
        assert!(
            Ollama
                .parse_stream(&r, "", r#"{"error":"model not found"}"#)
                .is_err()
        );
        assert!(Ollama.parse_stream(&r, "", r#"{"foo":1}"#).is_err());
    }
}
