//! The `augur` binary: see [`augur::cli`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // One TLS crypto provider for every HTTPS client in the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    augur::cli::run(augur::cli::Cli::parse())
}
