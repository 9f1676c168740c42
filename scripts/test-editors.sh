#!/usr/bin/env bash
# The editor packages' tests: installs editors/typescript and editors/vscode from their lock files
# (npm ci), runs their `npm test` (tsc --noEmit, eslint, node's test runner), checks that the
# committed TypeScript types and VS Code settings match what the server's `augur schema` generates
# now, and bundles the extension; then StyLua's check of the Neovim plugin (scripts/check-lua.sh)
# and the Zed extension's wasm build and host tests (scripts/test-zed.sh). Needs node and npm, and the debug build of augur
# (`cargo build` or `cargo test` made it; `AUGUR_BIN` names another binary).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "scripts/test-editors.sh: node and npm are needed for the editor packages' tests." >&2
  echo "Install them (Debian: sudo apt-get install -y nodejs npm; or Node 20+ from nodejs.org) and run again." >&2
  exit 1
fi
export AUGUR_BIN="${AUGUR_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/augur}"
if [ ! -x "$AUGUR_BIN" ]; then
  echo "scripts/test-editors.sh: no augur binary at $AUGUR_BIN; run \`cargo build\` first or set AUGUR_BIN." >&2
  exit 1
fi
npm_ci() { npm ci --no-audit --no-fund --prefer-offline --loglevel=error; }
echo "== editors/typescript"
(cd editors/typescript && npm_ci && npm test)
echo "== editors/vscode"
(cd editors/vscode && npm_ci && npm test && npm run -s check-settings && npm run -s build)
echo "== editors/neovim (StyLua --check)"
scripts/check-lua.sh
echo "== editors/zed (wasm32-wasip2 build and host tests)"
scripts/test-zed.sh
