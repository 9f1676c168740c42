//! Token counting: a model's own tokenizer from a local Hugging Face `tokenizer.json`, `tiktoken`
//! encodings for OpenAI models, and a documented approximation for the others.
//!
//! The approximation counts one token per four bytes of UTF-8, rounded up. BPE vocabularies of
//! current models average 3.5 to 4.5 bytes per token on English text and source code, so the
//! estimate is within about 20% for such text (it overestimates dense non-Latin text less than a
//! per-character count would). A `tokenizer` setting that names a `.json` file loads that file with
//! the `tokenizers` crate (built without its C and C++ parts), so counts match the model exactly.
//!
//! ```
//! use augur::llm::tokens::TokenCounter;
//! let counter = TokenCounter::from_config("cl100k_base", "any").unwrap();
//! assert_eq!(counter.count("hello world"), 2);
//! assert_eq!(TokenCounter::Approx.count("abcdefgh"), 2);
//! assert!(TokenCounter::from_config("/no/such/tokenizer.json", "any").is_err());
//! ```

use std::sync::Arc;

use tiktoken_rs::CoreBPE;

/// A way of counting tokens.
#[derive(Clone)]
pub enum TokenCounter {
    /// One token per four bytes, rounded up.
    Approx,
    /// A `tiktoken` encoding.
    Tiktoken {
        /// The encoding name, e.g. `cl100k_base`.
        name: &'static str,
        /// The loaded encoding, shared by every counter that uses it.
        bpe: &'static CoreBPE,
    },
    /// A model's own tokenizer, loaded from a `tokenizer.json` file.
    HuggingFace(Arc<tokenizers::Tokenizer>),
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenCounter::Approx => f.write_str("Approx"),
            TokenCounter::Tiktoken { name, .. } => write!(f, "Tiktoken({name})"),
            TokenCounter::HuggingFace(_) => f.write_str("HuggingFace"),
        }
    }
}

fn load(name: &str) -> Option<(&'static str, &'static CoreBPE)> {
    // The singletons build each encoding once, on first use (tens of milliseconds).
    match name {
        "cl100k_base" => Some(("cl100k_base", tiktoken_rs::cl100k_base_singleton())),
        "o200k_base" => Some(("o200k_base", tiktoken_rs::o200k_base_singleton())),
        "p50k_base" => Some(("p50k_base", tiktoken_rs::p50k_base_singleton())),
        "r50k_base" => Some(("r50k_base", tiktoken_rs::r50k_base_singleton())),
        _ => None,
    }
}

/// The tiktoken encoding OpenAI uses for a model name, if it is an OpenAI model.
fn encoding_for_model(model: &str) -> Option<&'static str> {
    let model = model.rsplit('/').next().unwrap_or(model);
    if model.starts_with("gpt-4o")
        || model.starts_with("gpt-4.1")
        || model.starts_with("gpt-5")
        || model.starts_with("o1")
        || model.starts_with("o3")
        || model.starts_with("o4")
    {
        Some("o200k_base")
    } else if model.starts_with("gpt-4")
        || model.starts_with("gpt-3.5")
        || model.starts_with("text-embedding")
    {
        Some("cl100k_base")
    } else if model.starts_with("text-davinci") || model.starts_with("code-") {
        Some("p50k_base")
    } else {
        None
    }
}

impl TokenCounter {
    /// The counter for a model's `tokenizer` setting and its backend model name, or what is wrong
    /// with the setting.
    pub fn from_config(tokenizer: &str, model: &str) -> Result<TokenCounter, String> {
        match tokenizer {
            "approx" => Ok(TokenCounter::Approx),
            "auto" => Ok(encoding_for_model(model)
                .and_then(load)
                .map(|(name, bpe)| TokenCounter::Tiktoken { name, bpe })
                .unwrap_or(TokenCounter::Approx)),
            path if path.ends_with(".json") => tokenizers::Tokenizer::from_file(path)
                .map(|t| TokenCounter::HuggingFace(Arc::new(t)))
                .map_err(|e| format!("`tokenizer` file {path} cannot be loaded: {e}")),
            other => load(other).map(|(name, bpe)| TokenCounter::Tiktoken { name, bpe }).ok_or_else(|| {
                format!(
                    "`tokenizer` must be auto, approx, cl100k_base, o200k_base, p50k_base, r50k_base \
                     or the path of a tokenizer.json file, not `{other}`"
                )
            }),
        }
    }

    /// The number of tokens in `text`.
    pub fn count(&self, text: &str) -> usize {
        match self {
            TokenCounter::Approx => approx_tokens(text),
            TokenCounter::Tiktoken { bpe, .. } => bpe.encode_ordinary(text).len(),
            // An encoding error (never seen for valid UTF-8) falls back to the approximation.
            TokenCounter::HuggingFace(tokenizer) => tokenizer
                .encode(text, false)
                .map(|encoding| encoding.len())
                .unwrap_or_else(|_| approx_tokens(text)),
        }
    }

    /// The name of the method, for diagnostics (`approx`, `cl100k_base`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            TokenCounter::Approx => "approx",
            TokenCounter::Tiktoken { name, .. } => name,
            TokenCounter::HuggingFace(_) => "tokenizer.json",
        }
    }
}

/// One token per four bytes, rounded up.
pub fn approx_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_models_get_their_encoding_and_others_the_approximation() {
        assert_eq!(
            TokenCounter::from_config("auto", "gpt-4o-mini")
                .unwrap()
                .name(),
            "o200k_base"
        );
        assert_eq!(
            TokenCounter::from_config("auto", "gpt-3.5-turbo")
                .unwrap()
                .name(),
            "cl100k_base"
        );
        assert_eq!(
            TokenCounter::from_config("auto", "qwen2.5-coder")
                .unwrap()
                .name(),
            "approx"
        );
        assert!(TokenCounter::from_config("nonsense", "x").is_err());
    }

    #[test]
    fn approximation_rounds_up() {
        assert_eq!(approx_tokens(""), 0);
        assert_eq!(approx_tokens("a"), 1);
        assert_eq!(approx_tokens("abcde"), 2);
    }

    #[test]
    fn a_tokenizer_json_counts_with_the_models_own_vocabulary() {
        // A tiny word-level tokenizer: whitespace-split words, unknown words map to [UNK].
        let json = r#"{
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
            "normalizer": null,
            "pre_tokenizer": {"type": "Whitespace"},
            "post_processor": null, "decoder": null,
            "model": {"type": "WordLevel", "vocab": {"fn": 0, "add": 1, "(": 2, ")": 3, "[UNK]": 4},
                      "unk_token": "[UNK]"}
        }"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        std::fs::write(&path, json).unwrap();
        let counter = TokenCounter::from_config(path.to_str().unwrap(), "local").unwrap();
        assert_eq!(counter.name(), "tokenizer.json");
        // The pre-tokenizer splits "fn add()" into "fn", "add" and "()" (unknown): 3 tokens.
        assert_eq!(counter.count("fn add()"), 3);
        // Three words of 20 letters are 3 tokens, where the approximation says 16.
        let long = "aaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbb cccccccccccccccccccc";
        assert_eq!(counter.count(long), 3);
        assert_eq!(approx_tokens(long), 16);
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "{").unwrap();
        let error = TokenCounter::from_config(broken.to_str().unwrap(), "local").unwrap_err();
        assert!(error.contains("cannot be loaded"), "{error}");
    }
}
