//! `augur search QUERY [DIR]`: ranked symbols and code from the index of a folder (brought up to
//! date first), through the same core host and search as `augur/search`, printed as
//! `path:line:col kind name` with 1-based lines and columns.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::index::{IndexConfig, NoProgress, SearchQuery};
use crate::syntax::SymbolKind;

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

/// Searches the index of a workspace (updating it first) and writes ranked hits to `out` as
/// `path:line:col kind name` with 1-based lines and columns.
pub fn run_search(
    config: &IndexConfig,
    args: &SearchArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let root = super::workspace_root(&args.dir)?;
    let host = super::index::command_host(config, &root);
    let index = host
        .open_index(&root)
        .with_context(|| format!("cannot open the index of {}", root.display()))?;
    index.build(&NoProgress, &CancellationToken::new())?;
    let hits = host.snapshot().search(&SearchQuery {
        text: args.query.clone(),
        limit: args.limit,
        kinds: args.kinds.clone(),
        paths: args.paths.clone(),
    });
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
