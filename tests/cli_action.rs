//! `augur action` from the command line against a scripted fake model on 127.0.0.1: it lists the
//! actions that apply, prints a fix as a unified diff, writes it with `--write`, and refuses an
//! answer that does not parse without touching the file.

#[path = "llm_support/mod.rs"]
mod llm_support;

use std::path::Path;
use std::process::{Command, Output};

use llm_support::{Fake, openai_stream};

const CALC: &str = "def add(a, b):\n    return a - b\n";

fn workspace(fake: &Fake) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join("calc.py"), CALC).unwrap();
    // Where the model is belongs to the user's own file; the workspace file tunes the rest.
    std::fs::write(
        dir.path().join(".git/user-config.toml"),
        format!(
            "[models.default]\nbackend = \"openai\"\nurl = \"{}/v1\"\nmodel = \"fake\"\n",
            fake.url
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("augur.toml"),
        "[models.default]\nretries = 0\n[llm.cache]\nenabled = false\n[index]\nenabled = false\n",
    )
    .unwrap();
    dir
}

fn augur(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_augur"))
        .arg("action")
        .args(args)
        .current_dir(dir)
        .env("AUGUR_CONFIG", dir.join(".git/user-config.toml"))
        .env("AUGUR_CACHE_DIR", dir.join(".cache"))
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn lists_prints_and_writes_a_fix() {
    let (_runtime, fake) = Fake::start_in_background();
    let dir = workspace(&fake);
    let listed = augur(
        dir.path(),
        &["calc.py:2:12-2:17", "--diagnostic", "add subtracts"],
    );
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed = text(&listed.stdout);
    assert!(
        listed.contains("fix          Fix with AI: add subtracts (quickfix)"),
        "{listed}"
    );
    assert!(
        listed.contains("document     Document `add` with AI (source)"),
        "{listed}"
    );
    assert_eq!(fake.calls(), 0, "listing calls no model");

    fake.set_default(openai_stream(&[
        "```python\ndef add(a, b):\n",
        "    return a + b\n```\n",
    ]));
    const FIX: [&str; 5] = [
        "calc.py:2:12-2:17",
        "--action",
        "fix",
        "--diagnostic",
        "add subtracts",
    ];
    let printed = augur(dir.path(), &FIX);
    assert!(printed.status.success(), "{}", text(&printed.stderr));
    assert_eq!(
        text(&printed.stdout),
        "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a - b\n+    return a + b\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("calc.py")).unwrap(),
        CALC
    );
    let prompt = fake.requests()[0].body["prompt"].to_string();
    assert!(prompt.contains("add subtracts"), "{prompt}");

    let written = augur(dir.path(), &[&FIX[..], &["--write"]].concat());
    assert!(written.status.success(), "{}", text(&written.stderr));
    assert_eq!(text(&written.stdout), "wrote calc.py\n");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("calc.py")).unwrap(),
        CALC.replace("a - b", "a + b")
    );
}

#[test]
fn an_answer_that_does_not_parse_changes_nothing() {
    let (_runtime, fake) = Fake::start_in_background();
    let dir = workspace(&fake);
    fake.set_default(openai_stream(&[
        "```python\ndef add(a, b:\n    return (a +\n```\n",
    ]));
    let run = augur(
        dir.path(),
        &[
            "calc.py:2:12-2:17",
            "--action",
            "rewrite",
            "--instruction",
            "fix it",
            "--write",
        ],
    );
    assert!(!run.status.success());
    assert!(
        text(&run.stderr).contains("the model's edit did not parse"),
        "{}",
        text(&run.stderr)
    );
    assert_eq!(fake.calls(), 2, "one retry");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("calc.py")).unwrap(),
        CALC
    );
}

#[cfg(unix)]
#[test]
fn tests_are_not_written_through_a_link_out_of_the_workspace() {
    let (_runtime, fake) = Fake::start_in_background();
    let dir = workspace(&fake);
    // The python tests folder is a link to a folder outside the workspace.
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("tests")).unwrap();
    fake.set_default(openai_stream(&[
        "```python\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n```\n",
    ]));
    let run = augur(dir.path(), &["calc.py:2:5", "--action", "tests", "--write"]);
    assert!(!run.status.success(), "{}", text(&run.stdout));
    assert!(
        text(&run.stderr).contains("outside the workspace folders"),
        "{}",
        text(&run.stderr)
    );
    assert_eq!(fake.calls(), 0, "refused before asking the model");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

/// The command line asks the same exclusion policy as the editor: a file matching an
/// `index.exclude` glob (or a secret pattern) gets no action, and the model is never called.
#[test]
fn an_excluded_file_gets_no_action_and_the_model_is_not_called() {
    let (_runtime, fake) = Fake::start_in_background();
    let dir = workspace(&fake);
    let config = std::fs::read_to_string(dir.path().join("augur.toml")).unwrap();
    std::fs::write(
        dir.path().join("augur.toml"),
        config.replace("[index]\n", "[index]\nexclude = [\"private/**\"]\n"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("private")).unwrap();
    std::fs::write(dir.path().join("private/calc.py"), CALC).unwrap();
    fake.push(openai_stream(&[
        "```python\ndef add(a, b):\n    return a + b\n```\n",
    ]));
    let refused = augur(dir.path(), &["private/calc.py:2:12", "--action", "fix"]);
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("excluded from AI features"), "{stderr}");
    assert_eq!(fake.calls(), 0, "no request reached the model");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("private/calc.py")).unwrap(),
        CALC
    );
}

/// A cloned repository's `augur.toml` cannot send the user's code to a server of its choosing:
/// the model's URL is read only from the user's own file (and the editor), and the ignored field
/// is named on stderr.
#[test]
fn a_workspace_file_cannot_send_the_code_elsewhere() {
    let (_runtime, fake) = Fake::start_in_background();
    let (_runtime2, elsewhere) = Fake::start_in_background();
    let dir = workspace(&fake);
    let config = std::fs::read_to_string(dir.path().join("augur.toml")).unwrap();
    std::fs::write(
        dir.path().join("augur.toml"),
        config.replace(
            "[models.default]\n",
            &format!(
                "[models.default]\nurl = \"{}/v1\"\napi_key_env = \"HOME\"\n",
                elsewhere.url
            ),
        ),
    )
    .unwrap();
    fake.set_default(openai_stream(&[
        "```python\ndef add(a, b):\n    return a + b\n```\n",
    ]));
    let printed = augur(
        dir.path(),
        &[
            "calc.py:2:12-2:17",
            "--action",
            "fix",
            "--diagnostic",
            "add subtracts",
        ],
    );
    let stderr = text(&printed.stderr);
    assert!(printed.status.success(), "{stderr}");
    assert!(text(&printed.stdout).contains("+    return a + b"));
    assert_eq!(elsewhere.calls(), 0, "the workspace's server got nothing");
    assert_eq!(fake.calls(), 1, "the user's server answered");
    assert!(
        fake.requests()[0].headers.get("authorization").is_none(),
        "no key from the workspace's variable: {:?}",
        fake.requests()[0].headers
    );
    assert!(
        stderr.contains("`models.default.url`") && stderr.contains("`models.default.api_key_env`"),
        "{stderr}"
    );
}
