//! What starts augur in Zed and what it is told, decided from the user's `lsp.augur` settings.
//!
//! This module is plain Rust with no part of Zed's API, so its unit tests run on the host
//! (`cargo test` in `editors/zed`) although the extension itself only runs inside Zed as
//! WebAssembly. `lib.rs` turns Zed's types into these and back.
//!
//! ```text
//! "lsp": {
//!   "augur": {
//!     "binary": { "path": "~/bin/augur", "arguments": ["serve"], "env": { "AUGUR_LOG": "debug" } },
//!     "initialization_options": { "completion": { "debounce_ms": 60 } },
//!     "settings": { "models": { "default": { "model": "qwen2.5-coder:1.5b" } } }
//!   }
//! }
//! ```

use serde_json::{Map, Value};

/// The name of the binary looked up on the `PATH` of the project's shell.
pub const BINARY_NAME: &str = "augur";

/// The arguments augur is started with unless the user gives their own.
pub const DEFAULT_ARGS: [&str; 2] = ["serve", "--stdio"];

/// The configuration section augur asks for with `workspace/configuration`.
pub const SETTINGS_SECTION: &str = "augur";

/// The user's `lsp.augur.binary` settings.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BinarySettings {
    /// The binary to run instead of the `augur` found on the `PATH`.
    pub path: Option<String>,
    /// The arguments to run it with instead of [`DEFAULT_ARGS`].
    pub arguments: Option<Vec<String>>,
    /// Environment variables set on top of the shell's.
    pub env: Vec<(String, String)>,
}

/// How Zed starts augur: the program, its arguments and its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The program's path.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its environment: the project shell's, with the user's variables on top.
    pub env: Vec<(String, String)>,
}

/// Chooses how to start augur: the binary the user configured (a leading `~/` is the home
/// folder, a relative path is taken from the project's root), else `augur` as `which` finds it
/// on the project shell's `PATH`, else an error that says how to fix it.
///
/// The environment is the project shell's (so the variables that hold model keys reach augur),
/// with the user's `binary.env` on top.
pub fn launch(
    binary: &BinarySettings,
    worktree_root: &str,
    which: impl FnOnce(&str) -> Option<String>,
    shell_env: Vec<(String, String)>,
) -> Result<Launch, String> {
    let command = match binary.path.as_deref() {
        Some(path) if path.trim().is_empty() => {
            return Err(
                "augur: `lsp.augur.binary.path` is empty in Zed's settings; set it to the augur \
                 binary's full path, or remove it to use the `augur` on your PATH."
                    .into(),
            );
        }
        Some(path) => resolve_path(path.trim(), worktree_root, &shell_env)?,
        None => which(BINARY_NAME).ok_or_else(not_found)?,
    };
    let args = match &binary.arguments {
        Some(arguments) => arguments.clone(),
        None => DEFAULT_ARGS.iter().map(|a| (*a).to_owned()).collect(),
    };
    Ok(Launch {
        command,
        args,
        env: merge_env(shell_env, &binary.env),
    })
}

/// The message shown when no binary is configured and none is on the `PATH`.
fn not_found() -> String {
    format!(
        "augur: `{BINARY_NAME}` is not on the PATH of this project's shell. Install it \
         (`cargo install --path .` in augur's source folder) or set its full path in Zed's \
         settings: \"lsp\": {{ \"augur\": {{ \"binary\": {{ \"path\": \"/path/to/augur\" }} }} }}."
    )
}

/// A configured path as Zed must run it: `~/x` under the shell's `HOME`, a relative path under
/// the project's root, anything else as it is.
fn resolve_path(
    path: &str,
    worktree_root: &str,
    shell_env: &[(String, String)],
) -> Result<String, String> {
    if let Some(rest) = path.strip_prefix("~/") {
        let home = shell_env
            .iter()
            .find(|(name, _)| name == "HOME")
            .map(|(_, value)| value.as_str())
            .filter(|home| !home.is_empty())
            .ok_or_else(|| {
                format!(
                    "augur: `lsp.augur.binary.path` is {path:?}, but the project's shell has no \
                     HOME to expand `~` with; write the full path."
                )
            })?;
        return Ok(join(home, rest));
    }
    if is_absolute(path) {
        return Ok(path.to_owned());
    }
    Ok(join(worktree_root, path))
}

/// Whether a path is absolute on Unix (`/x`) or Windows (`C:\x`, `C:/x`, `\\server\x`).
fn is_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    path.starts_with('/')
        || path.starts_with("\\\\")
        || (bytes.len() >= 3
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && (bytes[2] == b'\\' || bytes[2] == b'/'))
}

/// `base` and `rest` with one separator between them.
fn join(base: &str, rest: &str) -> String {
    let separator = if base.contains('\\') && !base.contains('/') {
        '\\'
    } else {
        '/'
    };
    let base = base.trim_end_matches(['/', '\\']);
    if base.is_empty() {
        return format!("{separator}{rest}");
    }
    format!("{base}{separator}{rest}")
}

/// The shell's environment with the user's variables replacing or added to it, in order.
fn merge_env(
    mut env: Vec<(String, String)>,
    overrides: &[(String, String)],
) -> Vec<(String, String)> {
    for (name, value) in overrides {
        match env.iter_mut().find(|(existing, _)| existing == name) {
            Some(entry) => entry.1 = value.clone(),
            None => env.push((name.clone(), value.clone())),
        }
    }
    env
}

/// The `initializationOptions` augur starts with: `lsp.augur.initialization_options` as the user
/// wrote it (augur reads the same keys as its `augur.toml`, bare or under `augur`), or none.
pub fn initialization_options(options: Option<Value>) -> Result<Option<Value>, String> {
    match options {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(Value::Object(map))),
        Some(other) => Err(format!(
            "augur: `lsp.augur.initialization_options` in Zed's settings must be an object of \
             augur settings (as in augur.toml), not {}.",
            kind(&other)
        )),
    }
}

/// What Zed answers augur's `workspace/configuration` request for section `augur` with, and sends
/// in `workspace/didChangeConfiguration`: `lsp.augur.settings` under the `augur` key (settings
/// already written under `augur` are kept as they are).
pub fn workspace_configuration(settings: Option<Value>) -> Result<Value, String> {
    let inner = match settings {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::Object(mut map)) => {
            if map.len() == 1 && map.contains_key(SETTINGS_SECTION) {
                map.remove(SETTINGS_SECTION).unwrap_or(Value::Null)
            } else {
                Value::Object(map)
            }
        }
        Some(other) => {
            return Err(format!(
                "augur: `lsp.augur.settings` in Zed's settings must be an object of augur \
                 settings (as in augur.toml), not {}.",
                kind(&other)
            ));
        }
    };
    let mut wrapped = Map::new();
    wrapped.insert(SETTINGS_SECTION.to_owned(), inner);
    Ok(Value::Object(wrapped))
}

/// A JSON value's kind, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn on_path(name: &str) -> Option<String> {
        (name == "augur").then(|| "/usr/local/bin/augur".to_owned())
    }

    #[test]
    fn without_settings_the_augur_on_the_path_serves_over_stdio() {
        let launch = launch(
            &BinarySettings::default(),
            "/ws",
            on_path,
            env(&[("PATH", "/usr/bin")]),
        )
        .unwrap();
        assert_eq!(launch.command, "/usr/local/bin/augur");
        assert_eq!(launch.args, ["serve", "--stdio"]);
        assert_eq!(launch.env, env(&[("PATH", "/usr/bin")]));
    }

    #[test]
    fn a_configured_path_wins_over_the_path_and_is_not_looked_up() {
        let binary = BinarySettings {
            path: Some(" /opt/augur/bin/augur ".into()),
            ..Default::default()
        };
        let launch = launch(
            &binary,
            "/ws",
            |_| panic!("which must not be asked"),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(launch.command, "/opt/augur/bin/augur");
        assert_eq!(launch.args, DEFAULT_ARGS);
    }

    #[test]
    fn a_home_path_expands_with_the_shells_home() {
        let binary = BinarySettings {
            path: Some("~/.cargo/bin/augur".into()),
            ..Default::default()
        };
        let launch = launch(&binary, "/ws", |_| None, env(&[("HOME", "/home/ada/")])).unwrap();
        assert_eq!(launch.command, "/home/ada/.cargo/bin/augur");
        let error = super::launch(&binary, "/ws", |_| None, Vec::new()).unwrap_err();
        assert!(error.contains("no HOME"), "{error}");
    }

    #[test]
    fn a_relative_path_is_taken_from_the_project_root() {
        let binary = BinarySettings {
            path: Some("target/release/augur".into()),
            ..Default::default()
        };
        let launch = launch(&binary, "/home/ada/augur/", |_| None, Vec::new()).unwrap();
        assert_eq!(launch.command, "/home/ada/augur/target/release/augur");
        let windows = super::launch(&binary, "C:\\src\\augur", |_| None, Vec::new()).unwrap();
        assert_eq!(windows.command, "C:\\src\\augur\\target/release/augur");
        let absolute = BinarySettings {
            path: Some("D:\\tools\\augur.exe".into()),
            ..Default::default()
        };
        let launch = super::launch(&absolute, "/ws", |_| None, Vec::new()).unwrap();
        assert_eq!(launch.command, "D:\\tools\\augur.exe");
    }

    #[test]
    fn no_binary_anywhere_is_an_error_that_says_how_to_fix_it() {
        let error = launch(&BinarySettings::default(), "/ws", |_| None, Vec::new()).unwrap_err();
        assert!(error.contains("not on the PATH"), "{error}");
        assert!(error.contains("cargo install"), "{error}");
        assert!(error.contains("\"binary\": { \"path\""), "{error}");
    }

    #[test]
    fn an_empty_configured_path_is_an_error_not_a_lookup() {
        let binary = BinarySettings {
            path: Some("  ".into()),
            ..Default::default()
        };
        let error = launch(&binary, "/ws", on_path, Vec::new()).unwrap_err();
        assert!(error.contains("binary.path` is empty"), "{error}");
    }

    #[test]
    fn user_arguments_replace_the_defaults_and_user_env_goes_on_top_of_the_shells() {
        let binary = BinarySettings {
            path: None,
            arguments: Some(vec!["serve".into()]),
            env: env(&[("AUGUR_LOG", "debug"), ("PATH", "/opt/bin")]),
        };
        let shell = env(&[("PATH", "/usr/bin"), ("OPENAI_API_KEY", "k")]);
        let launch = launch(&binary, "/ws", on_path, shell).unwrap();
        assert_eq!(launch.args, ["serve"]);
        assert_eq!(
            launch.env,
            env(&[
                ("PATH", "/opt/bin"),
                ("OPENAI_API_KEY", "k"),
                ("AUGUR_LOG", "debug")
            ])
        );
    }

    #[test]
    fn initialization_options_pass_through_and_refuse_non_objects() {
        assert_eq!(initialization_options(None).unwrap(), None);
        assert_eq!(initialization_options(Some(Value::Null)).unwrap(), None);
        let options = json!({"completion": {"debounce_ms": 60}});
        assert_eq!(
            initialization_options(Some(options.clone())).unwrap(),
            Some(options)
        );
        let error = initialization_options(Some(json!("fast"))).unwrap_err();
        assert!(error.contains("must be an object"), "{error}");
        assert!(error.contains("a string"), "{error}");
    }

    #[test]
    fn workspace_configuration_puts_the_settings_under_augur_once() {
        assert_eq!(workspace_configuration(None).unwrap(), json!({"augur": {}}));
        let bare = json!({"models": {"default": {"model": "m"}}});
        assert_eq!(
            workspace_configuration(Some(bare.clone())).unwrap(),
            json!({"augur": bare})
        );
        let wrapped = json!({"augur": {"index": {"enabled": false}}});
        assert_eq!(
            workspace_configuration(Some(wrapped.clone())).unwrap(),
            wrapped
        );
        let error = workspace_configuration(Some(json!([1, 2]))).unwrap_err();
        assert!(error.contains("not a list"), "{error}");
    }
}
