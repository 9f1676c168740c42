//! The command line: version, help and `check-config`.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_augur");

fn augur(args: &[&str], config: &str) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("AUGUR_CONFIG", config)
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

#[test]
fn version_and_help() {
    let (code, out, _) = augur(&["--version"], "/nonexistent");
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("augur {}", env!("CARGO_PKG_VERSION")));
    let (code, out, _) = augur(&["--help"], "/nonexistent");
    assert_eq!(code, 0);
    assert!(
        out.contains("serve") && out.contains("check-config"),
        "{out}"
    );
}

#[test]
fn check_config_prints_the_merged_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.toml");
    std::fs::write(&user, "[log]\nlevel = \"debug\"\n").unwrap();
    let ws = dir.path().join("augur.toml");
    std::fs::write(
        &ws,
        "[models.default]\nmodel = \"qwen2.5-coder:1.5b\"\nbackend = \"ollama\"\n",
    )
    .unwrap();
    let (code, out, err) = augur(
        &["check-config", ws.to_str().unwrap()],
        user.to_str().unwrap(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("level = \"debug\""), "{out}");
    assert!(out.contains("model = \"qwen2.5-coder:1.5b\""), "{out}");
    assert!(out.contains("backend = \"ollama\""), "{out}");
    assert!(err.contains("configuration OK"), "{err}");
}

#[test]
fn check_config_names_the_file_the_field_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("augur.toml");
    std::fs::write(&ws, "[index]\nmax_file_bytes = \"big\"\n").unwrap();
    let (code, _, err) = augur(&["check-config", ws.to_str().unwrap()], "/nonexistent");
    assert_eq!(code, 1);
    assert!(
        err.contains("augur.toml") && err.contains("index.max_file_bytes"),
        "{err}"
    );
    std::fs::write(&ws, "[index\n").unwrap();
    let (code, _, err) = augur(&["check-config", ws.to_str().unwrap()], "/nonexistent");
    assert_eq!(code, 1);
    assert!(
        err.contains("not valid TOML") && err.contains("line 1"),
        "{err}"
    );
    let (code, _, err) = augur(&["check-config", "/no/such/file.toml"], "/nonexistent");
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
}
