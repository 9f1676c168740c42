//! `augur complete`: one subcommand for both a position in a file and a raw prompt (`--prompt`,
//! handed to [`raw::run_raw`]).
//!
//! A position drives the same core host as the editor: the file is opened in a
//! [`Workspace`] over its root, the root is indexed, and the host builds the engine request (the
//! retrieval, the context documents and the exclusion policy) exactly as it does for
//! `textDocument/inlineCompletion`.
//!
//! ```text
//! augur complete src/main.rs:12:5 --explain        # LINE and COL are 1-based, COL in characters
//! augur complete --prompt 'fn add(a: i32, b: i32) -> i32 {' --suffix '}'
//! ```

pub mod raw;

use std::io::Write;
use std::path::PathBuf;

use ropey::Rope;
use tokio_util::sync::CancellationToken;

use crate::completion::{CompletionConfig, SuggestionSource, Trigger};
use crate::config::Config;
use crate::documents::{LineCol, PositionEncoding, line_col_to_offset};
use crate::host::Workspace;
use crate::index::{IndexConfig, NoProgress};
use crate::llm::{LlmSettings, ModelConfig};
use crate::workspace::WorkspaceRoot;

/// Arguments of `augur complete`.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct CompleteArgs {
    /// Where to complete: FILE:LINE:COL, 1-based, COL counted in characters.
    #[arg(
        value_name = "FILE:LINE:COL",
        required_unless_present = "prompt",
        conflicts_with = "prompt"
    )]
    pub position: Option<String>,
    /// The workspace root to index and retrieve from (default: the file's git root, else its folder).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// The configured model to use (default: `completion.model`, or `default` with `--prompt`).
    #[arg(long)]
    pub model: Option<String>,
    /// Also print the prompt with its parts marked, the token budgets and the timings.
    #[arg(long)]
    pub explain: bool,
    /// A raw prompt (the text before the cursor), sent as it is, instead of a position.
    #[arg(long)]
    pub prompt: Option<String>,
    /// With `--prompt`: the text after the cursor, for fill-in-the-middle.
    #[arg(long, requires = "prompt")]
    pub suffix: Option<String>,
    /// With `--prompt`: print the answer as it is generated.
    #[arg(long, requires = "prompt")]
    pub stream: bool,
    /// The most tokens to generate.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// The sampling temperature.
    #[arg(long)]
    pub temperature: Option<f32>,
    /// With `--prompt`: a stop sequence (repeatable).
    #[arg(long, requires = "prompt")]
    pub stop: Vec<String>,
    /// With `--prompt`: print usage and latency after the answer.
    #[arg(long, requires = "prompt")]
    pub show_usage: bool,
}

/// A position parsed from FILE:LINE:COL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePosition {
    /// The file.
    pub file: PathBuf,
    /// The line, 1-based.
    pub line: usize,
    /// The column in characters, 1-based.
    pub column: usize,
}

/// Parses FILE:LINE:COL (the file name may itself contain colons).
pub fn parse_position(text: &str) -> anyhow::Result<FilePosition> {
    let mut parts = text.rsplitn(3, ':');
    let column = parts.next();
    let line = parts.next();
    let file = parts.next();
    let (Some(file), Some(line), Some(column)) = (file, line, column) else {
        anyhow::bail!("`{text}` is not FILE:LINE:COL (for example src/main.rs:12:5)");
    };
    let number = |s: &str, what: &str| -> anyhow::Result<usize> {
        match s.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => anyhow::bail!("the {what} in `{text}` must be a number from 1 (1-based)"),
        }
    };
    Ok(FilePosition {
        file: PathBuf::from(file),
        line: number(line, "line")?,
        column: number(column, "column")?,
    })
}

/// The byte offset of a 1-based line and character column, clamped to the line and the text:
/// the one conversion the server uses too, with columns counted in characters (UTF-32).
pub fn position_to_offset(rope: &Rope, line: usize, column: usize) -> usize {
    let at = LineCol {
        line: u32::try_from(line.saturating_sub(1)).unwrap_or(u32::MAX),
        col: u32::try_from(column.saturating_sub(1)).unwrap_or(u32::MAX),
    };
    line_col_to_offset(rope, at, PositionEncoding::Utf32)
}

/// Runs `augur complete` with the configuration of the working folder.
pub async fn run_complete(
    config: &Config,
    args: &CompleteArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    run_complete_with(
        &config.models,
        &config.llm,
        &config.index,
        &config.completion,
        args,
        out,
    )
    .await
}

/// Runs `augur complete` with each part of the configuration given.
pub async fn run_complete_with(
    models: &std::collections::BTreeMap<String, ModelConfig>,
    llm: &LlmSettings,
    index_config: &IndexConfig,
    completion: &CompletionConfig,
    args: &CompleteArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if let Some(prompt) = &args.prompt {
        let raw = raw::RawArgs {
            model: args.model.clone().unwrap_or_else(|| "default".into()),
            prompt: prompt.clone(),
            suffix: args.suffix.clone(),
            stream: args.stream,
            max_tokens: args.max_tokens,
            temperature: args.temperature,
            stop: args.stop.clone(),
            show_usage: args.show_usage,
        };
        return raw::run_raw(models, llm, &raw, out).await;
    }
    if args.suffix.is_some() || args.stream || !args.stop.is_empty() || args.show_usage {
        anyhow::bail!(
            "--suffix, --stream, --stop and --show-usage go with --prompt, not with a position"
        );
    }
    let Some(position) = &args.position else {
        anyhow::bail!("give a position FILE:LINE:COL or a raw prompt with --prompt");
    };
    let position = parse_position(position)?;
    let file = position
        .file
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", position.file.display()))?;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let rope = Rope::from_str(&text);
    let cursor = position_to_offset(&rope, position.line, position.column);

    let root = match &args.root {
        Some(root) => root.clone(),
        None => crate::workspace::default_root(&file),
    };
    let mut completion = completion.clone();
    if let Some(model) = &args.model {
        completion.model = model.clone();
    }
    if let Some(max_tokens) = args.max_tokens {
        completion.max_tokens = max_tokens;
    }
    if let Some(temperature) = args.temperature {
        completion.temperature = temperature;
    }
    let config = Config {
        models: models.clone(),
        llm: llm.clone(),
        index: index_config.clone(),
        completion,
        ..Config::default()
    };
    // The same host the server runs, over the file's root.
    let host = Workspace::for_command(config, vec![WorkspaceRoot::from_path(&root)]);
    let key = format!("file://{}", file.display());
    let language_id = crate::syntax::Language::from_path(&file).map_or("", |l| l.lsp_id());
    host.open_document(&key, Some(&file), language_id, 0, &text);
    if index_config.enabled {
        let index = host
            .open_index(&root)
            .map_err(|e| anyhow::anyhow!("cannot open the index of {}: {e}", root.display()))?;
        let summary = index
            .build(&NoProgress, &CancellationToken::new())
            .map_err(|e| anyhow::anyhow!("cannot index {}: {e}", root.display()))?;
        if args.explain {
            writeln!(out, "index: {}", summary.describe())?;
        }
    }
    host.start_engine()
        .map_err(|e| anyhow::anyhow!("{e} [{}]; {}", e.code(), e.hint()))?;
    let snapshot = host.snapshot();
    let engine = snapshot
        .engine()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no model is configured"))?;
    let request = snapshot.completion_request(&key, cursor, Trigger::Invoked)?;
    let suggestion = engine
        .complete(request)
        .await
        .map_err(|e| anyhow::anyhow!("{e} [{}]", e.code()))?;
    if args.explain {
        out.write_all(suggestion.prompt.explain().as_bytes())?;
        writeln!(out, "----- raw answer -----")?;
        writeln!(out, "{}", suggestion.raw)?;
        writeln!(out, "----- suggestion -----")?;
    }
    writeln!(out, "{}", suggestion.text)?;
    if args.explain {
        let t = suggestion.timings;
        writeln!(
            out,
            "----- timings -----\nprompt build {:.1} ms, first token {}, total {:.1} ms; source {}{}{}",
            t.prompt_build_ms,
            t.ttft_ms.map_or("-".to_string(), |v| format!("{v:.1} ms")),
            t.total_ms,
            match suggestion.source {
                SuggestionSource::Model => "model",
                SuggestionSource::Cache => "cache",
                SuggestionSource::TypeThrough => "type-through",
                SuggestionSource::Prefetch => "prefetch",
            },
            if suggestion.stopped_early {
                "; stream stopped early"
            } else {
                ""
            },
            suggestion
                .note
                .as_deref()
                .map(|n| format!("; {n}"))
                .unwrap_or_default(),
        )?;
        writeln!(
            out,
            "prompt stages: {}",
            suggestion.prompt.stages.describe()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: CompleteArgs,
    }

    #[test]
    fn one_subcommand_serves_positions_and_raw_prompts() {
        use clap::{CommandFactory, Parser};
        Cli::command().debug_assert();
        let cli =
            Cli::try_parse_from(["complete", "src/a.rs:3:5", "--explain", "--model", "m"]).unwrap();
        assert_eq!(cli.args.position.as_deref(), Some("src/a.rs:3:5"));
        assert!(cli.args.explain);
        let cli =
            Cli::try_parse_from(["complete", "--prompt", "fn a", "--suffix", "}", "--stream"])
                .unwrap();
        assert_eq!(cli.args.prompt.as_deref(), Some("fn a"));
        assert!(
            Cli::try_parse_from(["complete"]).is_err(),
            "a position or --prompt is needed"
        );
        assert!(Cli::try_parse_from(["complete", "a.rs:1:1", "--prompt", "x"]).is_err());
    }

    #[test]
    fn positions_parse_and_convert() {
        let p = parse_position("C:/x/a.rs:3:7").unwrap();
        assert_eq!(
            (p.file, p.line, p.column),
            (PathBuf::from("C:/x/a.rs"), 3, 7)
        );
        assert!(parse_position("a.rs:0:1").is_err());
        assert!(parse_position("a.rs:3").is_err());
        let rope = Rope::from_str("ab\r\n😀cd\r\nx");
        assert_eq!(position_to_offset(&rope, 2, 2), 4 + 4);
        assert_eq!(position_to_offset(&rope, 2, 99), 4 + 6);
        assert_eq!(position_to_offset(&rope, 9, 1), rope.len_bytes());
    }
}
