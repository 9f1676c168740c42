//! Stdin and stdout for the transport, without a thread hop per message where the platform allows.
//!
//! Tokio's own `stdin()` and `stdout()` do every read and write on its blocking thread pool: each
//! message in and each message out wakes another thread and waits for it, which costs tens of
//! microseconds per message on a busy machine. Editors start language servers with pipes (most) or
//! Unix sockets (libuv, so Neovim and VS Code's Node), and both can be polled: when stdin or stdout
//! is one, a duplicate of its descriptor is put in non-blocking mode and driven by the runtime's
//! reactor, on whichever thread runs the transport. Anything else (a terminal, a regular file)
//! keeps tokio's blocking-pool streams.
//!
//! ```no_run
//! # async fn run() {
//! let (input, output) = (augur::lsp::stdio::input(), augur::lsp::stdio::output());
//! # drop((input, output));
//! # }
//! ```

use tokio::io::{AsyncRead, AsyncWrite};

/// Stdin as the transport reads it. Call from within a tokio runtime with I/O enabled.
pub fn input() -> Box<dyn AsyncRead + Unpin + Send> {
    #[cfg(unix)]
    if let Some(polled) = unix::input() {
        return polled;
    }
    Box::new(tokio::io::stdin())
}

/// Stdout as the transport writes it. Call from within a tokio runtime with I/O enabled.
pub fn output() -> Box<dyn AsyncWrite + Unpin + Send> {
    #[cfg(unix)]
    if let Some(polled) = unix::output() {
        return polled;
    }
    Box::new(tokio::io::stdout())
}

#[cfg(unix)]
mod unix {
    use std::fs::File;
    use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
    use std::os::unix::fs::FileTypeExt;

    use tokio::io::{AsyncRead, AsyncWrite};

    /// What kind of pollable stream a descriptor is, if it is one.
    enum Kind {
        Pipe,
        Socket,
    }

    /// A duplicate of `fd` and its kind, when it is a pipe or a socket.
    fn pollable(fd: BorrowedFd<'_>) -> Option<(OwnedFd, Kind)> {
        let owned = fd.try_clone_to_owned().ok()?;
        let file = File::from(owned);
        let kind = file.metadata().ok()?.file_type();
        let kind = if kind.is_fifo() {
            Kind::Pipe
        } else if kind.is_socket() {
            Kind::Socket
        } else {
            return None;
        };
        Some((OwnedFd::from(file), kind))
    }

    /// A socket registered with the reactor (it is set non-blocking first).
    fn socket(fd: OwnedFd) -> Option<tokio::net::UnixStream> {
        let stream = std::os::unix::net::UnixStream::from(fd);
        stream.set_nonblocking(true).ok()?;
        tokio::net::UnixStream::from_std(stream).ok()
    }

    pub(super) fn input() -> Option<Box<dyn AsyncRead + Unpin + Send>> {
        let stdin = std::io::stdin();
        let (fd, kind) = pollable(stdin.as_fd())?;
        let reader: Box<dyn AsyncRead + Unpin + Send> = match kind {
            // `from_owned_fd` checks the end and sets the descriptor non-blocking.
            Kind::Pipe => Box::new(tokio::net::unix::pipe::Receiver::from_owned_fd(fd).ok()?),
            Kind::Socket => Box::new(socket(fd)?),
        };
        tracing::debug!("stdin is read through the reactor");
        Some(reader)
    }

    pub(super) fn output() -> Option<Box<dyn AsyncWrite + Unpin + Send>> {
        let stdout = std::io::stdout();
        let (fd, kind) = pollable(stdout.as_fd())?;
        let writer: Box<dyn AsyncWrite + Unpin + Send> = match kind {
            Kind::Pipe => Box::new(tokio::net::unix::pipe::Sender::from_owned_fd(fd).ok()?),
            Kind::Socket => Box::new(socket(fd)?),
        };
        tracing::debug!("stdout is written through the reactor");
        Some(writer)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::os::unix::net::UnixStream;

        #[test]
        fn only_pipes_and_sockets_are_pollable() {
            let (a, _b) = UnixStream::pair().unwrap();
            assert!(matches!(pollable(a.as_fd()), Some((_, Kind::Socket))));
            let file = tempfile::tempfile().unwrap();
            assert!(pollable(file.as_fd()).is_none());
        }

        #[tokio::test]
        async fn a_socket_carries_bytes_both_ways() {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (ours, theirs) = UnixStream::pair().unwrap();
            let mut stream = socket(OwnedFd::from(ours)).unwrap();
            let mut theirs = tokio::net::UnixStream::from_std({
                theirs.set_nonblocking(true).unwrap();
                theirs
            })
            .unwrap();
            theirs.write_all(b"ping").await.unwrap();
            let mut buf = [0; 4];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping");
            stream.write_all(b"pong").await.unwrap();
            theirs.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"pong");
        }
    }
}
