//! Helpers of the AI code action tests: a workspace on disk from a fixture (`$0` is the cursor,
//! an optional `$1` ends a selection), a scripted fake model, and outcomes rendered as text for
//! snapshots.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use augur::actions::{
    ActionContext, ActionId, ActionOutcome, ActionRequest, ActionsConfig, EditorDiagnostic,
    EditorSeverity, NoActionProgress, run_action,
};
use augur::edits::apply;
use augur::llm::LlmClient;
use augur::syntax::Language;
use augur::test_support::fixture::Fixture;
use expect_test::Expect;
use tempfile::TempDir;

use crate::llm_support::{Fake, client, model, openai_stream};

/// A workspace on disk from a fixture; `$0` is the cursor and an optional `$1` ends a selection.
pub struct Workspace {
    pub dir: TempDir,
    pub path: PathBuf,
    pub text: String,
    pub range: std::ops::Range<usize>,
}

pub fn workspace(fixture: &str) -> Workspace {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Fixture::parse(fixture);
    let (file, cursor) = f.cursor.expect("the fixture has a cursor");
    let mut range = cursor..cursor;
    if let Some(end) = f.files[file].text.find("$1") {
        f.files[file].text.replace_range(end..end + 2, "");
        range.end = end;
    }
    f.write_to(dir.path()).unwrap();
    let path = dir.path().join(f.files[file].path.trim_start_matches('/'));
    Workspace {
        text: f.files[file].text.clone(),
        path,
        dir,
        range,
    }
}

impl Workspace {
    pub fn root(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn context(&self, diagnostics: Vec<EditorDiagnostic>) -> ActionContext {
        ActionContext {
            path: self.path.clone(),
            language: Language::from_path(&self.path),
            text: self.text.clone(),
            version: Some(7),
            range: self.range.clone(),
            diagnostics,
        }
    }

    pub fn request(&self, action: ActionId, instruction: Option<&str>) -> ActionRequest {
        self.request_with(action, instruction, Vec::new(), ActionsConfig::default())
    }

    pub fn request_with(
        &self,
        action: ActionId,
        instruction: Option<&str>,
        diagnostics: Vec<EditorDiagnostic>,
        config: ActionsConfig,
    ) -> ActionRequest {
        ActionRequest {
            action,
            context: self.context(diagnostics),
            instruction: instruction.map(str::to_owned),
            roots: vec![self.root()],
            config,
            index: None,
        }
    }

    /// The outcome as text: each file relative to the root, its version and edits, and the
    /// document after the edits.
    pub fn render(&self, outcome: &ActionOutcome) -> String {
        let rel = |p: &Path| {
            p.strip_prefix(self.dir.path())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        };
        match outcome {
            ActionOutcome::Markdown { title, text } => format!("markdown {title:?}\n{text}\n"),
            ActionOutcome::Edit { title, plan } => {
                let mut out = format!("edit {title:?}\n");
                for c in &plan.creations {
                    out.push_str(&format!("create {}\n{}", rel(&c.path), c.text));
                }
                for f in &plan.edits {
                    out.push_str(&format!(
                        "edit {} at version {:?}\n",
                        rel(&f.path),
                        f.version
                    ));
                    for e in &f.edits {
                        out.push_str(&format!("  {:?} -> {:?}\n", e.range, e.new_text));
                    }
                    let old = if f.path == self.path {
                        self.text.clone()
                    } else {
                        std::fs::read_to_string(&f.path).unwrap()
                    };
                    out.push_str("after:\n");
                    out.push_str(&apply(&old, &f.edits).unwrap());
                }
                out
            }
        }
    }
}

pub async fn fake_with(replies: &[&str]) -> (Fake, LlmClient) {
    let fake = Fake::start().await;
    for reply in replies {
        // Each reply streams in a few pieces, as a model does.
        let pieces: Vec<String> = reply.split_inclusive('\n').map(str::to_owned).collect();
        let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
        fake.push(openai_stream(&pieces));
    }
    let llm = client(model("openai", &format!("{}/v1", fake.url)));
    (fake, llm)
}

pub fn prompt_of(fake: &Fake, n: usize) -> String {
    fake.requests()[n].body["prompt"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub async fn check(ws: &Workspace, request: ActionRequest, replies: &[&str], want: Expect) -> Fake {
    let (fake, llm) = fake_with(replies).await;
    let outcome = run_action(&llm, request, &NoActionProgress).await.unwrap();
    want.assert_eq(&ws.render(&outcome));
    fake
}

pub fn diagnostic(text: &str, needle: &str, message: &str) -> EditorDiagnostic {
    let start = text.find(needle).unwrap();
    EditorDiagnostic {
        range: start..start + needle.len(),
        message: message.into(),
        severity: Some(EditorSeverity::Error),
        code: Some("E0308".into()),
        source: Some("rustc".into()),
    }
}

/// The shapes real models give an answer: `piece` (what was asked for) and `whole` (the symbol
/// with the piece in it), each alone, fenced without and with the language tag `lang`, after
/// and before prose, between prose, and fenced with another language's tag `other`. Named for
/// the snapshot.
pub fn reply_shapes(piece: &str, whole: &str, lang: &str, other: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (what, code) in [("piece", piece), ("whole", whole)] {
        let shapes = [
            ("", code.to_owned()),
            (" fenced", format!("```\n{code}```\n")),
            (" fenced with its tag", format!("```{lang}\n{code}```")),
            (
                " after prose",
                format!("Here is the code:\n\n```{lang}\n{code}```\n"),
            ),
            (
                " before prose",
                format!("```{lang}\n{code}```\n\nThis is what you asked for.\n"),
            ),
            (
                " between prose",
                format!("Sure! Here it is.\n```{lang}\n{code}```\nIt follows the conventions."),
            ),
            (
                " fenced as another language",
                format!("```{other}\n{code}```\n"),
            ),
        ];
        for (name, reply) in shapes {
            out.push((format!("{what}{name}"), reply));
        }
    }
    out
}

/// Runs `request` once per named reply (each against its own fake model, which gives the same
/// reply to a retry) and renders the outcomes grouped: each distinct outcome once, after the
/// names of the replies that gave it. A failure renders as `error: <message>`.
pub async fn outcomes(
    ws: &Workspace,
    request: &ActionRequest,
    replies: &[(String, String)],
) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (name, reply) in replies {
        let (_fake, llm) = fake_with(&[reply, reply]).await;
        let rendered = match run_action(&llm, request.clone(), &NoActionProgress).await {
            Ok(outcome) => ws.render(&outcome),
            Err(error) => format!("error: {error}\n"),
        };
        match groups.iter_mut().find(|(r, _)| *r == rendered) {
            Some((_, names)) => names.push(name.clone()),
            None => groups.push((rendered, vec![name.clone()])),
        }
    }
    groups
        .into_iter()
        .map(|(rendered, names)| format!("[{}]\n{rendered}", names.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Names each reply of a list by itself, for [`outcomes`].
pub fn named(replies: &[(&str, &str)]) -> Vec<(String, String)> {
    replies
        .iter()
        .map(|(name, reply)| ((*name).to_owned(), (*reply).to_owned()))
        .collect()
}
