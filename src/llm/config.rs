//! Configuration of models and their endpoints (`[models.NAME]` tables).

use serde::{Deserialize, Serialize};

/// One named model (`[models.default]`): which backend serves it and how to reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// The protocol spoken: `openai`, `ollama`, `llamacpp`, `anthropic` or `mistral`.
    pub backend: String,
    /// The base URL of the API, for example `http://127.0.0.1:8090/v1`.
    pub url: String,
    /// The model name sent to the backend.
    pub model: String,
    /// The environment variable that holds the API key, if the backend needs one.
    pub api_key_env: Option<String>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            backend: "openai".into(),
            url: "http://127.0.0.1:8090/v1".into(),
            model: "SmolLM2-135M".into(),
            api_key_env: None,
        }
    }
}
