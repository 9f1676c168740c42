//! A tower layer around the whole service: every message gets a tracing span with its id and
//! method, and a panic in a handler becomes an error response for that request (or a logged error
//! for a notification) instead of a dead server.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::FutureExt;
use futures::future::BoxFuture;
use tower::Service;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Request, Response};
use tracing::Instrument;

/// Wraps a service with spans and panic isolation.
#[derive(Debug, Clone)]
pub struct Guarded<S> {
    inner: S,
}

impl<S> Guarded<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

impl<S> Service<Request> for Guarded<S>
where
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Option<Response>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Option<Response>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let method = req.method().to_owned();
        let id = req.id().cloned();
        let span = match &id {
            Some(id) => tracing::info_span!("request", %id, %method),
            None => tracing::info_span!("notification", %method),
        };
        let started = Instant::now();
        let fut = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        async move {
            let result = AssertUnwindSafe(fut).catch_unwind().await;
            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            match result {
                Ok(response) => {
                    tracing::debug!(elapsed_ms, "done");
                    response
                }
                Err(payload) => {
                    let message = panic_message(payload.as_ref());
                    tracing::error!(elapsed_ms, %message, "handler panicked; the server goes on");
                    Ok(id.map(|id| {
                        Response::from_error(
                            id,
                            Error {
                                code: ErrorCode::InternalError,
                                message: format!("augur: internal error in {method}: {message}")
                                    .into(),
                                data: None,
                            },
                        )
                    }))
                }
            }
        }
        .instrument(span)
        .boxed()
    }
}
