//! The workspace index: tree-sitter symbols, chunks and imports of every file in the workspace,
//! kept in an on-disk tantivy index and updated incrementally.
//!
//! The core knows nothing of the Language Server Protocol: paths are file paths, positions are byte
//! offsets and 0-based lines. The LSP layer maps them to URIs and ranges, and [`IndexProgress`] to
//! `$/progress`.
//!
//! ```no_run
//! use augur::index::{IndexConfig, NoProgress, SearchQuery, WorkspaceIndex};
//! use tokio_util::sync::CancellationToken;
//! use std::path::Path;
//!
//! let index = WorkspaceIndex::open(Path::new("."), &IndexConfig::default())?;
//! let summary = index.build(&NoProgress, &CancellationToken::new())?;
//! println!("{}", summary.describe());
//! let hits = index.search(&SearchQuery { text: "parse http request".into(), limit: 10, ..Default::default() })?;
//! for hit in hits {
//!     println!("{}:{} {:?} {}", hit.rel_path, hit.start_line + 1, hit.kind, hit.name);
//! }
//! # Ok::<(), augur::index::IndexError>(())
//! ```

pub mod cli;
pub mod config;
pub mod directory;
pub mod progress;
pub mod schema;
pub mod search;
pub mod set;
pub mod store;
pub mod tokenizer;
pub mod walk;
pub mod watch;

pub use config::IndexConfig;
pub use progress::{IndexProgress, IndexSummary, NoProgress};
pub use search::{Hit, SearchQuery};
pub use set::IndexSet;
pub use store::{
    CACHE_DIR_ENV, IndexError, UpdateOutcome, WorkspaceIndex, cache_dir, index_dir_for,
};
pub use walk::{Exclusions, SkipReason, is_excluded};

pub use crate::syntax::{Symbol, SymbolKind, document_symbols};
