//! `augur editor helix`: the committed `editors/helix/languages.toml` is exactly what the command
//! prints, and `--append-to` adds only what a file lacks, refuses bad files untouched, and leaves
//! a language the user already lists servers for alone.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_augur");

/// Runs `augur editor helix` with `args`: exit code, stdout, stderr.
fn helix(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(["editor", "helix"])
        .args(args)
        .env("AUGUR_CONFIG", "/nonexistent/augur-cli-editor.toml")
        .env_remove("AUGUR_LOG")
        .output()
        .expect("augur runs");
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

fn append(path: &Path) -> (i32, String, String) {
    helix(&["--append-to", path.to_str().unwrap()])
}

/// The servers listed for each `[[language]]` of a Helix `languages.toml`, by name, in order.
fn servers(text: &str) -> Vec<(String, Vec<String>)> {
    let parsed: toml::Table = toml::from_str(text).unwrap();
    parsed["language"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let names = l
                .get("language-servers")
                .and_then(toml::Value::as_array)
                .map(|s| {
                    s.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            (l["name"].as_str().unwrap().to_owned(), names)
        })
        .collect()
}

#[test]
fn the_committed_helix_file_is_the_commands_output() {
    let (code, out, err) = helix(&[]);
    assert_eq!(code, 0, "{err}");
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/helix/languages.toml"),
    )
    .unwrap();
    assert!(
        committed == out,
        "editors/helix/languages.toml is out of date: run \
         `cargo run -- editor helix > editors/helix/languages.toml`"
    );
    let languages = servers(&out);
    assert!(languages.len() >= 20, "{languages:?}");
    for (name, servers) in &languages {
        assert_eq!(
            servers.last().map(String::as_str),
            Some("augur"),
            "{name}: {servers:?}"
        );
    }
    let rust = languages.iter().find(|(n, _)| n == "rust").unwrap();
    assert_eq!(rust.1, ["rust-analyzer", "augur"]);
}

#[test]
fn appending_to_a_missing_file_writes_the_whole_set_up_and_a_second_time_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("helix/languages.toml");
    let (code, out, err) = append(&file);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Appended the augur server and augur in"),
        "{out}"
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let whole = helix(&[]).1;
    assert_eq!(servers(&written), servers(&whole));

    let (code, out, err) = append(&file);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("nothing was appended"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        written,
        "unchanged"
    );
}

#[test]
fn appending_keeps_the_users_file_and_their_own_server_lists() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("languages.toml");
    let mine = "# my set-up\n[language-server.augur]\ncommand = \"/opt/augur\"\n\n\
                [[language]]\nname = \"python\"\nlanguage-servers = [\"pyright\"]\n\n\
                [[language]]\nname = \"rust\"\nlanguage-servers = [\"rust-analyzer\", \"augur\"]\n\n\
                [[language]]\nname = \"go\"\nindent = { tab-width = 8, unit = \"\\t\" }";
    std::fs::write(&file, mine).unwrap();
    let (code, out, err) = append(&file);
    assert_eq!(code, 0, "{err}");
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(after.starts_with(mine), "the user's text is kept as it was");
    let parsed: toml::Table = toml::from_str(&after).unwrap();
    assert_eq!(
        parsed["language-server"]["augur"]["command"].as_str(),
        Some("/opt/augur"),
        "no second augur server"
    );
    let languages = servers(&after);
    let count = |name: &str| languages.iter().filter(|(n, _)| n == name).count();
    assert_eq!(count("python"), 1, "python's own list is left alone");
    assert_eq!(count("rust"), 1, "rust already has augur");
    assert_eq!(
        count("go"),
        2,
        "go listed no servers, so augur's block is added"
    );
    assert_eq!(count("typescript"), 1);
    assert!(!out.contains("the augur server"), "{out}");
    assert!(out.contains("python: "), "python is named: {out}");
    assert!(out.contains("add \"augur\""), "{out}");
    assert!(!out.contains("rust: "), "{out}");
}

#[test]
fn bad_files_are_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    for (text, says) in [
        ("[[language]\nname = \"x\"\n", "is not valid TOML"),
        ("language = \"rust\"\n", "`language` is not an array"),
        (
            "language-server = { augur2 = { command = \"x\" } }\n",
            "would not be valid TOML with augur's tables appended",
        ),
    ] {
        let file = dir.path().join("languages.toml");
        std::fs::write(&file, text).unwrap();
        let (code, out, err) = append(&file);
        assert_eq!(code, 1, "{text:?}: {out}");
        assert!(err.contains(says), "{text:?}: {err}");
        assert!(err.contains("nothing was appended"), "{err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "untouched");
    }
    let (code, _, err) = append(dir.path());
    assert_eq!(code, 1);
    assert!(err.contains("cannot read"), "a folder: {err}");
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    let (code, _, err) = append(&binary);
    assert_eq!(code, 1);
    assert!(err.contains("not UTF-8"), "{err}");
}
