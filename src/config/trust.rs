//! Which layers may set which fields.
//!
//! A workspace file (`augur.toml` at a workspace root) comes with the code: a repository someone
//! clones decides what it says. It may tune how augur works on that code (completion, actions, the
//! index's exclusions), but it may not decide where the code, keys or files go: the fields marked
//! `x-augur-user-only` in the configuration's schema (a model's URL, endpoints, key variable and
//! tokenizer file, the shared Redis tier, the cache file, the index directory, the metrics
//! listener, the log file) are read only from the user's file and the editor's settings. In a
//! workspace file each of them is dropped with a warning that says where to put it instead, so a
//! cloned repository cannot send the user's code to its own server.
//!
//! The marks live on the Rust types (`#[schemars(extend("x-augur-user-only" = true))]`), so the
//! editors' settings (VS Code's machine scope) and this check read one list.
//!
//! `log.file` is stricter: the log file is opened when augur starts, so only the user file (or
//! `--log-file`) may set it.

use std::sync::LazyLock;

use serde_json::Value;

use super::{Config, ConfigError, ConfigLayer, ConfigSource, Severity, merge, user_config_path};

/// The schema keyword that marks a field a workspace file may not set.
pub const USER_ONLY_KEYWORD: &str = "x-augur-user-only";

/// The fields only the user may set, as paths of keys (`*` stands for any key of a map).
pub fn user_only_fields() -> &'static [Vec<String>] {
    static FIELDS: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
        let schema = schemars::schema_for!(Config).to_value();
        let mut found = Vec::new();
        collect(&schema, &schema, &mut Vec::new(), &mut found, 0);
        found
    });
    &FIELDS
}

/// Walks `node` (a schema), following `$ref`s into `root`'s `$defs`, and records the path of every
/// property marked user-only.
fn collect(
    root: &Value,
    node: &Value,
    path: &mut Vec<String>,
    found: &mut Vec<Vec<String>>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    let node = resolve_ref(root, node);
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            path.push(name.clone());
            let marked = property.get(USER_ONLY_KEYWORD) == Some(&Value::Bool(true))
                || resolve_ref(root, property).get(USER_ONLY_KEYWORD) == Some(&Value::Bool(true));
            if marked {
                found.push(path.clone());
            } else {
                collect(root, property, path, found, depth + 1);
            }
            path.pop();
        }
    }
    if let Some(values) = node.get("additionalProperties").filter(|v| v.is_object()) {
        path.push("*".into());
        collect(root, values, path, found, depth + 1);
        path.pop();
    }
}

fn resolve_ref<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix("#/$defs/"))
        .and_then(|name| root.get("$defs")?.get(name))
        .unwrap_or(node)
}

/// Removes from `value` every field matching `pattern`, and returns the dotted paths of those that
/// would have changed `merged` (the configuration so far): a field equal to what is already there
/// is dropped without a word.
fn remove_matching(
    value: &mut Value,
    merged: Option<&Value>,
    pattern: &[String],
    prefix: &str,
    removed: &mut Vec<String>,
) {
    let Some((first, rest)) = pattern.split_first() else {
        return;
    };
    let Some(map) = value.as_object_mut() else {
        return;
    };
    let keys: Vec<String> = if first == "*" {
        map.keys().cloned().collect()
    } else if map.contains_key(first) {
        vec![first.clone()]
    } else {
        Vec::new()
    };
    for key in keys {
        let dotted = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let current = merged.and_then(|m| m.get(&key));
        if rest.is_empty() {
            if map.remove(&key).is_some_and(|v| changes(current, &v)) {
                removed.push(dotted);
            }
        } else if let Some(child) = map.get_mut(&key) {
            remove_matching(child, current, rest, &dotted, removed);
        }
    }
}

/// Whether merging `value` over `current` would change it.
fn changes(current: Option<&Value>, value: &Value) -> bool {
    let Some(current) = current else {
        return !value.is_null();
    };
    let mut after = current.clone();
    merge(&mut after, value);
    &after != current
}

/// The layer's value without the fields it may not set, and a warning for each one it set to
/// something other than `merged` (the configuration so far) holds.
pub(super) fn without_ignored_fields(
    layer: &ConfigLayer,
    merged: &Value,
) -> (Value, Vec<ConfigError>) {
    let mut value = layer.value.clone();
    let mut warnings = Vec::new();
    let user_file = || {
        user_config_path()
            .map(|path| path.display().to_string())
            .unwrap_or_else(|| "~/.config/augur/config.toml".into())
    };
    if matches!(layer.source, ConfigSource::WorkspaceFile(_)) {
        let mut removed = Vec::new();
        // The log file has its own, stricter rule below.
        for pattern in user_only_fields()
            .iter()
            .filter(|p| p.join(".") != "log.file")
        {
            remove_matching(&mut value, Some(merged), pattern, "", &mut removed);
        }
        for field in removed {
            warnings.push(ConfigError {
                severity: Severity::Warning,
                source: layer.source.clone(),
                message: "a workspace file comes with the code, so it may not choose where code, \
                          keys or files go; this value is not used"
                    .into(),
                hint: format!(
                    "If you trust it, set `{field}` in {} or in your editor's settings for augur.",
                    user_file()
                ),
                field,
            });
        }
    }
    if !matches!(layer.source, ConfigSource::UserFile(_)) {
        let mut removed = Vec::new();
        remove_matching(
            &mut value,
            Some(merged),
            &["log".into(), "file".into()],
            "",
            &mut removed,
        );
        if !removed.is_empty() {
            warnings.push(ConfigError {
                severity: Severity::Warning,
                source: layer.source.clone(),
                field: "log.file".into(),
                message: "the log file is opened when augur starts, so it is read only from the \
                          user file or `--log-file`; this one is not used"
                    .into(),
                hint: format!(
                    "Set `file` under `[log]` in {}, or start augur with `--log-file PATH`, then \
                     restart augur. (`log.level` works here.)",
                    user_file()
                ),
            });
        }
    }
    (value, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_marks_where_code_keys_and_files_go() {
        let fields: Vec<String> = user_only_fields().iter().map(|p| p.join(".")).collect();
        for expected in [
            "log.file",
            "models.*.url",
            "models.*.api_key_env",
            "models.*.endpoints",
            "models.*.tokenizer",
            "llm.shared",
            "llm.cache.path",
            "index.cache_dir",
            "metrics.listen",
        ] {
            assert!(
                fields.iter().any(|f| f == expected),
                "{expected} not in {fields:?}"
            );
        }
        assert!(
            !fields.iter().any(|f| f.starts_with("completion")),
            "completion settings stay per workspace: {fields:?}"
        );
    }
}
