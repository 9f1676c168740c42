//! "Explain with AI": markdown about the selection or the symbol at the cursor; nothing is
//! edited. The protocol layer shows it as a generated markdown document or a message.
//!
//! ```
//! use augur::actions::explain::clean_markdown;
//! assert_eq!(clean_markdown("<think>hm</think>\n\nIt adds.\n"), "It adds.");
//! ```
//!
//! A reply wrapped in a markdown code block (` ```markdown `, or a bare fence that is the whole
//! reply) is unwrapped, and the prose around such a block dropped; other code blocks stay.
//!
//! ```
//! use augur::actions::explain::markdown_answer;
//! assert_eq!(markdown_answer("Sure!\n```md\nIt adds.\n```"), "It adds.");
//! ```

use crate::syntax::Symbol;

use super::job::{Job, Output};
use super::{
    ActionContext, ActionError, ActionId, ActionKind, ActionOffer, ActionRequest, DOCUMENTABLE,
    whole_lines,
};

/// Offered when text is selected or the cursor is inside a function or type.
pub fn offer(ctx: &ActionContext, symbols: &[Symbol]) -> Option<ActionOffer> {
    let title = if ctx.has_selection() {
        "Explain selection with AI".to_owned()
    } else {
        let s = ctx.enclosing_in(symbols, DOCUMENTABLE)?;
        format!("Explain `{}` with AI", s.name)
    };
    Some(ActionOffer {
        id: ActionId::Explain,
        title,
        kind: ActionKind::Source,
        needs_instruction: false,
        edits: false,
    })
}

/// The prompt.
pub(crate) fn prepare(request: &ActionRequest) -> Result<Job, ActionError> {
    let ctx = &request.context;
    let (code, what) = if ctx.has_selection() {
        (
            ctx.text[ctx.selection()].to_owned(),
            "the selected code".to_owned(),
        )
    } else {
        let s = ctx
            .enclosing_symbol(DOCUMENTABLE)
            .ok_or_else(|| ActionError::NotApplicable("nothing to explain here".into()))?;
        let lines = whole_lines(&ctx.text, s.byte_range.clone());
        (ctx.text[lines].to_owned(), format!("`{}`", s.name))
    };
    Ok(Job {
        title: format!("Explanation of {what}"),
        task: format!(
            "Explain {what} to a programmer new to this code: what it does, how, and anything \
             surprising (edge cases, errors, performance)."
        ),
        sections: Vec::new(),
        subject: Some(("The code".into(), code)),
        answer: "Answer in concise Markdown.".into(),
        output: Output::Markdown,
    })
}

/// The tags of a fence that wraps prose rather than code.
const PROSE_TAGS: &[&str] = &["", "markdown", "md", "text", "txt", "plaintext"];

/// The markdown of an explanation: [`clean_markdown`], then, when the model wrapped its answer
/// in a code block of markdown (or one without a language that is the whole answer), what is
/// inside it, without a line of chatter before or after it. Other code blocks, and a markdown
/// block inside a longer explanation, stay: code in an explanation is markdown too.
///
/// ```
/// use augur::actions::explain::markdown_answer;
/// assert_eq!(markdown_answer("Here:\n```markdown\n# Adds\nIt adds.\n```\nBye."), "# Adds\nIt adds.");
/// assert_eq!(markdown_answer("```\nIt adds.\n```"), "It adds.");
/// assert_eq!(markdown_answer("It adds:\n```\na + b\n```"), "It adds:\n```\na + b\n```");
/// assert_eq!(markdown_answer("```sql\nSELECT 1;\n```"), "```sql\nSELECT 1;\n```");
/// let longer = "It writes a README:\n```md\n# Title\n```\nThen it returns.\nIt never fails.";
/// assert_eq!(markdown_answer(longer), longer);
/// ```
pub fn markdown_answer(answer: &str) -> String {
    let text = clean_markdown(answer).replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let fences: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim_start().starts_with("```"))
        .collect();
    let [open, close] = fences[..] else {
        return text;
    };
    let tag = lines[open].trim_start()[3..].trim().to_ascii_lowercase();
    let whole = open == 0 && close == lines.len() - 1;
    // A line of chatter before or after the block goes; an explanation around it stays.
    let outside = lines[..open]
        .iter()
        .chain(&lines[close + 1..])
        .filter(|l| !l.trim().is_empty())
        .count();
    let markdown = matches!(tag.as_str(), "markdown" | "md") && outside <= 2;
    if !(markdown || whole && PROSE_TAGS.contains(&tag.as_str())) {
        return text;
    }
    let inner = lines[open + 1..close].join("\n");
    let inner = inner.trim();
    if inner.is_empty() {
        text
    } else {
        inner.to_owned()
    }
}

/// The markdown of an answer: without `<think>` blocks and surrounding blank space.
pub fn clean_markdown(answer: &str) -> String {
    let mut text = answer.to_owned();
    while let Some(start) = text.find("<think>") {
        match text[start..].find("</think>") {
            Some(end) => text.replace_range(start..start + end + "</think>".len(), ""),
            None => text.truncate(start),
        }
    }
    text.trim().to_owned()
}
