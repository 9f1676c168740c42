//! User-defined actions (`[[actions.custom]]`): a title, a prompt template with `{selection}`,
//! `{file}`, `{language}`, `{diagnostics}` and `{instruction}`, the languages where they apply and
//! whether they need a selection. The answer replaces the selection (or the function at the
//! cursor) or is shown as markdown.
//!
//! ```
//! use augur::actions::custom::expand;
//! let text = expand("Fix {language} in {file}: {selection} {{literal}}", |name| match name {
//!     "language" => Some("Rust".into()),
//!     "file" => Some("src/a.rs".into()),
//!     "selection" => Some("x".into()),
//!     _ => None,
//! });
//! assert_eq!(text, "Fix Rust in src/a.rs: x {literal}");
//! ```

use super::job::{Job, Output};
use super::{
    ActionContext, ActionError, ActionId, ActionOffer, ActionRequest, CustomAction, CustomOutput,
    DOCUMENTABLE, diagnostics_text, display_path, whole_lines,
};

/// Offered where the action's languages and selection requirement allow.
pub fn offer(ctx: &ActionContext, action: &CustomAction) -> Option<ActionOffer> {
    if action.id.is_empty() || !applies_to(ctx, action) {
        return None;
    }
    if action.needs_selection && !ctx.has_selection() {
        return None;
    }
    Some(ActionOffer {
        id: ActionId::Custom(action.id.clone()),
        title: if action.title.is_empty() {
            action.id.clone()
        } else {
            action.title.clone()
        },
        kind: action.kind,
        needs_instruction: action.needs_instruction,
        edits: action.output == CustomOutput::Replace,
    })
}

/// Whether the document's language is one the action lists (or the list is empty).
fn applies_to(ctx: &ActionContext, action: &CustomAction) -> bool {
    action.languages.is_empty()
        || ctx.language.is_some_and(|l| {
            action.languages.iter().any(|name| {
                name.eq_ignore_ascii_case(l.name()) || name.eq_ignore_ascii_case(l.lsp_id())
            })
        })
}

/// Replaces `{name}` placeholders with `value(name)`; unknown names stay as written, and `{{`
/// and `}}` become single braces.
pub fn expand(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(close) = tail.find('}').filter(|_| tail.starts_with('{'))
            && let Some(v) = value(&tail[1..close])
        {
            out.push_str(&v);
            rest = &tail[close + 1..];
            continue;
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

/// The prompt (the expanded template) and what the answer does.
pub(crate) fn prepare(request: &ActionRequest, id: &str) -> Result<Job, ActionError> {
    let ctx = &request.context;
    let action = request
        .config
        .custom
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| {
            ActionError::NotApplicable(format!("no custom action `{id}` is configured"))
        })?;
    if !applies_to(ctx, action) {
        return Err(ActionError::NotApplicable(format!(
            "`{id}` does not apply to this language"
        )));
    }
    let instruction = request.instruction.clone().unwrap_or_default();
    if action.needs_instruction && instruction.trim().is_empty() {
        return Err(ActionError::MissingInstruction);
    }
    let (range, symbol) = if ctx.has_selection() {
        (ctx.selection(), None)
    } else if action.needs_selection {
        return Err(ActionError::NotApplicable("nothing is selected".into()));
    } else {
        let s = ctx.require_symbol(DOCUMENTABLE, "function or type")?;
        (whole_lines(&ctx.text, s.byte_range.clone()), Some(s.name))
    };
    let selection = ctx.text[range.clone()].to_owned();
    let task = expand(&action.prompt, |name| match name {
        "selection" => Some(selection.clone()),
        "file" => Some(display_path(&ctx.path, &request.roots)),
        "language" => Some(ctx.language.map_or("plain text", |l| l.name()).to_owned()),
        "diagnostics" => Some(diagnostics_text(&ctx.text, &ctx.diagnostics)),
        "instruction" => Some(instruction.clone()),
        _ => None,
    });
    // The code goes in its own block unless the template already placed it.
    let subject =
        (!action.prompt.contains("{selection}")).then(|| ("The code".to_owned(), selection));
    let (answer, output) = match action.output {
        CustomOutput::Replace => (
            "Answer with the new code in one fenced code block, nothing else. It replaces exactly \
             the code shown."
                .to_owned(),
            Output::Replace { range, symbol },
        ),
        CustomOutput::Markdown => ("Answer in concise Markdown.".to_owned(), Output::Markdown),
    };
    Ok(Job {
        title: if action.title.is_empty() {
            action.id.clone()
        } else {
            action.title.clone()
        },
        task,
        sections: Vec::new(),
        subject,
        answer,
        output,
    })
}
