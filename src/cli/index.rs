//! `augur index [DIR]`: builds or updates the index of a folder through the same core host the
//! server runs (the host opens the index with the folder's configuration; the build reports to a
//! progress bar on standard error).
//!
//! ```no_run
//! use augur::cli::index::{IndexArgs, run_index};
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

use crate::config::Config;
use crate::host::Workspace;
use crate::index::store::delete_index_dir;
use crate::index::{IndexConfig, IndexProgress, IndexSummary, NoProgress, index_dir_for};
use crate::workspace::WorkspaceRoot;

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

/// Builds or updates the index of a workspace, with a progress bar on standard error, and writes a
/// summary (files, symbols, chunks, bytes, seconds, MB/s, skipped files and why) to `out`.
/// Ctrl-C is not handled here: an interrupted run keeps what was committed.
pub fn run_index(
    config: &IndexConfig,
    args: &IndexArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let root = super::workspace_root(&args.dir)?;
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
    let host = command_host(config, &root);
    let index = host
        .open_index(&root)
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

/// The host a command runs on one folder with the index configuration `config`.
pub(crate) fn command_host(config: &IndexConfig, root: &Path) -> Workspace {
    let config = Config {
        index: config.clone(),
        ..Config::default()
    };
    Workspace::for_command(config, vec![WorkspaceRoot::from_path(root)])
}
