//! What the benchmarks that index real code share: finding the cargo registry's sources and
//! copying a subset of whole crates, up to a number of lines of Rust, into a workspace.

use std::path::{Path, PathBuf};

/// The cargo registry's source directory (`AUGUR_BENCH_CARGO_SRC`, else the largest one under
/// `$CARGO_HOME/registry/src`).
pub fn cargo_src() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("AUGUR_BENCH_CARGO_SRC") {
        return Some(PathBuf::from(dir));
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let src = home.join("registry/src");
    std::fs::read_dir(&src)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .max_by_key(|p| std::fs::read_dir(p).map(|d| d.count()).unwrap_or(0))
}

/// Lines of `.rs` files under `dir` and their paths.
pub fn rust_files(dir: &Path) -> (u64, Vec<PathBuf>) {
    let mut lines = 0;
    let mut files = Vec::new();
    for entry in ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
        .flatten()
    {
        if entry.file_type().is_some_and(|t| t.is_file())
            && entry.path().extension().is_some_and(|e| e == "rs")
            && let Ok(text) = std::fs::read(entry.path())
        {
            lines += text.iter().filter(|&&b| b == b'\n').count() as u64;
            files.push(entry.path().to_path_buf());
        }
    }
    (lines, files)
}

/// Copies a directory tree (symlinks are left out).
pub fn copy_dir(from: &Path, to: &Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    let _ = std::fs::create_dir_all(to);
    for entry in entries.flatten() {
        let target = to.join(entry.file_name());
        match entry.file_type() {
            Ok(t) if t.is_dir() => copy_dir(&entry.path(), &target),
            Ok(t) if t.is_file() => {
                let _ = std::fs::copy(entry.path(), target);
            }
            _ => {} // symlinks are left out
        }
    }
}

/// Copies whole crates (in name order) until about `max_lines` lines of Rust; returns the lines.
pub fn rust_subset(src: &Path, into: &Path, max_lines: u64) -> u64 {
    let mut crates: Vec<PathBuf> = std::fs::read_dir(src)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    crates.sort();
    let mut lines = 0;
    for krate in crates {
        if lines >= max_lines {
            break;
        }
        let (krate_lines, _) = rust_files(&krate);
        if krate_lines == 0 || lines + krate_lines > max_lines + max_lines / 10 {
            continue;
        }
        copy_dir(&krate, &into.join(krate.file_name().unwrap()));
        lines += krate_lines;
    }
    lines
}
