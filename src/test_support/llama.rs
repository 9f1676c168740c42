//! The real llama.cpp server with a small real model, for end-to-end tests: uses the one at
//! `AUGUR_LLAMA_URL` if set, else starts the one `scripts/local-model.sh install` set up (in the
//! repository, or in `AUGUR_LLM_DIR`) on a free port, and stops it when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The model file `scripts/local-model.sh install` puts in `.llm-models`.
pub const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// A running (or borrowed) llama.cpp server.
pub struct LlamaServer {
    /// Its base URL, without `/v1`.
    pub url: String,
    child: Option<Child>,
    /// Its log file, when this process started it.
    pub log: Option<PathBuf>,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether `GET {url}/health` answers `ok`.
pub fn healthy(url: &str) -> bool {
    let Some(host) = url.strip_prefix("http://") else {
        return false;
    };
    let host = host.trim_end_matches('/');
    let Ok(mut stream) = TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.1 200") && reply.contains("ok")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18090)
}

impl LlamaServer {
    /// Finds or starts the server; panics with the way to install it when there is none.
    pub fn start() -> LlamaServer {
        if let Ok(url) = std::env::var("AUGUR_LLAMA_URL") {
            let url = url.trim_end_matches('/').trim_end_matches("/v1").to_owned();
            assert!(
                healthy(&url),
                "AUGUR_LLAMA_URL={url} does not answer /health"
            );
            return LlamaServer {
                url,
                child: None,
                log: None,
            };
        }
        let root = std::env::var_os("AUGUR_LLM_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let models = root.join(".llm-models");
        let binary = [
            models.join("llama-server"),
            root.join(".venv-llm/bin/llama-server-vulkan"),
        ]
        .into_iter()
        .find(|p| p.exists());
        let model = models.join(MODEL_FILE);
        let (Some(binary), true) = (binary, model.exists()) else {
            panic!(
                "no real model server: run `scripts/local-model.sh install`, or start one and set \
                 AUGUR_LLAMA_URL (looked in {})",
                models.display()
            );
        };
        let port = free_port();
        let log = std::env::temp_dir().join(format!("augur-llama-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("a log file");
        let log_copy = log_file.try_clone().expect("a log file handle");
        let child = Command::new(&binary)
            .args(["-m", &model.display().to_string(), "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "-c", "2048", "-t", "2"])
            .stdout(log_copy)
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let server = LlamaServer {
            url: format!("http://127.0.0.1:{port}"),
            child: Some(child),
            log: Some(log),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while !healthy(&server.url) {
            assert!(
                Instant::now() < deadline,
                "llama-server did not become healthy: see {}",
                server.log_text_path()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    fn log_text_path(&self) -> String {
        self.log
            .as_deref()
            .map(Path::display)
            .map(|d| d.to_string())
            .unwrap_or_default()
    }

    /// The server's log so far (empty when it was not started here).
    pub fn log_text(&self) -> String {
        self.log
            .as_deref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }
}
