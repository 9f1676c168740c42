//! The tantivy schema of the index, and how files become documents.
//!
//! Three kinds of documents share one schema, told apart by `doc_type`: one `file` document per
//! file (path, language, content hash, mtime, size, imports), one `symbol` document per symbol and
//! one `chunk` document per retrieval chunk. Every document carries the file's path, so a file's
//! documents are replaced together.

use tantivy::TantivyDocument;
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use super::tokenizer::{CODE_TOKENIZER, name_key};
use crate::syntax::{Language, Outline};

/// The version of the schema and of what is extracted; an index with another version is rebuilt.
/// (3: files that hold a secret are left out, so an older index that has them is rebuilt; 4: the
/// items inside Rust item-level macro invocations are symbols; 5: C and C++ definitions hidden by
/// preprocessor conditionals and export macros are symbols, and `.h` files that hold C++ are
/// parsed as C++.)
pub const SCHEMA_VERSION: u32 = 5;

/// `doc_type` of a file document.
pub const FILE: &str = "file";
/// `doc_type` of a symbol document.
pub const SYMBOL: &str = "symbol";
/// `doc_type` of a chunk document.
pub const CHUNK: &str = "chunk";

/// The fields of the schema.
#[derive(Debug, Clone)]
pub struct Fields {
    pub schema: Schema,
    /// `file`, `symbol` or `chunk`.
    pub doc_type: Field,
    /// The path relative to the workspace root, `/`-separated (raw, stored).
    pub path: Field,
    /// The language name (stored only: nothing searches by it, and every indexed field costs
    /// each commit a term dictionary).
    pub language: Field,
    /// The symbol kind (raw, stored).
    pub kind: Field,
    /// The symbol name as written (stored only).
    pub name: Field,
    /// The symbol name split into words by the code tokenizer.
    pub name_words: Field,
    /// The lower-cased alphanumeric key of the name (raw), for exact and prefix lookups.
    pub name_key: Field,
    /// The enclosing symbol's name (stored only).
    pub container: Field,
    /// The signature (code tokenizer, stored).
    pub signature: Field,
    /// The doc comment (code tokenizer, stored).
    pub doc: Field,
    /// The chunk text (code tokenizer, stored).
    pub text: Field,
    /// The file's imports, one per line (stored only, like `language`).
    pub imports: Field,
    pub start_line: Field,
    pub end_line: Field,
    pub start_column: Field,
    pub start_byte: Field,
    pub end_byte: Field,
    /// The blake3 hash of the file content, hex (file documents).
    pub hash: Field,
    /// The file's mtime in nanoseconds since the epoch (file documents).
    pub mtime: Field,
    /// The file's size in bytes (file documents).
    pub size: Field,
}

impl Fields {
    /// Builds the schema.
    pub fn new() -> Fields {
        let mut builder = Schema::builder();
        let code = |stored: bool| {
            let indexing = TextFieldIndexing::default()
                .set_tokenizer(CODE_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs);
            let options = TextOptions::default().set_indexing_options(indexing);
            if stored {
                options.set_stored()
            } else {
                options
            }
        };
        let doc_type = builder.add_text_field("doc_type", STRING);
        let path = builder.add_text_field("path", STRING | STORED);
        let language = builder.add_text_field("language", STORED);
        let kind = builder.add_text_field("kind", STRING | STORED);
        let name = builder.add_text_field("name", STORED);
        let name_words = builder.add_text_field("name_words", code(false));
        let name_key = builder.add_text_field("name_key", STRING);
        let container = builder.add_text_field("container", STORED);
        let signature = builder.add_text_field("signature", code(true));
        let doc = builder.add_text_field("doc", code(true));
        let text = builder.add_text_field("text", code(true));
        let imports = builder.add_text_field("imports", STORED);
        let start_line = builder.add_u64_field("start_line", STORED);
        let end_line = builder.add_u64_field("end_line", STORED);
        let start_column = builder.add_u64_field("start_column", STORED);
        let start_byte = builder.add_u64_field("start_byte", STORED);
        let end_byte = builder.add_u64_field("end_byte", STORED);
        let hash = builder.add_text_field("hash", STORED);
        let mtime = builder.add_u64_field("mtime", STORED);
        let size = builder.add_u64_field("size", STORED);
        Fields {
            schema: builder.build(),
            doc_type,
            path,
            language,
            kind,
            name,
            name_words,
            name_key,
            container,
            signature,
            doc,
            text,
            imports,
            start_line,
            end_line,
            start_column,
            start_byte,
            end_byte,
            hash,
            mtime,
            size,
        }
    }

    /// The documents of one file.
    pub fn documents(
        &self,
        file: &FileRecord,
        language: Language,
        text: &str,
        outline: &Outline,
    ) -> Vec<TantivyDocument> {
        let mut docs = Vec::with_capacity(1 + outline.symbols.len() + outline.chunks.len());
        let mut doc = TantivyDocument::new();
        doc.add_text(self.doc_type, FILE);
        doc.add_text(self.path, &file.rel);
        doc.add_text(self.language, language.name());
        doc.add_text(self.hash, &file.hash);
        doc.add_u64(self.mtime, file.mtime);
        doc.add_u64(self.size, file.size);
        let imports: Vec<&str> = outline.imports.iter().map(|i| i.text.as_str()).collect();
        doc.add_text(self.imports, imports.join("\n"));
        docs.push(doc);
        for symbol in &outline.symbols {
            let mut doc = TantivyDocument::new();
            doc.add_text(self.doc_type, SYMBOL);
            doc.add_text(self.path, &file.rel);
            doc.add_text(self.language, language.name());
            doc.add_text(self.kind, symbol.kind.as_str());
            doc.add_text(self.name, &symbol.name);
            doc.add_text(self.name_words, &symbol.name);
            doc.add_text(self.name_key, name_key(&symbol.name));
            if let Some(container) = &symbol.container {
                doc.add_text(self.container, container);
            }
            doc.add_text(self.signature, &symbol.signature);
            if let Some(text) = &symbol.doc {
                doc.add_text(self.doc, text);
            }
            doc.add_u64(self.start_line, symbol.start_line as u64);
            doc.add_u64(self.end_line, symbol.end_line as u64);
            // Hits point at the name, which is where an editor puts the cursor.
            doc.add_u64(self.start_column, symbol.name_column as u64);
            doc.add_u64(self.start_byte, symbol.byte_range.start as u64);
            doc.add_u64(self.end_byte, symbol.byte_range.end as u64);
            docs.push(doc);
        }
        for chunk in &outline.chunks {
            let mut doc = TantivyDocument::new();
            doc.add_text(self.doc_type, CHUNK);
            doc.add_text(self.path, &file.rel);
            doc.add_text(self.language, language.name());
            if let Some(symbol) = &chunk.symbol {
                doc.add_text(self.container, symbol);
            }
            doc.add_text(self.text, chunk.text(text));
            doc.add_u64(self.start_line, chunk.start_line as u64);
            doc.add_u64(self.end_line, chunk.end_line as u64);
            let line_start = text
                .get(..chunk.byte_range.start)
                .and_then(|b| b.rfind('\n'))
                .map_or(0, |i| i + 1);
            doc.add_u64(
                self.start_column,
                chunk.byte_range.start.saturating_sub(line_start) as u64,
            );
            doc.add_u64(self.start_byte, chunk.byte_range.start as u64);
            doc.add_u64(self.end_byte, chunk.byte_range.end as u64);
            docs.push(doc);
        }
        docs
    }
}

impl Default for Fields {
    fn default() -> Self {
        Fields::new()
    }
}

/// What the index remembers of a file to decide whether it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// The path relative to the root, `/`-separated.
    pub rel: String,
    /// The blake3 hash of the content, hex.
    pub hash: String,
    /// The mtime in nanoseconds since the epoch.
    pub mtime: u64,
    /// The size in bytes.
    pub size: u64,
}
