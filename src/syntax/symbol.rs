//! What the outline and the chunker share: a symbol and its kind, and the range helpers both
//! use, in a module of their own so that neither depends on the other for them.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// The kind of a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SymbolKind {
    Function,
    Method,
    Class,
    Struct,
    Enum,
    Interface,
    Trait,
    Type,
    Constant,
    Module,
}

impl SymbolKind {
    /// Every kind.
    pub const ALL: [SymbolKind; 10] = [
        SymbolKind::Function,
        SymbolKind::Method,
        SymbolKind::Class,
        SymbolKind::Struct,
        SymbolKind::Enum,
        SymbolKind::Interface,
        SymbolKind::Trait,
        SymbolKind::Type,
        SymbolKind::Constant,
        SymbolKind::Module,
    ];

    /// The lower-case name (`function`, `class`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Function => "function",
            SymbolKind::Method => "method",
            SymbolKind::Class => "class",
            SymbolKind::Struct => "struct",
            SymbolKind::Enum => "enum",
            SymbolKind::Interface => "interface",
            SymbolKind::Trait => "trait",
            SymbolKind::Type => "type",
            SymbolKind::Constant => "constant",
            SymbolKind::Module => "module",
        }
    }

    /// The kind of a lower-case name; a few aliases (`fn`, `const`, `mod`) are accepted.
    pub fn parse(name: &str) -> Option<SymbolKind> {
        let lower = name.to_ascii_lowercase();
        let kind = match lower.as_str() {
            "fn" | "func" | "def" => SymbolKind::Function,
            "const" => SymbolKind::Constant,
            "mod" | "namespace" | "package" => SymbolKind::Module,
            other => return SymbolKind::ALL.into_iter().find(|k| k.as_str() == other),
        };
        Some(kind)
    }

    /// Whether symbols of this kind contain methods.
    pub(super) fn holds_methods(self) -> bool {
        matches!(
            self,
            SymbolKind::Class
                | SymbolKind::Struct
                | SymbolKind::Enum
                | SymbolKind::Interface
                | SymbolKind::Trait
        )
    }
}

impl std::fmt::Display for SymbolKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A symbol defined in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Symbol {
    /// The name as written (`parseHttpRequest`).
    pub name: String,
    /// What it is.
    pub kind: SymbolKind,
    /// The bytes of the whole definition.
    pub byte_range: Range<usize>,
    /// The bytes of the name.
    pub name_range: Range<usize>,
    /// The first line of the definition, 0-based.
    pub start_line: usize,
    /// The last line of the definition, 0-based and inclusive.
    pub end_line: usize,
    /// The byte column of the definition's start on `start_line`.
    pub start_column: usize,
    /// The line of the name, 0-based.
    pub name_line: usize,
    /// The byte column of the name on `name_line`.
    pub name_column: usize,
    /// The signature: the definition up to its body, whitespace collapsed to single spaces.
    pub signature: String,
    /// The doc comment or docstring, markers stripped.
    pub doc: Option<String>,
    /// The name of the enclosing symbol (a class, an `impl` block's type, a module), if any.
    pub container: Option<String>,
    /// The index in the same list of the enclosing symbol, if it is one (for a symbol tree).
    pub parent: Option<usize>,
}

/// The last row of a range, not counting a row the range only reaches at column 0.
pub(crate) fn inclusive_end_row(start_row: usize, end_row: usize, end_column: usize) -> usize {
    if end_column == 0 && end_row > start_row {
        end_row - 1
    } else {
        end_row
    }
}

/// A slice of `text` that never panics: an empty string for a range that is out of bounds or not on
/// character boundaries.
pub(crate) fn slice(text: &str, range: Range<usize>) -> &str {
    text.get(range).unwrap_or("")
}
