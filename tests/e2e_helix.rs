//! End to end in a real Helix 25.01, driven through tmux: with the `languages.toml` that
//! `augur editor helix` prints (in a private Helix configuration folder, with the model set under
//! `[language-server.augur.config]`), Helix starts augur for a Python file, lists augur's AI
//! suggestion in its completion menu (from the fake model server the protocol tests use), accepts
//! it into the buffer and writes it with `:w`; `space a` lists augur's code actions, and "Document
//! `add` with AI" (resolved through `codeAction/resolve`) edits the buffer.
//!
//! Needs Helix 25.01 (`scripts/deps/helix.sh` puts it in
//! `${AUGUR_HELIX_DIR:-$HOME/.cache/augur/helix}`; `AUGUR_HELIX` may name another `hx`) and tmux
//! (Debian: `apt-get install tmux`).

#[path = "llm_support/mod.rs"]
mod llm_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use llm_support::{Fake, openai_stream};

/// How long to wait for each step on a busy machine (not a speed target).
const STEP: Duration = Duration::from_secs(60);

fn hx() -> PathBuf {
    if let Some(path) = std::env::var_os("AUGUR_HELIX") {
        return PathBuf::from(path);
    }
    let dir = std::env::var_os("AUGUR_HELIX_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/augur/helix")))
        .expect("HOME or AUGUR_HELIX_DIR is set");
    let hx = dir.join("bin/hx");
    assert!(
        hx.is_file(),
        "no Helix 25.01 at {}: run scripts/deps/helix.sh (or set AUGUR_HELIX to an hx)",
        hx.display()
    );
    hx
}

fn check_tmux() {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "tmux is needed to drive Helix: install it (Debian: sudo apt-get install -y tmux)"
    );
}

/// A tmux server of this test's own (its socket in the test's temporary folder), running Helix in
/// one window; killed when dropped.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Sends keys (tmux key names such as `C-x`, `Enter`, `Space`, or literal text with `-l`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "helix"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?}: {out:?}");
    }

    /// The pane's text; with `styles`, with its escape sequences (to tell the selected item).
    fn pane(&self, styles: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", "helix"];
        if styles {
            args.push("-e");
        }
        String::from_utf8_lossy(&self.run(&args).stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// A workspace with a Python file, a Helix configuration with augur's `languages.toml`, and Helix
/// running on the file in tmux.
struct Session {
    tmux: Tmux,
    root: tempfile::TempDir,
    _home: tempfile::TempDir,
    log: PathBuf,
    _runtime: tokio::runtime::Runtime,
    fake: Fake,
}

impl Session {
    fn start(source: &str) -> Session {
        let hx = hx();
        check_tmux();
        let (runtime, fake) = Fake::start_in_background();
        fake.set_default(openai_stream(&["return a + b"]));
        let root = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        // The workspace, with a root marker for Helix.
        std::fs::create_dir(root.path().join(".git")).unwrap();
        std::fs::write(root.path().join("calc.py"), source).unwrap();
        // Helix's configuration: what `augur editor helix` prints, and augur's settings under
        // `[language-server.augur.config]` (which Helix sends as `initializationOptions`), as
        // editors/helix/README.md tells a user to write them.
        let printed = Command::new(env!("CARGO_BIN_EXE_augur"))
            .args(["editor", "helix"])
            .output()
            .unwrap();
        assert!(printed.status.success(), "{printed:?}");
        let settings = format!(
            "\n[language-server.augur.config.models.default]\nbackend = \"openai\"\n\
             url = \"{}\"\nmodel = \"fake\"\nretries = 0\nfirst_token_timeout_ms = 20000\n\
             total_timeout_ms = 30000\n\n[language-server.augur.config.llm.cache]\nenabled = false\n\n\
             [language-server.augur.config.index]\nenabled = false\n",
            fake.v1()
        );
        let config = home.path().join(".config/helix");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("languages.toml"),
            [printed.stdout, settings.into_bytes()].concat(),
        )
        .unwrap();
        // augur's own log, through its user configuration file, shown when a step fails.
        let log = home.path().join("augur.log");
        let user = home.path().join("augur-user.toml");
        std::fs::write(
            &user,
            format!(
                "[log]\nlevel = \"augur=debug\"\nfile = \"{}\"\n",
                log.display()
            ),
        )
        .unwrap();
        // `augur` as Helix starts it: found on PATH, as a user who installed it has it.
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_augur")).parent().unwrap();
        let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .unwrap();
        let tmux = Tmux {
            socket: home.path().join("tmux.sock"),
        };
        // The tmux server started here inherits this environment, and Helix inherits it from tmux.
        let started = Command::new("tmux")
            .arg("-S")
            .arg(&tmux.socket)
            .args(["-f", "/dev/null", "new-session", "-d"])
            .args(["-s", "helix", "-x", "100", "-y", "30", "-c"])
            .arg(root.path())
            .arg(format!("exec '{}' calc.py", hx.display()))
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_CACHE_HOME", home.path().join(".cache"))
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .env("XDG_STATE_HOME", home.path().join(".local/state"))
            .env("AUGUR_CONFIG", &user)
            .env("AUGUR_CACHE_DIR", home.path().join("augur-cache"))
            .env_remove("AUGUR_LOG")
            .env("PATH", path)
            .env("TERM", "xterm-256color")
            .output()
            .expect("tmux runs");
        assert!(started.status.success(), "tmux new-session: {started:?}");
        // Keys must reach Helix at once: Escape is not the start of a longer sequence.
        tmux.run(&["set", "-g", "escape-time", "0"]);
        let session = Session {
            tmux,
            root,
            _home: home,
            log,
            _runtime: runtime,
            fake,
        };
        session.wait("Helix shows calc.py", |s| {
            s.tmux.pane(false).contains("calc.py")
        });
        // Helix starts augur on opening the file; completion asks only once it is initialized.
        session.wait("augur has the file open", |s| {
            std::fs::read_to_string(&s.log).is_ok_and(|l| l.contains("method=textDocument/didOpen"))
        });
        session
    }

    /// The bodies of the completion requests the fake model received.
    fn model_calls(&self) -> Vec<serde_json::Value> {
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/completions"))
            .map(|r| r.body)
            .collect()
    }

    fn file(&self) -> String {
        std::fs::read_to_string(self.root.path().join("calc.py")).unwrap()
    }

    /// Waits until `done` holds, or fails naming `what` with the screen and the logs.
    fn wait(&self, what: &str, done: impl Fn(&Session) -> bool) {
        let deadline = Instant::now() + STEP;
        while !done(self) {
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting until {what}\nscreen:\n{}\naugur log:\n{}\nmodel requests: {:#?}",
                    self.tmux.pane(false),
                    std::fs::read_to_string(&self.log).unwrap_or_default(),
                    self.fake
                        .requests()
                        .iter()
                        .map(|r| (&r.path, r.body.to_string()))
                        .collect::<Vec<_>>()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Writes the buffer with `:w` (from normal mode) and waits for Helix to say it did.
    fn write(&self) {
        self.tmux.keys(&["Escape"]);
        self.tmux.keys(&["-l", ":w"]);
        self.tmux.keys(&["Enter"]);
        self.wait("Helix wrote calc.py", |s| {
            s.tmux.pane(false).contains("written")
        });
    }
}

/// The screen's lines that hold `text`.
fn lines_with<'a>(screen: &'a str, text: &str) -> Vec<&'a str> {
    screen.lines().filter(|l| l.contains(text)).collect()
}

#[test]
fn helix_lists_and_accepts_augurs_completion_item_and_shows_its_code_actions() {
    let source = "def add(a, b):\n    \n";
    let s = Session::start(source);

    // Insert mode at the end of the empty body, then Helix's "complete" key.
    s.tmux.keys(&["j", "A"]);
    s.tmux.keys(&["C-x"]);
    s.wait("augur's item is in the completion menu", |s| {
        !lines_with(&s.tmux.pane(false), "return a + b").is_empty()
    });
    let menu = s.tmux.pane(false);
    assert_eq!(s.file(), source, "nothing is written yet");
    let first = s.model_calls()[0].clone();
    assert_eq!(
        first["prompt"]
            .as_str()
            .map(|p| p.ends_with("def add(a, b):\n    ")),
        Some(true),
        "the prompt ends at Helix's cursor: {first}"
    );
    // The menu item sits below the buffer's text (line 2 is still empty there).
    let item = lines_with(&menu, "return a + b");
    assert_eq!(item.len(), 1, "one item:\n{menu}");
    assert!(!item[0].contains("  2 "), "the item is a menu row:\n{menu}");

    // Select it (Helix previews it in the buffer), accept it, and write the file.
    s.tmux.keys(&["C-n"]);
    s.wait("the selected item's details name augur", |s| {
        s.tmux.pane(false).lines().any(|l| l.trim() == "augur")
    });
    s.tmux.keys(&["Enter"]);
    s.write();
    assert_eq!(s.file(), "def add(a, b):\n    return a + b\n");
    let screen = s.tmux.pane(false);
    assert_eq!(
        lines_with(&screen, "return a + b").len(),
        1,
        "the menu is gone and the buffer holds the suggestion:\n{screen}"
    );

    // `space a` on the function lists augur's actions; the first is selected.
    let completions = s.model_calls().len();
    s.fake.push(openai_stream(&[
        "```python\ndef add(a, b):\n    \"\"\"Adds two numbers.\"\"\"\n    return a + b\n```\n",
    ]));
    s.tmux.keys(&["g", "g"]);
    s.tmux.keys(&["Space", "a"]);
    s.wait("augur's code actions are listed", |s| {
        s.tmux.pane(false).contains("Document `add` with AI")
    });
    let screen = s.tmux.pane(false);
    for title in [
        "Rewrite selection with AI…",
        "Document `add` with AI",
        "Generate tests for `add` with AI",
        "Explain selection with AI",
    ] {
        assert_eq!(lines_with(&screen, title).len(), 1, "{title}:\n{screen}");
    }
    assert_eq!(
        s.model_calls().len(),
        completions,
        "listing actions asks no model"
    );

    // The next one is "Document": Helix resolves it and applies the edit.
    s.tmux.keys(&["C-n"]);
    s.wait("Document is the selected action", |s| {
        lines_with(&s.tmux.pane(true), "Document `add` with AI")
            .iter()
            .any(|l| l.contains("\u{1b}[7m"))
    });
    s.tmux.keys(&["Enter"]);
    s.wait("the docstring is in the buffer", |s| {
        s.tmux.pane(false).contains("\"\"\"Adds two numbers.\"\"\"")
    });
    s.write();
    assert_eq!(
        s.file(),
        "def add(a, b):\n    \"\"\"Adds two numbers.\"\"\"\n    return a + b\n"
    );
    let asked = s.model_calls().last().unwrap()["prompt"].to_string();
    assert!(asked.contains("def add(a, b)"), "{asked}");
}
