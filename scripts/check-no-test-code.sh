#!/usr/bin/env bash
# Proves that a normal build of augur carries no test machinery: the `test-support` feature
# (which compiles `augur::test_support`, the `augur/debug/*` requests and the `AUGUR_TEST_*` /
# `AUGUR_DEBUG_*` hooks) is off in the dependency graph of a plain build, and the release binary
# and library hold none of their names.
#
# Usage: scripts/check-no-test-code.sh    (builds `cargo build --release --locked` first; honours
# CARGO_TARGET_DIR). Exits 1 and names what it found if any test code is in the build.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"

fail() {
  echo "scripts/check-no-test-code.sh: $*" >&2
  exit 1
}

# The names searched for, each found in a build with the feature (`target/debug/augur` after
# `cargo test`). Each must still be in the sources (checked below), so that a rename cannot make
# this check pass without looking for anything.
needles=(
  "augur/debug/"
  "AUGUR_DEBUG_REQUESTS"
  "AUGUR_TEST_"
  "test_support"
  "augur/debug requests are off"
  "indexing held until the file exists"
)
for needle in "${needles[@]}"; do
  grep -rqF -- "$needle" src || fail "\`$needle\` is no longer in src/; update the list of names in this script."
done

# 1. The feature is off in a plain build's graph. `cargo tree` without dev edges shows the
#    features a `cargo build` resolves; with dev edges the tests' `test-support` must show, which
#    proves the query can see it.
plain=$(cargo tree --locked -e normal,build,features -i augur --prefix none)
if grep -qF 'feature "test-support"' <<<"$plain"; then
  fail "a plain build turns on the test-support feature:"$'\n'"$plain"
fi
with_dev=$(cargo tree --locked -e normal,build,dev,features -i augur --prefix none)
grep -qF 'feature "test-support"' <<<"$with_dev" ||
  fail "the tests no longer turn on the test-support feature; cargo tree shows:"$'\n'"$with_dev"

# 2. The release binary and library hold none of the names. The library's metadata names the
#    modules left out by `#[cfg]` (rustc keeps them to explain a missing item), so the module's
#    own name is looked for in the binary only.
cargo build --release --locked
checked=0
for artifact in "$target/release/augur" "$target/release/libaugur.rlib"; do
  [ -f "$artifact" ] || fail "no $artifact after \`cargo build --release\`"
  for needle in "${needles[@]}"; do
    if [ "$needle" = test_support ] && [ "${artifact##*.}" = rlib ]; then
      continue
    fi
    if LC_ALL=C grep -aqF -- "$needle" "$artifact"; then
      fail "$artifact holds \`$needle\`: test code reached a release build"
    fi
    checked=$((checked + 1))
  done
done

echo "scripts/check-no-test-code.sh: no test code in the release build ($checked name checks over the binary and the library)"
