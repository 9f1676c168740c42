#!/usr/bin/env bash
# Checks the formatting of the Lua in this repository (the Neovim plugin in editors/neovim, and the
# Lua that drives Neovim in tests/e2e) with StyLua, using editors/neovim/.stylua.toml. StyLua comes
# from the npm registry (@johnnymorganz/stylua-bin, which ships the native binary) and is kept in
# ~/.cache/augur/stylua (AUGUR_STYLUA_DIR overrides it). `scripts/check-lua.sh --fix` formats the
# files instead of checking them.
set -euo pipefail
cd "$(dirname "$0")/.."
STYLUA_VERSION=2.5.2
DIR="${AUGUR_STYLUA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/augur/stylua}"
STYLUA="$DIR/node_modules/.bin/stylua"
if ! "$STYLUA" --version 2>/dev/null | grep -q " $STYLUA_VERSION\$"; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "scripts/check-lua.sh: npm is needed to install StyLua $STYLUA_VERSION." >&2
    echo "Install node and npm (Debian: sudo apt-get install -y nodejs npm), or put StyLua $STYLUA_VERSION at $STYLUA." >&2
    exit 1
  fi
  mkdir -p "$DIR"
  if ! npm install --prefix "$DIR" --no-audit --no-fund --no-save --loglevel=error \
    "@johnnymorganz/stylua-bin@$STYLUA_VERSION" >&2 || ! "$STYLUA" --version >/dev/null 2>&1; then
    echo "scripts/check-lua.sh: could not install StyLua $STYLUA_VERSION from the npm registry into $DIR." >&2
    echo "Install it by hand: npm install --prefix $DIR @johnnymorganz/stylua-bin@$STYLUA_VERSION" >&2
    echo "(or cargo install stylua --version $STYLUA_VERSION, and link the binary to $STYLUA)." >&2
    exit 1
  fi
fi
mode=(--check)
if [ "${1:-}" = "--fix" ]; then
  mode=()
fi
"$STYLUA" "${mode[@]}" --config-path editors/neovim/.stylua.toml editors/neovim tests/e2e/*.lua
echo "StyLua $STYLUA_VERSION: the Lua is formatted"
