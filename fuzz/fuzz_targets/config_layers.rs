//! Configuration layers: TOML and JSON text through the layer parsers and the merge.
//!
//! The input is up to four texts separated by lines holding only `%%`: the user file (TOML), a
//! workspace file (TOML), `initializationOptions` (JSON) and client settings (JSON). Nothing may
//! panic, every error renders as a message, and the merged configuration, rendered as TOML the
//! way `augur check-config` prints it, reads back as a user file to the same configuration
//! without errors.

#![no_main]

use std::path::PathBuf;

use augur::config::{ConfigLayer, ConfigSource, resolve, to_toml};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split("\n%%\n");
    let mut layers = Vec::new();
    let mut errors = Vec::new();
    let user = ConfigSource::UserFile(PathBuf::from("/fuzz/config.toml"));
    let workspace = ConfigSource::WorkspaceFile(PathBuf::from("/fuzz/ws/augur.toml"));
    for source in [user, workspace] {
        if let Some(part) = parts.next() {
            match ConfigLayer::from_toml(source, part) {
                Ok(layer) => layers.push(layer),
                Err(error) => errors.push(error),
            }
        }
    }
    for source in [
        ConfigSource::InitializationOptions,
        ConfigSource::ClientSettings,
    ] {
        if let Some(part) = parts.next() {
            let value = serde_json::from_str::<Value>(part).unwrap_or(Value::Null);
            layers.push(ConfigLayer::from_client_json(source, value));
        }
    }
    let (config, merge_errors) = resolve(&layers);
    for error in errors.iter().chain(&merge_errors) {
        assert!(!error.to_string().is_empty());
    }

    let rendered = to_toml(&config);
    let source = ConfigSource::UserFile(PathBuf::from("/fuzz/rendered.toml"));
    let layer = ConfigLayer::from_toml(source, &rendered)
        .unwrap_or_else(|e| panic!("the rendered configuration is not TOML: {e}\n{rendered}"));
    let (again, again_errors) = resolve(&[layer]);
    assert!(
        again_errors.is_empty(),
        "the rendered configuration has errors: {again_errors:?}\n{rendered}"
    );
    // Compared as JSON, where a NaN is `null` on both sides.
    assert_eq!(
        serde_json::to_string(&again).expect("JSON"),
        serde_json::to_string(&config).expect("JSON"),
        "the rendered configuration reads back differently:\n{rendered}"
    );
});
