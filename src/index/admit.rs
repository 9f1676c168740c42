//! What may enter the index or a prompt: the one set of rules on paths and texts.
//!
//! Every feature asks these rules, through [`Admission`] (the index's walk and its single-file
//! updates) or through the host's policy built on it (`crate::policy`: completions, their
//! context, code actions, and the commands):
//!
//! - **the path**: the built-in secret patterns and the configured `index.exclude` globs
//!   ([`Exclusions`]), hidden files and folders unless `index.include_hidden`, and the ignore files
//!   (`.gitignore`, `.ignore`, `.augurignore`);
//! - **the text**: a file that holds a secret ([`crate::secrets`]) is not indexed, and is not
//!   given to a model as context.
//!
//! The real-path check (no symbolic link leads out of the workspace folders) needs the roots, so
//! it lives with them in [`crate::workspace`] and the host's policy.
//!
//! ```
//! use augur::index::{IndexConfig, admit::Admission};
//! use std::path::Path;
//!
//! let admission = Admission::new(&IndexConfig::default());
//! assert!(admission.exclusions().is_excluded(Path::new("deploy/server.pem")));
//! assert!(admission.is_hidden_here(Path::new(".github/ci.yml")));
//! assert!(admission.text("let key = 1;").is_ok());
//! ```

use std::ffi::OsString;
use std::path::Path;
use std::sync::{Arc, Mutex};

use globset::{Glob, GlobSet, GlobSetBuilder};
use rustc_hash::FxHashMap;

use super::config::IndexConfig;
use serde::Serialize;

/// Why a file was not indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Larger than `max_file_bytes`.
    TooLarge,
    /// Contains NUL bytes.
    Binary,
    /// Not valid UTF-8.
    NotUtf8,
    /// Matches a secret pattern or a configured `exclude` glob.
    Secret,
    /// Holds a secret (a private key, a provider's key or token, a random value assigned to a
    /// secret name: see [`crate::secrets`]).
    SecretContent,
    /// No grammar for its extension.
    Unsupported,
    /// Could not be read.
    Unreadable,
    /// Ignored by `.gitignore`, `.ignore`, `.augurignore` or for being hidden (single-file updates;
    /// the walk does not count ignored files).
    Ignored,
}

impl SkipReason {
    /// A short human description.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::TooLarge => "too large",
            SkipReason::Binary => "binary",
            SkipReason::NotUtf8 => "not UTF-8",
            SkipReason::Secret => "secret or excluded",
            SkipReason::SecretContent => "holds a secret",
            SkipReason::Unsupported => "unsupported language",
            SkipReason::Unreadable => "unreadable",
            SkipReason::Ignored => "ignored",
        }
    }
}

/// The name of augur's own ignore file, read like `.gitignore` in every directory.
pub const AUGUR_IGNORE: &str = ".augurignore";

/// File-name patterns of secrets, never indexed nor sent to a model.
pub const SECRET_GLOBS: &[&str] = &[
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.gpg",
    "*.asc",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    "credentials.json",
    "secrets.yml",
    "secrets.yaml",
    "secrets.json",
    "*.tfvars",
    "*.tfstate",
    "**/.ssh/**",
    "**/.aws/credentials",
    "**/.docker/config.json",
];

/// The secret and configured exclusion patterns.
#[derive(Debug, Clone)]
pub struct Exclusions {
    set: GlobSet,
    /// Answers given so far, by path (completions ask about the same few files on every
    /// keystroke; two glob-set matches cost microseconds). Clones share it. Keyed by the path's
    /// bytes: hashing and comparing a `Path` walks its components.
    memo: Arc<Mutex<FxHashMap<OsString, bool>>>,
}

/// Most answers [`Exclusions`] remembers before it starts over.
const EXCLUSION_MEMO: usize = 8_192;

impl Exclusions {
    /// The built-in secret patterns plus the config's `exclude` globs (an invalid glob is logged
    /// and ignored).
    pub fn new(config: &IndexConfig) -> Exclusions {
        let mut builder = GlobSetBuilder::new();
        for pattern in SECRET_GLOBS
            .iter()
            .copied()
            .chain(config.exclude.iter().map(String::as_str))
        {
            match Glob::new(pattern) {
                Ok(glob) => {
                    builder.add(glob);
                }
                Err(error) => tracing::warn!(pattern, %error, "ignoring an invalid exclude glob"),
            }
        }
        let set = builder.build().unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot build the exclude globs; only defaults are used");
            GlobSet::empty()
        });
        Exclusions {
            set,
            memo: Arc::default(),
        }
    }

    /// Whether a file must never be indexed nor sent to a model: its name or path matches a
    /// secret pattern or a configured `exclude` glob. Works on absolute and relative paths.
    pub fn is_excluded(&self, path: &Path) -> bool {
        let memo = || self.memo.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = memo().get(path.as_os_str()) {
            return *known;
        }
        let excluded =
            path.file_name().is_some_and(|name| self.set.is_match(name)) || self.set.is_match(path);
        let mut memo = memo();
        if memo.len() >= EXCLUSION_MEMO {
            memo.clear();
        }
        memo.insert(path.as_os_str().to_owned(), excluded);
        excluded
    }
}

/// Whether `path` must never be indexed nor sent to a model, under `config`. Builds the patterns
/// each call; keep an [`Exclusions`] to check many paths.
pub fn is_excluded(config: &IndexConfig, path: &Path) -> bool {
    Exclusions::new(config).is_excluded(path)
}

/// Whether a path (relative to its root) has a hidden component: a file or folder whose name
/// starts with a dot.
pub fn is_hidden(rel: &Path) -> bool {
    rel.components().any(|c| {
        c.as_os_str()
            .to_str()
            .is_some_and(|s| s.starts_with('.') && s.len() > 1)
    })
}

/// Whether a text must not be indexed nor given to a model as context: it holds a secret.
pub fn holds_secret(text: &str) -> bool {
    crate::secrets::contains_secret(text)
}

/// The rules of one index configuration: its exclusions, whether hidden files count, and the
/// text rule. Clones share the exclusions' memo.
#[derive(Debug, Clone)]
pub struct Admission {
    exclusions: Exclusions,
    include_hidden: bool,
    config: IndexConfig,
}

impl Admission {
    /// The rules of `config`.
    pub fn new(config: &IndexConfig) -> Admission {
        Admission {
            exclusions: Exclusions::new(config),
            include_hidden: config.include_hidden,
            config: config.clone(),
        }
    }

    /// The secret patterns and the configured `exclude` globs.
    pub fn exclusions(&self) -> &Exclusions {
        &self.exclusions
    }

    /// Whether a path relative to its root is left out for being hidden, under these rules.
    pub fn is_hidden_here(&self, rel: &Path) -> bool {
        !self.include_hidden && is_hidden(rel)
    }

    /// The rule on a path: `Secret` when it matches an exclusion (checked on `path` as given:
    /// relative to its root, or absolute), and, for a path under `root`, `Ignored` when it is
    /// hidden (unless `include_hidden`) or left out by the ignore files. Reads the ignore files
    /// on the way: not for a hot loop over many files (the walk applies the same rules itself).
    pub fn path(&self, root: Option<&Path>, path: &Path) -> Result<(), SkipReason> {
        let rel = root.and_then(|root| path.strip_prefix(root).ok());
        if self.exclusions.is_excluded(rel.unwrap_or(path)) {
            return Err(SkipReason::Secret);
        }
        if let (Some(root), Some(_)) = (root, rel)
            && is_ignored(root, path, &self.config)
        {
            return Err(SkipReason::Ignored);
        }
        Ok(())
    }

    /// The rule on a text: `SecretContent` when it holds a secret.
    pub fn text(&self, text: &str) -> Result<(), SkipReason> {
        if holds_secret(text) {
            Err(SkipReason::SecretContent)
        } else {
            Ok(())
        }
    }
}

/// Whether a single path under `root` is left out by the ignore files (`.gitignore`, `.ignore`,
/// `.augurignore` in its directory and every parent up to `root`) or for being hidden, as the
/// walk would leave it out. Used for file events, which do not come from a walk.
pub fn is_ignored(root: &Path, path: &Path, config: &IndexConfig) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return true;
    };
    let components: Vec<_> = rel.components().collect();
    if !config.include_hidden && is_hidden(rel) {
        return true;
    }
    if components.iter().any(|c| c.as_os_str() == ".git") {
        return true;
    }
    let is_dir = path.is_dir();
    let mut ignored = false;
    let mut dir = root.to_path_buf();
    // Every directory from the root to the file's parent, deeper rules overriding shallower ones.
    for depth in 0..components.len() {
        if depth > 0 {
            dir.push(components[depth - 1]);
        }
        for name in [".gitignore", ".ignore", AUGUR_IGNORE] {
            let file = dir.join(name);
            if !file.is_file() {
                continue;
            }
            let mut builder = ignore::gitignore::GitignoreBuilder::new(&dir);
            builder.add(&file);
            if let Ok(matcher) = builder.build() {
                match matcher.matched_path_or_any_parents(path, is_dir) {
                    ignore::Match::Ignore(_) => ignored = true,
                    ignore::Match::Whitelist(_) => ignored = false,
                    ignore::Match::None => {}
                }
            }
        }
    }
    ignored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_paths_count_only_without_include_hidden() {
        let strict = Admission::new(&IndexConfig::default());
        let open = Admission::new(&IndexConfig {
            include_hidden: true,
            ..IndexConfig::default()
        });
        assert!(strict.is_hidden_here(Path::new(".github/workflows/ci.yml")));
        assert!(strict.is_hidden_here(Path::new("src/.cache/a.rs")));
        assert!(!strict.is_hidden_here(Path::new("src/lib.rs")));
        assert!(!open.is_hidden_here(Path::new(".github/workflows/ci.yml")));
    }

    #[test]
    fn the_path_rule_names_why() {
        let ws = tempfile::tempdir().unwrap();
        let root = ws.path();
        std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
        let strict = Admission::new(&IndexConfig::default());
        assert_eq!(strict.path(Some(root), &root.join("src/a.rs")), Ok(()));
        assert_eq!(
            strict.path(Some(root), &root.join(".env")),
            Err(SkipReason::Secret)
        );
        assert_eq!(
            strict.path(Some(root), &root.join("build/out.rs")),
            Err(SkipReason::Ignored)
        );
        assert_eq!(
            strict.path(Some(root), &root.join(".config/tool.rs")),
            Err(SkipReason::Ignored)
        );
        let open = Admission::new(&IndexConfig {
            include_hidden: true,
            ..IndexConfig::default()
        });
        assert_eq!(open.path(Some(root), &root.join(".config/tool.rs")), Ok(()));
        // Outside every root only the exclusions apply.
        assert_eq!(
            strict.path(None, Path::new("/elsewhere/.hidden/a.rs")),
            Ok(())
        );
        assert_eq!(
            strict.path(None, Path::new("/elsewhere/id_rsa")),
            Err(SkipReason::Secret)
        );
    }

    #[test]
    fn the_text_rule_refuses_secrets() {
        let admission = Admission::new(&IndexConfig::default());
        assert_eq!(admission.text("fn a() {}\n"), Ok(()));
        let key = concat!(
            "let token = \"",
            "ghp_",
            "8fK2mQ9xR4tL7vB1nC6",
            "zH3jW5pY0sD2gA8eU4",
            "\";
"
        );
        assert_eq!(admission.text(key), Err(SkipReason::SecretContent));
    }
}
