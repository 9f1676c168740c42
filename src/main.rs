//! The `augur` binary: see [`augur::cli`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // SAFETY: nothing has used tree-sitter yet.
    unsafe { augur::alloc::use_mimalloc_for_tree_sitter() };
    // One TLS crypto provider for every HTTPS client in the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    augur::cli::run(augur::cli::Cli::parse())
}
