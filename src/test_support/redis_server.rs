//! A real `redis-server` for the shared-tier tests and the bench: each [`RedisServer`] is a
//! server of its own on a free port of 127.0.0.1, without persistence, stopped when dropped. A
//! missing `redis-server` fails with the command that installs it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to install the server the tests need.
pub const INSTALL: &str = "scripts/deps/redis.sh (or: sudo apt-get install redis-server)";

/// A running `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    password: Option<String>,
}

/// A port of 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("the bound address").port()
}

impl RedisServer {
    /// A server on a free port.
    pub fn start() -> RedisServer {
        RedisServer::start_on(free_port(), None)
    }

    /// A server that wants `password`.
    pub fn with_password(password: &str) -> RedisServer {
        RedisServer::start_on(free_port(), Some(password))
    }

    /// A server on `port` (to bring one back where it was), ready when this returns.
    pub fn start_on(port: u16, password: Option<&str>) -> RedisServer {
        let mut command = Command::new("redis-server");
        command.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
        ]);
        if let Some(password) = password {
            command.args(["--requirepass", password]);
        }
        let child = match command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => panic!("cannot run redis-server ({e}); install it with {INSTALL}"),
        };
        let server = RedisServer {
            child: Some(child),
            port,
            password: password.map(str::to_owned),
        };
        server.wait_ready(Duration::from_secs(10));
        server
    }

    fn wait_ready(&self, within: Duration) {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut reply = [0u8; 64];
                if stream.write_all(b"PING\r\n").is_ok()
                    && let Ok(n) = stream.read(&mut reply)
                    && n > 0
                    && !reply.starts_with(b"-LOADING")
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "redis-server on port {} did not start within {within:?}",
            self.port
        );
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL (without the password: that goes through `redis_password_env`).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The password it wants, if any.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// Kills the server at once (SIGKILL) and waits for it to end.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A server that accepts connections and never answers, on a thread of its own, until the
/// process ends. Returns its URL.
pub fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    let port = listener.local_addr().expect("the bound address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            // Kept open and never read from or written to.
            held.push(stream);
        }
    });
    format!("redis://127.0.0.1:{port}/0")
}
