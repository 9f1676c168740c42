//! The command line: version, help and `check-config`, including where the user file is found.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_augur");

/// Runs `augur check-config` in `cwd` with exactly the given variables for the user file's
/// location (`AUGUR_CONFIG`, `XDG_CONFIG_HOME` and `HOME` are removed unless given).
fn check_config_in(cwd: &Path, env: &[(&str, &Path)]) -> (i32, String, String) {
    let mut command = Command::new(BIN);
    command
        .arg("check-config")
        .current_dir(cwd)
        .env_remove("AUGUR_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("HOME")
        .env_remove("AUGUR_LOG");
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().expect("augur runs");
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

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

#[test]
fn check_config_refuses_a_misspelt_model_setting_with_file_field_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("augur.toml");
    for (text, field, wrong) in [
        (
            "[models.default]\nbackend = \"olama\"\n",
            "models.default.backend",
            "olama",
        ),
        (
            "[models.default]\nstrategy = \"round-robin\"\n",
            "models.default.strategy",
            "round-robin",
        ),
        (
            "[models.default]\napi = \"chats\"\n",
            "models.default.api",
            "chats",
        ),
        (
            "[models.fast]\nendpoints = [{ url = \"http://127.0.0.1:1\", backend = \"openia\" }]\n",
            "models.fast.endpoints",
            "openia",
        ),
    ] {
        std::fs::write(&ws, text).unwrap();
        let (code, out, err) = augur(&["check-config", ws.to_str().unwrap()], "/nonexistent");
        assert_eq!(code, 1, "a misspelt value fails the check: {text}\n{err}");
        assert!(err.contains("augur.toml"), "the file: {err}");
        assert!(err.contains(field), "the field {field}: {err}");
        assert!(err.contains(&format!("unknown variant `{wrong}`")), "{err}");
        assert!(
            err.contains("Use one of the values the message lists"),
            "the fix: {err}"
        );
        assert!(!err.contains("configuration OK"), "{err}");
        // The layer is left out: the merged configuration keeps the default model's backend.
        assert!(!out.contains(wrong), "{out}");
    }
}

#[test]
fn check_config_without_a_path_reads_the_workspace_file_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let cwd = dir.path().join("project");
    write(
        &cwd.join("augur.toml"),
        "[models.default]\nmodel = \"from-cwd\"\n",
    );
    let (code, out, err) = check_config_in(&cwd, &[("HOME", &home)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("model = \"from-cwd\""), "{out}");
    assert!(err.contains("read augur.toml"), "{err}");
    // `.augur.toml` is found too when there is no `augur.toml`.
    std::fs::rename(cwd.join("augur.toml"), cwd.join(".augur.toml")).unwrap();
    let (code, out, err) = check_config_in(&cwd, &[("HOME", &home)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("model = \"from-cwd\""), "{out}");
    // Without either, only the defaults (and the user file) are used.
    std::fs::remove_file(cwd.join(".augur.toml")).unwrap();
    let (code, out, err) = check_config_in(&cwd, &[("HOME", &home)]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("from-cwd"), "{out}");
}

#[test]
fn the_user_file_is_found_through_xdg_config_home_then_home() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    let home = dir.path().join("home");
    let xdg = dir.path().join("xdg");
    let home_file = home.join(".config/augur/config.toml");
    let xdg_file = xdg.join("augur/config.toml");
    write(&home_file, "[models.default]\nmodel = \"from-home\"\n");
    write(&xdg_file, "[models.default]\nmodel = \"from-xdg\"\n");

    let (code, out, err) = check_config_in(&cwd, &[("HOME", &home), ("XDG_CONFIG_HOME", &xdg)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("model = \"from-xdg\""), "{out}");
    assert!(
        err.contains(&format!("read {}", xdg_file.display())),
        "{err}"
    );

    // Without XDG_CONFIG_HOME (or with it empty), ~/.config is used.
    let (code, out, err) = check_config_in(&cwd, &[("HOME", &home)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("model = \"from-home\""), "{out}");
    assert!(
        err.contains(&format!("read {}", home_file.display())),
        "{err}"
    );
    let empty = Path::new("");
    let (_, out, _) = check_config_in(&cwd, &[("HOME", &home), ("XDG_CONFIG_HOME", empty)]);
    assert!(out.contains("model = \"from-home\""), "{out}");

    // AUGUR_CONFIG wins over both.
    let named = dir.path().join("named.toml");
    write(&named, "[models.default]\nmodel = \"from-augur-config\"\n");
    let (_, out, _) = check_config_in(
        &cwd,
        &[
            ("HOME", &home),
            ("XDG_CONFIG_HOME", &xdg),
            ("AUGUR_CONFIG", &named),
        ],
    );
    assert!(out.contains("model = \"from-augur-config\""), "{out}");
}

#[test]
fn check_config_warns_that_a_workspace_log_file_is_ignored_but_passes() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("augur.toml");
    std::fs::write(&ws, "[log]\nlevel = \"debug\"\nfile = \"here.log\"\n").unwrap();
    let (code, out, err) = augur(&["check-config", ws.to_str().unwrap()], "/nonexistent");
    assert_eq!(code, 0, "a warning is not an error: {err}");
    assert!(
        err.contains("ignored augur setting") && err.contains("`log.file`"),
        "{err}"
    );
    assert!(err.contains("configuration OK"), "{err}");
    assert!(out.contains("level = \"debug\""), "{out}");
    assert!(
        !out.contains("here.log"),
        "the ignored file is not shown as used: {out}"
    );
    std::fs::write(&ws, "[log]\nlevel = \"augur=loud\"\n").unwrap();
    let (code, _, err) = augur(&["check-config", ws.to_str().unwrap()], "/nonexistent");
    assert_eq!(code, 1);
    assert!(err.contains("`log.level`"), "{err}");
}
