//! Identifier collection: the names near the cursor (nearest first, keywords left out) and the
//! names a file imports, which the retrieval sources look up.

use ropey::Rope;
use rustc_hash::FxHashSet;

use super::window::{line_ends, line_start, piece};

/// Keywords and very common names of the supported languages, lowercase and sorted (searched by
/// bisection): they say little about what the code near the cursor is about.
pub(super) const KEYWORDS: &[&str] = &[
    "and",
    "any",
    "append",
    "as",
    "async",
    "await",
    "bool",
    "box",
    "break",
    "case",
    "catch",
    "char",
    "class",
    "const",
    "continue",
    "crate",
    "def",
    "default",
    "defer",
    "del",
    "do",
    "double",
    "elif",
    "else",
    "end",
    "enum",
    "err",
    "except",
    "export",
    "extends",
    "extern",
    "f32",
    "f64",
    "false",
    "final",
    "finally",
    "float",
    "fn",
    "for",
    "from",
    "func",
    "function",
    "global",
    "i32",
    "i64",
    "if",
    "impl",
    "implements",
    "import",
    "in",
    "include",
    "int",
    "interface",
    "is",
    "isize",
    "lambda",
    "len",
    "let",
    "local",
    "long",
    "loop",
    "match",
    "mod",
    "module",
    "mut",
    "new",
    "nil",
    "none",
    "not",
    "null",
    "ok",
    "option",
    "or",
    "package",
    "pass",
    "print",
    "println",
    "private",
    "protected",
    "pub",
    "public",
    "raise",
    "range",
    "ref",
    "require",
    "result",
    "return",
    "self",
    "some",
    "static",
    "std",
    "str",
    "string",
    "struct",
    "super",
    "switch",
    "then",
    "this",
    "throw",
    "trait",
    "true",
    "try",
    "type",
    "u32",
    "u64",
    "u8",
    "undefined",
    "unsafe",
    "use",
    "usize",
    "var",
    "vec",
    "void",
    "where",
    "while",
    "with",
    "yield",
];

/// The length of the longest keyword, in bytes.
pub(super) const LONGEST_KEYWORD: usize = 10;

/// Whether `word` (ASCII) is a keyword, in any case.
pub(super) fn is_keyword(word: &str) -> bool {
    if word.len() > LONGEST_KEYWORD {
        return false;
    }
    let mut buffer = [0u8; LONGEST_KEYWORD];
    let lower = &mut buffer[..word.len()];
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    KEYWORDS
        .binary_search_by(|keyword| keyword.as_bytes().cmp(lower))
        .is_ok()
}

/// The identifiers of `text` in order: ASCII letters, digits and `_`, not starting with a digit.
pub(super) fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if is_word(bytes[i]) {
                let start = i;
                while i < bytes.len() && is_word(bytes[i]) {
                    i += 1;
                }
                if !bytes[start].is_ascii_digit() {
                    return Some(&text[start..i]);
                }
            } else {
                i += 1;
            }
        }
        None
    })
}

/// Whether an identifier says something about the code: not a keyword, not a very short name.
pub(super) fn is_telling(word: &str) -> bool {
    word.len() >= 3 && !is_keyword(word)
}

/// Identifiers of `text`, last first (nearest the cursor), without duplicates, keywords or very
/// short names.
pub(super) fn identifiers_nearest_last(text: &str) -> Vec<String> {
    let found: Vec<&str> = identifiers(text).filter(|w| is_telling(w)).collect();
    let mut seen = FxHashSet::default();
    found
        .into_iter()
        .rev()
        .filter(|w| seen.insert(*w))
        .map(str::to_string)
        .collect()
}

/// Identifiers named by the import statements among the first lines of the document.
pub(super) fn imported_names(rope: &Rope) -> Vec<String> {
    let head = piece(rope, 0..line_start(rope, IMPORT_LINES));
    let mut text = String::new();
    let mut at = 0;
    for end in line_ends(&head) {
        let trimmed = head[at..end].trim();
        at = end;
        let is_import = ["use ", "import ", "from ", "#include", "require", "using "]
            .iter()
            .any(|start| trimmed.starts_with(start))
            || trimmed.contains("require(");
        if is_import {
            text.push_str(trimmed);
            text.push('\n');
        }
    }
    identifiers_nearest_last(&text)
}

/// Lines at the top of a document searched for imports.
pub(super) const IMPORT_LINES: usize = 200;
