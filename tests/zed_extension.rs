//! The Zed extension (`editors/zed`) against augur itself: its language table lists every
//! language augur supports, under language ids augur reads, so the two cannot drift apart; its
//! manifest builds as an extension of its own; and the command line and settings its pure logic
//! (`editors/zed/src/launch.rs`, compiled in here as a module) hands to Zed start the real augur
//! and reach its configuration the way Zed delivers them.
//!
//! Zed itself does not run on this machine: `scripts/test-zed.sh` builds the extension for
//! `wasm32-wasip2` and runs its unit tests on the host.

#[path = "../editors/zed/src/launch.rs"]
#[allow(dead_code)]
mod launch;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use augur::syntax::Language;
use augur::test_support::capabilities;
use augur::test_support::stdio::{SpawnOptions, StdioClient};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_augur");

fn zed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/zed")
}

fn read_toml(name: &str) -> toml::Table {
    let path = zed_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{} is not TOML: {e}", path.display()))
}

/// The `[language_servers.augur]` table of `extension.toml`.
fn server_entry() -> toml::Table {
    let manifest = read_toml("extension.toml");
    manifest["language_servers"]["augur"]
        .as_table()
        .expect("extension.toml has [language_servers.augur]")
        .clone()
}

#[test]
fn the_zed_language_table_covers_every_augur_language_with_ids_augur_reads() {
    let entry = server_entry();
    let languages: Vec<&str> = entry["languages"]
        .as_array()
        .expect("`languages` is a list")
        .iter()
        .map(|l| l.as_str().expect("a language name"))
        .collect();
    let listed: BTreeSet<&str> = languages.iter().copied().collect();
    assert_eq!(listed.len(), languages.len(), "a language is listed twice");
    let ids = entry["language_ids"]
        .as_table()
        .expect("[language_servers.augur.language_ids]");
    let mapped: BTreeSet<&str> = ids.keys().map(String::as_str).collect();
    assert_eq!(
        listed, mapped,
        "`languages` and `language_ids` name the same Zed languages"
    );

    let mut covered = BTreeSet::new();
    for (zed_name, id) in ids {
        let id = id.as_str().expect("a language id is a string");
        let language = Language::from_lsp_id(id).unwrap_or_else(|| {
            panic!("Zed's {zed_name:?} is sent as {id:?}, a language id augur does not know")
        });
        covered.insert(language);
    }
    let missing: Vec<&str> = Language::ALL
        .iter()
        .filter(|l| !covered.contains(l))
        .map(|l| l.name())
        .collect();
    assert!(
        missing.is_empty(),
        "augur supports {missing:?}, but editors/zed/extension.toml does not list them"
    );
}

#[test]
fn the_extension_is_a_cdylib_crate_outside_the_main_workspace_on_zed_extension_api_0_7() {
    let cargo = read_toml("Cargo.toml");
    assert!(
        cargo.contains_key("workspace"),
        "editors/zed/Cargo.toml needs its own [workspace]"
    );
    let crate_types = cargo["lib"]["crate-type"]
        .as_array()
        .expect("[lib] crate-type");
    assert_eq!(crate_types, &vec![toml::Value::from("cdylib")]);
    let api = cargo["dependencies"]["zed_extension_api"]
        .as_str()
        .expect("zed_extension_api = \"VERSION\"");
    assert!(api.starts_with("0.7"), "zed_extension_api {api}");
    let manifest = read_toml("extension.toml");
    assert_eq!(
        manifest["version"], cargo["package"]["version"],
        "extension.toml and Cargo.toml carry the same version"
    );
    assert_eq!(manifest["id"].as_str(), Some("augur"));
    assert!(
        zed_dir().join("Cargo.lock").is_file(),
        "editors/zed/Cargo.lock is committed"
    );
}

#[test]
fn the_extensions_default_command_and_settings_start_augur_and_reach_its_configuration() {
    // What the extension hands Zed when augur is on the PATH and the user set nothing else.
    let chosen = launch::launch(
        &launch::BinarySettings::default(),
        "/ws",
        |name| (name == "augur").then(|| BIN.to_owned()),
        Vec::new(),
    )
    .unwrap();
    assert_eq!(chosen.command, BIN);

    // Zed answers `workspace/configuration` for section `augur` with that key of the extension's
    // workspace configuration, and sends the whole of it in `didChangeConfiguration`.
    let pulled = launch::workspace_configuration(Some(json!({"index": {"enabled": false}})))
        .unwrap()[launch::SETTINGS_SECTION]
        .clone();
    let options = SpawnOptions {
        args: chosen.args.clone(),
        settings: pulled,
        ..Default::default()
    };
    let mut client = StdioClient::spawn(Path::new(&chosen.command), options)
        .expect("augur starts with the extension's default arguments");
    let init = launch::initialization_options(Some(json!({
        "models": {"default": {"model": "from-initialization-options"}}
    })))
    .unwrap()
    .expect("options are passed on");
    client.initialize(
        capabilities(&["utf-16"]),
        json!({"initializationOptions": init}),
    );
    let config = |c: &mut StdioClient| {
        c.request("augur/debug/config", Value::Null)
            .expect("augur/debug/config answers")
    };
    let pulled_applied = client.wait_for(|c| {
        let config = config(c);
        (config["index"]["enabled"] == false).then_some(config)
    });
    let config_now = pulled_applied.expect("the pulled settings were applied");
    assert_eq!(
        config_now["models"]["default"]["model"], "from-initialization-options",
        "{config_now}"
    );

    let changed = launch::workspace_configuration(Some(json!({
        "models": {"default": {"model": "from-zed-settings"}}
    })))
    .unwrap();
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": changed}),
    );
    let config_now = config(&mut client);
    assert_eq!(
        config_now["models"]["default"]["model"], "from-zed-settings",
        "{config_now}"
    );
    assert!(client.shutdown_and_exit().success());
}
