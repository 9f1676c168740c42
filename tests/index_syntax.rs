//! Snapshot tests of the symbols, imports and chunks extracted from the fixture workspace, one
//! snapshot per language. Regenerate with `UPDATE_EXPECT=1 cargo test --test index_syntax`.

use std::fmt::Write;
use std::path::Path;

use augur::syntax::{ChunkOptions, Language, language_of_text, outline};
use expect_test::{ExpectFile, expect_file};

/// Renders what is extracted from one fixture file of the fixture workspace.
fn render(rel: &str) -> String {
    render_in("fixtures/index/workspace", rel)
}

/// Renders what is extracted from one fixture file under `dir`; a C header is parsed as the
/// index parses it (as C++ when its content is C++).
fn render_in(dir: &str, rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    let language = language_of_text(Language::from_path(&path).unwrap(), &text);
    let options = ChunkOptions {
        max_bytes: 400,
        min_bytes: 48,
    };
    let out = outline(language, &text, &options);
    let mut s = String::new();
    writeln!(
        s,
        "language: {language}, syntax errors: {}",
        out.syntax_errors
    )
    .unwrap();
    writeln!(s, "symbols:").unwrap();
    for symbol in &out.symbols {
        let container = symbol
            .container
            .as_deref()
            .map(|c| format!("{c}::"))
            .unwrap_or_default();
        writeln!(
            s,
            "  L{}-{} {} {container}{} @{}:{} | {}",
            symbol.start_line + 1,
            symbol.end_line + 1,
            symbol.kind,
            symbol.name,
            symbol.name_line + 1,
            symbol.name_column + 1,
            symbol.signature
        )
        .unwrap();
        if let Some(doc) = &symbol.doc {
            writeln!(s, "      doc: {}", doc.replace('\n', " / ")).unwrap();
        }
    }
    writeln!(s, "imports:").unwrap();
    for import in &out.imports {
        writeln!(s, "  L{} {}", import.line + 1, import.text).unwrap();
    }
    writeln!(s, "chunks:").unwrap();
    for chunk in &out.chunks {
        let piece = chunk.text(&text);
        // The fixtures have no single token larger than the cap, so every chunk fits under it.
        assert!(
            piece.len() <= options.max_bytes,
            "{rel}: chunk of {} bytes",
            piece.len()
        );
        let first = piece.lines().next().unwrap_or("").trim();
        let symbol = chunk.symbol.as_deref().unwrap_or("-");
        writeln!(
            s,
            "  L{}-{} [{symbol}] {}B {first}",
            chunk.start_line + 1,
            chunk.end_line + 1,
            piece.len()
        )
        .unwrap();
    }
    s
}

fn check(rel: &str, expect: ExpectFile) {
    expect.assert_eq(&render(rel));
}

#[test]
fn rust() {
    check(
        "src/http.rs",
        expect_file!["../fixtures/index/snapshots/rust.txt"],
    );
}

#[test]
fn python() {
    check(
        "py/client.py",
        expect_file!["../fixtures/index/snapshots/python.txt"],
    );
}

#[test]
fn typescript() {
    check(
        "web/app.ts",
        expect_file!["../fixtures/index/snapshots/typescript.txt"],
    );
}

#[test]
fn tsx() {
    check(
        "web/UserCard.tsx",
        expect_file!["../fixtures/index/snapshots/tsx.txt"],
    );
}

#[test]
fn javascript() {
    check(
        "web/widget.js",
        expect_file!["../fixtures/index/snapshots/javascript.txt"],
    );
}

#[test]
fn go() {
    check(
        "go/server.go",
        expect_file!["../fixtures/index/snapshots/go.txt"],
    );
}

#[test]
fn java() {
    check(
        "java/Inventory.java",
        expect_file!["../fixtures/index/snapshots/java.txt"],
    );
}

#[test]
fn c() {
    check(
        "c/buffer.c",
        expect_file!["../fixtures/index/snapshots/c.txt"],
    );
}

#[test]
fn cpp() {
    check(
        "cpp/geometry.cpp",
        expect_file!["../fixtures/index/snapshots/cpp.txt"],
    );
}

/// Definitions that preprocessor conditionals hide from tree-sitter: a function header split by
/// `#ifdef`, an `if` block whose braces are split between branches, `extern "C"` for C++ readers,
/// an export macro, `#if 0`. Every function of the file is a symbol, on its own line.
#[test]
fn c_behind_preprocessor_conditionals() {
    expect_file!["../fixtures/index/snapshots/c_preprocessor.txt"]
        .assert_eq(&render_in("fixtures/index/preprocessor", "codec.c"));
}

/// A `.h` header that holds C++ is parsed as C++, and a class or struct with an export macro
/// before its name keeps its name and its methods, in both branches of a conditional.
#[test]
fn cpp_header_with_export_macros() {
    expect_file!["../fixtures/index/snapshots/cpp_header.txt"]
        .assert_eq(&render_in("fixtures/index/preprocessor", "engine.h"));
}

#[test]
fn csharp() {
    check(
        "cs/Program.cs",
        expect_file!["../fixtures/index/snapshots/csharp.txt"],
    );
}

#[test]
fn ruby() {
    check(
        "rb/tool.rb",
        expect_file!["../fixtures/index/snapshots/ruby.txt"],
    );
}

#[test]
fn php() {
    check(
        "php/api.php",
        expect_file!["../fixtures/index/snapshots/php.txt"],
    );
}

#[test]
fn bash() {
    check(
        "sh/build.sh",
        expect_file!["../fixtures/index/snapshots/bash.txt"],
    );
}

#[test]
fn lua() {
    check(
        "lua/inventory.lua",
        expect_file!["../fixtures/index/snapshots/lua.txt"],
    );
}

#[test]
fn markdown() {
    check(
        "docs/guide.md",
        expect_file!["../fixtures/index/snapshots/markdown.txt"],
    );
}

#[test]
fn data_formats_have_chunks_and_no_errors() {
    for rel in [
        "data/config.json",
        "data/settings.toml",
        "data/ci.yaml",
        "data/index.html",
        "data/style.css",
    ] {
        let rendered = render(rel);
        assert!(rendered.contains("syntax errors: 0"), "{rel}: {rendered}");
        assert!(rendered.contains("chunks:\n  L1-"), "{rel}: {rendered}");
    }
}
