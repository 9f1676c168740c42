//! The workspace index: tree-sitter symbols, chunks and imports of every file in the workspace,
//! kept in an on-disk tantivy index and updated incrementally.

pub mod config;
