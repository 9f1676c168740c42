//! Tree-sitter languages: the table from file extensions and LSP language ids to grammars, a
//! per-thread parser pool, and the queries that extract symbols, imports and retrieval chunks.
//!
//! Everything here works in byte offsets and 0-based lines and knows nothing of the Language
//! Server Protocol. Nothing here panics on any input: tree-sitter is error-tolerant, so a file
//! that fails to parse still yields what did parse.
//!
//! ```
//! use augur::syntax::{outline, ChunkOptions, Language, SymbolKind};
//!
//! let text = "/// Adds.\nfn add(a: i32, b: i32) -> i32 { a + b }\n";
//! let outline = outline(Language::Rust, text, &ChunkOptions::default());
//! let add = &outline.symbols[0];
//! assert_eq!((add.name.as_str(), add.kind), ("add", SymbolKind::Function));
//! assert_eq!(add.signature, "fn add(a: i32, b: i32) -> i32");
//! assert_eq!(add.doc.as_deref(), Some("Adds."));
//! assert_eq!(outline.chunks.len(), 1);
//! ```

mod c_view;
mod chunk;
mod language;
mod macro_items;
mod outline;
mod parse;
mod queries;
mod symbol;

pub use c_view::{language_of_text, looks_like_cpp};
pub use chunk::{Chunk, ChunkOptions, chunks_in};
pub use language::Language;
pub use outline::{Import, Outline, document_symbols, outline, outline_of_tree, symbols_around};
pub use parse::{
    error_count_in, has_new_errors, input_edit, parse, reparse, reparse_changed,
    syntax_error_count, visit_error_nodes,
};
pub use symbol::{Symbol, SymbolKind};
