//! JSON-RPC edges over stdio, against the real binary: `$/` requests that carry an id, two
//! pipelined `initialize` requests, `exit` sent with an id, a cancelled indexing task at exit, and
//! frame headers too long or too many. Every request gets exactly one answer: the tests count the
//! responses with each id once the process has ended.

use std::path::Path;

use augur::test_support::capabilities;
use augur::test_support::stdio::{SpawnOptions, StdioClient, frame};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_augur");

fn spawn() -> StdioClient {
    StdioClient::spawn(Path::new(BIN), SpawnOptions::default()).expect("augur starts")
}

fn started() -> StdioClient {
    let mut client = spawn();
    client.initialize(capabilities(&["utf-16"]), json!({}));
    client
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// `shutdown`, `exit`, and everything the server wrote until it ended; returns the exit code.
fn finish(client: &mut StdioClient) -> Option<i32> {
    client.request("shutdown", Value::Null).unwrap();
    client.notify("exit", Value::Null);
    let code = client.wait().code();
    client.read_to_end();
    code
}

#[test]
fn dollar_requests_with_an_id_are_answered_method_not_found_once() {
    let mut client = started();
    let requests = [
        ("$/foo", json!(null)),
        ("$/setTrace", json!({"value": "off"})),
        (
            "$/progress",
            json!({"token": "t", "value": {"kind": "end"}}),
        ),
        ("$/cancelRequest", json!({"id": 9999})),
    ];
    let ids: Vec<(&str, i64)> = requests
        .into_iter()
        .map(|(method, params)| (method, client.send_request(method, params)))
        .collect();
    // The same methods as notifications get no answer.
    client.notify("$/foo", Value::Null);
    client.notify("$/setTrace", json!({"value": "verbose"}));
    // `$/cancelRequest` as a notification still cancels.
    let slow = client.send_request("augur/debug/sleep", json!({"ms": 20_000}));
    client.notify("$/cancelRequest", json!({"id": slow}));
    assert_eq!(client.response(slow).unwrap_err()["code"], -32800);

    assert_eq!(finish(&mut client), Some(0));
    for (method, id) in &ids {
        assert_eq!(
            client.count_responses(&json!(id)),
            1,
            "one answer to {method} (id {id})"
        );
    }
    for (method, id) in ids {
        let error = client.response(id).unwrap_err();
        // A `$/` request the server does not serve is MethodNotFound; `$/cancelRequest` is served
        // as a notification only, and the library refuses it as a request.
        let code = if method == "$/cancelRequest" {
            -32600
        } else {
            -32601
        };
        assert_eq!(error["code"], code, "{method}: {error}");
    }
    // Only the requests above were answered: the notifications were not.
    let null_answers = client.count_responses(&Value::Null);
    assert_eq!(null_answers, 0, "no answer with a null id");
}

#[test]
fn a_second_initialize_sent_before_the_first_is_answered_is_refused() {
    let mut client = spawn();
    let params = json!({"processId": null, "rootUri": null, "capabilities": {}});
    let request = |id: i64| {
        let message = json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": params});
        frame(message.to_string().as_bytes())
    };
    // Both in one write: the server reads the second before it has answered the first.
    let mut both = request(1);
    both.extend(request(2));
    client.send_raw(&both);
    let first = client.response(1).expect("the first initialize succeeds");
    assert_eq!(first["serverInfo"]["name"], "augur");
    let second = client.response(2).unwrap_err();
    assert_eq!(second["code"], -32600, "InvalidRequest: {second}");
    // A third, after the first answer, is refused too, and the session goes on.
    client.send_raw(&request(3));
    assert_eq!(client.response(3).unwrap_err()["code"], -32600);
    client.notify("initialized", json!({}));
    assert!(client.request("augur/status", Value::Null).is_ok());
    assert_eq!(finish(&mut client), Some(0));
    for id in 1..=3 {
        // Each was taken above; none came twice.
        assert_eq!(
            client.count_responses(&json!(id)),
            0,
            "id {id} answered twice"
        );
    }
}

#[test]
fn exit_with_an_id_is_answered_then_the_process_exits_with_the_right_code() {
    for shut_down in [true, false] {
        let mut client = started();
        if shut_down {
            client.request("shutdown", Value::Null).unwrap();
        }
        let id = client.send_request("exit", Value::Null);
        let code = client.wait().code();
        client.read_to_end();
        assert_eq!(
            code,
            Some(if shut_down { 0 } else { 1 }),
            "shutdown first: {shut_down}"
        );
        assert_eq!(client.count_responses(&json!(id)), 1, "exit answered once");
        assert_eq!(client.response(id), Ok(Value::Null));
    }
}

#[test]
fn exit_right_after_initialized_logs_no_panic_for_the_cancelled_indexing() {
    let root = tempfile::tempdir().unwrap();
    for i in 0..50 {
        std::fs::write(
            root.path().join(format!("m{i}.py")),
            format!("x{i} = {i}\n"),
        )
        .unwrap();
    }
    // The race (indexing not yet started on its thread when the runtime stops) is not certain in
    // any one session, so several are run.
    for session in 0..12 {
        let cache = tempfile::tempdir().unwrap();
        let log = cache.path().join("augur.log");
        let options = SpawnOptions {
            args: vec!["--log-file".into(), log.display().to_string()],
            env: vec![
                ("AUGUR_CACHE_DIR".into(), cache.path().display().to_string()),
                ("AUGUR_LOG".into(), "augur=debug".into()),
            ],
            ..Default::default()
        };
        let mut client = StdioClient::spawn(Path::new(BIN), options).unwrap();
        client.initialize(
            capabilities(&["utf-16"]),
            json!({"workspaceFolders": [{"uri": uri(root.path()), "name": "ws"}]}),
        );
        client.notify("exit", Value::Null);
        assert_eq!(client.wait().code(), Some(1), "session {session}");
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            !text.contains("panicked") && !text.contains(" ERROR "),
            "session {session}: a cancelled task is not an error:\n{text}"
        );
    }
}

/// `Content-Length` and a header line of `padding` bytes, then `body`.
fn frame_with_padding(body: &[u8], padding: usize) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\nX-Padding: ", body.len()).into_bytes();
    out.resize(out.len() + padding, b'a');
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
    out
}

#[test]
fn a_header_line_of_megabytes_is_refused_and_the_next_request_is_answered() {
    let mut client = started();
    let refused = json!({"jsonrpc": "2.0", "id": 50, "method": "augur/status"});
    client.send_raw(&frame_with_padding(
        refused.to_string().as_bytes(),
        4 * 1024 * 1024,
    ));
    // Too many header lines: refused as well.
    let mut many = String::new();
    for i in 0..40 {
        many.push_str(&format!("X-Header-{i}: {i}\r\n"));
    }
    let also_refused = json!({"jsonrpc": "2.0", "id": 51, "method": "augur/status"}).to_string();
    many.push_str(&format!(
        "Content-Length: {}\r\n\r\n{also_refused}",
        also_refused.len()
    ));
    client.send_raw(many.as_bytes());
    let answered = client.send_request("augur/status", Value::Null);
    assert!(client.response(answered).is_ok(), "the next request works");

    let errors: Vec<Value> = (0..2)
        .map(|_| client.raw_response(Value::Null).expect("a framing error"))
        .collect();
    let messages: Vec<&str> = errors
        .iter()
        .map(|e| e["error"]["message"].as_str().unwrap_or_default())
        .collect();
    assert!(
        messages[0].contains("header line") && messages[0].contains("8192"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("header lines") && messages[1].contains("32"),
        "{messages:?}"
    );
    assert_eq!(finish(&mut client), Some(0));
    for id in [50, 51] {
        assert_eq!(
            client.count_responses(&json!(id)),
            0,
            "the frame of request {id} is refused whole (its answer is the error with id null)"
        );
    }
    assert_eq!(client.count_responses(&json!(answered)), 0, "taken above");
}
