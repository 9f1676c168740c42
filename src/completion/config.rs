//! Configuration of AI completions (`[completion]` in the root configuration).
//!
//! ```
//! use augur::completion::config::{CompletionConfig, CompletionMode};
//!
//! let config: CompletionConfig = toml::from_str("mode = \"both\"\ntemplate = \"qwen\"").unwrap();
//! assert_eq!(config.mode, CompletionMode::Both);
//! assert_eq!(config.debounce_ms, 75);
//! assert!(toml::from_str::<CompletionConfig>("debounce = 3").is_err());
//! ```

use serde::{Deserialize, Serialize};

/// How completions reach the editor.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CompletionMode {
    /// `textDocument/inlineCompletion` (ghost text), for clients that advertise it.
    #[default]
    Inline,
    /// `textDocument/completion` items carrying the AI text, for clients without inline completion.
    Items,
    /// Both of the above.
    Both,
}

/// Whether a suggestion may span several lines.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum MultilinePolicy {
    /// Decided from the syntax at the cursor: several lines on an empty line or after a block
    /// opener, one line in the middle of a line, a string or a comment.
    #[default]
    Auto,
    /// Always allow several lines (still trimmed to the end of the current block).
    Always,
    /// Never more than the rest of the current line.
    Never,
}

/// When the engine asks the model while the person types, before the editor asks: at each typed
/// character the suggestion at hand does not continue, so that the answer is ready, or on its
/// way, when the editor asks a few keystrokes later.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AskWhileTyping {
    /// When every endpoint of the model is on this machine (a loopback address), where a call
    /// costs only time; not for a hosted API, where each call may be billed.
    #[default]
    Local,
    /// Whatever the model's endpoints.
    Always,
    /// Only when the editor asks (and once a suggestion was accepted).
    Never,
}

/// Settings of AI completions. Every field has a default, so a table only names what differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CompletionConfig {
    /// How completions are offered: `inline`, `items` or `both`.
    pub mode: CompletionMode,
    /// The configured model (a key of `[models]`) that writes completions.
    pub model: String,
    /// The base delay before an automatic (as-you-type) request goes out, in milliseconds.
    /// Invoked requests are never delayed.
    pub debounce_ms: u64,
    /// The shortest adaptive delay, in milliseconds.
    pub debounce_min_ms: u64,
    /// The longest adaptive delay, in milliseconds (the delay grows with the backend's recent
    /// latency, up to this, and shrinks to one and a half of the usual gap between two
    /// keystrokes when the person types faster than that).
    pub debounce_max_ms: u64,
    /// The most tokens a suggestion may have.
    pub max_tokens: u32,
    /// The sampling temperature.
    pub temperature: f32,
    /// How long a completion may take in all before it is given up, in milliseconds.
    pub timeout_ms: u64,
    /// Token budget of the text before the cursor (unused suffix budget is added to it).
    pub prefix_tokens: usize,
    /// Token budget of the text after the cursor.
    pub suffix_tokens: usize,
    /// Token budget of the context from other files (definitions, similar code, open documents).
    pub context_tokens: usize,
    /// The most tokens of one context snippet; longer ones are cut at a line end.
    pub snippet_tokens: usize,
    /// The most snippets taken from any one other file.
    pub max_snippets_per_file: usize,
    /// The most definitions looked up in the index.
    pub max_definitions: usize,
    /// The most similar chunks looked up in the index.
    pub max_similar_chunks: usize,
    /// How many lines before the cursor make the query for similar code and for the identifiers
    /// whose definitions are looked up.
    pub query_lines: usize,
    /// Whether other open documents may contribute context.
    pub use_open_documents: bool,
    /// The prompt format: `auto` (the prefix and suffix go to the LLM client, which applies the
    /// model's `fim_template` or the backend's own fill-in-the-middle support), `none` (the prefix
    /// only, for models without fill-in-the-middle), `chat` (an instruction with the cursor marked,
    /// for chat-only models; use `api = "chat"` on the model), a built-in template name
    /// (`starcoder`, `starcoder2`, `codellama`, `deepseek`, `qwen`, `codestral`, `codegemma`), or a
    /// template of your own with the placeholders `{prefix}`, `{suffix}`, `{context}`, `{path}`
    /// and `{language}` (without `{context}`, the context goes in front of the prefix).
    pub template: String,
    /// Whether suggestions may span several lines: `auto`, `always` or `never`.
    pub multiline: MultilinePolicy,
    /// Whether a multi-line suggestion that leaves more syntax errors (tree-sitter) around the
    /// cursor than before is dropped.
    pub reject_syntax_errors: bool,
    /// The prompt-cache slots of the model server (llama.cpp's `--parallel`; its `/props` says
    /// `total_slots`), for the `llamacpp` backend. With a number, each document keeps to one slot
    /// (`id_slot`), so that moving between files does not make the server read a whole prompt
    /// again. 0 lets the server choose a slot by the prompt's similarity. Never more than the
    /// server has: llama.cpp waits for a slot that does not exist.
    pub server_slots: u32,
    /// Whether the model is asked while the person types, before the editor asks: `local` (the
    /// default: when the model runs on this machine), `always` or `never`.
    pub ask_while_typing: AskWhileTyping,
}

impl CompletionConfig {
    /// Checks what the types cannot: `template` names a prompt format or is a template of one's
    /// own that places the prefix (a misspelt name would otherwise be sent to the model as the
    /// whole prompt). `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        use super::template::{FIM_TEMPLATES, PromptFormat};
        if let PromptFormat::Custom(text) = PromptFormat::parse(&self.template)
            && !text.contains("{prefix}")
        {
            let names: Vec<&str> = ["auto", "none", "chat"]
                .into_iter()
                .chain(FIM_TEMPLATES.iter().flat_map(|t| t.names.iter().copied()))
                .collect();
            return Err((
                "template".into(),
                format!(
                    "`{text}` is neither a prompt format ({}) nor a template with `{{prefix}}`",
                    names.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

impl Default for CompletionConfig {
    fn default() -> Self {
        Self {
            mode: CompletionMode::Inline,
            model: "default".into(),
            debounce_ms: 75,
            debounce_min_ms: 25,
            debounce_max_ms: 1_000,
            max_tokens: 128,
            temperature: 0.2,
            timeout_ms: 15_000,
            prefix_tokens: 1_024,
            suffix_tokens: 256,
            context_tokens: 768,
            snippet_tokens: 192,
            max_snippets_per_file: 2,
            max_definitions: 8,
            max_similar_chunks: 4,
            query_lines: 20,
            use_open_documents: true,
            template: "auto".into(),
            multiline: MultilinePolicy::Auto,
            reject_syntax_errors: true,
            server_slots: 0,
            ask_while_typing: AskWhileTyping::Local,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_unknown_fields() {
        let config = CompletionConfig {
            template: "<PRE> {prefix} <SUF>{suffix} <MID>".into(),
            multiline: MultilinePolicy::Never,
            ..CompletionConfig::default()
        };
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(
            serde_json::from_str::<CompletionConfig>(&json).unwrap(),
            config
        );
        assert!(serde_json::from_str::<CompletionConfig>(r#"{"mode":"ghost"}"#).is_err());
        assert!(serde_json::from_str::<CompletionConfig>(r#"{"modle":"x"}"#).is_err());
    }
}
