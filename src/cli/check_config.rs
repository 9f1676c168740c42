//! `augur check-config [PATH]`: validates the configuration a server started here would use,
//! prints every error and warning with its fix to stderr and the merged result as TOML to stdout,
//! and exits non-zero if there is an error (a warning, such as an ignored field, is not one).

use std::path::Path;
use std::process::ExitCode;

use crate::config::{self, ConfigLayer, ConfigSource};

/// Runs the check.
pub fn run(path: Option<&Path>) -> ExitCode {
    let (mut layers, mut errors) = config::file_layers(config::user_config_path().as_deref(), &[]);
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
    for problem in &errors {
        eprintln!("augur: {problem}");
    }
    if errors.iter().any(config::ConfigError::is_error) {
        ExitCode::FAILURE
    } else {
        eprintln!("augur: configuration OK");
        ExitCode::SUCCESS
    }
}
