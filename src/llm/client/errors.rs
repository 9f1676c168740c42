//! HTTP error mapping: what a failed attempt means (a transport error, an HTTP status, a body
//! that could not be read or parsed), whether it counts against the endpoint's health, and how
//! long the server asked to wait.

use std::time::Duration;

use tokio::time::{Instant, timeout_at};

use super::EndpointRuntime;
use crate::llm::backend::{ParseError, error_message};
use crate::llm::error::{LlmError, ReplyPart, TimeoutPhase};
use crate::llm::reply::{ERROR_BODY_BYTES, WireError, read_prefix};

/// A failed attempt.
pub(super) struct Failure {
    pub(super) error: LlmError,
    /// Whether the failure says the endpoint is unhealthy (counts for its breaker).
    pub(super) health: bool,
    /// What the server asked to wait.
    pub(super) retry_after: Option<Duration>,
}

impl Failure {
    pub(super) fn unhealthy(error: LlmError) -> Failure {
        Failure {
            error,
            health: true,
            retry_after: None,
        }
    }

    pub(super) fn request(error: LlmError) -> Failure {
        Failure {
            error,
            health: false,
            retry_after: None,
        }
    }
}

/// A reply that passed one of its limits (see [`ReplyLimits`]).
pub(super) fn too_large(endpoint: &EndpointRuntime, part: ReplyPart, limit: u64) -> Failure {
    Failure::unhealthy(LlmError::ReplyTooLarge {
        endpoint: endpoint.display.clone(),
        part,
        limit,
    })
}

/// A body that could not be read whole.
pub(super) fn wire_failure(endpoint: &EndpointRuntime, error: WireError) -> Failure {
    match error {
        WireError::Transport(message) => Failure::unhealthy(LlmError::Interrupted {
            endpoint: endpoint.display.clone(),
            message,
        }),
        WireError::Framing(message) => parse_failure(endpoint, ParseError::new(message)),
        WireError::TooLarge(part, limit) => too_large(endpoint, part, limit),
    }
}

pub(super) fn parse_failure(endpoint: &EndpointRuntime, error: ParseError) -> Failure {
    if error.retryable {
        Failure::unhealthy(LlmError::Interrupted {
            endpoint: endpoint.display.clone(),
            message: error.message,
        })
    } else {
        Failure::unhealthy(LlmError::Protocol {
            endpoint: endpoint.display.clone(),
            message: error.message,
        })
    }
}

pub(super) fn transport_error(
    endpoint: &EndpointRuntime,
    error: reqwest::Error,
    connect_timeout: Duration,
) -> LlmError {
    let is_connect = error.is_connect();
    let is_timeout = error.is_timeout();
    // The URL may carry credentials; describe the error without it, with its causes.
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if is_connect && is_timeout {
        LlmError::Timeout {
            endpoint: endpoint.display.clone(),
            phase: TimeoutPhase::Connect,
            after: connect_timeout,
        }
    } else if is_connect {
        LlmError::Connect {
            endpoint: endpoint.display.clone(),
            backend: endpoint.backend.name().into(),
            message,
        }
    } else {
        LlmError::Interrupted {
            endpoint: endpoint.display.clone(),
            message,
        }
    }
}

/// Reads `retry-after-ms` (milliseconds) or `retry-after` (seconds, or an HTTP date such as
/// `Sun, 06 Nov 1994 08:49:37 GMT`).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let number = |name: &str| {
        text(name)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    number("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms.min(86_400_000.0) / 1000.0))
        .or_else(|| number("retry-after").map(|s| Duration::from_secs_f64(s.min(86_400.0))))
        .or_else(|| {
            let at = http_date(text("retry-after")?)?;
            Some(
                at.duration_since(std::time::SystemTime::now())
                    .unwrap_or(Duration::ZERO),
            )
        })
}

/// Parses an HTTP date in any of the forms RFC 9110 asks recipients to accept (IMF-fixdate such as
/// `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 and asctime).
fn http_date(text: &str) -> Option<std::time::SystemTime> {
    httpdate::parse_http_date(text).ok()
}

pub(super) async fn status_failure(
    endpoint: &EndpointRuntime,
    response: reqwest::Response,
    deadline: Instant,
) -> Failure {
    let status = response.status().as_u16();
    let wait = retry_after(response.headers());
    let body_deadline = deadline.min(Instant::now() + Duration::from_secs(2));
    // Only the start of the body is read: the message is cut short anyway.
    let body = timeout_at(body_deadline, read_prefix(response, ERROR_BODY_BYTES))
        .await
        .unwrap_or_default();
    let message = error_message(&String::from_utf8_lossy(&body));
    let display = endpoint.display.clone();
    match status {
        401 | 403 => Failure::request(LlmError::Unauthorized {
            endpoint: display,
            status,
            env: endpoint.api_key_env.clone(),
            message,
        }),
        429 => Failure {
            error: LlmError::RateLimited {
                endpoint: display,
                retry_after: wait,
            },
            health: false,
            retry_after: wait,
        },
        404 if message.to_lowercase().contains("model") => Failure::request(LlmError::BadRequest {
            endpoint: display,
            status,
            message,
        }),
        404 | 405 | 501 => Failure::request(LlmError::Unsupported {
            endpoint: display,
            status,
            message,
        }),
        408 | 425 | 500..=599 => Failure {
            error: LlmError::Server {
                endpoint: display,
                status,
                message,
            },
            health: true,
            retry_after: wait,
        },
        _ => Failure::request(LlmError::BadRequest {
            endpoint: display,
            status,
            message,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn http_dates_parse() {
        let at = http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            784_111_777
        );
        let leap = http_date("Thu, 29 Feb 2024 00:00:00 GMT").unwrap();
        assert_eq!(
            leap.duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_709_164_800
        );
        assert!(http_date("yesterday").is_none());
        assert!(http_date("Sun, 06 Foo 1994 08:49:37 GMT").is_none());
    }

    #[test]
    fn retry_after_forms() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        let mut headers = HeaderMap::new();
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(
            retry_after(&headers),
            Some(Duration::ZERO),
            "a past date means now"
        );
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn retry_after_future_dates_wait_until_then() {
        let at = std::time::SystemTime::now() + Duration::from_secs(120);
        let mut headers = HeaderMap::new();
        headers.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(at)).unwrap(),
        );
        let wait = retry_after(&headers).expect("an HTTP date in the future is a wait");
        // The date has whole seconds, so the wait is up to a second short of 120 s.
        assert!(
            wait > Duration::from_secs(115) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
    }

    #[test]
    fn retry_after_accepts_the_obsolete_date_forms() {
        // RFC 9110 asks recipients to accept RFC 850 and asctime dates too; both are in the past.
        for date in ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", HeaderValue::from_str(date).unwrap());
            assert_eq!(retry_after(&headers), Some(Duration::ZERO), "{date}");
        }
    }

    #[test]
    fn retry_after_rejects_malformed_dates() {
        for date in [
            "yesterday",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "-5",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", HeaderValue::from_str(date).unwrap());
            assert_eq!(retry_after(&headers), None, "{date}");
        }
    }
}
