//! The plan of a workspace edit, before it becomes the protocol's `WorkspaceEdit`: per file the
//! path, the document version the edits were computed for, and the edits; plus files to create.
//! Every path must really lie inside a workspace root: its real path (symbolic links followed,
//! `.` and `..` applied; for a new file, through its nearest existing folder) must be under the
//! real path of a root, so a link in the workspace to `/etc` is no way out.
//!
//! ```
//! use std::path::{Path, PathBuf};
//! use augur::edits::{FileEdits, PlanError, TextEdit, WorkspaceEditPlan};
//!
//! let mut plan = WorkspaceEditPlan::default();
//! plan.edits.push(FileEdits {
//!     path: PathBuf::from("/ws/src/lib.rs"),
//!     version: Some(3),
//!     edits: vec![TextEdit::insert(0, "// hi\n")],
//! });
//! let roots = [PathBuf::from("/ws")];
//! assert!(plan.check_roots(&roots).is_ok());
//!
//! plan.edits[0].path = PathBuf::from("/ws/../etc/passwd");
//! assert!(matches!(plan.check_roots(&roots), Err(PlanError::OutsideWorkspace { .. })));
//! ```

use std::path::{Component, Path, PathBuf};

use crate::documents::TextEdit;
use crate::workspace::{Escape, check_real};

/// The edits to one existing file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdits {
    /// The absolute path of the file.
    pub path: PathBuf,
    /// The document version the edits were computed for; `None` for a file that is not open
    /// (the edit then applies to the file on disk).
    pub version: Option<i32>,
    /// The edits, ranges in bytes of that version's text, sorted and not overlapping.
    pub edits: Vec<TextEdit>,
}

/// A file to create with its whole content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCreation {
    /// The absolute path of the new file.
    pub path: PathBuf,
    /// Its content.
    pub text: String,
}

/// An open document as a plan is checked against it (see
/// [`WorkspaceEditPlan::check_versions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenNow {
    /// The client's version number now.
    pub version: i32,
    /// Whether its text is still the one the edits were computed from. The caller tells (by a
    /// server-side generation of the text, or a hash of it): a client may send another text
    /// under the same version number, so the version alone does not.
    pub same_text: bool,
}

/// Everything an action changes in the workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceEditPlan {
    /// Files to create first (the protocol layer sends them as `CreateFile` operations when the
    /// client supports resource operations).
    pub creations: Vec<FileCreation>,
    /// Edits to existing files.
    pub edits: Vec<FileEdits>,
}

/// Why a plan was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A path lies outside every workspace root, or leads outside through a symbolic link.
    #[error("refusing to edit {path}: {escape}")]
    OutsideWorkspace {
        /// The offending path, as given.
        path: PathBuf,
        /// Where it leads, or why that is unknown.
        escape: Escape,
    },
    /// A document changed after the edits were computed for it.
    #[error(
        "{path} changed since the edit was computed (version {expected}, now {current:?}); run \
         the action again"
    )]
    Stale {
        /// The document.
        path: PathBuf,
        /// The version the edits were computed for.
        expected: i32,
        /// Its version now (`None`: it is no longer open).
        current: Option<i32>,
    },
    /// A document has another text than the one the edits were computed from, under the same
    /// version number (a client that repeated a version).
    #[error(
        "{path} changed since the edit was computed (another text under the same version \
         {version}); run the action again"
    )]
    Changed {
        /// The document.
        path: PathBuf,
        /// The version number, the same then and now.
        version: i32,
    },
    /// A path is relative, so it cannot be placed in the workspace.
    #[error("refusing to edit {path}: the path is not absolute")]
    RelativePath {
        /// The offending path, as given.
        path: PathBuf,
    },
}

impl WorkspaceEditPlan {
    /// Whether the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.creations.is_empty() && self.edits.iter().all(|f| f.edits.is_empty())
    }

    /// Every path the plan touches.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.creations
            .iter()
            .map(|c| c.path.as_path())
            .chain(self.edits.iter().map(|f| f.path.as_path()))
    }

    /// Refuses the plan if a document it edits is no longer at the version the edits were
    /// computed for, or has another text under that version; `current` gives a document as it is
    /// now (`None` when it is not open). The protocol layer calls this right before
    /// `workspace/applyEdit`.
    pub fn check_versions(
        &self,
        current: impl Fn(&Path) -> Option<OpenNow>,
    ) -> Result<(), PlanError> {
        for file in &self.edits {
            if let Some(expected) = file.version {
                let now = current(&file.path);
                if now.map(|n| n.version) != Some(expected) {
                    return Err(PlanError::Stale {
                        path: file.path.clone(),
                        expected,
                        current: now.map(|n| n.version),
                    });
                }
                if now.is_some_and(|n| !n.same_text) {
                    return Err(PlanError::Changed {
                        path: file.path.clone(),
                        version: expected,
                    });
                }
            }
        }
        Ok(())
    }

    /// Refuses the plan if any path is relative or does not really lie inside one of `roots`
    /// (see [`check_real`]). With no roots at all, every path is outside.
    pub fn check_roots(&self, roots: &[PathBuf]) -> Result<(), PlanError> {
        for path in self.paths() {
            check_path(path, roots)?;
        }
        Ok(())
    }
}

/// Checks one path against the workspace roots (see [`WorkspaceEditPlan::check_roots`]). The
/// file system is asked where the path leads, so call it right before the edit is sent.
pub fn check_path(path: &Path, roots: &[PathBuf]) -> Result<(), PlanError> {
    if !path.is_absolute() {
        return Err(PlanError::RelativePath {
            path: path.to_owned(),
        });
    }
    check_real(path, roots)
        .map(|_| ())
        .map_err(|escape| PlanError::OutsideWorkspace {
            path: path.to_owned(),
            escape,
        })
}

/// Resolves `.` and `..` components without touching the file system (so it works for files
/// that do not exist yet). `..` at the root stays at the root.
pub fn normalize_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked_after_normalisation() {
        let roots = [PathBuf::from("/ws/a"), PathBuf::from("/other")];
        assert!(check_path(Path::new("/ws/a/x.rs"), &roots).is_ok());
        assert!(check_path(Path::new("/other/./y/../z.py"), &roots).is_ok());
        assert!(check_path(Path::new("/ws/ab/x.rs"), &roots).is_err());
        assert!(check_path(Path::new("/ws/a/../b/x.rs"), &roots).is_err());
        assert!(matches!(
            check_path(Path::new("a/x.rs"), &roots),
            Err(PlanError::RelativePath { .. })
        ));
        assert!(check_path(Path::new("/ws/a/x.rs"), &[]).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_workspace_is_no_way_out() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("passwd"), "root:x:0:0\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("etc_link")).unwrap();
        let roots = [root.path().to_path_buf()];
        let link = root.path().join("etc_link");
        let plan = WorkspaceEditPlan {
            creations: vec![FileCreation {
                path: link.join("test_passwd.py"),
                text: "def test(): pass\n".into(),
            }],
            edits: Vec::new(),
        };
        let Err(PlanError::OutsideWorkspace { path, escape }) = plan.check_roots(&roots) else {
            panic!("a new file through the link was accepted");
        };
        assert_eq!(path, link.join("test_passwd.py"));
        assert!(matches!(escape, Escape::Outside { .. }), "{escape}");
        let edit = WorkspaceEditPlan {
            creations: Vec::new(),
            edits: vec![FileEdits {
                path: link.join("passwd"),
                version: Some(1),
                edits: vec![TextEdit::insert(0, "x")],
            }],
        };
        let error = edit.check_roots(&roots).unwrap_err().to_string();
        assert!(error.contains("outside the workspace folders"), "{error}");
        assert!(check_path(&root.path().join("new.py"), &roots).is_ok());
    }

    #[test]
    fn a_stale_version_is_refused() {
        let plan = WorkspaceEditPlan {
            creations: Vec::new(),
            edits: vec![FileEdits {
                path: PathBuf::from("/ws/a.rs"),
                version: Some(3),
                edits: vec![TextEdit::insert(0, "x")],
            }],
        };
        let now = |version, same_text| move |_: &Path| Some(OpenNow { version, same_text });
        assert!(plan.check_versions(now(3, true)).is_ok());
        assert!(matches!(
            plan.check_versions(now(4, true)),
            Err(PlanError::Stale {
                expected: 3,
                current: Some(4),
                ..
            })
        ));
        assert!(plan.check_versions(|_| None).is_err());
        // The same version with another text (a client that repeated a version number).
        assert!(matches!(
            plan.check_versions(now(3, false)),
            Err(PlanError::Changed { version: 3, .. })
        ));
    }
}
