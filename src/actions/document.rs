//! "Document with AI": the doc comment of the function, method or type at the cursor, in the
//! language's convention (rustdoc, docstrings, JSDoc, Javadoc, Go comments, ...). An existing doc
//! comment is replaced; a new one goes above the symbol's attributes or decorators (for Python,
//! as the first statement of the body).
//!
//! The reply may be the doc alone (with its markers or as bare text) or the whole symbol with its
//! new doc, fenced or not. From a whole symbol only the doc is taken: if the model also changed
//! the code (or added comments in the body), those changes are left out, never applied, since
//! "Document" edits docs only. A whole symbol without a doc is refused with that reason.
//!
//! ```
//! use augur::actions::document::convention;
//! use augur::syntax::Language;
//! assert_eq!(convention(Language::Rust).line_prefix, Some("/// "));
//! assert!(convention(Language::Python).docstring);
//! assert_eq!(convention(Language::Java).block, Some(("/**", " * ", " */")));
//! ```

use crate::syntax::{Language, Symbol};

use super::explain::clean_markdown;
use super::job::{CandidateChange, Job, Output};
use super::reply::{extract_code, indentation, reindent};
use super::shapes::symbol_named;
use super::{
    ActionContext, ActionError, ActionId, ActionKind, ActionOffer, ActionRequest, DOCUMENTABLE,
    whole_lines,
};

/// How a language writes doc comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocConvention {
    /// Its name, for the prompt.
    pub name: &'static str,
    /// The prefix of each line of a line-comment doc (`/// `, `// `, `# `).
    pub line_prefix: Option<&'static str>,
    /// The opening, line prefix and closing of a block doc (`/**`, ` * `, ` */`).
    pub block: Option<(&'static str, &'static str, &'static str)>,
    /// Whether the doc is a string literal inside the body (Python docstrings).
    pub docstring: bool,
}

/// The doc comment convention of `language`.
pub fn convention(language: Language) -> DocConvention {
    let line = |name, prefix| DocConvention {
        name,
        line_prefix: Some(prefix),
        block: None,
        docstring: false,
    };
    let block = |name| DocConvention {
        name,
        line_prefix: None,
        block: Some(("/**", " * ", " */")),
        docstring: false,
    };
    match language {
        Language::Rust => line(
            "rustdoc (`///` lines in Markdown, with `# Errors`, `# Panics` and `# Examples` sections where they apply)",
            "/// ",
        ),
        Language::Python => DocConvention {
            name: "a PEP 257 docstring (triple double quotes, a summary line, then Args/Returns/Raises sections)",
            line_prefix: None,
            block: None,
            docstring: true,
        },
        Language::JavaScript | Language::TypeScript | Language::Tsx => {
            block("JSDoc (`/** ... */` with `@param` and `@returns` tags)")
        }
        Language::Java => {
            block("Javadoc (`/** ... */` with `@param`, `@return` and `@throws` tags)")
        }
        Language::Php => block("PHPDoc (`/** ... */` with `@param` and `@return` tags)"),
        Language::C | Language::Cpp => {
            block("Doxygen (`/** ... */` with `@brief`, `@param` and `@return`)")
        }
        Language::CSharp => line(
            "XML documentation comments (`///` lines with `<summary>`, `<param>` and `<returns>`)",
            "/// ",
        ),
        Language::Go => line(
            "Go doc comments (`//` lines whose first sentence starts with the name)",
            "// ",
        ),
        Language::Ruby => line("YARD (`#` lines with `@param` and `@return` tags)", "# "),
        Language::Bash => line("`#` comment lines", "# "),
        Language::Lua => line("LDoc (`---` lines with `@param` and `@return`)", "--- "),
        _ => line("`//` comment lines", "// "),
    }
}

/// Offered when the cursor is inside a function, method or type.
pub fn offer(ctx: &ActionContext, symbols: &[Symbol]) -> Option<ActionOffer> {
    let symbol = ctx.enclosing_in(symbols, DOCUMENTABLE)?;
    Some(ActionOffer::edit(
        ActionId::Document,
        format!("Document `{}` with AI", symbol.name),
        ActionKind::Source,
    ))
}

/// The prompt.
pub(crate) fn prepare(request: &ActionRequest) -> Result<Job, ActionError> {
    let ctx = &request.context;
    let language = ctx.known_language()?;
    let symbol = ctx.require_symbol(DOCUMENTABLE, "function or type")?;
    let conv = convention(language);
    let lines = whole_lines(&ctx.text, symbol.byte_range.clone());
    let code: String = ctx.text[lines]
        .chars()
        .take(request.config.max_context_bytes)
        .collect();
    let what = if conv.docstring {
        "docstring"
    } else {
        "doc comment"
    };
    Ok(Job {
        title: format!("Document `{}` with AI", symbol.name),
        task: format!(
            "Write the {what} of the {} `{}` in {}. Describe what it does, its parameters, what \
             it returns and its errors; do not restate the code line by line.",
            symbol.kind.as_str(),
            symbol.name,
            conv.name
        ),
        sections: Vec::new(),
        subject: Some(("The code".into(), code)),
        answer: format!(
            "Answer with only the {what} in one fenced code block, without the code it documents."
        ),
        output: Output::DocComment { symbol },
    })
}

/// Whether a trimmed line is part of a doc comment under `conv`.
fn is_doc_line(conv: &DocConvention, trimmed: &str) -> bool {
    conv.line_prefix
        .is_some_and(|p| trimmed.starts_with(p.trim_end()))
        || (conv.block.is_some()
            && (trimmed.starts_with("/**")
                || trimmed.starts_with('*')
                || trimmed.starts_with("*/")))
}

/// Whether a trimmed line is an attribute or decorator that sits between a doc and its symbol.
fn is_attribute(trimmed: &str) -> bool {
    trimmed.starts_with("#[") || (trimmed.starts_with('@') && !trimmed.starts_with("@param"))
}

/// Makes `code` a doc comment of `conv` if the model answered with bare text.
fn as_comment(conv: &DocConvention, code: &str) -> String {
    let first = code.trim_start();
    if let Some(prefix) = conv.line_prefix {
        if first.starts_with(prefix.trim_end()) {
            return code.to_owned();
        }
        return code
            .lines()
            .map(|l| format!("{prefix}{l}").trim_end().to_owned() + "\n")
            .collect();
    }
    if let Some((open, mid, close)) = conv.block {
        if first.starts_with("/*") {
            return code.to_owned();
        }
        let mut out = format!("{open}\n");
        for l in code.lines() {
            out.push_str(format!("{mid}{l}").trim_end());
            out.push('\n');
        }
        out.push_str(close);
        out.push('\n');
        return out;
    }
    if first.starts_with("\"\"\"") || first.starts_with("'''") || first.starts_with("r\"\"\"") {
        code.to_owned()
    } else {
        let text = code.trim();
        if text.contains('\n') {
            format!("\"\"\"{text}\n\"\"\"\n")
        } else {
            format!("\"\"\"{text}\"\"\"\n")
        }
    }
}

/// The doc comment of a reply, with the convention's markers and no indentation: the reply's
/// code when it is the doc alone (bare text gets the markers), or the doc of `name` when the
/// reply repeats the whole symbol with its doc. Only the doc is taken from such a reply: code it
/// changed or comments it added in the body are left out, as "Document" changes docs only. A
/// reply that repeats the symbol without a doc is refused.
fn doc_from_reply(
    language: Language,
    conv: &DocConvention,
    name: &str,
    answer: &str,
) -> Result<String, ActionError> {
    let code = extract_code(answer);
    if code.trim().is_empty() {
        // A doc is prose, so an answer without code is taken whole; an empty block is nothing.
        let prose = clean_markdown(answer);
        if prose.is_empty() || prose.contains("```") || prose.contains("~~~") {
            return Err(ActionError::EmptyReply);
        }
        return Ok(as_comment(conv, &(prose + "\n")));
    }
    let code = reindent(&code, "");
    let Some(symbol) = symbol_named(language, &code, name) else {
        return Ok(as_comment(conv, &code));
    };
    let lines = whole_lines(&code, symbol.byte_range.clone());
    let doc = if conv.docstring {
        &code[docstring_place(&code, lines, "").0]
    } else {
        &code[doc_range(conv, &code, lines.start)]
    };
    // A docstring's range starts after the header, blank lines included.
    let first = doc
        .split_inclusive('\n')
        .take_while(|l| l.trim().is_empty())
        .map(str::len)
        .sum::<usize>();
    let doc = &doc[first..];
    if doc.trim().is_empty() {
        let what = if conv.docstring {
            "docstring"
        } else {
            "doc comment"
        };
        return Err(ActionError::UnusableReply(format!(
            "it repeats `{name}` without a {what}"
        )));
    }
    Ok(reindent(doc, ""))
}

/// Where the doc comment of the symbol whose first line starts at `line_start` is, for a
/// convention of comments above the symbol: the existing doc comment (above the attributes), or
/// an empty range where a new one goes (above the attributes).
fn doc_range(conv: &DocConvention, text: &str, line_start: usize) -> std::ops::Range<usize> {
    // Walk up past attributes, then past an existing doc comment.
    let mut insert_at = line_start;
    let mut doc_start = None;
    let mut pos = line_start;
    while pos > 0 {
        let above = text[..pos - 1].rfind('\n').map_or(0, |i| i + 1);
        let trimmed = text[above..pos].trim();
        if doc_start.is_none() && is_attribute(trimmed) {
            insert_at = above;
        } else if is_doc_line(conv, trimmed) && !trimmed.is_empty() {
            doc_start = Some(above);
        } else {
            break;
        }
        pos = above;
    }
    let Some(start) = doc_start else {
        return insert_at..insert_at;
    };
    // The old doc ends where the attributes (or the symbol) start.
    let mut end = start;
    for line in text[start..].split_inclusive('\n') {
        if !is_doc_line(conv, line.trim()) {
            break;
        }
        end += line.len();
    }
    start..end
}

/// The new document text with the doc comment in place.
pub(crate) fn place(
    ctx: &ActionContext,
    symbol: &Symbol,
    answer: &str,
) -> Result<CandidateChange, ActionError> {
    let language = ctx.known_language()?;
    let conv = convention(language);
    let doc = doc_from_reply(language, &conv, &symbol.name, answer)?;
    let text = &ctx.text;
    let crlf = text.contains("\r\n");
    let symbol_lines = whole_lines(text, symbol.byte_range.clone());
    let header = &text[symbol_lines.start..];
    let symbol_indent = indentation(header.lines().next().unwrap_or(""));
    let (range, new_doc) = if conv.docstring {
        docstring_place(text, symbol_lines.clone(), &doc)
    } else {
        (
            doc_range(&conv, text, symbol_lines.start),
            reindent(&doc, symbol_indent),
        )
    };
    let new_doc = if crlf {
        new_doc.replace('\n', "\r\n")
    } else {
        new_doc
    };
    let mut new = String::with_capacity(text.len() + new_doc.len());
    new.push_str(&text[..range.start]);
    new.push_str(&new_doc);
    new.push_str(&text[range.end..]);
    Ok(CandidateChange::Document(new))
}

/// Where a Python docstring goes (replacing an existing one) and its indented text.
fn docstring_place(
    text: &str,
    symbol_lines: std::ops::Range<usize>,
    doc: &str,
) -> (std::ops::Range<usize>, String) {
    let body = &text[symbol_lines.clone()];
    // The body starts after the header line that ends with `:` (the header may span lines).
    let mut offset = symbol_lines.start;
    for line in body.split_inclusive('\n') {
        offset += line.len();
        if line.trim_end().ends_with(':') {
            break;
        }
    }
    let rest = &text[offset..];
    let first_body_line = rest.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let header_indent = indentation(body.lines().next().unwrap_or(""));
    let indent = if indentation(first_body_line).len() > header_indent.len() {
        indentation(first_body_line).to_owned()
    } else {
        format!("{header_indent}    ")
    };
    let trimmed = first_body_line.trim_start();
    let quote = ["\"\"\"", "'''", "r\"\"\""]
        .into_iter()
        .find(|q| trimmed.starts_with(q));
    let mut end = offset;
    if let Some(q) = quote {
        // Replace the existing docstring: through the line holding its closing quotes.
        let lead = rest.len() - rest.trim_start().len();
        let inner_start = offset + lead + q.len();
        let close_marker = &q[q.len() - 3..];
        if let Some(close) = text[inner_start..].find(close_marker) {
            let after = inner_start + close + 3;
            end = text[after..]
                .find('\n')
                .map_or(text.len(), |i| after + i + 1);
        }
    }
    (offset..end, reindent(doc, &indent))
}
