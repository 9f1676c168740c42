//! `augur action`: runs an AI code action from the command line, the way an editor's
//! `codeAction/resolve` would (same prompt, index context, syntax check and retry), and prints
//! the edit as a unified diff, writes it with `--write`, or prints the explanation.
//!
//! ```text
//! augur action src/lib.rs:12:5                            # the actions that apply at the cursor
//! augur action src/lib.rs:12:5 --action document          # the doc comment, as a diff
//! augur action calc.py:3:5-4:20 --action rewrite --instruction "use a list comprehension" --write
//! augur action calc.py:2:12-2:17 --action fix --diagnostic "add subtracts instead of adding"
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use ropey::Rope;
use tokio_util::sync::CancellationToken;

use crate::actions::{
    ActionId, ActionOutcome, ActionProgress, EditorDiagnostic, EditorSeverity, available_actions,
    run_action,
};
use crate::cli::complete::{parse_position, position_to_offset};
use crate::config::Config;
use crate::edits::{WorkspaceEditPlan, apply};
use crate::host::Workspace;
use crate::index::NoProgress;
use crate::syntax::Language;
use crate::workspace::WorkspaceRoot;

/// Arguments of `augur action`.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct ActionArgs {
    /// Where: FILE:LINE:COL for a cursor, or FILE:LINE:COL-LINE:COL for a selection (1-based,
    /// columns in characters).
    #[arg(value_name = "FILE:LINE:COL[-LINE:COL]")]
    pub position: String,
    /// The action to run: fix, document, rewrite, tests, explain or custom.<id>. Without it, the
    /// actions that apply are listed.
    #[arg(long)]
    pub action: Option<String>,
    /// The instruction, for `rewrite` and custom actions that take one.
    #[arg(long)]
    pub instruction: Option<String>,
    /// A problem to fix, reported on the selection (repeatable).
    #[arg(long = "diagnostic", value_name = "MESSAGE")]
    pub diagnostics: Vec<String>,
    /// The workspace root (default: the file's git root, else its folder).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Write the edit to the files instead of printing the diff.
    #[arg(long)]
    pub write: bool,
}

/// Runs `augur action`, printing to `out`.
pub async fn run_action_cli(
    config: &Config,
    args: &ActionArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let (file, start, end) = parse_selection(&args.position)?;
    let file = file
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let rope = Rope::from_str(&text);
    let range =
        position_to_offset(&rope, start.0, start.1)..position_to_offset(&rope, end.0, end.1);
    let range = range.start.min(range.end)..range.end.max(range.start);
    let diagnostics = args
        .diagnostics
        .iter()
        .map(|message| EditorDiagnostic {
            range: range.clone(),
            message: message.clone(),
            severity: Some(EditorSeverity::Error),
            code: None,
            source: None,
        })
        .collect();
    let root = args
        .root
        .clone()
        .unwrap_or_else(|| crate::workspace::default_root(&file));
    let root = root.canonicalize().unwrap_or(root);
    // The same host the server runs, over the file's root: it builds the action's context under
    // the same exclusion policy as `codeAction`.
    let host = Workspace::for_command(config.clone(), vec![WorkspaceRoot::from_path(&root)]);
    let key = format!("file://{}", file.display());
    let language_id = Language::from_path(&file).map_or("", |l| l.lsp_id());
    host.open_document(&key, Some(&file), language_id, 0, &text);
    let mut context = host.snapshot().action_context(&key, range, diagnostics)?;
    // The text was read from disk, not from an editor: no version guards the edit.
    context.version = None;
    let Some(action) = &args.action else {
        for offer in available_actions(&context, &config.actions) {
            let name = offer.id.as_string();
            let name = name.strip_prefix("augur.").unwrap_or(&name);
            writeln!(out, "{name:<12} {} ({})", offer.title, offer.kind.as_str())?;
        }
        return Ok(());
    };
    let action = ActionId::parse(&format!("augur.{action}"))
        .or_else(|| ActionId::parse(action))
        .ok_or_else(|| anyhow::anyhow!("unknown action `{action}`"))?;
    if config.index.enabled {
        let index = host
            .open_index(&root)
            .map_err(|e| anyhow::anyhow!("cannot open the index of {}: {e}", root.display()))?;
        index
            .build(&NoProgress, &CancellationToken::new())
            .map_err(|e| anyhow::anyhow!("cannot index {}: {e}", root.display()))?;
    }
    host.start_engine()?;
    let snapshot = host.snapshot();
    let llm = snapshot
        .engine()
        .map(|engine| engine.client().clone())
        .ok_or_else(|| anyhow::anyhow!("no model is configured"))?;
    let request = snapshot.action_request(context, action, args.instruction.clone());
    match run_action(&llm, request, &StderrProgress).await? {
        ActionOutcome::Markdown { title, text } => writeln!(out, "# {title}\n\n{text}")?,
        ActionOutcome::Edit { plan, .. } if args.write => {
            for (path, _, new) in new_texts(&plan)? {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&path, new)?;
                writeln!(out, "wrote {}", shown(&path, &root))?;
            }
        }
        ActionOutcome::Edit { plan, .. } => {
            for (path, old, new) in new_texts(&plan)? {
                let name = shown(&path, &root);
                let diff = similar::TextDiff::from_lines(&old, &new);
                let from = if old.is_empty() {
                    "/dev/null".to_owned()
                } else {
                    format!("a/{name}")
                };
                write!(
                    out,
                    "{}",
                    diff.unified_diff()
                        .context_radius(3)
                        .header(&from, &format!("b/{name}"))
                )?;
            }
        }
    }
    Ok(())
}

/// Each file of the plan with its text before and after.
fn new_texts(plan: &WorkspaceEditPlan) -> anyhow::Result<Vec<(PathBuf, String, String)>> {
    let mut out: Vec<(PathBuf, String, String)> = plan
        .creations
        .iter()
        .map(|c| (c.path.clone(), String::new(), c.text.clone()))
        .collect();
    for file in &plan.edits {
        let old = std::fs::read_to_string(&file.path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.path.display()))?;
        let new = apply(&old, &file.edits)?;
        out.push((file.path.clone(), old, new));
    }
    Ok(out)
}

fn shown(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// A 1-based line and character column.
type LineColumn = (usize, usize);

/// Parses FILE:LINE:COL or FILE:LINE:COL-LINE:COL into the file and the selection's ends.
fn parse_selection(text: &str) -> anyhow::Result<(PathBuf, LineColumn, LineColumn)> {
    if let Some((head, tail)) = text.rsplit_once('-')
        && let Some((line, column)) = tail.split_once(':')
        && let (Ok(line), Ok(column)) = (line.parse::<usize>(), column.parse::<usize>())
    {
        let start = parse_position(head)?;
        return Ok((start.file, (start.line, start.column), (line, column)));
    }
    let at = parse_position(text)?;
    Ok((at.file, (at.line, at.column), (at.line, at.column)))
}

/// Progress on stderr, so stdout holds only the result.
struct StderrProgress;

impl ActionProgress for StderrProgress {
    fn begin(&self, title: &str) {
        eprintln!("augur: {title}…");
    }

    fn retrying(&self, reason: &str) {
        eprintln!("augur: asking again: {reason}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_selections() {
        assert_eq!(
            parse_selection("a-b.rs:2:3").unwrap(),
            (PathBuf::from("a-b.rs"), (2, 3), (2, 3))
        );
        assert_eq!(
            parse_selection("src/x.py:2:3-4:1").unwrap(),
            (PathBuf::from("src/x.py"), (2, 3), (4, 1))
        );
        assert!(parse_selection("x.py:0:1").is_err());
    }
}
