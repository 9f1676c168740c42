//! augur: an AI language server.
//!
//! The crate is split into a core that knows nothing of the Language Server Protocol and one thin
//! protocol layer, [`lsp`]. The core works in byte offsets and its own types:
//!
//! - [`documents`]: open documents as ropes, edits, and position encodings;
//! - [`config`]: the typed configuration and how its layers merge;
//! - [`dirs`]: where augur reads and writes outside the workspace (the user file, the index
//!   cache, the usage log), read from the environment once;
//! - [`workspace`]: workspace roots, their real paths and the check that a path lies in one;
//! - [`llm`]: the client for language-model backends;
//! - [`syntax`] and [`index`]: tree-sitter languages and the on-disk workspace index;
//! - [`secrets`]: secrets found by their content, and the placeholders that replace them in
//!   prompts;
//! - [`policy`]: the one exclusion policy, what of the workspace may reach a model or take an
//!   edit;
//! - [`completion`]: prompts, post-processing, the completion engine and type-through;
//! - [`edits`]: minimal diffs, the syntax check of an edit, and edit plans;
//! - [`actions`]: the AI code actions and their run;
//! - [`host`]: the `Workspace` that owns all of it and hands out consistent snapshots, driven
//!   by the protocol layer and by the command line alike.
//!
//! Around them: [`cli`] (the commands of the binary, `serve` by default), [`logging`] (tracing
//! to stderr and an optional file), [`alloc`] (the allocator of tree-sitter's C core) and
//! `runtime` (CPU-bound work from async code). `test_support` (fixtures and protocol clients)
//! exists only with the `test-support` feature, which augur's own tests, benches and fuzz
//! targets turn on.
//!
//! See `ARCHITECTURE.md` for the invariants every module keeps.

pub mod actions;
pub mod alloc;
pub mod cli;
pub mod completion;
pub mod config;
pub mod dirs;
pub mod documents;
pub mod edits;
pub mod host;
pub mod index;
pub mod llm;
pub mod logging;
pub mod lsp;
pub mod policy;
mod runtime;
pub mod secrets;
pub mod syntax;
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod test_support;
pub mod workspace;
