//! The one exclusion policy: what of the workspace a feature may give to a model or edit.
//!
//! Built by the host from the configuration (`index.exclude`, `index.include_hidden`), the
//! workspace folders, the indexes and the remembered real paths, and handed to every reader in
//! its [`WorkspaceSnapshot`](crate::host::WorkspaceSnapshot); the completion engine and the prompt
//! builder ask the same policy for every file they would put in a prompt. It applies the index's own rules
//! ([`crate::index::admit`]) so the index, completions, their context and the code actions cannot
//! disagree:
//!
//! - [`Policy::for_prompt`]: the document a completion or an action works on may go to a model
//!   (no secret pattern, no `exclude` glob);
//! - [`Policy::for_context`]: another file may give context: that, and it lies really inside the
//!   workspace folders (no symbolic link leads out), and, inside a folder, it is in the index or
//!   the index's rules would let it in (hidden files only with `include_hidden`, ignore files);
//! - [`Policy::for_edit`]: an edit may reach the path (it lies really inside the folders);
//! - [`Policy::for_text`]: a text holds no secret (the index refuses such files). The secrets of
//!   every text a model request carries are also replaced by placeholders before it leaves, at
//!   the one exit, `LlmClient::complete`/`stream` (see `llm/redact.rs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::index::admit::Admission;
use crate::index::walk::relative_str;
use crate::index::{IndexConfig, SkipReason, WorkspaceIndex};
use crate::workspace::{RealPaths, starts_with_root, strip_root};

/// Why the policy refuses a path or a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// It matches a secret pattern or an `index.exclude` glob.
    #[error("it is excluded from AI features (a secret or `index.exclude` pattern)")]
    Excluded,
    /// It is hidden (without `index.include_hidden`) or left out by an ignore file, and not in
    /// the index.
    #[error("it is hidden or ignored (`index.include_hidden`, .gitignore, .augurignore)")]
    Ignored,
    /// Its real path is outside every workspace folder.
    #[error("it is outside the workspace folders")]
    Outside,
    /// The text holds a secret.
    #[error("it holds a secret")]
    SecretContent,
}

/// The policy of one view of the workspace. Cheap to share: the host builds one per change of
/// configuration, folders or indexes.
#[derive(Debug, Clone)]
pub struct Policy {
    admission: Admission,
    roots: Vec<PathBuf>,
    /// The number of components of each root, in the order of `roots`.
    root_depths: Vec<usize>,
    indexes: Vec<Arc<WorkspaceIndex>>,
    /// Per index, in the order of `indexes`: the number of components of its root, and whether
    /// it was opened with this configuration's `exclude` globs (then its exclusions answer as
    /// this policy's own would for the same relative path).
    index_facts: Vec<(usize, bool)>,
    real_paths: Arc<RealPaths>,
}

impl Policy {
    /// The policy of `config` over `roots` and their `indexes`, resolving real paths through
    /// `real_paths` (remembered: the checks run per keystroke).
    pub fn new(
        config: &IndexConfig,
        roots: Vec<PathBuf>,
        indexes: Vec<Arc<WorkspaceIndex>>,
        real_paths: Arc<RealPaths>,
    ) -> Policy {
        Policy {
            admission: Admission::new(config),
            root_depths: roots.iter().map(|root| root.components().count()).collect(),
            roots,
            index_facts: indexes
                .iter()
                .map(|index| {
                    (
                        index.root().components().count(),
                        index.config.exclude == config.exclude,
                    )
                })
                .collect(),
            indexes,
            real_paths,
        }
    }

    /// The policy of a request built without a host (a test, a bench, a tool): the indexes'
    /// roots are the folders and their own rules apply, over the built-in exclusions.
    pub fn of_indexes(indexes: &[Arc<WorkspaceIndex>]) -> Policy {
        let config = indexes
            .first()
            .map(|index| index.config.clone())
            .unwrap_or_default();
        Policy::new(
            &config,
            indexes
                .iter()
                .map(|index| index.root().to_path_buf())
                .collect(),
            indexes.to_vec(),
            Arc::default(),
        )
    }

    /// The workspace folders the policy keeps features inside.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Whether the path is excluded: by the rules of the index whose root holds it (as it was
    /// opened), or by the current configuration's.
    fn excluded(&self, path: &Path) -> bool {
        // Relative to the deepest root that holds it (the fewest components left).
        let rel = self
            .roots
            .iter()
            .zip(&self.root_depths)
            .filter_map(|(root, depth)| Some((strip_root(path, root)?, *depth)))
            .fold(
                None,
                |best: Option<(&Path, usize)>, (rel, depth)| match best {
                    Some((_, deepest)) if deepest >= depth => best,
                    _ => Some((rel, depth)),
                },
            )
            .map_or(path, |(rel, _)| rel);
        // The configuration's exclusions would only repeat an index's answer when the index has
        // the same globs and asked them about the same path.
        let mut answered = false;
        for (index, (_, same_globs)) in self.indexes.iter().zip(&self.index_facts) {
            if !index.contains_path(path) {
                continue;
            }
            let key = index.exclusion_key(path);
            if index.exclusions().is_excluded(&key) {
                return true;
            }
            answered |= *same_globs && key.as_os_str() == rel.as_os_str();
        }
        !answered && self.admission.exclusions().is_excluded(rel)
    }

    /// May the document a feature works on go to a model?
    pub fn for_prompt(&self, path: &Path) -> Result<(), Refusal> {
        if self.excluded(path) {
            Err(Refusal::Excluded)
        } else {
            Ok(())
        }
    }

    /// May another file give context to a prompt?
    pub fn for_context(&self, path: &Path) -> Result<(), Refusal> {
        self.for_prompt(path)?;
        if !self.really_inside(path) {
            return Err(Refusal::Outside);
        }
        // The deepest index that holds the path decides, as the prompt's retrieval does.
        let index = deepest(
            self.indexes
                .iter()
                .zip(&self.index_facts)
                .map(|(index, (depth, _))| (index.as_ref(), *depth)),
            |index| starts_with_root(path, index.root()),
        );
        if let Some(index) = index
            && relative_str(index.root(), path).is_some_and(|rel| index.contains_file(&rel))
        {
            return Ok(());
        }
        let root = index.map(|index| index.root()).or_else(|| {
            deepest(
                self.roots
                    .iter()
                    .zip(self.root_depths.iter().copied())
                    .map(|(root, depth)| (root.as_path(), depth)),
                |root| starts_with_root(path, root),
            )
        });
        match self.admission.path(root, path) {
            Ok(()) => Ok(()),
            Err(SkipReason::Secret) => Err(Refusal::Excluded),
            Err(_) => Err(Refusal::Ignored),
        }
    }

    /// May an edit reach the path?
    pub fn for_edit(&self, path: &Path) -> Result<(), Refusal> {
        if self.really_inside(path) {
            Ok(())
        } else {
            Err(Refusal::Outside)
        }
    }

    /// May a text be indexed or given as context?
    pub fn for_text(&self, text: &str) -> Result<(), Refusal> {
        self.admission
            .text(text)
            .map_err(|_| Refusal::SecretContent)
    }

    /// Whether `path` really lies in a workspace folder once symbolic links are followed (from
    /// remembered real paths: cheap enough per keystroke).
    pub fn really_inside(&self, path: &Path) -> bool {
        self.real_paths.is_inside(path, &self.roots)
    }
}

/// Of the items that `holds`, the one of the greatest depth (the last of those that tie, as
/// `max_by_key` picks).
fn deepest<T: Copy>(
    items: impl Iterator<Item = (T, usize)>,
    holds: impl Fn(T) -> bool,
) -> Option<T> {
    items
        .filter(|(item, _)| holds(*item))
        .max_by_key(|(_, depth)| *depth)
        .map(|(item, _)| item)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(root: &Path, config: IndexConfig) -> Policy {
        Policy::new(
            &config,
            vec![root.to_path_buf()],
            Vec::new(),
            Arc::default(),
        )
    }

    fn workspace() -> tempfile::TempDir {
        let ws = tempfile::tempdir().unwrap();
        let root = ws.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join(".config")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "fn a() {}\n").unwrap();
        std::fs::write(root.join(".config/tool.rs"), "fn b() {}\n").unwrap();
        std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
        ws
    }

    #[test]
    fn context_follows_include_hidden_exclusions_and_ignore_files() {
        let ws = workspace();
        let root = ws.path().canonicalize().unwrap();
        let strict = policy(&root, IndexConfig::default());
        assert_eq!(strict.for_context(&root.join("src/lib.rs")), Ok(()));
        assert_eq!(
            strict.for_context(&root.join(".config/tool.rs")),
            Err(Refusal::Ignored)
        );
        assert_eq!(
            strict.for_context(&root.join("build/gen.rs")),
            Err(Refusal::Ignored)
        );
        assert_eq!(
            strict.for_context(&root.join(".env")),
            Err(Refusal::Excluded)
        );
        let open = policy(
            &root,
            IndexConfig {
                include_hidden: true,
                exclude: vec!["src/**".into()],
                ..IndexConfig::default()
            },
        );
        assert_eq!(open.for_context(&root.join(".config/tool.rs")), Ok(()));
        assert_eq!(
            open.for_context(&root.join("src/lib.rs")),
            Err(Refusal::Excluded)
        );
        assert_eq!(
            open.for_prompt(&root.join("src/lib.rs")),
            Err(Refusal::Excluded)
        );
    }

    #[test]
    fn a_file_outside_the_folders_gives_no_context_and_takes_no_edit() {
        let ws = workspace();
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("x.rs"), "fn x() {}\n").unwrap();
        let root = ws.path().canonicalize().unwrap();
        let strict = policy(&root, IndexConfig::default());
        let outside = other.path().join("x.rs");
        assert_eq!(strict.for_context(&outside), Err(Refusal::Outside));
        assert_eq!(strict.for_edit(&outside), Err(Refusal::Outside));
        // The document itself may still be completed: only its name decides.
        assert_eq!(strict.for_prompt(&outside), Ok(()));
        assert_eq!(strict.for_edit(&root.join("src/new.rs")), Ok(()));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(other.path(), root.join("link")).unwrap();
            assert_eq!(
                strict.for_context(&root.join("link/x.rs")),
                Err(Refusal::Outside)
            );
            assert_eq!(
                strict.for_edit(&root.join("link/x.rs")),
                Err(Refusal::Outside)
            );
        }
    }

    #[test]
    fn an_index_and_the_configuration_both_exclude_whatever_their_globs() {
        let ws = workspace();
        for dir in ["gen", "docs"] {
            std::fs::create_dir_all(ws.path().join(dir)).unwrap();
            std::fs::write(ws.path().join(dir).join("a.rs"), "fn g() {}\n").unwrap();
        }
        let cache = tempfile::tempdir().unwrap();
        let opened_with = IndexConfig {
            exclude: vec!["gen/**".into()],
            ..IndexConfig::default()
        };
        let index =
            Arc::new(WorkspaceIndex::open_in(ws.path(), cache.path(), &opened_with).unwrap());
        let root = index.given_root().to_path_buf();
        let check = |config: &IndexConfig, rel: &str| {
            let policy = Policy::new(
                config,
                vec![root.clone()],
                vec![Arc::clone(&index)],
                Arc::default(),
            );
            policy.for_prompt(&root.join(rel))
        };
        let now = IndexConfig {
            exclude: vec!["docs/**".into()],
            ..IndexConfig::default()
        };
        // Other globs now: the index's and the configuration's both count.
        assert_eq!(check(&now, "gen/a.rs"), Err(Refusal::Excluded));
        assert_eq!(check(&now, "docs/a.rs"), Err(Refusal::Excluded));
        assert_eq!(check(&now, "src/lib.rs"), Ok(()));
        // The same globs: one answer, the same.
        assert_eq!(check(&opened_with, "gen/a.rs"), Err(Refusal::Excluded));
        assert_eq!(check(&opened_with, "docs/a.rs"), Ok(()));
        assert_eq!(check(&opened_with, ".env"), Err(Refusal::Excluded));
        // A spelling other than the index's own (`.` and a doubled `/`) is judged the same.
        assert_eq!(check(&opened_with, "./gen//a.rs"), Err(Refusal::Excluded));
        assert_eq!(check(&now, "docs/./a.rs"), Err(Refusal::Excluded));
        // An index of a subfolder asks its globs about another relative path than the folder's.
        let docs_cache = tempfile::tempdir().unwrap();
        let docs =
            Arc::new(WorkspaceIndex::open_in(&root.join("docs"), docs_cache.path(), &now).unwrap());
        let policy = Policy::new(&now, vec![root.clone()], vec![docs], Arc::default());
        assert_eq!(
            policy.for_prompt(&root.join("docs/a.rs")),
            Err(Refusal::Excluded)
        );
    }

    #[test]
    fn texts_with_secrets_are_refused() {
        let ws = workspace();
        let strict = policy(ws.path(), IndexConfig::default());
        assert_eq!(strict.for_text("fn a() {}\n"), Ok(()));
        assert_eq!(
            strict.for_text(concat!(
                "let token = \"",
                "ghp_",
                "8fK2mQ9xR4tL7vB1nC6",
                "zH3jW5pY0sD2gA8eU4",
                "\";
"
            )),
            Err(Refusal::SecretContent)
        );
    }
}
