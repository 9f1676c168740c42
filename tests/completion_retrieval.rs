//! Retrieval that follows the code, from fixtures: a module-qualified call's definition is taken
//! from the file its qualifier resolves to (Python packages and relative imports; Rust `use`,
//! `crate::`, `mod.rs` and `#[path]`) even when the name is defined in many other places; items
//! inside Rust item-level macro invocations are found; a type's own associated function wins
//! over the other definitions of a common name; context comes only from files of a related
//! language.

mod completion_support;

use augur::completion::CompletionConfig;
use augur::completion::prompt::PartKind;
use completion_support::Workspace;

/// Files that each define `name` (with a signature of their own), so that the name is far too
/// common for a lookup by name alone (more than 48 definitions).
fn distractors(language: &str, name: &str) -> String {
    let mut out = String::new();
    for i in 0..60 {
        match language {
            "python" => out.push_str(&format!(
                "//- /other/m{i}.py\ndef {name}(other_{i}):\n    return other_{i}\n"
            )),
            _ => out.push_str(&format!(
                "//- /other/src/m{i}.rs\npub fn {name}(other_{i}: u8) -> u8 {{ other_{i} }}\n"
            )),
        }
    }
    out
}

/// The definitions in the prompt at the fixture's cursor.
fn definitions(fixture: &str) -> String {
    let ws = Workspace::new(fixture);
    let built = ws.prompt(&CompletionConfig::default(), &[]);
    built
        .parts
        .iter()
        .filter(|p| p.kind == PartKind::Definition)
        .map(|p| p.text.as_str())
        .collect()
}

#[test]
fn python_module_qualified_call_through_a_package_init() {
    let fixture = format!(
        r#"
//- /lib/jsonish/__init__.py
from .decoder import loads
//- /lib/jsonish/decoder.py
def loads(s, *, strict=True):
    """Parse a document."""
    return s
//- /lib/app/__init__.py
//- /lib/app/main.py
import jsonish

def run(text):
    return jsonish.loads($0
{}"#,
        distractors("python", "loads")
    );
    let got = definitions(&fixture);
    assert!(
        got.contains("def loads(s, *, strict=True):"),
        "definitions: {got}"
    );
}

#[test]
fn python_relative_from_import() {
    let fixture = format!(
        r#"
//- /pkg/__init__.py
//- /pkg/util.py
def split_host(url, default_port=80):
    return url
//- /pkg/client.py
from .util import split_host

def connect(url):
    host = split_host($0
{}"#,
        distractors("python", "split_host")
    );
    let got = definitions(&fixture);
    assert!(
        got.contains("def split_host(url, default_port=80):"),
        "definitions: {got}"
    );
}

#[test]
fn rust_qualified_call_through_use_mod_rs_and_path_attributes() {
    let fixture = format!(
        r#"
//- /tok/Cargo.toml
[package]
name = "tok"
//- /tok/src/lib.rs
pub mod runtime;
//- /tok/src/runtime/mod.rs
pub(crate) mod coop;
#[path = "task_impl.rs"]
pub(crate) mod task;
//- /tok/src/runtime/coop.rs
pub(crate) use self::budget::*;
mod budget;
//- /tok/src/runtime/coop/budget.rs
/// Polls with the task's budget.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<Restore> {{ todo!() }}
//- /tok/src/runtime/task_impl.rs
pub(crate) fn current_task_id(strict: bool) -> Option<Id> {{ None }}
//- /tok/src/io.rs
use crate::runtime::coop;

fn poll(cx: &mut Context<'_>) {{
    let id = crate::runtime::task::current_task_id(true);
    let restore = coop::poll_proceed($0
}}
{}{}"#,
        distractors("rust", "poll_proceed"),
        distractors("rust", "current_task_id").replace("/m", "/n"),
    );
    let got = definitions(&fixture);
    assert!(
        got.contains("pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<Restore>"),
        "definitions: {got}"
    );
    // The cursor in the other call: its path goes through `#[path]`.
    let other = fixture
        .replace("current_task_id(true)", "current_task_id($0")
        .replace("coop::poll_proceed($0", "coop::poll_proceed(");
    let got = definitions(&other);
    assert!(
        got.contains("pub(crate) fn current_task_id(strict: bool) -> Option<Id>"),
        "definitions: {got}"
    );
}

#[test]
fn rust_functions_inside_item_level_macros_are_retrieved() {
    let fixture = r#"
//- /tok/Cargo.toml
[package]
name = "tok"
//- /tok/src/lib.rs
macro_rules! cfg_rt { ($($item:item)*) => { $($item)* } }
pub mod blocking;
//- /tok/src/blocking.rs
cfg_rt! {
    /// Runs a closure on the blocking pool.
    pub fn spawn_blocking_task(f: Box<dyn FnOnce()>) -> JoinHandle {
        todo!()
    }
}
//- /tok/src/fs.rs
fn read() {
    let handle = spawn_blocking_task($0
}
"#;
    let got = definitions(fixture);
    assert!(
        got.contains("pub fn spawn_blocking_task(f: Box<dyn FnOnce()>) -> JoinHandle"),
        "definitions: {got}"
    );
}

#[test]
fn a_types_own_associated_function_wins_for_a_common_name() {
    let fixture = format!(
        r#"
//- /tok/Cargo.toml
[package]
name = "tok"
//- /tok/src/lib.rs
pub mod handle;
pub mod other;
//- /tok/src/handle.rs
pub struct Handle(u64);
impl Handle {{
    pub fn new(id: u64) -> Handle {{ Handle(id) }}
}}
//- /tok/src/other.rs
pub struct Other;
impl Other {{
    pub fn new(label: &str) -> Other {{ Other }}
}}
//- /tok/src/main.rs
use crate::handle::Handle;

fn main() {{
    let h = Handle::new($0
}}
{}"#,
        distractors("rust", "new")
    );
    let got = definitions(&fixture);
    assert!(
        got.contains("pub fn new(id: u64) -> Handle"),
        "definitions: {got}"
    );
}

#[test]
fn a_receivers_written_type_picks_its_method() {
    let fixture = format!(
        r#"
//- /pkg/__init__.py
//- /pkg/events.py
class Waiter:
    def wait(self, timeout=None, *, strict=False):
        return True
//- /pkg/other.py
class Other:
    def wait(self, ignored):
        return False
//- /pkg/main.py
from .events import Waiter

def run():
    w = Waiter()
    return w.wait($0
{}"#,
        distractors("python", "wait")
    );
    let got = definitions(&fixture);
    assert!(
        got.contains("def wait(self, timeout=None, *, strict=False):"),
        "definitions: {got}"
    );
}

#[test]
fn a_long_doc_does_not_push_the_signature_out_of_the_budget() {
    let doc: String = (0..30)
        .map(|i| format!("/// Line {i} of a long explanation of how documents are parsed here.\n"))
        .collect();
    let fixture = format!(
        r#"
//- /src/parse.rs
{doc}pub fn parse_document_tree(input: &str, strict: bool) -> Tree {{ todo!() }}
//- /src/main.rs
fn main() {{
    let tree = parse_document_tree($0
}}
"#
    );
    let got = definitions(&fixture);
    assert!(
        got.contains("pub fn parse_document_tree(input: &str, strict: bool) -> Tree"),
        "definitions: {got}"
    );
    assert!(got.contains("Line 0 of a long explanation"), "{got}");
    assert!(!got.contains("Line 29"), "{got}");
}

#[test]
fn c_function_whose_header_sits_in_an_ifdef_branch_is_retrieved() {
    // The header of `open_source` is split between two branches of `#ifdef`, inside the
    // `extern "C"` block a C header opens for C++ readers: tree-sitter, which sees both branches
    // at once, loses the first header.
    let fixture = r#"
//- /src/source.c
#include "source.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef _WIN32
static int open_source(const wchar_t *wide_path, int flags) {
#else
static int open_source(const char *path, int flags) {
#endif
    return flags;
}

#ifdef __cplusplus
}
#endif
//- /src/main.c
#include "source.h"

int main(void) {
    int fd = open_source($0
}
"#;
    let got = definitions(fixture);
    assert!(
        got.contains("static int open_source(const wchar_t *wide_path, int flags)"),
        "definitions: {got}"
    );
}

#[test]
fn cpp_method_of_a_class_behind_an_export_macro_in_a_h_header_is_retrieved() {
    // A `.h` header that holds C++ (parsed as C++ by its content), with an export macro between
    // `class` and the class's name: its inline methods are found.
    let fixture = r#"
//- /fuzz/corpus.h
#pragma once
#include <vector>

namespace fuzz {

class ENGINE_API Corpus {
 public:
  /// Picks the next input to mutate.
  size_t ChooseInputToMutate(Random &rand, bool weighted) {
    return weighted ? rand(size_) : 0;
  }

 private:
  size_t size_ = 0;
};

}  // namespace fuzz
//- /fuzz/loop.cpp
#include "corpus.h"

namespace fuzz {

void Loop::MutateAndTestOne() {
  size_t idx = corpus_.ChooseInputToMutate($0
}

}  // namespace fuzz
"#;
    let got = definitions(fixture);
    assert!(
        got.contains("size_t ChooseInputToMutate(Random &rand, bool weighted)"),
        "definitions: {got}"
    );
    // The same class in a `.hpp` file (C++ by its name).
    let hpp = fixture.replace("corpus.h", "corpus.hpp");
    let got = definitions(&hpp);
    assert!(
        got.contains("size_t ChooseInputToMutate(Random &rand, bool weighted)"),
        "definitions: {got}"
    );
}

/// JavaScript files that each define `name`, so that a lookup by name alone finds them first
/// (their paths sort before the package's own).
fn js_distractors(name: &str) -> String {
    (0..60)
        .map(|i| {
            format!("//- /a{i}/m.js\nfunction {name}(other_{i}) {{\n  return other_{i};\n}}\n")
        })
        .collect()
}

#[test]
fn js_renamed_import_is_looked_up_by_its_exported_name() {
    let fixture = format!(
        r#"
//- /src/lib/config.js
export function parseConfig(text, {{ strict = false }} = {{}}) {{
  return JSON.parse(text);
}}
//- /src/app/main.js
import {{ parseConfig as parse }} from '../lib/config.js';

export function start(text) {{
  const config = parse($0
}}
{}"#,
        js_distractors("parseConfig")
    );
    let got = definitions(&fixture);
    assert!(
        got.contains("function parseConfig(text, { strict = false } = {})"),
        "definitions: {got}"
    );
}

#[test]
fn js_require_and_typescript_namespace_imports_resolve_to_their_files() {
    let fixture = format!(
        r#"
//- /src/lib/loader/index.js
function loadConfig(path, {{ cwd, env }}) {{
  return path;
}}
module.exports = {{ loadConfig }};
//- /src/app/main.js
const loader = require('../lib/loader');

function start(path) {{
  const config = loader.loadConfig($0
}}
{}"#,
        js_distractors("loadConfig")
    );
    let got = definitions(&fixture);
    assert!(
        got.contains("function loadConfig(path, { cwd, env })"),
        "definitions: {got}"
    );
    // TypeScript: `import * as` a module written `./m.js` whose source is `m.ts`.
    let ts = fixture
        .replace("/src/lib/loader/index.js", "/src/lib/loader.ts")
        .replace("module.exports = { loadConfig };", "")
        .replace("function loadConfig", "export function loadConfig")
        .replace("/src/app/main.js", "/src/app/main.ts")
        .replace(
            "const loader = require('../lib/loader');",
            "import * as loader from '../lib/loader.js';",
        );
    let got = definitions(&ts);
    assert!(
        got.contains("src/lib/loader.ts\nfunction loadConfig(path, { cwd, env })"),
        "definitions: {got}"
    );
}

#[test]
fn the_open_calls_callee_is_not_crowded_out_by_rarer_names_near_the_cursor() {
    // `Bswap` is defined in three headers; a dozen names above the cursor are each defined once,
    // so a lookup that takes the rarest names first would fill the definitions with them.
    let mut fixture = String::from(
        r#"
//- /fuzz/builtins.h
namespace fuzz {
inline unsigned short Bswap(unsigned short x) { return x; }
}
//- /fuzz/builtins_msvc.h
namespace fuzz {
inline unsigned int Bswap(unsigned int x) { return x; }
}
//- /fuzz/builtins_other.h
namespace fuzz {
inline unsigned long Bswap(unsigned long x) { return x; }
}
"#,
    );
    let mut uses = String::new();
    for i in 0..12 {
        fixture.push_str(&format!(
            "//- /fuzz/part{i}.h\nstruct RareA{i} {{ int a; }};\nstruct RareB{i} {{ int b; }};\n"
        ));
        uses.push_str(&format!("  RareA{i}(RareB{i}());\n"));
    }
    fixture.push_str(&format!(
        "//- /fuzz/mutate.cpp\nvoid Mutate(unsigned short v) {{\n{uses}  v = Bswap($0\n}}\n"
    ));
    let got = definitions(&fixture);
    assert!(
        got.contains("inline unsigned short Bswap(unsigned short x)"),
        "definitions: {got}"
    );
}

/// The sources of the prompt's context parts (definitions, similar code, open documents).
fn context_sources(ws: &Workspace, open: &[(std::path::PathBuf, ropey::Rope)]) -> Vec<String> {
    ws.prompt(&CompletionConfig::default(), open)
        .parts
        .iter()
        .filter(|p| {
            matches!(
                p.kind,
                PartKind::Definition | PartKind::Similar | PartKind::OpenDocument
            )
        })
        .map(|p| p.source.clone())
        .collect()
}

#[test]
fn a_python_prompt_takes_no_context_from_rust_files() {
    // The Rust file defines the name at the cursor and holds code much like the lines before it,
    // open or not; only the Python file's definition may enter the prompt.
    let rust = "pub fn parse_header(raw: &[u8], strict: bool) -> Header {\n    \
                let header_line = split_header_line(raw, strict);\n    \
                parse_header_fields(header_line)\n}\n";
    let ws = Workspace::new(&format!(
        r#"
//- /native/src/lib.rs
{rust}
//- /py/headers.py
def parse_header(raw, strict=True):
    return raw
//- /py/app.py
def handle(raw, strict):
    header_line = split_header_line(raw, strict)
    return parse_header($0
"#
    ));
    let rust_path = ws.root.join("native/src/lib.rs");
    let open = [(rust_path, ropey::Rope::from_str(rust))];
    let sources = context_sources(&ws, &open);
    assert!(
        sources.iter().any(|s| s.starts_with("py/headers.py")),
        "sources: {sources:?}"
    );
    assert!(
        sources.iter().all(|s| !s.contains(".rs")),
        "sources: {sources:?}"
    );
}

#[test]
fn typescript_takes_context_from_javascript_and_c_from_cpp() {
    let ws = Workspace::new(
        r#"
//- /web/dates.js
export function formatIsoDate(date, withTime) {
  return date.toISOString();
}
//- /web/view.ts
export function render(when: Date): string {
  return formatIsoDate($0
}
"#,
    );
    let sources = context_sources(&ws, &[]);
    assert!(
        sources.iter().any(|s| s.starts_with("web/dates.js")),
        "sources: {sources:?}"
    );
    let ws = Workspace::new(
        r#"
//- /lib/checksum.cpp
unsigned int crc32_update(unsigned int crc, const unsigned char *data, unsigned long len) {
  return crc;
}
//- /src/main.c
int main(void) {
  unsigned int crc = crc32_update($0
}
"#,
    );
    let sources = context_sources(&ws, &[]);
    assert!(
        sources.iter().any(|s| s.starts_with("lib/checksum.cpp")),
        "sources: {sources:?}"
    );
}
