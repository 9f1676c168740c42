//! Benchmark of what an AI code action costs after the model answered: the minimal diff and the
//! syntax check for a rewrite of a 300-line function in a 10,000-line Rust file.
//!
//! Run with `cargo bench --bench edits`. `diff_and_validate` is the path of an action
//! ([`SyntaxBaseline::checked_edits`]: the check and the character diff on two threads), whose
//! [`SyntaxBaseline`] (the parse of the old text) is built while the model is thinking;
//! `diff_then_validate` does the same one after the other;
//! `diff_and_validate_cold` includes that full parse too; `diff_only` and `validate_only` split the
//! warm path. The target is under 5 ms.

use augur::edits::{SyntaxBaseline, minimal_edits, validate};
use augur::syntax::Language;

fn main() {
    // SAFETY: nothing has used tree-sitter yet.
    unsafe { augur::alloc::use_mimalloc_for_tree_sitter() };
    divan::main();
}

/// A Rust function of `lines` lines; `variant` changes most of its statements.
fn function(name: &str, lines: usize, variant: bool) -> String {
    let mut out = format!("pub fn {name}(input: &[i64]) -> i64 {{\n    let mut total = 0;\n");
    for i in 0..lines.saturating_sub(4) {
        if variant && i % 3 != 0 {
            out.push_str(&format!(
                "    total = total.wrapping_add(input.get({i}).copied().unwrap_or_default() * 2);\n"
            ));
        } else {
            out.push_str(&format!(
                "    total += input.get({i}).copied().unwrap_or({i});\n"
            ));
        }
    }
    out.push_str("    total\n}\n");
    out
}

/// A 10,000-line file with a 300-line function in the middle, before and after the rewrite.
fn texts() -> (String, String) {
    let mut before = String::new();
    let mut after = String::new();
    let mut lines = 0;
    let mut n = 0;
    while lines < 10_000 {
        let target = n == 16;
        let size = if target { 300 } else { 30 };
        let old = function(&format!("f{n}"), size, false);
        let new = function(&format!("f{n}"), size, target);
        before.push_str(&old);
        before.push('\n');
        after.push_str(&new);
        after.push('\n');
        lines += size + 1;
        n += 1;
    }
    (before, after)
}

#[divan::bench]
fn diff_and_validate(bencher: divan::Bencher) {
    let (before, after) = texts();
    let baseline = SyntaxBaseline::new(Language::Rust, &before);
    assert_eq!(baseline.errors(), 0);
    bencher.bench_local(|| baseline.checked_edits(&before, &after).unwrap().len());
}

#[divan::bench]
fn diff_then_validate(bencher: divan::Bencher) {
    let (before, after) = texts();
    let baseline = SyntaxBaseline::new(Language::Rust, &before);
    bencher.bench_local(|| {
        let edits = minimal_edits(&before, &after);
        baseline.check(&before, &edits).unwrap();
        edits.len()
    });
}

#[divan::bench]
fn diff_and_validate_cold(bencher: divan::Bencher) {
    let (before, after) = texts();
    bencher.bench_local(|| {
        let edits = minimal_edits(&before, &after);
        validate(Language::Rust, &before, &edits).unwrap();
        edits.len()
    });
}

#[divan::bench]
fn diff_only(bencher: divan::Bencher) {
    let (before, after) = texts();
    bencher.bench_local(|| minimal_edits(&before, &after).len());
}

#[divan::bench]
fn validate_only(bencher: divan::Bencher) {
    let (before, after) = texts();
    let baseline = SyntaxBaseline::new(Language::Rust, &before);
    let edits = minimal_edits(&before, &after);
    bencher.bench_local(|| baseline.check(&before, &edits).is_ok());
}
