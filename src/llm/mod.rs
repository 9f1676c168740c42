//! The client for language-model backends (OpenAI-compatible, Ollama, llama.cpp, Anthropic,
//! Mistral FIM): one trait, rate limits, cache, retries, failover and cancellation.

pub mod config;
