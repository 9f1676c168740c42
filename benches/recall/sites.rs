//! Call sites cut out of real code for the recall bench, found with line patterns of the bench's
//! own (not augur's parser, so that the figures do not move with augur's outline): definitions of
//! each file, then calls of names defined in another file of the same package and not named above
//! the call except on an import line. Each site records the kinds of retrieval it needs (a module
//! qualifier, a definition inside an item-level macro, a common name) and the definition lines a
//! prompt must show for a hit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// A language of the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lang {
    Python,
    Rust,
    JavaScript,
    C,
    Cpp,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::Rust => "rust",
            Lang::JavaScript => "javascript",
            Lang::C => "c",
            Lang::Cpp => "cpp",
        }
    }

    pub fn language_id(self) -> &'static str {
        self.name()
    }

    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Lang::Python => &["py"],
            Lang::Rust => &["rs"],
            Lang::JavaScript => &["js"],
            Lang::C => &["c", "h"],
            Lang::Cpp => &["cpp", "cc", "h", "hpp"],
        }
    }

    fn is_c_family(self) -> bool {
        matches!(self, Lang::C | Lang::Cpp)
    }
}

/// The kinds of retrieval a call site needs (`preproc`: a C or C++ callee defined only inside
/// preprocessor conditionals or behind a macro on its line; `header`: a C++ callee declared or
/// defined only in `.h` files).
pub const KINDS: [&str; 6] = ["qualified", "macro", "common", "preproc", "header", "plain"];

/// A definition found by the line patterns.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub file: PathBuf,
    /// The definition's first line, whitespace collapsed, without a trailing `{` or `:`.
    pub line_text: String,
    /// The enclosing class, `impl` or struct name, if any.
    pub container: Option<String>,
    /// Whether it sits in the body of an item-level macro invocation (`cfg_rt! { ... }`); in C
    /// and C++, whether it sits inside a preprocessor conditional (an include guard aside) or
    /// behind a macro on its line or the line before.
    pub in_macro: bool,
}

/// A call site: the document cut just after the call's `(`.
#[derive(Debug, Clone)]
pub struct Site {
    pub file: PathBuf,
    /// The document's text as sent: the rest of the call's line is cut.
    pub text: String,
    /// The cursor: 0-based line and UTF-16 column.
    pub line: u32,
    pub column: u32,
    pub callee: String,
    pub kinds: Vec<&'static str>,
    /// What the prompt must hold (any one of them) for a hit.
    pub wanted: Vec<String>,
}

/// Collapses runs of whitespace to one space and trims.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Patterns {
    defs: Vec<Regex>,
    containers: Vec<Regex>,
    call: Regex,
}

fn patterns(lang: Lang) -> Patterns {
    let re = |s: &str| Regex::new(s).expect("a valid pattern");
    match lang {
        Lang::Python => Patterns {
            defs: vec![re(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(")],
            containers: vec![re(r"^\s*class\s+([A-Za-z_]\w*)")],
            call: re(r"((?:[A-Za-z_]\w*\.)*)([A-Za-z_]\w*)\($"),
        },
        Lang::Rust => Patterns {
            defs: vec![re(
                r#"^\s*(?:pub(?:\s*\([^)]*\))?\s+)?(?:default\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?(?:extern\s+"[^"]*"\s+)?fn\s+([A-Za-z_]\w*)"#,
            )],
            containers: vec![
                re(
                    r"^\s*(?:unsafe\s+)?impl\b(?:<[^{]*?>)?\s+(?:[\w:<>, ]+\s+for\s+)?(?:[\w]+::)*([A-Za-z_]\w*)",
                ),
                re(r"^\s*(?:pub(?:\s*\([^)]*\))?\s+)?(?:unsafe\s+)?trait\s+([A-Za-z_]\w*)"),
            ],
            call: re(r"((?:[A-Za-z_]\w*(?:::|\.))*)([A-Za-z_]\w*)\($"),
        },
        Lang::JavaScript => Patterns {
            defs: vec![
                re(
                    r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*\(",
                ),
                re(r"^\s+(?:static\s+)?(?:async\s+)?\*?#?([A-Za-z_$][\w$]*)\s*\([^)]*\)\s*\{\s*$"),
                re(
                    r"^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)",
                ),
            ],
            containers: vec![re(
                r"^\s*(?:export\s+)?(?:default\s+)?class\s+([A-Za-z_$][\w$]*)",
            )],
            call: re(r"((?:[A-Za-z_$][\w$]*\.)*)([A-Za-z_$][\w$]*)\($"),
        },
        Lang::C | Lang::Cpp => Patterns {
            // A function's head: words (a return type, specifiers, a `Class::` qualifier) then
            // the name and a parameter list with something in it; keyword-led statements and
            // assignments are left out by `c_definition_name`.
            defs: vec![re(
                r"^\s*(?:[A-Za-z_][\w\*&<>,:~ ]*?[\s\*&:])(~?[A-Za-z_]\w*)\s*\(\s*[^\s)]",
            )],
            containers: Vec::new(),
            call: re(r"((?:[A-Za-z_]\w*(?:::|\.|->))*)([A-Za-z_]\w*)\($"),
        },
    }
}

/// Words that start a statement rather than a definition in C and C++.
const C_STATEMENTS: &[&str] = &[
    "return",
    "if",
    "else",
    "for",
    "while",
    "switch",
    "case",
    "do",
    "goto",
    "typedef",
    "new",
    "delete",
    "throw",
    "sizeof",
    "using",
    "namespace",
    "template",
    "co_return",
    "co_await",
    "static_assert",
    "define",
    "undef",
    "include",
];

/// Methods of the C++ standard library's containers and strings: a call of one of these on a
/// receiver (`v.push_back(`) is most likely the library's, whose type the bench cannot see, so it
/// is not a site even when the package defines a method of the same name.
const CPP_LIBRARY_METHODS: &[&str] = &[
    "push_back",
    "emplace_back",
    "pop_back",
    "push_front",
    "emplace",
    "insert",
    "erase",
    "find",
    "count",
    "size",
    "empty",
    "clear",
    "reserve",
    "resize",
    "begin",
    "end",
    "at",
    "front",
    "back",
    "data",
    "c_str",
    "substr",
    "append",
    "compare",
    "swap",
    "get",
    "reset",
    "load",
    "store",
];

/// Names that are operators, attributes or assertions rather than functions.
const C_NOT_FUNCTIONS: &[&str] = &[
    "sizeof",
    "alignof",
    "_Alignof",
    "__attribute__",
    "__declspec",
    "decltype",
    "assert",
    "static_cast",
    "reinterpret_cast",
    "const_cast",
    "dynamic_cast",
    "defined",
    "__typeof__",
    "typeof",
    "offsetof",
    "va_arg",
];

/// The name a C or C++ definition line defines, if it is one: not a call inside an expression
/// that the line before leaves open, and with parameters that name types (a space inside, or
/// `void`).
fn c_definition_name(p: &Patterns, line: &str) -> Option<(String, usize)> {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with('}') {
        return None;
    }
    let first = t
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()?;
    if C_STATEMENTS.contains(&first) {
        return None;
    }
    let c = p.defs.iter().find_map(|r| r.captures(line))?;
    let name = c.get(1)?;
    if C_NOT_FUNCTIONS.contains(&name.as_str()) {
        return None;
    }
    let params = line[name.end()..].trim_start().strip_prefix('(')?;
    let params = params.split(')').next().unwrap_or(params).trim();
    if params.starts_with(['*', '&', '"', '\'', '(']) || !(params.contains(' ') || params == "void")
    {
        return None;
    }
    let head = &line[..name.start()];
    if head.contains(['=', '(', '"', '.', ',']) || head.contains("->") || head.contains("return") {
        return None;
    }
    Some((name.as_str().to_string(), name.start()))
}

const JS_NOT_METHODS: &[&str] = &[
    "if",
    "for",
    "while",
    "switch",
    "catch",
    "function",
    "return",
    "constructor",
    "super",
];

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Whether a line is a comment (or inside a docstring start) and holds no code to sample.
fn is_comment(lang: Lang, line: &str) -> bool {
    let t = line.trim_start();
    match lang {
        Lang::Python => t.starts_with('#') || t.starts_with("\"\"\"") || t.starts_with("'''"),
        Lang::Rust | Lang::JavaScript | Lang::C | Lang::Cpp => {
            t.starts_with("//") || t.starts_with('*') || t.starts_with("/*")
        }
    }
}

/// The lines of a file that belong to import statements.
fn import_lines(lang: Lang, lines: &[&str]) -> Vec<bool> {
    let mut out = vec![false; lines.len()];
    let mut open = false;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let starts = match lang {
            Lang::Python => t.starts_with("import ") || t.starts_with("from "),
            Lang::Rust => t.starts_with("use ") || (t.starts_with("pub") && t.contains(" use ")),
            Lang::C | Lang::Cpp => t.starts_with("#include") || t.starts_with("#import"),
            Lang::JavaScript => {
                t.starts_with("import ")
                    || (t.contains("require(")
                        && (t.starts_with("const ")
                            || t.starts_with("let ")
                            || t.starts_with("var ")))
                    || ((t.starts_with("const {") || t.starts_with("import {")) && !t.contains('}'))
            }
        };
        if starts || open {
            out[i] = true;
            open = match lang {
                Lang::Python => (open || t.contains('(')) && !t.contains(')') || t.ends_with('\\'),
                Lang::Rust => !t.contains(';'),
                Lang::C | Lang::Cpp => false,
                Lang::JavaScript => {
                    (open || starts)
                        && !(t.contains("require(") || t.contains(" from ") || t.ends_with(';'))
                }
            };
        }
    }
    out
}

/// The ranges of lines inside item-level macro invocations (`name! {` at the start of a line,
/// up to the `}` at the same indentation).
fn macro_lines(lines: &[&str]) -> Vec<bool> {
    let open = Regex::new(r"^(\s*)[a-z_][a-z0-9_]*!\s*\{\s*$").expect("a valid pattern");
    let mut out = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        if let Some(c) = open.captures(lines[i]) {
            let depth = c[1].len();
            let mut j = i + 1;
            while j < lines.len() {
                let t = lines[j];
                if indent(t) == depth && t.trim_start().starts_with('}') {
                    break;
                }
                out[j] = true;
                j += 1;
            }
            i = j;
        }
        i += 1;
    }
    out
}

/// The lines of a C or C++ file that are inside preprocessor conditionals (not counting an
/// include guard: an `#ifndef X` followed by `#define X`).
fn conditional_lines(lines: &[&str]) -> Vec<bool> {
    let mut out = vec![false; lines.len()];
    // One entry per open conditional: whether it is an include guard.
    let mut open: Vec<bool> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix('#') else {
            out[i] = open.iter().any(|guard| !guard);
            continue;
        };
        let rest = rest.trim_start();
        if let Some(name) = rest.strip_prefix("ifndef") {
            let name = name.trim();
            let next = lines[i + 1..].iter().find(|l| !l.trim().is_empty());
            let guard = next.is_some_and(|l| {
                l.trim_start().strip_prefix('#').is_some_and(|d| {
                    d.trim_start()
                        .strip_prefix("define")
                        .is_some_and(|n| n.trim() == name)
                })
            });
            open.push(guard);
        } else if rest.starts_with("if") {
            open.push(false);
        } else if rest.starts_with("endif") {
            open.pop();
        }
    }
    out
}

/// Whether a C or C++ definition line has a macro before the defined name (an upper-case word
/// with an underscore, `ENGINE_API int f(`), or follows a line that is only such a macro.
fn behind_macro(lines: &[&str], i: usize, name_at: usize) -> bool {
    let caps = |w: &str| {
        w.len() > 2
            && w.contains('_')
            && w.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    let head = &lines[i][..name_at];
    if head
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(caps)
    {
        return true;
    }
    i > 0 && {
        let previous = lines[i - 1].trim();
        let word = previous.split('(').next().unwrap_or("");
        !word.is_empty() && caps(word) && (word.len() == previous.len() || previous.ends_with(')'))
    }
}

/// The definitions of a file.
pub fn definitions(lang: Lang, file: &Path, text: &str) -> Vec<Def> {
    let p = patterns(lang);
    let lines: Vec<&str> = text.lines().collect();
    if lang.is_c_family() {
        let conditional = conditional_lines(&lines);
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() || is_comment(lang, line) {
                continue;
            }
            let continues = i > 0
                && lines[i - 1]
                    .trim_end()
                    .ends_with([',', '(', '=', '&', '|', '?', '+']);
            let Some((name, at)) = c_definition_name(&p, line).filter(|_| !continues) else {
                continue;
            };
            // From the name to the end of its parameter list on this line, comments left out.
            let mut rest = line[at..].split("//").next().unwrap_or("").to_string();
            let mut depth = 0;
            if let Some(close) = rest.char_indices().find_map(|(k, ch)| {
                match ch {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(k);
                        }
                    }
                    _ => {}
                }
                None
            }) {
                rest.truncate(close + 1);
            }
            let mut line_text = collapse(&rest);
            cut_to_prefix(&mut line_text);
            out.push(Def {
                name,
                file: file.to_path_buf(),
                line_text,
                container: None,
                in_macro: conditional[i] || behind_macro(&lines, i, at),
            });
        }
        return out;
    }
    let in_macro = if lang == Lang::Rust {
        macro_lines(&lines)
    } else {
        vec![false; lines.len()]
    };
    // The open containers: (indentation, name).
    let mut containers: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() || is_comment(lang, line) {
            continue;
        }
        let depth = indent(line);
        while containers.last().is_some_and(|(d, _)| *d >= depth) {
            containers.pop();
        }
        if let Some(c) = p.containers.iter().find_map(|r| r.captures(line)) {
            containers.push((depth, c[1].to_string()));
            continue;
        }
        let Some(c) = p.defs.iter().find_map(|r| r.captures(line)) else {
            continue;
        };
        let name = c[1].to_string();
        if lang == Lang::JavaScript && JS_NOT_METHODS.contains(&name.as_str()) {
            continue;
        }
        let mut line_text = collapse(line);
        while line_text.ends_with('{') || line_text.ends_with(':') {
            line_text.pop();
            line_text = line_text.trim_end().to_string();
        }
        cut_to_prefix(&mut line_text);
        out.push(Def {
            name,
            file: file.to_path_buf(),
            line_text,
            container: containers.last().map(|(_, n)| n.clone()),
            in_macro: in_macro[i],
        });
    }
    out
}

/// Types that wrap the type that matters (`Arc<Inner>`).
const WRAPPERS: &[&str] = &[
    "Arc",
    "Rc",
    "Box",
    "Option",
    "Mutex",
    "RwLock",
    "RefCell",
    "Cell",
    "Pin",
    "Vec",
    "Weak",
    "MaybeUninit",
    "UnsafeCell",
    "ManuallyDrop",
    "Self",
];

/// The first capitalised type name of a type expression that is not a wrapper.
fn main_type(text: &str) -> Option<String> {
    let word = Regex::new(r"[A-Za-z_]\w*").expect("a valid pattern");
    word.find_iter(text)
        .map(|m| m.as_str())
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && !WRAPPERS.contains(w))
        .map(str::to_string)
}

/// The type of `receiver` as written above line `at` (a field or parameter type, a `let x: T`,
/// a constructor call assigned to it).
fn receiver_type(lang: Lang, lines: &[&str], at: usize, receiver: &str) -> Option<String> {
    let r = regex::escape(receiver);
    let pats: Vec<Regex> = match lang {
        Lang::Rust => vec![
            Regex::new(&format!(r"\b{r}\s*:\s*([^=,;)]+)")).ok()?,
            Regex::new(&format!(
                r"let\s+(?:mut\s+)?{r}\s*=\s*([A-Z]\w*)(?:::|\s*\{{|\()"
            ))
            .ok()?,
        ],
        Lang::Python => vec![
            Regex::new(&format!(r"\b{r}\s*=\s*(?:[a-z_]\w*\.)*([A-Z]\w*)\(")).ok()?,
            Regex::new(&format!(r"\b{r}\s*:\s*([A-Z][\w.]*)")).ok()?,
        ],
        Lang::JavaScript => vec![Regex::new(&format!(r"\b{r}\s*=\s*new\s+([A-Z][\w$]*)")).ok()?],
        Lang::C | Lang::Cpp => return None,
    };
    for line in lines[..at].iter().rev() {
        for p in &pats {
            if let Some(c) = p.captures(line)
                && let Some(t) = main_type(&c[1])
            {
                return Some(t);
            }
        }
    }
    None
}

/// Whether `word` occurs in `line` as a whole identifier.
fn has_word(line: &str, word: &str) -> bool {
    let bytes = line.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    line.match_indices(word).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + word.len()).copied();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// All files of one language under `root`, sorted.
pub fn files_of(lang: Lang, root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.path().to_path_buf())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| lang.extensions().contains(&e))
        })
        .collect();
    out.sort();
    out
}

/// The package a file belongs to: the first `depth` components under the root.
fn package_of(root: &Path, file: &Path, depth: usize) -> PathBuf {
    let rel = file.strip_prefix(root).unwrap_or(file);
    rel.components().take(depth).collect()
}

/// The call sites of one language's workspace, at most `per_kind` of each kind (a site counts
/// for each of its kinds), at most two per file and kind, in a fixed order.
pub fn sites(lang: Lang, root: &Path, package_depth: usize, per_kind: usize) -> Vec<Site> {
    let files = files_of(lang, root);
    let texts: Vec<(PathBuf, String)> = files
        .into_iter()
        .filter_map(|f| std::fs::read_to_string(&f).ok().map(|t| (f, t)))
        .filter(|(_, t)| t.len() < 400_000)
        .collect();
    // Definitions by package and name.
    let mut defs: BTreeMap<(PathBuf, String), Vec<Def>> = BTreeMap::new();
    for (file, text) in &texts {
        for def in definitions(lang, file, text) {
            defs.entry((package_of(root, file, package_depth), def.name.clone()))
                .or_default()
                .push(def);
        }
    }
    let p = patterns(lang);
    let word = Regex::new(r"[A-Za-z_$][\w$]*").expect("a valid pattern");
    let mut candidates: Vec<Site> = Vec::new();
    for (file, text) in &texts {
        let package = package_of(root, file, package_depth);
        let lines: Vec<&str> = text.lines().collect();
        let imports = import_lines(lang, &lines);
        let own: BTreeSet<String> = definitions(lang, file, text)
            .into_iter()
            .map(|d| d.name)
            .collect();
        // The names seen above the current line outside import lines.
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for (i, line) in lines.iter().enumerate() {
            let code_line = !imports[i] && !is_comment(lang, line);
            let definition_line = if lang.is_c_family() {
                c_definition_name(&p, line).is_some()
            } else {
                p.defs.iter().any(|d| d.is_match(line))
            };
            if code_line && !definition_line {
                for (at, _) in line.match_indices('(') {
                    let before = &line[..at + 1];
                    let Some(c) = p.call.captures(before) else {
                        continue;
                    };
                    let name = &c[2];
                    let qualifier = c[1].to_string();
                    if name.len() < 3
                        || own.contains(name)
                        || seen.contains(name)
                        || line[..c.get(2).unwrap().start()].contains(name)
                    {
                        continue;
                    }
                    let Some(all) = defs.get(&(package.clone(), name.to_string())) else {
                        continue;
                    };
                    let others: Vec<&Def> = all.iter().filter(|d| &d.file != file).collect();
                    if others.is_empty() {
                        continue;
                    }
                    if lang == Lang::Cpp
                        && (qualifier.ends_with('.') || qualifier.ends_with("->"))
                        && CPP_LIBRARY_METHODS.contains(&name)
                    {
                        continue;
                    }
                    let sep = if lang == Lang::Rust { "::" } else { "." };
                    let segments: Vec<&str> = qualifier
                        .split(['.', ':'])
                        .filter(|s| !s.is_empty())
                        .collect();
                    let last = segments.last().copied();
                    let mut kinds = Vec::new();
                    let module_qualified = match (lang, last) {
                        (_, None) => false,
                        (Lang::Rust, Some(q)) => {
                            qualifier.ends_with("::")
                                && q.chars().next().is_some_and(|ch| ch.is_ascii_lowercase())
                        }
                        (Lang::Python, Some(_)) => {
                            let first = segments[0];
                            first != "self"
                                && lines[..i]
                                    .iter()
                                    .zip(&imports)
                                    .any(|(l, imp)| *imp && has_word(l, first))
                        }
                        (Lang::C | Lang::Cpp, Some(_)) => false,
                        (Lang::JavaScript, Some(_)) => {
                            let first = segments[0];
                            lines[..i].iter().any(|l| {
                                has_word(l, first) && (l.contains("require(") || l.contains("* as"))
                            })
                        }
                    };
                    let _ = sep;
                    if module_qualified {
                        kinds.push("qualified");
                    }
                    let common = all.len() >= 4 && !lang.is_c_family();
                    // For a common name, the definitions meant are those of the type the code
                    // names: the qualifier when it is a type, else the receiver's written type.
                    let wanted_defs: Vec<&Def> = if common && !module_qualified {
                        let ty = match last {
                            Some(q)
                                if q.chars().next().is_some_and(|ch| ch.is_ascii_uppercase()) =>
                            {
                                Some(q.to_string())
                            }
                            Some(q) if q != "self" => receiver_type(lang, &lines, i, q),
                            _ => None,
                        };
                        let Some(ty) = ty else {
                            continue;
                        };
                        let meant: Vec<&Def> = others
                            .iter()
                            .copied()
                            .filter(|d| d.container.as_deref() == Some(ty.as_str()))
                            .collect();
                        if meant.is_empty() {
                            continue;
                        }
                        kinds.push("common");
                        meant
                    } else {
                        others.clone()
                    };
                    if lang == Lang::Rust && wanted_defs.iter().all(|d| d.in_macro) {
                        kinds.push("macro");
                    }
                    if lang.is_c_family() && wanted_defs.iter().all(|d| d.in_macro) {
                        kinds.push("preproc");
                    }
                    if lang == Lang::Cpp
                        && wanted_defs
                            .iter()
                            .all(|d| d.file.extension().is_some_and(|e| e == "h"))
                    {
                        kinds.push("header");
                    }
                    if kinds.is_empty() {
                        kinds.push("plain");
                    }
                    let column: u32 = line[..at + 1].chars().map(|ch| ch.len_utf16() as u32).sum();
                    let mut cut = String::with_capacity(text.len());
                    for l in &lines[..i] {
                        cut.push_str(l);
                        cut.push('\n');
                    }
                    cut.push_str(&line[..at + 1]);
                    cut.push('\n');
                    for l in &lines[i + 1..] {
                        cut.push_str(l);
                        cut.push('\n');
                    }
                    let mut wanted: Vec<String> =
                        wanted_defs.iter().map(|d| d.line_text.clone()).collect();
                    wanted.sort();
                    wanted.dedup();
                    candidates.push(Site {
                        file: file.clone(),
                        text: cut,
                        line: i as u32,
                        column,
                        callee: name.to_string(),
                        kinds,
                        wanted,
                    });
                }
            }
            if code_line {
                for m in word.find_iter(line) {
                    seen.insert(m.as_str());
                }
            }
        }
    }
    // A fixed spread: sites in a shuffled but seeded order, capped per kind and per file.
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for k in (1..order.len()).rev() {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let j = (state.wrapping_mul(0x2545_F491_4F6C_DD1D) % (k as u64 + 1)) as usize;
        order.swap(k, j);
    }
    let mut per_kind_count: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_file: BTreeMap<(PathBuf, &str), usize> = BTreeMap::new();
    let mut out = Vec::new();
    for k in order {
        let site = &candidates[k];
        let primary = site.kinds[0];
        let n = per_kind_count.entry(primary).or_default();
        let f = per_file.entry((site.file.clone(), primary)).or_default();
        if *n >= per_kind || *f >= 2 {
            continue;
        }
        *n += 1;
        *f += 1;
        out.push(site.clone());
    }
    out.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    out
}

/// Cuts a definition's line to the prefix that is compared (at most 100 bytes, on a character
/// boundary): augur cuts long signatures too (at 300 bytes).
fn cut_to_prefix(line_text: &mut String) {
    let mut cut = line_text.len().min(100);
    while !line_text.is_char_boundary(cut) {
        cut -= 1;
    }
    line_text.truncate(cut);
}
