//! `augur schema [config|protocol]`: the JSON Schema of the configuration and of augur's custom
//! protocol, generated from the Rust types (doc comments become descriptions, with the defaults
//! and the allowed values). Editors generate their types and settings from it
//! (`editors/typescript`, `editors/vscode`), so they cannot drift from the server.
//!
//! Without an argument it prints `{"config": <schema>, "protocol": <schema>}`; the order of keys
//! is fixed, so the same server prints the same text.

use std::io::Write;
use std::process::ExitCode;

use clap::ValueEnum;
use serde_json::{Value, json};

use crate::config::Config;
use crate::lsp::ext::Protocol;

/// Which schema to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaPart {
    /// The configuration (`augur.toml`, client settings).
    Config,
    /// The custom methods and commands, their parameters and replies.
    Protocol,
}

/// The schema of the configuration.
pub fn config_schema() -> Value {
    let mut schema = schemars::schema_for!(Config).to_value();
    tidy_defaults(&mut schema);
    schema
}

/// The schema of the custom protocol.
pub fn protocol_schema() -> Value {
    let mut schema = schemars::schema_for!(Protocol).to_value();
    tidy_defaults(&mut schema);
    schema
}

/// The schema of `part`, or both under `config` and `protocol`.
pub fn schema(part: Option<SchemaPart>) -> Value {
    match part {
        Some(SchemaPart::Config) => config_schema(),
        Some(SchemaPart::Protocol) => protocol_schema(),
        None => json!({"config": config_schema(), "protocol": protocol_schema()}),
    }
}

/// Prints the schema as pretty JSON.
pub fn run(part: Option<SchemaPart>) -> ExitCode {
    let text = match serde_json::to_string_pretty(&schema(part)) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("augur: cannot render the schema: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}") {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("augur: cannot write the schema: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Defaults of `f32` fields pass through `f64` on their way to JSON (`0.2` becomes
/// `0.20000000298023224`); this writes them back as the shortest decimal of the `f32`.
fn tidy_defaults(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key == "default" {
                    tidy_floats(item);
                } else {
                    tidy_defaults(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy_defaults),
        _ => {}
    }
}

fn tidy_floats(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(wide) = number.as_f64() {
                let narrow = wide as f32;
                if f64::from(narrow) == wide
                    && let Ok(short) = narrow.to_string().parse::<f64>()
                    && let Some(short) = serde_json::Number::from_f64(short)
                {
                    *number = short;
                }
            }
        }
        Value::Object(map) => map.values_mut().for_each(tidy_floats),
        Value::Array(items) => items.iter_mut().for_each(tidy_floats),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<'a>(schema: &'a Value, pointer: &str) -> &'a Value {
        schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("no {pointer} in {schema:#}"))
    }

    #[test]
    fn the_config_schema_has_descriptions_defaults_and_enums() {
        let schema = config_schema();
        // The completion mode is an enum of its three wire names.
        let modes: Vec<&str> = at(&schema, "/$defs/CompletionMode/oneOf")
            .as_array()
            .unwrap()
            .iter()
            .map(|variant| at(variant, "/const").as_str().unwrap())
            .collect();
        assert_eq!(modes, ["inline", "items", "both"]);
        // Models are a map of model tables, with the built-in `default` model as the default.
        let models = at(&schema, "/properties/models");
        assert_eq!(at(models, "/type"), "object");
        assert_eq!(
            at(models, "/additionalProperties/$ref"),
            "#/$defs/ModelConfig"
        );
        assert_eq!(at(models, "/default/default/backend"), "openai");
        // Defaults, with `f32`s as written in the code.
        let completion = at(&schema, "/$defs/CompletionConfig/properties");
        assert_eq!(at(completion, "/debounce_ms/default"), 75);
        assert_eq!(at(completion, "/temperature/default"), 0.2);
        // Doc comments become descriptions; unknown fields are refused as the parser refuses them.
        assert!(
            at(completion, "/max_tokens/description")
                .as_str()
                .unwrap()
                .contains("most tokens")
        );
        assert_eq!(
            at(&schema, "/$defs/IndexConfig/additionalProperties"),
            false
        );
    }

    #[test]
    fn the_protocol_schema_describes_the_custom_methods_and_commands() {
        let schema = protocol_schema();
        let status = at(&schema, "/$defs/Status/properties");
        assert!(status.get("modelHealth").is_some(), "{status:#}");
        assert!(status.get("indexes").is_some(), "{status:#}");
        let required = at(&schema, "/$defs/SearchParams/required");
        assert_eq!(required, &json!(["query"]));
        let statuses: Vec<&str> = at(&schema, "/$defs/CommandStatus/oneOf")
            .as_array()
            .unwrap()
            .iter()
            .map(|variant| at(variant, "/const").as_str().unwrap())
            .collect();
        assert!(statuses.contains(&"applied") && statuses.contains(&"stale"));
        assert_eq!(
            at(&schema, "/$defs/ActionData/properties/range/$ref"),
            "#/$defs/Range"
        );
    }

    #[test]
    fn the_command_result_keeps_its_wire_shape() {
        use crate::lsp::ext::{CommandResult, CommandStatus};
        let answer = CommandResult::new(CommandStatus::Applied, "done").to_value();
        assert_eq!(answer, json!({"status": "applied", "message": "done"}));
    }

    #[test]
    fn the_output_is_deterministic() {
        assert_eq!(schema(None).to_string(), schema(None).to_string());
    }
}
