//! "Rewrite selection with AI…": the user's instruction (the `augur.rewrite` command's argument)
//! applied to the selection, or to the function or class at the cursor when nothing is selected.
//!
//! ```
//! use std::path::PathBuf;
//! use augur::actions::{ActionContext, ActionKind, rewrite};
//! use augur::syntax::Language;
//! let mut ctx = ActionContext {
//!     path: PathBuf::from("/ws/a.go"),
//!     language: Some(Language::Go),
//!     text: "package a\n\nfunc A() int { return 1 }\n".into(),
//!     version: Some(4),
//!     range: 11..37,
//!     diagnostics: Vec::new(),
//! };
//! let offer = rewrite::offer(&ctx, &[]).unwrap();
//! assert!(offer.needs_instruction);
//! assert_eq!(offer.kind, ActionKind::RefactorRewrite);
//! ctx.range = 0..0;
//! assert!(rewrite::offer(&ctx, &[]).is_none());
//! ```

use crate::syntax::Symbol;

use super::job::{Job, Output};
use super::{
    ActionContext, ActionError, ActionId, ActionKind, ActionOffer, ActionRequest, DOCUMENTABLE,
    whole_lines,
};

/// Offered when text is selected.
pub fn offer(ctx: &ActionContext, _symbols: &[Symbol]) -> Option<ActionOffer> {
    ctx.has_selection().then(|| ActionOffer {
        id: ActionId::Rewrite,
        title: "Rewrite selection with AI…".into(),
        kind: ActionKind::RefactorRewrite,
        needs_instruction: true,
        edits: true,
    })
}

/// The prompt and the range replaced.
pub(crate) fn prepare(request: &ActionRequest) -> Result<Job, ActionError> {
    let ctx = &request.context;
    let instruction = request
        .instruction
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .ok_or(ActionError::MissingInstruction)?;
    let (range, symbol) = if ctx.has_selection() {
        (ctx.selection(), None)
    } else {
        let s = ctx
            .enclosing_symbol(DOCUMENTABLE)
            .ok_or_else(|| ActionError::NotApplicable("nothing is selected".into()))?;
        (whole_lines(&ctx.text, s.byte_range.clone()), Some(s.name))
    };
    Ok(Job {
        title: "Rewrite with AI".into(),
        task: format!(
            "Rewrite the code below as the user asks. The user's instruction: {instruction}\n\
             Keep whatever the instruction does not ask to change."
        ),
        sections: Vec::new(),
        subject: Some((
            "The code to rewrite".into(),
            ctx.text[range.clone()].to_owned(),
        )),
        answer:
            "Answer with the rewritten code in one fenced code block, nothing else. It replaces \
                 exactly the code shown."
                .into(),
        output: Output::Replace { range, symbol },
    })
}
