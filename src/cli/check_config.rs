//! `augur check-config [PATH]`: validates the configuration a server started here would use,
//! prints every error with its fix to stderr and the merged result as TOML to stdout, and exits
//! non-zero if anything is wrong.

use std::path::Path;
use std::process::ExitCode;

use crate::config::{self, ConfigLayer, ConfigSource};

/// Runs the check.
pub fn run(path: Option<&Path>) -> ExitCode {
    let (mut layers, mut errors) = config::file_layers(&[]);
    let workspace = match path {
        Some(path) => {
            if !path.is_file() {
                eprintln!("augur: {} does not exist or is not a file", path.display());
                return ExitCode::FAILURE;
            }
            Some(path.to_path_buf())
        }
        None => config::WORKSPACE_FILES
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .map(Path::to_path_buf),
    };
    if let Some(path) = &workspace {
        match ConfigLayer::from_file(ConfigSource::WorkspaceFile(path.clone()), path) {
            Ok(layer) => layers.extend(layer),
            Err(e) => errors.push(e),
        }
    }
    let (config, resolve_errors) = config::resolve(&layers);
    errors.extend(resolve_errors);
    for layer in &layers {
        eprintln!("augur: read {}", layer.source);
    }
    print!("{}", config::to_toml(&config));
    if errors.is_empty() {
        eprintln!("augur: configuration OK");
        ExitCode::SUCCESS
    } else {
        for error in &errors {
            eprintln!("augur: {error}");
        }
        ExitCode::FAILURE
    }
}
