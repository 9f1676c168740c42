//! The `augur index` and `augur search` commands (the binary wires these arguments into its clap
//! parser).
//!
//! ```no_run
//! use augur::index::cli::{IndexArgs, run_index};
//! use augur::index::IndexConfig;
//!
//! let args = IndexArgs { dir: Some(".".into()), rebuild: false, quiet: true };
//! run_index(&IndexConfig::default(), &args, &mut std::io::stdout())?;
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use super::config::IndexConfig;
use super::progress::{IndexProgress, IndexSummary, NoProgress};
use super::search::SearchQuery;
use super::store::{WorkspaceIndex, delete_index_dir, index_dir_for};
use crate::syntax::SymbolKind;

/// Arguments of `augur index [DIR]`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct IndexArgs {
    /// The workspace root to index (default: the current directory).
    pub dir: Option<PathBuf>,
    /// Delete the existing index first and build it from scratch.
    #[arg(long)]
    pub rebuild: bool,
    /// Do not draw a progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `augur search QUERY [--kind K] [--limit N] [DIR]`.
#[derive(Debug, Clone, clap::Args)]
pub struct SearchArgs {
    /// What to look for: identifiers in any case style, words of code or docs.
    pub query: String,
    /// Only symbols of this kind (function, method, class, struct, enum, interface, trait, type,
    /// constant, module); repeatable.
    #[arg(long = "kind", short, value_parser = parse_kind)]
    pub kinds: Vec<SymbolKind>,
    /// The most hits to print.
    #[arg(long, short = 'n', default_value_t = 20)]
    pub limit: usize,
    /// Only files under this path or matching this glob (relative to the root); repeatable.
    #[arg(long = "path")]
    pub paths: Vec<String>,
    /// The workspace root (default: the current directory).
    pub dir: Option<PathBuf>,
}

fn parse_kind(text: &str) -> Result<SymbolKind, String> {
    SymbolKind::parse(text).ok_or_else(|| {
        let kinds: Vec<&str> = SymbolKind::ALL.iter().map(|k| k.as_str()).collect();
        format!(
            "unknown kind {text:?}; expected one of {}",
            kinds.join(", ")
        )
    })
}

/// A progress bar on standard error.
struct Bar(ProgressBar);

impl IndexProgress for Bar {
    fn begin(&self, total: usize) {
        self.0.set_length(total as u64);
    }

    fn file_done(&self, done: usize, _total: usize, path: &Path) {
        self.0.set_position(done as u64);
        if done.is_multiple_of(64) {
            self.0.set_message(path.display().to_string());
        }
    }

    fn end(&self, _summary: &IndexSummary) {
        self.0.finish_and_clear();
    }
}

fn workspace_root(dir: &Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let dir = match dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    dir.canonicalize()
        .with_context(|| format!("cannot open {}", dir.display()))
}

/// Builds or updates the index of a workspace, with a progress bar on standard error, and writes a
/// summary (files, symbols, chunks, bytes, seconds, MB/s, skipped files and why) to `out`.
/// Ctrl-C is not handled here: an interrupted run keeps what was committed.
pub fn run_index(
    config: &IndexConfig,
    args: &IndexArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let root = workspace_root(&args.dir)?;
    if args.rebuild {
        let dir = index_dir_for(&root, config);
        let deleted =
            delete_index_dir(&dir).with_context(|| format!("cannot delete {}", dir.display()))?;
        anyhow::ensure!(
            deleted,
            "cannot rebuild {}: another augur is writing it",
            dir.display()
        );
    }
    let index = WorkspaceIndex::open(&root, config)
        .with_context(|| format!("cannot open the index of {}", root.display()))?;
    let summary = if args.quiet {
        index.build(&NoProgress, &CancellationToken::new())?
    } else {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        index.build(&Bar(bar), &CancellationToken::new())?
    };
    writeln!(
        out,
        "index of {} in {}",
        root.display(),
        index.dir().display()
    )?;
    writeln!(
        out,
        "files:   {} ({} indexed, {} unchanged, {} removed)",
        summary.files, summary.files_indexed, summary.files_unchanged, summary.files_removed
    )?;
    writeln!(out, "symbols: {}", summary.symbols)?;
    writeln!(out, "chunks:  {}", summary.chunks)?;
    writeln!(out, "bytes:   {} ({} lines)", summary.bytes, summary.lines)?;
    writeln!(
        out,
        "time:    {:.2} s ({:.1} MB/s)",
        summary.seconds,
        summary.megabytes_per_second()
    )?;
    if summary.skipped.is_empty() {
        writeln!(out, "skipped: 0")?;
    } else {
        let reasons: Vec<String> = summary
            .skipped
            .iter()
            .map(|(r, n)| format!("{n} {}", r.describe()))
            .collect();
        writeln!(
            out,
            "skipped: {} ({})",
            summary.skipped_total(),
            reasons.join(", ")
        )?;
    }
    if index.is_in_memory() {
        writeln!(
            out,
            "note:    another augur is writing an index of another version there; this run \
             indexed into memory only"
        )?;
    }
    if summary.read_only {
        writeln!(
            out,
            "note:    another augur holds the index; nothing was written"
        )?;
    }
    Ok(())
}

/// Searches the index of a workspace (updating it first) and writes ranked hits to `out` as
/// `path:line:col kind name` with 1-based lines and columns.
pub fn run_search(
    config: &IndexConfig,
    args: &SearchArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let root = workspace_root(&args.dir)?;
    let index = WorkspaceIndex::open(&root, config)
        .with_context(|| format!("cannot open the index of {}", root.display()))?;
    index.build(&NoProgress, &CancellationToken::new())?;
    let hits = index.search(&SearchQuery {
        text: args.query.clone(),
        limit: args.limit,
        kinds: args.kinds.clone(),
        paths: args.paths.clone(),
    })?;
    let cwd = std::env::current_dir().unwrap_or_default();
    for hit in hits {
        let shown = hit.path.strip_prefix(&cwd).unwrap_or(&hit.path);
        let kind = hit.kind.map_or("chunk", SymbolKind::as_str);
        writeln!(
            out,
            "{}:{}:{} {} {}",
            shown.display(),
            hit.start_line + 1,
            hit.start_column + 1,
            kind,
            hit.name
        )?;
    }
    Ok(())
}
