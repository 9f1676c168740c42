//! Module resolution for retrieval: the call the cursor is in (`coop::poll_proceed(`,
//! `json.loads(`, `urlsplit(` after `from urllib.parse import urlsplit`), its qualifier resolved
//! through the file's imports and the package's module tree to the files that define the callee.
//!
//! Python: `import a.b [as x]`, `from a.b import c [as d]`, relative imports (`from .x import y`),
//! packages (`a/b/__init__.py`) and modules (`a/b.py`), from the top package's parent folder.
//! Rust: the crate (the nearest `Cargo.toml` with `src/lib.rs` or `src/main.rs`), `mod.rs` and
//! `name.rs` modules, `#[path = "..."]` on `mod` declarations, `use` trees with renames and globs,
//! and `crate::`, `super::` and `self::` paths. A module that re-exports the name (`pub use`,
//! `from .x import *`) is followed one step. Only files that exist are returned; nothing here
//! reads more than a few small files.

use std::path::{Path, PathBuf};

/// Bytes before the cursor searched for the open call.
const CALL_WINDOW: usize = 2048;

/// The largest file read to follow its imports or module declarations.
const MAX_READ: u64 = 1 << 20;

/// The call whose argument list the cursor is in: its qualifier's segments and the callee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Call {
    pub qualifier: Vec<String>,
    pub name: String,
}

/// The innermost call still open at the end of `before` (the text before the cursor).
pub(super) fn open_call(before: &str) -> Option<Call> {
    let mut start = before.len().saturating_sub(CALL_WINDOW);
    while !before.is_char_boundary(start) {
        start += 1;
    }
    let bytes = &before.as_bytes()[start..];
    let mut depth = 0usize;
    let mut at = None;
    for (i, &b) in bytes.iter().enumerate().rev() {
        match b {
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' if depth > 0 => depth -= 1,
            b'(' => {
                at = Some(i);
                break;
            }
            b'[' | b'{' | b';' => return None,
            _ => {}
        }
    }
    let path = path_before(&bytes[..at?]);
    let mut segments: Vec<String> = path
        .split(['.', ':'])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let name = segments.pop()?;
    (!name.is_empty() && !name.as_bytes()[0].is_ascii_digit()).then_some(Call {
        qualifier: segments,
        name,
    })
}

/// The dotted or `::` path that ends `bytes` (identifiers and separators only).
fn path_before(bytes: &[u8]) -> String {
    let mut i = bytes.len();
    while i > 0
        && (bytes[i - 1].is_ascii_alphanumeric()
            || matches!(bytes[i - 1], b'_' | b'.' | b':' | b'$'))
    {
        i -= 1;
    }
    String::from_utf8_lossy(&bytes[i..])
        .trim_start_matches(['.', ':'])
        .to_string()
}

fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    (meta.is_file() && meta.len() <= MAX_READ)
        .then(|| std::fs::read_to_string(path).ok())
        .flatten()
}

fn push_unique(out: &mut Vec<PathBuf>, path: PathBuf) {
    if !out.contains(&path) {
        out.push(path);
    }
}

// ---------------------------------------------------------------------------------------------
// Python.

/// A name a Python file binds by importing: `module` is dotted (leading dots for a relative
/// import); `attribute` is the imported name of a `from` import.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PyBinding {
    name: String,
    module: String,
    attribute: Option<String>,
}

/// The import statements of a Python text, joined over parenthesised continuation lines.
fn python_imports(text: &str) -> Vec<PyBinding> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if !(trimmed.starts_with("import ") || trimmed.starts_with("from ")) {
            continue;
        }
        let mut statement = trimmed.to_string();
        if statement.contains('(') {
            while !statement.contains(')') {
                let Some(next) = lines.next() else { break };
                statement.push(' ');
                statement.push_str(next.trim());
            }
        }
        let statement = statement
            .split('#')
            .next()
            .unwrap_or("")
            .replace(['(', ')', '\\'], " ");
        if let Some(rest) = statement.strip_prefix("import ") {
            for part in rest.split(',') {
                let words: Vec<&str> = part.split_whitespace().collect();
                match words.as_slice() {
                    [module] => out.push(PyBinding {
                        name: module.split('.').next().unwrap_or(module).to_string(),
                        module: module.split('.').next().unwrap_or(module).to_string(),
                        attribute: None,
                    }),
                    [module, "as", alias] => out.push(PyBinding {
                        name: alias.to_string(),
                        module: module.to_string(),
                        attribute: None,
                    }),
                    _ => {}
                }
            }
        } else if let Some(rest) = statement.strip_prefix("from ") {
            let Some((module, names)) = rest.split_once(" import ") else {
                continue;
            };
            let module = module.trim();
            for part in names.split(',') {
                let words: Vec<&str> = part.split_whitespace().collect();
                let (attribute, alias) = match words.as_slice() {
                    [name] => (*name, *name),
                    [name, "as", alias] => (*name, *alias),
                    _ => continue,
                };
                out.push(PyBinding {
                    name: alias.to_string(),
                    module: module.to_string(),
                    attribute: Some(attribute.to_string()),
                });
            }
        }
    }
    out
}

/// The folders a Python module path is looked up from: the parent of the current file's top
/// package (the first folder up without an `__init__.py`), then the workspace roots.
fn python_roots(current: &Path, roots: &[&Path]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dir = current.parent();
    while let Some(d) = dir {
        if !d.join("__init__.py").is_file() {
            out.push(d.to_path_buf());
            break;
        }
        dir = d.parent();
    }
    for root in roots {
        push_unique(&mut out, root.to_path_buf());
    }
    out
}

/// The file of a dotted module (`a.b`, `.x`, `..`), relative to `current` for leading dots.
fn python_module_file(module: &str, current: &Path, roots: &[PathBuf]) -> Option<PathBuf> {
    let dots = module.len() - module.trim_start_matches('.').len();
    let rest: Vec<&str> = module[dots..]
        .split('.')
        .filter(|s| !s.is_empty())
        .collect();
    let bases: Vec<PathBuf> = if dots > 0 {
        let mut base = current.parent()?.to_path_buf();
        for _ in 1..dots {
            base = base.parent()?.to_path_buf();
        }
        vec![base]
    } else {
        roots.to_vec()
    };
    for base in bases {
        let mut dir = base;
        for segment in &rest {
            dir.push(segment);
        }
        if rest.is_empty() || dir.is_dir() {
            let init = dir.join("__init__.py");
            if init.is_file() {
                return Some(init);
            }
        }
        if !rest.is_empty() {
            let file = dir.with_extension("py");
            if file.is_file() {
                return Some(file);
            }
        }
    }
    None
}

/// The files where a Python call's callee is defined, the one the code names first.
fn python_files(call: &Call, current: &Path, text: &str, roots: &[&Path]) -> Vec<PathBuf> {
    let bindings = python_imports(text);
    let roots = python_roots(current, roots);
    let mut modules: Vec<PathBuf> = Vec::new();
    match call.qualifier.split_first() {
        None => {
            // `name(` after `from m import name`.
            for b in bindings.iter().filter(|b| b.name == call.name) {
                if let (Some(attribute), Some(file)) =
                    (&b.attribute, python_module_file(&b.module, current, &roots))
                {
                    modules.push(file);
                    let _ = attribute;
                }
            }
        }
        Some((first, rest)) => {
            for b in bindings.iter().filter(|b| &b.name == first) {
                let mut module = match &b.attribute {
                    Some(attribute) if b.module.ends_with('.') => {
                        format!("{}{attribute}", b.module)
                    }
                    Some(attribute) => format!("{}.{attribute}", b.module),
                    None => b.module.clone(),
                };
                for segment in rest {
                    module.push('.');
                    module.push_str(segment);
                }
                if let Some(file) = python_module_file(&module, current, &roots) {
                    modules.push(file);
                } else if let Some(file) = b
                    .attribute
                    .as_ref()
                    .and_then(|_| python_module_file(&b.module, current, &roots))
                {
                    // `from m import Class`; `Class.method(`: the class is defined in `m`.
                    modules.push(file);
                }
            }
        }
    }
    let mut out = Vec::new();
    for file in modules {
        push_unique(&mut out, file.clone());
        // One step through a module that re-exports the name (`from .x import name` or `*`).
        if let Some(text) = read_small(&file) {
            for b in python_imports(&text) {
                if (b.name == call.name || b.name == "*")
                    && b.module.starts_with('.')
                    && let Some(next) = python_module_file(&b.module, &file, &roots)
                {
                    push_unique(&mut out, next);
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Rust.

/// A name a `use` declaration binds (`*` for a glob) and the path it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UseBinding {
    name: String,
    path: Vec<String>,
    public: bool,
}

/// The `use` declarations of a Rust text, flattened (`use a::{b, c as d, e::*};`).
fn rust_uses(text: &str) -> Vec<UseBinding> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = find_use(rest) {
        let before = &rest[..at];
        let public = before
            .rsplit('\n')
            .next()
            .is_some_and(|line| line.trim_start().starts_with("pub"));
        let after = &rest[at + 4..];
        let Some(end) = after.find(';') else { break };
        let tree: String = after[..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        flatten_use(&tree, &mut Vec::new(), public, &mut out);
        rest = &after[end..];
    }
    out
}

/// The next `use ` keyword at the start of a line (after visibility), as a byte offset.
fn find_use(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let mut body = trimmed;
        if body.starts_with("pub") {
            body = body.trim_start_matches("pub");
            if body.starts_with('(') {
                body = body.split_once(')').map_or("", |(_, r)| r);
            }
            body = body.trim_start();
        }
        if body.starts_with("use ") {
            return Some(offset + indent + (trimmed.len() - body.len()));
        }
        offset += line.len();
    }
    None
}

/// Flattens a use tree (`a::{b, c as d}`) under `prefix`.
fn flatten_use(tree: &str, prefix: &mut Vec<String>, public: bool, out: &mut Vec<UseBinding>) {
    let tree = tree.trim().trim_start_matches("::");
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let inner = tree[open + 1..]
            .trim_end()
            .strip_suffix('}')
            .unwrap_or(&tree[open + 1..]);
        let depth_before = prefix.len();
        prefix.extend(head);
        for part in split_top(inner) {
            flatten_use(part, prefix, public, out);
        }
        prefix.truncate(depth_before);
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim())),
        None => (tree, None),
    };
    let mut full = prefix.clone();
    full.extend(
        path.split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    let Some(last) = full.last().cloned() else {
        return;
    };
    let name = match (alias, last.as_str()) {
        (Some(alias), _) => alias.to_string(),
        (None, "self") => {
            full.pop();
            match full.last() {
                Some(n) => n.clone(),
                None => return,
            }
        }
        (None, "*") => {
            full.pop();
            "*".to_string()
        }
        (None, _) => last,
    };
    if name == "_" {
        return;
    }
    out.push(UseBinding {
        name,
        path: full,
        public,
    });
}

/// Splits a use list at its top-level commas.
fn split_top(list: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, b) in list.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&list[start..]);
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// A crate's source layout: its `src` folder and root file.
struct Crate {
    src: PathBuf,
    root: PathBuf,
}

/// The crate `file` belongs to: the nearest folder up with a `Cargo.toml` and a `src` folder
/// holding the file.
fn crate_of(file: &Path) -> Option<Crate> {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d.join("Cargo.toml").is_file() {
            let src = d.join("src");
            let root = ["lib.rs", "main.rs"]
                .iter()
                .map(|r| src.join(r))
                .find(|r| r.is_file())?;
            return file.starts_with(&src).then_some(Crate { src, root });
        }
        dir = d.parent();
    }
    None
}

/// The module path of a file of a crate (`src/a/b.rs` and `src/a/b/mod.rs` are `a::b`).
fn module_of(krate: &Crate, file: &Path) -> Vec<String> {
    if file == krate.root {
        return Vec::new();
    }
    let Ok(rel) = file.strip_prefix(&krate.src) else {
        return Vec::new();
    };
    let mut segments: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segments.last().is_some_and(|s| s == "mod") {
        segments.pop();
    }
    segments
}

/// The folder a module's child modules live in: its own folder for a crate root or `mod.rs`,
/// else the folder named after it.
fn children_dir(file: &Path) -> Option<PathBuf> {
    let stem = file.file_stem()?.to_str()?;
    let parent = file.parent()?;
    Some(if matches!(stem, "mod" | "lib" | "main") {
        parent.to_path_buf()
    } else {
        parent.join(stem)
    })
}

/// The file of child module `name` of the module in `file`: a `#[path]` on its declaration,
/// else `name.rs` or `name/mod.rs`.
fn child_module_file(file: &Path, name: &str) -> Option<PathBuf> {
    let dir = children_dir(file)?;
    if let Some(found) = [
        dir.join(format!("{name}.rs")),
        dir.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.is_file())
    {
        return Some(found);
    }
    // A `#[path]` outside inline modules is relative to the declaring file's folder.
    let path = declared_path(&read_small(file)?, name)?;
    let target = file.parent()?.join(path);
    target.is_file().then_some(target)
}

/// The `#[path = "..."]` of the declaration `mod name;` in `text`, if it has one.
fn declared_path(text: &str, name: &str) -> Option<String> {
    let mut pending: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("#[path") {
            pending = rest.split('"').nth(1).map(str::to_string);
            continue;
        }
        if t.starts_with("#[") || t.is_empty() {
            continue;
        }
        let body = t
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ");
        if body == format!("mod {name};") {
            return pending;
        }
        pending = None;
    }
    None
}

/// The file of a module path from the crate root.
fn rust_module_file(krate: &Crate, module: &[String]) -> Option<PathBuf> {
    let mut file = krate.root.clone();
    for segment in module {
        file = child_module_file(&file, segment)?;
    }
    Some(file)
}

/// A path as written (`crate::a`, `super::b`, `self::c`, `d::e` with `d` a child module or a
/// name the file's `use` binds) as a module path from the crate root.
fn absolute(path: &[String], module: &[String], uses: &[UseBinding], krate: &Crate) -> Vec<String> {
    let Some(first) = path.first() else {
        return module.to_vec();
    };
    match first.as_str() {
        "crate" => path[1..].to_vec(),
        "self" => module.iter().chain(&path[1..]).cloned().collect(),
        "super" => {
            let mut base = module.to_vec();
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            base
        }
        _ => {
            if let Some(binding) = uses.iter().find(|u| &u.name == first) {
                let expanded: Vec<String> =
                    binding.path.iter().chain(&path[1..]).cloned().collect();
                if expanded.first() != Some(first) {
                    return absolute(&expanded, module, &[], krate);
                }
            }
            let child: Vec<String> = module.iter().chain(path).cloned().collect();
            if rust_module_file(krate, &child[..module.len() + 1]).is_some() {
                child
            } else {
                path.to_vec()
            }
        }
    }
}

/// The files where a Rust call's callee is defined, the one the code names first.
fn rust_files(call: &Call, current: &Path, text: &str) -> Vec<PathBuf> {
    let Some(krate) = crate_of(current) else {
        return Vec::new();
    };
    let module = module_of(&krate, current);
    let uses = rust_uses(text);
    let mut qualifier = call.qualifier.clone();
    if qualifier.is_empty() {
        // `name(` after `use a::b::name;`.
        match uses.iter().find(|u| u.name == call.name) {
            Some(binding) => {
                qualifier = binding.path.clone();
                qualifier.pop();
            }
            None => return Vec::new(),
        }
    }
    // A type's associated function: the module the type is named in.
    if qualifier
        .last()
        .is_some_and(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
    {
        let ty = qualifier.pop().unwrap_or_default();
        if qualifier.is_empty() {
            match uses.iter().find(|u| u.name == ty) {
                Some(binding) => {
                    qualifier = binding.path.clone();
                    qualifier.pop();
                }
                None => return Vec::new(),
            }
        }
    }
    let target = absolute(&qualifier, &module, &uses, &krate);
    let Some(file) = rust_module_file(&krate, &target) else {
        return Vec::new();
    };
    let mut out = vec![file.clone()];
    // One step through a module that re-exports the name (`pub use x::name;`, `pub use x::*;`).
    if let Some(text) = read_small(&file) {
        for binding in rust_uses(&text) {
            if !binding.public || !(binding.name == call.name || binding.name == "*") {
                continue;
            }
            let mut path = absolute(&binding.path, &target, &[], &krate);
            if binding.name != "*" {
                path.pop();
            }
            if let Some(next) = rust_module_file(&krate, &path) {
                push_unique(&mut out, next);
            }
        }
    }
    out
}

/// Types that wrap the type that matters (`Arc<Inner>`, `Option<Handle>`).
const WRAPPERS: &[&str] = &[
    "Arc",
    "Box",
    "Cell",
    "ManuallyDrop",
    "MaybeUninit",
    "Mutex",
    "Option",
    "Pin",
    "Rc",
    "RefCell",
    "RwLock",
    "Self",
    "UnsafeCell",
    "Vec",
    "Weak",
];

/// The type of the receiver a call's qualifier ends with (`self.shared.wait(`, `handle.load(`),
/// as the code writes it nearby: a field or parameter type (`shared: Arc<Shared>`), a
/// `let x: T`, or a constructor assigned to it (`x = T::new(`, `x = T(`, `self.x = T(`).
pub(super) fn receiver_type(call: &Call, text: &str) -> Option<String> {
    let receiver = call.qualifier.last()?;
    if receiver == "self" || !receiver.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        return None;
    }
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    // The nearest mention before the cursor says the most: search from the end.
    for (at, _) in text.rmatch_indices(receiver.as_str()) {
        let end = at + receiver.len();
        if at > 0 && is_word(bytes[at - 1]) || bytes.get(end).copied().is_some_and(is_word) {
            continue;
        }
        let rest = text[end..].trim_start();
        let found = if let Some(ty) = rest.strip_prefix(':').filter(|r| !r.starts_with(':')) {
            // `name: Type` (a field, a parameter, a `let` with a type).
            let ty = &ty[..ty.find(['=', ',', ';', ')', '{', '\n']).unwrap_or(ty.len())];
            main_type(ty)
        } else if let Some(value) = rest.strip_prefix('=').filter(|r| !r.starts_with('=')) {
            // `name = module.Type(`, `name = Type::new(`, `name = Type {`.
            constructed_type(value.trim_start())
        } else {
            None
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The first capitalised identifier of a type expression that is not a wrapper.
fn main_type(ty: &str) -> Option<String> {
    ty.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| w.starts_with(|c: char| c.is_ascii_uppercase()) && !WRAPPERS.contains(w))
        .map(str::to_string)
}

/// The type a constructor expression makes (`pkg.Type(`, `Type::new(`, `Type {`).
fn constructed_type(value: &str) -> Option<String> {
    let value = value.strip_prefix("new ").unwrap_or(value);
    let end = value
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':')))
        .unwrap_or(value.len());
    let (path, after) = value.split_at(end);
    let segments: Vec<&str> = path.split(['.', ':']).filter(|s| !s.is_empty()).collect();
    let position = segments
        .iter()
        .position(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))?;
    let ty = segments[position];
    let called = position + 1 < segments.len() || after.trim_start().starts_with(['(', '{']);
    (called && !WRAPPERS.contains(&ty)).then(|| ty.to_string())
}

/// The files where the callee of `call` is defined, as the file's imports and the package's
/// module tree say, the one the code names first; empty when they say nothing.
pub(super) fn callee_files(
    call: &Call,
    current: &Path,
    text: &str,
    language: crate::syntax::Language,
    roots: &[&Path],
) -> Vec<PathBuf> {
    use crate::syntax::Language;
    let mut files = match language {
        Language::Python => python_files(call, current, text, roots),
        Language::Rust => rust_files(call, current, text),
        Language::JavaScript | Language::TypeScript | Language::Tsx => {
            super::resolve_js::js_files(call, current, text)
        }
        _ => Vec::new(),
    };
    files.retain(|f| f != current);
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(q: &[&str], name: &str) -> Call {
        Call {
            qualifier: q.iter().map(|s| s.to_string()).collect(),
            name: name.into(),
        }
    }

    #[test]
    fn the_open_call_and_its_qualifier() {
        assert_eq!(open_call("x = json.loads("), Some(call(&["json"], "loads")));
        assert_eq!(
            open_call("let p = crate::runtime::coop::poll_proceed(cx, f(a), "),
            Some(call(&["crate", "runtime", "coop"], "poll_proceed"))
        );
        assert_eq!(open_call("foo(a); bar"), None);
        assert_eq!(open_call("urlsplit(url"), Some(call(&[], "urlsplit")));
    }

    #[test]
    fn receiver_types_written_nearby() {
        let text = "struct Pool { shared: Arc<Shared> }\nfn f(handle: &Handle) {\n    let x = Notify::new();\n";
        assert_eq!(
            receiver_type(&call(&["self", "shared"], "wait"), text).as_deref(),
            Some("Shared")
        );
        assert_eq!(
            receiver_type(&call(&["handle"], "load"), text).as_deref(),
            Some("Handle")
        );
        assert_eq!(
            receiver_type(&call(&["x"], "notified"), text).as_deref(),
            Some("Notify")
        );
        assert_eq!(receiver_type(&call(&["y"], "go"), text), None);
    }

    #[test]
    fn use_trees_flatten() {
        let uses = rust_uses("use crate::{a::b as c, d::*, e::{self, f}};\npub use x::y;\n");
        let names: Vec<(&str, String, bool)> = uses
            .iter()
            .map(|u| (u.name.as_str(), u.path.join("::"), u.public))
            .collect();
        assert_eq!(
            names,
            [
                ("c", "crate::a::b".to_string(), false),
                ("*", "crate::d".to_string(), false),
                ("e", "crate::e".to_string(), false),
                ("f", "crate::e::f".to_string(), false),
                ("y", "x::y".to_string(), true),
            ]
        );
    }

    #[test]
    fn python_imports_bind_names() {
        let b = python_imports("import os.path\nfrom . import x as y\nfrom .m import (a,\n b)\n");
        assert_eq!(b[0].name, "os");
        assert_eq!((b[1].name.as_str(), b[1].module.as_str()), ("y", "."));
        assert_eq!(b[3].attribute.as_deref(), Some("b"));
    }
}
