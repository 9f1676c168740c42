//! The piece asked for, found in a model's reply that gives more than it: a method inside its
//! class or `impl` block, a function repeated with the attributes above it, the whole function
//! around a rewritten selection, tests around the function they test. Replies are parsed with
//! the document's grammar, so code quoted in a doc comment or a string is never taken for the
//! symbol.
//!
//! ```
//! use augur::actions::shapes::symbol_from_reply;
//! use augur::syntax::Language;
//! let reply = "class C:\n    def f(self):\n        return 2\n\n    def g(self):\n        pass\n";
//! // A method asked for alone, answered inside its class: the method is taken out of it.
//! assert_eq!(
//!     symbol_from_reply(Language::Python, reply, "f", "").as_deref(),
//!     Some("def f(self):\n    return 2\n")
//! );
//! // A reply that is the method alone is used as it is.
//! assert_eq!(symbol_from_reply(Language::Python, "def f(self):\n    return 2\n", "f", ""), None);
//! ```

use std::collections::HashSet;
use std::ops::Range;

use crate::syntax::{Language, Symbol, document_symbols};

use super::reply::{fit_to, indentation, reindent};
use super::{ActionContext, ActionError, DOCUMENTABLE, line_of, whole_lines};

/// The symbol named `name` that a reply's `code` defines (a function, method or type), the
/// outermost one when several are (a method of that name inside a class of that name is
/// unlikely; a class holding a method is not).
pub(crate) fn symbol_named(language: Language, code: &str, name: &str) -> Option<Symbol> {
    document_symbols(language, code)
        .into_iter()
        .filter(|s| s.name == name && DOCUMENTABLE.contains(&s.kind))
        .min_by_key(|s| s.byte_range.start)
}

/// Whether a trimmed line is an attribute, decorator or comment that sits directly above a
/// definition and belongs to it.
pub(crate) fn is_head_line(trimmed: &str) -> bool {
    ["#[", "@", "//", "/*", "*", "#", "--"]
        .iter()
        .any(|p| trimmed.starts_with(p))
}

/// The start of the lines that belong to the definition whose first line starts at
/// `line_start`: its attributes, decorators and doc comments directly above it.
pub(crate) fn head_start(text: &str, line_start: usize) -> usize {
    let mut start = line_start;
    while start > 0 {
        let above = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        let trimmed = text[above..start].trim();
        if trimmed.is_empty() || !is_head_line(trimmed) {
            break;
        }
        start = above;
    }
    start
}

/// The definition of `name` taken out of a reply (`code`) that gives more than the definition
/// asked for: when it sits inside a class, `impl` block or module, or when the reply repeats
/// attributes, decorators or comments that are already the lines just above it in the document
/// (`above`: the document before the definition). `None` when the reply is the definition
/// alone, only its body, or has other code around it (an import the fix needs, say): it is
/// then used as it is.
pub fn symbol_from_reply(
    language: Language,
    code: &str,
    name: &str,
    above: &str,
) -> Option<String> {
    let code = reindent(code, "");
    let symbol = symbol_named(language, &code, name)?;
    let lines = whole_lines(&code, symbol.byte_range.clone());
    let nested = symbol.container.is_some()
        || !indentation(code[lines.clone()].lines().next().unwrap_or("")).is_empty();
    if nested {
        return Some(reindent(&code[lines], ""));
    }
    let head = head_start(&code, lines.start);
    let before_head_is_blank = code[..head].trim().is_empty();
    let after_is_blank = code[lines.end..].trim().is_empty();
    if head == lines.start || !before_head_is_blank || !after_is_blank {
        return None;
    }
    // The reply's head lines must be the document's lines just above the definition.
    let doc_lines: Vec<&str> = above.lines().rev().map(str::trim).collect();
    let repeated = code[head..lines.start]
        .lines()
        .rev()
        .map(str::trim)
        .enumerate()
        .all(|(i, line)| doc_lines.get(i) == Some(&line));
    repeated.then(|| code[lines].to_owned())
}

/// `code` without the top-level definitions whose name `drop` accepts or whose every line
/// `known` holds (with the attributes, decorators and comments above them), and without the lines
/// of its prologue (before the first code it keeps) that `known` holds, trimmed: the package
/// clause and imports a file already has. Runs of blank lines are shortened to two. Empty when
/// nothing is left.
pub(crate) fn without_repeats(
    language: Language,
    code: &str,
    drop: impl Fn(&str) -> bool,
    known: &HashSet<&str>,
) -> String {
    let lines: Vec<&str> = code.split_inclusive('\n').collect();
    // For each line: `Some(true)` inside a kept definition, `Some(false)` inside a dropped one.
    let mut owner: Vec<Option<bool>> = vec![None; lines.len()];
    for symbol in document_symbols(language, code) {
        if symbol.parent.is_some() || symbol.container.is_some() {
            continue;
        }
        let range = whole_lines(code, symbol.byte_range.clone());
        let first = line_of(code, head_start(code, range.start));
        let last = line_of(code, range.end.saturating_sub(1));
        if range.is_empty() || last >= lines.len() {
            continue;
        }
        // A definition is a repeat by its name, or when each of its lines is known (the
        // package clause some grammars list as a definition).
        let all_known = lines[first..=last]
            .iter()
            .map(|l| l.trim())
            .all(|l| l.is_empty() || known.contains(l));
        let keep = !drop(&symbol.name) && !all_known;
        for flag in owner.iter_mut().take(last + 1).skip(first) {
            *flag = Some(keep && flag.unwrap_or(true));
        }
    }
    let mut out = String::with_capacity(code.len());
    let mut blanks = 0;
    // Known lines outside definitions go only in the prologue (the package clause and imports
    // before the first new code): later, a known `});` may close new code.
    let mut prologue = true;
    for (line, owner) in lines.iter().zip(owner) {
        let trimmed = line.trim();
        let keep = match owner {
            Some(keep) => keep,
            None if trimmed.is_empty() => true,
            None => !(prologue && known.contains(trimmed)),
        };
        if keep && !trimmed.is_empty() {
            prologue = false;
        }
        if !keep {
            continue;
        }
        if trimmed.is_empty() {
            blanks += 1;
            if blanks > 2 || out.is_empty() {
                continue;
            }
        } else {
            blanks = 0;
        }
        out.push_str(line);
    }
    let end = out.trim_end().len();
    out.truncate(end);
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// The bytes of `old` that differ from `new`: from the first byte that differs to the last,
/// as a range of `old` (empty where `new` only inserts).
pub(crate) fn changed_region(old: &str, new: &str) -> Range<usize> {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    prefix..a.len() - suffix
}

/// For a reply to a request about a selection inside a function or type (a rewrite, a custom
/// action): when the reply repeats that whole function or type with the selection's new code in
/// it, the new document, with the function replaced. `None` when the reply does not repeat it
/// (it is the piece asked for) or the selection is the whole definition. A reply that changed
/// the definition outside the lines of the selection is refused: the user asked for the
/// selection to change.
pub(crate) fn through_enclosing(
    ctx: &ActionContext,
    selection: Range<usize>,
    code: &str,
) -> Result<Option<String>, ActionError> {
    let Some(language) = ctx.language else {
        return Ok(None);
    };
    let around = ActionContext {
        range: selection.clone(),
        diagnostics: Vec::new(),
        ..ctx.clone()
    };
    let Some(enclosing) = around.enclosing_symbol(DOCUMENTABLE) else {
        return Ok(None);
    };
    let focus = around.lookup_range();
    if focus.start <= enclosing.byte_range.start && enclosing.byte_range.end <= focus.end {
        return Ok(None);
    }
    let code = reindent(code, "");
    let Some(found) = symbol_named(language, &code, &enclosing.name) else {
        return Ok(None);
    };
    let text = &ctx.text;
    let lines = whole_lines(text, enclosing.byte_range.clone());
    let new_symbol = fit_to(
        &code[whole_lines(&code, found.byte_range.clone())],
        &text[lines.clone()],
    );
    let mut new = String::with_capacity(text.len() + new_symbol.len());
    new.push_str(&text[..lines.start]);
    new.push_str(&new_symbol);
    new.push_str(&text[lines.end..]);
    let changed = changed_region(text, &new);
    let allowed = whole_lines(text, selection);
    if changed.start < allowed.start || changed.end > allowed.end {
        let outside = if changed.start < allowed.start {
            changed.start
        } else {
            changed.end.saturating_sub(1).max(allowed.end)
        };
        return Err(ActionError::UnusableReply(format!(
            "it repeats `{}` with changes outside the selection (line {})",
            enclosing.name,
            line_of(text, outside) + 1
        )));
    }
    Ok(Some(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_changed_region_is_between_the_common_ends() {
        assert_eq!(changed_region("abcdef", "abXdef"), 2..3);
        assert_eq!(changed_region("abc", "abc"), 3..3);
        assert_eq!(changed_region("aaa", "aaaa"), 3..3);
        assert_eq!(changed_region("abcd", "ad"), 1..3);
    }

    #[test]
    fn repeats_are_left_out() {
        let reply = "package m\n\nimport \"testing\"\n\n// Double is repeated.\nfunc Double(x int) int {\n\treturn 2 * x\n}\n\n\n\nfunc TestOld(t *testing.T) {}\n\nfunc TestNew(t *testing.T) {}\n";
        let known: HashSet<&str> = ["package m", "import \"testing\""].into();
        let drop = |name: &str| name == "Double" || name == "TestOld";
        assert_eq!(
            without_repeats(Language::Go, reply, drop, &known),
            "func TestNew(t *testing.T) {}\n"
        );
        assert_eq!(
            without_repeats(Language::Go, "package m\n", drop, &known),
            ""
        );
        // Past the prologue, known lines may close new code.
        let js = "import { add } from './add';\n\ndescribe('add', () => {\n  it('adds', () => {});\n});\n";
        let known: HashSet<&str> = ["import { add } from './add';", "});"].into();
        assert_eq!(
            without_repeats(Language::JavaScript, js, |_| false, &known),
            "describe('add', () => {\n  it('adds', () => {});\n});\n"
        );
    }

    #[test]
    fn repeated_attributes_are_dropped_new_ones_kept() {
        let reply = "#[inline]\npub fn f() -> u8 {\n    1\n}\n";
        assert_eq!(
            symbol_from_reply(Language::Rust, reply, "f", "struct S;\n\n#[inline]\n").as_deref(),
            Some("pub fn f() -> u8 {\n    1\n}\n")
        );
        assert_eq!(
            symbol_from_reply(Language::Rust, reply, "f", "struct S;\n\n"),
            None
        );
        let with_import = "use std::fmt;\n\nfn f() {}\n";
        assert_eq!(
            symbol_from_reply(Language::Rust, with_import, "f", ""),
            None
        );
    }
}
