#!/usr/bin/env bash
# The test command: every Rust test (unit, integration, doc, the 10,000-case edit property test,
# the in-process and over-stdio protocol suites), then the third-party client tests, then the
# editor packages (TypeScript client, VS Code extension: scripts/test-editors.sh) and the VS Code
# extension end to end in code-server (scripts/test-vscode-e2e.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-deps.sh
cargo test --locked --no-fail-fast
AUGUR_BIN="$PWD/target/debug/augur" .venv-test/bin/python -m pytest -q tests/python
scripts/test-editors.sh
scripts/test-vscode-e2e.sh
