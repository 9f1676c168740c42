//! Secrets never leave in a request: the one place every model request passes
//! ([`LlmClient::complete`](crate::llm::LlmClient::complete) and
//! [`LlmClient::stream`](crate::llm::LlmClient::stream)) replaces the secrets of its texts by
//! placeholders (see [`crate::secrets`]) before the cache, the limits and the HTTP call see it, and
//! puts the values back into the answer, so completions and code actions get the user's text
//! whatever the model repeats. The cache holds only placeholders.

use std::sync::Arc;

use crate::llm::error::LlmError;
use crate::llm::types::{Completion, CompletionRequest, StreamEvent};
use crate::secrets::{Redactions, Redactor, StreamRestore};

/// Replaces the secrets of `request` (prompt and suffix looked at as one text, context from other
/// files, stop sequences) by placeholders; returns what was replaced, or `None` if nothing was.
pub fn redact_request(request: &mut CompletionRequest) -> Option<Arc<Redactions>> {
    let mut inputs: Vec<&str> = Vec::with_capacity(2 + request.extra.len() + request.stop.len());
    inputs.push(&request.prompt);
    inputs.extend(request.suffix.as_deref());
    inputs.extend(request.extra.iter().map(|c| c.text.as_str()));
    inputs.extend(request.stop.iter().map(String::as_str));
    let mut redactor = Redactor::new(&inputs);
    let (prompt, suffix) = match &request.suffix {
        Some(suffix) => match redactor.redact_pair(&request.prompt, suffix) {
            Some((prompt, suffix)) => (Some(prompt), Some(suffix)),
            None => (None, None),
        },
        None => (redactor.redact(&request.prompt), None),
    };
    let extra: Vec<Option<String>> = request
        .extra
        .iter()
        .map(|c| redactor.redact(&c.text))
        .collect();
    let stop: Vec<Option<String>> = request.stop.iter().map(|s| redactor.redact(s)).collect();
    let redactions = redactor.finish();
    if redactions.is_empty() {
        return None;
    }
    if let Some(prompt) = prompt {
        request.prompt = prompt;
    }
    if suffix.is_some() {
        request.suffix = suffix;
    }
    for (context, text) in request.extra.iter_mut().zip(extra) {
        if let Some(text) = text {
            context.text = text;
        }
    }
    for (stop, text) in request.stop.iter_mut().zip(stop) {
        if let Some(text) = text {
            *stop = text;
        }
    }
    tracing::debug!(
        model = %request.model,
        kinds = ?redactions.kinds(),
        "secrets in the request replaced by placeholders"
    );
    Some(Arc::new(redactions))
}

/// A whole answer with the values back in place of their placeholders.
pub fn restore_completion(
    redactions: Option<&Redactions>,
    mut completion: Completion,
) -> Completion {
    if let Some(redactions) = redactions {
        completion.text = redactions.restore(&completion.text).into_owned();
    }
    completion
}

/// The values put back into a streamed answer, item by item.
#[derive(Debug)]
pub(crate) struct RestoringStream {
    restore: StreamRestore,
    /// The answer, waiting while the text held back goes out first.
    queued: Option<Result<StreamEvent, LlmError>>,
}

impl RestoringStream {
    pub(crate) fn new(redactions: Arc<Redactions>) -> RestoringStream {
        RestoringStream {
            restore: StreamRestore::new(redactions),
            queued: None,
        }
    }

    /// An item that waits to be passed on.
    pub(crate) fn take_queued(&mut self) -> Option<Result<StreamEvent, LlmError>> {
        self.queued.take()
    }

    /// The item to pass on for `item`; `None` when nothing is ready yet (a piece that may end
    /// with the start of a placeholder).
    pub(crate) fn map(
        &mut self,
        item: Result<StreamEvent, LlmError>,
    ) -> Option<Result<StreamEvent, LlmError>> {
        match item {
            Ok(StreamEvent::Delta(piece)) => {
                let ready = self.restore.push(&piece);
                (!ready.is_empty()).then_some(Ok(StreamEvent::Delta(ready)))
            }
            Ok(StreamEvent::Done(mut completion)) => {
                completion.text = self.restore.restore(&completion.text).into_owned();
                let rest = self.restore.finish();
                if rest.is_empty() {
                    Some(Ok(StreamEvent::Done(completion)))
                } else {
                    self.queued = Some(Ok(StreamEvent::Done(completion)));
                    Some(Ok(StreamEvent::Delta(rest)))
                }
            }
            Err(error) => Some(Err(error)),
        }
    }
}
