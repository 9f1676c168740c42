//! "Generate tests with AI": tests for the function at the cursor, where the language's
//! convention puts them: a `#[cfg(test)] mod tests` in the same Rust file, `tests/test_*.py` (or
//! `test_*.py` beside the module) for Python, `*.test.ts`/`*.test.js` beside the module,
//! `*_test.go` in the package, `src/test/java/.../*Test.java` for Maven layouts, and so on. A test
//! file that does not exist yet is created.
//!
//! ```
//! use std::path::{Path, PathBuf};
//! use augur::actions::generate_tests::test_file_for;
//! use augur::syntax::Language;
//! let roots = [PathBuf::from("/ws")];
//! assert_eq!(
//!     test_file_for(Language::Go, Path::new("/ws/pkg/math.go"), &roots),
//!     Some(PathBuf::from("/ws/pkg/math_test.go"))
//! );
//! assert_eq!(
//!     test_file_for(Language::TypeScript, Path::new("/ws/src/add.ts"), &roots),
//!     Some(PathBuf::from("/ws/src/add.test.ts"))
//! );
//! assert_eq!(test_file_for(Language::Rust, Path::new("/ws/src/lib.rs"), &roots), None);
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::edits::check_path;
use crate::syntax::{Language, Symbol, SymbolKind, document_symbols};

pub use super::job::Placement;
use super::job::{CandidateChange, Job, Output};
use super::reply::{body_bounds, extract_code, indentation, reindent};
use super::shapes::{head_start, without_repeats};
use super::{
    ActionContext, ActionError, ActionId, ActionKind, ActionOffer, ActionRequest, FUNCTIONS,
    display_path, whole_lines,
};

/// The test file for a source file under the language's convention, or `None` when tests go in
/// the same file (Rust). Looks at the disk only to prefer an existing `tests/` folder.
pub fn test_file_for(language: Language, path: &Path, roots: &[PathBuf]) -> Option<PathBuf> {
    let dir = path.parent()?;
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let root = roots.iter().find(|r| path.starts_with(r));
    Some(match language {
        Language::Rust => return None,
        Language::Python => {
            let name = format!("test_{stem}.py");
            match root.map(|r| r.join("tests")).filter(|t| t.is_dir()) {
                Some(tests) => tests.join(name),
                None => dir.join(name),
            }
        }
        Language::JavaScript | Language::TypeScript | Language::Tsx => {
            dir.join(format!("{stem}.test.{ext}"))
        }
        Language::Go => dir.join(format!("{stem}_test.go")),
        Language::Java => {
            let text = path.to_string_lossy();
            let test_name = format!("{stem}Test.java");
            if text.contains("/src/main/java/") {
                PathBuf::from(text.replacen("/src/main/java/", "/src/test/java/", 1))
                    .with_file_name(test_name)
            } else {
                dir.join(test_name)
            }
        }
        Language::CSharp => dir.join(format!("{stem}Tests.cs")),
        Language::Ruby => match root.map(|r| r.join("spec")).filter(|s| s.is_dir()) {
            Some(spec) => spec.join(format!("{stem}_spec.rb")),
            None => dir.join(format!("{stem}_test.rb")),
        },
        Language::Php => dir.join(format!("{stem}Test.php")),
        _ => dir.join(format!("test_{stem}.{ext}")),
    })
}

/// Offered when the cursor is inside a function or method of a code file.
pub fn offer(ctx: &ActionContext, symbols: &[Symbol]) -> Option<ActionOffer> {
    if !ctx.language?.is_code() {
        return None;
    }
    let symbol = ctx.enclosing_in(symbols, FUNCTIONS)?;
    Some(ActionOffer::edit(
        ActionId::GenerateTests,
        format!("Generate tests for `{}` with AI", symbol.name),
        ActionKind::Source,
    ))
}

/// The prompt and the placement.
pub(crate) fn prepare(request: &ActionRequest) -> Result<Job, ActionError> {
    let ctx = &request.context;
    let language = ctx.known_language()?;
    let symbol = ctx.require_symbol(FUNCTIONS, "function")?;
    let code = ctx.text[whole_lines(&ctx.text, symbol.byte_range.clone())].to_owned();
    let mut sections = Vec::new();
    let (place, answer) = match test_file_for(language, &ctx.path, &request.roots) {
        None => match rust_test_module(&ctx.text) {
            Some((at, indent)) => (
                Placement::IntoModule { at, indent },
                "Answer with only the new `#[test]` functions in one fenced code block; they go \
                 into the file's existing `mod tests`."
                    .to_owned(),
            ),
            None => (
                Placement::AppendModule,
                "Answer with a complete `#[cfg(test)] mod tests { use super::*; ... }` module in \
                 one fenced code block; it is appended to the file."
                    .to_owned(),
            ),
        },
        Some(path) => {
            // The test file is read for the prompt: it must not lead out of the workspace.
            check_path(&path, &request.roots)?;
            let existing = match std::fs::read_to_string(&path) {
                Ok(text) => Some(text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    return Err(ActionError::Io {
                        path,
                        message: e.to_string(),
                    });
                }
            };
            let shown = display_path(&path, &request.roots);
            let answer = match &existing {
                Some(text) => {
                    let head: String = text.lines().take(40).collect::<Vec<_>>().join("\n");
                    sections.push(format!(
                        "The test file `{shown}` exists; it begins:\n```\n{head}\n```"
                    ));
                    format!(
                        "Answer with only the new tests in one fenced code block; they are \
                         appended to `{shown}` (add no import it already has)."
                    )
                }
                None => format!(
                    "Answer with the complete new test file `{shown}` (imports included) in one \
                     fenced code block."
                ),
            };
            (Placement::File { path, existing }, answer)
        }
    };
    Ok(Job {
        title: format!("Generate tests for `{}` with AI", symbol.name),
        task: format!(
            "Write unit tests for the {} `{}` with the usual test framework of the language and \
             project: the normal cases, edge cases and errors. Tests must be deterministic.",
            symbol.kind.as_str(),
            symbol.name
        ),
        sections,
        subject: Some(("The code under test".into(), code)),
        answer,
        output: Output::Tests {
            place,
            under_test: symbol.name.clone(),
        },
    })
}

/// The line of the closing brace of a Rust file's `mod tests`, and its items' indentation.
fn rust_test_module(text: &str) -> Option<(usize, String)> {
    let module = test_module(text)?;
    let end = module.end.min(text.len());
    if !text[..end].ends_with('}') {
        return None;
    }
    let close_line = text[..end - 1].rfind('\n').map_or(0, |i| i + 1);
    if close_line <= module.start {
        return None;
    }
    let module_indent = indentation(&text[whole_lines(text, module)]);
    Some((close_line, format!("{module_indent}    ")))
}

/// The tests of a reply (`code`), without what is already where they go. A reply may repeat the
/// function under test, the tests and imports the test file or module already has, or wrap the
/// tests in the `mod tests` that exists: only the new tests are kept, and for a Rust file
/// without a test module, bare tests get one.
fn new_tests(
    ctx: &ActionContext,
    placement: &Placement,
    under_test: &str,
    code: &str,
) -> Result<String, ActionError> {
    let language = ctx.known_language()?;
    let code = reindent(code, "");
    let tests = match placement {
        Placement::IntoModule { .. } => {
            let module = test_module(&ctx.text).map_or("", |range| &ctx.text[range]);
            let code = module_body(&code).unwrap_or(code);
            let names: HashSet<String> = document_symbols(Language::Rust, module)
                .into_iter()
                .map(|s| s.name)
                .collect();
            let known: HashSet<&str> = module.lines().map(str::trim).collect();
            without_repeats(
                Language::Rust,
                &code,
                |name| name == under_test || names.contains(name),
                &known,
            )
        }
        Placement::AppendModule => {
            if let Some(range) = test_module(&code) {
                let start = head_start(&code, whole_lines(&code, range.clone()).start);
                let end = whole_lines(&code, range).end;
                code[start..end].to_owned()
            } else {
                let tests =
                    without_repeats(Language::Rust, &code, |n| n == under_test, &HashSet::new());
                let uses_super = tests.lines().any(|l| l.trim() == "use super::*;");
                let mut module = "#[cfg(test)]\nmod tests {\n".to_owned();
                if !tests.trim().is_empty() && !uses_super {
                    module.push_str("    use super::*;\n\n");
                }
                module.push_str(&reindent(&tests, "    "));
                module.push_str("}\n");
                if tests.trim().is_empty() {
                    tests
                } else {
                    module
                }
            }
        }
        Placement::File { path, existing } => {
            let language = Language::from_path(path).unwrap_or(language);
            let old = existing.as_deref().unwrap_or("");
            let names: HashSet<String> = document_symbols(language, old)
                .into_iter()
                .filter(|s| s.parent.is_none() && s.container.is_none())
                .map(|s| s.name)
                .collect();
            let known: HashSet<&str> = old.lines().map(str::trim).collect();
            without_repeats(
                language,
                &code,
                |name| name == under_test || names.contains(name),
                &known,
            )
        }
    };
    if tests.trim().is_empty() {
        return Err(ActionError::UnusableReply(format!(
            "it holds no new test, only code that is already there (`{under_test}` or its tests)"
        )));
    }
    Ok(tests)
}

/// The bytes of a Rust text's `mod tests`.
fn test_module(text: &str) -> Option<std::ops::Range<usize>> {
    document_symbols(Language::Rust, text)
        .into_iter()
        .find(|s| s.kind == SymbolKind::Module && s.name == "tests")
        .map(|s| s.byte_range)
}

/// What is inside a reply's `mod tests { ... }`, unindented.
fn module_body(code: &str) -> Option<String> {
    let range = test_module(code)?;
    let module = &code[range];
    let (start, end) = body_bounds(module)?;
    Some(reindent(&module[start..end], ""))
}

/// The candidate with the tests in place.
pub(crate) fn place(
    ctx: &ActionContext,
    placement: &Placement,
    under_test: &str,
    answer: &str,
) -> Result<CandidateChange, ActionError> {
    let code = extract_code(answer);
    if code.trim().is_empty() {
        return Err(ActionError::EmptyReply);
    }
    let code = new_tests(ctx, placement, under_test, &code)?;
    let text = &ctx.text;
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let fix_newlines = |s: String| {
        if newline == "\r\n" {
            s.replace('\n', "\r\n")
        } else {
            s
        }
    };
    match placement {
        Placement::IntoModule { at, indent } => {
            let at = (*at).min(text.len());
            let mut new = text[..at].to_owned();
            if !new.ends_with(&format!("{{{newline}"))
                && !new.ends_with(&format!("{newline}{newline}"))
            {
                new.push_str(newline);
            }
            new.push_str(&fix_newlines(reindent(&code, indent)));
            new.push_str(&text[at..]);
            Ok(CandidateChange::Document(new))
        }
        Placement::AppendModule => {
            let mut new = text.to_owned();
            if !new.is_empty() && !new.ends_with('\n') {
                new.push_str(newline);
            }
            if !new.is_empty() {
                new.push_str(newline);
            }
            new.push_str(&fix_newlines(reindent(&code, "")));
            Ok(CandidateChange::Document(new))
        }
        Placement::File { path, existing } => {
            let new = match existing {
                Some(old) => {
                    let mut new = old.clone();
                    if !new.is_empty() && !new.ends_with('\n') {
                        new.push('\n');
                    }
                    if !new.is_empty() {
                        new.push('\n');
                    }
                    new.push_str(&reindent(&code, ""));
                    new
                }
                None => reindent(&code, ""),
            };
            Ok(CandidateChange::OtherFile {
                path: path.clone(),
                old: existing.clone(),
                new,
            })
        }
    }
}
