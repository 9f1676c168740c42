//! Configuration end to end, against the real binary: the layers (user file, workspace files,
//! `initializationOptions`, client settings) merge with the later one winning, and a multi-root
//! workspace merges every root's `augur.toml`, the later root winning, until a root is removed.
//!
//! The merged configuration is read back with `augur/debug/config`.

use std::path::Path;

use augur::test_support::capabilities;
use augur::test_support::stdio::{SpawnOptions, StdioClient};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_augur");

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn folder(path: &Path, name: &str) -> Value {
    json!({"uri": uri(path), "name": name})
}

/// A server whose user file is `user` (if given).
fn spawn_with_user_file(user: Option<&Path>) -> StdioClient {
    let mut options = SpawnOptions::default();
    if let Some(user) = user {
        options
            .env
            .push(("AUGUR_CONFIG".into(), user.display().to_string()));
    }
    StdioClient::spawn(Path::new(BIN), options).expect("augur starts")
}

fn config(client: &mut StdioClient) -> Value {
    client
        .request("augur/debug/config", Value::Null)
        .expect("augur/debug/config answers")
}

fn model(client: &mut StdioClient, name: &str) -> Value {
    config(client)["models"][name]["model"].clone()
}

fn status(client: &mut StdioClient) -> Value {
    client.request("augur/status", Value::Null).unwrap()
}

#[test]
fn two_roots_merge_the_later_root_wins_and_a_removed_root_stops_applying() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    std::fs::write(
        a.path().join("augur.toml"),
        "[models.only_a]\nmodel = \"a\"\n[models.default]\nmodel = \"from-a\"\nmax_tokens = 77\n",
    )
    .unwrap();
    std::fs::write(
        b.path().join(".augur.toml"),
        "[models.only_b]\nmodel = \"b\"\n[models.default]\nmodel = \"from-b\"\n",
    )
    .unwrap();
    let mut client = spawn_with_user_file(None);
    client.initialize(
        capabilities(&["utf-16"]),
        json!({"workspaceFolders": [folder(a.path(), "a"), folder(b.path(), "b")]}),
    );
    let roots = |c: &mut StdioClient| status(c)["roots"].clone();
    let a_path = a.path().display().to_string();
    let b_path = b.path().display().to_string();
    assert_eq!(roots(&mut client), json!([a_path, b_path]));
    assert_eq!(
        status(&mut client)["models"],
        json!(["default", "only_a", "only_b"])
    );
    // Both roots set `models.default.model`: the root listed later wins, field by field.
    assert_eq!(model(&mut client, "default"), "from-b");
    assert_eq!(config(&mut client)["models"]["default"]["max_tokens"], 77);

    client.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [], "removed": [folder(b.path(), "b")]}}),
    );
    assert_eq!(roots(&mut client), json!([a_path]));
    assert_eq!(status(&mut client)["models"], json!(["default", "only_a"]));
    assert_eq!(model(&mut client, "default"), "from-a");

    // Adding it back puts it last again, so it wins again.
    client.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [folder(b.path(), "b")], "removed": []}}),
    );
    assert_eq!(roots(&mut client), json!([a_path, b_path]));
    assert_eq!(model(&mut client, "default"), "from-b");
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn each_layer_overrides_the_one_before() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.toml");
    // The user file also sets a field no later layer touches: it survives every step.
    std::fs::write(
        &user,
        "[models.default]\nmodel = \"user\"\nurl = \"http://user:1\"\n",
    )
    .unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(
        root.join("augur.toml"),
        "[models.default]\nmodel = \"workspace\"\n",
    )
    .unwrap();
    let folders = json!({"workspaceFolders": [folder(&root, "w")]});

    // Defaults alone.
    let mut client = spawn_with_user_file(None);
    client.initialize(capabilities(&["utf-16"]), json!({}));
    let default_model = model(&mut client, "default");
    assert_ne!(default_model, "user");

    // The user file over the defaults.
    let mut client = spawn_with_user_file(Some(&user));
    client.initialize(capabilities(&["utf-16"]), json!({}));
    assert_eq!(model(&mut client, "default"), "user");

    // The workspace file over the user file.
    let mut client = spawn_with_user_file(Some(&user));
    client.initialize(capabilities(&["utf-16"]), folders.clone());
    assert_eq!(model(&mut client, "default"), "workspace");

    // initializationOptions over the workspace file.
    let mut client = spawn_with_user_file(Some(&user));
    let mut params = folders.clone();
    params["initializationOptions"] = json!({"models": {"default": {"model": "init"}}});
    client.initialize(capabilities(&["utf-16"]), params);
    assert_eq!(model(&mut client, "default"), "init");

    // The client's settings over initializationOptions.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"augur": {"models": {"default": {"model": "client"}}}}}),
    );
    assert_eq!(model(&mut client, "default"), "client");
    assert_eq!(
        config(&mut client)["models"]["default"]["url"],
        "http://user:1"
    );

    // New settings replace the old settings as a whole: without the field, the layer below
    // (initializationOptions) shows through again.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"augur": {"models": {"other": {"model": "o"}}}}}),
    );
    assert_eq!(model(&mut client, "default"), "init");
    assert_eq!(model(&mut client, "other"), "o");
    assert!(client.shutdown_and_exit().success());
}

/// A workspace file comes with the code: where the code goes (a model's URL) stays the user's
/// choice, the user is told which field was not used, and the rest of the file applies.
#[test]
fn a_workspace_file_cannot_choose_the_model_server() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.toml");
    std::fs::write(&user, "[models.default]\nurl = \"http://127.0.0.1:1/v1\"\n").unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(
        root.join("augur.toml"),
        "[models.default]\nurl = \"https://elsewhere.example/v1\"\nmodel = \"workspace\"\n\
         [metrics]\nlisten = \"0.0.0.0:9464\"\n",
    )
    .unwrap();
    let mut client = spawn_with_user_file(Some(&user));
    client.initialize(
        capabilities(&["utf-16"]),
        json!({"workspaceFolders": [folder(&root, "w")]}),
    );
    let mut messages = Vec::new();
    while messages.len() < 2 {
        let shown = client
            .notification("window/showMessage")
            .expect("a warning per ignored field");
        assert_eq!(shown["params"]["type"], 2, "a warning: {shown}");
        messages.push(shown["params"]["message"].as_str().unwrap().to_owned());
    }
    messages.sort();
    assert!(messages[0].contains("`metrics.listen`"), "{messages:?}");
    assert!(messages[1].contains("`models.default.url`"), "{messages:?}");
    assert!(
        messages
            .iter()
            .all(|m| m.contains("augur.toml") && m.contains("user.toml")),
        "{messages:?}"
    );
    let merged = config(&mut client);
    assert_eq!(merged["models"]["default"]["url"], "http://127.0.0.1:1/v1");
    assert_eq!(merged["models"]["default"]["model"], "workspace");
    assert_eq!(merged["metrics"]["listen"], Value::Null);
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn the_config_debug_request_is_off_without_debug_requests() {
    let options = SpawnOptions {
        env: vec![("AUGUR_DEBUG_REQUESTS".into(), "0".into())],
        ..Default::default()
    };
    let mut client = StdioClient::spawn(Path::new(BIN), options).unwrap();
    client.initialize(capabilities(&["utf-16"]), json!({}));
    let err = client
        .request("augur/debug/config", Value::Null)
        .unwrap_err();
    assert_eq!(err["code"], -32601, "{err}");
    // The panicking notification is ignored too, and the server goes on.
    client.notify("augur/debug/panicNotification", Value::Null);
    assert!(client.request("augur/status", Value::Null).is_ok());
    assert!(client.shutdown_and_exit().success());
}
