//! The run of one action: prompt, streamed model call, reply parsing, minimal edits, syntax check
//! and one retry with the parser's complaint.

use std::time::Duration;

use futures::StreamExt;

use crate::edits::{
    FileCreation, FileEdits, SyntaxBaseline, SyntaxRegression, ValidationError, WorkspaceEditPlan,
    check_path,
};
use crate::llm::{CompletionRequest, LlmClient, LlmError, Priority, StreamEvent};
use crate::runtime::cpu_bound;
use crate::syntax::Language;

use super::job::{CandidateChange, Job, Output};
use super::{
    ActionError, ActionId, ActionOutcome, ActionProgress, ActionRequest, custom, display_path,
    document, explain, fix, generate_tests, reply, rewrite, shapes,
};

/// Runs one action to its outcome.
///
/// The prompt holds the diagnostics, the enclosing function or class and definitions the code
/// uses from the workspace index. The answer is streamed at [`Priority::Action`] with progress
/// per piece; its code becomes the smallest edits, which must add no syntax error: a first
/// refusal asks the model once more with the parser's complaint, a second fails with
/// [`ActionError::DidNotParse`]. Every path is checked against the workspace roots, with symbolic
/// links followed (the document's before the model runs). Dropping the future cancels the model
/// call.
pub async fn run_action(
    llm: &LlmClient,
    request: ActionRequest,
    progress: &dyn ActionProgress,
) -> Result<ActionOutcome, ActionError> {
    let result = run_inner(llm, &request, progress).await;
    progress.end(&match &result {
        Ok(_) => "done".to_owned(),
        Err(e) => e.to_string(),
    });
    result
}

async fn run_inner(
    llm: &LlmClient,
    request: &ActionRequest,
    progress: &dyn ActionProgress,
) -> Result<ActionOutcome, ActionError> {
    let ctx = &request.context;
    let job = match &request.action {
        ActionId::Fix => fix::prepare(request)?,
        ActionId::Document => document::prepare(request)?,
        ActionId::Rewrite => rewrite::prepare(request)?,
        ActionId::GenerateTests => generate_tests::prepare(request)?,
        ActionId::Explain => explain::prepare(request)?,
        ActionId::Custom(id) => custom::prepare(request, id)?,
    };
    // An edit to a document that leads out of the workspace is refused before the model runs.
    if !matches!(job.output, Output::Markdown) {
        check_path(&ctx.path, &request.roots)?;
    }
    progress.begin(&job.title);
    let prompt = build_prompt(request, &job);
    if matches!(job.output, Output::Markdown) {
        let answer = ask(llm, request, prompt, progress).await?;
        let text = explain::markdown_answer(&answer);
        if text.is_empty() {
            return Err(ActionError::EmptyReply);
        }
        return Ok(ActionOutcome::Markdown {
            title: job.title,
            text,
        });
    }
    let language = ctx.known_language()?;
    // The old document is parsed once, for every check, on rayon's pool while the model thinks.
    let (done, parsing) = tokio::sync::oneshot::channel();
    let text = ctx.text.clone();
    rayon::spawn(move || {
        let _ = done.send(SyntaxBaseline::new(language, &text));
    });
    let mut parsing = Some(parsing);
    let mut parsed: Option<SyntaxBaseline> = None;
    let mut attempt_prompt = prompt.clone();
    let mut refusal: Option<SyntaxRegression> = None;
    for attempt in 0..2 {
        if attempt == 1
            && let Some(r) = &refusal
        {
            progress.retrying(&r.to_string());
            attempt_prompt = retry_prompt(&prompt, r);
        }
        let answer = ask(llm, request, attempt_prompt.clone(), progress).await?;
        let candidate = finish(request, &job, &answer)?;
        let baseline = match parsed {
            Some(ref baseline) => baseline,
            None => {
                let received = match parsing.take() {
                    Some(receiver) => receiver.await.ok(),
                    None => None,
                };
                // A parse whose thread failed is done again here.
                parsed.insert(
                    received
                        .unwrap_or_else(|| cpu_bound(|| SyntaxBaseline::new(language, &ctx.text))),
                )
            }
        };
        match cpu_bound(|| check(request, language, baseline, candidate)) {
            Ok(plan) => {
                plan.check_roots(&request.roots)?;
                return Ok(ActionOutcome::Edit {
                    title: job.title,
                    plan,
                });
            }
            Err(CheckError::Syntax(r)) => refusal = Some(r),
            Err(CheckError::Action(e)) => return Err(e),
        }
    }
    Err(ActionError::DidNotParse(refusal.unwrap_or(
        SyntaxRegression {
            before: 0,
            after: 0,
            first_error_line: 0,
            message: "no answer".into(),
        },
    )))
}

/// The prompt: who the model is, the task, the context, the code, and the answer's format.
fn build_prompt(request: &ActionRequest, job: &Job) -> String {
    let ctx = &request.context;
    let lang = ctx.language.map_or("plain text", |l| l.name());
    let fence = ctx.language.map_or("", |l| l.lsp_id());
    let mut prompt = format!(
        "You are an expert {lang} programmer. You are working on the file `{}`.\n\n{}\n",
        display_path(&ctx.path, &request.roots),
        job.task.trim_end()
    );
    let definitions = definitions_section(request, job);
    if !definitions.is_empty() {
        prompt.push_str(&format!(
            "\nDefinitions from the workspace that the code uses:\n```{fence}\n{definitions}```\n"
        ));
    }
    for section in &job.sections {
        prompt.push('\n');
        prompt.push_str(section.trim_end());
        prompt.push('\n');
    }
    if let Some((label, code)) = &job.subject {
        let code = code.replace("\r\n", "\n");
        let newline = if code.ends_with('\n') { "" } else { "\n" };
        prompt.push_str(&format!("\n{label}:\n```{fence}\n{code}{newline}```\n"));
    }
    prompt.push('\n');
    prompt.push_str(job.answer.trim_end());
    prompt.push('\n');
    prompt
}

/// The prompt of the second attempt: the first, plus what the parser said about the answer.
fn retry_prompt(prompt: &str, refusal: &SyntaxRegression) -> String {
    format!(
        "{prompt}\nYour previous answer was refused because the file no longer parsed: {refusal}. \
         Answer again with code that parses.\n"
    )
}

/// Signatures and docs of definitions named in the subject, from the workspace index.
fn definitions_section(request: &ActionRequest, job: &Job) -> String {
    let (Some(index), Some((_, code))) = (&request.index, &job.subject) else {
        return String::new();
    };
    if request.config.max_definitions == 0 {
        return String::new();
    }
    let names = identifiers(code, 32);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let hits = match index.definitions(&names, request.config.max_definitions * 2) {
        Ok(hits) => hits,
        Err(error) => {
            tracing::debug!(%error, "no definitions for an action's prompt");
            return String::new();
        }
    };
    let mut out = String::new();
    for hit in hits
        .iter()
        .filter(|h| h.path != request.context.path)
        .take(request.config.max_definitions)
    {
        out.push_str(&format!("// {}\n", hit.rel_path));
        if let Some(doc) = &hit.doc {
            for line in doc.lines() {
                out.push_str(&format!("// {line}\n"));
            }
        }
        out.push_str(hit.snippet.trim_end());
        out.push('\n');
    }
    out
}

/// Distinct identifiers of `code` that look like names of definitions (three characters or
/// more), in order of appearance.
fn identifiers(code: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in code.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if word.len() >= 3
            && word
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
            && !out.iter().any(|w| w == word)
        {
            out.push(word.to_owned());
            if out.len() == max {
                break;
            }
        }
    }
    out
}

/// One streamed model call; progress reports each piece.
async fn ask(
    llm: &LlmClient,
    request: &ActionRequest,
    prompt: String,
    progress: &dyn ActionProgress,
) -> Result<String, ActionError> {
    let config = &request.config;
    let completion = CompletionRequest {
        prompt,
        max_tokens: Some(config.max_tokens),
        temperature: Some(config.temperature),
        priority: Priority::Action,
        stream: true,
        deadline: Some(Duration::from_millis(config.timeout_ms)),
        use_cache: false,
        ..CompletionRequest::new(config.model.clone())
    };
    let mut stream = llm.stream(completion)?;
    let mut pieces = 0;
    while let Some(item) = stream.next().await {
        match item? {
            StreamEvent::Delta(_) => {
                pieces += 1;
                progress.tokens(pieces);
            }
            StreamEvent::Done(done) => return Ok(done.text),
        }
    }
    // A stream that stops before its answer is whole was cut off: turning the part received into
    // an edit could drop the rest of the user's code.
    Err(ActionError::Llm(LlmError::Cancelled))
}

/// Turns the answer into a candidate according to the job's output.
fn finish(
    request: &ActionRequest,
    job: &Job,
    answer: &str,
) -> Result<CandidateChange, ActionError> {
    let ctx = &request.context;
    match &job.output {
        Output::Replace { range, symbol } => {
            let code = reply::extract_code(answer);
            if code.trim().is_empty() {
                return Err(ActionError::EmptyReply);
            }
            let original = ctx.text.get(range.clone()).unwrap_or("");
            let line_start = ctx.text[..range.start].rfind('\n').map_or(0, |i| i + 1);
            let before = &ctx.text[line_start..range.start];
            if symbol.is_none()
                && let Some(new) = shapes::through_enclosing(ctx, range.clone(), &code)?
            {
                return Ok(CandidateChange::Document(new));
            }
            let replacement = match symbol {
                Some(name) => {
                    // A reply that gives the definition inside its class, or with the
                    // attributes already above it, gives the definition alone.
                    let code = ctx
                        .language
                        .and_then(|l| {
                            shapes::symbol_from_reply(l, &code, name, &ctx.text[..range.start])
                        })
                        .unwrap_or(code);
                    reply::replacement_for_symbol(&code, original, name)
                }
                // A selection that starts after the indentation of its line: the answer's later
                // lines take that indentation, its first line none.
                None if !before.is_empty() && before.trim().is_empty() => {
                    let fitted = reply::fit_to(&code, &format!("{before}{original}"));
                    fitted.strip_prefix(before).unwrap_or(&fitted).to_owned()
                }
                None => reply::fit_to(&code, original),
            };
            let mut new = String::with_capacity(ctx.text.len() + replacement.len());
            new.push_str(&ctx.text[..range.start]);
            new.push_str(&replacement);
            new.push_str(&ctx.text[range.end..]);
            Ok(CandidateChange::Document(new))
        }
        Output::DocComment { symbol } => document::place(ctx, symbol, answer),
        Output::Tests { place, under_test } => {
            generate_tests::place(ctx, place, under_test, answer)
        }
        Output::Markdown => Err(ActionError::Internal(
            "a markdown answer has no edit".into(),
        )),
    }
}

enum CheckError {
    Syntax(SyntaxRegression),
    Action(ActionError),
}

/// The minimal edits of a candidate, checked for syntax.
fn check(
    request: &ActionRequest,
    language: Language,
    baseline: &SyntaxBaseline,
    candidate: CandidateChange,
) -> Result<WorkspaceEditPlan, CheckError> {
    let ctx = &request.context;
    let mut plan = WorkspaceEditPlan::default();
    let refused = |e: ValidationError| match e {
        ValidationError::Syntax(r) => CheckError::Syntax(r),
        ValidationError::Edit(e) => CheckError::Action(ActionError::Internal(e.to_string())),
    };
    match candidate {
        CandidateChange::Document(new) => {
            let edits = baseline.checked_edits(&ctx.text, &new).map_err(refused)?;
            plan.edits.push(FileEdits {
                path: ctx.path.clone(),
                version: ctx.version,
                edits,
            });
        }
        CandidateChange::OtherFile { path, old, new } => {
            let other = Language::from_path(&path).unwrap_or(language);
            let old_text = old.clone().unwrap_or_default();
            let edits = SyntaxBaseline::new(other, &old_text)
                .checked_edits(&old_text, &new)
                .map_err(refused)?;
            match old {
                Some(_) => plan.edits.push(FileEdits {
                    path,
                    version: None,
                    edits,
                }),
                None => plan.creations.push(FileCreation { path, text: new }),
            }
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_distinct_and_in_order() {
        assert_eq!(
            identifiers("let total = add(total, Config::new());", 10),
            ["let", "total", "add", "Config", "new"]
        );
    }
}
