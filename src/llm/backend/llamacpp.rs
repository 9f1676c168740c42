//! llama.cpp's native server API: `/infill` (`input_prefix`, `input_suffix`, `input_extra`) for
//! fill-in-the-middle, `/completion` for plain or templated prompts, and the server's
//! OpenAI-compatible `/v1/chat/completions` for `api = "chat"`.

use serde_json::{Map, Value, json};

use super::openai::{chat_body, parse_choice_body, parse_choice_chunk};
use super::{
    Api, Backend, Base, Event, HttpCall, ParseError, WireRequest, count, embedded_error,
    finish_reason, parse_json,
};
use crate::llm::types::FinishReason;

/// The llama.cpp backend.
#[derive(Debug, Clone, Copy)]
pub struct LlamaCpp;

fn parse_object(value: &Value) -> Result<Vec<Event>, ParseError> {
    if let Some(error) = embedded_error(value) {
        return Err(error);
    }
    if value.get("choices").is_some() {
        let mut events = Vec::new();
        super::openai::parse_choices(value, &mut events)?;
        return Ok(events);
    }
    let Some(text) = value.get("content").and_then(Value::as_str) else {
        return Err(ParseError::new("the reply has no `content`"));
    };
    let mut events = Vec::new();
    if !text.is_empty() {
        events.push(Event::Text(text.to_owned()));
    }
    if value.get("stop").and_then(Value::as_bool) == Some(true) {
        let reason = value
            .get("stop_type")
            .and_then(Value::as_str)
            .map(finish_reason)
            .unwrap_or(FinishReason::Stop);
        events.push(Event::Finish(reason));
        let prompt = count(value.get("tokens_evaluated"))
            .or_else(|| count(value.pointer("/timings/prompt_n")));
        let completion = count(value.get("tokens_predicted"))
            .or_else(|| count(value.pointer("/timings/predicted_n")));
        if prompt.is_some() || completion.is_some() {
            events.push(Event::Usage { prompt, completion });
        }
        events.push(Event::Done);
    }
    Ok(events)
}

impl Backend for LlamaCpp {
    fn name(&self) -> &'static str {
        "llamacpp"
    }

    fn build(&self, request: &WireRequest<'_>) -> Result<HttpCall, String> {
        if request.api == Api::Chat {
            return Ok(HttpCall::post(
                Base::Root,
                "/v1/chat/completions",
                chat_body(request, true),
            ));
        }
        let mut body = Map::new();
        body.insert("n_predict".into(), json!(request.max_tokens));
        body.insert("temperature".into(), json!(request.temperature));
        if !request.stop.is_empty() {
            body.insert("stop".into(), json!(request.stop));
        }
        body.insert("stream".into(), json!(request.stream));
        // The server keeps the prompt's tokens and evaluates only what differs from the last
        // prompt of the slot: one document on one slot keeps its cache.
        body.insert("cache_prompt".into(), json!(true));
        if let Some(slot) = request.slot {
            body.insert("id_slot".into(), json!(slot));
        }
        if let Some(limit) = request.generation_limit_ms {
            body.insert("t_max_predict_ms".into(), json!(limit));
        }
        let path = match (request.templated_prompt(), request.suffix) {
            (Some(prompt), _) => {
                body.insert("prompt".into(), json!(prompt));
                "/completion"
            }
            (None, Some(suffix)) => {
                body.insert("input_prefix".into(), json!(request.prompt));
                body.insert("input_suffix".into(), json!(suffix));
                let extra: Vec<Value> = request
                    .extra
                    .iter()
                    .map(|c| json!({"filename": c.filename, "text": c.text}))
                    .collect();
                body.insert("input_extra".into(), Value::Array(extra));
                body.insert("prompt".into(), json!(""));
                "/infill"
            }
            (None, None) => {
                body.insert("prompt".into(), json!(request.prompt_with_extra()));
                "/completion"
            }
        };
        Ok(HttpCall::post(Base::Root, path, Value::Object(body)))
    }

    fn parse_body(
        &self,
        request: &WireRequest<'_>,
        body: &Value,
    ) -> Result<Vec<Event>, ParseError> {
        if request.api == Api::Chat {
            return parse_choice_body(body);
        }
        let mut events = parse_object(body)?;
        if events.last() != Some(&Event::Done) {
            events.push(Event::Done);
        }
        Ok(events)
    }

    fn parse_stream(
        &self,
        request: &WireRequest<'_>,
        _event: &str,
        data: &str,
    ) -> Result<Vec<Event>, ParseError> {
        if request.api == Api::Chat {
            return parse_choice_chunk(data);
        }
        if data.trim() == "[DONE]" {
            return Ok(vec![Event::Done]);
        }
        parse_object(&parse_json(data)?)
    }

    fn list_models(&self) -> Option<HttpCall> {
        Some(HttpCall::get(Base::Root, "/v1/models"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::types::ExtraContext;

    #[test]
    fn infill_body_carries_extra_context() {
        let extra = vec![ExtraContext {
            filename: "lib.rs".into(),
            text: "fn g() {}".into(),
        }];
        let request = WireRequest {
            prompt: "fn f() {",
            suffix: Some("}"),
            extra: &extra,
            max_tokens: 7,
            ..WireRequest::default()
        };
        let call = LlamaCpp.build(&request).unwrap();
        assert_eq!(call.path, "/infill");
        assert_eq!(call.body["input_prefix"], "fn f() {");
        assert_eq!(call.body["input_extra"][0]["filename"], "lib.rs");
        assert_eq!(call.body["n_predict"], 7);
        assert_eq!(call.body["cache_prompt"], true);
        assert!(call.body.get("id_slot").is_none());
        assert!(call.body.get("t_max_predict_ms").is_none());
        let pinned = LlamaCpp
            .build(&WireRequest {
                slot: Some(2),
                generation_limit_ms: Some(400),
                ..request.clone()
            })
            .unwrap();
        assert_eq!(pinned.body["id_slot"], 2);
        assert_eq!(pinned.body["t_max_predict_ms"], 400);
        let plain = LlamaCpp
            .build(&WireRequest {
                suffix: None,
                ..request
            })
            .unwrap();
        assert_eq!(plain.path, "/completion");
        assert!(
            plain.body["prompt"]
                .as_str()
                .unwrap()
                .starts_with("lib.rs\n")
        );
    }

    #[test]
    fn native_stream_chunks() {
        let r = WireRequest::default();
        assert_eq!(
            LlamaCpp
                .parse_stream(&r, "", r#"{"content":"a","stop":false}"#)
                .unwrap(),
            vec![Event::Text("a".into())]
        );
        let last = LlamaCpp
            .parse_stream(
                &r,
                "",
                r#"{"content":"","stop":true,"stop_type":"limit","tokens_evaluated":3,"tokens_predicted":2}"#,
            )
            .unwrap();
        assert_eq!(last.last(), Some(&Event::Done));
        assert!(last.contains(&Event::Finish(FinishReason::Length)));
    }
}
