//! Turning a model's reply into code: code fences, leading prose, `<think>` blocks, indentation,
//! line endings, and a reply that is a whole function when only its body was wanted (or the
//! other way round).
//!
//! ```
//! use augur::actions::reply::extract_code;
//! let reply = "Sure! Here is the fixed function:\n\n```rust\nfn a() -> u8 {\n    1\n}\n```\nIt now returns 1.";
//! assert_eq!(extract_code(reply), "fn a() -> u8 {\n    1\n}\n");
//! // A reply that continues a prompt ending in an opening fence stops at the closing one.
//! assert_eq!(extract_code("    x + 1\n```\n"), "    x + 1\n");
//! ```

/// Removes `<think>...</think>` blocks that reasoning models put before their answer.
fn strip_thinking(reply: &str) -> String {
    let mut out = String::with_capacity(reply.len());
    let mut rest = reply;
    while let Some(start) = rest.find("<think>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</think>") {
            Some(end) => rest = &rest[start + end + "</think>".len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether a line opens or closes a code fence.
fn is_fence(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("```") || t.starts_with("~~~")
}

/// Whether a line reads as an English sentence introducing code rather than as code.
fn is_prose(line: &str) -> bool {
    let t = line.trim();
    let mut chars = t.chars();
    let starts_upper = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    let has_code_marks = t.contains(['{', '}', ';', '=', '(', '<']) || t.contains("::");
    let ends_sentence = t.ends_with(':') || t.ends_with('.') || t.ends_with('!');
    // One word ("Sure.", "Certainly!") or a sentence; `ends_sentence` guarantees a last byte.
    starts_upper
        && ends_sentence
        && !has_code_marks
        && (t.contains(' ') || t[..t.len() - 1].chars().all(char::is_alphabetic))
}

/// The code in a reply: the longest fenced block if there is one; with a single fence, the text
/// after it (an answer cut short) or before it (a continuation of a prompt that opened the
/// fence); without fences, the reply minus introductory sentences. Ends with a newline unless
/// empty.
pub fn extract_code(reply: &str) -> String {
    let reply = strip_thinking(reply).replace("\r\n", "\n");
    let lines: Vec<&str> = reply.split('\n').collect();
    let fences: Vec<usize> = (0..lines.len()).filter(|&i| is_fence(lines[i])).collect();
    let body: Vec<&str> = match fences.as_slice() {
        [] => {
            let first_code = lines
                .iter()
                .position(|l| !l.trim().is_empty() && !is_prose(l))
                .unwrap_or(lines.len());
            lines[first_code..].to_vec()
        }
        [only] => {
            let before_is_blank = lines[..*only].iter().all(|l| l.trim().is_empty());
            if before_is_blank {
                lines[only + 1..].to_vec()
            } else {
                lines[..*only].to_vec()
            }
        }
        many => {
            // Fences pair up in order; the longest block is the answer, the others examples.
            let mut best: &[&str] = &[];
            for pair in many.chunks(2) {
                let block = match pair {
                    [open, close] => &lines[open + 1..*close],
                    [open] => &lines[open + 1..],
                    _ => &[][..],
                };
                let size: usize = block.iter().map(|l| l.len() + 1).sum();
                let best_size: usize = best.iter().map(|l| l.len() + 1).sum();
                if size > best_size {
                    best = block;
                }
            }
            best.to_vec()
        }
    };
    let mut text = body.join("\n");
    let trimmed_end = text.trim_end().len();
    text.truncate(trimmed_end);
    // Leading blank lines go, leading indentation stays.
    let first_content = text
        .split('\n')
        .position(|l| !l.trim().is_empty())
        .unwrap_or(0);
    let text: String = text
        .split('\n')
        .skip(first_content)
        .collect::<Vec<_>>()
        .join("\n");
    if text.is_empty() { text } else { text + "\n" }
}

/// The indentation (leading spaces and tabs) of a line.
pub fn indentation(line: &str) -> &str {
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Re-indents `code` so that its least indented line has `indent`. Blank lines stay empty.
pub fn reindent(code: &str, indent: &str) -> String {
    let min = code
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indentation(l).len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(code.len());
    for line in code.split_inclusive('\n') {
        if line.trim().is_empty() {
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
            continue;
        }
        out.push_str(indent);
        out.push_str(line.get(min..).unwrap_or(line.trim_start()));
    }
    out
}

/// Shapes a reply's code to replace `original`: same leading indentation, same line endings,
/// the same trailing newline (or lack of one).
pub fn fit_to(code: &str, original: &str) -> String {
    let first = original
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let mut out = reindent(code, indentation(first));
    if !original.ends_with('\n') {
        while out.ends_with('\n') {
            out.pop();
        }
    } else if !out.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
    if original.contains("\r\n") {
        out = out.replace('\n', "\r\n");
    }
    out
}

/// Where a body starts and ends inside a function's text: after the first `{` (or after the
/// header line ending in `:` for indentation-based languages) and before the last `}`.
pub(crate) fn body_bounds(function: &str) -> Option<(usize, usize)> {
    if let (Some(open), Some(close)) = (function.find('{'), function.rfind('}'))
        && open < close
    {
        let start = function[open..]
            .find('\n')
            .map_or(open + 1, |i| open + i + 1);
        let end = function[..close].rfind('\n').map_or(close, |i| i + 1);
        return (start <= end).then_some((start, end));
    }
    // Python-like: the body starts on the line after the first line that ends with `:`.
    let mut offset = 0;
    for line in function.split_inclusive('\n') {
        offset += line.len();
        if line.trim_end().ends_with(':') {
            return Some((offset, function.len()));
        }
    }
    None
}

/// The replacement for a whole function or class, `original`, from a reply's code that is
/// either the whole thing (it mentions `name` before its first body line) or only the body,
/// which is then put inside the original header and closing brace.
pub fn replacement_for_symbol(code: &str, original: &str, name: &str) -> String {
    let header_lines: String = code.lines().take(3).collect::<Vec<_>>().join("\n");
    let whole = name.is_empty()
        || header_lines.contains(&format!("{name}("))
        || header_lines.contains(&format!("{name} ("))
        || header_lines.contains(&format!("{name}<"))
        || header_lines.contains(&format!("{name}:"))
        || header_lines.contains(&format!("{name} {{"))
        || header_lines.contains(&format!("{name} ="));
    let Some((start, end)) = body_bounds(original).filter(|_| !whole) else {
        return fit_to(code, original);
    };
    let body = &original[start..end];
    let new_body = fit_to(
        code,
        if body.trim().is_empty() {
            original
        } else {
            body
        },
    );
    let mut new_body = if body.trim().is_empty() {
        // An empty body gives no indentation to copy; indent one level past the header.
        let header_indent = indentation(original.lines().next().unwrap_or(""));
        reindent(code, &format!("{header_indent}    "))
    } else {
        new_body
    };
    if original.contains("\r\n") && !new_body.contains("\r\n") {
        new_body = new_body.replace('\n', "\r\n");
    }
    let mut out = String::with_capacity(original.len() + new_body.len());
    out.push_str(&original[..start]);
    out.push_str(&new_body);
    if !new_body.is_empty() && !new_body.ends_with('\n') && end < original.len() {
        out.push('\n');
    }
    out.push_str(&original[end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extraction_table() {
        let cases: &[(&str, &str)] = &[
            ("fn a() {}", "fn a() {}\n"),
            ("```\nx = 1\n```", "x = 1\n"),
            (
                "```python\ndef f():\n    pass\n```\n",
                "def f():\n    pass\n",
            ),
            (
                "Here is the code:\n```go\nfunc A() {}\n```\nDone.",
                "func A() {}\n",
            ),
            ("Here is the code:\nfn a() {}\n", "fn a() {}\n"),
            ("Sure.\n\n    return x\n", "    return x\n"),
            (
                "<think>hmm ``` no</think>```rs\nlet a = 1;\n```",
                "let a = 1;\n",
            ),
            ("```rust\nfn cut_short() {\n", "fn cut_short() {\n"),
            ("    a + b\n```\nExplanation.", "    a + b\n"),
            (
                "Example:\n```\nx\n```\nAnswer:\n```\nfn real() {\n    1\n}\n```",
                "fn real() {\n    1\n}\n",
            ),
            ("```js\r\nlet a = 1;\r\n```\r\n", "let a = 1;\n"),
            ("", ""),
            ("```\n```", ""),
            (
                "Def main: is python?:\ndef main():\n    pass",
                "def main():\n    pass\n",
            ),
        ];
        for (reply, want) in cases {
            assert_eq!(&extract_code(reply), want, "reply: {reply:?}");
        }
    }

    #[test]
    fn body_only_replies_keep_the_header() {
        let original = "    fn add(a: u8, b: u8) -> u8 {\n        a - b\n    }\n";
        let body_only = "a + b\n";
        assert_eq!(
            replacement_for_symbol(body_only, original, "add"),
            "    fn add(a: u8, b: u8) -> u8 {\n        a + b\n    }\n"
        );
        let whole = "fn add(a: u8, b: u8) -> u8 {\n    a + b\n}\n";
        assert_eq!(
            replacement_for_symbol(whole, original, "add"),
            "    fn add(a: u8, b: u8) -> u8 {\n        a + b\n    }\n"
        );
    }

    #[test]
    fn python_bodies_and_crlf() {
        let original = "def f(x):\r\n    return x\r\n";
        assert_eq!(
            replacement_for_symbol("return x * 2\n", original, "f"),
            "def f(x):\r\n    return x * 2\r\n"
        );
    }
}
