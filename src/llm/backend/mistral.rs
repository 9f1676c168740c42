//! Mistral's Codestral fill-in-the-middle API (`/v1/fim/completions`, prompt + suffix), and its
//! chat API for `api = "chat"`. Replies have the OpenAI chat shape.

use serde_json::{Map, Value, json};

use super::openai::{chat_body, parse_choice_body, parse_choice_chunk, sampling};
use super::{Api, Backend, Base, Event, HttpCall, ParseError, WireRequest};

/// The Mistral backend.
#[derive(Debug, Clone, Copy)]
pub struct Mistral;

impl Backend for Mistral {
    fn name(&self) -> &'static str {
        "mistral"
    }

    fn build(&self, request: &WireRequest<'_>) -> Result<HttpCall, String> {
        if request.api == Api::Chat {
            return Ok(HttpCall::post(
                Base::Versioned,
                "chat/completions",
                chat_body(request, false),
            ));
        }
        let mut body = Map::new();
        body.insert("model".into(), json!(request.model));
        body.insert("prompt".into(), json!(request.prompt_with_extra()));
        if let Some(suffix) = request.suffix {
            body.insert("suffix".into(), json!(suffix));
        }
        sampling(&mut body, request);
        Ok(HttpCall::post(
            Base::Versioned,
            "fim/completions",
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

    fn model_must_be_listed(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fim_body() {
        let request = WireRequest {
            model: "codestral-latest",
            prompt: "def f(",
            suffix: Some("):"),
            max_tokens: 16,
            ..WireRequest::default()
        };
        let call = Mistral.build(&request).unwrap();
        assert_eq!(call.path, "fim/completions");
        assert_eq!(call.body["suffix"], "):");
        assert_eq!(call.body["max_tokens"], 16);
    }
}
