//! `augur usage [--days N] [--json]`: what the models spent and how often suggestions were taken,
//! per day and model, from the usage log in augur's data directory (see [`crate::llm::usage`]).
//!
//! ```text
//! day         model     requests  cached  tokens in  tokens out  accepted
//! 2026-12-04  default        120      31      48210        6012        41
//! 2026-12-05  default         64      12      25570        3104        22
//! total                      184      43      73780        9116        63
//! ```

use std::io::Write;
use std::path::Path;

use clap::Args;

use crate::llm::usage::{UsageRecord, read_usage, usage_dir};

/// The arguments of `augur usage`.
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// How many days to show, today included.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: u32,
    /// Print JSON (one array of `{day, model, requests, cached, tokens_in, tokens_out,
    /// accepted}`) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Prints the usage recorded in the data directory.
pub fn run(args: &UsageArgs, out: &mut impl Write) -> anyhow::Result<()> {
    print_usage(&usage_dir(), args, out)
}

/// Prints the usage recorded in `dir`.
pub fn print_usage(dir: &Path, args: &UsageArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let records = read_usage(dir, args.days);
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&records)?)?;
        return Ok(());
    }
    if records.is_empty() {
        writeln!(
            out,
            "no usage recorded in the last {} day(s) in {}",
            args.days,
            dir.display()
        )?;
        return Ok(());
    }
    let width = records
        .iter()
        .map(|r| r.model.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    writeln!(
        out,
        "{:<10}  {:<width$}  {:>9}  {:>7}  {:>10}  {:>10}  {:>8}",
        "day", "model", "requests", "cached", "tokens in", "tokens out", "accepted"
    )?;
    let mut total = UsageRecord::default();
    for r in &records {
        writeln!(
            out,
            "{:<10}  {:<width$}  {:>9}  {:>7}  {:>10}  {:>10}  {:>8}",
            r.day, r.model, r.requests, r.cached, r.tokens_in, r.tokens_out, r.accepted
        )?;
        total.requests += r.requests;
        total.cached += r.cached;
        total.tokens_in += r.tokens_in;
        total.tokens_out += r.tokens_out;
        total.accepted += r.accepted;
    }
    writeln!(
        out,
        "{:<10}  {:<width$}  {:>9}  {:>7}  {:>10}  {:>10}  {:>8}",
        "total",
        "",
        total.requests,
        total.cached,
        total.tokens_in,
        total.tokens_out,
        total.accepted
    )?;
    Ok(())
}
