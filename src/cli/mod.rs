//! The command line: `augur [serve]`, `augur check-config [PATH]`, `augur schema`, ...
//!
//! ```text
//! augur                       # serve the language server over stdio (what editors run)
//! augur serve --stdio         # the same; `--stdio` is accepted because many clients add it
//! augur check-config          # validate ~/.config/augur/config.toml + ./augur.toml, print the result
//! augur check-config my.toml  # validate another file on top of the user file
//! augur index [DIR]           # build or update the workspace index, with a progress bar
//! augur search QUERY [DIR]    # ranked symbols and code from the index: path:line:col kind name
//! augur doctor                # check every configured model: reachable, auth, model, latency
//! augur complete src/main.rs:12:5 --explain                 # what the editor would be offered
//! augur complete --prompt 'fn add(a: i32, b: i32) -> i32 {'   # one raw completion from the model
//! augur action src/lib.rs:12:5 --action document           # an AI code action, as a diff
//! augur schema [config|protocol]  # JSON Schema of the configuration and the custom protocol
//! augur editor helix          # a Helix languages.toml adding augur to every language
//! augur usage --days 30       # requests, tokens and accepted suggestions per day and model
//! ```
//!
//! One file per command. The commands that work on a workspace (`complete`, `action`, `index`,
//! `search`) drive the same core host as the server ([`crate::host::Workspace`]): the host opens
//! the folder's index, builds the requests and applies the exclusion policy, so the command line
//! and an editor cannot disagree.

pub mod action;
mod check_config;
pub mod complete;
pub mod doctor;
pub mod editor;
pub mod index;
pub mod schema;
pub mod search;
pub mod usage;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::logging::{self, LogOptions};
use crate::lsp::state::ServerOptions;

/// augur: an AI language server.
#[derive(Debug, Parser)]
#[command(name = "augur", version, about, long_about = None)]
pub struct Cli {
    /// Log filter (`info`, `debug`, `augur=trace`, ...): wins over the configuration's
    /// `log.level`; `AUGUR_LOG` wins over it.
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Also write the log to this file (instead of the user file's `log.file`).
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// What to do; without a command, augur serves over stdio.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the language server over stdin/stdout (the default).
    Serve {
        /// Accepted for clients that pass it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Validate a configuration file and print the merged configuration.
    CheckConfig {
        /// The file to check on top of the user file (default: `augur.toml` or `.augur.toml` in
        /// the current directory).
        path: Option<PathBuf>,
    },
    /// Build or update the workspace index of DIR (default: the current directory).
    Index(index::IndexArgs),
    /// Search the workspace index.
    Search(search::SearchArgs),
    /// Check every configured model and endpoint: reachable, credentials, model present, latency.
    Doctor(doctor::DoctorArgs),
    /// Complete at FILE:LINE:COL with workspace context (as an editor would), or send a raw prompt.
    Complete(complete::CompleteArgs),
    /// Run an AI code action at FILE:LINE:COL[-LINE:COL]: print its diff, write it, or list the
    /// actions that apply.
    Action(action::ActionArgs),
    /// Print what the models spent and how often suggestions were taken, per day and model.
    Usage(usage::UsageArgs),
    /// Print an editor's set-up for augur (`helix`: a languages.toml for every language).
    Editor(editor::EditorArgs),
    /// Print the JSON Schema of the configuration and of augur's custom protocol (both without
    /// an argument), for editors that generate their types and settings from it.
    Schema {
        /// Only this part.
        #[arg(value_enum)]
        part: Option<schema::SchemaPart>,
    },
}

/// Runs the command line and returns the process's exit code.
pub fn run(cli: Cli) -> ExitCode {
    let user_log = user_log_options();
    let options = LogOptions {
        level: cli.log_level.clone(),
        config_level: user_log.config_level,
        file: cli.log_file.clone().or(user_log.file),
    };
    let _guard = logging::init(&options);
    match cli.command.unwrap_or(Command::Serve { stdio: true }) {
        Command::Serve { .. } => serve(),
        Command::CheckConfig { path } => check_config::run(path.as_deref()),
        Command::Schema { part } => schema::run(part),
        Command::Editor(args) => editor::run(&args),
        Command::Usage(args) => report(usage::run(&args, &mut std::io::stdout())),
        Command::Index(args) => {
            let config = load_config(args.dir.as_deref().unwrap_or(Path::new(".")));
            report(index::run_index(
                &config.index,
                &args,
                &mut std::io::stdout(),
            ))
        }
        Command::Search(args) => {
            let config = load_config(args.dir.as_deref().unwrap_or(Path::new(".")));
            report(search::run_search(
                &config.index,
                &args,
                &mut std::io::stdout(),
            ))
        }
        Command::Doctor(args) => doctor(&args),
        Command::Complete(args) => {
            let config = load_config(Path::new("."));
            report(block_on(async {
                let out = &mut std::io::stdout();
                complete::run_complete(&config, &args, out).await
            }))
        }
        Command::Action(args) => {
            let config = load_config(Path::new("."));
            report(block_on(async {
                let out = &mut std::io::stdout();
                action::run_action_cli(&config, &args, out).await
            }))
        }
    }
}

fn doctor(args: &doctor::DoctorArgs) -> ExitCode {
    // The models as the server's host would have them for this folder.
    let host = crate::host::Workspace::for_command(
        load_config(Path::new(".")),
        vec![crate::workspace::WorkspaceRoot::from_path(".")],
    );
    let snapshot = host.snapshot();
    let all_ok = block_on(async {
        let config = snapshot.config();
        let models_ok = doctor::run_doctor(&config.models, args, &mut std::io::stdout()).await?;
        let team_ok = doctor::run_doctor_team(
            &config.llm,
            &config.metrics,
            std::time::Duration::from_millis(args.timeout_ms.clamp(1, 10_000)),
            &mut std::io::stdout(),
        )
        .await?;
        Ok::<bool, anyhow::Error>(models_ok && team_ok)
    });
    match all_ok {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => report(Err(error)),
    }
}

/// The folder a command works on: `dir`, else the current directory, as its real path.
fn workspace_root(dir: &Option<PathBuf>) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    let dir = match dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    dir.canonicalize()
        .with_context(|| format!("cannot open {}", dir.display()))
}

/// The configuration for a command run in `root`: defaults, the user file and the workspace file.
/// Errors are printed and the layers with errors left out, as the server does.
fn load_config(root: &Path) -> crate::config::Config {
    let user_file = crate::config::user_config_path();
    let (layers, mut errors) =
        crate::config::file_layers(user_file.as_deref(), &[root.to_path_buf()]);
    let (config, more) = crate::config::resolve(&layers);
    errors.extend(more);
    for error in errors {
        eprintln!("augur: {error}");
    }
    // The workspace file may set `log.level` too.
    logging::apply_config_level(&config.log.level);
    config
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("augur: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The `[log]` section of the user file, if it parses; errors there are reported later, by the
/// server, with the rest of the configuration.
fn user_log_options() -> LogOptions {
    let (layers, _) = crate::config::file_layers(crate::config::user_config_path().as_deref(), &[]);
    let (config, _) = crate::config::resolve(&layers);
    LogOptions {
        level: None,
        config_level: Some(config.log.level),
        file: config.log.file,
    }
}

/// Serves the LSP over stdio.
///
/// The runtime has one worker thread, and the transport runs on it as a task (not in `block_on`,
/// which would poll it on the main thread): reading a message, handling it and writing the answer
/// then happen on one thread, without waking another for each step. CPU-bound work leaves that
/// thread: rayon's pool for retrieval, the blocking pool for indexing and parsing, and
/// `block_in_place` (which hands the worker's other tasks to a fresh thread) for the checks of AI
/// edits. Against the default (a worker per core, the transport in `block_on`), with requests
/// alternating between the two builds on one machine, this cut the median completion by about
/// 15%, its 99th percentile by about 12% and the median type-through answer by about 18%.
fn serve() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("augur: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = ServerOptions {
        #[cfg(feature = "test-support")]
        debug_requests: std::env::var("AUGUR_DEBUG_REQUESTS").is_ok_and(|v| v == "1"),
        dirs: crate::dirs::Dirs::from_env(),
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "augur serving over stdio"
    );
    let clean = runtime.block_on(async {
        match tokio::spawn(crate::lsp::serve_stdio(options)).await {
            Ok(clean) => clean,
            Err(error) => {
                tracing::error!(%error, "the server stopped unexpectedly");
                false
            }
        }
    });
    // Background tasks (such as a pending read of stdin) must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    if clean {
        ExitCode::SUCCESS
    } else {
        tracing::warn!("exit without shutdown");
        ExitCode::FAILURE
    }
}

/// Runs a future on a fresh runtime, for the commands that talk to models.
fn block_on<T>(future: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?
        .block_on(future)
}
