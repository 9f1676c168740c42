//! Logging with `tracing`: to stderr (stdout carries the protocol) and, optionally, to a file.
//!
//! The filter is chosen in this order, the first one given winning:
//!
//! 1. the `AUGUR_LOG` environment variable;
//! 2. the `--log-level` command-line option;
//! 3. `log.level` in the merged configuration (user file, workspace file, `initializationOptions`,
//!    client settings), else `info`.
//!
//! The first two are fixed for the life of the process. The third follows the configuration:
//! the server calls [`apply_config_level`] whenever the merged configuration changes, and the new
//! filter takes effect at once (through a `tracing_subscriber` reload handle).
//!
//! The log file is opened once, at start-up, from `--log-file` or else the user file's `[log]`
//! section: a `log.file` in any other layer is reported as ignored by the configuration check.

use std::path::PathBuf;
use std::sync::OnceLock;

use tracing_subscriber::fmt::writer::{BoxMakeWriter, MakeWriterExt};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// Where and how much to log.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// A `tracing` filter directive (`info`, `augur=debug`, ...) given on the command line: it
    /// wins over the configuration, and only `AUGUR_LOG` wins over it.
    pub level: Option<String>,
    /// The filter from the configuration read at start-up, used when neither `AUGUR_LOG` nor
    /// [`Self::level`] is given; later configurations replace it through [`apply_config_level`].
    pub config_level: Option<String>,
    /// A file that receives the log too.
    pub file: Option<PathBuf>,
}

/// Keeps the file writer flushing; hold it until the program ends.
pub struct LogGuard(Option<tracing_appender::non_blocking::WorkerGuard>);

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.0.take();
    }
}

/// The installed filter, and whether the configuration may change it.
struct Installed {
    handle: reload::Handle<EnvFilter, Registry>,
    /// The directive in force.
    directive: std::sync::Mutex<String>,
    /// Set when `AUGUR_LOG` or `--log-level` chose the filter: the configuration does not change
    /// it then.
    fixed: bool,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// What [`apply_config_level`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LevelChange {
    /// No subscriber is installed by [`init`] (as in tests that run the server in-process).
    NotInstalled,
    /// `AUGUR_LOG` or `--log-level` chose the filter, so the configuration's is not used.
    Fixed,
    /// The filter was already this one.
    Unchanged,
    /// The new filter is in force.
    Applied,
    /// The directive is not a valid filter; the old one stays.
    Invalid(String),
}

/// Parses a filter directive, as the configuration check does.
pub fn parse_filter(directive: &str) -> Result<EnvFilter, String> {
    EnvFilter::try_new(directive).map_err(|e| e.to_string())
}

/// Installs the global subscriber. Calling it twice is harmless: the second call does nothing.
pub fn init(options: &LogOptions) -> LogGuard {
    let fixed_directive = std::env::var("AUGUR_LOG")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| options.level.clone());
    let fixed = fixed_directive.is_some();
    let directive = fixed_directive
        .or_else(|| options.config_level.clone())
        .unwrap_or_else(|| "info".into());
    let (filter, directive) = match parse_filter(&directive) {
        Ok(filter) => (filter, directive),
        Err(e) => {
            eprintln!("augur: ignoring invalid log filter {directive:?}: {e}");
            (EnvFilter::new("info"), "info".to_owned())
        }
    };
    let file = options.file.as_ref().and_then(|path| {
        let opened = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        match opened {
            Ok(file) => Some(tracing_appender::non_blocking(file)),
            Err(e) => {
                eprintln!("augur: cannot open log file {}: {e}", path.display());
                None
            }
        }
    });
    let (writer, guard) = match file {
        Some((writer, guard)) => (BoxMakeWriter::new(std::io::stderr.and(writer)), Some(guard)),
        None => (BoxMakeWriter::new(std::io::stderr), None),
    };
    let (filter, handle) = reload::Layer::new(filter);
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer),
        )
        .try_init()
        .is_ok();
    if installed {
        let _ = INSTALLED.set(Installed {
            handle,
            directive: std::sync::Mutex::new(directive),
            fixed,
        });
    }
    LogGuard(guard)
}

/// Makes `directive` (the merged configuration's `log.level`) the filter, unless `AUGUR_LOG` or
/// `--log-level` chose the filter at start-up.
pub fn apply_config_level(directive: &str) -> LevelChange {
    let Some(installed) = INSTALLED.get() else {
        return LevelChange::NotInstalled;
    };
    if installed.fixed {
        return LevelChange::Fixed;
    }
    let mut current = installed
        .directive
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if *current == directive {
        return LevelChange::Unchanged;
    }
    let filter = match parse_filter(directive) {
        Ok(filter) => filter,
        Err(e) => return LevelChange::Invalid(e),
    };
    match installed.handle.reload(filter) {
        Ok(()) => {
            directive.clone_into(&mut current);
            LevelChange::Applied
        }
        Err(e) => LevelChange::Invalid(e.to_string()),
    }
}
