//! Walking a workspace: ignore rules, secret files, size caps and binary files. The rules on
//! paths and texts live in [`super::admit`]; the walk applies them to every file it finds.
//!
//! ```
//! use augur::index::{config::IndexConfig, walk::Exclusions};
//! use std::path::Path;
//!
//! let exclusions = Exclusions::new(&IndexConfig::default());
//! assert!(exclusions.is_excluded(Path::new("/work/app/.env.local")));
//! assert!(exclusions.is_excluded(Path::new("deploy/server.pem")));
//! assert!(!exclusions.is_excluded(Path::new("src/main.rs")));
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

pub use super::admit::{
    AUGUR_IGNORE, Exclusions, SECRET_GLOBS, SkipReason, is_excluded, is_ignored,
};
use super::config::IndexConfig;
use crate::syntax::Language;
use crate::workspace::plain_rest;

/// Counts of skipped files by reason.
pub type SkipCounts = BTreeMap<SkipReason, usize>;

/// A file the walk found, not yet read.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The absolute path.
    pub path: PathBuf,
    /// The path relative to the root, with `/` separators.
    pub rel: String,
    /// Its language.
    pub language: Language,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time in nanoseconds since the epoch (0 if unknown).
    pub mtime: u64,
}

/// The modification time of a file in nanoseconds since the epoch (0 if unknown).
pub fn mtime_of(metadata: &std::fs::Metadata) -> u64 {
    metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos().min(u64::MAX as u128) as u64)
        .unwrap_or(0)
}

/// The path of `path` relative to `root` with `/` separators, if it is under `root`.
pub fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let mut out = String::new();
    for component in rel.components() {
        let std::path::Component::Normal(part) = component else {
            return None;
        };
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(part.to_str()?);
    }
    (!out.is_empty()).then_some(out)
}

/// [`relative_path`] without allocating when the path is already spelled that way under `root`
/// (plain components joined by `/`, as the index builds the paths it reports); other spellings
/// get the allocated answer. The same answer as `relative_path` for every path.
pub fn relative_str<'a>(root: &Path, path: &'a Path) -> Option<Cow<'a, str>> {
    match plain_rest(path, root).and_then(OsStr::to_str) {
        Some(rel) => Some(Cow::Borrowed(rel)),
        None => relative_path(root, path).map(Cow::Owned),
    }
}

/// Walks `root` with `.gitignore`, `.ignore` and `.augurignore` rules (also outside git
/// repositories), and sorts files into candidates and skipped files.
pub fn walk(
    root: &Path,
    config: &IndexConfig,
    exclusions: &Exclusions,
) -> (Vec<Candidate>, SkipCounts) {
    let mut candidates = Vec::new();
    let mut skipped = SkipCounts::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(!config.include_hidden)
        .require_git(false)
        .add_custom_ignore_filename(AUGUR_IGNORE)
        .follow_links(false)
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                tracing::debug!(%error, "skipping an unreadable entry");
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let Some(rel) = relative_path(root, path) else {
            continue;
        };
        if exclusions.is_excluded(Path::new(&rel)) {
            *skipped.entry(SkipReason::Secret).or_default() += 1;
            continue;
        }
        let Some(language) = Language::from_path(path) else {
            *skipped.entry(SkipReason::Unsupported).or_default() += 1;
            continue;
        };
        let Ok(metadata) = entry.metadata() else {
            *skipped.entry(SkipReason::Unreadable).or_default() += 1;
            continue;
        };
        if metadata.len() > config.max_file_bytes {
            *skipped.entry(SkipReason::TooLarge).or_default() += 1;
            continue;
        }
        candidates.push(Candidate {
            path: path.to_path_buf(),
            rel,
            language,
            size: metadata.len(),
            mtime: mtime_of(&metadata),
        });
    }
    candidates.sort_by(|a, b| a.rel.cmp(&b.rel));
    (candidates, skipped)
}

/// Reads a file to index: `Err` with the reason when it must be skipped.
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, SkipReason> {
    let bytes = std::fs::read(path).map_err(|_| SkipReason::Unreadable)?;
    if bytes.len() as u64 > max_bytes {
        return Err(SkipReason::TooLarge);
    }
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return Err(SkipReason::Binary);
    }
    String::from_utf8(bytes).map_err(|_| SkipReason::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_config_globs() {
        let config = IndexConfig {
            exclude: vec!["generated/**".into(), "*.min.js".into()],
            ..Default::default()
        };
        let exclusions = Exclusions::new(&config);
        for path in [
            ".env",
            "a/.env.production",
            "k/id_rsa.pub",
            "x/.ssh/config",
            "generated/a.rs",
            "b/app.min.js",
            "tls.key",
        ] {
            assert!(exclusions.is_excluded(Path::new(path)), "{path}");
        }
        for path in ["src/env.rs", "environment.py", "keys.rs", "src/app.js"] {
            assert!(!exclusions.is_excluded(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path(Path::new("/a"), Path::new("/a/b/c.rs")).as_deref(),
            Some("b/c.rs")
        );
        assert_eq!(relative_path(Path::new("/a"), Path::new("/x/c.rs")), None);
        assert_eq!(relative_path(Path::new("/a"), Path::new("/a")), None);
    }

    #[test]
    fn relative_strs_are_the_relative_paths() {
        for (root, path) in [
            ("/a", "/a/b/c.rs"),
            ("/a", "/a//b/./c.rs"),
            ("/a/", "/a/b/c.rs/"),
            ("/a", "/a/b/../c.rs"),
            ("/a", "/x/c.rs"),
            ("/a", "/a"),
            ("/a/.", "/a/.hidden/c.rs"),
            ("a", "a/b"),
        ] {
            let (root, path) = (Path::new(root), Path::new(path));
            assert_eq!(
                relative_str(root, path).as_deref(),
                relative_path(root, path).as_deref(),
                "{} under {}",
                path.display(),
                root.display()
            );
        }
        // The index's own spelling is borrowed, not built again.
        if cfg!(unix) {
            assert!(matches!(
                relative_str(Path::new("/a"), Path::new("/a/b/c.rs")),
                Some(Cow::Borrowed("b/c.rs"))
            ));
        }
    }
}
