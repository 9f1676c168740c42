//! Token counting: `tiktoken` encodings for OpenAI models, and a documented approximation for the
//! others.
//!
//! The approximation counts one token per four bytes of UTF-8, rounded up. BPE vocabularies of
//! current models average 3.5 to 4.5 bytes per token on English text and source code, so the
//! estimate is within about 20% for such text (it overestimates dense non-Latin text less than a
//! per-character count would). The `tokenizers` crate (Hugging Face `tokenizer.json`) is not used:
//! its default build needs C++ code, which this project avoids; for llama.cpp servers the exact
//! count is available from the server's `/tokenize` endpoint if ever needed.
//!
//! ```
//! use augur::llm::tokens::TokenCounter;
//! let counter = TokenCounter::from_config("cl100k_base", "any").unwrap();
//! assert_eq!(counter.count("hello world"), 2);
//! assert_eq!(TokenCounter::Approx.count("abcdefgh"), 2);
//! ```

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
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenCounter::Approx => f.write_str("Approx"),
            TokenCounter::Tiktoken { name, .. } => write!(f, "Tiktoken({name})"),
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
    /// The counter for a model's `tokenizer` setting and its backend model name. Returns `None`
    /// for an unknown setting.
    pub fn from_config(tokenizer: &str, model: &str) -> Option<TokenCounter> {
        match tokenizer {
            "approx" => Some(TokenCounter::Approx),
            "auto" => Some(
                encoding_for_model(model)
                    .and_then(load)
                    .map(|(name, bpe)| TokenCounter::Tiktoken { name, bpe })
                    .unwrap_or(TokenCounter::Approx),
            ),
            other => load(other).map(|(name, bpe)| TokenCounter::Tiktoken { name, bpe }),
        }
    }

    /// The number of tokens in `text`.
    pub fn count(&self, text: &str) -> usize {
        match self {
            TokenCounter::Approx => approx_tokens(text),
            TokenCounter::Tiktoken { bpe, .. } => bpe.encode_ordinary(text).len(),
        }
    }

    /// The name of the method, for diagnostics (`approx`, `cl100k_base`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            TokenCounter::Approx => "approx",
            TokenCounter::Tiktoken { name, .. } => name,
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
        assert!(TokenCounter::from_config("nonsense", "x").is_none());
    }

    #[test]
    fn approximation_rounds_up() {
        assert_eq!(approx_tokens(""), 0);
        assert_eq!(approx_tokens("a"), 1);
        assert_eq!(approx_tokens("abcde"), 2);
    }
}
