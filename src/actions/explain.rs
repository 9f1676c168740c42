//! "Explain with AI": markdown about the selection or the symbol at the cursor; nothing is
//! edited. The protocol layer shows it as a generated markdown document or a message.
//!
//! ```
//! use augur::actions::explain::clean_markdown;
//! assert_eq!(clean_markdown("<think>hm</think>\n\nIt adds.\n"), "It adds.");
//! ```

use crate::syntax::Symbol;

use super::run::{Job, Output};
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
