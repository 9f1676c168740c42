//! Secrets found by their content: well-known credential formats and secret-looking values
//! assigned to secret names, so that a file holding one is not indexed and a prompt carries a
//! placeholder instead of the value.
//!
//! What is found:
//!
//! - private key blocks (`-----BEGIN … PRIVATE KEY-----` with a key body, also inside JSON
//!   strings, and the part of a block a piece of text cut in two keeps);
//! - provider credentials by their format: AWS access key ids, GitHub, Slack, Stripe live,
//!   OpenAI and Anthropic keys and tokens, Google API keys, `Bearer` JSON web tokens, the
//!   `private_key` of a Google Cloud service-account file;
//! - a literal value assigned to a secret name (`*_KEY`, `*_SECRET`, `*_TOKEN`, `password`,
//!   `passwd`, `api_key`, `clientSecret`, …) in code, configuration, JSON, YAML or `.env` syntax,
//!   when it looks random: at least 16 characters, not words joined by separators, and of high
//!   Shannon entropy. Expressions (`password = input()`, `api_key = os.environ["X"]`) are not
//!   values and never match.
//!
//! [`find`] lists the secrets of a text, [`contains_secret`] says whether there is one, and
//! [`Redactor`] replaces them by placeholders (`<redacted:aws-access-key>`) and remembers the
//! values so that [`Redactions::restore`] (or a [`StreamRestore`] for a streamed reply) puts them
//! back into a model's answer.
//!
//! ```
//! use augur::secrets::{Redactor, contains_secret};
//!
//! let key = ["AKIA", "QX7Z3M5BT2WP9LKD"].concat();
//! let text = format!("aws_access_key_id = \"{key}\"\n");
//! assert!(contains_secret(&text));
//! assert!(!contains_secret("password = input()\n"));
//!
//! let inputs = [text.as_str()];
//! let mut redactor = Redactor::new(&inputs);
//! let sent = redactor.redact(&text).unwrap();
//! assert_eq!(sent, "aws_access_key_id = \"<redacted:aws-access-key>\"\n");
//! let redactions = redactor.finish();
//! assert_eq!(redactions.restore("id = \"<redacted:aws-access-key>\""), format!("id = \"{key}\""));
//! ```
//!
//! A clean text costs one pass of two regular expressions whose literal prefilters skip most of
//! it; the benches (`cargo bench --bench prompt -- redact`) measure a typical prompt.
//!
//! This module knows nothing of the Language Server Protocol.

mod patterns;
mod redact;

use std::ops::Range;

pub use redact::{Redactions, Redactor, StreamRestore};

/// The kind of a secret, named in its placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A PEM private key block.
    PrivateKey,
    /// An AWS access key id (`AKIA…`, `ASIA…`).
    AwsAccessKey,
    /// The private key of a Google Cloud service-account JSON file.
    GcpServiceAccount,
    /// A GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`).
    GithubToken,
    /// A Slack token (`xoxb-`, `xoxp-`, …).
    SlackToken,
    /// A Stripe live secret or restricted key.
    StripeKey,
    /// An OpenAI key (`sk-…`, `sk-proj-…`).
    OpenAiKey,
    /// An Anthropic key (`sk-ant-…`).
    AnthropicKey,
    /// A Google API key (`AIza…`).
    GoogleApiKey,
    /// A JSON web token given as a bearer token or assigned to a secret name.
    Jwt,
    /// A random-looking literal assigned to a secret name.
    SecretValue,
}

impl Kind {
    /// The name used in placeholders.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::PrivateKey => "private-key",
            Kind::AwsAccessKey => "aws-access-key",
            Kind::GcpServiceAccount => "gcp-service-account-key",
            Kind::GithubToken => "github-token",
            Kind::SlackToken => "slack-token",
            Kind::StripeKey => "stripe-key",
            Kind::OpenAiKey => "openai-key",
            Kind::AnthropicKey => "anthropic-key",
            Kind::GoogleApiKey => "google-api-key",
            Kind::Jwt => "jwt",
            Kind::SecretValue => "secret",
        }
    }
}

/// One secret in a text: its byte range and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundSecret {
    /// The bytes of the secret value (not its name nor its quotes).
    pub range: Range<usize>,
    /// What it is.
    pub kind: Kind,
}

/// The secrets in `text`, in order, not overlapping (overlapping finds are merged into the first).
pub fn find(text: &str) -> Vec<FoundSecret> {
    let mut found = Vec::new();
    patterns::scan(text, &mut |f| {
        found.push(f);
        true
    });
    merge(found)
}

/// Whether `text` holds a secret; stops at the first.
pub fn contains_secret(text: &str) -> bool {
    let mut any = false;
    patterns::scan(text, &mut |_| {
        any = true;
        false
    });
    any
}

/// Sorts finds by position (a provider's format before a generic value at the same place) and
/// merges overlapping ones.
fn merge(mut found: Vec<FoundSecret>) -> Vec<FoundSecret> {
    found.sort_by_key(|f| (f.range.start, f.kind == Kind::SecretValue, f.range.end));
    let mut merged: Vec<FoundSecret> = Vec::with_capacity(found.len());
    for f in found {
        match merged.last_mut() {
            Some(last) if f.range.start < last.range.end => {
                last.range.end = last.range.end.max(f.range.end);
            }
            _ => merged.push(f),
        }
    }
    merged
}

#[cfg(test)]
mod tests;
