//! Logging with `tracing`: to stderr (stdout carries the protocol) and, optionally, to a file.
//!
//! The filter comes from `AUGUR_LOG` if set, else from the command line or the `[log]` section of
//! the configuration, else `info`.

use std::path::PathBuf;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

/// Where and how much to log.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// A `tracing` filter directive (`info`, `augur=debug`, ...).
    pub level: Option<String>,
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

/// Installs the global subscriber. Calling it twice is harmless: the second call does nothing.
pub fn init(options: &LogOptions) -> LogGuard {
    let directive = std::env::var("AUGUR_LOG")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| options.level.clone())
        .unwrap_or_else(|| "info".into());
    let filter = EnvFilter::try_new(&directive).unwrap_or_else(|e| {
        eprintln!("augur: ignoring invalid log filter {directive:?}: {e}");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false);
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
    match file {
        Some((writer, guard)) => {
            let _ = builder.with_writer(std::io::stderr.and(writer)).try_init();
            LogGuard(Some(guard))
        }
        None => {
            let _ = builder.with_writer(std::io::stderr).try_init();
            LogGuard(None)
        }
    }
}
