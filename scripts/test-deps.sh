#!/usr/bin/env bash
# Installs what the test suite needs beyond cargo: a Python virtualenv with pytest-lsp (a
# third-party LSP client that validates messages against LSP 3.18). Idempotent and quiet when
# everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-test/bin/python ] || ! .venv-test/bin/python -c 'import pytest_lsp' 2>/dev/null; then
  python3 -m venv .venv-test
  .venv-test/bin/pip install --quiet --disable-pip-version-check 'pytest-lsp==1.0.1' 'pytest-asyncio>=0.23'
fi
