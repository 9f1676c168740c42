//! Open documents: a store of ropes with versions and language ids, the core edit type, and the
//! position encodings the protocol layer converts through.
//!
//! Each text of a document also has a server-side [`Document::generation`], new on open and on
//! every applied edit: what is computed from a text is tied to it, not to the client's version
//! number (a buggy client may send the same version twice with different texts).
//!
//! The store has one writer (the `did_*` notification handlers, which finish their change before
//! they yield) and many readers, who take cheap [`Document`] clones as snapshots.
//!
//! ```
//! use augur::documents::{DocumentStore, StoreError, TextEdit};
//! let mut store = DocumentStore::default();
//! store.open("file:///a.rs", "rust", 1, "fn main() {}\n");
//! store.edit("file:///a.rs", 2, |doc| doc.apply(&TextEdit::insert(11, " ")).map_err(StoreError::from))
//!     .unwrap();
//! let snapshot = store.get("file:///a.rs").unwrap();
//! assert_eq!((snapshot.version, snapshot.text.to_string().as_str()), (2, "fn main() { }\n"));
//! ```

mod document;
mod encoding;

use std::collections::HashMap;

pub use document::{Document, EditError, TextEdit};
pub use encoding::{LineCol, PositionEncoding, line_col_to_offset, offset_to_line_col};

/// Why a change to the store was refused. The store is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The document is not open.
    #[error("document {0} is not open")]
    NotOpen(String),
    /// An edit was invalid.
    #[error("{0}")]
    Edit(#[from] EditError),
}

/// The open documents, keyed by URI.
#[derive(Debug, Default, Clone)]
pub struct DocumentStore {
    docs: HashMap<String, Document>,
}

impl DocumentStore {
    /// Opens (or re-opens, replacing) a document.
    pub fn open(&mut self, uri: &str, language_id: &str, version: i32, text: &str) {
        self.docs
            .insert(uri.to_owned(), Document::new(text, version, language_id));
    }

    /// Closes a document; returns whether it was open.
    pub fn close(&mut self, uri: &str) -> bool {
        self.docs.remove(uri).is_some()
    }

    /// A snapshot of a document.
    pub fn get(&self, uri: &str) -> Option<Document> {
        self.docs.get(uri).cloned()
    }

    /// Whether a document is open.
    pub fn contains(&self, uri: &str) -> bool {
        self.docs.contains_key(uri)
    }

    /// The URIs of all open documents.
    pub fn uris(&self) -> impl Iterator<Item = &str> {
        self.docs.keys().map(String::as_str)
    }

    /// Changes a document atomically: `change` works on a copy (cheap: ropes share nodes), and the
    /// copy replaces the document, with the new version, only if `change` succeeds.
    pub fn edit<E>(
        &mut self,
        uri: &str,
        version: i32,
        change: impl FnOnce(&mut Document) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<StoreError>,
    {
        let doc = self
            .docs
            .get_mut(uri)
            .ok_or_else(|| StoreError::NotOpen(uri.to_owned()))?;
        let mut copy = doc.clone();
        change(&mut copy)?;
        copy.version = version;
        *doc = copy;
        Ok(())
    }
}
