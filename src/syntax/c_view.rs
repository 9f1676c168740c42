//! C and C++ definitions that the preprocessor hides from tree-sitter. Tree-sitter parses the
//! source as written, before the preprocessor runs, so a definition split by a conditional
//! (`#ifdef FAST` choosing between two headers of one function) or a group of definitions inside
//! `#if` blocks that do not nest with the braces can leave the rest of the file inside an error;
//! and an export macro between `class` and the class's name (`class API Engine { ... }`) turns the
//! class into something else. Those definitions would be in neither the outline nor the index.
//!
//! The remedy is a second parse of a *view* of the file: the conditional directives blanked
//! (their lines become spaces, line breaks kept), one branch of each conditional kept and the
//! others blanked, and export macros between `class`/`struct`/`union` and the name blanked. The
//! view has the file's length, lines and columns, so what is found in it has the file's own
//! offsets. The symbols of both parses are merged: the view's where both found a name, and the
//! file's own for the branches the view left out.
//!
//! This module also tells C++ from C in a `.h` file by its content ([`looks_like_cpp`]).

use super::Language;
use super::symbol::{Symbol, SymbolKind};

/// Bytes at the start of a header read to tell C++ from C.
const SNIFF_BYTES: usize = 64 * 1024;

/// Whether a C header's text is C++: a line that starts with a construct C does not have
/// (`namespace`, `template`, `class Name {`, an access specifier, `using namespace`), or an
/// `#include` of a standard C++ header without an extension (`<vector>`). `extern "C"` is left
/// out on purpose: C headers write it for C++ readers.
///
/// ```
/// use augur::syntax::looks_like_cpp;
/// assert!(looks_like_cpp("#pragma once\nnamespace fuzzer {\nclass Engine;\n}\n"));
/// assert!(looks_like_cpp("#include <vector>\nint f();\n"));
/// assert!(!looks_like_cpp("#ifdef __cplusplus\nextern \"C\" {\n#endif\nint f(void);\n"));
/// ```
pub fn looks_like_cpp(text: &str) -> bool {
    let mut end = text.len().min(SNIFF_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut in_comment = false;
    for line in text[..end].lines() {
        let mut t = line.trim_start();
        if in_comment {
            match t.find("*/") {
                Some(close) => {
                    in_comment = false;
                    t = t[close + 2..].trim_start();
                }
                None => continue,
            }
        }
        if t.starts_with("/*") && !t.contains("*/") {
            in_comment = true;
            continue;
        }
        if cpp_line(t) {
            return true;
        }
    }
    false
}

/// Whether one trimmed line starts with a construct of C++ that C lacks.
fn cpp_line(t: &str) -> bool {
    let word_then = |prefix: &str| {
        t.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with([' ', '\t', '<', '{']) || rest.is_empty())
    };
    if word_then("namespace") && !t.contains(';') || t.starts_with("using namespace ") {
        return true;
    }
    if word_then("template") && t.contains('<') {
        return true;
    }
    if ["public:", "private:", "protected:"]
        .iter()
        .any(|s| t.starts_with(s))
    {
        return true;
    }
    if let Some(rest) = t.strip_prefix("class ") {
        // `class Name {`, `class Name : public Base`, `class Name;`.
        let rest = rest.trim_start();
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if name_len > 0 {
            let after = rest[name_len..].trim_start();
            if after.is_empty() || after.starts_with(['{', ':', ';']) || after.starts_with("final")
            {
                return true;
            }
        }
    }
    if let Some(rest) = t.strip_prefix("#include") {
        let rest = rest.trim_start();
        if let Some(name) = rest.strip_prefix('<').and_then(|r| r.split('>').next()) {
            return !name.is_empty()
                && !name.contains('.')
                && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        }
    }
    false
}

/// The language to parse a file of `language` as, from its content: a C file that holds C++ (a
/// `.h` header of a C++ project) is C++.
pub fn language_of_text(language: Language, text: &str) -> Language {
    if language != Language::C {
        return language;
    }
    // C headers hold C++ for C++ readers inside `#ifdef __cplusplus`: look at the C view.
    let view = preprocessor_view(Language::C, text);
    if looks_like_cpp(view.as_deref().unwrap_or(text)) {
        Language::Cpp
    } else {
        language
    }
}

/// A conditional directive: which one, and where its condition starts in the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    If,
    Ifdef,
    Ifndef,
    Elif,
    Else,
    Endif,
    /// Any other directive (`#define`, `#include`, `#pragma`, ...): kept in the view.
    Other,
}

/// The directive a trimmed line starts, and the rest of the line after the keyword.
fn directive(t: &str) -> Option<(Directive, &str)> {
    let rest = t.strip_prefix('#')?.trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(rest.len());
    let (word, condition) = rest.split_at(end);
    let kind = match word {
        "if" => Directive::If,
        "ifdef" => Directive::Ifdef,
        "ifndef" => Directive::Ifndef,
        "elif" | "elifdef" | "elifndef" => Directive::Elif,
        "else" => Directive::Else,
        "endif" => Directive::Endif,
        _ => Directive::Other,
    };
    Some((kind, condition.trim()))
}

/// Whether a branch's condition is known to be false: `0`, or `__cplusplus` for C (and its
/// negation for C++). Any other condition counts as true, so a group keeps its first branch.
fn known_false(kind: Directive, condition: &str, language: Language) -> bool {
    let condition: String = condition
        .split("//")
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')'))
        .collect();
    let cplusplus = language == Language::Cpp;
    match kind {
        Directive::Ifdef => condition == "__cplusplus" && !cplusplus,
        Directive::Ifndef => condition == "__cplusplus" && cplusplus,
        Directive::If | Directive::Elif => match condition.as_str() {
            "0" | "false" => true,
            "defined__cplusplus" | "__cplusplus" => !cplusplus,
            "!defined__cplusplus" | "!__cplusplus" => cplusplus,
            _ => false,
        },
        _ => false,
    }
}

/// One open conditional group.
struct Group {
    /// Whether the code around the group is kept.
    outer: bool,
    /// Whether one of the group's branches was kept already.
    taken: bool,
    /// Whether the current branch is kept.
    keep: bool,
}

/// Blanks `range` of `bytes` (every byte but line breaks becomes a space).
fn blank(bytes: &mut [u8], range: std::ops::Range<usize>) {
    for b in &mut bytes[range] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
}

/// The view of a C or C++ file that its preprocessor conditionals and export macros would hide
/// things from (see the module's doc), or `None` when it would equal the text.
pub(crate) fn preprocessor_view(language: Language, text: &str) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    let mut changed = false;
    let mut groups: Vec<Group> = Vec::new();
    let keep_now = |groups: &[Group]| groups.last().is_none_or(|g| g.outer && g.keep);
    let mut at = 0;
    // When the previous line ended a directive's line with a backslash: whether that directive
    // is a conditional one (its continuation lines are blanked with it).
    let mut continued: Option<bool> = None;
    while at < text.len() {
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
        let line = &text[at..end];
        let trimmed = line.trim_start();
        let continues = line.trim_end().ends_with('\\');
        if let Some(conditional) = continued {
            if conditional || !keep_now(&groups) {
                blank(&mut bytes, at..end);
                changed = true;
            }
            continued = continues.then_some(conditional);
            at = end;
            continue;
        }
        match directive(trimmed) {
            Some((Directive::Other, _)) | None => {
                if !keep_now(&groups) && !line.trim().is_empty() {
                    blank(&mut bytes, at..end);
                    changed = true;
                }
                continued = (continues && trimmed.starts_with('#')).then_some(false);
            }
            Some((kind, condition)) => {
                match kind {
                    Directive::If | Directive::Ifdef | Directive::Ifndef => {
                        let outer = keep_now(&groups);
                        let keep = !known_false(kind, condition, language);
                        groups.push(Group {
                            outer,
                            taken: keep,
                            keep,
                        });
                    }
                    Directive::Elif | Directive::Else => {
                        if let Some(group) = groups.last_mut() {
                            let keep = !group.taken
                                && (kind == Directive::Else
                                    || !known_false(kind, condition, language));
                            group.keep = keep;
                            group.taken |= keep;
                        }
                    }
                    _ => {
                        groups.pop();
                    }
                }
                blank(&mut bytes, at..end);
                changed = true;
                continued = continues.then_some(true);
            }
        }
        at = end;
    }
    changed |= blank_class_macros(text, &mut bytes);
    if !changed {
        return None;
    }
    // Only ASCII bytes were replaced by spaces, and whole lines or whole words at a time.
    String::from_utf8(bytes).ok()
}

/// Blanks the export macros between `class`, `struct` or `union` and the type's name
/// (`class API Engine {`, `struct ABSL_EXPORT Options : Base {`): two names in a row after the
/// keyword, then a body or a base list, is never C or C++ without a macro. Whether any was blanked.
fn blank_class_macros(text: &str, bytes: &mut [u8]) -> bool {
    let mut changed = false;
    for keyword in ["class ", "struct ", "union "] {
        let mut from = 0;
        while let Some(found) = text[from..].find(keyword) {
            let start = from + found;
            from = start + keyword.len();
            let before = text[..start].bytes().next_back();
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                continue;
            }
            let rest = &text[from..];
            let Some((first, after_first)) = identifier(rest) else {
                continue;
            };
            let gap = after_first.len() - after_first.trim_start().len();
            if gap == 0 {
                continue;
            }
            let Some((second, after_second)) = identifier(after_first.trim_start()) else {
                continue;
            };
            if second == "final" {
                continue;
            }
            let next = after_second.trim_start();
            let ends_head = next.starts_with('{')
                || (next.starts_with(':') && !next.starts_with("::"))
                || next.starts_with("final");
            if ends_head && first != "final" && first != "alignas" {
                blank(bytes, from..from + first.len());
                changed = true;
            }
        }
    }
    changed
}

/// The identifier that starts `text`, and the rest after it.
fn identifier(text: &str) -> Option<(&str, &str)> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let first = text.chars().next()?;
    (end > 0 && !first.is_ascii_digit()).then(|| text.split_at(end))
}

/// Merges the symbols of the view with the file's own: the view's, and the file's own whose name
/// the view did not find at the same place (those of the branches the view left out). Document
/// order holds (by start, outer before inner). The view's symbols keep their nesting; each of the
/// file's own takes the innermost merged symbol around it as its parent and container (the
/// file's own nesting may be an artifact of the very parse the view repairs) among the types
/// and namespaces, and a function in a class or struct becomes a method.
pub(crate) fn merge_view_symbols(view: Vec<Symbol>, own: Vec<Symbol>) -> Vec<Symbol> {
    let seen: rustc_hash::FxHashSet<(usize, usize)> = view
        .iter()
        .map(|s| (s.name_range.start, s.name_range.end))
        .collect();
    let view_len = view.len();
    let mut all: Vec<(bool, Symbol)> = view.into_iter().map(|s| (false, s)).collect();
    all.extend(
        own.into_iter()
            .filter(|s| !seen.contains(&(s.name_range.start, s.name_range.end)))
            .map(|mut s| {
                s.parent = None;
                (true, s)
            }),
    );
    if all.len() == view_len {
        return all.into_iter().map(|(_, s)| s).collect();
    }
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| {
        let r = &all[i].1.byte_range;
        (r.start, std::cmp::Reverse(r.end), i)
    });
    let mut new_index = vec![0; all.len()];
    for (position, &old) in order.iter().enumerate() {
        new_index[old] = position;
    }
    let mut slots: Vec<Option<(bool, Symbol)>> = all.into_iter().map(Some).collect();
    let mut out: Vec<Symbol> = Vec::with_capacity(slots.len());
    // The merged symbols enclosing the current one, innermost last.
    let mut stack: Vec<usize> = Vec::new();
    for old in order {
        let Some((from_own, mut symbol)) = slots[old].take() else {
            continue;
        };
        let range = symbol.byte_range.clone();
        while let Some(&top) = stack.last() {
            let outer = &out[top].byte_range;
            if outer.start <= range.start && range.end <= outer.end {
                break;
            }
            stack.pop();
        }
        if from_own {
            // Functions do not nest in C and C++: only a type or a namespace holds a symbol.
            let holder = stack
                .iter()
                .rev()
                .copied()
                .find(|&i| out[i].kind.holds_methods() || out[i].kind == SymbolKind::Module);
            if let Some(top) = holder {
                let parent = &out[top];
                symbol.container = Some(parent.name.clone());
                if symbol.kind == SymbolKind::Function && parent.kind.holds_methods() {
                    symbol.kind = SymbolKind::Method;
                }
                symbol.parent = Some(top);
            } else {
                symbol.container = None;
            }
        } else {
            symbol.parent = symbol.parent.map(|p| new_index[p]);
        }
        stack.push(out.len());
        out.push(symbol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    /// The view with blanked lines shown as `~` (so a snapshot shows what was kept), after
    /// checking that it has the text's length and line breaks.
    fn shown(language: Language, text: &str) -> String {
        let Some(view) = preprocessor_view(language, text) else {
            return "(unchanged)\n".to_string();
        };
        assert_eq!(view.len(), text.len());
        assert_eq!(
            view.match_indices('\n').collect::<Vec<_>>(),
            text.match_indices('\n').collect::<Vec<_>>()
        );
        view.lines()
            .zip(text.lines())
            .map(|(v, t)| {
                if v.trim().is_empty() && !t.trim().is_empty() {
                    "~\n".to_string()
                } else {
                    format!("{}\n", v.trim_end())
                }
            })
            .collect()
    }

    const SPLIT: &str = "\
#ifdef __cplusplus
extern \"C\" {
#endif
#if 0
int retired(void);
#elif defined(FAST) && \\
      FAST > 1
static int pick(int x) {
#else
static int pick(int x, int y) {
#endif
    return x;
}
#ifndef __cplusplus
typedef int bool_t;
#endif
#define TWICE(x) \\
    ((x) * 2)
#ifdef __cplusplus
}
#endif
";

    #[test]
    fn one_branch_of_each_conditional_is_kept_for_c() {
        expect![[r#"
            ~
            ~
            ~
            ~
            ~
            ~
            ~
            static int pick(int x) {
            ~
            ~
            ~
                return x;
            }
            ~
            typedef int bool_t;
            ~
            #define TWICE(x) \
                ((x) * 2)
            ~
            ~
            ~
        "#]]
        .assert_eq(&shown(Language::C, SPLIT));
    }

    #[test]
    fn cplusplus_branches_follow_the_language() {
        expect![[r#"
            ~
            extern "C" {
            ~
            ~
            ~
            ~
            ~
            static int pick(int x) {
            ~
            ~
            ~
                return x;
            }
            ~
            ~
            ~
            #define TWICE(x) \
                ((x) * 2)
            ~
            }
            ~
        "#]]
        .assert_eq(&shown(Language::Cpp, SPLIT));
    }

    #[test]
    fn export_macros_before_a_class_name_are_blanked() {
        let text = "class API Engine : public Base {};\nstruct EXPORT Opts { int a; };\nstruct Opts o = {1};\nclass Engine final {};\nstruct Point p;\n";
        expect![[r#"
            class     Engine : public Base {};
            struct        Opts { int a; };
            struct Opts o = {1};
            class Engine final {};
            struct Point p;
        "#]]
        .assert_eq(&shown(Language::Cpp, text));
        assert_eq!(
            shown(Language::C, "int plain(void) { return 0; }\n"),
            "(unchanged)\n"
        );
    }

    #[test]
    fn symbols_hidden_by_conditionals_are_found_with_the_files_offsets() {
        let text = "\
#ifdef __cplusplus
extern \"C\" {
#endif
#ifdef FAST
static int pick(int x) {
#else
static int pick(int x, int y) {
#endif
    return x;
}

/* Sums. */
int sum_after(int a, int b) { return a + b; }

#if HAVE_CONF
struct conf { int a; };
int conf_load(struct conf *c) {
  if (c) {
#ifdef DEBUG
    log_conf(c);
  }
#else
  }
#endif
  return 0;
}
#endif
#ifdef __cplusplus
}
#endif
";
        let symbols = super::super::document_symbols(Language::C, text);
        let names: Vec<(&str, usize)> = symbols
            .iter()
            .map(|s| (s.name.as_str(), s.name_line))
            .collect();
        assert_eq!(
            names,
            [
                ("pick", 4),
                ("pick", 6),
                ("sum_after", 12),
                ("conf", 15),
                ("conf_load", 16)
            ]
        );
        let sum = &symbols[2];
        assert_eq!(&text[sum.name_range.clone()], "sum_after");
        assert_eq!(sum.signature, "int sum_after(int a, int b)");
        assert_eq!(sum.doc.as_deref(), Some("Sums."));
        // The split header's function ends at its own closing brace; without the view it runs
        // on over the definitions after it, and the others nest inside it.
        assert_eq!((symbols[0].start_line, symbols[0].end_line), (4, 9));
        assert!(symbols.iter().all(|s| s.parent.is_none()), "{symbols:?}");
        let tree = super::super::parse(Language::C, text).unwrap();
        let (own, _) = super::super::outline::symbols_in_plain(Language::C, &tree, text);
        assert!(own[0].end_line > 9, "{own:?}");
    }

    #[test]
    fn headers_that_hold_cpp() {
        for cpp in [
            "namespace a {\n}\n",
            "template <typename T>\nT max(T a, T b);\n",
            "class Engine : public Base {\n};\n",
            "/* x */\nusing namespace std;\n",
            "struct A {\n public:\n  int x;\n};\n",
        ] {
            assert_eq!(language_of_text(Language::C, cpp), Language::Cpp, "{cpp}");
        }
        for c in [
            "#ifdef __cplusplus\nextern \"C\" {\n#endif\nint f(void);\n",
            "/*\nnamespace in a comment {\n*/\nint class_count;\n",
            "#include <stdio.h>\nstruct class_info { int a; };\n",
        ] {
            assert_eq!(language_of_text(Language::C, c), Language::C, "{c}");
        }
        // Only C files are looked at.
        assert_eq!(
            language_of_text(Language::Python, "namespace a {\n"),
            Language::Python
        );
    }
}
