//! Edits for AI code actions: the smallest diff between two texts, its application, the syntax
//! check that refuses edits which break the file, and the plan of a workspace edit with its
//! guard against paths outside the workspace.
//!
//! Everything here works in byte offsets and [`TextEdit`]s; the protocol layer converts ranges
//! to positions in the negotiated encoding.
//!
//! ```
//! use augur::edits::{ValidationError, apply, minimal_edits, validate};
//! use augur::syntax::Language;
//!
//! let old = "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n";
//! let new = "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";
//! let edits = minimal_edits(old, new);
//! assert_eq!(edits.len(), 1);
//! assert_eq!(edits[0].new_text, "+");
//! assert_eq!(apply(old, &edits).unwrap(), new);
//! assert!(validate(Language::Rust, old, &edits).is_ok());
//!
//! // An edit that leaves the function unclosed is refused.
//! let broken = minimal_edits(old, "fn add(a: i32, b: i32) -> i32 {\n    a + b\n");
//! let Err(ValidationError::Syntax(regression)) = validate(Language::Rust, old, &broken) else {
//!     panic!("the edit should be refused");
//! };
//! assert!(regression.after > regression.before);
//! ```

mod diff;
mod plan;
mod validate;

pub use crate::documents::TextEdit;
pub use diff::{apply, minimal_edits};
pub use plan::{
    FileCreation, FileEdits, OpenNow, PlanError, WorkspaceEditPlan, check_path, normalize_path,
};
pub use validate::{SyntaxBaseline, SyntaxRegression, ValidationError, validate};
