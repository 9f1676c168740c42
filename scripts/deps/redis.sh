#!/usr/bin/env bash
# Installs a real Redis server (Debian's `redis-server` package) for the shared-tier tests
# (tests/shared_tier.rs and the LLM client bench). Idempotent and quiet when it is already there.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
# The package starts a system service; the tests start their own servers on free ports instead.
if command -v systemctl >/dev/null 2>&1; then
  $sudo systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
