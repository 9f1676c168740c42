//! A tower layer around the whole service: every message gets a tracing span with its id and
//! method, a panic in a handler becomes an error response for that request (or a logged error
//! for a notification) instead of a dead server, and two protocol rules the library leaves open
//! are kept:
//!
//! - **every request gets exactly one answer.** The library drops its `MethodNotFound` answer to
//!   a `$/` method (right for notifications, which may be ignored, but a `$/foo` request with an
//!   id must be answered), and answers nothing to `exit` sent with an id. Here a request the
//!   service left unanswered gets `MethodNotFound` (-32601), and `exit` with an id gets a `null`
//!   result: it is still the exit notification (the process ends, with 0 after `shutdown` and 1
//!   otherwise), and the client waiting for the id is answered before the output closes;
//! - **one `initialize`.** The library refuses a repeated `initialize` only once the first one has
//!   been answered; the transport calls the service for each message as it is read, so a second
//!   `initialize` sent right behind the first would run too. Here a second `initialize` while the
//!   first runs, or after it succeeded, gets `InvalidRequest` (-32600), as the library answers a
//!   late one. A failed `initialize` may be retried.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;
use tower::Service;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Id, Request, Response};
use tracing::Instrument;

/// No `initialize` has succeeded and none is running.
const INIT_NONE: u8 = 0;
/// An `initialize` is running.
const INIT_RUNNING: u8 = 1;
/// An `initialize` has succeeded.
const INIT_DONE: u8 = 2;

/// Wraps a service with spans, panic isolation, one answer per request and one `initialize`.
#[derive(Debug, Clone)]
pub struct Guarded<S> {
    inner: S,
    /// Where `initialize` stands: [`INIT_NONE`], [`INIT_RUNNING`] or [`INIT_DONE`].
    init: Arc<AtomicU8>,
}

impl<S> Guarded<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            init: Arc::new(AtomicU8::new(INIT_NONE)),
        }
    }
}

/// The answer to a request the service left unanswered (`None` for a notification).
fn unanswered(id: Option<Id>, method: &str) -> Option<Response> {
    let id = id?;
    if method == "exit" {
        return Some(Response::from_ok(id, Value::Null));
    }
    let mut error = Error::method_not_found();
    error.data = Some(Value::String(method.to_owned()));
    Some(Response::from_error(id, error))
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
        let is_initialize = method == "initialize";
        if is_initialize
            && self
                .init
                .compare_exchange(INIT_NONE, INIT_RUNNING, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
        {
            let _entered = span.enter();
            tracing::warn!("a repeated initialize is refused");
            let response = id.map(|id| {
                let mut error = Error::invalid_request();
                error.message = "Invalid request: initialize was already received".into();
                Response::from_error(id, error)
            });
            return futures::future::ready(Ok(response)).boxed();
        }
        let init = self.init.clone();
        let started = Instant::now();
        let fut = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        async move {
            let result = AssertUnwindSafe(fut).catch_unwind().await;
            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            let response = match result {
                Ok(Ok(None)) if id.is_some() => {
                    tracing::debug!(elapsed_ms, "done; answered here, the service did not");
                    Ok(unanswered(id, &method))
                }
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
            };
            if is_initialize {
                let succeeded = matches!(&response, Ok(Some(r)) if r.is_ok());
                init.store(
                    if succeeded { INIT_DONE } else { INIT_NONE },
                    Ordering::SeqCst,
                );
            }
            response
        }
        .instrument(span)
        .boxed()
    }
}
