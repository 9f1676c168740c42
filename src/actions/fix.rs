//! "Fix with AI": the model gets the diagnostics, the function or class around them and the
//! definitions they use, and answers with the corrected code, which replaces that function (or,
//! outside any function, the lines around the diagnostics).
//!
//! ```
//! use std::path::PathBuf;
//! use augur::actions::{ActionContext, ActionKind, EditorDiagnostic, EditorSeverity, fix};
//! use augur::syntax::Language;
//! let ctx = ActionContext {
//!     path: PathBuf::from("/ws/a.py"),
//!     language: Some(Language::Python),
//!     text: "def f():\n    return x\n".into(),
//!     version: Some(1),
//!     range: 20..21,
//!     diagnostics: vec![EditorDiagnostic {
//!         range: 20..21,
//!         message: "`x` is not defined".into(),
//!         severity: Some(EditorSeverity::Error),
//!         code: None,
//!         source: Some("pyright".into()),
//!     }],
//! };
//! let offer = fix::offer(&ctx, &[]).unwrap();
//! assert_eq!((offer.title.as_str(), offer.kind), ("Fix with AI: `x` is not defined", ActionKind::Quickfix));
//! ```

use crate::syntax::Symbol;

use super::job::{Job, Output};
use super::{
    ActionContext, ActionError, ActionId, ActionKind, ActionOffer, ActionRequest, DOCUMENTABLE,
    FUNCTIONS, diagnostics_text, shorten, whole_lines,
};

/// Lines of context kept around diagnostics that lie outside any function.
const CONTEXT_LINES: usize = 3;

/// Offered when the editor sent diagnostics for the range.
pub fn offer(ctx: &ActionContext, _symbols: &[Symbol]) -> Option<ActionOffer> {
    let first = ctx.diagnostics.first()?;
    let title = match ctx.diagnostics.len() {
        1 => format!("Fix with AI: {}", shorten(&first.message, 60)),
        n => format!("Fix {n} problems with AI"),
    };
    Some(ActionOffer::edit(
        ActionId::Fix,
        title,
        ActionKind::Quickfix,
    ))
}

/// The prompt and the range replaced.
pub(crate) fn prepare(request: &ActionRequest) -> Result<Job, ActionError> {
    let ctx = &request.context;
    if ctx.diagnostics.is_empty() {
        return Err(ActionError::NotApplicable(
            "there is no diagnostic to fix".into(),
        ));
    }
    let len = ctx.text.len();
    let start = ctx
        .diagnostics
        .iter()
        .map(|d| d.range.start)
        .min()
        .unwrap_or(0)
        .min(len);
    let end = ctx
        .diagnostics
        .iter()
        .map(|d| d.range.end)
        .max()
        .unwrap_or(0)
        .clamp(start, len);
    let around = ActionContext {
        range: start..end,
        ..ctx.clone()
    };
    let symbol = around
        .enclosing_symbol(FUNCTIONS)
        .or_else(|| around.enclosing_symbol(DOCUMENTABLE))
        .filter(|s| s.byte_range.len() <= request.config.max_context_bytes);
    let (range, name) = match &symbol {
        Some(s) => (
            whole_lines(&ctx.text, s.byte_range.clone()),
            Some(s.name.clone()),
        ),
        None => (lines_around(&ctx.text, start..end, CONTEXT_LINES), None),
    };
    let code = ctx.text[range.clone()].to_owned();
    let what = match &name {
        Some(name) => format!("`{name}`"),
        None => "the code below".to_owned(),
    };
    Ok(Job {
        title: "Fix with AI".into(),
        task: format!(
            "Fix the problems the tools reported in {what}. Change only what the fix needs; keep \
             the rest of the code, its formatting and its comments as they are."
        ),
        sections: vec![format!(
            "Diagnostics (lines of the file):\n{}",
            diagnostics_text(&ctx.text, &ctx.diagnostics)
        )],
        subject: Some((format!("The code to fix ({what})"), code)),
        answer: "Answer with the complete corrected code in one fenced code block, nothing else."
            .into(),
        output: Output::Replace {
            range,
            symbol: name,
        },
    })
}

/// Whole lines from `context` lines before `range` to `context` lines after it.
fn lines_around(
    text: &str,
    range: std::ops::Range<usize>,
    context: usize,
) -> std::ops::Range<usize> {
    let lines = whole_lines(text, range);
    let mut start = lines.start;
    for _ in 0..context {
        if start == 0 {
            break;
        }
        start = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
    }
    let mut end = lines.end;
    for _ in 0..context {
        if end >= text.len() {
            break;
        }
        end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    }
    start..end
}
