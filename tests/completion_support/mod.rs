//! Helpers of the completion tests: an indexed workspace from a fixture, and prompts built with
//! the approximate token counter.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use augur::completion::CompletionConfig;
use augur::completion::prompt::{BuiltPrompt, OpenDocument, PromptInput, build_prompt};
use augur::index::{IndexConfig, NoProgress, WorkspaceIndex};
use augur::policy::Policy;
use augur::syntax::Language;
use augur::test_support::fixture::Fixture;
use ropey::Rope;
use tokio_util::sync::CancellationToken;

/// Tokens as the `approx` counter counts them: one per four bytes.
pub fn approx(text: &str) -> usize {
    text.len().div_ceil(4)
}

/// A fixture written to a temporary folder and indexed.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
    pub root: PathBuf,
    pub index: Arc<WorkspaceIndex>,
    pub fixture: Fixture,
}

impl Workspace {
    pub fn new(fixture: &str) -> Workspace {
        Workspace::with_config(fixture, IndexConfig::default())
    }

    pub fn with_config(fixture: &str, config: IndexConfig) -> Workspace {
        let fixture = Fixture::parse(fixture);
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        fixture.write_to(dir.path()).unwrap();
        let root = dir.path().canonicalize().unwrap();
        let index = WorkspaceIndex::open_in(&root, cache.path(), &config).unwrap();
        index.build(&NoProgress, &CancellationToken::new()).unwrap();
        Workspace {
            dir,
            cache,
            root,
            index: Arc::new(index),
            fixture,
        }
    }

    /// The file with the cursor: its path, text and cursor offset.
    pub fn cursor(&self) -> (PathBuf, String, usize) {
        let (file, offset) = self.fixture.cursor.expect("the fixture has a $0");
        let file = &self.fixture.files[file];
        (
            self.root.join(file.path.trim_start_matches('/')),
            file.text.clone(),
            offset,
        )
    }

    /// The prompt at the cursor.
    pub fn prompt(&self, config: &CompletionConfig, open: &[(PathBuf, Rope)]) -> BuiltPrompt {
        let (path, text, cursor) = self.cursor();
        let rope = Rope::from_str(&text);
        let open: Vec<OpenDocument> = open
            .iter()
            .map(|(path, rope)| OpenDocument::new(path.clone(), rope.clone()))
            .collect();
        build_prompt(
            &PromptInput {
                rope: &rope,
                cursor,
                path: Some(&path),
                language: Language::from_path(&path),
                config,
                indexes: std::slice::from_ref(&self.index),
                open_documents: &open,
                policy: &Arc::new(Policy::of_indexes(std::slice::from_ref(&self.index))),
            },
            &approx,
        )
    }
}

/// The prompt at the `$0` of a single-file fixture, without an index.
pub fn prompt_of(fixture: &str, config: &CompletionConfig) -> BuiltPrompt {
    let fixture = Fixture::parse(fixture);
    let (file, cursor) = fixture.cursor.expect("the fixture has a $0");
    let file = &fixture.files[file];
    let rope = Rope::from_str(&file.text);
    let path = PathBuf::from(&file.path);
    build_prompt(
        &PromptInput {
            rope: &rope,
            cursor,
            path: Some(&path),
            language: Language::from_path(&path),
            config,
            indexes: &[],
            open_documents: &[],
            policy: &Arc::new(Policy::of_indexes(&[])),
        },
        &approx,
    )
}
