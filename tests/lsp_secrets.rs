//! Secrets found by their content, through the protocol, over stdio, against a scripted fake model
//! server: a file holding a secret is not indexed (nor kept in the index once it gains one), a
//! completion prompt carries placeholders instead of the secrets of the open document, and a
//! model's reply that repeats a placeholder gets the user's value back, in a suggestion and in an
//! AI edit.

#[path = "llm_support/mod.rs"]
mod llm_support;
#[path = "server_support/mod.rs"]
mod server_support;

use augur::test_support::fixture::Fixture;
use augur::test_support::stdio::StdioClient;
use augur::test_support::{apply_lsp_edits as apply_edits, capabilities};
use llm_support::{Fake, Reply, openai_stream};
use serde_json::{Value, json};
use server_support::{file_uri, merge, model_options, range, spawn_in};

// Fake secrets, assembled from pieces so that no scanner takes this file for a leak.
const AWS_KEY: &str = concat!("AKIA", "QX7Z3M5B", "T2WP9LKD");
const GITHUB_TOKEN: &str = concat!("ghp_", "8fK2mQ9xR4tL7vB1nC6", "zH3jW5pY0sD2gA8eU4");
const OPENAI_KEY: &str = concat!("sk-", "live", "Q7rT2xW9kL4mN8", "pB3vC6zH1jF5dS0a");

/// A fake model server on a background runtime and an augur talking to it, on a workspace
/// folder written from `fixture`; `index` is the `[index]` table.
struct Setup {
    runtime: tokio::runtime::Runtime,
    fake: Fake,
    client: StdioClient,
    root: tempfile::TempDir,
    _cache: tempfile::TempDir,
}

fn setup(fixture: &str, index: Value) -> Setup {
    let (runtime, fake) = Fake::start_in_background();
    let root = tempfile::tempdir().unwrap();
    Fixture::parse(fixture).write_to(root.path()).unwrap();
    let options = merge(
        model_options(&fake.v1()),
        json!({"completion": {"debounce_ms": 0}, "index": index}),
    );
    let (client, cache) = spawn_in(root.path(), capabilities(&["utf-16"]), options, &[]);
    Setup {
        runtime,
        fake,
        client,
        root,
        _cache: cache,
    }
}

/// A streamed reply cut into pieces of `size` bytes, so placeholders arrive split.
fn pieces(text: &str, size: usize) -> Reply {
    let pieces: Vec<String> = text
        .as_bytes()
        .chunks(size)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    openai_stream(&pieces)
}

/// Every string in `value`, joined, to look for a secret anywhere in a request body.
fn all_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(all_text).collect::<Vec<_>>().join("\n"),
        Value::Object(map) => map.values().map(all_text).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

#[test]
fn a_completion_prompt_carries_placeholders_and_the_suggestion_gets_the_value_back() {
    let mut s = setup("//- /README.md\nnothing\n", json!({"enabled": false}));
    let text = format!(
        "import boto3\n\nAWS_ACCESS_KEY_ID = \"{AWS_KEY}\"\n\n\ndef upload(path):\n    \
         return \n\n\nGITHUB_TOKEN = \"{GITHUB_TOKEN}\"\n"
    );
    let uri = file_uri(&s.root.path().join("app.py"));
    s.client.open(&uri, "python", 1, &text);
    // The model repeats the placeholder it was shown, in pieces that split it.
    s.fake.set_default(pieces(
        "boto3.client(\"s3\", aws_access_key_id=\"<redacted:aws-access-key>\")",
        7,
    ));
    let result = s
        .client
        .request(
            "textDocument/inlineCompletion",
            json!({"textDocument": {"uri": uri}, "position": {"line": 6, "character": 11},
                   "context": {"triggerKind": 1}}),
        )
        .unwrap();
    let body = &s.fake.requests()[0].body;
    let sent = all_text(body);
    assert!(
        !sent.contains(AWS_KEY),
        "the key left in the prompt: {body}"
    );
    assert!(!sent.contains(GITHUB_TOKEN), "the token left: {body}");
    let prompt = body["prompt"].as_str().unwrap_or_default();
    assert!(
        prompt.contains("AWS_ACCESS_KEY_ID = \"<redacted:aws-access-key>\""),
        "{prompt}"
    );
    assert!(
        sent.contains("GITHUB_TOKEN = \"<redacted:github-token>\""),
        "the text after the cursor has its placeholder too: {body}"
    );
    let items = result["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{result}");
    assert_eq!(
        items[0]["insertText"],
        format!("boto3.client(\"s3\", aws_access_key_id=\"{AWS_KEY}\")"),
        "the suggestion has the user's value, not the placeholder"
    );
    drop(s.runtime);
}

#[test]
fn an_ai_edit_keeps_the_users_secret() {
    let code = format!(
        "def connect(region):\n    key = \"{OPENAI_KEY}\"\n    return open_client(region, key - 1)\n"
    );
    let mut s = setup(
        &format!("//- /client.py\n{code}"),
        json!({"enabled": false}),
    );
    let uri = file_uri(&s.root.path().join("client.py"));
    s.client.open(&uri, "python", 1, &code);
    // A model that repeats the whole function, placeholder included, with the fix.
    s.fake.set_default(pieces(
        "Here it is:\n```python\ndef connect(region):\n    key = \"<redacted:openai-key>\"\n    \
         return open_client(region, key)\n```\n",
        8,
    ));
    let diagnostics = json!([{"range": range((2, 30), (2, 37)), "message": "key is a string",
                              "severity": 1, "source": "review"}]);
    let actions = s
        .client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range((2, 30), (2, 37)),
                   "context": {"diagnostics": diagnostics}}),
        )
        .unwrap();
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap_or("").starts_with("Fix with AI"))
        .cloned()
        .unwrap_or_else(|| panic!("no fix in {actions:#}"));
    let resolved = s.client.request("codeAction/resolve", fix).unwrap();
    let body = &s.fake.requests()[0].body;
    let sent = all_text(body);
    assert!(
        !sent.contains(OPENAI_KEY),
        "the key left in the prompt: {body}"
    );
    assert!(sent.contains("<redacted:openai-key>"), "{body}");
    let edits = resolved["edit"]["documentChanges"][0]["edits"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no edit in {resolved:#}"));
    assert!(
        edits
            .iter()
            .all(|e| !e["newText"].as_str().unwrap_or("").contains("redacted")),
        "an edit puts the placeholder in the document: {edits:#?}"
    );
    assert_eq!(apply_edits(&code, &edits), code.replace(" - 1", ""));
    drop(s.runtime);
}

/// The names of the files `augur/search` finds for `query`.
fn hit_files(client: &mut StdioClient, query: &str) -> Vec<String> {
    let hits = client
        .request("augur/search", json!({"query": query, "limit": 20}))
        .unwrap();
    let mut files: Vec<String> = hits
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["uri"].as_str())
        .filter_map(|u| u.rsplit('/').next())
        .map(str::to_owned)
        .collect();
    files.sort();
    files.dedup();
    files
}

fn wait_indexed(client: &mut StdioClient) {
    client
        .wait_for(|c| {
            c.notifications
                .iter()
                .any(|n| n["method"] == "$/progress" && n["params"]["value"]["kind"] == "end")
                .then_some(())
        })
        .expect("the indexing ended");
}

#[test]
fn a_file_holding_a_secret_is_not_indexed_nor_kept_once_it_gains_one() {
    let (begin, end, service_account) = (
        concat!("-----BEGIN ", "PRIVATE KEY-----"),
        concat!("-----END ", "PRIVATE KEY-----"),
        concat!("service", "_account"),
    );
    let fixture = format!(
        r#"
//- /deploy/service-account.json
{{
  "type": "{service_account}",
  "project_id": "quasar-lantern-4242",
  "private_key_id": "3f9a0c2b7d1e4f6a8b9c0d1e2f3a4b5c6d7e8f90",
  "private_key": "{begin}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7bq1xZ3k9Lm2P\nq8R4sT6uV0wX2yZ4aB6cD8eF0gH2iJ4kL6mN8oP0qR2sT4uV6wX8yZ0aB2cD4eF6\n{end}\n",
  "client_email": "quasar-lantern@quasar-lantern-4242.iam.gserviceaccount.com",
  "openai": "{OPENAI_KEY}",
  "aws": "{AWS_KEY}"
}}
//- /deploy/settings.json
{{
  "project": "quasar-lantern-4242",
  "region": "europe-west1"
}}
//- /app/lantern.py
def quasar_lantern_region():
    return "europe-west1"
"#
    );
    let mut s = setup(&fixture, json!({}));
    wait_indexed(&mut s.client);
    assert_eq!(
        hit_files(&mut s.client, "quasar lantern"),
        ["lantern.py", "settings.json"],
        "the service account file is not indexed"
    );
    assert!(
        hit_files(&mut s.client, "gserviceaccount").is_empty(),
        "nothing of it is searchable"
    );

    // A file already in the index that gains a secret in the editor leaves the index.
    let path = s.root.path().join("app/lantern.py");
    let uri = file_uri(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    s.client.open(&uri, "python", 1, &text);
    s.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": range((0, 0), (0, 0)),
                                   "text": format!("AWS_KEY = \"{AWS_KEY}\"\n")}]}),
    );
    let gone = s.client.wait_for(|c| {
        (!hit_files(c, "quasar lantern").contains(&"lantern.py".to_owned())).then_some(())
    });
    assert!(
        gone.is_some(),
        "the file that gained a secret left the index"
    );
    assert_eq!(
        hit_files(&mut s.client, "quasar lantern"),
        ["settings.json"]
    );
    drop(s.runtime);
}
