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
//!
//! # Wiring it to the editor
//!
//! - On `initialize`: [`WorkspaceIndex::open`] each workspace folder (or an [`IndexSet`]), start
//!   [`WorkspaceIndex::spawn_committer`], and run [`WorkspaceIndex::build`] on a blocking thread
//!   with an [`IndexProgress`] that sends `$/progress` and a `CancellationToken` cancelled by
//!   `window/workDoneProgress/cancel`. Searches work while it runs.
//! - `textDocument/didChange`: after `config.debounce_ms` of quiet,
//!   [`WorkspaceIndex::update_text`] with the document version (older versions are ignored).
//! - `textDocument/didSave` and watched-file creations and changes: [`WorkspaceIndex::update_path`];
//!   deletions: [`WorkspaceIndex::remove_path`]; renames: [`WorkspaceIndex::rename_path`]. Without
//!   client-side watching, [`watch::watch`] does the same with `notify`.
//! - `workspace/symbol`: [`WorkspaceIndex::workspace_symbols`]; `textDocument/documentSymbol`:
//!   [`document_symbols`] on the open text; `augur/search`: [`WorkspaceIndex::search`].
//! - Completions: [`WorkspaceIndex::definitions`] and [`WorkspaceIndex::similar_chunks`] for
//!   cross-file context, [`WorkspaceIndex::is_excluded`] to refuse secret files, and
//!   [`crate::syntax::has_new_errors`] to reject edits that break the syntax.
//!
//! Commits are batched: an update is searchable after at most `commit_interval_ms` (or at once
//! after [`WorkspaceIndex::commit`]). The process that writes an index holds its writer lease (a
//! lock on `augur-writer.lock` in the index directory; see [`store`]). A second augur on the same
//! folder opens the index read-only and sees the first one's commits; its committer thread takes
//! the writer over once the first lets go, and catches up with the disk. An index of another
//! schema version, or one that cannot be read, is deleted and rebuilt, but only by the holder of
//! the lease: another process leaves it alone and indexes into memory until it can read the
//! rebuilt index or rebuild it itself.

pub mod admit;
mod cache;
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
