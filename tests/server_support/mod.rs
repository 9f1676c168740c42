//! Starting augur for the protocol tests, the way most of them do it: in this process over
//! in-memory pipes (the real binary over stdio when a test needs environment variables), with
//! its caches in a folder of the test's own, on a workspace folder given
//! as both `rootUri` and `workspaceFolders` (or on none), and with `initializationOptions` built
//! from [`model_options`] (a model `default` at a fake model server, the response cache off) and
//! the settings a test adds over them with [`merge`].
//!
//! [`range`] and [`code_actions`] are the small protocol helpers those tests share.
//!
//! Include it with `#[path = "server_support/mod.rs"] mod server_support;`; it does not depend on
//! `llm_support`, so tests against a real model use it too.

#![allow(dead_code)]

use std::path::Path;

use augur::dirs::Dirs;
use augur::test_support::stdio::{SpawnOptions, StdioClient};
use serde_json::{Value, json};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_augur");

/// The `file://` URI of a path.
pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// `initializationOptions` with the model `default` at `url` (an OpenAI base URL, such as a
/// fake's `v1()`), no retries and timeouts long enough for a loaded machine, and the response
/// cache off so that every request reaches the model.
pub fn model_options(url: &str) -> Value {
    json!({
        "models": {"default": {"backend": "openai", "url": url, "model": "fake", "retries": 0,
                               "first_token_timeout_ms": 20000, "total_timeout_ms": 30000}},
        "llm": {"cache": {"enabled": false}},
    })
}

/// `over` merged into `base`: tables are merged key by key, anything else in `over` replaces what
/// `base` holds.
pub fn merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut base), Value::Object(over)) => {
            for (key, value) in over {
                let merged = match base.remove(&key) {
                    Some(old) => merge(old, value),
                    None => value,
                };
                base.insert(key, merged);
            }
            Value::Object(base)
        }
        (_, over) => over,
    }
}

/// An augur with its caches in `cache`, not initialized: run in this process (no user file, no
/// usage log), or, when the test needs environment variables (`env`), the binary with `env`
/// added to its environment.
pub fn spawn_with_cache(cache: &Path, env: &[(&str, &str)]) -> StdioClient {
    if env.is_empty() {
        let dirs = Dirs {
            cache: Some(cache.to_path_buf()),
            ..Dirs::default()
        };
        return StdioClient::in_process(dirs, SpawnOptions::default()).unwrap();
    }
    let mut vars = vec![("AUGUR_CACHE_DIR".to_owned(), cache.display().to_string())];
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let options = SpawnOptions {
        env: vars,
        ..SpawnOptions::default()
    };
    StdioClient::spawn(Path::new(BIN), options).unwrap()
}

/// `initialize` params for the workspace folder `root` (as `rootUri` and as the one workspace
/// folder `ws`) with `init_options`.
pub fn workspace_params(root: &Path, init_options: Value) -> Value {
    let root_uri = file_uri(root);
    json!({
        "rootUri": root_uri,
        "workspaceFolders": [{"uri": root_uri, "name": "ws"}],
        "initializationOptions": init_options,
    })
}

/// An augur without a workspace folder, initialized with `caps` and `init_options`, its caches in
/// the folder returned with it (which must live as long as the server).
pub fn spawn(caps: Value, init_options: Value, env: &[(&str, &str)]) -> (StdioClient, TempDir) {
    let cache = tempfile::tempdir().unwrap();
    let mut client = spawn_with_cache(cache.path(), env);
    client.initialize(caps, json!({"initializationOptions": init_options}));
    (client, cache)
}

/// An augur on the workspace folder `root` (see [`workspace_params`]) with its caches in `cache`, initialized with `caps` and `init_options`.
pub fn spawn_in_cache(
    root: &Path,
    cache: &Path,
    caps: Value,
    init_options: Value,
    env: &[(&str, &str)],
) -> StdioClient {
    let mut client = spawn_with_cache(cache, env);
    client.initialize(caps, workspace_params(root, init_options));
    client
}

/// An augur on the workspace folder `root` (see [`spawn_in_cache`]), its caches in the folder
/// returned with it (which must live as long as the server).
pub fn spawn_in(
    root: &Path,
    caps: Value,
    init_options: Value,
    env: &[(&str, &str)],
) -> (StdioClient, TempDir) {
    let cache = tempfile::tempdir().unwrap();
    let client = spawn_in_cache(root, cache.path(), caps, init_options, env);
    (client, cache)
}

/// An LSP range from `start` to `end`, each a `(line, character)`.
pub fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({"start": {"line": start.0, "character": start.1},
           "end": {"line": end.0, "character": end.1}})
}

/// The code actions offered for `range` of `uri` with `diagnostics` in the request's context
/// (none when the answer is `null`).
pub fn code_actions(
    client: &mut StdioClient,
    uri: &str,
    range: Value,
    diagnostics: Value,
) -> Vec<Value> {
    let result = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range,
                   "context": {"diagnostics": diagnostics}}),
        )
        .unwrap();
    result.as_array().cloned().unwrap_or_default()
}
