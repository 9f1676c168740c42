//! Fixtures: one or more files in one string, with an optional `$0` cursor.
//!
//! ```
//! use augur::test_support::fixture::Fixture;
//! let f = Fixture::parse("//- /src/lib.rs\nfn a() {}\n//- /src/main.rs\nfn main() { a($0) }\n");
//! assert_eq!(f.files.len(), 2);
//! let (file, offset) = f.cursor.unwrap();
//! assert_eq!(f.files[file].path, "/src/main.rs");
//! assert_eq!(&f.files[file].text[..offset], "fn main() { a(");
//! ```
//!
//! Without a `//- /path` line the whole text is one file, `/main.rs`.

use std::path::{Path, PathBuf};

/// The cursor marker.
pub const CURSOR: &str = "$0";

/// One file of a fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureFile {
    /// Its path, starting with `/`, relative to the fixture's root.
    pub path: String,
    /// Its text, without the cursor marker.
    pub text: String,
}

/// A parsed fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixture {
    /// The files, in order.
    pub files: Vec<FixtureFile>,
    /// The file holding the cursor and the cursor's byte offset in it.
    pub cursor: Option<(usize, usize)>,
}

impl Fixture {
    /// Parses a fixture. At most one `$0` is allowed; it is removed from the text.
    pub fn parse(text: &str) -> Self {
        let mut files = Vec::new();
        let mut current: Option<FixtureFile> = None;
        for line in text.split_inclusive('\n') {
            if let Some(path) = line.strip_prefix("//- ") {
                // Blank lines before the first header are not a file of their own.
                files.extend(current.take().filter(|f| {
                    !(files.is_empty() && f.text.trim().is_empty() && f.path == "/main.rs")
                }));
                current = Some(FixtureFile {
                    path: path.trim().to_owned(),
                    text: String::new(),
                });
            } else {
                current
                    .get_or_insert_with(|| FixtureFile {
                        path: "/main.rs".into(),
                        text: String::new(),
                    })
                    .text
                    .push_str(line);
            }
        }
        files.extend(current);
        let mut cursor = None;
        for (i, file) in files.iter_mut().enumerate() {
            if let Some(offset) = file.text.find(CURSOR) {
                assert!(cursor.is_none(), "a fixture has at most one {CURSOR}");
                file.text.replace_range(offset..offset + CURSOR.len(), "");
                assert!(
                    !file.text.contains(CURSOR),
                    "a fixture has at most one {CURSOR}"
                );
                cursor = Some((i, offset));
            }
        }
        Self { files, cursor }
    }

    /// The text of the file at `path`.
    pub fn file(&self, path: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.text.as_str())
    }

    /// Writes the files under `root`, creating folders; returns the paths written.
    pub fn write_to(&self, root: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for file in &self.files {
            let path = root.join(file.path.trim_start_matches('/'));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, &file.text)?;
            written.push(path);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_file_without_header() {
        let f = Fixture::parse("let x = $0;\n");
        assert_eq!(
            f.files,
            vec![FixtureFile {
                path: "/main.rs".into(),
                text: "let x = ;\n".into()
            }]
        );
        assert_eq!(f.cursor, Some((0, 8)));
    }

    #[test]
    fn writes_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = Fixture::parse("//- /a/b.py\nx = 1\n");
        let written = f.write_to(dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&written[0]).unwrap(), "x = 1\n");
    }
}
