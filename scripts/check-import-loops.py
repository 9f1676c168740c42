#!/usr/bin/env python3
"""Finds import loops between the modules of augur's library.

Reads every file under `src/` (the library's module tree, from `src/lib.rs`; `src/main.rs` is a
crate of its own and left out), takes its module-level `use crate::...`, `use super::...` and
`use self::...` statements (those that start a line, so the imports of an inline `mod tests` are
left out), and resolves each imported path to the module it names. An import from module A into
module B is an edge between the two children of their nearest common ancestor that hold them
(an import between a module and one of its own ancestors or descendants is no edge: a parent and
its submodules are one unit). A loop is a set of sibling modules that reach each other along such
edges (a strongly connected component of more than one module).

Exit status: 0 if every loop found needs an import made by an allowed module (see ALLOWED), 1
otherwise. Each loop is printed with the imports that make it, so that it can be broken.

Usage: scripts/check-import-loops.py [--root DIR] [--no-allow]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

# Imports made by these modules (and their submodules) may close a loop: such a loop is reported
# but does not fail the check. Empty: there is no loop left, and a new one fails the check.
ALLOWED: list[str] = []

USE_START = re.compile(r"^(?:pub(?:\([^)]*\))?\s+)?use\s+")


def module_of(path: Path, src: Path) -> tuple[str, ...]:
    """The module path of a source file, as a tuple of segments starting with `crate`."""
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts == ["lib"]:
        return ("crate",)
    if parts[-1] == "mod":
        parts = parts[:-1]
    return ("crate", *parts)


def strip_comments(text: str) -> str:
    """The text without `//` and `/* */` comments (string literals are rare in `use` lines)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def use_statements(text: str) -> list[tuple[int, str]]:
    """The module-level `use` statements of a file: (line number, the tree after `use`)."""
    statements = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        match = USE_START.match(line)
        if not match:
            i += 1
            continue
        start = i
        body = line[match.end():]
        while ";" not in body and i + 1 < len(lines):
            i += 1
            body += " " + lines[i]
        statements.append((start + 1, body.split(";", 1)[0]))
        i += 1
    return statements


def expand(tree: str) -> list[list[str]]:
    """The paths a use tree names: `a::{b, c::{d as e, *}}` gives a::b, a::c::d, a::c."""
    tree = re.sub(r"\s+as\s+[A-Za-z_][A-Za-z0-9_]*", "", tree)
    tree = re.sub(r"\s+", "", tree)

    def parse(s: str, pos: int) -> tuple[list[list[str]], int]:
        # Parses one tree at `pos`; returns its paths and the position after it.
        prefix: list[str] = []
        segment = ""
        while pos < len(s):
            c = s[pos]
            if s.startswith("::", pos):
                if segment:
                    prefix.append(segment)
                segment = ""
                pos += 2
            elif c == "{":
                pos += 1
                paths: list[list[str]] = []
                while pos < len(s) and s[pos] != "}":
                    sub, pos = parse(s, pos)
                    paths.extend(prefix + p for p in sub)
                    if pos < len(s) and s[pos] == ",":
                        pos += 1
                return (paths or [prefix]), pos + 1
            elif c in ",}":
                break
            else:
                segment += c
                pos += 1
        if segment in ("*", "self", ""):
            return [prefix], pos
        return [prefix + [segment]], pos

    paths, _ = parse(tree, 0)
    return paths


def resolve(path: list[str], here: tuple[str, ...], modules: set[tuple[str, ...]]):
    """The module an imported path lies in, or None for a path outside the crate."""
    if not path:
        return None
    if path[0] == "crate":
        full = ["crate", *path[1:]]
    elif path[0] in ("super", "self"):
        base = list(here)
        rest = list(path)
        while rest and rest[0] in ("super", "self"):
            if rest.pop(0) == "super":
                base.pop()
        full = base + rest
    else:
        return None
    for end in range(len(full), 0, -1):
        candidate = tuple(full[:end])
        if candidate in modules:
            return candidate
    return None


def sibling_edge(a: tuple[str, ...], b: tuple[str, ...]):
    """The children of the nearest common ancestor of `a` and `b` that hold them, or None if one
    holds the other."""
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    if common == len(a) or common == len(b):
        return None
    return a[: common + 1], b[: common + 1]


def components(nodes, edges):
    """Strongly connected components (Tarjan), iteratively."""
    index: dict = {}
    low: dict = {}
    on_stack: set = set()
    stack: list = []
    result = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    result.append(sorted(component))
    return result


def name(module: tuple[str, ...]) -> str:
    return "::".join(module)


def under(module: tuple[str, ...], prefixes: list[str]) -> bool:
    """Whether a module is one of `prefixes` or inside one."""
    text = name(module)
    return any(text == p or text.startswith(p + "::") for p in prefixes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=Path(__file__).resolve().parent.parent, type=Path)
    parser.add_argument("--no-allow", action="store_true", help="fail on allowed loops too")
    args = parser.parse_args()
    src = args.root / "src"
    files = [p for p in sorted(src.rglob("*.rs")) if p != src / "main.rs"]
    modules = {module_of(p, src) for p in files}
    allowed = [] if args.no_allow else ALLOWED
    edges: dict = defaultdict(set)
    strict: dict = defaultdict(set)
    why: dict = defaultdict(list)
    for path in files:
        here = module_of(path, src)
        text = strip_comments(path.read_text(encoding="utf-8"))
        for line, tree in use_statements(text):
            for imported in expand(tree):
                target = resolve(imported, here, modules)
                if target is None:
                    continue
                edge = sibling_edge(here, target)
                if edge is None:
                    continue
                a, b = edge
                edges[a].add(b)
                if not under(here, allowed):
                    strict[a].add(b)
                why[(a, b)].append(f"{path.relative_to(args.root)}:{line} uses {'::'.join(imported)}")
    nodes = sorted(set(edges) | {b for targets in edges.values() for b in targets})
    loops = components(nodes, edges)
    strict_loops = components(nodes, strict)
    failing = 0
    for loop in loops:
        members = set(loop)
        ok = not any(members & set(s) for s in strict_loops)
        label = "allowed loop" if ok else "import loop"
        failing += not ok
        print(f"{label}: {' <-> '.join(name(m) for m in loop)}")
        for a in loop:
            for b in sorted(edges[a] & members):
                for reason in sorted(set(why[(a, b)]))[:5]:
                    print(f"    {name(a)} -> {name(b)}: {reason}")
    if failing:
        print(f"{failing} import loop(s) outside the allow-list")
        return 1
    print(f"no import loops outside the allow-list ({len(loops)} allowed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
