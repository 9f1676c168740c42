//! Tree-sitter languages: the table from file extensions and LSP language ids to grammars, and the
//! queries that extract symbols, chunks and imports.
