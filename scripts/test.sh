#!/usr/bin/env bash
# The test command: the checks that no modules import each other in a loop
# (scripts/check-import-loops.py) and that a release build holds no test machinery
# (scripts/check-no-test-code.sh), every Rust test (unit, integration, doc, the 10,000-case edit
# property test, the in-process and over-stdio protocol suites, the real editors), then the
# third-party client tests, then the editor packages (TypeScript client, VS Code extension, the
# Neovim plugin's Lua, the Zed extension: scripts/test-editors.sh) and the VS Code extension end
# to end in code-server (scripts/test-vscode-e2e.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-deps.sh
python3 scripts/check-import-loops.py
scripts/check-no-test-code.sh
cargo test --locked --no-fail-fast
AUGUR_BIN="$PWD/target/debug/augur" .venv-test/bin/python -m pytest -q tests/python
scripts/test-editors.sh
scripts/test-vscode-e2e.sh
