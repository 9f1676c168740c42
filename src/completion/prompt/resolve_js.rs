//! The open call's callee in JavaScript and TypeScript, through the file's imports: ES imports
//! (`import { a as b } from './m'`, `import * as m from './m'`, default imports) and CommonJS
//! `require()` (`const m = require('./m')`, `const { a, b: c } = require('./m')`,
//! `const a = require('./m').a`), resolved to files by Node's rules for relative specifiers (the
//! path itself, then with an extension, then its `index` file). A renamed import also gives the
//! name the callee is defined under.

use std::path::{Path, PathBuf};

use super::resolve::Call;

/// A name a JavaScript or TypeScript file binds by importing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JsBinding {
    /// The local name.
    name: String,
    /// The module specifier (`./util`, `../lib/index.js`).
    module: String,
    /// The exported name it stands for (`default` for a default import); `None` for the whole
    /// module (`import * as m`, `const m = require(...)`).
    imported: Option<String>,
}

/// Extensions tried after a specifier that names no file, in order.
const EXTENSIONS: &[&str] = &["ts", "tsx", "js", "mjs", "cjs", "jsx", "mts", "cts"];

/// Lines joined at most to complete one statement.
const MAX_JOINED: usize = 64;

/// Whether a trimmed line opens a destructuring declaration (`const {`).
fn opens_destructuring(t: &str) -> bool {
    t.starts_with("const {") || t.starts_with("let {") || t.starts_with("var {")
}

/// The statements of `text` that import, each on one line: an `import` is joined with its
/// following lines until it names its module, a multi-line destructuring until it closes.
fn statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t.starts_with("import ") || t.starts_with("import{") {
            let mut statement = t.to_string();
            let mut joined = 0;
            while !has_specifier(&statement) && joined < MAX_JOINED {
                let Some(next) = lines.next() else { break };
                statement.push(' ');
                statement.push_str(next.trim());
                joined += 1;
            }
            out.push(statement);
        } else if t.contains("require(") {
            out.push(t.to_string());
        } else if opens_destructuring(t) && !t.contains('}') {
            // `const {\n  a,\n  b,\n} = require('./m')`.
            let mut statement = t.to_string();
            let mut joined = 0;
            while !statement.contains('}') && joined < MAX_JOINED {
                let Some(next) = lines.next() else { break };
                statement.push(' ');
                statement.push_str(next.trim());
                joined += 1;
            }
            if statement.contains("require(") {
                out.push(statement);
            }
        }
    }
    out
}

/// Whether an import statement names its module already (`from '...'`, or a bare `import '...'`).
fn has_specifier(statement: &str) -> bool {
    quoted_after(statement, " from ").is_some()
        || quoted_after(statement, "}from").is_some()
        || statement
            .strip_prefix("import ")
            .is_some_and(|r| r.trim_start().starts_with(['\'', '"']))
}

/// The string literal that follows `marker` in `text`.
fn quoted_after(text: &str, marker: &str) -> Option<String> {
    let rest = &text[text.find(marker)? + marker.len()..];
    quoted(rest.trim_start())
}

/// The contents of the string literal that starts `text`.
fn quoted(text: &str) -> Option<String> {
    let quote = text
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '"' | '`'))?;
    let rest = &text[1..];
    Some(rest[..rest.find(quote)?].to_string())
}

/// The bindings of a `{ a, b as c }` (ES, `rename` is ` as `) or `{ a, b: c }` (destructuring,
/// `rename` is `:`) list.
fn named_list(list: &str, rename: &str, module: &str, out: &mut Vec<JsBinding>) {
    for part in list.split(',') {
        let part = part.trim().trim_start_matches("type ").trim();
        if part.is_empty() || part.starts_with("...") {
            continue;
        }
        let (imported, local) = match part.split_once(rename) {
            Some((imported, local)) => (imported.trim(), local.trim()),
            None => (part, part),
        };
        // A default value in a destructuring (`a = 1`) is not part of the name.
        let local = local.split('=').next().unwrap_or(local).trim();
        let imported = imported.split('=').next().unwrap_or(imported).trim();
        if is_identifier(imported) && is_identifier(local) {
            out.push(JsBinding {
                name: local.to_string(),
                module: module.to_string(),
                imported: Some(imported.to_string()),
            });
        }
    }
}

fn is_identifier(word: &str) -> bool {
    !word.is_empty()
        && !word.starts_with(|c: char| c.is_ascii_digit())
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

/// The bindings of an `import` statement joined on one line.
fn import_bindings(statement: &str, out: &mut Vec<JsBinding>) {
    let Some(clause) = statement.strip_prefix("import") else {
        return;
    };
    let Some(module) =
        quoted_after(statement, " from ").or_else(|| quoted_after(statement, "}from"))
    else {
        return;
    };
    let clause = clause.trim_start().trim_start_matches("type ");
    let clause = &clause[..clause.rfind("from").unwrap_or(clause.len())];
    let (braced, rest) = match (clause.find('{'), clause.find('}')) {
        (Some(open), Some(close)) if open < close => (
            Some(&clause[open + 1..close]),
            format!("{}{}", &clause[..open], &clause[close + 1..]),
        ),
        _ => (None, clause.to_string()),
    };
    if let Some(list) = braced {
        named_list(list, " as ", &module, out);
    }
    for part in rest.split(',') {
        let words: Vec<&str> = part.split_whitespace().collect();
        match words.as_slice() {
            ["*", "as", name] if is_identifier(name) => out.push(JsBinding {
                name: name.to_string(),
                module: module.clone(),
                imported: None,
            }),
            [name] if is_identifier(name) => out.push(JsBinding {
                name: name.to_string(),
                module: module.clone(),
                imported: Some("default".to_string()),
            }),
            _ => {}
        }
    }
}

/// The bindings of a `require()` declaration joined on one line: `const x = require('m')`,
/// `const { a, b: c } = require('m')`, `const a = require('m').a`.
fn require_bindings(statement: &str, out: &mut Vec<JsBinding>) {
    let Some(at) = statement.find("require(") else {
        return;
    };
    let Some(module) = quoted(statement[at + "require(".len()..].trim_start()) else {
        return;
    };
    let Some(head) = statement[..at].trim_end().strip_suffix('=') else {
        return;
    };
    let head = head
        .trim()
        .trim_start_matches("const ")
        .trim_start_matches("let ")
        .trim_start_matches("var ")
        .trim();
    if let Some(list) = head.strip_prefix('{').and_then(|h| h.strip_suffix('}')) {
        named_list(list, ":", &module, out);
    } else if is_identifier(head) {
        // A property taken from the module at once: `require('m').a`.
        let after = &statement[at..];
        let property = after
            .find(')')
            .and_then(|close| after[close + 1..].strip_prefix('.'))
            .map(|p| {
                p.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                    .collect::<String>()
            })
            .filter(|p| !p.is_empty());
        out.push(JsBinding {
            name: head.to_string(),
            module,
            imported: property,
        });
    }
}

/// The bindings of the import statements and `require()` calls of a text.
fn js_imports(text: &str) -> Vec<JsBinding> {
    let mut out = Vec::new();
    for statement in statements(text) {
        if statement.starts_with("import") {
            import_bindings(&statement, &mut out);
        } else {
            require_bindings(&statement, &mut out);
        }
    }
    out
}

/// The file a relative module specifier names from `current` (Node's rules: the path, the path
/// with an extension, its `index` file; TypeScript's `./m.js` for the source `./m.ts`); `None`
/// for a package name.
fn js_module_file(specifier: &str, current: &Path) -> Option<PathBuf> {
    if !(specifier.starts_with("./") || specifier.starts_with("../") || specifier == ".") {
        return None;
    }
    let dir = current.parent()?;
    let base = dir.join(specifier);
    if base.is_file() {
        return Some(base);
    }
    if let Some(stem) = specifier
        .strip_suffix(".js")
        .or_else(|| specifier.strip_suffix(".mjs"))
    {
        for ext in ["ts", "tsx", "mts"] {
            let file = dir.join(format!("{stem}.{ext}"));
            if file.is_file() {
                return Some(file);
            }
        }
    }
    let name = base.file_name()?.to_string_lossy().into_owned();
    for ext in EXTENSIONS {
        let file = base.with_file_name(format!("{name}.{ext}"));
        if file.is_file() {
            return Some(file);
        }
    }
    for ext in EXTENSIONS {
        let file = base.join(format!("index.{ext}"));
        if file.is_file() {
            return Some(file);
        }
    }
    None
}

/// Bytes of a module read for its re-exports at most.
const MAX_MODULE_BYTES: u64 = 512 * 1024;

/// The files where a JavaScript or TypeScript call's callee is defined, as the file's imports
/// say, with one step through a module that re-exports from another (`export * from './x'`,
/// `export { a } from './x'`).
pub(super) fn js_files(call: &Call, current: &Path, text: &str) -> Vec<PathBuf> {
    let wanted: &str = call.qualifier.first().unwrap_or(&call.name);
    let mut files: Vec<PathBuf> = Vec::new();
    for binding in js_imports(text).iter().filter(|b| b.name == wanted) {
        if let Some(file) = js_module_file(&binding.module, current)
            && !files.contains(&file)
        {
            files.push(file);
        }
    }
    let name = js_imported_name(call, text).unwrap_or_else(|| call.name.clone());
    let mut out = files.clone();
    for file in files {
        let Some(module_text) = std::fs::metadata(&file)
            .ok()
            .filter(|m| m.len() <= MAX_MODULE_BYTES)
            .and_then(|_| std::fs::read_to_string(&file).ok())
        else {
            continue;
        };
        for line in module_text.lines() {
            let t = line.trim();
            let Some(rest) = t.strip_prefix("export ") else {
                continue;
            };
            let Some(module) = quoted_after(t, " from ") else {
                continue;
            };
            let names_it = rest.trim_start().starts_with('*')
                || rest
                    .split(['{', '}', ','])
                    .any(|part| part.split_whitespace().last() == Some(name.as_str()));
            if names_it
                && let Some(next) = js_module_file(&module, &file)
                && !out.contains(&next)
            {
                out.push(next);
            }
        }
    }
    out
}

/// The name an unqualified callee is exported under when the file imports it renamed
/// (`import { parseConfig as parse }`, `const { parseConfig: parse } = require(...)`,
/// `const parse = require('./m').parseConfig`); `None` when it is not renamed.
pub(super) fn js_imported_name(call: &Call, text: &str) -> Option<String> {
    if !call.qualifier.is_empty() {
        return None;
    }
    js_imports(text)
        .into_iter()
        .find(|b| b.name == call.name)
        .and_then(|b| b.imported)
        .filter(|imported| imported != "default" && *imported != call.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn imports_and_requires_bind_names() {
        let text = "\
import def, { a, b as c } from './m';
import * as ns from \"../lib/ns\";
import type { T } from './types';
import {
  long as short,
  other,
} from './multi';
const whole = require('./whole');
const { x, y: z } = require('./destructured');
const prop = require('./prop').inner;
const {
  spread,
} = require('./spread');
";
        let rendered: String = js_imports(text)
            .iter()
            .map(|b| {
                format!(
                    "{} <- {} {}\n",
                    b.name,
                    b.module,
                    b.imported.as_deref().unwrap_or("*")
                )
            })
            .collect();
        expect![[r#"
            a <- ./m a
            c <- ./m b
            def <- ./m default
            ns <- ../lib/ns *
            T <- ./types T
            short <- ./multi long
            other <- ./multi other
            whole <- ./whole *
            x <- ./destructured x
            z <- ./destructured y
            prop <- ./prop inner
            spread <- ./spread spread
        "#]]
        .assert_eq(&rendered);
    }

    #[test]
    fn renamed_names_and_module_files() {
        let call = |q: &[&str], name: &str| Call {
            qualifier: q.iter().map(|s| s.to_string()).collect(),
            name: name.to_string(),
        };
        let text =
            "import { parseConfig as parse } from './config';\nconst { b: c } = require('./b');\n";
        assert_eq!(
            js_imported_name(&call(&[], "parse"), text).as_deref(),
            Some("parseConfig")
        );
        assert_eq!(
            js_imported_name(&call(&[], "c"), text).as_deref(),
            Some("b")
        );
        assert_eq!(js_imported_name(&call(&["x"], "parse"), text), None);

        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/lib/util")).unwrap();
        for file in [
            "src/main.ts",
            "src/config.ts",
            "src/lib/util/index.js",
            "src/b.cjs",
        ] {
            std::fs::write(root.join(file), "").unwrap();
        }
        let current = root.join("src/main.ts");
        assert_eq!(
            js_module_file("./config.js", &current),
            Some(root.join("src/config.ts"))
        );
        assert_eq!(
            js_module_file("./lib/util", &current),
            Some(root.join("src/lib/util/index.js"))
        );
        assert_eq!(
            js_module_file("./b", &current),
            Some(root.join("src/b.cjs"))
        );
        assert_eq!(js_module_file("react", &current), None);
    }
}
