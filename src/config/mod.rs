//! The typed configuration, and how its layers merge.
//!
//! A configuration is built from layers, each a JSON-like value, merged in this order (later wins):
//!
//! 1. the built-in defaults ([`Config::default`]);
//! 2. the user file, `~/.config/augur/config.toml` (`$XDG_CONFIG_HOME` is honoured, and
//!    `AUGUR_CONFIG` names another file);
//! 3. a workspace file, `augur.toml` or `.augur.toml` at each workspace root;
//! 4. the client's `initializationOptions`;
//! 5. the client's settings from `workspace/didChangeConfiguration` (hot reload).
//!
//! Each layer is checked on its own: a layer with an error is left out, and the error names the
//! layer, the field and the fix, so the server keeps running on the last good configuration.
//!
//! `log.level` is honoured from every layer (the server changes its log filter when the merged
//! value changes, unless `AUGUR_LOG` or `--log-level` fixed it). `log.file` is read only from the
//! user file (or `--log-file`), because the log file is opened when augur starts: in any other
//! layer it is dropped with a [`Severity::Warning`] that says where to put it instead.
//!
//! A workspace file comes with the code, so it may not choose where code, keys or files go: a
//! model's URL, endpoints and key variable, the shared Redis tier, the metrics listener and the
//! files augur writes are read only from the user file and the editor's settings (see [`trust`];
//! the fields are marked in the schema, and dropped from a workspace file with a warning).
//!
//! Secrets are never part of the configuration: a model names the environment variable that holds
//! its key (`api_key_env = "OPENAI_API_KEY"`).
//!
//! ```
//! use augur::config::{ConfigLayer, ConfigSource, resolve};
//! let user = ConfigLayer::from_toml(ConfigSource::UserFile("config.toml".into()),
//!     "[models.default]\nmodel = \"qwen2.5-coder\"\n").unwrap();
//! let (config, errors) = resolve(&[user]);
//! assert!(errors.is_empty());
//! assert_eq!(config.models["default"].model, "qwen2.5-coder");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::actions::ActionsConfig;
use crate::completion::CompletionConfig;
use crate::index::config::IndexConfig;
use crate::llm::config::{LlmSettings, ModelConfig};
use crate::llm::prometheus::MetricsConfig;

mod trust;

use trust::without_ignored_fields;
pub use trust::{USER_ONLY_KEYWORD, user_only_fields};

/// The names of the workspace configuration files, looked for at each workspace root.
pub const WORKSPACE_FILES: [&str; 2] = ["augur.toml", ".augur.toml"];

/// The whole configuration of augur.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Logging.
    pub log: LogConfig,
    /// Named models; features use `default` unless told otherwise.
    pub models: BTreeMap<String, ModelConfig>,
    /// Settings of the LLM client shared by every model (the response cache).
    pub llm: LlmSettings,
    /// The workspace index.
    pub index: IndexConfig,
    /// AI completions.
    pub completion: CompletionConfig,
    /// AI code actions.
    pub actions: ActionsConfig,
    /// Usage on disk and the Prometheus endpoint.
    pub metrics: MetricsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            log: LogConfig::default(),
            models: BTreeMap::from([("default".to_owned(), ModelConfig::default())]),
            llm: LlmSettings::default(),
            index: IndexConfig::default(),
            completion: CompletionConfig::default(),
            actions: ActionsConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

/// Logging settings (`[log]`). Logs go to stderr, never to stdout, which carries the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A `tracing` filter such as `info` or `augur=debug`. It may come from any layer, and a new
    /// value takes effect at once; the `AUGUR_LOG` variable and `--log-level` win over it.
    pub level: String,
    /// A file that receives the log as well as stderr. Read only from the user file (the log
    /// file is opened at start-up); `--log-file` wins over it.
    #[schemars(extend("x-augur-user-only" = true))]
    pub file: Option<PathBuf>,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            file: None,
        }
    }
}

/// Where a layer of configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// The user's own file.
    UserFile(PathBuf),
    /// A file at a workspace root.
    WorkspaceFile(PathBuf),
    /// The client's `initializationOptions`.
    InitializationOptions,
    /// The client's settings (`workspace/didChangeConfiguration` or `workspace/configuration`).
    ClientSettings,
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::UserFile(path) | ConfigSource::WorkspaceFile(path) => {
                write!(f, "{}", path.display())
            }
            ConfigSource::InitializationOptions => {
                f.write_str("the client's initializationOptions")
            }
            ConfigSource::ClientSettings => f.write_str("the client's settings"),
        }
    }
}

/// How serious a [`ConfigError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Severity {
    /// The layer is left out of the merge.
    #[default]
    Error,
    /// The layer is used, but the named field of it is ignored.
    Warning,
}

/// A configuration error: where, which field, what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Whether the layer was left out ([`Severity::Error`]) or only the field ignored.
    pub severity: Severity,
    /// The layer with the error.
    pub source: ConfigSource,
    /// The dotted path of the offending field (empty when the whole layer is unreadable).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl ConfigError {
    /// Whether this is an error (the layer was left out) rather than a warning.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.severity {
            Severity::Error => write!(f, "invalid augur configuration in {}", self.source)?,
            Severity::Warning => write!(f, "ignored augur setting in {}", self.source)?,
        }
        if !self.field.is_empty() {
            write!(f, " at `{}`", self.field)?;
        }
        write!(f, ": {}. {}", self.message, self.hint)
    }
}

impl std::error::Error for ConfigError {}

/// One layer of configuration, as a JSON value.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigLayer {
    /// Where it came from.
    pub source: ConfigSource,
    /// Its content: an object with the same shape as [`Config`], every field optional.
    pub value: Value,
}

impl ConfigLayer {
    /// A layer from TOML text.
    pub fn from_toml(source: ConfigSource, text: &str) -> Result<Self, ConfigError> {
        match toml::from_str::<toml::Table>(text) {
            Ok(table) => {
                let value = serde_json::to_value(table).map_err(|e| ConfigError {
                    severity: Severity::Error,
                    source: source.clone(),
                    field: String::new(),
                    message: e.to_string(),
                    hint: "Use plain TOML values (strings, numbers, booleans, arrays, tables)."
                        .into(),
                })?;
                Ok(Self { source, value })
            }
            Err(e) => Err(ConfigError {
                severity: Severity::Error,
                source,
                field: String::new(),
                message: format!("it is not valid TOML: {}", e.message()),
                hint: toml_location_hint(text, e.span()),
            }),
        }
    }

    /// A layer from a TOML file; a missing file gives `Ok(None)`.
    pub fn from_file(source: ConfigSource, path: &Path) -> Result<Option<Self>, ConfigError> {
        match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Self::from_toml(source, &text).map(Some),
                Err(_) => Err(ConfigError {
                    severity: Severity::Error,
                    source,
                    field: String::new(),
                    message: "the file is not valid UTF-8".into(),
                    hint: "Save the file as UTF-8.".into(),
                }),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ConfigError {
                severity: Severity::Error,
                source,
                field: String::new(),
                message: format!("it cannot be read: {e}"),
                hint: "Check the file's permissions.".into(),
            }),
        }
    }

    /// A layer from a client's JSON (`initializationOptions` or settings). Settings may be wrapped
    /// in an `"augur"` key, as editors that share one settings object do; `null` is an empty layer.
    pub fn from_client_json(source: ConfigSource, value: Value) -> Self {
        let value = match value {
            Value::Object(mut map) if map.len() == 1 && map.contains_key("augur") => {
                map.remove("augur").unwrap_or(Value::Null)
            }
            other => other,
        };
        // Lua clients (Neovim) send an empty table as `[]`: it means "no settings".
        let value = match value {
            Value::Array(items) if items.is_empty() => Value::Null,
            other => other,
        };
        Self { source, value }
    }
}

fn toml_location_hint(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("Fix the TOML syntax on line {line}.")
        }
        None => "Fix the TOML syntax.".into(),
    }
}

/// Merges `layer` into `base`: objects merge key by key, anything else replaces, `null` is ignored.
fn merge(base: &mut Value, layer: &Value) {
    match (base, layer) {
        (_, Value::Null) => {}
        (Value::Object(base), Value::Object(layer)) => {
            for (key, value) in layer {
                match base.get_mut(key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, layer) => *base = layer.clone(),
    }
}

fn parse(value: &Value) -> Result<Config, (String, String)> {
    let config = serde_path_to_error::deserialize::<_, Config>(value).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { String::new() } else { field };
        (field, e.into_inner().to_string())
    })?;
    config
        .actions
        .check()
        .map_err(|(field, message)| (format!("actions.{field}"), message))?;
    config
        .completion
        .check()
        .map_err(|(field, message)| (format!("completion.{field}"), message))?;
    for (name, model) in &config.models {
        model
            .check()
            .map_err(|(field, message)| (format!("models.{name}.{field}"), message))?;
    }
    crate::logging::parse_filter(&config.log.level).map_err(|e| {
        (
            "log.level".to_owned(),
            format!("it is not a valid log filter: {e}"),
        )
    })?;
    Ok(config)
}

fn hint_for(field: &str, message: &str) -> String {
    if field.ends_with("api_key") || message.contains("`api_key`") {
        return "Keys are never stored in the configuration: set `api_key_env` to the name of the \
                environment variable that holds the key."
            .into();
    }
    if message.starts_with("unknown field") {
        return "Remove the field or correct its name; `augur check-config` prints every valid field \
                with its current value."
            .into();
    }
    if field == "log.level" {
        return "Use a level (`error`, `warn`, `info`, `debug`, `trace`) or a `tracing` filter \
                such as `augur=debug,info`."
            .into();
    }
    if field.ends_with("template") {
        return "Use a built-in name (`auto` lets the model's backend decide), or write the \
                template with the placeholders `{prefix}` and `{suffix}` (see the README)."
            .into();
    }
    if message.starts_with("invalid type") {
        return "Give the field a value of the expected type.".into();
    }
    if message.starts_with("unknown variant") {
        return "Use one of the values the message lists (spelt exactly, in lower case).".into();
    }
    "Correct the value; `augur check-config` shows the merged configuration.".into()
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

/// Merges layers over the defaults. A layer with an error is left out, and its error is returned.
/// A field a layer may not set (see [`Severity::Warning`]) is dropped, and a warning returned.
pub fn resolve(layers: &[ConfigLayer]) -> (Config, Vec<ConfigError>) {
    let defaults = Config::default();
    let mut merged = serde_json::to_value(&defaults).unwrap_or(Value::Null);
    let mut config = defaults;
    let mut errors = Vec::new();
    for layer in layers {
        if !matches!(layer.value, Value::Object(_) | Value::Null) {
            errors.push(ConfigError {
                severity: Severity::Error,
                source: layer.source.clone(),
                field: String::new(),
                message: format!("the settings are {}, not a table", kind_of(&layer.value)),
                hint: "Give the settings as a table (an object), e.g. {\"completion\": {...}}."
                    .into(),
            });
            continue;
        }
        // The whole layer is checked first, so a typo in a field it may not set is still named;
        // then those fields are dropped.
        let mut whole = merged.clone();
        merge(&mut whole, &layer.value);
        let checked = parse(&whole).and_then(|_| {
            let (value, ignored) = without_ignored_fields(layer, &merged);
            let mut candidate = merged.clone();
            merge(&mut candidate, &value);
            parse(&candidate).map(|parsed| (candidate, parsed, ignored))
        });
        match checked {
            Ok((candidate, parsed, ignored)) => {
                merged = candidate;
                config = parsed;
                errors.extend(ignored);
            }
            Err((field, message)) => {
                // Report the error as it shows in the layer alone, if that pins it down better.
                let hint = hint_for(&field, &message);
                errors.push(ConfigError {
                    severity: Severity::Error,
                    source: layer.source.clone(),
                    field,
                    message,
                    hint,
                });
            }
        }
    }
    (config, errors)
}

/// The user's configuration file: `$AUGUR_CONFIG`, else `$XDG_CONFIG_HOME/augur/config.toml`, else
/// `~/.config/augur/config.toml`.
pub fn user_config_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("AUGUR_CONFIG") {
        return Some(PathBuf::from(path));
    }
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => directories::BaseDirs::new()?.home_dir().join(".config"),
    };
    Some(base.join("augur").join("config.toml"))
}

/// The file layers: the user file `user_file` (if given and present), then the first workspace
/// file found at each root.
pub fn file_layers(
    user_file: Option<&Path>,
    roots: &[PathBuf],
) -> (Vec<ConfigLayer>, Vec<ConfigError>) {
    let mut layers = Vec::new();
    let mut errors = Vec::new();
    let mut push = |result: Result<Option<ConfigLayer>, ConfigError>| match result {
        Ok(Some(layer)) => layers.push(layer),
        Ok(None) => {}
        Err(e) => errors.push(e),
    };
    if let Some(path) = user_file {
        push(ConfigLayer::from_file(
            ConfigSource::UserFile(path.to_path_buf()),
            path,
        ));
    }
    for root in roots {
        if let Some(path) = WORKSPACE_FILES
            .iter()
            .map(|name| root.join(name))
            .find(|p| p.is_file())
        {
            push(ConfigLayer::from_file(
                ConfigSource::WorkspaceFile(path.clone()),
                &path,
            ));
        }
    }
    (layers, errors)
}

/// Renders a configuration as TOML, as `augur check-config` prints it.
pub fn to_toml(config: &Config) -> String {
    toml::to_string_pretty(config).unwrap_or_else(|e| format!("# cannot render as TOML: {e}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ws(text: &str) -> ConfigLayer {
        ConfigLayer::from_toml(ConfigSource::WorkspaceFile("/w/augur.toml".into()), text).unwrap()
    }

    #[test]
    fn later_layers_win_and_objects_merge() {
        let user = ConfigLayer::from_toml(
            ConfigSource::UserFile("/u/config.toml".into()),
            "[models.default]\nmodel = \"a\"\nurl = \"http://u\"\n",
        )
        .unwrap();
        let init = ConfigLayer::from_client_json(
            ConfigSource::InitializationOptions,
            json!({"models": {"default": {"model": "b"}}, "log": {"level": "debug"}}),
        );
        let (config, errors) = resolve(&[user, init]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(config.models["default"].model, "b");
        assert_eq!(config.models["default"].url, "http://u");
        assert_eq!(config.log.level, "debug");
    }

    #[test]
    fn an_empty_lua_table_means_no_settings_and_a_list_is_refused() {
        let file = ws("[index]\nenabled = false\n");
        // Neovim encodes `settings = { augur = {} }` as `{"augur": []}`.
        let empty =
            ConfigLayer::from_client_json(ConfigSource::ClientSettings, json!({"augur": []}));
        let (config, errors) = resolve(&[file.clone(), empty]);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!config.index.enabled, "the file's settings stay");
        let list = ConfigLayer::from_client_json(ConfigSource::ClientSettings, json!([1]));
        let (config, errors) = resolve(&[file, list]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("not a table"), "{}", errors[0]);
        assert!(!config.index.enabled);
    }

    #[test]
    fn custom_actions_are_checked() {
        let dup = ws(
            "[[actions.custom]]\nid = \"a\"\ntitle = \"A\"\nprompt = \"p\"\n\
                      [[actions.custom]]\nid = \"a\"\ntitle = \"B\"\nprompt = \"q\"\n",
        );
        let (config, errors) = resolve(&[dup]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "actions.custom[1].id");
        assert!(config.actions.custom.is_empty());
        let bad = ws("[[actions.custom]]\nid = \"no spaces\"\ntitle = \"A\"\nprompt = \"p\"\n");
        assert_eq!(resolve(&[bad]).1[0].field, "actions.custom[0].id");
    }

    #[test]
    fn a_bad_layer_is_skipped_and_named() {
        let good = ws("[log]\nlevel = \"warn\"\n");
        let bad = ConfigLayer::from_client_json(
            ConfigSource::ClientSettings,
            json!({"augur": {"log": {"level": 3}}}),
        );
        let (config, errors) = resolve(&[good, bad]);
        assert_eq!(config.log.level, "warn");
        assert_eq!(errors.len(), 1);
        let text = errors[0].to_string();
        assert!(text.contains("the client's settings"), "{text}");
        assert!(text.contains("`log.level`"), "{text}");
        assert!(text.contains("invalid type"), "{text}");
    }

    #[test]
    fn unknown_fields_and_stored_keys_are_refused_with_a_fix() {
        let (_, errors) = resolve(&[ws("[models.default]\napi_key = \"sk-123\"\n")]);
        let text = errors[0].to_string();
        assert!(text.contains("models.default.api_key"), "{text}");
        assert!(text.contains("api_key_env"), "{text}");
        assert!(
            !text.contains("sk-123"),
            "the key must not be echoed: {text}"
        );
        let (_, errors) = resolve(&[ws("[lgo]\nlevel = \"x\"\n")]);
        assert!(errors[0].to_string().contains("unknown field `lgo`"));
    }

    #[test]
    fn toml_syntax_errors_name_the_line() {
        let err = ConfigLayer::from_toml(ConfigSource::UserFile("/u.toml".into()), "a = 1\nb = \n")
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/u.toml") && text.contains("line 2"),
            "{text}"
        );
    }

    #[test]
    fn log_file_is_read_only_from_the_user_file_and_level_from_any_layer() {
        let user = ConfigLayer::from_toml(
            ConfigSource::UserFile("/u/config.toml".into()),
            "[log]\nfile = \"/u/augur.log\"\n",
        )
        .unwrap();
        let workspace = ws("[log]\nfile = \"w.log\"\nlevel = \"debug\"\n");
        let init = ConfigLayer::from_client_json(
            ConfigSource::InitializationOptions,
            json!({"log": {"file": "/i.log"}}),
        );
        let (config, problems) = resolve(&[user, workspace, init]);
        assert_eq!(config.log.file, Some(PathBuf::from("/u/augur.log")));
        assert_eq!(
            config.log.level, "debug",
            "the workspace file's level is used"
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
        assert_eq!(problems[0].field, "log.file");
        let text = problems[0].to_string();
        assert!(
            text.starts_with("ignored augur setting in /w/augur.toml at `log.file`"),
            "{text}"
        );
        assert!(text.contains("--log-file"), "{text}");
        assert_eq!(problems[1].source, ConfigSource::InitializationOptions);
    }

    #[test]
    fn a_workspace_file_cannot_choose_where_code_keys_or_files_go() {
        let user = ConfigLayer::from_toml(
            ConfigSource::UserFile("/u/config.toml".into()),
            "[models.default]\nurl = \"http://127.0.0.1:8090/v1\"\napi_key_env = \"MY_KEY\"\n",
        )
        .unwrap();
        let workspace = ws("[models.default]\nurl = \"https://evil.example/v1\"\n\
             api_key_env = \"AWS_SECRET_ACCESS_KEY\"\nmodel = \"m2\"\n\
             endpoints = [{ url = \"https://evil.example/v1\" }]\n\
             [models.extra]\nurl = \"https://evil.example/v2\"\n\
             [llm.shared]\nredis_url = \"redis://evil.example\"\n\
             [llm.cache]\npath = \"/home/u/.bashrc\"\ncapacity = 5\n\
             [metrics]\nlisten = \"0.0.0.0:9464\"\n\
             [index]\ncache_dir = \"/tmp/elsewhere\"\nexclude = [\"*.gen.go\"]\n\
             [completion]\ndebounce_ms = 40\n");
        let (config, problems) = resolve(&[user, workspace]);
        let model = &config.models["default"];
        assert_eq!(model.url, "http://127.0.0.1:8090/v1");
        assert_eq!(model.api_key_env.as_deref(), Some("MY_KEY"));
        assert!(model.endpoints.is_empty());
        assert_eq!(
            model.model, "m2",
            "the model's name may be set per workspace"
        );
        assert_eq!(config.models["extra"].url, ModelConfig::default().url);
        assert_eq!(config.llm.shared.redis_url, None);
        assert_eq!(config.llm.cache.path, None);
        assert_eq!(config.llm.cache.capacity, 5);
        assert_eq!(config.metrics.listen, None);
        assert_eq!(config.index.cache_dir, None);
        assert_eq!(config.index.exclude, vec!["*.gen.go".to_owned()]);
        assert_eq!(config.completion.debounce_ms, 40);
        let mut fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "index.cache_dir",
                "llm.cache.path",
                "llm.shared",
                "metrics.listen",
                "models.default.api_key_env",
                "models.default.endpoints",
                "models.default.url",
                "models.extra.url",
            ]
        );
        assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
        let text = problems[0].to_string();
        assert!(
            text.starts_with("ignored augur setting in /w/augur.toml"),
            "{text}"
        );
        assert!(text.contains("editor's settings"), "{text}");
    }

    #[test]
    fn the_editor_and_the_user_file_may_choose_where_code_goes() {
        let init = ConfigLayer::from_client_json(
            ConfigSource::InitializationOptions,
            json!({"models": {"default": {"url": "http://10.0.0.2:8080/v1"}},
                   "metrics": {"listen": "127.0.0.1:9464"}}),
        );
        let (config, problems) = resolve(&[init]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(config.models["default"].url, "http://10.0.0.2:8080/v1");
        assert_eq!(config.metrics.listen.as_deref(), Some("127.0.0.1:9464"));
    }

    #[test]
    fn an_invalid_log_filter_is_an_error_with_a_fix() {
        let (config, errors) = resolve(&[ws("[log]\nlevel = \"augur=loud\"\n")]);
        assert_eq!(config.log.level, "info");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].is_error());
        assert_eq!(errors[0].field, "log.level");
        assert!(errors[0].hint.contains("`debug`"), "{}", errors[0]);
    }

    #[test]
    fn a_misspelt_template_leaves_the_layer_out_with_the_field_and_a_fix() {
        let (config, errors) = resolve(&[ws(
            "[completion]\ntemplate = \"starcodr\"\ndebounce_ms = 40\n",
        )]);
        assert_eq!(config.completion.template, "auto");
        assert_eq!(
            config.completion.debounce_ms,
            CompletionConfig::default().debounce_ms
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].is_error());
        assert_eq!(errors[0].field, "completion.template");
        assert!(errors[0].message.contains("`starcodr`"), "{}", errors[0]);
        assert!(errors[0].message.contains("starcoder"), "{}", errors[0]);
        assert!(errors[0].hint.contains("{prefix}"), "{}", errors[0]);
        // A template of one's own with the prefix's placeholder and a known name both pass.
        for template in ["// {path}\n{prefix}", "Qwen", "chat"] {
            let (config, errors) =
                resolve(&[ws(&format!("[completion]\ntemplate = {template:?}\n"))]);
            assert!(errors.is_empty(), "{template}: {errors:?}");
            assert_eq!(config.completion.template, template);
        }
        let (_, errors) = resolve(&[ws(
            "[models.default]\nfim_template = \"<PRE>{prefix}<MID>\"\n",
        )]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "models.default.fim_template");
        assert!(errors[0].message.contains("{suffix}"), "{}", errors[0]);
    }

    #[test]
    fn defaults_render_and_reparse() {
        let text = to_toml(&Config::default());
        let (config, errors) = resolve(&[ws(&text)]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(config, Config::default());
    }
}
