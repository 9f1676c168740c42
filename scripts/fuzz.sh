#!/usr/bin/env bash
# Fuzzing: builds every target in fuzz/ in one instrumented build, then, for each target, replays
# its committed seed corpus (fuzz/corpus/TARGET) and fuzzes it for a bounded time. Fails if any
# input crashes a target (a panic, a failed assertion, a timeout or running out of memory).
#
#   scripts/fuzz.sh                       every target, 15 s each (what CI runs)
#   scripts/fuzz.sh --time 600 did_change one target for ten minutes (a bench, not CI)
#
# The build and what fuzzing finds live in $AUGUR_FUZZ_TARGET (default
# ~/.cache/augur/fuzz-target), outside the clone: a warm machine rebuilds nothing, the inputs each
# run adds to the corpus are kept for the next run, and the checkout stays clean. A crashing
# input is saved under artifacts/TARGET/ there; the script prints how to replay it.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    # The comment at the top of this file.
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

time=15
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --time) time="${2:?--time takes a number of seconds}"; shift 2 ;;
        --time=*) time="${1#--time=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "scripts/fuzz.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
case "$time" in
    ''|*[!0-9]*) echo "scripts/fuzz.sh: --time takes a whole number of seconds, not '$time'" >&2; exit 2 ;;
esac

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "scripts/fuzz.sh: cargo fuzz needs the nightly toolchain, which is missing;" \
        "install it with rustup toolchain install nightly" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

target_dir="${AUGUR_FUZZ_TARGET:-$HOME/.cache/augur/fuzz-target}"
mkdir -p "$target_dir"
# No address sanitizer: the code under test is safe Rust (the C grammars are not instrumented
# either way), and without it the instrumented build and the runs are several times cheaper.
# Debug assertions and overflow checks stay on.
flags=(--release --debug-assertions --sanitizer none --codegen-units 16 --target-dir "$target_dir")

all_targets=$(cargo +nightly fuzz list)
if [ ${#targets[@]} -eq 0 ]; then
    # shellcheck disable=SC2206 # one name per line, no spaces
    targets=($all_targets)
fi
for target in "${targets[@]}"; do
    if ! grep -qx "$target" <<<"$all_targets"; then
        echo "scripts/fuzz.sh: no fuzz target '$target'; the targets are:" $all_targets >&2
        exit 2
    fi
done

echo "== cargo fuzz build (all targets, in $target_dir)"
started=$SECONDS
cargo +nightly fuzz build "${flags[@]}"
echo "   built in $((SECONDS - started)) s"

failed=()
for target in "${targets[@]}"; do
    corpus="$target_dir/corpus/$target"
    artifacts="$target_dir/artifacts/$target"
    log="$target_dir/logs/$target.log"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    touch "$log.started"
    echo "== $target: replaying fuzz/corpus/$target, then fuzzing for $time s"
    # New inputs go to the first corpus folder (outside the clone); the committed seeds are read.
    if cargo +nightly fuzz run "${flags[@]}" "$target" "$corpus" "fuzz/corpus/$target" -- \
        -max_total_time="$time" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1; then
        runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -n 1 || true)
        echo "   ok: ${runs:-done}"
    else
        failed+=("$target")
        echo "   CRASH in $target (the whole log: $log):"
        {
            grep -m 1 -A 2 "panicked at" "$log" || true
            grep -E "ERROR: libFuzzer|ALARM|^SUMMARY|Test unit written|^Error:" "$log" || true
        } | sed 's/^/   | /'
        # The inputs this run saved (older ones from earlier runs are left alone).
        find "$artifacts" -type f -newer "$log.started" | while read -r artifact; do
            echo "   replay: cargo +nightly fuzz run ${flags[*]} $target $artifact"
        done
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "scripts/fuzz.sh: crashes in: ${failed[*]}" >&2
    exit 1
fi
echo "scripts/fuzz.sh: no crash in ${#targets[@]} target(s)"
