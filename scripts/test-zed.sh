#!/usr/bin/env bash
# The Zed extension (editors/zed): checks its format and lints, runs its unit tests on the host,
# builds it for wasm32-wasip2 (the target Zed builds extensions for, in release mode as Zed does),
# and checks that the result is a WebAssembly component. Zed itself does not run here, so this is
# as far as the extension can be tested; `tests/zed_extension.rs` (in the main `cargo test`)
# checks its language list against augur's and its settings against the real server.
#
# The build lives in $AUGUR_ZED_TARGET (default ~/.cache/augur/zed-target), outside the clone, so
# a warm machine rebuilds nothing. The first build compiles wit-bindgen and its ~80 dependencies:
# a few minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/../editors/zed"

if ! command -v rustup >/dev/null 2>&1; then
    echo "scripts/test-zed.sh: rustup is needed to add the wasm32-wasip2 target; install it from https://rustup.rs" >&2
    exit 1
fi
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "== adding the wasm32-wasip2 target"
    rustup target add wasm32-wasip2
fi

export CARGO_TARGET_DIR="${AUGUR_ZED_TARGET:-$HOME/.cache/augur/zed-target}"
mkdir -p "$CARGO_TARGET_DIR"

echo "== editors/zed: format, lints and unit tests on the host"
cargo fmt --check
cargo clippy --release --locked --all-targets -- -D warnings
cargo test --release --locked

echo "== editors/zed: wasm32-wasip2 build"
cargo build --release --locked --target wasm32-wasip2
wasm="$CARGO_TARGET_DIR/wasm32-wasip2/release/augur_zed.wasm"
if [ ! -s "$wasm" ]; then
    echo "scripts/test-zed.sh: the build left no $wasm" >&2
    exit 1
fi
# A WebAssembly file starts with "\0asm" and a 4-byte version: 01 00 00 00 for a core module,
# 0d 00 01 00 for a component (what Zed loads).
header=$(od -An -tx1 -N8 "$wasm" | tr -d ' \n')
if [ "$header" != "0061736d0d000100" ]; then
    echo "scripts/test-zed.sh: $wasm is not a WebAssembly component (header $header)" >&2
    exit 1
fi
echo "ok: $wasm is a WebAssembly component ($(wc -c <"$wasm") bytes)"
