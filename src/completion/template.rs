//! Prompt formats: the table of fill-in-the-middle templates, user-defined templates, the chat
//! format, comments in each language (for the path header of context snippets), and the rendering
//! of a built prompt in its format ([`render_prompt`]).
//!
//! ```
//! use augur::completion::template::{PromptFormat, render};
//!
//! let format = PromptFormat::parse("qwen");
//! let PromptFormat::Fim(template) = &format else { unreachable!() };
//! let fields = [("prefix", "fn a() {"), ("suffix", "}")];
//! assert_eq!(render(template.text, &fields), "<|fim_prefix|>fn a() {<|fim_suffix|>}<|fim_middle|>");
//! ```

use std::fmt::Write as _;

use crate::syntax::Language;

/// A built-in fill-in-the-middle template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FimTemplate {
    /// The names it is chosen by in `completion.template`.
    pub names: &'static [&'static str],
    /// The template, with `{prefix}` and `{suffix}`.
    pub text: &'static str,
    /// Stop sequences: the model's end-of-text and file-separator tokens.
    pub stop: &'static [&'static str],
}

/// The fill-in-the-middle templates of the model families augur knows, from their model cards.
pub const FIM_TEMPLATES: &[FimTemplate] = &[
    FimTemplate {
        names: &["starcoder", "starcoder2", "santacoder", "stable-code"],
        text: "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
        stop: &["<|endoftext|>", "<file_sep>", "<fim_prefix>"],
    },
    FimTemplate {
        names: &["codellama", "code-llama"],
        text: "<PRE> {prefix} <SUF>{suffix} <MID>",
        stop: &["<EOT>", "</s>"],
    },
    FimTemplate {
        names: &["deepseek", "deepseek-coder"],
        text: "<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",
        stop: &["<｜end▁of▁sentence｜>", "<|EOT|>"],
    },
    FimTemplate {
        names: &["qwen", "qwen2.5-coder", "qwen-coder"],
        text: "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        stop: &["<|endoftext|>", "<|file_sep|>", "<|fim_pad|>", "<|im_end|>"],
    },
    FimTemplate {
        names: &["codestral", "mistral"],
        text: "[SUFFIX]{suffix}[PREFIX]{prefix}",
        stop: &["</s>", "[PREFIX]", "[SUFFIX]"],
    },
    FimTemplate {
        names: &["codegemma"],
        text: "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        stop: &["<|file_separator|>", "<|fim_prefix|>", "<end_of_turn>"],
    },
];

/// How a prompt is laid out, from `completion.template`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptFormat {
    /// Prefix and suffix go to the LLM client as they are; it applies the model's `fim_template`
    /// or the backend's own fill-in-the-middle API.
    Auto,
    /// The prefix only (models without fill-in-the-middle).
    PrefixOnly,
    /// An instruction with the file and a cursor marker, for chat models.
    Chat,
    /// A built-in template.
    Fim(&'static FimTemplate),
    /// A user-defined template.
    Custom(String),
}

impl PromptFormat {
    /// Reads `completion.template`: `auto`, `none`, `chat`, a built-in name (any case), or else a
    /// template of the user's own.
    pub fn parse(text: &str) -> PromptFormat {
        let lower = text.trim().to_ascii_lowercase();
        match lower.as_str() {
            "" | "auto" => PromptFormat::Auto,
            "none" | "prefix" => PromptFormat::PrefixOnly,
            "chat" => PromptFormat::Chat,
            _ => FIM_TEMPLATES
                .iter()
                .find(|t| t.names.contains(&lower.as_str()))
                .map(PromptFormat::Fim)
                .unwrap_or_else(|| PromptFormat::Custom(text.to_string())),
        }
    }

    /// A short name for `--explain` and logs.
    pub fn name(&self) -> String {
        match self {
            PromptFormat::Auto => "auto".into(),
            PromptFormat::PrefixOnly => "none".into(),
            PromptFormat::Chat => "chat".into(),
            PromptFormat::Fim(t) => t.names[0].into(),
            PromptFormat::Custom(_) => "custom".into(),
        }
    }

    /// The stop sequences that go with the format.
    pub fn stop(&self) -> Vec<String> {
        match self {
            PromptFormat::Fim(t) => t.stop.iter().map(|s| s.to_string()).collect(),
            _ => Vec::new(),
        }
    }
}

/// Replaces `{name}` placeholders in one pass, so text that itself contains `{suffix}` (say, in a
/// format string of the user's code) is never substituted again. Unknown placeholders stay as
/// written.
pub fn render(template: &str, fields: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + fields.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let replaced = after.find('}').and_then(|close| {
            let name = &after[..close];
            fields
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (value, close))
        });
        match replaced {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The line-comment markers of a language: the opening and, for block-only syntaxes, the closing.
pub fn comment_markers(language: Option<Language>) -> (&'static str, &'static str) {
    match language {
        Some(
            Language::Python | Language::Ruby | Language::Bash | Language::Toml | Language::Yaml,
        ) => ("# ", ""),
        Some(Language::Lua) => ("-- ", ""),
        Some(Language::Html | Language::Markdown) => ("<!-- ", " -->"),
        Some(Language::Css) => ("/* ", " */"),
        _ => ("// ", ""),
    }
}

/// `text` as a comment in `language`, one comment per line.
pub fn comment(language: Option<Language>, text: &str) -> String {
    let (open, close) = comment_markers(language);
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(open);
        out.push_str(line);
        out.push_str(close);
        out.push('\n');
    }
    out
}

/// The cursor marker of the chat format.
pub const CURSOR_MARK: &str = "<CURSOR>";

/// The instruction of the chat format (sent in the user message: the LLM client's own system
/// prompt, if the model has one, still applies).
pub const CHAT_INSTRUCTION: &str = "You are a code completion engine. Complete the code at <CURSOR>. \
Reply with only the text to insert at <CURSOR>: no explanations, no code fences, and do not repeat \
the code before or after <CURSOR>.";

/// The texts a prompt is rendered from.
#[derive(Debug, Clone, Copy)]
pub struct PromptFields<'a> {
    /// The context snippets from other files, already rendered.
    pub context: &'a str,
    /// The comment naming the current file (empty without a path).
    pub header: &'a str,
    /// The text before the cursor.
    pub prefix: &'a str,
    /// The text after the cursor.
    pub suffix: &'a str,
    /// The path shown to the model, if the document has one.
    pub path: Option<&'a str>,
    /// The language's name, if it is known.
    pub language: Option<&'a str>,
}

/// Renders the prompt in `format`: the text sent, and the suffix sent beside it for a backend's
/// own fill-in-the-middle (only with [`PromptFormat::Auto`]).
pub fn render_prompt(format: &PromptFormat, fields: &PromptFields<'_>) -> (String, Option<String>) {
    let PromptFields {
        context,
        header,
        prefix,
        suffix,
        path,
        language,
    } = *fields;
    let language_name = language.unwrap_or("text");
    let full_prefix = format!("{context}{header}{prefix}");
    match format {
        PromptFormat::Auto => (full_prefix, Some(suffix.to_owned())),
        PromptFormat::PrefixOnly => (full_prefix, None),
        PromptFormat::Fim(t) => (
            render(t.text, &[("prefix", &full_prefix), ("suffix", suffix)]),
            None,
        ),
        PromptFormat::Custom(text) => {
            let has_context = text.contains("{context}");
            let prefix_field = if has_context {
                format!("{header}{prefix}")
            } else {
                full_prefix
            };
            (
                render(
                    text,
                    &[
                        ("prefix", &prefix_field),
                        ("suffix", suffix),
                        ("context", context),
                        ("path", path.unwrap_or("")),
                        ("language", language_name),
                    ],
                ),
                None,
            )
        }
        PromptFormat::Chat => {
            let mut message = String::from(CHAT_INSTRUCTION);
            message.push_str("\n\n");
            if !context.is_empty() {
                message.push_str("Context from other files:\n");
                message.push_str(context);
                message.push('\n');
            }
            let _ = writeln!(
                message,
                "File: {} ({language_name})",
                path.unwrap_or("untitled")
            );
            message.push_str(prefix);
            message.push_str(CURSOR_MARK);
            message.push_str(suffix);
            (message, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pick_templates_and_anything_else_is_custom() {
        assert!(
            matches!(PromptFormat::parse("StarCoder2"), PromptFormat::Fim(t) if t.names[0] == "starcoder")
        );
        assert_eq!(PromptFormat::parse("auto"), PromptFormat::Auto);
        assert_eq!(PromptFormat::parse("chat"), PromptFormat::Chat);
        assert_eq!(
            PromptFormat::parse("<a>{prefix}<b>{suffix}"),
            PromptFormat::Custom("<a>{prefix}<b>{suffix}".into())
        );
    }

    #[test]
    fn rendering_is_one_pass() {
        let out = render(
            "A{prefix}B{suffix}C{other}",
            &[("prefix", "x{suffix}"), ("suffix", "y")],
        );
        assert_eq!(out, "Ax{suffix}ByC{other}");
        assert_eq!(render("{", &[]), "{");
        assert_eq!(render("{{prefix}}", &[("prefix", "p")]), "{p}");
    }

    #[test]
    fn comments_follow_the_language() {
        assert_eq!(comment(Some(Language::Python), "a.py"), "# a.py\n");
        assert_eq!(comment(Some(Language::Rust), "a.rs"), "// a.rs\n");
        assert_eq!(comment(Some(Language::Html), "a"), "<!-- a -->\n");
    }
}
