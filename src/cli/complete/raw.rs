//! `augur complete --prompt`: one raw completion from a configured model, sent as it is (no
//! workspace, no retrieval), printed as it streams with `--stream`.

use std::collections::BTreeMap;
use std::io::Write;

use futures::StreamExt;

use crate::llm::{
    CompletionRequest, LlmClient, LlmDeps, LlmError, LlmSettings, ModelConfig, StreamEvent,
};

/// What `augur complete --prompt` sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawArgs {
    /// The configured model to use.
    pub model: String,
    /// The prompt (the text before the cursor).
    pub prompt: String,
    /// The text after the cursor, for fill-in-the-middle.
    pub suffix: Option<String>,
    /// Print the answer as it is generated.
    pub stream: bool,
    /// The most tokens to generate (default: the model's `max_tokens`).
    pub max_tokens: Option<u32>,
    /// The sampling temperature (default: the model's `temperature`).
    pub temperature: Option<f32>,
    /// A stop sequence (repeatable).
    pub stop: Vec<String>,
    /// After the answer, print usage and latency on a line of its own.
    pub show_usage: bool,
}

/// Sends the raw prompt and prints the answer (as it streams with `--stream`).
pub async fn run_raw(
    models: &BTreeMap<String, ModelConfig>,
    settings: &LlmSettings,
    args: &RawArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let client = LlmClient::new(
        models,
        LlmDeps {
            settings: settings.clone(),
            ..LlmDeps::default()
        },
    )
    .map_err(|e| anyhow::anyhow!("{e} [{}]; {}", e.code(), e.hint()))?;
    let request = CompletionRequest {
        prompt: args.prompt.clone(),
        suffix: args.suffix.clone(),
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        stop: args.stop.clone(),
        stream: args.stream,
        ..CompletionRequest::new(args.model.clone())
    };
    let fail = |e: LlmError| anyhow::anyhow!("{e} [{}]; {}", e.code(), e.hint());
    let completion = if args.stream {
        let mut stream = client.stream(request).map_err(fail)?;
        let mut done = None;
        while let Some(item) = stream.next().await {
            match item.map_err(fail)? {
                StreamEvent::Delta(text) => {
                    out.write_all(text.as_bytes())?;
                    out.flush()?;
                }
                StreamEvent::Done(completion) => done = Some(completion),
            }
        }
        done.ok_or_else(|| anyhow::anyhow!("the stream ended without an answer"))?
    } else {
        let completion = client.complete(request).await.map_err(fail)?;
        out.write_all(completion.text.as_bytes())?;
        completion
    };
    writeln!(out)?;
    if args.show_usage {
        let usage = completion
            .usage
            .map(|u| {
                format!(
                    "{} prompt + {} generated tokens",
                    u.prompt_tokens, u.completion_tokens
                )
            })
            .unwrap_or_else(|| "usage not reported".into());
        writeln!(
            out,
            "[{usage}; {} ms; first token {} ms; {}{}]",
            completion.elapsed.as_millis(),
            completion
                .time_to_first_token
                .map_or("-".into(), |d| d.as_millis().to_string()),
            completion.endpoint,
            if completion.cached { "; cached" } else { "" }
        )?;
    }
    Ok(())
}
